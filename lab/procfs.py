"""Pure /proc decoding: one process's object, exactly as ps(1) shows it.

Stdlib only.  The rules are procps-ng's (ps/output.c), sockets come from socktable;
tests/test_procfs_oracle.py checks them against the real tools.  Files are
read with bare os.open/os.read (no file objects), through one directory fd
of /proc/PID per process: a PID recycled in the middle of a read cannot mix
two processes, the old directory just answers ENOENT/ESRCH (-> None).
"""
import errno
import os
import resource
import time

from lab import holdings, tasks
from lab.signals import names_in_mask

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


with open("/proc/stat", "rb") as _f:   # btime: what ps adds to start ticks (whole seconds)
    BOOT_TIME = next(int(line.split()[1]) for line in _f if line.startswith(b"btime "))

# errnos meaning "the process is gone (or going)": never an error for us.
_GONE = (errno.ENOENT, errno.ESRCH)
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


# --- STAT ---------------------------------------------------------------------

def stat_flags(state, nice, vmlck_kb, sid, pid, threads, pgrp, tpgid):
    """The STAT column, as procps-ng's pr_stat() builds it (same order).

    No special cases: ps prints "Z" or "Z+" for a zombie, "I<" for a
    high-priority kworker, exactly by these rules.  '+' needs no tpgid != -1
    test: tpgid is -1 without a terminal and a pgrp is never -1.
    `nice` is the raw kernel value (field 19), even for realtime policies.
    """
    return "".join((state,
                    "<" if nice < 0 else "N" if nice > 0 else "",
                    "L" if vmlck_kb else "",        # locked memory
                    "s" if sid == pid else "",      # session leader
                    "l" if threads > 1 else "",     # multi-threaded
                    "+" if pgrp == tpgid else ""))  # in the terminal's foreground group


# --- reading ------------------------------------------------------------------

def _read_at(dfd, name):
    """Whole file `name` under directory fd `dfd`; one read() for small files."""
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dfd)
    try:
        data = os.read(fd, 8192)
        if len(data) == 8192:           # only cmdline or a huge status gets here
            parts = [data]
            while chunk := os.read(fd, 65536):
                parts.append(chunk)
            data = b"".join(parts)
        return data
    finally:
        os.close(fd)


def _status_value(data, key):
    """Text after `key` (e.g. b"\\nSigCgt:") in /proc/PID/status, or None.

    A few bytes.find() calls over ~1.5 kB beat splitting 55 lines."""
    i = data.find(key)
    if i < 0:
        return None
    j = data.find(b"\n", i + len(key))
    return data[i + len(key):j if j >= 0 else None].strip()


def _open_pid_dir(pid):
    return os.open(f"/proc/{pid}", _DIR)


def socket_inodes(pid):
    """{fd: socket inode} of a process; {} if it vanished or hides its fds."""
    try:
        dfd = _open_pid_dir(pid)
        try:
            return holdings.fd_table(dfd, {})[0]
        finally:
            os.close(dfd)
    except OSError:                     # gone, or EACCES on another user's fds
        return {}


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _statm_resident(statm):
    """Resident pages, the second field of /proc/PID/statm (None if gone)."""
    fields = statm.split(None, 2)
    return int(fields[1]) if len(fields) > 1 else None


def _split_cmdline(data):
    if not data:
        return []
    if data.endswith(b"\0"):
        return [a.decode("utf-8", "replace") for a in data[:-1].split(b"\0")]
    # argv was rewritten in place (setproctitle style): no NUL terminator,
    # the words are separated by spaces (psutil does the same).
    return data.decode("utf-8", "replace").split()


# A process that has not been on a CPU since its last full read cannot have
# changed its own fds, dispositions, wait channel or argv: /proc/PID/schedstat
# (run time, wait time, times scheduled in) tells.  It exists with CONFIG_SCHED_INFO
# (Debian, Ubuntu, Fedora kernels); without it every read is a full one.
_HAVE_SCHEDSTAT = os.path.exists("/proc/self/schedstat")
# A few things can still change without the owner running (see ProcReader),
# so every quiet process is read in full at least this often anyway.
QUIET_REFRESH = 5.0
_FILE = os.O_RDONLY | os.O_CLOEXEC
_NOTHING = ()           # no pipes or mappings (not read): the same object every time


class _Kept:
    """What the reader keeps of one process between ticks.

    dfd and fds ({name: fd} of stat, schedstat, statm, status and the main
    thread's children list) are held open and pread() every tick, unless
    the reader's fd budget is spent: then they are None/{} and opened
    afresh each read.  A held fd also pins the process: once it is reaped,
    reads answer ESRCH even if its pid is reused, so a new process is never
    mistaken for it."""
    __slots__ = ("dfd", "fds", "obj", "stat", "sched", "starttime", "rss_pages", "vmlck_kb",
                 "fd_inodes", "kids", "refresh_at", "cpu", "task_cpu", "task_sched",
                 "holds", "holds_gen", "fd_held", "maps_held", "fd_last",
                 "maps", "maps_key", "maps_at")

    def __init__(self):
        self.dfd, self.fds = None, {}
        self.obj = self.stat = self.sched = self.starttime = self.rss_pages = None
        self.fd_inodes = self.cpu = self.maps_key = self.task_sched = None
        self.vmlck_kb, self.kids, self.refresh_at = 0, [], 0.0
        self.task_cpu, self.fd_last = {}, {}
        self.holds, self.maps = [], []      # pipes, /dev/shm files and mappings (holdings.py)
        self.fd_held = self.maps_held = None
        self.holds_gen, self.maps_at = 0, 0.0     # holds_gen: new whenever holds changes

    @property
    def held(self):
        return self.dfd is not None

    @property
    def nfds(self):
        return len(self.fds) + (self.dfd is not None)

    def close(self):
        fds, self.fds = [self.dfd, *self.fds.values()], {}
        self.dfd = None
        for fd in fds:
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def get(self, dfd, name, path=None):
        """Contents of file `name` (at `path` under /proc/PID if not held)."""
        fd = self.fds.get(name)
        if fd is None:
            return _read_at(dfd, path or name)
        data = os.pread(fd, 8192, 0)
        if len(data) == 8192:       # a huge status (thousands of groups): read on
            parts = [data]
            while chunk := os.pread(fd, 65536, sum(map(len, parts))):
                parts.append(chunk)
            data = b"".join(parts)
        return data


def _fd_budget():
    """How many fds the reader may hold: half the soft limit, less a margin."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return max(0, (soft if soft != resource.RLIM_INFINITY else 1 << 20) // 2 - 64)


# The four masks ps shows, in the order and fixed width (%016lx) the kernel
# prints them in /proc/PID/status: one find() instead of four.
_MASK_LINES = ((b"ShdPnd:\t", "pending"), (b"SigBlk:\t", "blocked"),
               (b"SigIgn:\t", "ignored"), (b"SigCgt:\t", "caught"))
_MASK_LINE = 8 + 16 + 1


def _from_status(status):
    """(signals, VmLck kB, VmRSS kB) from /proc/PID/status."""
    # `ps -o pending` is the process-wide (shared) set, ShdPnd; the
    # thread-private SigPnd is `ps -o tsig`, not shown here.
    i = status.find(b"\nShdPnd:\t") + 1
    signals = {}
    for n, (label, key) in enumerate(_MASK_LINES):
        at = i + n * _MASK_LINE
        if i and status[at:at + 8] == label and status[at + 24:at + 25] == b"\n":
            hexdigits = status[at + 8:at + 24]
        else:       # not the layout we know: look the line up
            hexdigits = _status_value(status, b"\n" + label.rstrip()) or b"0"
        signals[key] = names_in_mask(int(hexdigits, 16))

    def kb(key):        # Vm* lines are absent without an mm (zombie, kthread)
        v = _status_value(status, key)
        return int(v.split()[0]) if v else 0

    # VmRSS, as `ps -o rss`; stat's rss field can lag it (recent kernels
    # sum the per-CPU counters only for status).
    return ({"caught": signals["caught"], "ignored": signals["ignored"],
             "blocked": signals["blocked"], "pending": signals["pending"]},
            kb(b"\nVmLck:"), kb(b"\nVmRSS:"))


def signal_masks(pid):
    """{"caught", "ignored", "blocked", "pending"} of pid as signal names; None if gone."""
    try:
        fd = os.open(f"/proc/{pid}/status", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return _from_status(os.read(fd, 65536))[0]
    except OSError:
        return None
    finally:
        os.close(fd)


class ProcReader:
    """Reads one process's object per tick, the children list with it.

    Every read: /proc/PID/schedstat, stat and the children list (and statm
    on a quiet read).  With status, these hold everything another process
    can change while this one sleeps: ppid when the parent dies, nice, pgid,
    tpgid, state, children re-parented to it or reaped by the kernel
    (SIGCHLD ignored), signals left pending, memory reclaimed.

    A full read adds status (the signal masks -- stat's are cut to 31 bits
    --, VmLck, VmRSS), wchan (sleeping or stopped only: the kernel says 0
    for running ones), cmdline when not cached, the fd table (sockets,
    pipes, /dev/shm files: holdings.py) and the /dev/shm mappings when a
    SocketTable is passed, and every thread's state (tasks.py).  A read is
    quiet -- none of these -- when the process has not run since its last
    full read (the same schedstat; for a multi-threaded process, every
    thread's own too: /proc/PID/schedstat is the main thread's) and is
    asleep in S now and then, and that full read saw its wait channel (every
    thread's).  A quiet read that finds stat byte for byte as it was reuses
    the last object without parsing anything.  A quiet read still reads
    status if the process blocks some signal (a blocked signal stays pending
    without waking it), has one pending (a frozen process's is cleared by
    SIGCONT without waking it) or statm's resident moved (memory reclaimed
    from outside; stat's rss field is a per-CPU estimate that can lag by
    hundreds of pages).  Its sockets' states are looked up every tick: the
    connections behind its fds move on, and a socket it shares with a child
    can be bound or connected by the child.

    What a quiet read can miss until the next full one (QUIET_REFRESH):
    what a process sharing its fd table, signal handlers or memory without
    being a thread (clone(CLONE_FILES | CLONE_SIGHAND | CLONE_VM) without
    CLONE_THREAD, which Python programs do not do) changes for it; argv
    written into it through /proc/PID/mem.

    cmdline is cached per (pid, starttime, comm, arg_start, arg_end): exec
    keeps pid and starttime but moves argv (fields 48-49 of stat), and
    usually changes comm, so an exec'd child is never shown with its
    parent's argv.  Those fields read 0 without ptrace access; comm remains.
    """

    def __init__(self, fd_budget=None):
        self._kept = {}         # pid -> _Kept
        self._cmdline = {}      # pid -> (key, argv)
        self._fd_budget = _fd_budget() if fd_budget is None else fd_budget
        self._fds_held = 0
        self.full_reads = self.quiet_reads = 0     # for tests and bench/sampler.py
        self._holds_gen = 0

    def forget(self, pid):
        kept = self._kept.pop(pid, None)
        if kept is not None:
            self._release(kept)
        self._cmdline.pop(pid, None)

    def close(self):
        for pid in list(self._kept):
            self.forget(pid)

    def __del__(self):
        if hasattr(self, "_kept"):
            self.close()

    def children(self, pid, fresh=False):
        """Children of `pid` as of its last read ([] if never read or gone).

        fresh: read them now (lab init's last look for a mid-walk orphan)."""
        kept = self._kept.get(pid)
        if kept is None:
            return []
        if fresh:
            try:
                with _PidDir(pid, kept) as dfd:
                    kept.kids = _children_at(dfd, pid, kept.obj["threads"], kept)
            except OSError as e:
                if e.errno not in _GONE:
                    raise
                return []
        return kept.kids

    def holds(self, pid):
        """The pipes, /dev/shm files and mappings `pid` held at its last full
        read with a SocketTable (holdings.py); [] if not read so.  A quiet read
        keeps them: a process that has not run cannot have opened, closed or
        mapped anything."""
        kept = self._kept.get(pid)
        return kept.holds if kept is not None else []

    def holds_version(self, pid):
        """A number that changes whenever holds(pid) does (None if not kept)."""
        kept = self._kept.get(pid)
        return kept.holds_gen if kept is not None else None

    def read(self, pid, table=None):
        """The process object of `pid`, or None if it is gone.

        `sockets` is filled only when a SocketTable `table` is passed (one
        table per tick serves every process), else [].  After a read,
        children(pid) lists its children."""
        kept = self._kept.get(pid)
        if kept is not None:
            try:
                return self._read(pid, kept, table)
            except OSError as e:
                if e.errno not in _GONE:
                    raise
            self.forget(pid)
            if not kept.held:
                return None
            # A held fd says ESRCH: that process is gone, but this pid was just
            # found in a children list, so it may name a new one: look afresh.
        kept = self._open(pid)
        if kept is None:
            return None
        try:
            obj = self._read(pid, kept, table)
        except OSError as e:
            obj = None
            if e.errno not in _GONE:
                self._release(kept)
                raise
        if obj is None:
            self._release(kept)
            return None
        self._kept[pid] = kept
        return obj

    # -- fds ---------------------------------------------------------------------
    def _open(self, pid):
        """A new _Kept, its fds held if the budget allows; None if pid is gone."""
        kept = _Kept()
        names = {"stat": "stat", "statm": "statm", "status": "status",
                 "children": f"task/{pid}/children"}
        if _HAVE_SCHEDSTAT:
            names["schedstat"] = "schedstat"
        if self._fds_held + 1 + len(names) > self._fd_budget:
            return kept                         # read through fresh opens each time
        try:
            kept.dfd = os.open(f"/proc/{pid}", _DIR)
            for name, path in names.items():
                kept.fds[name] = os.open(path, _FILE, dir_fd=kept.dfd)
        except OSError as e:
            kept.close()
            if e.errno in _GONE:
                return None
            if e.errno in (errno.EMFILE, errno.ENFILE):
                return _Kept()                  # out of fds: read without holding any
            raise
        self._fds_held += kept.nfds
        return kept

    def _release(self, kept):
        self._fds_held -= kept.nfds
        kept.close()

    # -- reading -----------------------------------------------------------------
    def _read(self, pid, kept, table):
        with _PidDir(pid, kept) as dfd:
            sched = None
            if _HAVE_SCHEDSTAT:     # first: anything read after it is at least as new
                sched = kept.get(dfd, "schedstat")
                if sched.split()[2:3] == [b"0"]:
                    sched = None    # never scheduled in?  Scheduler statistics are off.
            stat = kept.get(dfd, "stat")
            if not stat:
                return None
            now, prev, rss_pages = time.monotonic(), kept.obj, None
            # Not run (no thread of it) since a full read that saw it asleep;
            # quiet if it still is (stat, parsed below or the same bytes).
            slept = (sched is not None and sched == kept.sched and prev is not None
                     and prev["state"] == "S" and now < kept.refresh_at
                     and (table is None or kept.fd_inodes is not None)
                     and (prev["threads"] == 1 or kept.task_sched is not None
                          and tasks.slept(dfd, kept.task_sched)))
            # A blocked or pending signal can change status without waking it.
            no_signal = slept and not prev["signals"]["blocked"] and not prev["signals"]["pending"]
            if no_signal and stat == kept.stat:
                rss_pages = _statm_resident(kept.get(dfd, "statm"))
                if rss_pages == kept.rss_pages:
                    # A quiet read (below) of the very same stat: nothing to parse
                    # again.  The same CPU ticks: it used none since.
                    kept.cpu = (kept.cpu[0], now)
                    return self._quiet(pid, dfd, kept, table, dict(prev, cpu=0.0))
            # comm may hold spaces and parentheses: it ends at the LAST ')'.
            rp = stat.rfind(b")")
            name = stat[stat.find(b"(") + 1:rp].decode("utf-8", "replace")
            f = stat[rp + 2:].split()       # f[0] is field 3 (state); field n is f[n-3]
            state = f[0].decode()
            ppid, pgrp, sid, tpgid = int(f[1]), int(f[2]), int(f[3]), int(f[5])
            ticks = int(f[11]) + int(f[12])
            priority, nice, threads = int(f[15]), int(f[16]), int(f[17])
            starttime = int(f[19])
            policy = int(f[38]) if len(f) > 38 else -1

            quiet = slept and state == "S" and threads == prev["threads"] and kept.starttime == starttime
            if quiet and rss_pages is None:     # not read above
                rss_pages = _statm_resident(kept.get(dfd, "statm"))
            if quiet and no_signal and rss_pages == kept.rss_pages:
                # Nothing in status can have changed: an unblocked signal would
                # have woken it (R, or a new schedstat), and its resident set
                # stands still.  A pending one is kept by a frozen (cgroup
                # freezer) process, whose SIGCONT then clears it without waking.
                signals, vmlck_kb, rss = prev["signals"], kept.vmlck_kb, prev["rss"]
            else:
                status = kept.get(dfd, "status")
                if not status:
                    return None
                signals, vmlck_kb, rss_kb = _from_status(status)
                rss = rss_kb * 1024
                kept.vmlck_kb = vmlck_kb
                # statm's resident is VmRSS in pages (the same counters, summed the
                # same way).  What is kept is what is shown: a move after status was
                # read, even one that statm saw before it, makes the next quiet
                # read look at status again.
                kept.rss_pages = rss_kb // _PAGE_KB

            cpu = 0.0
            if kept.cpu and kept.starttime == starttime and now > kept.cpu[1]:
                cpu = round((ticks - kept.cpu[0]) / CLK_TCK / (now - kept.cpu[1]) * 100.0, 1)
            kept.cpu = (ticks, now)
            common = {
                "ppid": ppid, "pgid": pgrp, "sid": sid, "tpgid": tpgid, "name": name,
                "stat": stat_flags(state, nice, vmlck_kb, sid, pid, threads, pgrp, tpgid),
                # ps prints NI only for SCHED_OTHER(0)/SCHED_BATCH(3), else "-": None.
                "nice": nice if policy in (0, 3, -1) else None,
                "priority": priority, "threads": threads, "cpu": cpu,
                "rss": rss, "signals": signals,
            }
            kept.stat = stat
            if quiet:
                return self._quiet(pid, dfd, kept, table, dict(prev, **common))
            else:
                self.full_reads += 1
                obj = self._full(pid, dfd, kept, table, f, name, state, common)
                # Asleep without a wait channel: still on its run queue (about to
                # switch out, or an EEVDF delayed dequeue), so the kernel says 0.
                # The wait channel comes a moment later without the process
                # running again: such a read must not be the base of quiet ones.
                kept.sched = sched if obj["wchan"] is not None or state != "S" else None
                kept.starttime = starttime
                kept.refresh_at = now + QUIET_REFRESH * (1 + (pid % 8) / 16)   # spread them
            kept.obj = obj
            return obj

    def _quiet(self, pid, dfd, kept, table, obj):
        """Finish a quiet read: the sockets' states, the children list."""
        self.quiet_reads += 1
        obj["sockets"] = table.for_fds(kept.fd_inodes) if table is not None and kept.fd_inodes else []
        if obj["tasks"]:            # no thread ran: each as it was, using no CPU
            obj["tasks"] = [dict(task, cpu=0.0) if task["cpu"] else task for task in obj["tasks"]]
            kept.task_cpu = {key: (ticks, kept.cpu[1]) for key, (ticks, _) in kept.task_cpu.items()}
        kept.kids = _children_at(dfd, pid, obj["threads"], kept)
        kept.obj = obj
        return obj

    def _full(self, pid, dfd, kept, table, f, name, state, common):
        starttime = int(f[19])
        argspan = (f[45], f[46]) if len(f) > 46 else None
        wchan = syscall = None
        if state not in "RZX":
            try:
                w = _read_at(dfd, "wchan").strip()
            except PermissionError:     # another user's process without ptrace rights
                w = b""
            wchan = w.decode("ascii", "replace") if w not in (b"", b"0") else None
            if wchan and wchan.split(".")[0] in AMBIGUOUS_WCHAN:   # poll_schedule_timeout.constprop.0
                syscall = _syscall_name(dfd)

        if state in "ZX":
            argv = []               # a zombie has no memory, hence no argv
        else:
            key = (starttime, name, argspan)
            cached = self._cmdline.get(pid)
            if cached and cached[0] == key:
                argv = cached[1]
            else:
                argv = _split_cmdline(_read_at(dfd, "cmdline"))
                self._cmdline[pid] = (key, argv)

        sockets, kept.fd_inodes, held, maps = [], None, _NOTHING, _NOTHING
        if table is not None:
            try:
                kept.fd_inodes, held = holdings.fd_table(dfd, kept.fd_last)
                sockets = table.for_fds(kept.fd_inodes)
                # A mapping comes and goes by mmap/munmap, which nearly always move
                # the virtual size (field 23): maps (tens of kB of text) is read
                # again then, and at the periodic refresh (an munmap and an mmap of
                # the same size in one tick).
                now = time.monotonic()
                if f[20] != kept.maps_key or now - kept.maps_at > QUIET_REFRESH:
                    found = holdings.shared_maps(dfd)
                    kept.maps = kept.maps if found == kept.maps else found
                    kept.maps_key, kept.maps_at = f[20], now
                maps = kept.maps
            except PermissionError:
                pass
        # The same objects as last time (fd_table and the maps check give the very
        # same lists back then): links.py's work for this process can be reused.
        if held is not kept.fd_held or maps is not kept.maps_held:
            kept.fd_held, kept.maps_held = held, maps
            kept.holds = [*held, *maps]
            self._holds_gen += 1            # one count for all: a reused pid never repeats one
            kept.holds_gen = self._holds_gen

        obj = {
            "pid": pid, **common, "cmdline": argv, "state": state,
            "started": BOOT_TIME + starttime / CLK_TCK,
            "wchan": wchan, "syscall": syscall, "sockets": sockets, "tasks": None,
        }
        tids = None
        if common["threads"] > 1:
            tids = _listdir_at(dfd, "task")     # for the children lists too: listed once
            obj["tasks"], kept.task_cpu, scheds = tasks.read_tasks(
                dfd, tids, kept.task_cpu, time.monotonic(), CLK_TCK, common["threads"], schedstat=_HAVE_SCHEDSTAT)
            # The main thread's is the process's schedstat, checked on its own.
            kept.task_sched = {t: v for t, v in scheds.items() if t != str(pid)} if scheds else None
        elif kept.task_cpu or kept.task_sched is not None:
            kept.task_cpu, kept.task_sched = {}, None
        kept.kids = _children_at(dfd, pid, common["threads"], kept, tids)
        return obj


class _PidDir:
    """The /proc/PID directory fd of a kept process: its held one, or opened for this read."""
    __slots__ = ("pid", "kept", "fd")

    def __init__(self, pid, kept):
        self.pid, self.kept, self.fd = pid, kept, None

    def __enter__(self):
        if self.kept.held:
            return self.kept.dfd
        self.fd = os.open(f"/proc/{self.pid}", _DIR)
        return self.fd

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)


def _children_at(dfd, pid, threads, kept, tids=None):
    """Children of every thread of the process whose /proc dir fd is `dfd`
    (tids: its task/ directory, if just listed)."""
    if threads == 1:
        return [int(x) for x in kept.get(dfd, "children", f"task/{pid}/children").split()]
    kids = []
    for tid in tids if tids is not None else _listdir_at(dfd, "task"):
        try:
            kids.extend(int(x) for x in _read_at(dfd, f"task/{tid}/children").split())
        except OSError as e:
            if e.errno not in _GONE:    # a thread that exited mid-walk
                raise
    return kids


def _listdir_at(dfd, name):
    fd = os.open(name, _DIR, dir_fd=dfd)
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


# --- which system call a sleeping process is in -----------------------------------

# Wait channels several system calls share: on 6.x kernels select() and poll()
# both sleep in poll_schedule_timeout, and a terminal read and a TCP recv() both
# in wait_woken.  For those (and only those: it is one more file) the system
# call's number, from /proc/PID/syscall, tells which.
AMBIGUOUS_WCHAN = {"poll_schedule_timeout", "wait_woken"}
_SYSCALLS = {
    "x86_64": {0: "read", 7: "poll", 17: "pread64", 19: "readv", 23: "select", 45: "recvfrom",
               47: "recvmsg", 270: "pselect6", 271: "ppoll"},
    "aarch64": {63: "read", 65: "readv", 67: "pread64", 72: "pselect6", 73: "ppoll",
                207: "recvfrom", 212: "recvmsg"},
}.get(os.uname().machine, {})


def _syscall_name(dfd):
    try:
        data = _read_at(dfd, "syscall").split()
    except OSError:             # no ptrace rights, or gone
        return None
    try:
        return _SYSCALLS.get(int(data[0])) if data else None
    except ValueError:          # "running"
        return None


# --- shared and private memory, on demand ----------------------------------------

_ROLLUP = {b"Rss:": "rss", b"Pss:": "pss", b"Shared_Clean:": "shared", b"Shared_Dirty:": "shared",
           b"Private_Clean:": "uss", b"Private_Dirty:": "uss", b"Private_Hugetlb:": "uss", b"Swap:": "swap"}


def memory(pid, started=None):
    """{"rss", "pss", "uss", "shared", "swap"} in bytes from /proc/PID/smaps_rollup, or None.

    started: the process's start time as its object has it; if the pid now
    names another process (reused since), None.

    psutil's memory_full_info() gives uss, pss and swap by the same sums:
    USS, the pages only this process maps (what killing it would free); PSS,
    its resident pages each divided by how many processes map it; shared,
    the resident pages another process maps too (after fork(), until one
    side writes: copy-on-write).  rss = shared + uss.  The kernel walks
    every page table to answer, so this is read when asked, never per tick."""
    try:
        dfd = _open_pid_dir(pid)
    except OSError:
        return None
    try:                        # through one directory fd: the same process for both reads
        if started is not None:
            stat = _read_at(dfd, "stat")
            if BOOT_TIME + int(stat[stat.rfind(b")") + 2:].split()[19]) / CLK_TCK != started:
                return None
        data = _read_at(dfd, "smaps_rollup")
    except (OSError, IndexError, ValueError):
        return None
    finally:
        os.close(dfd)
    out = {"rss": 0, "pss": 0, "uss": 0, "shared": 0, "swap": 0}
    for line in data.splitlines()[1:]:          # the first line is the address range
        key, _, rest = line.partition(b" ")
        field = _ROLLUP.get(key)
        if field:
            out[field] += int(rest.split()[0]) * 1024
    return out
