"""chat_member: a member of the notes' UDP chat room: one socket, two processes.

    $ python -m lab.experiments.chat_member --port 8888
    客户端[25066] 套接字 127.0.0.1:33700 → 聊天室 127.0.0.1:8888
    请输入姓名: 小明
    客户端[25066] 小明: 该用户已存在 (this name is taken)  (refused)
    请输入姓名: 小红
    小红[25066] 您已进入聊天室  (joined as 小红)
    小红[25066] 接收进程, 子进程 25067 发送  (the parent receives, child 25067 sends)
    小红[25067] 发送进程: 同一个套接字 fd 4  (the child sends)
    发言: 你好
    小红[25067] 发言 (sent): 你好
    发言: 小红[25066] 收到 (received): 小明 说: 今天的作业是聊天室
    小红[25066] 收到 (received): 管理员 说: 大家好
    quit
    小红[25067] 发送 Q 小红, 退出聊天室  (leaving)
    小红[25066] 收到 EXIT: 接收进程退出  (the receiver leaves)
    小红[25066] 关闭套接字, 退出  (closed the socket, leaving)

    $ python -m lab.experiments.chat_member --port 8888 --every 3 < /dev/null
    客户端[25064] 套接字 127.0.0.1:44890 → 聊天室 127.0.0.1:8888
    小明[25064] 您已进入聊天室  (joined as 小明)
    小明[25064] 接收进程, 子进程 25065 发送  (the parent receives, child 25065 sends)
    小明[25065] 发送进程: 同一个套接字 fd 3  (the child sends)
    小明[25065] 发言 (sent): 大家好, 我是小明
    小明[25064] 收到 (received): 小红 进入了聊天室
    小明[25064] 收到 (received): 小红 说: 你好
    小明[25065] 发言 (sent): 今天的作业是聊天室
    小明[25064] 收到 (received): 管理员 说: 大家好
    小明[25064] 收到 (received): 小红 退出了聊天室
    小明[25064] 收到 (received): 管理员 说: 聊天室关闭了 (the room closes)
    小明[25064] 收到 EXIT: 接收进程退出  (the receiver leaves)
    小明[25065] 发送 Q 小明, 退出聊天室  (leaving)
    小明[25064] 关闭套接字, 退出  (closed the socket, leaving)

As in the notes' solution: the member logs in first (``L name``; a taken
name is refused and another is asked for), then forks.  The child sends
(发言: input() or automatic lines, ``C name text``), the parent receives
(recvfrom, prints what the room says).  Both use the one UDP socket made
before the fork: ``ss -uanp`` shows one socket with two users, the same
inode in both fd tables.  UDP keeps each message a datagram of its own, so
neither side needs framing.

In the foreground of a terminal the member asks for a name and reads lines
from the keyboard ("quit" or an empty line leaves).  Anywhere else (the
dashboard's "add client", ``&``, stdin not a terminal) it takes the first
free name of a list (小明, 小红, ...: the refusals show in the server's
log), or --name, and says a line every --every seconds.  Under the
dashboard a member shares the run's terminal with the server but is not its
foreground job (the keyboard is the admin's): its stdin is a pipe of its own
the dashboard types into (the details of the member, "type into its stdin"),
and it says each line typed there at once, besides its own now and then.

Leaving: SIGTERM (the dashboard's "close client", ``kill PID``) or Ctrl-C
makes the sending child send ``Q name``; the server tells the others "name
退出了聊天室" and answers ``EXIT``, on which the receiving parent reaps the
child and exits.  SIGTERM to the parent is passed to the child.  If the
sender is killed (kill -9: it cannot send Q), the parent sees it die
(SIGCHLD, WIFSIGNALED) and sends ``Q name`` itself, so the name is free
again.  If the server is gone, no EXIT comes: once the child has exited
the parent waits 2 s at most (signal.alarm) and leaves anyway.

UDP has no connection: anyone may sendto the member's address.  The
receiver prints only what comes from the server's address (recvfrom says
who sent it) and drops the rest; the server keeps names to letters,
numbers and signs (no control or invisible characters: 姓名不合法) and a
text to one line, so no member can pass for 管理员.
"""
import argparse
import os
import select
import signal
import socket
import stat
import sys
import time

from lab.experiments.tcp_client import keyboard
from lab.report import say, set_role

NAMES = ("小明", "小红", "小刚", "小丽", "小强", "小芳", "小军", "小兰")
LINES = ("大家好, 我是{name}", "今天的作业是聊天室", "UDP 的消息有边界, 不会粘包",
         "谁写好了文件服务器?", "我先用 fork 创建一个子进程发消息", "父进程负责接收消息")
LEAVE_WAIT = 2       # seconds the receiver waits for EXIT once the sender has gone


def from_server(s, server, me, size=2048):
    """recvfrom until a datagram comes from the server's address; drop the others.

    UDP has no connection: any socket may sendto our address, and only
    recvfrom's address says who sent it.  A line from elsewhere ("管理员 说:
    ...") is not the room's: it is dropped, not printed.
    """
    while True:
        data, addr = s.recvfrom(size)
        if addr == server:
            return data
        say(f"{me} 丢弃 {addr} 的数据报 ({len(data)} 字节): 不是服务器发的  (not from the server: dropped)")


def login(s, server, names, ask):
    """Send L name until the server says OK; return the name, or None."""
    s.settimeout(3)          # 超时检测: a lost datagram or no server must not hang us
    try:
        for name in names:
            if ask:
                name = input("请输入姓名: ").strip()
                if not name:
                    return None
            s.sendto(f"L {name}".encode(), server)
            try:
                data = from_server(s, server, f"客户端[{os.getpid()}]", 1024)
            except socket.timeout:
                say(f"客户端[{os.getpid()}] 3 秒没有回复, 服务器不在?  (no answer from {server})")
                return None
            if data == b"OK":
                return name
            say(f"客户端[{os.getpid()}] {name}: {data.decode(errors='replace')}  (refused)")
        return None
    finally:
        s.settimeout(None)   # blocking again: the flag is shared with the child after fork


def send_msg(s, server, name, typing, every, count):
    """The child: 发言 until told to leave, then Q name."""
    def leave(sig, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)    # the parent's SIGTERM after EXIT: ignored
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    me = f"{name}[{os.getpid()}]"
    n = 0
    try:
        # inside the try: a SIGTERM held since the fork arrives here, and Q is still sent
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        set_role("client sender")
        say(f"{me} 发送进程: 同一个套接字 fd {s.fileno()}  (the child sends)")
        # Under the dashboard stdin is a pipe the dashboard types into: a line that comes
        # is said at once, else an automatic one every `every` seconds.
        piped = not typing and stat.S_ISFIFO(os.fstat(0).st_mode)
        lines, rest = [], b""       # what was typed, read with os.read (no buffer select cannot see)
        while not count or n < count:
            if typing:
                text = input("发言: ").strip()
                if text in ("", "quit"):
                    break
            else:
                if piped and not lines and select.select([0], [], [], every if n else 0)[0]:
                    data = os.read(0, 4096)
                    piped = bool(data)            # b"": nobody types any more
                    *got, rest = (rest + data).split(b"\n")
                    lines += [line.decode(errors="replace").strip() for line in got if line.strip()]
                    if not lines:
                        continue
                elif n and not piped and not lines:
                    time.sleep(every)
                text = lines.pop(0) if lines else LINES[n % len(LINES)].format(name=name)
            n += 1
            s.sendto(f"C {name} {text}".encode(), server)
            say(f"{me} 发言 (sent): {text}")
    except (EOFError, SystemExit):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        s.sendto(f"Q {name}".encode(), server)
        say(f"{me} 发送 Q {name}, 退出聊天室  (leaving)")
        s.close()
        os._exit(0)


def recv_msg(s, server, name):
    """The parent: print what the room says until EXIT."""
    me = f"{name}[{os.getpid()}]"
    while True:
        data = from_server(s, server, me)
        if data == b"EXIT":
            break
        say(f"{me} 收到 (received): {data.decode(errors='replace')}")
    say(f"{me} 收到 EXIT: 接收进程退出  (the receiver leaves)")


def main():
    parser = argparse.ArgumentParser(description="UDP chat room member: a sending and a receiving process")
    parser.add_argument("--host", default="127.0.0.1", help="server address (loopback only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", help="join with this name (default: ask, or the first free of a list)")
    parser.add_argument("--every", type=float, default=4.0, help="seconds between automatic lines")
    parser.add_argument("--count", type=int, default=0, help="lines to say, then leave; 0 = until closed")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost"):
        parser.error("this lab talks to loopback only (127.0.0.1)")
    if not 1 <= args.port <= 65535:
        parser.error("--port must be from 1 to 65535")
    if not 0.1 <= args.every <= 60:
        parser.error("--every must be from 0.1 to 60")
    if not 0 <= args.count <= 1000:
        parser.error("--count must be from 0 to 1000")
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is for the sender, which leaves properly
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(0))    # before we have a sender
    set_role("client")
    server = ("127.0.0.1", args.port)
    typing = keyboard()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))     # loopback only; the kernel picks the port
    here = s.getsockname()
    say(f"客户端[{os.getpid()}] 套接字 {here[0]}:{here[1]} → 聊天室 {server[0]}:{server[1]}")
    try:
        ask = typing and not args.name
        names = [args.name] if args.name else [None] * 5 if ask else NAMES + tuple(
            f"同学{i}" for i in range(1, 9))
        name = login(s, server, names, ask)
    except (EOFError, SystemExit):
        name = None
    if name is None:
        say(f"客户端[{os.getpid()}] 没有进入聊天室, 退出  (not in the room)")
        s.close()
        sys.exit(1)
    say(f"{name}[{os.getpid()}] 您已进入聊天室  (joined as {name})")

    # Blocked, not ignored, from the fork until both have their handlers: a
    # SIGTERM then (forwarded to a child not ready yet) waits, it is not lost.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    pid = os.fork()
    if pid == 0:
        send_msg(s, server, name, typing, args.every, args.count)
    gone = []

    def forward(sig, frame):            # kill PARENT: the child says goodbye for both
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def child_gone(sig, frame):         # the sender exited: EXIT should follow, but may not
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            gone.append(pid)
            if os.WIFSIGNALED(status):  # killed (kill -9): it could not send Q, we do it for it
                s.sendto(f"Q {name}".encode(), server)
                say(f"{name}[{os.getpid()}] 发送进程 {pid} 被信号 {os.WTERMSIG(status)} 杀死, "
                    f"接收进程发送 Q {name}  (the sender was killed: the receiver leaves for it)")
            signal.alarm(LEAVE_WAIT)

    def no_exit(sig, frame):
        say(f"{name}[{os.getpid()}] {LEAVE_WAIT} 秒没有收到 EXIT, 服务器不在了?  (no EXIT: leaving anyway)")
        raise SystemExit(0)

    signal.signal(signal.SIGALRM, no_exit)
    signal.signal(signal.SIGCHLD, child_gone)
    signal.signal(signal.SIGTERM, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    say(f"{name}[{os.getpid()}] 接收进程, 子进程 {pid} 发送  (the parent receives, child {pid} sends)")
    try:
        recv_msg(s, server, name)
    except SystemExit:
        pass
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.alarm(0)
        if not gone:
            try:
                os.kill(pid, signal.SIGTERM)      # the room closed under it: the sender goes too
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        s.close()
        say(f"{name}[{os.getpid()}] 关闭套接字, 退出  (closed the socket, leaving)")


if __name__ == "__main__":
    main()
