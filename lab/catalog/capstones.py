"""The notes' two capstone programs: the UDP chat room (聊天室) and the TCP file server (文件服务器).

Built on the socket labs' vocabulary (lab/catalog/sockets.py: add_client, CLOSE_CLIENT)."""

CAPSTONE_LABS = ()
