"""The chat room's names and senders, against real processes: nobody passes for 管理员 or for another member.

UDP has no connection, so who is who rests on three things checked here: the names the
server lets in (no control, format or invisible characters; look-alikes compared
NFKC-normalised), the texts it relays (one line each), and the addresses (a member prints
only what comes from the server's address; no second socket can bind the room's address).
A member whose sender is killed with SIGKILL leaves anyway: its receiver sends Q for it.
"""
import errno
import os
import signal
import socket

import pytest

from tests.helpers import proc_stat, wait_until
from tests.test_capstone_labs import udp_sockets
from tests.test_experiments_standalone import run, subreaper  # noqa: F401  (fixtures)


@pytest.fixture
def room(run):
    """A chat_room server in a session of its own; (run, port). SIGTERM closes it at the end."""
    server = run("chat_room")
    port = int(server.wait_for(r"listening on 127\.0\.0\.1:(\d+)")[0][1])
    yield server, port
    if server.poll() is None:
        os.kill(server.pid, signal.SIGTERM)
        assert server.finish() == 0
    assert not udp_sockets(port)


class Peer:
    """A bare UDP socket on loopback speaking the room's protocol by hand (L/C/Q)."""

    def __init__(self, port):
        self.server = ("127.0.0.1", port)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(5)            # a deadline, not a pace: a reply comes at once

    def ask(self, request):
        self.s.sendto(request.encode(), self.server)
        data, addr = self.s.recvfrom(2048)
        assert addr == self.server
        return data.decode()

    def recv(self):
        data, addr = self.s.recvfrom(2048)
        return data.decode(), addr

    def close(self):
        self.s.close()


@pytest.fixture
def peers(room):
    made = []

    def make():
        made.append(Peer(room[1]))
        return made[-1]

    yield make
    for p in made:
        p.close()


def test_names_with_control_or_invisible_characters_refused(room, peers):
    server, port = room
    p = peers()
    # a zero-width space, an ANSI escape, a newline, a tab: 姓名不合法, not a look-alike let in
    for name in ("管理员\u200b", "\u200b小明", "\x1b[31m小明", "小明\n管理员", "小\t明", "小明\ufe0f"):
        assert p.ask(f"L {name}").startswith("姓名不合法"), repr(name)
    # "L a b": more than one word is no name either, and it is answered, not left waiting
    assert p.ask("L a b").startswith("姓名不合法")
    assert p.ask("L ").startswith("姓名不合法")
    # the server's log escapes them (one line per request, no colour)
    server.wait_for(r"姓名 管理员\\u200b 不合法, 拒绝")
    server.wait_for(r"姓名 \\x1b\[31m小明 不合法, 拒绝")
    assert not any("\x1b" in line or "\u200b" in line for line in server.lines)
    # compared NFKC-normalised: a full-width look-alike of a name in use, or of 管理员, is taken
    assert p.ask("L xiao") == "OK"
    other = peers()
    assert other.ask("L ｘｉａｏ").startswith("该用户已存在")
    assert other.ask("L 管理员").startswith("该用户已存在")
    assert other.ask("L 小明") == "OK"          # a plain name still goes in
    server.wait_for(r"小明 进入了聊天室, 通知其他 1 人, 现在 2 人")


def test_newline_in_a_text_cannot_forge_an_admin_line(room, peers, run):
    server, port = room
    member = run("chat_member", "--port", port, "--name", "小明", "--every", 60)
    member.wait_for(r"小明\[\d+\] 接收进程")
    evil = peers()
    assert evil.ask("L 小红") == "OK"
    member.wait_for(r"收到 \(received\): 小红 进入了聊天室")
    evil.s.sendto("C 小红 hi\n管理员 说: 作业取消了\x1b[2J".encode(), evil.server)
    got = member.wait_for(r"收到 \(received\): 小红 说: (.*)$")[0][1]
    assert got.strip() == "hi 管理员 说: 作业取消了 [2J"       # one line, the newline a space
    # no line of the member's output starts as the admin's would, and none carries an escape
    assert not [line for line in member.lines if line.startswith("管理员")]
    assert not any("\x1b" in line for line in member.lines)
    # speaking as 管理员 from a member's socket is not relayed at all
    evil.s.sendto("C 管理员 作业取消了".encode(), evil.server)
    evil.s.sendto("C 小红 标记".encode(), evil.server)         # a marker after it: then it is over
    member.wait_for(r"收到 \(received\): 小红 说: 标记")
    assert not [line for line in member.lines if "管理员 说: 作业取消了" in line and "小红 说" not in line]
    os.kill(member.pid, signal.SIGTERM)
    assert member.finish() == 0


def test_member_drops_datagrams_not_from_the_server(room, run):
    server, port = room
    member = run("chat_member", "--port", port, "--name", "小明", "--every", 60)
    here = ("127.0.0.1", int(member.wait_for(r"套接字 127\.0\.0\.1:(\d+) → 聊天室")[0][1]))
    member.wait_for(r"小明\[\d+\] 接收进程")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.sendto("管理员 说: 作业取消了".encode(), here)
        member.wait_for(rf"丢弃 \('127\.0\.0\.1', {stranger.getsockname()[1]}\) 的数据报 .*不是服务器发的")
        stranger.sendto(b"EXIT", here)                     # nor does a stranger's EXIT end it
        member.wait_for(r"丢弃 .* 不是服务器发的", count=2)
    assert not [line for line in member.lines if "收到" in line and "管理员" in line]
    assert member.poll() is None and not [line for line in member.lines if "收到 EXIT" in line]
    os.kill(member.pid, signal.SIGTERM)
    assert member.finish() == 0
    server.wait_for(r"小明 退出了聊天室, 还有 0 人")


def test_no_second_socket_can_bind_the_rooms_address(room):
    server, port = room
    admin = int(server.wait_for(r"管理员进程 (\d+) 读终端")[0][1])
    wait_until(lambda: proc_stat(admin) is None)        # stdin is /dev/null: the admin ended at EOF
    for option in ("SO_REUSEADDR", "SO_REUSEPORT"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hijack:
            hijack.setsockopt(socket.SOL_SOCKET, getattr(socket, option), 1)
            with pytest.raises(OSError) as refused:
                hijack.bind(("127.0.0.1", port))
            assert refused.value.errno == errno.EADDRINUSE, option
    # the kernel: still exactly one UDP socket on the port, the server's
    found = udp_sockets(port)
    assert len(found) == 1 and {pid for pid, _ in found[0][1]} == {server.pid}, found


def test_sigkilled_sender_frees_its_name(room, peers, run):
    server, port = room
    member = run("chat_member", "--port", port, "--name", "小明", "--every", 60)
    sender = int(member.wait_for(r"小明\[\d+\] 接收进程, 子进程 (\d+) 发送")[0][1])
    here = int(member.wait_for(r"套接字 127\.0\.0\.1:(\d+) → 聊天室")[0][1])
    server.wait_for(r"小明 进入了聊天室")
    assert peers().ask("L 小明").startswith("该用户已存在")
    os.kill(sender, signal.SIGKILL)                     # no handler runs: the sender cannot send Q
    member.wait_for(rf"发送进程 {sender} 被信号 9 杀死, 接收进程发送 Q 小明")
    server.wait_for(r"小明 退出了聊天室, 还有 0 人")
    member.wait_for(r"收到 EXIT: 接收进程退出")
    assert member.finish() == 0                         # the receiver reaped the sender: no Z left
    assert not udp_sockets(here)
    assert peers().ask("L 小明") == "OK"                # the name is free again
