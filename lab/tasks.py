"""The threads of one process, as `ps -L` lists them: /proc/PID/task/TID.

Stdlib only; procfs.ProcReader calls it on every full read of a process
with more than one thread.  /proc/PID/schedstat is the main thread's alone,
so such a process is read quietly only when every thread's schedstat and
stat say it has neither run nor been woken since (slept()).  Each thread is one task of the
kernel, with its own TID (`ps -L`'s LWP, what threading.get_native_id()
returns), comm (a thread's name, as `ps -L -o comm` and top -H show it;
Python 3.11 does not give its threads' names to the kernel, so it is
usually the process's), state, wait channel and CPU time.
"""
import errno
import os

_GONE = (errno.ENOENT, errno.ESRCH)


def _read(dfd, path):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dfd)
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def read_tasks(dfd, tids, prev, now, clk_tck, count, schedstat=False):
    """([{"tid", "name", "state", "wchan", "cpu"}, ...] by TID, cpu state for next time,
    {tid: (schedstat, stat)} or None).

    dfd: the /proc/PID directory fd; tids: the names in its task/ directory;
    prev: what the last call returned as cpu state, {(tid, starttime): (ticks, t)}
    (a TID reused by a new thread gets a new key); count: the thread count
    the process's stat gave.  A thread that exits while it is read is left
    out, as it is from a later `ls task/`.  With schedstat, each thread's
    /proc/PID/task/TID/schedstat is read first (what is read after it is at
    least as new), for slept() to tell later whether any has changed; None
    unless every thread was seen asleep in S with a wait channel and the
    threads read are all of them (none came or went while listed and read)."""
    out, cpu_state, scheds = [], {}, {} if schedstat else None
    for name in sorted(tids, key=int):
        try:
            sched = _read(dfd, f"task/{name}/schedstat") if scheds is not None else None
            stat = _read(dfd, f"task/{name}/stat")
            rp = stat.rfind(b")")
            comm = stat[stat.find(b"(") + 1:rp].decode("utf-8", "replace")
            f = stat[rp + 2:].split()
            state = f[0].decode()
            wchan = None
            if state not in "RZX":      # the kernel says 0 for a running task
                try:
                    w = _read(dfd, f"task/{name}/wchan").strip()
                except PermissionError:
                    w = b""
                wchan = w.decode("ascii", "replace") if w not in (b"", b"0") else None
        except OSError as e:
            if e.errno in _GONE:        # the thread exited since the listing
                continue
            raise
        ticks = int(f[11]) + int(f[12])
        key = (int(name), int(f[19]))
        cpu = 0.0
        before = prev.get(key)
        if before and now > before[1]:
            cpu = round((ticks - before[0]) / clk_tck / (now - before[1]) * 100.0, 1)
        cpu_state[key] = (ticks, now)
        out.append({"tid": int(name), "name": comm, "state": state, "wchan": wchan, "cpu": cpu})
        if scheds is not None:
            if state != "S" or wchan is None:
                scheds = None   # running, or still on a run queue: no base for quiet reads
            else:
                scheds[name] = (sched, stat)
    if scheds is not None and not len(scheds) == len(tids) == count:
        scheds = None           # one exited (or another came) while they were listed and read
    return out, cpu_state, scheds


def slept(dfd, scheds):
    """True if no thread of `scheds` ({tid: (schedstat, stat)}) has changed since.

    schedstat moves when a thread has been on a CPU; stat, when it was woken
    and waits for one (R, its schedstat not moved yet), or anything else of
    it changed.  Two small reads per thread, instead of a full read."""
    for name, (sched, stat) in scheds.items():
        try:
            if _read(dfd, f"task/{name}/schedstat") != sched or _read(dfd, f"task/{name}/stat") != stat:
                return False
        except OSError as e:
            if e.errno in _GONE:    # exited: the next full read sees it
                return False
            raise
    return True
