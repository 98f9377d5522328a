"""udp_broadcast_recv: the notes' broadcast receiver (广播接收端), one more receiver for udp_broadcast.

    $ python -m lab.experiments.udp_broadcast_recv --port 9999
    接收端[21873] 绑定 127.255.255.255:9999, recvfrom() 等待广播 ...  (waiting for a broadcast)
    接收端[21873] 从 ('127.0.0.1', 47318) 收到广播 (received): 广播 5 来自发送端 21850
    接收端[21873] 从 ('127.0.0.1', 47318) 收到广播 (received): 广播 6 来自发送端 21850
    ^C

Start ``python -m lab.experiments.udp_broadcast --port 9999`` first (or
after: a receiver gets what is sent from the moment it is bound).  The
notes' receiver binds ('', port), every address (0.0.0.0); this lab stays
on loopback, so it binds the broadcast address itself, 127.255.255.255: a
socket bound to an address gets the datagrams sent *to* that address, and
a socket bound to 127.0.0.1 would get none of them.  Every receiver sets
SO_REUSEADDR (端口立即复用) before bind, so several can bind the same
address and port; the kernel then hands a copy of each broadcast datagram
to every one of them.  The sender's last datagram says the broadcast is
over, and every receiver leaves on it (datagrams come in order on
loopback: it has got all the others by then); SIGTERM or Ctrl-C closes the
socket and leaves at once.
"""
import argparse
import os
import signal
import socket

from lab.report import say, set_role

BROADCAST = "127.255.255.255"     # the loopback network 127.0.0.0/8's broadcast address
END = "广播结束 (the end)".encode()  # the sender's last datagram: every receiver leaves on it


def leave(sig, frame):
    raise SystemExit(0)           # unwinds to receive()'s finally, which closes the socket


def make_socket(port):
    """s = socket(AF_INET, SOCK_DGRAM), SO_REUSEADDR, bound to the broadcast address."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)    # several receivers on one port
    s.bind((BROADCAST, port))
    return s


def receive(s, me):
    """The notes' loop: recvfrom() a datagram, print where it came from, until the end."""
    say(f"{me} 绑定 {BROADCAST}:{s.getsockname()[1]}, recvfrom() 等待广播 ...  (waiting for a broadcast)")
    try:
        while True:
            msg, addr = s.recvfrom(1024)
            say(f"{me} 从 {addr} 收到广播 (received): {msg.decode(errors='replace')}")
            if msg == END:
                break
    finally:
        s.close()
        say(f"{me} 接收结束, 关闭套接字  (closed the socket, leaving)")


def main():
    parser = argparse.ArgumentParser(description="UDP broadcast receiver on 127.255.255.255")
    parser.add_argument("--host", default=BROADCAST, help="the broadcast address (loopback only)")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.host != BROADCAST:
        parser.error(f"this lab receives on the loopback broadcast address {BROADCAST} only")
    if not 1 <= args.port <= 65535:
        parser.error("--port must be from 1 to 65535")
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    set_role("receiver")
    receive(make_socket(args.port), f"接收端[{os.getpid()}]")


if __name__ == "__main__":
    main()
