"""udp_client: the course's UDP client: sendto the server, recvfrom its reply.

    $ python -m lab.experiments.udp_client --port 8888
    客户端[19301] 套接字 127.0.0.1:44657 → 服务器 127.0.0.1:8888  (no connect: just send)
    发送>> 你好
    客户端[19301] sendto (sent): 你好
    客户端[19301] recvfrom ('127.0.0.1', 8888) (received): 收到 (got) 你好
    发送>>                                   (an empty line: leave)
    客户端[19301] 关闭套接字, 退出  (closed the socket, leaving)

Like ``tcp_client``: lines from the keyboard when it runs in the foreground
of a terminal, automatic "hello N" lines every --every seconds otherwise;
SIGTERM or Ctrl-C closes the socket and leaves.

The notes' client never binds: the first sendto() binds it to a free port
on every address (0.0.0.0).  This lab stays on loopback, so it binds
127.0.0.1 port 0 first; the kernel still picks the port.  A datagram can
be lost, so each recvfrom has a timeout (settimeout, 超时检测).

With no server at all, nothing tells this client so:

    $ python -m lab.experiments.udp_client --port 9 --count 2 --every 0.2 --timeout 1
    客户端[17603] 套接字 127.0.0.1:43166 → 服务器 127.0.0.1:9  (no connect: just send)
    客户端[17603] sendto (sent): hello 1
    客户端[17603] 1 秒没有回复 (超时检测): 数据报丢了, 或者服务器不在  (no reply in 1 s: lost, or nobody listens)
    客户端[17603] sendto (sent): hello 2
    客户端[17603] 1 秒没有回复 (超时检测): 数据报丢了, 或者服务器不在  (no reply in 1 s: lost, or nobody listens)
    客户端[17603] 关闭套接字, 退出  (closed the socket, leaving)

The kernel does answer a datagram to a closed port with an ICMP "port
unreachable", but Linux reports that error only to a *connected* UDP
socket (after connect(), recv raises ConnectionRefusedError).  This socket
is not connected (sendto with an address each time, as the notes do), so
the error is dropped and recvfrom simply times out: UDP gives no
guarantee, and only the timeout tells.
"""
import argparse
import os
import signal
import socket
import time

from lab.experiments.tcp_client import keyboard, leave
from lab.report import say, set_role


def main():
    parser = argparse.ArgumentParser(description="UDP client: sendto / recvfrom")
    parser.add_argument("--host", default="127.0.0.1", help="server address (loopback only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--every", type=float, default=1.5, help="seconds between automatic lines")
    parser.add_argument("--count", type=int, default=0, help="lines to send, 0 = until closed")
    parser.add_argument("--timeout", type=float, default=5.0, help="settimeout: seconds to wait for a reply")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("this lab talks to loopback only (127.0.0.1 or ::1)")
    if not 0.1 <= args.timeout <= 60:
        parser.error("--timeout must be from 0.1 to 60 seconds")
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    set_role("client")
    me = f"客户端[{os.getpid()}]"

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sockfd = socket.socket(family, socket.SOCK_DGRAM)
    sockfd.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
    sockfd.settimeout(args.timeout)
    server = (args.host, args.port)
    here = sockfd.getsockname()
    say(f"{me} 套接字 {here[0]}:{here[1]} → 服务器 {args.host}:{args.port}  (no connect: just send)")
    typing = keyboard()
    n = 0
    try:
        while not args.count or n < args.count:
            n += 1
            if typing:
                data = input("发送>> ")
                if not data:
                    break
            else:
                if n > 1:
                    time.sleep(args.every)
                data = f"hello {n}"
            sockfd.sendto(data.encode(), server)
            say(f"{me} sendto (sent): {data}")
            try:
                reply, addr = sockfd.recvfrom(1024)
            except socket.timeout:
                # Unconnected: a "port unreachable" ICMP is never reported to us (no
                # ConnectionRefusedError), so a missing server and a lost datagram look alike.
                say(f"{me} {args.timeout:g} 秒没有回复 (超时检测): 数据报丢了, 或者服务器不在  "
                    f"(no reply in {args.timeout:g} s: lost, or nobody listens)")
                continue
            say(f"{me} recvfrom {addr} (received): {reply.decode(errors='replace')}")
    except EOFError:
        pass
    finally:
        sockfd.close()
        say(f"{me} 关闭套接字, 退出  (closed the socket, leaving)")


if __name__ == "__main__":
    main()
