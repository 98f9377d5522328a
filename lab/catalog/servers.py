"""Servers the library builds and servers that never block: socketserver, non-blocking IO (非阻塞IO).

Built on the socket labs' vocabulary (lab/catalog/sockets.py: add_client, CLOSE_CLIENT)."""

SERVER_LABS = ()
