"""The capstones, for real: the UDP chat room and the TCP file server, checked against ss and /proc.

Under the dashboard (REST API, tests/test_socket_labs.py's ``lab`` fixture: every stop
leaves no process, no socket on the port) and as a student runs them in terminals.
"""
import os
import signal
import socket
import subprocess

from tests.helpers import proc_stat, wait_until
from tests.test_experiments_standalone import run, stat, subreaper  # noqa: F401  (fixtures)
from tests.test_socket_labs import USERS, lab  # noqa: F401  (fixture)


def udp_sockets(port):
    """[(local address, {(pid, fd)})] of the UDP sockets with this local port, as ss -uanp shows them."""
    lines = subprocess.run(["ss", "-uanpH", f"( sport = :{port} )"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    return [(line.split()[3], {(int(p), int(f)) for p, f in USERS.findall(line)}) for line in lines]


def inode(pid, fd):
    return os.readlink(f"/proc/{pid}/fd/{fd}")      # "socket:[12345]"


def one_socket_shared(port, pids):
    """The one UDP socket on this port is held by exactly these pids, the same inode in each."""
    found = udp_sockets(port)
    if len(found) != 1 or {pid for pid, _ in found[0][1]} != set(pids):
        return None
    return len({inode(pid, fd) for pid, fd in found[0][1]}) == 1 and found[0]


# ---- chat_room under the dashboard ------------------------------------------------------

def test_chat_room_members_two_processes_one_socket(lab):
    rid, server, endpoint = lab.start("chat_room")
    assert endpoint["proto"] == "udp"
    port = int(endpoint["address"].rsplit(":", 1)[1])
    admin = wait_until(lambda: list(lab.role(rid, "admin")))[0]
    assert lab.processes(rid)[admin]["ppid"] == server
    # one server socket, UNCONN, in both the server and its admin child
    wait_until(lambda: one_socket_shared(port, {server, admin}), message=f"server: {udp_sockets(port)}")

    members = {}                    # receiving parent -> (sending child, name)
    for name in ("小明", "小红", "小刚"):
        parent = lab.add_client(rid)
        joined = wait_until(lambda: lab.said(rid, "您已进入聊天室", parent), timeout=8)[0]
        assert f"(joined as {name})" in joined["text"]
        child = wait_until(lambda: [pid for pid, p in lab.role(rid, "client sender").items()
                                    if p["ppid"] == parent])[0]
        members[parent] = (child, name)
    # a taken name is refused: the second member was told once, the third twice
    (second, third) = list(members)[1:]
    assert len(lab.said(rid, "该用户已存在", second)) == 1 and len(lab.said(rid, "该用户已存在", third)) == 2
    assert lab.said(rid, "姓名 小明 已存在, 拒绝", server) and lab.said(rid, "姓名 小红 已存在, 拒绝", server)

    # per member: two processes, one UDP socket (the same inode in both fd tables)
    for parent, (child, name) in members.items():
        here = next(s["laddr"] for s in lab.processes(rid)[parent]["sockets"])
        sock = wait_until(lambda: one_socket_shared(int(here.rsplit(":", 1)[1]), {parent, child}),
                          message=f"{name}: {udp_sockets(int(here.rsplit(':', 1)[1]))}")
        assert sock[0] == here and here.startswith("127.0.0.1:")
    ours = lab.matches_ss(rid)
    assert len({s[3] for s in ours}) == 4 and {s[5] for s in ours} == {"NONE"}   # 4 sockets, 8 fds
    assert len(ours) == 8 and lab.run(rid)["connections"] == []

    # every join told to those already in, and the newcomer's first line relayed to them
    order = list(members)
    for i, parent in enumerate(order):
        for later in order[i + 1:]:
            name = members[later][1]
            wait_until(lambda: lab.said(rid, f"收到 (received): {name} 进入了聊天室", parent))
            wait_until(lambda: lab.said(rid, f"收到 (received): {name} 说: 大家好, 我是{name}", parent))
    assert not lab.said(rid, "小明 进入了聊天室", order[0])        # not told about oneself
    res = lab.client.post(f"/api/runs/{rid}/actions/admin_says")
    assert res.status_code == 200, res.get_json()
    for parent in order:
        wait_until(lambda: lab.said(rid, "收到 (received): 管理员 说: 大家好, 我是管理员", parent))

    # close client: the newest member's sender says Q; the others are told; both processes go
    res = lab.client.post(f"/api/runs/{rid}/actions/close_client")
    assert res.status_code == 200 and res.get_json()["pids"] == [members[third][0]], res.get_json()
    for parent in order[:2]:
        wait_until(lambda: lab.said(rid, "收到 (received): 小刚 退出了聊天室", parent))
    wait_until(lambda: proc_stat(third) is None and proc_stat(members[third][0]) is None,
               message="the member did not leave")
    assert lab.said(rid, "收到 EXIT", third)
    # kill the receiving parent of the first: it passes SIGTERM to its sender, which says Q
    lab.close(order[0])
    wait_until(lambda: proc_stat(members[order[0]][0]) is None)
    wait_until(lambda: lab.said(rid, "收到 (received): 小明 退出了聊天室", order[1]))
    # no zombie stays: each sender is reaped by its receiver (the kernel's word, not a sample's)
    wait_until(lambda: not [pid for pid in lab.processes(rid) if (proc_stat(pid) or ("",))[0] == "Z"],
               message="a zombie stayed")
    assert all(proc_stat(pid) is None for parent in (third, order[0]) for pid in (parent, members[parent][0]))
    lab.stop(rid)


# ---- chat_room in terminals ---------------------------------------------------------------

def test_chat_room_standalone(run):
    server = run("chat_room", tty=True)
    port = int(server.wait_for(r"listening on 127\.0\.0\.1:(\d+)")[0][1])
    admin = int(server.wait_for(r"管理员进程 (\d+) 读终端")[0][1])
    assert stat(admin)["ppid"] == server.pid
    first = run("chat_member", "--port", port, "--every", "0.2")
    first.wait_for(r"您已进入聊天室  \(joined as 小明\)")
    taken = run("chat_member", "--port", port, "--name", "小明")
    taken.wait_for("该用户已存在")
    assert taken.finish() == 1

    # a member typed by a person: asks for a name, reads lines, leaves on "quit"
    typed = run("chat_member", "--port", port, tty=True)
    os.write(typed.fd, "小明\r".encode())
    typed.wait_for(r"小明: 该用户已存在")
    os.write(typed.fd, "阿强\r".encode())
    typed.wait_for(r"您已进入聊天室  \(joined as 阿强\)")
    first.wait_for(r"收到 \(received\): 阿强 进入了聊天室")
    typed.wait_for(r"收到 \(received\): 小明 说: ")
    sender = int(typed.wait_for(r"阿强\[(\d+)\] 发送进程")[0][1])
    parent = int(typed.wait_for(r"阿强\[(\d+)\] 接收进程")[0][1])
    assert stat(sender)["ppid"] == parent == typed.pid
    here = int(typed.wait_for(r"套接字 127\.0\.0\.1:(\d+) → 聊天室")[0][1])
    wait_until(lambda: one_socket_shared(here, {parent, sender}), message=f"{udp_sockets(here)}")
    os.write(typed.fd, "你们好\r".encode())
    first.wait_for(r"收到 \(received\): 阿强 说: 你们好")
    os.write(server.fd, "请大家交作业\r".encode())            # the admin types in the server's terminal
    first.wait_for(r"收到 \(received\): 管理员 说: 请大家交作业")
    typed.wait_for(r"收到 \(received\): 管理员 说: 请大家交作业")
    os.write(typed.fd, b"quit\r")
    first.wait_for(r"收到 \(received\): 阿强 退出了聊天室")
    assert typed.finish() == 0
    server.wait_for(r"阿强 退出了聊天室, 还有 1 人")

    os.write(server.fd, b"\x03")                               # Ctrl-C: the room closes, the member too
    first.wait_for(r"管理员 说: 聊天室关闭了")
    assert first.finish() == 0 and server.finish() == 0
    assert not udp_sockets(port)


# ---- file_server under the dashboard ------------------------------------------------------

class Raw:
    """A connection by hand to the file server, reading its framed replies."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            assert data, "the server closed the connection"
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def ask(self, request):
        self.sock.sendall(request)
        return self.line()

    def close(self):
        self.sock.sendall(b"Q\n")
        self.sock.close()


def test_file_server_a_child_per_client_refuses_bad_names(lab):
    rid, server, endpoint = lab.start("file_server", max_size=64)
    library = wait_until(lambda: lab.said(rid, "文件库 (library): ", server))[0]["text"].split(": ", 1)[1]
    assert sorted(os.listdir(library)) == ["data.bin", "hello.txt", "requirements.txt", "subdir"]
    clients = [lab.add_client(rid) for _ in range(2)]

    def shape():
        procs = lab.processes(rid)
        children = {pid: p for pid, p in procs.items() if p["role"] == "child"}
        if len(children) != 2 or len(procs[server]["sockets"]) != 1:
            return None
        return procs, children
    procs, children = wait_until(shape, message="not two children with their sockets")
    assert [s["status"] for s in procs[server]["sockets"]] == ["LISTEN"]
    assert all(p["ppid"] == server for p in children.values())
    client_addrs = {next(s["laddr"] for s in procs[pid]["sockets"]) for pid in clients}
    for child in children.values():         # each child: exactly one ESTABLISHED socket, to one client
        (sock,) = child["sockets"]
        assert sock["status"] == "ESTABLISHED" and sock["laddr"] == endpoint["address"]
        assert sock["raddr"] in client_addrs
    conns = lab.connections(rid, kind="connection")
    assert {c["client"]["pid"] for c in conns} == set(clients) and {c["server"]["pid"] for c in conns} == set(children)
    lab.matches_ss(rid)

    # each client listed, got data.bin whole, put its file, and stays
    for pid in clients:
        wait_until(lambda: lab.said(rid, "保持连接", pid), timeout=10)
        assert lab.said(rid, "文件列表 (list): data.bin, hello.txt, requirements.txt", pid)   # no subdir
        assert lab.said(rid, "下载完成 (downloaded) data.bin: 131072 字节", pid)
        assert len(lab.said(rid, "/131072 字节 (bytes)", pid)) >= 4     # a line a quarter, as it flowed
        with open(os.path.join(library, f"upload-{pid}.txt"), "rb") as f:
            assert len(f.read()) == 32 * 1024

    # by hand: bad names and sizes are refused, nothing is written outside the library
    raw = Raw(endpoint["address"])
    for request in (b"P ../evil.txt 5\n", b"P sub/evil.txt 5\n", b"P evil\x00.txt 5\n", b"P .hidden 5\n"):
        assert raw.ask(request).startswith("ERR 文件名不合法"), request
    assert raw.ask(b"G ../tftp/hello.txt\n").startswith("ERR 文件名不合法")
    assert raw.ask(b"P big.bin %d\n" % (64 * 1024 + 1)).startswith("ERR 文件太大")
    assert raw.ask(b"P hello.txt 3\n").startswith("ERR 文件已存在")
    assert raw.ask(b"G subdir\n").startswith("ERR 不是普通文件")
    # 粘包 on purpose: request, body and the next request in one send(); the framing sorts them out
    assert raw.ask(b"P glued.txt 5\nhelloL\n") == "OK"
    assert raw.line() == "OK 5"
    size = int(raw.line().split()[1])
    listed = b""
    while len(listed) < size:
        listed += raw.buf or raw.sock.recv(4096)
        raw.buf = b""
    assert b"glued.txt" in listed
    raw.close()
    with open(os.path.join(library, "glued.txt"), "rb") as f:
        assert f.read() == b"hello"
    assert not os.path.exists(os.path.join(os.path.dirname(library), "evil.txt"))
    assert sorted(f for f in os.listdir(library) if f.startswith(".")) == []          # no part file left
    server_said = [e["text"] for e in lab.said(rid, "拒绝 (refused)")]
    assert any("'../evil.txt'" in text for text in server_said)

    # the clients leave: their children exit and are reaped by the server (a Z lasts only until
    # its SIGCHLD handler runs), so none is left
    for pid in clients:
        lab.close(pid)
    wait_until(lambda: not any(info["role"] == "child" for info in lab.processes(rid).values()),
               message="a child outlived its client")
    for pid in children:
        wait_until(lambda: lab.said(rid, f"回收子进程 {pid}, exit status 0", server))
        assert proc_stat(pid) is None
    lab.stop(rid)
    assert not os.path.exists(library) and not os.path.exists(os.path.dirname(library))


# ---- file_server in terminals ---------------------------------------------------------------

def test_file_server_standalone(run, tmp_path):
    server = run("file_server", "--max-size", 8)
    port = int(server.wait_for(r"listening on 127\.0\.0\.1:(\d+)")[0][1])
    library = server.wait_for(r"文件库 \(library\): (\S+)")[0][1]
    auto = run("file_client", "--port", port)
    auto.wait_for("保持连接")
    assert auto.wait_for(r"上传 upload-\d+\.txt: ERR 文件太大")       # 32 KiB over an 8 KiB cap
    auto_child = int(server.wait_for(r"→ 子进程 (\d+)")[0][1])
    assert stat(auto_child)["ppid"] == server.pid
    downloads = auto.wait_for(r"→ (\S+)/data\.bin")[0][1]
    assert os.path.isdir(downloads)

    # a person at the menu
    mine = tmp_path / "mine.txt"
    mine.write_bytes("我的作业\n".encode())
    typed = run("file_client", "--port", port, "--dir", tmp_path, tty=True)
    typed.wait_for("命令选项")
    os.write(typed.fd, b"list\r")
    typed.wait_for(r"文件列表 \(list\): data\.bin, hello\.txt, requirements\.txt$")
    os.write(typed.fd, b"get hello.txt\r")
    typed.wait_for(r"下载完成 \(downloaded\) hello\.txt")
    assert (tmp_path / "hello.txt").read_text() == "hello, 文件服务器\n"
    os.write(typed.fd, f"put {mine}\r".encode())
    typed.wait_for(r"上传完成 \(uploaded\) mine\.txt")
    os.write(typed.fd, f"put {mine} ../evil.txt\r".encode())
    typed.wait_for(r"上传 \.\./evil\.txt: ERR 文件名不合法")
    os.write(typed.fd, b"quit\r")
    assert typed.finish() == 0
    with open(os.path.join(library, "mine.txt"), "rb") as f:
        assert f.read() == mine.read_bytes()
    assert not os.path.exists(os.path.join(os.path.dirname(library), "evil.txt"))

    os.kill(auto.pid, signal.SIGTERM)
    auto.wait_for(r"发送 Q, 关闭套接字, 退出")
    assert auto.finish() == 0 and not os.path.exists(downloads)
    server.wait_for(rf"回收子进程 {auto_child}, exit status 0")
    os.kill(server.pid, signal.SIGINT)
    assert server.finish() == 0
    assert not os.path.exists(library) and not os.path.exists(os.path.dirname(library))
