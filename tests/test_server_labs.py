"""socketserver_server and nonblocking_io, for real: under the dashboard and in a terminal.

The dashboard tests start a lab through the REST API (tests/test_socket_labs.py's
``lab`` fixture), add clients with the "add_client" action and check the kernel:
/proc (PPID, /proc/PID/task, wchan, state) and ``ss``.  The standalone
tests run ``python -m lab.experiments.NAME`` in a session of its own
(tests/test_experiments_standalone.py's ``run``) and talk to it with raw
sockets or the lab's clients.
"""
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading

import pytest

from tests.helpers import free_port, proc_stat, wait_until
from tests.test_experiments_standalone import ME, catches, run, subreaper  # noqa: F401  (fixtures)
from tests.test_socket_labs import ROOT, addr_of, drop_time_wait, lab, lab_env, ss_port  # noqa: F401

EPOLL_WAIT = ("ep_poll", "do_epoll_wait")


def wchan(pid):
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read()
    except OSError:
        return ""


def full_event_pipe():
    """An event pipe for a lab, the dashboard's part, but already full: the lab's first set_role()
    waits in write() (wchan pipe_write) until drain() reads it, and the test can signal it there."""
    r, w = os.pipe()
    os.set_inheritable(w, True)
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"\n" * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    return r, w


def drain(r):
    """Read the event pipe in a thread until every writer has closed it; the list fills with the events."""
    events = []

    def read():
        data = b""
        while chunk := os.read(r, 65536):
            data += chunk
        os.close(r)
        events.extend(json.loads(x) for x in data.decode().splitlines() if x.strip())
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader, events


def signal_mask(pid, field):
    """A signal mask of /proc/PID/status (SigBlk, ShdPnd, ...) as an int; 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1], 16) for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return 0


def tasks(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def watch(pid, naps=3, timeout=10.0):
    """Sample (state, wchan) of a process until the kernel has shown it asleep in nanosleep (S) `naps`
    times and at least 30 samples were taken: a loop that never paused would never be seen there."""
    seen = []

    def rested():
        st = proc_stat(pid)
        seen.append((st[0] if st else None, wchan(pid)))
        return len(seen) >= 30 and len([1 for state, w in seen if state == "S" and "nanosleep" in w]) >= naps
    wait_until(rested, timeout=timeout, interval=0.01, message=f"{pid} never seen asleep in nanosleep: {seen}")
    return seen


def recv_q(local, peer):
    """Recv-Q of the TCP socket local -> peer, as ss -tn shows it (None if there is none)."""
    out = subprocess.run(["ss", "-tnH"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields[3] == local and fields[4] == peer:
            return int(fields[1])
    return None


def held_sockets(pid, port):
    """[(state, peer)] of the TCP sockets this pid holds on the port (ss -tanp)."""
    out = []
    for line in subprocess.run(["ss", "-tanpH", f"( sport = :{port} )"], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        if f"pid={pid}," in line:
            fields = line.split()
            out.append((fields[0], fields[4]))
    return sorted(out)


# ---- socketserver_server under the dashboard ------------------------------------------

def test_socketserver_forking_has_a_child_per_client(lab):
    rid, server, endpoint = lab.start("socketserver_server", kind="forking")
    port = int(endpoint["address"].rsplit(":", 1)[1])
    clients = [lab.add_client(rid) for _ in range(2)]

    def shape():
        procs = lab.processes(rid)
        children = {pid: p for pid, p in procs.items() if p["role"] == "child"}
        return children if len(children) == 2 and len(procs[server]["sockets"]) == 1 else None
    children = wait_until(shape, message="not a child per client")
    client_addrs = {addr_of(lab, rid, pid) for pid in clients}
    for pid in children:            # the kernel: the server's child, holding its one connection
        assert proc_stat(pid)[1] == server
        ((state, peer),) = held_sockets(pid, port)
        assert state == "ESTAB" and peer in client_addrs
    assert [state for state, _ in held_sockets(server, port)] == ["LISTEN"]    # and nothing else
    lab.matches_ss(rid)

    lab.close(clients[0])           # its child ends and collect_children() reaps it
    gone = wait_until(lambda: [pid for pid in children if proc_stat(pid) is None],
                      message="the child outlived its client")
    assert len(gone) == 1
    wait_until(lambda: lab.said(rid, f"collect_children() 回收子进程 {gone[0]}", server))
    lab.stop(rid)


def test_socketserver_threading_has_a_thread_per_client(lab):
    rid, server, endpoint = lab.start("socketserver_server", kind="threading")
    clients = [lab.add_client(rid) for _ in range(3)]
    wait_until(lambda: tasks(server) == 4, message="not a thread per client (+ the main thread)")
    root = wait_until(lambda: (lambda p: p if p["threads"] == 4 and len(p["sockets"]) == 4 else None)(
        lab.processes(rid)[server]))
    assert "l" in root["stat"]
    assert [pid for pid, p in lab.processes(rid).items() if p["role"] != "client"] == [server]
    assert sorted(s["status"] for s in root["sockets"]) == ["ESTABLISHED"] * 3 + ["LISTEN"]
    lab.matches_ss(rid)
    lab.close(clients[0])
    wait_until(lambda: tasks(server) == 3, message="the client's thread did not end")
    lab.stop(rid)


def test_socketserver_udp_is_one_process_with_one_socket(lab):
    rid, server, endpoint = lab.start("socketserver_server", kind="udp")
    assert endpoint["proto"] == "udp"
    port = int(endpoint["address"].rsplit(":", 1)[1])
    clients = [lab.add_client(rid) for _ in range(2)]
    for pid in clients:
        wait_until(lambda: lab.said(rid, "recvfrom", pid) and lab.said(rid, "收到 (got)", pid))
    assert [pid for pid, p in lab.processes(rid).items() if p["role"] != "client"] == [server]
    assert tasks(server) == 1
    ((state, users),) = ss_port(port, "u")          # one socket on the port, the server's
    assert state == "UNCONN" and [int(pid) for pid, _ in users] == [server]
    ours = lab.matches_ss(rid)
    assert [s[2:] for s in ours if s[0] == server] == [("udp", endpoint["address"], "", "NONE")]
    lab.close(clients[0])
    lab.stop(rid)


# ---- nonblocking_io under the dashboard ------------------------------------------------

def test_nonblocking_never_sleeps_in_accept(lab):
    rid, server, endpoint = lab.start("nonblocking_io", mode="nonblocking")
    wait_until(lambda: lab.said(rid, "accept() → BlockingIOError: [Errno 11]", server))
    client = lab.add_client(rid)
    wait_until(lambda: lab.said(rid, "收到 (received)", client), message="the client was not served")
    seen = watch(server)                            # asleep in nanosleep: the pause between two rounds
    assert not [w for _, w in seen if "inet_csk_accept" in w], seen
    assert {state for state, _ in seen} <= {"R", "S"}
    lab.close(client)
    lab.stop(rid)


def test_timeout_times_out_and_goes_on(lab):
    rid, server, endpoint = lab.start("nonblocking_io", mode="timeout", timeout=0.3)
    wait_until(lambda: len(lab.said(rid, "accept() 超时 (timed out): TimeoutError", server)) >= 2,
               message="accept() did not time out twice")
    assert proc_stat(server)[0] in "RS"
    client = lab.add_client(rid)                    # it talks every 1.5 s: recv() times out in between
    wait_until(lambda: lab.said(rid, "收到 (received)", client))
    wait_until(lambda: lab.said(rid, "recv() 超时 (timed out): 0.3 秒没有收到数据", server))
    wait_until(lambda: "poll_schedule_timeout" in wchan(server))   # settimeout waits in poll()
    lab.close(client)
    lab.stop(rid)


def test_epollet_partial_read_leaves_bytes_and_no_new_event(lab):
    rid, server, endpoint = lab.start("nonblocking_io", mode="epollet", chunk=4)
    host, port = endpoint["address"].rsplit(":", 1)
    wait_until(lambda: lab.said(rid, "EPOLLET=2147483648 (1<<31)", server))
    sock = socket.create_connection((host, int(port)), timeout=5)
    try:
        here = "%s:%d" % sock.getsockname()
        reg = wait_until(lambda: lab.said(rid, "已连接 fd", server))[0]["text"]
        fd = int(re.search(r"已连接 fd (\d+)", reg)[1])
        assert "EPOLLIN | EPOLLRDHUP | EPOLLET): 2147491841 = 0x80002001" in reg
        events = lambda: lab.said(rid, f"ep.poll() → fd {fd} event", server)  # noqa: E731

        sock.sendall(b"0123456789")
        wait_until(lambda: lab.said(rid, "recv(4) 读到 b'0123', 接收缓冲区还剩 6 字节", server))
        assert events()[0]["text"].endswith("event 1 = 0x1 = 0b1 = EPOLLIN")
        # six bytes wait in the kernel, and the server sleeps in epoll_wait: no event for them
        assert wait_until(lambda: recv_q(endpoint["address"], here)) == 6
        wait_until(lambda: proc_stat(server)[0] == "S" and wchan(server).startswith(EPOLL_WAIT))
        assert len(events()) == 1 and recv_q(endpoint["address"], here) == 6

        sock.sendall(b"abcdefgh")                   # new data: a new edge, a new event
        wait_until(lambda: len(events()) == 2)
        wait_until(lambda: lab.said(rid, "recv(4) 读到 b'4567', 接收缓冲区还剩 10 字节", server))
        assert wait_until(lambda: recv_q(endpoint["address"], here) == 10 or None)
    finally:
        sock.close()
    wait_until(lambda: lab.said(rid, "未读的 10 字节丢弃", server))
    lab.stop(rid)


# ---- in a terminal ---------------------------------------------------------------------

def client_run(module, port):
    return subprocess.run([sys.executable, "-m", f"lab.experiments.{module}", "--port", str(port),
                           "--count", "2", "--every", "0.1"], cwd=ROOT, env=lab_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)


def line(sock):
    sock.sendall(b"hello\n")
    return sock.recv(1024).decode()


@pytest.mark.parametrize("kind", ["forking", "threading", "udp"])
def test_socketserver_in_a_terminal(run, kind):
    port = free_port()
    r = run("socketserver_server", "--kind", kind, "--port", port)
    r.wait_for(rf"listening on 127\.0\.0\.1:{port}")
    done = client_run("socketserver_client", port)  # it picks tcp_client or udp_client itself
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("(received): 收到 (got) hello") == 2, done.stdout
    assert ("udp_client" if kind == "udp" else "tcp_client") in done.stdout
    if kind == "udp":
        ((state, users),) = ss_port(port, "u")
        assert state == "UNCONN" and [int(pid) for pid, _ in users] == [r.pid]
        assert set(r.members()) == {r.pid} and tasks(r.pid) == 1
        # no SO_REUSEADDR on the server's UDP socket: another socket cannot bind beside it, even with it
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as intruder:
            intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            with pytest.raises(OSError) as refused:
                intruder.bind(("127.0.0.1", port))
            assert refused.value.errno == errno.EADDRINUSE
    else:
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
        try:
            replies = [line(s) for s in socks]
            if kind == "forking":
                children = {int(re.search(r"子进程\[(\d+)\]", text)[1]) for text in replies}
                assert len(children) == 2 and all(proc_stat(pid)[1] == r.pid for pid in children)
                for pid in children:            # each child: its one connection, no LISTEN copy
                    assert [state for state, _ in held_sockets(pid, port)] == ["ESTAB"]
                assert [state for state, _ in held_sockets(r.pid, port)] == ["LISTEN"]
            else:
                assert tasks(r.pid) == 3 and set(r.members()) == {r.pid}
        finally:
            for s in socks:
                s.close()
        r.wait_for(r"离开了, handle\(\) 返回", count=3)      # the lab's client and our two
    os.killpg(r.pid, signal.SIGINT)                 # Ctrl-C, to the whole foreground group
    assert r.finish() == 0
    assert "服务器退出" in r.text()
    drop_time_wait(port)


def test_socketserver_forking_ends_on_sigint_with_a_client_connected(run):
    port = free_port()
    r = run("socketserver_server", "--kind", "forking", "--port", port)
    r.wait_for(rf"listening on 127\.0\.0\.1:{port}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        child = int(re.search(r"子进程\[(\d+)\]", line(sock))[1])
        os.kill(r.pid, signal.SIGINT)               # kill -INT to the server alone, its client connected
        assert r.wait() == 0                        # server_close() does not wait for the child
        r.wait_for(r"服务器\[\d+\] 服务器退出")
        assert not [row for row in ss_port(port) if row[0] == "LISTEN"]
        # the child goes on with its client, adopted (we are the subreaper), as tcp_fork_server's would
        assert proc_stat(child)[1] == ME
        assert [state for state, _ in held_sockets(child, port)] == ["ESTAB"]
        assert line(sock).startswith("收到 (got) hello")
    finally:
        sock.close()                                # the client leaves: so does its child
    assert r.finish() == 0
    assert proc_stat(child) is None
    drop_time_wait(port)


def test_tcp_client_sigusr1_before_it_connects_does_not_kill(run):
    """select_server's "urgent byte" may come as soon as the dashboard knows the client's role."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]
    r_events, w_events = full_event_pipe()
    try:
        r = run("tcp_client", "--port", port, "--count", 1, events_fd=w_events)
    finally:
        os.close(w_events)
    try:
        # its set_role("client") waits in write() on the full pipe: not connected yet
        wait_until(lambda: "pipe_write" in wchan(r.pid), message="set_role() did not block on the full pipe")
        assert catches(r.pid, signal.SIGUSR1)       # the handler is in place before set_role()
        os.kill(r.pid, signal.SIGUSR1)
    finally:
        reader, events = drain(r_events)
    try:
        r.wait_for(r"带外数据没有发出")              # nothing to send it on yet: said, not killed
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            assert conn.recv(1024) == b"hello 1\n"
            conn.sendall(b"ok")
            assert r.finish() == 0
    finally:
        listener.close()
    reader.join(10)
    assert {e["role"] for e in events if e["pid"] == r.pid} == {"client"}
    drop_time_wait(port)


@pytest.mark.parametrize("mode", ["nonblocking", "timeout", "epollet"])
def test_nonblocking_io_in_a_terminal(run, mode):
    port = free_port()
    r = run("nonblocking_io", "--mode", mode, "--port", port, "--timeout", 0.3)
    r.wait_for(rf"listening on 127\.0\.0\.1:{port}")
    if mode == "epollet":
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            here = "%s:%d" % sock.getsockname()
            r.wait_for(r"EPOLLET\): 2147491841 = 0x80002001")
            sock.sendall(b"0123456789")
            r.wait_for(r"recv\(4\) 读到 b'0123', 接收缓冲区还剩 6 字节")
            assert wait_until(lambda: recv_q(f"127.0.0.1:{port}", here)) == 6
            wait_until(lambda: wchan(r.pid).startswith(EPOLL_WAIT))
            assert len([x for x in r.lines if "ep.poll() → fd" in x]) == 2   # the accept, the data
        finally:
            sock.close()
        # we close with bytes unread by us: a RST, so EPOLLERR | EPOLLHUP come with EPOLLRDHUP
        r.wait_for(r"event \d+ = 0x\w+ = 0b[01]+ = EPOLLIN .*\| EPOLLRDHUP")
        r.wait_for(r"离开了, unregister fd \d+, 未读的 6 字节丢弃")
    else:
        if mode == "timeout":
            r.wait_for(r"accept\(\) 超时 \(timed out\): TimeoutError: timed out", count=2)
        else:
            r.wait_for(r"accept\(\) → BlockingIOError: \[Errno 11\]")
        done = client_run("tcp_client", port)
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("(received): 收到 (got) hello") == 2, done.stdout
        if mode == "nonblocking":
            seen = watch(r.pid)
            assert not [w for _, w in seen if "inet_csk_accept" in w], seen
        r.wait_for(r"离开了  \(the client left\)")
    os.killpg(r.pid, signal.SIGINT)
    assert r.finish() == 0
    assert "服务器退出" in r.text()
    drop_time_wait(port)
