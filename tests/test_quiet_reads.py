"""Quiet reads: a process that has not run since its last full read is read
from schedstat, stat and its children list, and status only if it may have
changed (procfs.ProcReader).
Whatever can change while it sleeps must still be seen at once, exactly as
ps shows it; whatever it does once it runs again must be seen at its next
read.  The full re-read every QUIET_REFRESH seconds is pushed out of reach
here, so it cannot hide a quiet read's mistake, and each check asserts that
the read it judges was a quiet one.
"""
import ctypes
import mmap
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from lab import procfs, socktable
from tests.helpers import wait_until
from tests.procs import fault_in, page_out
from tests.test_procfs_oracle import assert_matches_ps, ps_view, state_is

IS_ROOT = os.geteuid() == 0


@pytest.fixture(autouse=True)
def no_refresh(monkeypatch):
    monkeypatch.setattr(procfs, "QUIET_REFRESH", 3600.0)


def quiet_read(reader, pid, sockets=False):
    """One read of `pid` that must be quiet; its object."""
    before = reader.quiet_reads
    obj = reader.read(pid, socktable.SocketTable() if sockets else None)
    assert reader.quiet_reads == before + 1, f"pid {pid} was read in full: {obj and obj['stat']}"
    return obj


def until_quiet(reader, pid, sockets=False):
    """Read until a read of `pid` is quiet (it must go to sleep and stay there)."""
    def one():
        before = reader.quiet_reads
        obj = reader.read(pid, socktable.SocketTable() if sockets else None)
        return obj if reader.quiet_reads > before else None
    return wait_until(one, message=f"pid {pid} was never read quietly")


def fd_count():
    return len(os.listdir("/proc/self/fd"))


def test_a_sleeping_process_is_read_quietly_and_still_matches_ps(family, reader):
    child = family.spawn("ready()\nidle()")
    until_quiet(reader, child.pid)
    for _ in range(5):
        assert quiet_read(reader, child.pid)["state"] == "S"
    assert_matches_ps(reader, child.pid)


def test_renice_stop_and_pending_from_outside_are_seen(family, reader):
    child = family.spawn("""
        signal.signal(signal.SIGUSR1, lambda *a: None)
        ready()
        idle()
    """)
    until_quiet(reader, child.pid)
    os.setpriority(os.PRIO_PROCESS, child.pid, 7)        # it does not run for this
    obj = quiet_read(reader, child.pid)
    assert (obj["nice"], obj["stat"]) == (7, "SN")
    assert_matches_ps(reader, child.pid)
    os.kill(child.pid, signal.SIGSTOP)
    wait_until(state_is(reader, child.pid, "T"))
    os.kill(child.pid, signal.SIGUSR1)                   # a stopped process only collects it
    assert reader.read(child.pid)["signals"]["pending"] == ["SIGUSR1"]
    assert_matches_ps(reader, child.pid)
    os.kill(child.pid, signal.SIGCONT)                   # now the handler runs
    obj = wait_until(lambda: (o := until_quiet(reader, child.pid)) and not o["signals"]["pending"] and o)
    assert obj["stat"] == "SN"
    assert_matches_ps(reader, child.pid)


def test_blocked_signal_becomes_pending_without_waking(family, reader):
    child = family.spawn("""
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
        ready()
        idle()
    """)
    until_quiet(reader, child.pid)
    os.kill(child.pid, signal.SIGUSR2)
    obj = quiet_read(reader, child.pid)
    assert obj["state"] == "S" and obj["signals"]["pending"] == ["SIGUSR2"]
    assert_matches_ps(reader, child.pid)


def cgroup2_child(name):
    """A new cgroup v2 directory for this test, or pytest.skip if there is none to make."""
    with open("/proc/self/mounts") as f:
        roots = [line.split()[1] for line in f if line.split()[2] == "cgroup2"]
    for root in roots:
        path = os.path.join(root, name)
        try:
            os.mkdir(path)
        except OSError:
            continue
        if os.path.exists(os.path.join(path, "cgroup.freeze")):
            return path
        os.rmdir(path)
    pytest.skip("no cgroup v2 hierarchy this user may write to")


def events(group):
    with open(os.path.join(group, "cgroup.events")) as f:
        return f.read()


def test_pending_signal_of_a_frozen_process_cleared_by_sigcont(family, reader):
    """The cgroup freezer holds a process in S; SIGTSTP to it stays pending, and
    SIGCONT throws it away -- without the process running in between."""
    child = family.spawn("""
        signal.signal(signal.SIGTSTP, lambda *a: None)
        ready()
        idle()
    """)
    group = cgroup2_child(f"proclab-test-{os.getpid()}-{child.pid}")
    try:
        with open(os.path.join(group, "cgroup.procs"), "w") as f:
            f.write(str(child.pid))
        with open(os.path.join(group, "cgroup.freeze"), "w") as f:
            f.write("1")
        wait_until(lambda: "frozen 1" in events(group))
        until_quiet(reader, child.pid)
        os.kill(child.pid, signal.SIGTSTP)
        # It wakes for a moment (R) to find itself frozen, and goes back to S.
        obj = wait_until(lambda: (o := reader.read(child.pid))["state"] == "S"
                         and o["signals"]["pending"] and o)
        assert obj["signals"]["pending"] == ["SIGTSTP"]
        assert_matches_ps(reader, child.pid)
        until_quiet(reader, child.pid)
        os.kill(child.pid, signal.SIGCONT)
        obj = quiet_read(reader, child.pid)
        assert obj["signals"]["pending"] == [] and obj["state"] == "S"
        assert_matches_ps(reader, child.pid)
    finally:
        try:
            with open(os.path.join(group, "cgroup.freeze"), "w") as f:
                f.write("0")
        finally:
            child.popen.kill()              # SIGKILL ends even a frozen process
            child.popen.wait()
            wait_until(lambda: "populated 0" in events(group))
            os.rmdir(group)


def test_new_parent_is_seen_when_the_old_one_dies(family, reader):
    middle = family.spawn("""
        pid = os.fork()
        if pid == 0:
            idle()
        ready(grandchild=pid)
        idle()
    """)
    grandchild = middle.info["grandchild"]
    assert until_quiet(reader, grandchild)["ppid"] == middle.pid
    os.kill(middle.pid, signal.SIGKILL)
    middle.popen.wait()
    # The test process is a subreaper (Family): the orphan comes to it, asleep all along.
    obj = wait_until(lambda: (o := quiet_read(reader, grandchild)) and o["ppid"] == os.getpid() and o)
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
    before = until_quiet(reader, child.pid, sockets=True)
    assert before["sockets"] == [] and "SIGUSR2" not in before["signals"]["caught"]
    child.popen.stdin.write(b"go\n")
    child.popen.stdin.flush()
    port = family._ready_line(child.popen, 10)["port"]
    obj = until_quiet(reader, child.pid, sockets=True)
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
    assert until_quiet(reader, child.pid, sockets=True)["sockets"][0]["status"] == "ESTABLISHED"
    conn.close()        # the kernel moves the child's end to CLOSE_WAIT; the child sleeps on
    wait_until(lambda: quiet_read(reader, child.pid, sockets=True)["sockets"][0]["status"] == "CLOSE_WAIT")


@pytest.mark.parametrize("kind", ["udp", "unix", "tcp"])
def test_a_socket_shared_with_a_child_changes_while_its_owner_sleeps(family, reader, kind):
    """After fork both hold the socket: the child binds or connects it, the parent sleeps."""
    parent = family.spawn("""
        kind = sys.argv[1]
        if kind == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
        elif kind == "unix":
            s = socket.socket(socket.AF_UNIX)
        else:
            s = socket.socket()                  # unbound TCP: in no table yet
        pid = os.fork()
        if pid == 0:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
            signal.sigwait({signal.SIGUSR1})
            if kind == "udp":
                s.connect(("127.0.0.1", 9))
            elif kind == "unix":
                s.bind("\\0proclab-test-%d" % os.getpid())
                s.listen()
            else:
                s.bind(("127.0.0.1", 0))
                s.listen()
            print("done", flush=True)
            idle()
        ready(kid=pid)
        idle()
    """, kind)
    until_quiet(reader, parent.pid, sockets=True)
    os.kill(parent.info["kid"], signal.SIGUSR1)
    assert parent.popen.stdout.readline() == b"done\n"
    obj = quiet_read(reader, parent.pid, sockets=True)
    fresh = procfs.ProcReader(fd_budget=0)
    assert obj["sockets"] == fresh.read(parent.pid, socktable.SocketTable())["sockets"]
    fresh.close()
    assert obj["sockets"] and obj["sockets"][0]["status"] == ("ESTABLISHED" if kind == "udp" else "LISTEN")


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
    until_quiet(reader, parent.pid)
    assert reader.children(parent.pid) == [kid]
    os.kill(kid, signal.SIGKILL)
    wait_until(lambda: not os.path.exists(f"/proc/{kid}"))
    quiet_read(reader, parent.pid)
    assert reader.children(parent.pid) == []


@pytest.mark.skipif(not (IS_ROOT and shutil.which("nsenter")), reason="needs root and nsenter")
def test_a_sleeping_pid_namespace_init_adopts_an_orphan(reader):
    """The orphan goes to the reaper of its own namespace, which sleeps and had no child."""
    code = textwrap.dedent(r"""
        import ctypes, os, sys
        if ctypes.CDLL(None, use_errno=True).unshare(0x20000000) != 0:    # CLONE_NEWPID
            print("no", flush=True); sys.exit()
        pid = os.fork()
        if pid == 0:                # pid 1 of the new namespace: sleeps, never forks
            sys.stdin.buffer.read()
            os._exit(0)
        print(pid, flush=True)
        sys.stdin.buffer.read()
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    """)
    host = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        line = host.stdout.readline().strip()
        if not line.isdigit():
            pytest.skip("cannot create a pid namespace here")
        init = int(line)
        until_quiet(reader, init)
        assert reader.children(init) == []
        subprocess.run(["nsenter", "-t", str(init), "-p", "--", "sh", "-c",
                        "sleep 600 >/dev/null 2>&1 & exit 0"], check=True)
        kids = wait_until(lambda: quiet_read(reader, init) and reader.children(init))
        assert kids == [int(x) for x in open(f"/proc/{init}/task/{init}/children").read().split()]
    finally:
        host.stdin.close()          # its init dies, and takes the namespace's sleep with it
        host.wait(10)


@pytest.mark.parametrize("pages", [1024, 8])
def test_memory_paged_out_from_outside_is_seen(family, reader, tmp_path, pages):
    """process_madvise(MADV_PAGEOUT) shrinks a sleeper's VmRSS without it running.

    8 pages is less than a per-CPU counter batch: stat's rss field does not
    move for it, statm's resident (which the reader compares) does."""
    path = tmp_path / "pages"
    with open(path, "wb") as f:
        f.write(b"x" * pages * mmap.PAGESIZE)
        # MADV_PAGEOUT skips a page under writeback, and a machine that has just
        # written a lot (CI after apt) may start it at any moment: clean pages only.
        os.fsync(f.fileno())
    child = family.spawn("""
        import mmap
        f = open(sys.argv[1], "r+b")
        m = mmap.mmap(f.fileno(), int(sys.argv[2]) * mmap.PAGESIZE)
        touched = sum(m[i * mmap.PAGESIZE] for i in range(int(sys.argv[2])))
        ready(addr=ctypes.addressof(ctypes.c_char.from_buffer(m)))
        idle()
    """, path, pages)
    before = until_quiet(reader, child.pid)

    if not page_out(child.pid, child.info["addr"], pages * mmap.PAGESIZE):
        pytest.skip(f"process_madvise: {os.strerror(ctypes.get_errno())}")

    def paged_out():
        obj = quiet_read(reader, child.pid)
        assert obj["rss"] // 1024 == ps_view(child.pid)["rss"]     # every read, not just the last
        if before["rss"] - obj["rss"] >= pages * mmap.PAGESIZE // 2:
            return obj
        # pages the kernel could not isolate this time (still in a CPU's LRU batch,
        # or locked) are offered again
        page_out(child.pid, child.info["addr"], pages * mmap.PAGESIZE)
    wait_until(paged_out)


def test_memory_moving_while_it_is_read_is_not_missed(family, reader, tmp_path, monkeypatch):
    """Its resident set drops (seen in statm), grows between the statm and the
    status reads, and drops back: the next quiet read must see the drop, so
    the count the reader keeps is the one it shows, not statm's."""
    for name in "abc":
        (tmp_path / name).write_bytes(b"x" * mmap.PAGESIZE)
    child = family.spawn("""
        import mmap
        files = [open(os.path.join(sys.argv[1], n), "r+b") for n in "abc"]
        maps = [mmap.mmap(f.fileno(), mmap.PAGESIZE) for f in files]
        touched = maps[0][0] + maps[1][0]               # c is mapped, not yet resident
        ready(c=ctypes.addressof(ctypes.c_char.from_buffer(maps[2])))
        idle()
    """, tmp_path)
    page = mmap.PAGESIZE
    r0 = until_quiet(reader, child.pid)["rss"]
    os.truncate(tmp_path / "a", 0)                      # one page less
    real_get = procfs._Kept.get

    def get(kept, dfd, name, path=None):
        if name == "status":
            monkeypatch.setattr(procfs._Kept, "get", real_get)
            assert fault_in(child.pid, child.info["c"], page)   # one page more, after statm was read
        return real_get(kept, dfd, name, path)
    monkeypatch.setattr(procfs._Kept, "get", get)
    assert quiet_read(reader, child.pid)["rss"] == r0
    assert procfs._Kept.get is real_get, "status was not read"
    os.truncate(tmp_path / "c", 0)                      # one page less again
    obj = quiet_read(reader, child.pid)
    assert obj["rss"] == r0 - page
    assert obj["rss"] // 1024 == ps_view(child.pid)["rss"]


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
    per_process = 5 + procfs._HAVE_SCHEDSTAT    # /proc/PID, stat, statm, status, children, schedstat
    r = procfs.ProcReader(fd_budget=budget if budget is not None else 2 * per_process)
    for kid in kids:
        assert r.read(kid.pid) is not None
    assert fd_count() - base == (0 if budget == 0 else 2 * per_process)   # two processes' worth
    os.kill(kids[0].pid, signal.SIGKILL)
    kids[0].popen.wait()
    assert r.read(kids[0].pid) is None                          # held fds: ESRCH, let go
    r.close()
    assert fd_count() == base


def test_out_of_fds_the_reader_still_reads(family):
    """EMFILE while opening a process's fds to hold: it is read without holding them."""
    child = family.spawn("ready()\nidle()")
    code = textwrap.dedent(f"""
        import os, resource
        from lab import procfs
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        r = procfs.ProcReader(fd_budget=1000)
        hog = []
        while True:
            try:
                hog.append(os.open("/dev/null", os.O_RDONLY))
            except OSError:
                break
        for fd in hog[-3:]:          # room to read, not to hold six
            os.close(fd)
        obj = r.read({child.pid})
        print(obj and obj["pid"], r.read({child.pid}) and "again")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), timeout=30)
    assert out.stdout.split() == [str(child.pid), "again"], out.stderr


def test_a_sleeping_multithreaded_process_is_read_quietly_until_a_thread_runs(family, reader):
    """Its schedstat is the main thread's: every thread's own must say it has not run."""
    child = family.spawn("""
        r, w = os.pipe()
        kids = []
        def reader_thread():
            os.read(r, 1)                    # asleep in a pipe read until the test writes
            kids.append(os.fork() or os._exit(0))
            time.sleep(60)
        threading.Thread(target=reader_thread, daemon=True).start()
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        while len(os.listdir("/proc/self/task")) < 3:
            time.sleep(0.01)
        ready(w=w)
        idle()
    """)
    obj = until_quiet(reader, child.pid)
    assert len(obj["tasks"]) == 3 and all(t["state"] == "S" and t["cpu"] == 0.0 for t in obj["tasks"])
    assert [t["tid"] for t in quiet_read(reader, child.pid)["tasks"]] == \
        sorted(int(t) for t in os.listdir(f"/proc/{child.pid}/task"))
    assert_matches_ps(reader, child.pid)
    # Only the reading thread wakes (the main one sleeps on in its stdin read): the
    # next read is a full one, and it sees the child that thread forked.
    fd = os.open(f"/proc/{child.pid}/fd/{child.info['w']}", os.O_WRONLY)
    os.write(fd, b"x")
    os.close(fd)
    def forked():
        before = reader.full_reads
        obj = reader.read(child.pid)
        return reader.children(child.pid) and reader.full_reads > before and obj
    wait_until(forked, message="the thread's fork was not seen by a full read")


@pytest.mark.skipif(not IS_ROOT or len(os.sched_getaffinity(0)) < 2, reason="needs root (SCHED_FIFO) and 2 CPUs")
def test_a_thread_woken_but_waiting_for_a_cpu_is_seen_at_once(family, reader):
    """Woken, it is R on a run queue before its schedstat moves: its stat tells."""
    cpu = sorted(os.sched_getaffinity(0))[-1]
    child = family.spawn(f"""
        os.sched_setaffinity(0, {{{cpu}}})
        r, w = os.pipe()
        t = threading.Thread(target=lambda: [os.read(r, 1) for _ in iter(int, 1)], daemon=True)
        t.start()
        while len(os.listdir("/proc/self/task")) < 2:
            time.sleep(0.01)
        ready(w=w, tid=t.native_id)
        idle()
    """)
    until_quiet(reader, child.pid)
    hog = family.spawn(f"""
        os.sched_setaffinity(0, {{{cpu}}})
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
        ready()
        end = time.monotonic() + 1.0                # bounded: the RT throttle leaves 5% anyway
        while time.monotonic() < end:
            pass
        os._exit(0)
    """)
    fd = os.open(f"/proc/{child.pid}/fd/{child.info['w']}", os.O_WRONLY)
    os.write(fd, b"x")
    os.close(fd)
    with open(f"/proc/{child.pid}/task/{child.info['tid']}/stat") as f:
        kernel = f.read().rsplit(")", 1)[1].split()[0]
    shown = {t["tid"]: t["state"] for t in reader.read(child.pid)["tasks"]}[child.info["tid"]]
    hog.popen.wait(timeout=10)
    assert kernel == "R" and shown == "R"


def test_threads_that_came_or_went_while_read_are_no_base_for_quiet_reads(family):
    from lab import tasks
    child = family.spawn("""
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        while len(os.listdir("/proc/self/task")) < 2:
            time.sleep(0.01)
        ready()
        idle()
    """)
    dfd = os.open(f"/proc/{child.pid}", os.O_RDONLY | os.O_DIRECTORY)
    try:
        tids = os.listdir(f"/proc/{child.pid}/task")
        *_, scheds = tasks.read_tasks(dfd, tids, {}, 0.0, 100, 2, schedstat=True)
        assert scheds is not None and set(scheds) == set(tids)
        gone = str(2 ** 22 + 7)                      # listed, then gone before it was read
        listed, *_ = tasks.read_tasks(dfd, tids + [gone], {}, 0.0, 100, 3, schedstat=True)
        assert len(listed) == 2 and tasks.read_tasks(dfd, tids + [gone], {}, 0.0, 100, 3, schedstat=True)[2] is None
        assert tasks.read_tasks(dfd, tids, {}, 0.0, 100, 3, schedstat=True)[2] is None   # one not listed
    finally:
        os.close(dfd)
