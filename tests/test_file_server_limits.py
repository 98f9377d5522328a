"""file_server's limits, for real: the library cap under concurrent uploads, the number of
children, idle clients (超时检测), bad sizes and errors answered with ERR, and kill PID in a
terminal ending the children before the library goes.  Run as a student runs it (the ``run``
fixture: a session of its own), checked against /proc and ss.
"""
import os
import signal
import socket
import subprocess

from lab.experiments.file_server import LIBRARY_CAP
from tests.helpers import proc_stat, wait_until
from tests.test_experiments_standalone import run, stat, subreaper  # noqa: F401  (fixtures)

MiB = 1024 * 1024


class Conn:
    """One connection by hand, reading the server's framed replies."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def line(self):
        """The next reply line, or None if the server closed the connection."""
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def ask(self, request):
        self.sock.sendall(request)
        return self.line()

    def names(self):
        """L: the list's body, exactly the size its OK line said (None if refused)."""
        answer = self.ask(b"L\n")
        if not answer.startswith("OK "):
            return None
        size = int(answer[3:])
        while len(self.buf) < size:
            data = self.sock.recv(4096)
            assert data, "closed in the middle of the list"
            self.buf += data
        body, self.buf = self.buf[:size], self.buf[size:]
        return body.decode().split("\n")

    def closed(self):
        """True once the server has closed its end (EOF after what it sent)."""
        return self.buf == b"" and self.sock.recv(4096) == b""

    def close(self):
        self.sock.close()


def start(run, *args):
    server = run("file_server", *args)
    port = int(server.wait_for(r"listening on 127\.0\.0\.1:(\d+)")[0][1])
    library = server.wait_for(r"文件库 \(library\): (\S+)")[0][1]
    return server, port, library


def children_of(pid):
    """The server's live children, as the kernel lists them."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(p) for p in f.read().split()}


def listening(port):
    return subprocess.run(["ss", "-tlnH", f"( sport = :{port} )"], capture_output=True, text=True,
                          check=True).stdout.strip()


def stop(server, port, library):
    os.kill(server.pid, signal.SIGINT)
    assert server.finish() == 0
    assert not os.path.exists(os.path.dirname(library)) and not listening(port)


def test_concurrent_uploads_cannot_pass_the_library_cap(run):
    server, port, library = start(run, "--max-size", 4096)
    held = sum(os.path.getsize(os.path.join(library, f)) for f in os.listdir(library)
               if os.path.isfile(os.path.join(library, f)))
    room = (LIBRARY_CAP - held) // (4 * MiB)                # 3 uploads of 4 MiB fit, not 4
    conns = [Conn(port) for _ in range(room + 3)]
    for i, c in enumerate(conns):                            # all asked before any body is sent
        c.sock.sendall(b"P big%d %d\n" % (i, 4 * MiB))
    answers = [c.line() for c in conns]
    taken = [c for c, a in zip(conns, answers) if a == "OK"]
    assert len(taken) == room, answers
    assert all(a.startswith("ERR 文件库已满") for a in answers if a != "OK"), answers
    # the room is taken on disk before a byte comes: a hidden part file of the full size each
    parts = [f for f in os.listdir(library) if f.endswith(".part")]
    assert len(parts) == room
    assert all(os.path.getsize(os.path.join(library, f)) == 4 * MiB for f in parts)
    for c in taken:
        c.sock.sendall(b"\1" * (4 * MiB))
    assert [c.line() for c in taken] == [f"OK {4 * MiB}"] * room
    files = [f for f in os.listdir(library) if os.path.isfile(os.path.join(library, f))]
    assert not any(f.startswith(".") for f in files)         # no part file left
    assert sum(os.path.getsize(os.path.join(library, f)) for f in files) <= LIBRARY_CAP
    assert sum(f.startswith("big") for f in files) == room
    for c in conns:
        c.close()
    stop(server, port, library)


def test_the_children_are_limited(run):
    server, port, library = start(run, "--max-children", 2)
    first, second = Conn(port), Conn(port)
    kids = [int(m[1]) for m in server.wait_for(r"→ 子进程 (\d+)", count=2)]
    assert children_of(server.pid) == set(kids)
    third = Conn(port)
    assert third.line().startswith("ERR 服务器忙")
    assert third.closed()
    server.wait_for(r"被拒绝: 已有 2 个子进程")
    assert children_of(server.pid) == set(kids)               # no third child was forked
    assert "hello.txt" in first.names()                        # the two served go on
    first.sock.sendall(b"Q\n")
    assert first.closed()
    server.wait_for(rf"回收子进程 {kids[0]}, exit status 0")
    wait_until(lambda: proc_stat(kids[0]) is None, message="the child left a zombie")
    fourth = Conn(port)                                        # a place is free again
    assert "hello.txt" in fourth.names()
    assert len(children_of(server.pid)) == 2
    for c in (first, second, third, fourth):
        c.close()
    stop(server, port, library)


def test_an_idle_client_is_timed_out(run):
    server, port, library = start(run, "--idle", 0.3)
    idle = Conn(port)
    child = int(server.wait_for(r"→ 子进程 (\d+)")[0][1])
    assert children_of(server.pid) == {child}
    # it says nothing: its child's recv() times out (settimeout), says why and closes
    assert idle.line().startswith("ERR 超时")
    assert idle.closed()
    server.wait_for(r"秒没有请求, 超时, 关闭连接")
    server.wait_for(rf"回收子进程 {child}, exit status 0")
    wait_until(lambda: proc_stat(child) is None and not children_of(server.pid),
               message="the idle client's child stays")
    idle.close()
    stop(server, port, library)


def test_bad_sizes_and_errors_are_answered_with_err(run):
    server, port, library = start(run)
    c = Conn(port)
    for size in ("²", "٣", "３", "-1", "1e3"):                  # "²".isdigit(), int("٣") == 3
        assert c.ask(f"P x.txt {size}\n".encode()).startswith("ERR 大小不合法"), size
    assert "x.txt" not in c.names()                            # the child is still there
    (child,) = children_of(server.pid)
    # the library gone under the child: the request is answered, not dropped
    for f in os.listdir(library):
        path = os.path.join(library, f)
        (os.rmdir if os.path.isdir(path) else os.unlink)(path)
    os.rmdir(library)
    assert c.ask(b"L\n") == "ERR 服务器出错 (server error: FileNotFoundError)"
    assert c.closed()
    server.wait_for(rf"回收子进程 {child}, exit status 0")
    assert not os.path.exists(os.path.join(os.path.dirname(library), "x.txt"))
    c.close()
    stop(server, port, library)


def test_sigterm_in_a_terminal_ends_the_children_and_removes_the_library(run):
    server, port, library = start(run)
    conns = [Conn(port) for _ in range(2)]
    kids = {int(m[1]) for m in server.wait_for(r"→ 子进程 (\d+)", count=2)}
    assert children_of(server.pid) == kids and all(stat(k)["ppid"] == server.pid for k in kids)
    os.kill(server.pid, signal.SIGTERM)                        # kill PID: the server alone
    server.wait_for(r"发 SIGTERM 并回收")
    assert server.finish() == 0                                # finish(): nothing of the session left
    assert all(proc_stat(k) is None for k in kids)
    assert all(c.closed() for c in conns)                      # the clients see their connection end
    assert not os.path.exists(library) and not os.path.exists(os.path.dirname(library))
    assert not listening(port)
    for c in conns:
        c.close()
