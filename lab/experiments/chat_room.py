r"""chat_room: the notes' UDP chat room (聊天室, 类似QQ群聊), the server.

    $ python -m lab.experiments.chat_room --port 8888
    listening on 127.0.0.1:8888
    服务器[25062] 聊天室开始, 管理员进程 25063 读终端  (the room is open; the admin child reads the terminal)
    管理员[25063] 在这个终端输入一行, 回车: 所有人收到 "管理员 说: ..."  (type a line here and press Enter: everyone gets it)
    服务器 recvfrom ('127.0.0.1', 44890): L 小明
    服务器 小明 进入了聊天室, 通知其他 0 人, 现在 1 人  (joined from ('127.0.0.1', 44890); the others are told)
    服务器 recvfrom ('127.0.0.1', 44890): C 小明 大家好, 我是小明
    服务器 转发 (relayed) 小明 说: 大家好, 我是小明  → 0 人
    服务器 recvfrom ('127.0.0.1', 33700): L 小明
    服务器 姓名 小明 已存在, 拒绝 ('127.0.0.1', 33700)  (the name is taken: refused)
    服务器 recvfrom ('127.0.0.1', 33700): L 小红
    服务器 小红 进入了聊天室, 通知其他 1 人, 现在 2 人  (joined from ('127.0.0.1', 33700); the others are told)
    服务器 recvfrom ('127.0.0.1', 33700): C 小红 你好
    服务器 转发 (relayed) 小红 说: 你好  → 1 人
    大家好                                    (typed: the admin speaks)
    服务器 recvfrom ('127.0.0.1', 8888): C 管理员 大家好
    服务器 转发 (relayed) 管理员 说: 大家好  → 2 人
    服务器 recvfrom ('127.0.0.1', 33700): Q 小红
    服务器 小红 退出了聊天室, 还有 1 人  (left; the others are told)
    ^C服务器 聊天室关闭, 通知了 1 人  (Ctrl-C: the room closes)
    服务器 退出  (the server exits)

The notes' homework: "进入聊天室需要输入姓名, 姓名不能和已有的重复", "每个人
进入聊天室其他人会收到通知 xxx 进入了聊天室", "一人发言其他人都能收到 xxx 说:
xxxxx", "每个人退出也会通知 xxx 退出了聊天室", "管理员喊话群里都收到 管理员 说:
xxxxx".  Members: ``python -m lab.experiments.chat_member --port PORT``.

Technique, as in the notes' solution: UDP (数据报套接字: each message is
one datagram, messages keep their boundaries, no 粘包), and one dictionary
``user = {name: address}`` on the server.  A request is one datagram whose
first letter says what it is: ``L name`` (login), ``C name text`` (chat),
``Q name`` (quit).  The server answers a login with ``OK`` or the reason
it is refused, and a quit with ``EXIT`` so the member's receiving process
knows it may end.

UDP has no connection, so the server checks who is who by the address
recvfrom gives: ``C name`` and ``Q name`` count only from the address that
logged in as name, ``C 管理员`` only from the server's own address (no
SO_REUSEADDR: no other socket can bind it).  A name is letters, numbers
and signs, nothing invisible or controlling (``L a b``, "管理员\u200b",
"\x1b[31m": 姓名不合法), compared NFKC-normalised; a text loses its
control characters, so a newline cannot start a line "管理员 说: ..." of
its own.

The server forks too: the parent does the requests (recvfrom, sendto to
every address in ``user``); the child is the admin (管理员): it reads lines
from the terminal with input() and sends them to the server's own address
as ``C 管理员 text``, through the same socket it inherited.  So ``ss -uanp``
shows one UDP socket, UNCONN, held by both processes (the same inode in both
fd tables).  Type a line in the server's terminal: every member gets
"管理员 说: ...".  Ctrl-C: the members are told the room closes (EXIT), the
admin is reaped (SIGCHLD handler, waitpid WNOHANG) and the server exits.
"""
import argparse
import os
import signal
import socket
import unicodedata

from lab.report import listening, say, set_role

ADMIN = "管理员"
MAX_NAME = 20        # characters: a name is one word of a datagram
# Letters, numbers, punctuation, symbols.  Not spaces, not control characters
# (Cc: \n would start a line of one's own, \x1b[ recolours the terminal), not
# format characters (Cf: "管理员\u200b" looks like 管理员), not marks (an
# invisible variation selector is one).  What is shown is the name as given;
# compared, it is NFKC-normalised, so a look-alike of a name in use is taken.
NAME_CHARS = "LNPS"
CONTROL = ("Cc", "Cf", "Zl", "Zp")   # in a text: a newline could forge a line "管理员 说: ..."


def valid(name):
    return 0 < len(name) <= MAX_NAME and all(unicodedata.category(c)[0] in NAME_CHARS for c in name)


def same(name):
    """The name as compared: NFKC folds look-alikes (全角 ｘ is x), casefold folds X and x."""
    return unicodedata.normalize("NFKC", name).casefold()


def clean(text):
    """A chat text on one line: control and format characters become spaces."""
    return "".join(" " if unicodedata.category(c) in CONTROL else c for c in text).strip()


def shown(text):
    r"""For the server's log: control characters escaped (\n, \x1b, \u200b), as repr() writes them."""
    return "".join(c.encode("unicode_escape").decode() if unicodedata.category(c) in CONTROL else c
                   for c in text)


def do_login(s, user, name, addr):
    if not valid(name):
        s.sendto("姓名不合法 (not a valid name)".encode(), addr)
        say(f"服务器 姓名 {shown(name)} 不合法, 拒绝 {addr}  (not a valid name: refused)")
        return
    if same(name) in {same(other) for other in (*user, ADMIN)}:
        s.sendto("该用户已存在 (this name is taken)".encode(), addr)
        say(f"服务器 姓名 {name} 已存在, 拒绝 {addr}  (the name is taken: refused)")
        return
    s.sendto(b"OK", addr)
    msg = f"{name} 进入了聊天室"
    for other in user.values():            # everyone else is told, not the newcomer
        s.sendto(msg.encode(), other)
    user[name] = addr
    say(f"服务器 {msg}, 通知其他 {len(user) - 1} 人, 现在 {len(user)} 人  "
        f"(joined from {addr}; the others are told)")


def do_chat(s, user, name, text):
    msg = f"{name} 说: {text}"
    told = 0
    for other, addr in user.items():
        if other != name:                  # the speaker does not get its own line back
            s.sendto(msg.encode(), addr)
            told += 1
    say(f"服务器 转发 (relayed) {msg}  → {told} 人")


def do_quit(s, user, name):
    if name not in user:
        return
    msg = f"{name} 退出了聊天室"
    for other, addr in user.items():
        s.sendto(b"EXIT" if other == name else msg.encode(), addr)
    del user[name]
    say(f"服务器 {msg}, 还有 {len(user)} 人  (left; the others are told)")


def do_request(s):
    """The parent: receive every request and answer it; user is the room."""
    user = {}
    try:
        while True:
            data, addr = s.recvfrom(2048)
            request = data.decode(errors="replace")
            words = request.split(" ", 2)
            say(f"服务器 recvfrom {addr}: {shown(request)}")
            if words[0] == "L":             # "L a b" too: answered 姓名不合法, not left waiting
                do_login(s, user, request[2:], addr)
            elif words[0] == "C" and len(words) == 3 and clean(words[2]):
                if words[1] == ADMIN and addr != s.getsockname():
                    continue                # only the admin process may speak as the admin
                if words[1] == ADMIN or user.get(words[1]) == addr:
                    do_chat(s, user, words[1], clean(words[2]))
            elif words[0] == "Q" and len(words) == 2 and user.get(words[1]) == addr:
                do_quit(s, user, words[1])
    except KeyboardInterrupt:
        for addr in user.values():
            s.sendto(f"{ADMIN} 说: 聊天室关闭了 (the room closes)".encode(), addr)
            s.sendto(b"EXIT", addr)
        say(f"服务器 聊天室关闭, 通知了 {len(user)} 人  (Ctrl-C: the room closes)")


def do_admin(s, addr):
    """The child: the admin types, the room hears it as 管理员 说: ..."""
    set_role("admin")
    # The prompt once, on a line of its own: the room's lines keep coming while the admin
    # types, and a prompt left at the end of the last line would be glued to the next one.
    if os.isatty(0):
        say(f"管理员[{os.getpid()}] 在这个终端输入一行, 回车: 所有人收到 \"管理员 说: ...\"  "
            "(type a line here and press Enter: everyone gets it)")
    try:
        while True:
            text = input().strip()
            if text:
                s.sendto(f"C {ADMIN} {text}".encode(), addr)
    except EOFError:
        say(f"管理员[{os.getpid()}] 输入结束 (stdin closed), 管理员退出")
    except KeyboardInterrupt:
        pass


def reap(sig, frame):
    """SIGCHLD: the admin ended (EOF, Ctrl-C): collect it, no zombie."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        say(f"服务器 收到 SIGCHLD, 回收管理员进程 {pid}, exit status {os.waitstatus_to_exitcode(status)}")


def interrupt(sig, frame):
    raise KeyboardInterrupt     # SIGTERM (kill PID) closes the room as Ctrl-C does


def main():
    parser = argparse.ArgumentParser(description="UDP chat room server: name -> address, relay, admin")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    set_role("server")

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # No SO_REUSEADDR: UDP has no TIME_WAIT to wait out, and with it a second
    # socket could bind this address too and take the room's requests.
    s.bind(("127.0.0.1", args.port))
    addr = s.getsockname()
    say(f"listening on 127.0.0.1:{addr[1]}")
    listening("udp", f"127.0.0.1:{addr[1]}")
    signal.signal(signal.SIGINT, signal.default_int_handler)   # Ctrl-C, even started with &
    signal.signal(signal.SIGCHLD, reap)
    pid = os.fork()
    if pid == 0:                    # the admin: same socket, sends to the server itself
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            do_admin(s, addr)
        finally:
            s.close()
            os._exit(0)
    signal.signal(signal.SIGTERM, interrupt)
    say(f"服务器[{os.getpid()}] 聊天室开始, 管理员进程 {pid} 读终端  "
        "(the room is open; the admin child reads the terminal)")
    try:
        do_request(s)
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        try:
            os.kill(pid, signal.SIGTERM)    # Ctrl-C reached it already; SIGTERM did not
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        s.close()
        say("服务器 退出  (the server exits)")


if __name__ == "__main__":
    main()
