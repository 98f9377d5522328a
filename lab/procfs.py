"""Pure /proc decoding: one process's object, exactly as ps(1) shows it.

Stdlib only.  The rules are procps-ng's (ps/output.c), sockets come from socktable;
tests/test_procfs_oracle.py checks them against the real tools.  Files are
read with bare os.open/os.read (no file objects), through one directory fd
of /proc/PID per process: a PID recycled in the middle of a read cannot mix
two processes, the old directory just answers ENOENT/ESRCH (-> None).
"""
import errno
import os
import signal
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


with open("/proc/stat", "rb") as _f:   # btime: what ps adds to start ticks (whole seconds)
    BOOT_TIME = next(int(line.split()[1]) for line in _f if line.startswith(b"btime "))

# errnos meaning "the process is gone (or going)": never an error for us.
_GONE = (errno.ENOENT, errno.ESRCH)
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


# --- signals ------------------------------------------------------------------

def _signal_table():
    """Name of every signal 1..64, as Python's signal.Signals spells them.

    32 and 33 exist in the kernel but glibc keeps them for itself (NPTL's
    cancel and setxid signals); Python has no name for them, glibc calls them
    "Unknown signal 32", gdb "SIG32": so "SIG32"/"SIG33".  Realtime signals
    are named from the C library's SIGRTMIN (34 with glibc), the number a lab
    program uses as signal.SIGRTMIN + 2.
    """
    known = {s.value: s.name for s in signal.Signals}
    rtmin, rtmax = getattr(signal, "SIGRTMIN", 34), getattr(signal, "SIGRTMAX", 64)
    return [None] + [known.get(n) or (f"SIGRTMIN+{n - rtmin}" if rtmin < n < rtmax else f"SIG{n}")
                     for n in range(1, 65)]


_SIGNAMES = _signal_table()


_MASK_NAMES = {}     # mask -> names: a handful of distinct masks recur in every tick


def signal_names(mask):
    """Names of the signals in a kernel mask (bit n-1 = signal n), ascending."""
    names = _MASK_NAMES.get(mask)
    if names is not None:
        return list(names)
    names = _mask_names(mask)
    if len(_MASK_NAMES) < 4096:
        _MASK_NAMES[mask] = tuple(names)
    return names


def _mask_names(mask):
    names = []
    while mask:
        low = mask & -mask
        n = low.bit_length()
        names.append(_SIGNAMES[n] if n < len(_SIGNAMES) else f"SIG{n}")
        mask ^= low
    return names


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


def _fd_socket_inodes(dfd):
    """fd -> socket inode for the open "fd" directory under /proc/PID dir fd."""
    fdd = os.open("fd", _DIR, dir_fd=dfd)
    try:
        out = {}
        for name in os.listdir(fdd):
            try:
                link = os.readlink(name, dir_fd=fdd)
            except OSError as e:
                if e.errno in _GONE:    # fd closed since listdir
                    continue
                raise
            if link.startswith("socket:["):
                out[int(name)] = int(link[8:-1])
        return out
    finally:
        os.close(fdd)


def _open_pid_dir(pid):
    return os.open(f"/proc/{pid}", _DIR)


def socket_inodes(pid):
    """{fd: socket inode} of a process; {} if it vanished or hides its fds."""
    try:
        dfd = _open_pid_dir(pid)
        try:
            return _fd_socket_inodes(dfd)
        finally:
            os.close(dfd)
    except OSError:                     # gone, or EACCES on another user's fds
        return {}


def _split_cmdline(data):
    if not data:
        return []
    if data.endswith(b"\0"):
        return [a.decode("utf-8", "replace") for a in data[:-1].split(b"\0")]
    # argv was rewritten in place (setproctitle style): no NUL terminator,
    # the words are separated by spaces (psutil does the same).
    return data.decode("utf-8", "replace").split()


class ProcReader:
    """Reads one process's object per tick.

    Per call: /proc/PID/stat, /proc/PID/status (VmLck and the signal masks:
    stat's signal fields are cut to 31 bits, so status is unavoidable),
    /proc/PID/wchan only for a sleeping/stopped process (the kernel reports 0
    for running ones anyway), /proc/PID/cmdline only when not cached, and
    /proc/PID/fd only when a SocketTable is passed.

    cmdline is cached per (pid, starttime, comm, arg_start, arg_end): exec
    keeps pid and starttime but moves argv (fields 48-49 of stat), and
    usually changes comm, so an exec'd child is never shown with its
    parent's argv.  Those fields read 0 without ptrace access; comm remains.
    """

    def __init__(self):
        self._cmdline = {}      # pid -> (key, argv)
        self._cpu = {}          # pid -> (starttime, ticks, monotonic)

    def forget(self, pid):
        self._cmdline.pop(pid, None)
        self._cpu.pop(pid, None)

    def read(self, pid, table=None):
        """The process object of `pid`, or None if it is gone.

        `sockets` is filled only when a SocketTable `table` is passed (one
        table per tick serves every process); otherwise it is [] and the
        fds are not read -- the sampler fills sockets itself from
        socket_inodes() and its own per-tick table.
        """
        try:
            dfd = _open_pid_dir(pid)
        except OSError:
            return None
        try:
            return self._read(pid, dfd, table)
        except OSError as e:
            if e.errno in _GONE:
                return None
            raise
        finally:
            os.close(dfd)

    def _read(self, pid, dfd, table):
        stat = _read_at(dfd, "stat")
        if not stat:
            return None
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
        argspan = (f[45], f[46]) if len(f) > 46 else None

        status = _read_at(dfd, "status")
        if not status:
            return None

        def sigs(key):
            return signal_names(int(_status_value(status, key) or b"0", 16))

        def kb(key):        # Vm* lines are absent without an mm (zombie, kthread)
            v = _status_value(status, key)
            return int(v.split()[0]) if v else 0

        vmlck_kb = kb(b"\nVmLck:")
        # `ps -o pending` is the process-wide (shared) set, ShdPnd; the
        # thread-private SigPnd is `ps -o tsig`, not shown here.
        signals = {"caught": sigs(b"\nSigCgt:"), "ignored": sigs(b"\nSigIgn:"),
                   "blocked": sigs(b"\nSigBlk:"), "pending": sigs(b"\nShdPnd:")}

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

        sockets = []
        if table is not None:
            try:
                sockets = table.for_fds(_fd_socket_inodes(dfd))
            except PermissionError:
                pass

        now, prev, cpu = time.monotonic(), self._cpu.get(pid), 0.0
        if prev and prev[0] == starttime and now > prev[2]:
            cpu = round((ticks - prev[1]) / CLK_TCK / (now - prev[2]) * 100.0, 1)
        self._cpu[pid] = (starttime, ticks, now)

        return {
            "pid": pid, "ppid": ppid, "pgid": pgrp, "sid": sid, "tpgid": tpgid,
            "name": name, "cmdline": argv, "state": state,
            "stat": stat_flags(state, nice, vmlck_kb, sid, pid, threads, pgrp, tpgid),
            # ps prints NI only for SCHED_OTHER(0)/SCHED_BATCH(3), else "-": None.
            "nice": nice if policy in (0, 3, -1) else None,
            "priority": priority, "threads": threads, "cpu": cpu,
            # VmRSS, as `ps -o rss`; stat's rss field can lag it (recent
            # kernels sum the per-CPU counters only for status).
            "rss": kb(b"\nVmRSS:") * 1024,
            "started": BOOT_TIME + starttime / CLK_TCK,
            "signals": signals, "wchan": wchan, "syscall": syscall, "sockets": sockets,
        }


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
