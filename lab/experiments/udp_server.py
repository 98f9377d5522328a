"""udp_server: 数据报套接字, recvfrom / sendto: no listen, no accept, no connection.

    $ python -m lab.experiments.udp_server --port 8888
    listening on 127.0.0.1:8888
    服务器[19300] recvfrom() 等待数据报 ...  (waiting for a datagram)
    服务器[19300] 收到 ('127.0.0.1', 44657): hello 1
    服务器[19300] sendto ('127.0.0.1', 44657): 收到 (got) hello 1
    服务器[19300] 收到 ('127.0.0.1', 44657): hello 2
    服务器[19300] sendto ('127.0.0.1', 44657): 收到 (got) hello 2
    ^C服务器[19300] 服务器退出  (Ctrl-C: the server exits)

Talk to it with ``python -m lab.experiments.udp_client --port 8888``.

The notes: "udp使用sendto(data,address_tuple)发, recvfrom(buffersize)->data,addr收",
"无需建立三次握手和四次挥手的连接断开过程".  One socket serves every client:
each datagram arrives with the sender's address, and the reply is sent to
that address.  ``ss -uanp`` shows the server's socket UNCONN (psutil: NONE)
with no peer address, however many clients talk to it; a client that stops
leaves nothing behind: no TIME_WAIT, because there was no connection.
"""
import argparse
import os
import socket

from lab.report import listening, say, set_role


def main():
    parser = argparse.ArgumentParser(description="UDP echo server: recvfrom / sendto")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    args = parser.parse_args()
    set_role("server")
    me = f"服务器[{os.getpid()}]"

    sockfd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sockfd.bind(("127.0.0.1", args.port))
    port = sockfd.getsockname()[1]
    say(f"listening on 127.0.0.1:{port}")
    listening("udp", f"127.0.0.1:{port}")
    say(f"{me} recvfrom() 等待数据报 ...  (waiting for a datagram)")
    try:
        while True:
            data, addr = sockfd.recvfrom(1024)
            text = data.decode(errors="replace").strip()
            say(f"{me} 收到 {addr}: {text}")
            reply = f"收到 (got) {text}"
            sockfd.sendto(reply.encode(), addr)
            say(f"{me} sendto {addr}: {reply}")
    except KeyboardInterrupt:
        say(f"{me} 服务器退出  (Ctrl-C: the server exits)")
    finally:
        sockfd.close()


if __name__ == "__main__":
    main()
