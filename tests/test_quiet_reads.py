"""Quiet reads: a process that has not run since its last full read is read
from /proc/PID/stat alone (procfs.ProcReader).  Whatever can change while it
sleeps must still be seen at once, exactly as ps shows it; whatever it does
once it runs again must be seen at its next read.
"""
import os
import signal
import socket

import pytest

from lab import procfs, socktable
from tests.helpers import wait_until
from tests.test_procfs_oracle import assert_matches_ps, state_is


def quiet_now(reader, pid, sockets=False):
    """Read until a read of `pid` is quiet (it must go to sleep and stay there)."""
    def one_quiet_read():
        before = reader.quiet_reads
        obj = reader.read(pid, socktable.SocketTable() if sockets else None)
        return obj if reader.quiet_reads > before else None
    return wait_until(one_quiet_read, message=f"pid {pid} was never read quietly")


def fd_count():
    return len(os.listdir("/proc/self/fd"))


def test_a_sleeping_process_is_read_quietly_and_still_matches_ps(family, reader):
    child = family.spawn("ready()\nidle()")
    quiet_now(reader, child.pid)
    full = reader.full_reads
    for _ in range(5):
        assert reader.read(child.pid)["state"] == "S"
    assert reader.full_reads == full, "an idle process was read in full again"
    assert_matches_ps(reader, child.pid)


def test_renice_and_stop_from_outside_are_seen(family, reader):
    child = family.spawn("""
        signal.signal(signal.SIGUSR1, lambda *a: None)
        ready()
        idle()
    """)
    quiet_now(reader, child.pid)
    os.setpriority(os.PRIO_PROCESS, child.pid, 7)        # it does not run for this
    obj = reader.read(child.pid)
    assert (obj["nice"], obj["stat"]) == (7, "SN")
    assert_matches_ps(reader, child.pid)
    os.kill(child.pid, signal.SIGSTOP)
    wait_until(state_is(reader, child.pid, "T"))
    os.kill(child.pid, signal.SIGUSR1)                   # a stopped process only collects it
    assert reader.read(child.pid)["signals"]["pending"] == ["SIGUSR1"]
    assert_matches_ps(reader, child.pid)
    os.kill(child.pid, signal.SIGCONT)                   # now the handler runs
    obj = wait_until(lambda: (o := quiet_now(reader, child.pid)) and not o["signals"]["pending"] and o)
    assert obj["stat"] == "SN"
    assert_matches_ps(reader, child.pid)


def test_blocked_signal_becomes_pending_without_waking(family, reader):
    child = family.spawn("""
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
        ready()
        idle()
    """)
    wait_until(state_is(reader, child.pid, "S"))
    reader.read(child.pid)
    os.kill(child.pid, signal.SIGUSR2)
    obj = reader.read(child.pid)
    assert obj["state"] == "S" and obj["signals"]["pending"] == ["SIGUSR2"]
    assert_matches_ps(reader, child.pid)


def test_new_parent_is_seen_when_the_old_one_dies(family, reader):
    middle = family.spawn("""
        pid = os.fork()
        if pid == 0:
            idle()
        ready(grandchild=pid)
        idle()
    """)
    grandchild = middle.info["grandchild"]
    assert quiet_now(reader, grandchild)["ppid"] == middle.pid
    os.kill(middle.pid, signal.SIGKILL)
    middle.popen.wait()
    # The test process is a subreaper (Family): the orphan comes to it, asleep all along.
    obj = wait_until(lambda: (o := reader.read(grandchild)) and o["ppid"] == os.getpid() and o)
    assert obj["state"] == "S"
    assert_matches_ps(reader, grandchild)


def test_what_a_woken_process_did_is_seen_at_the_next_read(family, reader):
    child = family.spawn("""
        ready()
        sys.stdin.readline()
        signal.signal(signal.SIGUSR2, lambda *a: None)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        ready(port=s.getsockname()[1])
        idle()
    """)
    wait_until(state_is(reader, child.pid, "S"))
    table = socktable.SocketTable()
    before = reader.read(child.pid, table)
    assert before["sockets"] == [] and "SIGUSR2" not in before["signals"]["caught"]
    child.popen.stdin.write(b"go\n")
    child.popen.stdin.flush()
    port = family._ready_line(child.popen, 10)["port"]
    obj = wait_until(lambda: (o := reader.read(child.pid, socktable.SocketTable()))
                     and o["state"] == "S" and o)
    assert "SIGUSR2" in obj["signals"]["caught"]
    assert [(s["laddr"], s["status"]) for s in obj["sockets"]] == [(f"127.0.0.1:{port}", "LISTEN")]
    assert_matches_ps(reader, child.pid)


def test_socket_state_moves_on_while_its_owner_sleeps(family, reader):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    family.on_close(server.close)
    port = server.getsockname()[1]
    child = family.spawn(f"""
        s = socket.create_connection(("127.0.0.1", {port}))
        ready()
        idle()
    """)
    conn, _ = server.accept()
    quiet_now(reader, child.pid, sockets=True)
    assert reader.read(child.pid, socktable.SocketTable())["sockets"][0]["status"] == "ESTABLISHED"
    conn.close()        # the kernel moves the child's end to CLOSE_WAIT; the child sleeps on
    obj = wait_until(lambda: (o := reader.read(child.pid, socktable.SocketTable()))
                     and o["sockets"][0]["status"] == "CLOSE_WAIT" and o)
    assert obj["state"] == "S"


def test_an_auto_reaped_child_leaves_its_sleeping_parents_list(family, reader):
    parent = family.spawn("""
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)    # children reap themselves
        pid = os.fork()
        if pid == 0:
            idle()
        ready(kid=pid)
        idle()
    """)
    kid = parent.info["kid"]
    quiet_now(reader, parent.pid)
    assert reader.children(parent.pid) == [kid]
    os.kill(kid, signal.SIGKILL)
    wait_until(lambda: not os.path.exists(f"/proc/{kid}"))
    obj = reader.read(parent.pid)
    assert obj["state"] == "S" and reader.children(parent.pid) == []


def test_a_quiet_process_is_still_read_in_full_now_and_then(family, reader, monkeypatch):
    monkeypatch.setattr(procfs, "QUIET_REFRESH", 0.0)
    child = family.spawn("ready()\nidle()")
    wait_until(state_is(reader, child.pid, "S"))
    quiet = reader.quiet_reads
    for _ in range(5):
        reader.read(child.pid)
    assert reader.quiet_reads == quiet


@pytest.mark.parametrize("budget", [None, 0])
def test_reader_holds_fds_within_its_budget_and_gives_them_back(family, budget):
    kids = [family.spawn("ready()\nidle()") for _ in range(3)]
    base = fd_count()
    r = procfs.ProcReader(fd_budget=budget if budget is not None else 6)
    for kid in kids:
        assert r.read(kid.pid) is not None
    assert fd_count() - base == (0 if budget == 0 else 6)       # two processes' worth
    os.kill(kids[0].pid, signal.SIGKILL)
    kids[0].popen.wait()
    assert r.read(kids[0].pid) is None                          # held fds: ESRCH, let go
    r.close()
    assert fd_count() == base


def test_unix_socket_of_a_sleeper_needs_no_table_and_stays_exact(family, reader):
    path = os.path.join(family.tempdir(), "s")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()
    family.on_close(server.close)
    child = family.spawn(f"""
        s = socket.socket(socket.AF_UNIX)
        s.connect({path!r})
        ready()
        idle()
    """)
    conn, _ = server.accept()
    quiet_now(reader, child.pid, sockets=True)
    table = socktable.SocketTable()
    quiet = reader.read(child.pid, table)
    assert [s["status"] for s in quiet["sockets"]] == ["ESTABLISHED"]
    assert not table.used, "a quiet process with only a Unix socket made the sampler read a table"
    conn.close()        # /proc/net/unix still says connected: the same as a full read now
    after = reader.read(child.pid, socktable.SocketTable())
    fresh = procfs.ProcReader(fd_budget=0)
    assert after["sockets"] == fresh.read(child.pid, socktable.SocketTable())["sockets"]
    fresh.close()
