"""unix_client: the course's 本地套接字客户端: connect to a socket file, then talk.

    $ python -m lab.experiments.unix_client --path /tmp/proclab-g3qyul74/unix.sock
    客户端[19304] 连接 /tmp/proclab-g3qyul74/unix.sock 成功  (connected)
    发送>> 你好
    客户端[19304] 发送 (sent): 你好
    客户端[19304] 收到 (received): 收到 (got) 你好

The notes: "sockfd = socket(AF_UNIX, SOCK_STREAM); sockfd.connect(sock_file)",
then send and recv as with TCP, so the talking is tcp_client's: keyboard
lines in the foreground of a terminal, automatic "hello N" lines otherwise;
SIGTERM or Ctrl-C closes the socket and leaves.  A Unix stream connection
leaves no TIME_WAIT behind: there is no network to wait for.
"""
import argparse
import os
import signal
import socket

from lab.experiments.tcp_client import leave, talk
from lab.report import say, set_role


def main():
    parser = argparse.ArgumentParser(description="AF_UNIX stream client")
    parser.add_argument("--path", required=True, help="the server's socket file")
    parser.add_argument("--every", type=float, default=1.5, help="seconds between automatic lines")
    parser.add_argument("--count", type=int, default=0, help="lines to send, 0 = until closed")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    set_role("client")

    sockfd = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sockfd.connect(args.path)
    except OSError as exc:
        sockfd.close()
        say(f"客户端[{os.getpid()}] 连接 {args.path} 失败  ({type(exc).__name__})")
        return
    say(f"客户端[{os.getpid()}] 连接 {args.path} 成功  (connected)")
    talk(sockfd, args.every, args.count)


if __name__ == "__main__":
    main()
