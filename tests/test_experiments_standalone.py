"""Every experiment run as a student runs it: ``python -m lab.experiments.NAME`` in a terminal.

Real processes, real signals, real /proc.  Each run is started in a session of
its own (like a fresh terminal tab), so everything it ever creates carries that
session id, even zombies; the test process is a child subreaper, so whatever is
orphaned is adopted by the test, and ``Run.close`` kills and reaps all of it.
"""
import ctypes
import json
import os
import pty
import re
import select
import signal
import sys
import time

import pytest

from lab import proctree
from tests.helpers import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PR_SET_CHILD_SUBREAPER = 36
ME = os.getpid()


def set_subreaper(on):
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0, os.strerror(ctypes.get_errno())


@pytest.fixture(autouse=True, scope="module")
def subreaper():
    """Orphans of the experiments come to us (not to PID 1), so we can watch and reap them."""
    set_subreaper(True)
    yield
    set_subreaper(False)


def stat(pid):
    """{"state", "ppid", "pgid", "sid"} from /proc/PID/stat, or None if the pid is gone."""
    fields = proctree.stat_fields(pid)
    if fields is None:
        return None
    return {"state": fields[0].decode(), "ppid": int(fields[1]), "pgid": int(fields[2]),
            "sid": int(fields[3])}


def catches(pid, sig):
    """True if the process has a handler for sig (the SigCgt mask in /proc/PID/status)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(mask >> (sig - 1) & 1)


# time.sleep() sleeps in clock_nanosleep() since Python 3.11, in select() before
IN_TIME_SLEEP = ("nanosleep",) if sys.version_info >= (3, 11) else ("poll_schedule_timeout", "do_select")
IN_SELECT = ("poll_schedule_timeout", "do_select")


def blocked_in(pid, *words):
    """True if the process sleeps in a kernel function named like one of words (/proc/PID/wchan).

    Before a test signals a process it waits until it sleeps where the
    script parks it, as a person would: not in the middle of printing.
    """
    try:
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read()
    except OSError:
        return False
    return any(word in wchan for word in words)


def processes():
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = stat(name)
            if st:
                out[int(name)] = st
    return out


class Run:
    """One experiment in a session of its own; output collected line by line."""

    def __init__(self, name, *args, tty=False, events_fd=None):
        argv = [sys.executable, "-m", f"lab.experiments.{name}", *map(str, args)]
        env = dict(os.environ, PYTHONPATH=ROOT, PYTHONIOENCODING="utf-8")
        # A student's terminal has no dashboard event pipe and buffers output by line.
        for var in ("PROCLAB_EVENTS_FD", "PROCLAB_RUN", "PYTHONUNBUFFERED"):
            env.pop(var, None)
        if events_fd is not None:  # ... except when a test plays the dashboard's part
            env["PROCLAB_EVENTS_FD"] = str(events_fd)
        self.lines, self.buf, self.status, self.eof = [], b"", None, False
        if tty:
            # pty.fork: a new session whose controlling terminal is the pty, the
            # program in its foreground group: the keyboard's signals reach it.
            self.pid, self.fd = pty.fork()
            if self.pid == 0:
                try:
                    os.chdir(ROOT)
                    os.execve(argv[0], argv, env)
                finally:
                    os._exit(127)
        else:
            r, w = os.pipe()
            self.pid = os.posix_spawn(argv[0], argv, env, setsid=True, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_DUP2, w, 2)])
            os.close(w)
            self.fd = r
        self.sid = self.pid

    # -- output ------------------------------------------------------------------
    def pump(self, timeout=0.0):
        """Read whatever output is there (waiting up to timeout for some)."""
        if self.eof:
            time.sleep(timeout)
            return
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: every process holding the pty is gone
            data = b""
        if not data:
            self.eof = True
        self.buf += data
        *done, self.buf = self.buf.split(b"\n")
        self.lines += [line.decode().rstrip("\r") for line in done]

    def wait_for(self, pattern, count=1, timeout=10.0):
        """Wait until `count` lines match; return their re.Match objects."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in map(re.compile(pattern).search, self.lines) if m]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} x {pattern!r} not seen in {timeout} s; output:\n" + self.text())
            self.pump(0.05)

    def text(self):
        return "\n".join(self.lines + [self.buf.decode(errors="replace")])

    # -- processes ---------------------------------------------------------------
    def members(self):
        """Every live process (zombies too) in the run's session."""
        return {pid: st for pid, st in processes().items() if st["sid"] == self.sid}

    def reap_adopted(self):
        """Reap the run's orphans that were adopted by us and have exited; return {pid: exit code}."""
        done = {}
        for pid, st in self.members().items():
            if pid != self.pid and st["ppid"] == ME and st["state"] == "Z":
                _, status = os.waitpid(pid, 0)
                done[pid] = os.waitstatus_to_exitcode(status)
        return done

    def poll(self):
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def wait(self, timeout=15.0):
        """Wait for the program itself to exit (reading its output meanwhile); return its exit code."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.pid} still running after {timeout} s; output:\n" + self.text())
            self.pump(0.05)
        return self.status

    def finish(self, timeout=15.0):
        """Wait until the program and everything it created are gone; return the program's exit code."""
        code = self.wait(timeout)
        wait_until(lambda: self.reap_adopted() is not None and not self.members(), timeout=timeout,
                   message=f"processes of the run left: {self.members()}")
        while not self.eof:
            self.pump(0.05)
        return code

    def close(self):
        """Kill and reap everything the run created, whatever happened in the test."""
        deadline = time.monotonic() + 5
        while True:
            members = self.members()
            for pid, st in members.items():
                if st["state"] != "Z":
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self.poll()
            self.reap_adopted()
            if not members and self.status is not None:
                break
            assert time.monotonic() < deadline, f"cannot clean up {members}"
            time.sleep(0.01)
        os.close(self.fd)


@pytest.fixture
def run():
    runs = []

    def start(name, *args, tty=False, events_fd=None):
        runs.append(Run(name, *args, tty=tty, events_fd=events_fd))
        return runs[-1]

    yield start
    for r in runs:
        r.close()


# ---- fork basics, trees and loops ------------------------------------------------

def test_fork_basics(run):
    r = run("fork_basics", "--hold", 3, "--child-hold", 0.5)
    parent = r.wait_for(r"父进程 parent: pid=(\d+) ppid=(\d+) fork\(\) returned (\d+)")[0]
    child = r.wait_for(r"子进程 child:  pid=(\d+) ppid=(\d+) fork\(\) returned (-?\d+)")[0]
    ppid, cpid = int(parent[1]), int(child[1])
    assert ppid == r.pid
    assert int(parent[3]) == cpid          # fork() gave the child's PID to the parent
    assert int(child[3]) == 0              # ... and 0 to the child
    assert int(child[2]) == ppid           # the child's getppid() is the parent's getpid()
    assert stat(cpid)["ppid"] == ppid
    wait_until(lambda: blocked_in(ppid, *IN_TIME_SLEEP))  # in time.sleep()
    os.kill(ppid, signal.SIGUSR1)          # "parent calls wait()"
    r.wait_for(rf"父进程 wait\(\) 回收子进程 {cpid}, exit status 0")
    assert stat(cpid) is None              # reaped long before the parent's hold ends
    assert r.poll() is None
    assert r.finish() == 0


def test_fork_tree_depth2_breadth3(run):
    r = run("fork_tree", "--depth", 2, "--breadth", 3, "--hold", 4)
    found = r.wait_for(r"第 (\d) 层 \(level \d\) (\S+(?: #\S+)?)\s+pid=(\d+) ppid=(\d+)", count=13)
    procs = {int(m[3]): (int(m[1]), m[2], int(m[4])) for m in found}
    assert len(found) == len(procs) == 13
    levels = {pid: level for pid, (level, _, _) in procs.items()}
    assert [pid for pid, level in levels.items() if level == 0] == [r.pid]
    assert sorted(levels.values()) == [0] + [1] * 3 + [2] * 9
    for pid, (level, name, ppid) in procs.items():
        if level:
            assert levels[ppid] == level - 1, (name, pid, ppid)
            assert name.startswith(f"L{level} #")
        else:
            assert name == "root"
        assert sum(1 for _, _, p in procs.values() if p == pid) == (3 if level < 2 else 0)
    # The kernel agrees while they hold: same parents, all alive and sleeping.
    for pid, (level, name, ppid) in procs.items():
        st = stat(pid)
        assert st is not None and st["ppid"] == ppid and st["state"] in "SR", (name, st)
    assert set(r.members()) == set(procs)
    assert r.finish() == 0


def test_fork_loop_makes_2_to_the_n(run):
    r = run("fork_loop", "--n", 3, "--hold", 3)
    found = r.wait_for(r"(根进程 root|子进程 child [PC]+)\s+pid=(\d+) ppid=(\d+) 每轮 fork\(\) 返回 \(gave\): ([PC ]+)$",
                       count=8)
    pids = {int(m[2]): int(m[3]) for m in found}
    assert len(pids) == 8
    assert {m[4].replace(" ", "") for m in found} == {f"{i:03b}".replace("0", "P").replace("1", "C")
                                                     for i in range(8)}
    for pid, ppid in pids.items():
        assert pid == r.pid or ppid in pids
        assert stat(pid)["ppid"] == ppid
    assert r.finish() == 0


# ---- orphans and zombies ---------------------------------------------------------

def test_orphan_is_adopted(run):
    r = run("orphan", "--delay", 1, "--hold", 3, "--every", 0.2)
    child = int(r.wait_for(r"子进程 child: pid=(\d+) ppid=(\d+)")[0][1])
    assert stat(child)["ppid"] == r.pid
    assert r.wait() == 0                               # the parent left without waiting
    wait_until(lambda: stat(child)["ppid"] == ME)      # ... and we, the subreaper, adopted the child
    r.wait_for(rf"孤儿被 {ME} \(\S+\) 收养")
    r.wait_for(rf"子进程 child: pid={child} ppid={ME}")
    wait_until(lambda: stat(child)["state"] == "Z", timeout=10)
    assert r.reap_adopted() == {child: 0}              # the adopter collects the exit status


def test_orphan_parent_exits_now(run):
    r = run("orphan", "--delay", 60, "--hold", 2, "--every", 0.2)
    r.wait_for(r"父进程 parent: pid=")
    child = int(r.wait_for(r"子进程 child: pid=(\d+)")[0][1])
    wait_until(lambda: blocked_in(r.pid, *IN_TIME_SLEEP))
    os.kill(r.pid, signal.SIGUSR1)                     # "parent exits now"
    assert r.wait(timeout=5) == 0
    r.wait_for("parent exits now")
    wait_until(lambda: stat(child)["ppid"] == ME)
    assert r.finish() == 0


def test_zombie_then_wait(run):
    r = run("zombie", "--hold", 3)
    child = int(r.wait_for(r"子进程 child: pid=(\d+) ppid=(\d+) 马上退出, exit\(3\)")[0][1])
    wait_until(lambda: stat(child)["state"] == "Z")
    assert stat(child)["ppid"] == r.pid               # a zombie, still its parent's child
    wait_until(lambda: blocked_in(r.pid, *IN_TIME_SLEEP))
    os.kill(r.pid, signal.SIGUSR1)                     # "parent calls wait()"
    r.wait_for(rf"回收了子进程 {child}, status = 768, os\.WEXITSTATUS\(status\) = 3")
    wait_until(lambda: stat(child) is None)
    assert r.poll() is None                            # the parent sleeps on until --hold
    assert r.finish() == 0


def test_zombie_parent_killed(run):
    r = run("zombie", "--hold", 30)
    child = int(r.wait_for(r"子进程 child: pid=(\d+)")[0][1])
    wait_until(lambda: stat(child)["state"] == "Z")
    os.kill(r.pid, signal.SIGKILL)                     # "kill the parent"
    assert r.wait() == -signal.SIGKILL
    wait_until(lambda: stat(child)["ppid"] == ME)      # the zombie is adopted...
    assert r.reap_adopted() == {child: 3}              # ... and the adopter gets its status


@pytest.mark.parametrize("fix", ["wait", "waitpid", "sigchld_ign", "sigchld_handler", "double_fork"])
def test_zombie_fixes_never_leave_a_zombie(run, fix):
    r = run("zombie_fixes", "--fix", fix, "--children", 3, "--step", 0.2, "--hold", 1.5)
    first_seen = {}    # pid of a Z with a lab parent -> when we first saw it
    adopted = {}       # grandchildren we adopted and reaped -> exit code
    orphans = set()    # processes of the run seen with us as their parent
    deadline = time.monotonic() + 20
    while r.poll() is None or r.members():
        r.pump(0.02)
        now = time.monotonic()
        for pid, st in r.members().items():
            if st["state"] == "Z" and st["ppid"] != ME:
                first_seen.setdefault(pid, now)
                assert now - first_seen[pid] < 0.5, f"{pid} stayed Z:\n{r.text()}"
            if st["ppid"] == ME and pid != r.pid:
                orphans.add(pid)
        adopted.update(r.reap_adopted())
        assert now < deadline, r.text()
    while not r.eof:
        r.pump(0.05)
    assert r.status == 0, r.text()
    workers = r.wait_for(r"(?:子进程|二级子进程) (\d) \(pid (\d+)\) 工作 \d/\d  \((?:child|grandchild) \1 working\)",
                         count=6)
    assert {int(m[1]) for m in workers} == {1, 2, 3}
    if fix in ("wait", "waitpid", "sigchld_handler"):
        reaped = r.wait_for(r"父进程回收子进程 pid=(\d+), exit status (\d)", count=3)
        assert sorted(int(m[2]) for m in reaped) == [1, 2, 3]
    elif fix == "double_fork":
        reaped = r.wait_for(r"父进程回收子进程 pid=(\d+), exit status 0", count=3)
        grandchildren = {int(m[2]) for m in workers}
        assert orphans == grandchildren      # the grandchildren were orphans, adopted by us
        assert adopted == {pid: code for pid, code in
                           ((int(m[2]), int(m[1])) for m in workers)}
    else:
        assert "父进程回收子进程" not in r.text()        # SIG_IGN: the status is lost


# ---- signals: driver and conductor ---------------------------------------------

DRIVER_UP = r"司机\[(\d+)\] 上车, 售票员是 (\d+)"


def settle(driver, conductor):
    """Wait until both sleep in select() (see driver_conductor.nap), as they are
    between two keys typed by a person (not inside a handler's print)."""
    wait_until(lambda: blocked_in(driver, *IN_SELECT) and blocked_in(conductor, *IN_SELECT))


def test_driver_conductor_keyboard(run):
    r = run("driver_conductor", "--hold", 30, tty=True)
    m = r.wait_for(DRIVER_UP)[0]
    driver, conductor = int(m[1]), int(m[2])
    assert driver == r.pid and stat(conductor)["ppid"] == driver
    r.wait_for(rf"售票员\[{conductor}\] 上车")

    os.write(r.fd, b"\x03")   # Ctrl-C: SIGINT to both; only the conductor reacts
    r.wait_for(rf"售票员\[{conductor}\] 收到 SIGINT → 发 SIGUSR1 给司机\[{driver}\]")
    r.wait_for(rf"司机\[{driver}\] 收到 SIGUSR1: 老司机开车了")
    settle(driver, conductor)
    os.write(r.fd, b"\x1c")   # Ctrl-\: SIGQUIT to both; only the conductor reacts
    r.wait_for(rf"售票员\[{conductor}\] 收到 SIGQUIT → 发 SIGUSR2 给司机\[{driver}\]")
    r.wait_for(rf"司机\[{driver}\] 收到 SIGUSR2: 车速有点快，系好安全带")
    settle(driver, conductor)
    os.write(r.fd, b"\x1a")   # Ctrl-Z: SIGTSTP to both; only the driver reacts
    r.wait_for(rf"司机\[{driver}\] 收到 SIGTSTP → 发 SIGUSR1 给售票员\[{conductor}\]")
    r.wait_for(rf"售票员\[{conductor}\] 收到 SIGUSR1: 到站了请下车")
    assert r.finish() == 0

    text = r.text()
    assert text.count("老司机开车了") == 1 and text.count("系好安全带") == 1
    assert "Traceback" not in text
    conductor_off = text.index(f"售票员[{conductor}] 下车")
    driver_off = text.index(f"司机[{driver}] 回收售票员 {conductor} (exit status 0), 司机也下车")
    assert conductor_off < driver_off


def test_driver_conductor_keys_right_at_the_start(run):
    """Ctrl-C the moment the driver is on: the conductor may not be ready yet, but it is not lost."""
    for _ in range(3):
        r = run("driver_conductor", "--hold", 30, tty=True)
        m = r.wait_for(DRIVER_UP, timeout=10)[0]
        os.write(r.fd, b"\x03")
        r.wait_for("老司机开车了")
        settle(int(m[1]), int(m[2]))
        os.write(r.fd, b"\x1a")
        assert r.finish() == 0
        assert "到站了请下车" in r.text()


def test_driver_conductor_alarm_ends_the_ride(run):
    r = run("driver_conductor", "--hold", 1, tty=True)
    conductor = int(r.wait_for(DRIVER_UP)[0][2])
    assert r.finish(timeout=10) == 0
    text = r.text()
    assert "收到 SIGALRM → 发 SIGUSR1 给售票员" in text
    assert text.index(f"售票员[{conductor}] 下车") < text.index("司机也下车")


def test_driver_conductor_signals_to_one_process(run):
    """The dashboard's "to this process, like kill" buttons."""
    r = run("driver_conductor", "--hold", 30, tty=True)
    m = r.wait_for(DRIVER_UP)[0]
    driver, conductor = int(m[1]), int(m[2])
    r.wait_for(rf"售票员\[{conductor}\] 上车")
    os.kill(conductor, signal.SIGINT)
    r.wait_for("老司机开车了")
    settle(driver, conductor)
    os.kill(driver, signal.SIGINT)            # ignored by the driver: nothing happens, it lives
    os.kill(driver, signal.SIGQUIT)
    os.kill(conductor, signal.SIGTSTP)        # ignored by the conductor
    os.kill(conductor, signal.SIGQUIT)
    r.wait_for("系好安全带")
    settle(driver, conductor)                 # both alive and waiting again
    os.kill(driver, signal.SIGTSTP)
    assert r.finish() == 0
    assert r.text().count("老司机开车了") == 1


# ---- semaphore -------------------------------------------------------------------

def test_semaphore_never_more_than_k_holders(run):
    k, n, rounds = 2, 5, 3
    r = run("semaphore", "--k", k, "--n", n, "--hold", 0.3, "--rounds", rounds)
    r.wait_for(r"工作进程 \d acquire\(\)")
    wait_until(lambda: blocked_in(r.pid, "wait"))           # in join()
    os.kill(r.pid, signal.SIGUSR1)                          # "show the value"
    r.wait_for(r"父进程 sem\.get_value\(\): 信号量现在为 ([0-2])  \(semaphore value now \1\)$")
    workers = [pid for pid, st in r.members().items() if st["ppid"] == r.pid]
    assert len(workers) == n                                # plain fork: no helper processes
    ready = wait_until(lambda: [pid for pid in workers if catches(pid, signal.SIGUSR2)])
    os.kill(ready[0], signal.SIGUSR2)                       # "slower"
    r.wait_for(r"工作进程 \d acquire\(\): 信号量减一, 现在为 \d, 持有 0.6 秒")
    assert r.finish(timeout=30) == 0

    holders, most = set(), 0
    for line in r.lines:
        m = re.fullmatch(r"工作进程 (\d) (acquire|release)\(\): 信号量(?:减一, 现在为 (\d), 持有 ([\d.]+) 秒|加一)"
                         r"  \(worker \1 (?:acquired, value now \3, holds it \4 s|released)\)", line)
        if not m:
            continue
        if m[2] == "acquire":
            assert m[1] not in holders and 0 <= int(m[3]) < k
            holders.add(m[1])
        else:
            holders.remove(m[1])
        most = max(most, len(holders))
        assert len(holders) <= k, r.text()
    assert most == k and not holders
    assert sum("acquire()" in line for line in r.lines) == n * rounds
    assert r.lines[-1] == f"父进程: 工作进程全部结束, 信号量的值为 {k}  (all workers done, semaphore value {k})"


# ---- every lab: runs, ends cleanly, reaps, names every process -------------------------

def test_events_name_every_process(run):
    """Under the dashboard each process says who it is: every forked pid sets a role."""
    r_events, w_events = os.pipe()
    os.set_inheritable(w_events, True)
    try:
        r = run("fork_tree", "--depth", 1, "--breadth", 2, "--hold", 0.5, events_fd=w_events)
        d = run("driver_conductor", "--hold", 1, tty=True, events_fd=w_events)
        s = run("semaphore", "--k", 1, "--n", 2, "--hold", 0.1, "--rounds", 1, events_fd=w_events)
        z = run("zombie_fixes", "--fix", "double_fork", "--children", 1, "--step", 0.1, "--hold", 0.5,
                events_fd=w_events)
    finally:
        os.close(w_events)
    for each in (r, d, s, z):
        assert each.finish() == 0
    data = b""
    while True:
        chunk = os.read(r_events, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r_events)
    events = [json.loads(line) for line in data.decode().splitlines()]
    roles = {}
    for e in events:
        if e["kind"] == "role":
            roles[e["pid"]] = e["role"]
    spawned = {e["pid"] for e in events if e["kind"] == "spawned"}
    assert spawned <= set(roles), "a forked process never called set_role"
    names = set(roles.values())
    assert {"root", "L1 #1", "L1 #2", "driver", "conductor", "parent", "worker 1", "worker 2",
            "child 1", "grandchild 1"} <= names
    said = {(e["role"], e["text"].split(" ")[0]) for e in events if e["kind"] == "output"}
    assert ("driver", f"司机[{d.pid}]") in said


# ---- priority --------------------------------------------------------------------

def test_priority_share_follows_nice(run):
    r = run("priority", "--workers", 2, "--step", 9, "--seconds", 4.5)
    r.wait_for(r"worker 2: pid=\d+ nice=9")
    workers = {int(m[1]): int(m[2]) for m in
               (re.fullmatch(r"worker (\d): pid=(\d+) nice=\d", line) for line in r.lines) if m}
    # ps would show RN/SN for the niced worker: field 19 of /proc/PID/stat is its nice
    with open(f"/proc/{workers[2]}/stat", "rb") as f:
        assert int(f.read().rsplit(b")", 1)[1].split()[16]) == 9
    assert r.finish(timeout=30) == 0
    share = {}
    for line in r.lines:
        m = re.fullmatch(r"worker (\d) nice \d+: [\d.]+ s, (\d+)% of the CPU", line)
        if m:
            share.setdefault(int(m[1]), []).append(int(m[2]))
    # one CPU, weights 1024 (nice 0) vs 87 (nice 9): the niced one gets far less
    assert sum(share[1]) > 3 * sum(share[2]), share
    assert r.lines[-1] == "父进程: 全部结束  (all workers done)"
