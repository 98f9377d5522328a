"""tcp_client: the course's TCP client (流式套接字客户端), for every TCP server lab.

    $ python -m lab.experiments.tcp_client --port 8888
    客户端[19190] 连接 127.0.0.1:8888 成功, 本地地址 127.0.0.1:45772  (connected)
    发送>> 你好
    客户端[19190] 发送 (sent): 你好
    客户端[19190] 收到 (received): 收到 (got) 你好
    发送>>                                   (an empty line: leave)
    客户端[19190] 关闭套接字, 退出  (closed the socket, leaving)

In the foreground of a terminal it reads lines from the keyboard, as in the
notes (``data = input("发送>>")``).  Anywhere else (started with ``&``, by the
dashboard's "add client", or with stdin not a terminal) it sends
"hello 1", "hello 2", ... every --every seconds by itself, so the connection
stays busy.  Reading the terminal from the background would only stop us
with SIGTTIN, so we don't.

SIGTERM (the dashboard's "close client", ``kill PID``) and Ctrl-C close the
socket cleanly: this side closes first, so its socket ends in TIME_WAIT.
``--count N`` sends N lines and leaves.

SIGUSR1 (``kill -USR1 PID``, select_server's "urgent byte") sends one byte of
urgent data, ``send(b"!", MSG_OOB)``: the byte select() puts in xs.

The Unix-socket client (``unix_client``) talks exactly the same way.
"""
import argparse
import os
import signal
import socket
import time

from lab.report import say, set_role


def leave(sig, frame):
    raise SystemExit(0)     # unwinds to the finally: below, which closes the socket


def keyboard():
    """True when lines typed in the terminal are for us: a tty, and we are its foreground job."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:         # a terminal that is not ours (the dashboard's helpers)
        return False


def talk(sockfd, every=1.5, count=0):
    """Send lines and print the replies until the server hangs up, the lines run out, or a signal."""
    me = f"客户端[{os.getpid()}]"
    typing = keyboard()
    n = 0
    try:
        while not count or n < count:
            n += 1
            if typing:
                data = input("发送>> ")
                if not data:
                    break
            else:
                if n > 1:
                    time.sleep(every)
                data = f"hello {n}"
            sockfd.send((data + "\n").encode())
            say(f"{me} 发送 (sent): {data}")
            reply = sockfd.recv(1024)
            if not reply:      # recv returns b"" when the other end has closed
                say(f"{me} 服务器关闭了连接  (the server closed the connection)")
                break
            say(f"{me} 收到 (received): {reply.decode(errors='replace').strip()}")
    except (EOFError, ConnectionError) as exc:
        say(f"{me} 连接结束  ({type(exc).__name__})")
    finally:
        sockfd.close()
        say(f"{me} 关闭套接字, 退出  (closed the socket, leaving)")


def main():
    parser = argparse.ArgumentParser(description="TCP client: send lines, print the replies")
    parser.add_argument("--host", default="127.0.0.1", help="server address (loopback only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--every", type=float, default=1.5, help="seconds between automatic lines")
    parser.add_argument("--count", type=int, default=0, help="lines to send, 0 = until closed")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("this lab talks to loopback only (127.0.0.1 or ::1)")
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sockfd = socket.socket(family, socket.SOCK_STREAM)

    def urgent(sig, frame):
        """SIGUSR1: one byte of TCP urgent (out-of-band) data, outside the normal stream."""
        try:
            sockfd.send(b"!", socket.MSG_OOB)
            say(f"客户端[{os.getpid()}] 发送带外数据 MSG_OOB (sent urgent data): !")
        except OSError as exc:      # not connected yet, or already closed
            say(f"客户端[{os.getpid()}] 带外数据没有发出  ({type(exc).__name__})")
    # Every handler before set_role: the dashboard may signal the client as soon as it knows its role,
    # and a SIGUSR1 without its handler would kill it.
    signal.signal(signal.SIGUSR1, urgent)
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    set_role("client")

    try:
        sockfd.connect((args.host, args.port))
    except OSError as exc:
        sockfd.close()
        say(f"客户端[{os.getpid()}] 连接 {args.host}:{args.port} 失败  ({type(exc).__name__})")
        return
    here = sockfd.getsockname()
    say(f"客户端[{os.getpid()}] 连接 {args.host}:{args.port} 成功, 本地地址 {here[0]}:{here[1]}  (connected)")
    talk(sockfd, args.every, args.count)


if __name__ == "__main__":
    main()
