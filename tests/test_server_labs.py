"""socketserver_server and nonblocking_io, for real: under the dashboard and in a terminal.

The dashboard tests start a lab through the REST API (tests/test_socket_labs.py's
``lab`` fixture), add clients with the "add_client" action and check the kernel:
/proc (PPID, /proc/PID/task, wchan, CPU time) and ``ss``.  The standalone
tests run ``python -m lab.experiments.NAME`` in a session of its own
(tests/test_experiments_standalone.py's ``run``) and talk to it with raw
sockets or the lab's clients.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.helpers import free_port, proc_stat, wait_until
from tests.test_experiments_standalone import run, subreaper  # noqa: F401  (fixtures)
from tests.test_socket_labs import ROOT, addr_of, drop_time_wait, lab, lab_env, ss_port  # noqa: F401

EPOLL_WAIT = ("ep_poll", "do_epoll_wait")


def wchan(pid):
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read()
    except OSError:
        return ""


def tasks(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])        # utime + stime


def watch(pid, seconds=0.6):
    """Sample (state, wchan) of a process for a while; also the share of one core it used."""
    ticks, start = cpu_ticks(pid), time.monotonic()
    seen = []
    while time.monotonic() - start < seconds:
        st = proc_stat(pid)
        seen.append((st[0] if st else None, wchan(pid)))
        time.sleep(0.01)
    used = (cpu_ticks(pid) - ticks) / os.sysconf("SC_CLK_TCK")
    return seen, used / (time.monotonic() - start)


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
    seen, share = watch(server)
    assert not [w for _, w in seen if "inet_csk_accept" in w], seen
    assert {state for state, _ in seen} <= {"R", "S"}
    assert any("nanosleep" in w for _, w in seen)   # the pause between two rounds of tries
    assert share < 0.5, f"the loop used {share:.0%} of a core"
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
            seen, share = watch(r.pid, 0.3)
            assert not [w for _, w in seen if "inet_csk_accept" in w] and share < 0.5
        r.wait_for(r"离开了  \(the client left\)")
    os.killpg(r.pid, signal.SIGINT)
    assert r.finish() == 0
    assert "服务器退出" in r.text()
    drop_time_wait(port)
