"""The threads of one process, as `ps -L` lists them: /proc/PID/task/TID.

Stdlib only; procfs.ProcReader calls it on every full read of a process
with more than one thread.  /proc/PID/schedstat is the main thread's alone,
so such a process is read quietly only when every thread's schedstat says
it has not run since (slept()).  Each thread is one task of the
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


def read_tasks(dfd, tids, prev, now, clk_tck, schedstat=False):
    """([{"tid", "name", "state", "wchan", "cpu"}, ...] by TID, cpu state for next time,
    {tid: schedstat} or None).

    dfd: the /proc/PID directory fd; tids: the names in its task/ directory;
    prev: what the last call returned as cpu state, {(tid, starttime): (ticks, t)}
    (a TID reused by a new thread gets a new key).  A thread that exits while
    it is read is left out, as it is from a later `ls task/`.  With schedstat,
    each thread's /proc/PID/task/TID/schedstat is read first (what is read
    after it is at least as new), for slept() to tell later whether it ran;
    None unless every thread was seen asleep in S with a wait channel."""
    out, cpu_state, scheds = [], {}, {} if schedstat else None
    for name in sorted(tids, key=int):
        try:
            if scheds is not None:
                scheds[name] = _read(dfd, f"task/{name}/schedstat")
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
        if scheds is not None and (state != "S" or wchan is None):
            scheds = None       # running, or still on a run queue: no base for quiet reads
    if scheds is not None and len(scheds) != len(out):
        scheds = None           # one exited while read
    return out, cpu_state, scheds


def slept(dfd, scheds):
    """True if no thread of `scheds` ({tid: schedstat}) has run since they were read."""
    for name, before in scheds.items():
        try:
            if _read(dfd, f"task/{name}/schedstat") != before:
                return False
        except OSError as e:
            if e.errno in _GONE:    # exited: the next full read sees it
                return False
            raise
    return True
