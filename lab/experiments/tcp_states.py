"""tcp_states: 三次握手 and 四次挥手 step by step, one command at a time, in one process.

    $ python -m lab.experiments.tcp_states --port 9997
    listening on 127.0.0.1:9997
    命令 (commands): connect, close client, close server, shutdown, send, read, rebind, flood, reset, show;  Ctrl-D 退出 (quits)
    tcp> connect
    三次握手 (handshake): 客户端 127.0.0.1:48008 connect() → SYN, 服务器 SYN+ACK, 客户端 ACK; 服务器 accept() 返回 ('127.0.0.1', 48008)
      监听 listen 127.0.0.1:9997: LISTEN
      客户端 client 127.0.0.1:48008: ESTABLISHED
      服务器 server 127.0.0.1:9997: ESTABLISHED
    tcp> close client
    客户端先 close(): FIN → 服务器 (1), 服务器 ACK (2): 客户端 FIN_WAIT2 (不再属于进程 owned by nobody)
    服务器 recv() 返回 b'': 客户端关闭了 (the client sent its FIN)
    服务器还没有 close(): 服务器 CLOSE_WAIT  (the server has not closed yet)
      监听 listen 127.0.0.1:9997: LISTEN
      服务器 server 127.0.0.1:9997: CLOSE_WAIT
    tcp> close server
    服务器后 close(): FIN → 客户端 (3), 服务器 LAST_ACK, 客户端 ACK (4): 客户端 TIME_WAIT (先关闭的一方 the side that closed first)
      监听 listen 127.0.0.1:9997: LISTEN
    tcp> connect
    三次握手 (handshake): 客户端 127.0.0.1:55466 connect() → SYN, 服务器 SYN+ACK, 客户端 ACK; 服务器 accept() 返回 ('127.0.0.1', 55466)
      监听 listen 127.0.0.1:9997: LISTEN
      客户端 client 127.0.0.1:55466: ESTABLISHED
      服务器 server 127.0.0.1:9997: ESTABLISHED
    tcp> close server
    服务器先 close(): FIN → 客户端 (1), 客户端 ACK (2): 服务器 FIN_WAIT2, 客户端 CLOSE_WAIT
    客户端 recv() 返回 b'': 服务器关闭了 (the server sent its FIN)
      监听 listen 127.0.0.1:9997: LISTEN
      客户端 client 127.0.0.1:55466: CLOSE_WAIT
    tcp> close client
    客户端后 close(): FIN → 服务器 (3), 客户端 LAST_ACK, 服务器 ACK (4): 服务器 127.0.0.1:9997 TIME_WAIT (先关闭的一方 the side that closed first)
      监听 listen 127.0.0.1:9997: LISTEN
    tcp> rebind
    关闭监听套接字, 重新 bind(('127.0.0.1', 9997)) ...
    不设置 SO_REUSEADDR: bind() 失败 (fails): [Errno 98] EADDRINUSE Address already in use
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1): bind() 成功 (端口立即复用)
    listening on 127.0.0.1:9997
    tcp> EOF (Ctrl-D): 退出 (bye)

The notes' 四次挥手: "1.主动方发送报文告知被动方要断开连接 2.被动方返回报文告知
主动方已经接受到你的请求 3.被动方会再次发送报文表示已经准备就绪可以断开
4.主动方断开连接告知被动方".  Here both ends live in this one process (the
client's socket and the server's listening and connected sockets), so each
step is one command and nothing happens by itself:

    connect        client connect(), server accept(): SYN, SYN+ACK, ACK: ESTABLISHED
    close client   the client closes first: FIN (1) and its ACK (2): the client is
                   FIN_WAIT2, owned by nobody now; the server's recv() returns b"",
                   and until it closes too, the server is CLOSE_WAIT
    close server   the second close: FIN (3): LAST_ACK until the ACK (4), then the
                   side that closed first is TIME_WAIT for 60 s (2MSL).  Either side
                   may close first.
    shutdown       shutdown(SHUT_WR), a half close: the client's FIN, but it keeps
                   its socket and can still receive (FIN_WAIT2, and the server CLOSE_WAIT)
    send           the server send()s until its send buffer is full: the client does
                   not read (its Recv-Q, the server's Send-Q)
    read           the client recv()s all that came, to b"" if the server closed
    rebind         close the listening socket and bind the port again, without
                   SO_REUSEADDR (EADDRINUSE while anything holds the port), then with
                   it (端口立即复用)
    flood          backlog + 3 non-blocking connect()s nobody accepts: the listen
                   queue holds backlog + 1 of them, ESTABLISHED; the others stay SYN_SENT
                   (flood again: the last flood's connections are closed first)
    reset          close every connection and the flood
    show           the state of each socket this process holds (TCP_INFO)

On loopback the last ACK comes back within microseconds, so after "close
client", "close server" passes through LAST_ACK too fast to be seen.  To
watch it: "shutdown", "send" (the server's data fills the client's window),
"close server": its FIN must wait behind the bytes the client has not read,
so the server's socket stays LAST_ACK, owned by nobody; "read" lets it go,
and the client's socket becomes TIME_WAIT.

TIME_WAIT is on the side that closed first, on its own port: after "close
client" first, the client's ephemeral port; the server's port is free and
"rebind" works even without SO_REUSEADDR.  After "close server" first, the
TIME_WAIT is on the server's port: bind() without SO_REUSEADDR fails with
EADDRINUSE, with it (on the old socket too: a TIME_WAIT keeps the option
of the socket it was) it succeeds.  That is why servers set it.
"""
import argparse
import fcntl
import select
import signal
import socket
import struct
import sys
import termios
import time

from lab.report import listening, say, set_role

HOST = "127.0.0.1"
STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
          7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}
HELP = ("命令 (commands): connect, close client, close server, shutdown, send, read, rebind, flood, "
        "reset, show;  Ctrl-D 退出 (quits)")


def state(s):
    """The kernel's TCP state of a socket: the first byte of getsockopt(TCP_INFO)."""
    try:
        return STATES.get(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0], "?")
    except OSError:
        return "CLOSE"


def settle(s, passing):
    """Wait (half a second at most) for the peer's ACK: it can be delayed up to 40 ms."""
    deadline = time.monotonic() + 0.5
    while s and state(s) == passing and time.monotonic() < deadline:
        time.sleep(0.01)


def where(s):
    try:
        return "%s:%d" % s.getsockname()
    except OSError:
        return "?"


class Playground:
    def __init__(self, port, backlog):
        self.backlog = backlog
        self.listener = self.listen(port, reuse=True)
        self.port = self.listener.getsockname()[1]
        self.client = self.server = None        # the two ends of the one connection
        self.client_closed = self.server_closed = False
        self.server_eof = self.client_eof = False
        self.flooded = []                       # connect()s past the backlog

    def listen(self, port, reuse):
        sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if reuse:
            sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # 端口立即复用
        sockfd.bind((HOST, port))
        sockfd.listen(self.backlog)
        return sockfd

    # -- the opening handshake ----------------------------------------------------
    def connect(self):
        if (self.client and not self.client_closed) or (self.server and not self.server_closed) or self.flooded:
            return say("已经有连接了: 先 close 或 reset  (a connection exists: close or reset it first)")
        self.client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.client.settimeout(3)          # 超时检测: a full listen queue would leave it in SYN_SENT
        self.client.connect((HOST, self.port))
        self.server, addr = self.listener.accept()
        self.client_closed = self.server_closed = self.server_eof = self.client_eof = False
        say(f"三次握手 (handshake): 客户端 {where(self.client)} connect() → SYN, 服务器 SYN+ACK, 客户端 ACK; "
            f"服务器 accept() 返回 {addr}")
        self.show()

    def flood(self):
        if self.flooded:                   # the last flood's sockets go first: no fd is left behind
            self.drop_flood()
            say("先关闭上一次 flood 的连接  (the last flood's connections closed first)")
        for _ in range(self.backlog + 3):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)           # connect() returns at once; the handshake goes on in the kernel
            s.connect_ex((HOST, self.port))
            self.flooded.append(s)
        select.select([], self.flooded, [], 0.5)      # the ones that get in are writable at once
        states = [state(s) for s in self.flooded]
        say(f"listen({self.backlog}) 后 {len(self.flooded)} 个 connect(), 没有 accept(): "
            f"{states.count('ESTABLISHED')} 个 ESTABLISHED (在监听队列中, queued: backlog + 1), "
            f"{states.count('SYN_SENT')} 个 SYN_SENT (队列满了, SYN 被丢弃, 重发: the queue is full)")
        for s in self.flooded:
            say(f"  客户端 {where(s)}: {state(s)}")

    # -- the close handshake ------------------------------------------------------
    def close_client(self):
        if not self.client or self.client_closed:
            return say("客户端没有连接  (the client has no connection)")
        first = not self.server_closed
        self.client.close()
        self.client_closed = True
        if first:
            say("客户端先 close(): FIN → 服务器 (1), 服务器 ACK (2): 客户端 FIN_WAIT2 (不再属于进程 owned by nobody)")
            self.server_reads()
            say("服务器还没有 close(): 服务器 CLOSE_WAIT  (the server has not closed yet)")
        else:
            say("客户端后 close(): FIN → 服务器 (3), 客户端 LAST_ACK, 服务器 ACK (4): "
                f"服务器 {HOST}:{self.port} TIME_WAIT (先关闭的一方 the side that closed first)")
        self.show()

    def close_server(self):
        if not self.server or self.server_closed:
            return say("服务器没有连接  (the server has no connection)")
        first = not (self.client_closed or self.server_eof)     # no FIN from the client yet
        unsent = self.queued(self.server, "send")
        unread = unsent + (self.queued(self.client, "recv") if self.client and not self.client_closed else 0)
        self.server.close()
        self.server_closed = True
        if first:
            say("服务器先 close(): FIN → 客户端 (1), 客户端 ACK (2): 服务器 FIN_WAIT2, 客户端 CLOSE_WAIT")
            self.client_reads()
            settle(self.client, "ESTABLISHED")
        elif unsent:
            say(f"服务器后 close(): LAST_ACK, 它的 FIN 排在还没发出的 {unsent} 字节后面 (客户端共有 {unread} 字节未读) "
                f"(its FIN waits behind {unsent} unsent bytes; the client has {unread} unread): 等客户端 read")
        else:
            say("服务器后 close(): FIN → 客户端 (3), 服务器 LAST_ACK, 客户端 ACK (4): "
                "客户端 TIME_WAIT (先关闭的一方 the side that closed first)")
        self.show()

    def shutdown(self):
        if not self.client or self.client_closed:
            return say("客户端没有连接  (the client has no connection)")
        self.client.shutdown(socket.SHUT_WR)
        self.client_eof = None             # half closed: its FIN is sent, it still receives
        say("客户端 shutdown(SHUT_WR): 半关闭 (half close): FIN → 服务器, 客户端 FIN_WAIT2 但仍可以 recv()")
        self.server_reads()
        settle(self.client, "FIN_WAIT1")
        if not self.server_closed:
            say("服务器还可以 send(): 服务器 CLOSE_WAIT  (the server may still send)")
        self.show()

    def send(self):
        if not self.server or self.server_closed:
            return say("服务器没有连接  (the server has no connection)")
        self.server.setblocking(False)
        sent = 0
        try:
            while True:
                sent += self.server.send(b"x" * 65536)
        except BlockingIOError:
            pass
        except OSError as exc:
            say(f"服务器 send() 失败: {exc!r}")
        self.server.setblocking(True)
        say(f"服务器 send() 了 {sent} 字节, 缓冲区满了: 客户端不读 (buffers full: the client does not read)")
        self.show()

    def read(self):
        if not self.client or self.client_closed:
            return say("客户端没有连接  (the client has no connection)")
        got = 0
        while select.select([self.client], [], [], 0.5)[0]:
            data = self.client.recv(1 << 20)
            if not data:
                self.client_eof = True
                break
            got += len(data)
        say(f"客户端 recv() 读了 {got} 字节" + (", 然后 b'': 服务器的 FIN (the server closed)"
                                            if self.client_eof is True else ""))
        if self.client_eof is True and self.server_closed:
            say("客户端 ACK (4): 服务器的 LAST_ACK 结束, 客户端 TIME_WAIT; 客户端 close() 它的套接字 "
                "(the TIME_WAIT is the kernel's)")
            self.client.close()
            self.client_closed = True
        self.show()

    def server_reads(self):
        if self.server and not self.server_closed and select.select([self.server], [], [], 2)[0]:
            try:
                data = self.server.recv(1024)
            except OSError as exc:
                return say(f"服务器 recv(): {exc!r}")
            if not data:
                self.server_eof = True
                say("服务器 recv() 返回 b'': 客户端关闭了 (the client sent its FIN)")

    def client_reads(self):
        if self.client and not self.client_closed and select.select([self.client], [], [], 2)[0]:
            if not self.client.recv(1024):
                self.client_eof = True
                say("客户端 recv() 返回 b'': 服务器关闭了 (the server sent its FIN)")

    # -- the port, and starting again ------------------------------------------
    def rebind(self):
        self.listener.close()
        say(f"关闭监听套接字, 重新 bind(('{HOST}', {self.port})) ...")
        sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sockfd.bind((HOST, self.port))
            say("不设置 SO_REUSEADDR: bind() 成功 (nothing holds the port)")
            # set now, as a server should: the connections it accepts (and their TIME_WAITs) inherit it
            sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        except OSError as exc:
            say(f"不设置 SO_REUSEADDR: bind() 失败 (fails): [Errno {exc.errno}] "
                f"{'EADDRINUSE' if exc.errno == 98 else exc.errno} {exc.strerror}")
            sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sockfd.bind((HOST, self.port))
                say("s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1): bind() 成功 (端口立即复用)")
            except OSError as exc:
                say(f"设置 SO_REUSEADDR 也失败: [Errno {exc.errno}] {exc.strerror}")
                sockfd.close()
                self.listener = self.listen(0, reuse=True)
                self.port = self.listener.getsockname()[1]
                say(f"换一个端口 (another port): listening on {HOST}:{self.port}")
                listening("tcp", f"{HOST}:{self.port}")
                return
        sockfd.listen(self.backlog)
        self.listener = sockfd
        say(f"listening on {HOST}:{self.port}")

    def drop_flood(self):
        """Close the flood's sockets, then accept and close the connections they left in the queue."""
        for s in self.flooded:
            s.close()
        self.flooded = []
        self.listener.setblocking(False)
        try:
            while True:
                self.listener.accept()[0].close()
        except BlockingIOError:
            pass
        finally:
            self.listener.setblocking(True)

    def reset(self):
        self.drop_flood()
        for s in (self.client, self.server):
            if s:
                s.close()
        self.client = self.server = None
        say("reset: 关闭了所有连接  (every connection closed)")

    # -- what the kernel says -----------------------------------------------------
    def queued(self, s, which):
        """Bytes in a socket's send queue (SIOCOUTQ) or receive queue (SIOCINQ)."""
        request = termios.TIOCOUTQ if which == "send" else termios.FIONREAD
        try:
            return struct.unpack("i", fcntl.ioctl(s.fileno(), request, b"\0\0\0\0"))[0]
        except OSError:
            return 0

    def show(self):
        held = [("监听 listen", self.listener)]
        if self.client and not self.client_closed:
            held.append(("客户端 client", self.client))
        if self.server and not self.server_closed:
            held.append(("服务器 server", self.server))
        for name, s in held:
            say(f"  {name} {where(s)}: {state(s)}")


def main():
    parser = argparse.ArgumentParser(description="TCP's states, step by step")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    parser.add_argument("--backlog", type=int, default=1, help="listen(n): the listen queue (0 to 16)")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    if not 0 <= args.backlog <= 16:
        parser.error("--backlog must be from 0 to 16")
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    set_role("tcp demo")
    play = Playground(args.port, args.backlog)
    say(f"listening on {HOST}:{play.port}")
    listening("tcp", f"{HOST}:{play.port}")
    say(HELP)
    commands = {"connect": play.connect, "close client": play.close_client, "close server": play.close_server,
                "shutdown": play.shutdown, "send": play.send, "read": play.read, "rebind": play.rebind,
                "flood": play.flood, "reset": play.reset, "show": play.show}
    while True:
        try:
            line = " ".join(input("tcp> ").split())
        except EOFError:
            say("EOF (Ctrl-D): 退出 (bye)")
            return
        if line in commands:
            try:
                commands[line]()
            except OSError as exc:
                say(f"{line}: {exc!r}")
        elif line:
            say(HELP)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
