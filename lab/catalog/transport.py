"""What the transport does underneath: broadcast, sticky packets (粘包), TCP's states (四次挥手).

Built on the socket labs' vocabulary (lab/catalog/sockets.py: add_client, CLOSE_CLIENT)."""

TRANSPORT_LABS = ()
