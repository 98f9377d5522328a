"""socketserver_client: tcp_client or udp_client, whichever the server on that port speaks.

    $ python -m lab.experiments.socketserver_client --port 8888 --count 1
    客户端[20984] 127.0.0.1:8888 是 UDP 套接字 (/proc/net/udp) → udp_client  (the port is UDP)
    客户端[20984] 套接字 127.0.0.1:47311 → 服务器 127.0.0.1:8888  (no connect: just send)
    客户端[20984] sendto (sent): hello 1
    客户端[20984] recvfrom ('127.0.0.1', 8888) (received): 收到 (got) hello 1
    客户端[20984] 关闭套接字, 退出  (closed the socket, leaving)

socketserver_server has one "add client" button for its three kinds, and
the button cannot know the kind: so this helper asks the kernel.  The
tables ``ss`` reads, /proc/net/tcp and /proc/net/udp, list every socket
with its local address (hex, 0100007F:22B8 is 127.0.0.1:8888) and state
(0A is LISTEN); a TCP socket listening on the port means tcp_client,
otherwise udp_client.  Nothing is sent to find out.  Then it becomes that
client (os.execv: same pid, the same arguments), which does the talking.
"""
import argparse
import os
import socket
import sys

from lab.report import say

TCP_LISTEN = "0A"


def bound(table, host, port, state=None):
    """True if /proc/net/<table> has a socket bound to host:port (in that state, if given)."""
    # the kernel prints the address as the 32-bit number in memory order: 127.0.0.1 is 0100007F here
    want = f"{int.from_bytes(socket.inet_aton(host), sys.byteorder):08X}:{port:04X}"
    with open(f"/proc/net/{table}") as f:
        next(f)                                    # the header line
        for line in f:
            fields = line.split()
            if fields[1] == want and (state is None or fields[3] == state):
                return True
    return False


def main():
    parser = argparse.ArgumentParser(description="tcp_client or udp_client, as the port's server speaks")
    parser.add_argument("--host", default="127.0.0.1", help="server address (loopback IPv4 only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--every", type=float, default=1.5, help="seconds between automatic lines")
    parser.add_argument("--count", type=int, default=0, help="lines to send, 0 = until closed")
    args = parser.parse_args()
    if args.host != "127.0.0.1":
        parser.error("this helper talks to 127.0.0.1 only")
    if not 0 < args.port <= 65535:
        parser.error("--port must be from 1 to 65535")
    if bound("tcp", args.host, args.port, TCP_LISTEN):
        client, how, en = "tcp_client", "是 TCP LISTEN 套接字 (/proc/net/tcp)", "the port is TCP"
    elif bound("udp", args.host, args.port):
        client, how, en = "udp_client", "是 UDP 套接字 (/proc/net/udp)", "the port is UDP"
    else:       # tcp_client will say that the connect was refused
        client, how, en = "tcp_client", "上没有套接字, 试 TCP", "nothing bound there: trying TCP"
    say(f"客户端[{os.getpid()}] {args.host}:{args.port} {how} → {client}  ({en})")
    os.execv(sys.executable, [sys.executable, "-m", f"lab.experiments.{client}", "--host", args.host,
                              "--port", str(args.port), "--every", str(args.every), "--count", str(args.count)])


if __name__ == "__main__":
    main()
