"""sticky_packets: tcp粘包 — several send()s, one recv() — and the fix, a struct length prefix.

    $ python -m lab.experiments.sticky_packets --framing none --messages 4 --delay 2 --gap 0.3 --port 9998
    listening on 127.0.0.1:9998
    服务器[24952] framing=none: 直接 send(), 没有消息边界 (no message boundaries)
    客户端[24953] send() 第 1 次: 13 字节  (send #1: 13 bytes)
    服务器[24952] 客户端 ('127.0.0.1', 40980) 已连接; 先睡 2 秒再 recv(), 数据留在接收缓冲区 (sleeping 2 s before recv(): watch Recv-Q grow)
    客户端[24953] send() 第 2 次: 13 字节  (send #2: 13 bytes)
    客户端[24953] send() 第 3 次: 13 字节  (send #3: 13 bytes)
    客户端[24953] send() 第 4 次: 13 字节  (send #4: 13 bytes)
    客户端[24953] send() 共 4 次, 关闭连接  (4 send() calls, then close)
    客户端[24953] 等待 SIGUSR1 再发一轮  (SIGUSR1: another round)
    服务器[24952] recv() 第 1 次 (recv #1) 52 字节: 第1条消息第2条消息第3条消息第4条消息
    服务器[24952] 客户端关闭了连接: recv() 共 1 次得到数据 (1 recv() calls with data)
    ^C

    $ python -m lab.experiments.sticky_packets --framing length --messages 3 --delay 1 --gap 0.1 --port 9998
    listening on 127.0.0.1:9998
    服务器[25013] framing=length: 每条消息前加 struct.pack('!I', n) 长度 (a length prefix)
    客户端[25014] send() 第 1 次: 17 字节  (send #1: 17 bytes)
    服务器[25013] 客户端 ('127.0.0.1', 47708) 已连接; 先睡 1 秒再 recv(), 数据留在接收缓冲区 (sleeping 1 s before recv(): watch Recv-Q grow)
    客户端[25014] send() 第 2 次: 17 字节  (send #2: 17 bytes)
    客户端[25014] send() 第 3 次: 17 字节  (send #3: 17 bytes)
    客户端[25014] send() 共 3 次, 关闭连接  (3 send() calls, then close)
    客户端[25014] 等待 SIGUSR1 再发一轮  (SIGUSR1: another round)
    服务器[25013] 消息 1: 长度 13 字节 (struct.unpack('!I')), 内容 (body): 第1条消息
    服务器[25013] 消息 2: 长度 13 字节 (struct.unpack('!I')), 内容 (body): 第2条消息
    服务器[25013] 消息 3: 长度 13 字节 (struct.unpack('!I')), 内容 (body): 第3条消息
    服务器[25013] 客户端关闭了连接: 共收到 3 条完整的消息 (3 whole messages)
    ^C

The notes: "tcp以字节流方式传输, 没有消息边界, 多次发送的消息被一次接收" and the
cure "人为添加消息边界".  The server (the receiver) accepts, then sleeps
--delay seconds before its first recv(), as a busy program would; meanwhile
the client sends --messages messages, one send() each, --gap seconds apart.
The kernel keeps them in the receiving socket's buffer: ``ss -tn`` shows its
Recv-Q growing with every send() (and one more when the client closes: its
FIN takes a sequence number, and the socket is in CLOSE_WAIT).  When the
server reads:

  --framing none     recv(1024) returns all that arrived, the messages glued
                     together (粘包): fewer recv()s than send()s, and no way
                     to tell where one message ends.
  --framing length   every message goes out as struct.pack('!I', n) + data:
                     a 4-byte length in network byte order, then n bytes.  The
                     server reads exactly 4 bytes, unpacks n, reads exactly n:
                     as many messages as send()s, each whole.

The client then closes; the server's recv() returns b"" and it waits for the
next round.  SIGUSR1 to the client sends another round, SIGTERM closes it;
SIGUSR2 to the server forks one more client (at most four): this server is
iterative, so the new one's bytes wait in the listen queue until it is free.
"""
import argparse
import os
import signal
import socket
import struct
import time

from lab.report import listening, say, set_role

HEADER = struct.Struct("!I")        # the length prefix: an unsigned 4-byte int, network byte order
MAX_CLIENTS = 4                     # the first and at most three more (SIGUSR2: "add client")
clients = []                        # pids of the clients this server forked
serving = None                      # the connection being served: a new client must not hold it


def recv_exact(connfd, n):
    """recv() until exactly n bytes have come (a recv may return fewer); None if the peer closed."""
    data = b""
    while len(data) < n:
        chunk = connfd.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve(connfd, addr, framing, delay):
    """One round: sleep first (the data piles up in Recv-Q), then read until the client closes."""
    global serving
    serving = connfd
    me = f"服务器[{os.getpid()}]"
    say(f"{me} 客户端 {addr} 已连接; 先睡 {delay:g} 秒再 recv(), 数据留在接收缓冲区 "
        f"(sleeping {delay:g} s before recv(): watch Recv-Q grow)")
    time.sleep(delay)
    calls = messages = 0
    if framing == "none":
        while True:
            data = connfd.recv(1024)
            if not data:
                break
            calls += 1
            say(f"{me} recv() 第 {calls} 次 (recv #{calls}) {len(data)} 字节: {data.decode(errors='replace')}")
        say(f"{me} 客户端关闭了连接: recv() 共 {calls} 次得到数据 ({calls} recv() calls with data)")
    else:
        while True:
            head = recv_exact(connfd, HEADER.size)
            if head is None:
                break
            (n,) = HEADER.unpack(head)
            body = recv_exact(connfd, n)
            if body is None:
                break
            messages += 1
            say(f"{me} 消息 {messages}: 长度 {n} 字节 (struct.unpack('!I')), 内容 (body): {body.decode(errors='replace')}")
        say(f"{me} 客户端关闭了连接: 共收到 {messages} 条完整的消息 ({messages} whole messages)")
    serving = None
    connfd.close()


def fork_client(sockfd, port, args):
    """A client, forked by the server: it keeps none of the server's sockets."""
    pid = os.fork()
    if pid == 0:
        try:
            for sig in (signal.SIGCHLD, signal.SIGUSR2):
                signal.signal(sig, signal.SIG_DFL)
            sockfd.close()              # the child closes what it does not use, as the notes say
            if serving is not None:
                serving.close()
            client(port, args.framing, args.messages, args.gap)
        finally:
            os._exit(0)
    clients.append(pid)
    return pid


def add_client(sockfd, port, args):
    """SIGUSR2: one more client; an iterative server takes it when the current one has gone."""
    def handler(sig, frame):
        alive = [pid for pid in clients if _alive(pid)]
        if len(alive) >= MAX_CLIENTS:
            say(f"服务器[{os.getpid()}] 已有 {len(alive)} 个客户端, 不再添加  (at most {MAX_CLIENTS})")
            return
        pid = fork_client(sockfd, port, args)
        say(f"服务器[{os.getpid()}] 再 fork 一个客户端 {pid}: 它的数据在监听队列里等待  "
            f"(another client: it waits in the listen queue until this iterative server is free)")
    return handler


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def client(port, framing, messages, gap):
    """The sender: a round on SIGUSR1, until SIGTERM, or until the server is gone."""
    set_role("client")
    server = os.getppid()
    me = f"客户端[{os.getpid()}]"
    signal.signal(signal.SIGTERM, leave)
    # SIGUSR1 stays blocked and is taken by sigwait(): one sent between two rounds is not lost.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    while True:
        sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sockfd.connect(("127.0.0.1", port))
            for k in range(1, messages + 1):
                if k > 1:
                    time.sleep(gap)
                data = f"第{k}条消息".encode()
                if framing == "length":
                    data = HEADER.pack(len(data)) + data     # 人为添加消息边界
                sockfd.send(data)
                say(f"{me} send() 第 {k} 次: {len(data)} 字节  (send #{k}: {len(data)} bytes)")
            say(f"{me} send() 共 {messages} 次, 关闭连接  ({messages} send() calls, then close)")
        finally:
            sockfd.close()
        say(f"{me} 等待 SIGUSR1 再发一轮  (SIGUSR1: another round)")
        while signal.sigtimedwait({signal.SIGUSR1}, 1.0) is None:
            if os.getppid() != server:       # the server was killed: nobody to send to
                say(f"{me} 服务器不在了, 退出  (the server is gone)")
                return


def leave(sig, frame):
    raise SystemExit(0)


def reap(sig, frame):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        say(f"服务器[{os.getpid()}] 回收客户端 {pid}, exit status {os.waitstatus_to_exitcode(status)}  (reaped)")


def main():
    parser = argparse.ArgumentParser(description="TCP sticky packets (粘包) and a length prefix")
    parser.add_argument("--framing", choices=("none", "length"), default="none",
                        help="none: bare send()s; length: struct.pack('!I', n) before each message")
    parser.add_argument("--messages", type=int, default=5, help="send() calls per round (2 to 20)")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between two send()s (0 to 2)")
    parser.add_argument("--delay", type=float, default=3.0, help="seconds the server sleeps before recv()")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    args = parser.parse_args()
    if not 2 <= args.messages <= 20:
        parser.error("--messages must be from 2 to 20")
    if not 0 <= args.gap <= 2:
        parser.error("--gap must be from 0 to 2 seconds")
    if not 0 <= args.delay <= 10:
        parser.error("--delay must be from 0 to 10 seconds")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    signal.signal(signal.SIGINT, signal.SIG_DFL)      # Ctrl-C ends both
    set_role("server")
    me = f"服务器[{os.getpid()}]"

    sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sockfd.bind(("127.0.0.1", args.port))
    sockfd.listen(5)
    port = sockfd.getsockname()[1]
    say(f"listening on 127.0.0.1:{port}")
    listening("tcp", f"127.0.0.1:{port}")
    say(f"{me} framing={args.framing}: "
        + ("直接 send(), 没有消息边界 (no message boundaries)" if args.framing == "none"
           else "每条消息前加 struct.pack('!I', n) 长度 (a length prefix)"))
    signal.signal(signal.SIGCHLD, reap)
    fork_client(sockfd, port, args)
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGUSR2, add_client(sockfd, port, args))
    try:
        while True:
            connfd, addr = sockfd.accept()
            serve(connfd, addr, args.framing, args.delay)
    finally:
        sockfd.close()
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for pid in clients:                   # the clients go with the server
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


if __name__ == "__main__":
    main()
