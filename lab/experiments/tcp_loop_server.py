"""tcp_loop_server: 循环服务器, the iterative TCP server: one client at a time.

    $ python -m lab.experiments.tcp_loop_server --port 8888
    listening on 127.0.0.1:8888
    服务器[8630] 等待客户端连接 accept() ...  (waiting for a client)
    服务器[8630] 客户端 ('127.0.0.1', 50082) 已连接, 只服务它直到它离开  (serving it until it leaves)
    服务器[8630] 收到 ('127.0.0.1', 50082): hello 1
    服务器[8630] 收到 ('127.0.0.1', 50082): hello 2        (a second client connects: nothing is printed)
    服务器[8630] 收到 ('127.0.0.1', 50082): hello 3
    服务器[8630] 客户端 ('127.0.0.1', 50082) 离开了  (left)
    服务器[8630] 等待客户端连接 accept() ...  (waiting for a client)
    服务器[8630] 客户端 ('127.0.0.1', 50098) 已连接, 只服务它直到它离开  (serving it until it leaves)
    服务器[8630] 收到 ('127.0.0.1', 50098): hello 1

Talk to it with ``python -m lab.experiments.tcp_client --port 8888`` in two
more terminals.  The notes: "单进程程序, 循环接收客户端请求, 处理请求, 每处理
完一个请求再去接收下一个请求 ... 无法同时连接多个客户端".

The kernel finishes the three-way handshake for the second client by
itself: ``ss -tan`` shows its connection ESTABLISHED on both sides, but the
server side sits in the listen queue (the backlog of ``listen(n)``) and no
process holds it, because nobody called accept() yet.  The second client's
first line waits in that socket's receive queue (Recv-Q) until the first
client leaves.

How many wait there?  On Linux ``listen(n)`` queues n + 1 completed
connections (``listen(0)`` still one): with ``--backlog 1`` and four clients,
the second and third are ESTABLISHED in the queue (``ss -ltn`` shows the
LISTEN socket with Recv-Q 2, Send-Q 1) and the fourth stays in SYN_SENT:
the kernel drops its SYN while the queue is full, and the client sends it
again later.
"""
import argparse
import os
import socket
import time

from lab.report import listening, say, set_role


def serve(connfd, addr, delay):
    """Serve one client until it leaves: recv returns b"" when it closes."""
    me = f"服务器[{os.getpid()}]"
    while True:
        try:
            data = connfd.recv(1024)
        except ConnectionError:
            data = b""
        if not data:
            break
        text = data.decode(errors="replace").strip()
        say(f"{me} 收到 {addr}: {text}")
        time.sleep(delay)
        try:
            connfd.send(f"收到 (got) {text}".encode())
        except ConnectionError:
            break
    connfd.close()
    say(f"{me} 客户端 {addr} 离开了  (left)")


def main():
    parser = argparse.ArgumentParser(description="iterative TCP server: one client at a time")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    parser.add_argument("--backlog", type=int, default=5, help="listen(n): Linux queues n + 1 unaccepted connections")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each reply")
    args = parser.parse_args()
    set_role("server")
    me = f"服务器[{os.getpid()}]"

    sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sockfd.bind(("127.0.0.1", args.port))
    sockfd.listen(args.backlog)
    port = sockfd.getsockname()[1]
    say(f"listening on 127.0.0.1:{port}")
    listening("tcp", f"127.0.0.1:{port}")
    try:
        while True:
            say(f"{me} 等待客户端连接 accept() ...  (waiting for a client)")
            connfd, addr = sockfd.accept()
            say(f"{me} 客户端 {addr} 已连接, 只服务它直到它离开  (serving it until it leaves)")
            serve(connfd, addr, args.delay)
    except KeyboardInterrupt:
        say(f"{me} 服务器退出  (Ctrl-C: the server exits)")
    finally:
        sockfd.close()


if __name__ == "__main__":
    main()
