"""Walk the process tree below one process, from /proc alone.

The kernel lists each thread's children in /proc/PID/task/TID/children, so the
tree under lab init costs one small read per lab process, however many other
processes the machine runs (scanning every /proc/*/stat would not).
"""
import os
import signal


def children(pid, threads=None):
    """Direct children of pid (of any of its threads); [] if it is gone.

    With threads == 1 (known from a sample) the task directory need not be listed."""
    kids = []
    try:
        tids = [pid] if threads == 1 else os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                kids.extend(int(x) for x in f.read().split())
        except OSError:
            pass  # thread or process went away mid-walk: normal
    return kids


def descendants(pid):
    """Every process below pid, parents before their children."""
    out = []
    todo = [pid]
    while todo:
        for kid in children(todo.pop()):
            out.append(kid)
            todo.append(kid)
    return out


def environ_value(pid, name):
    """One variable of a process's initial environment, or None (gone, zombie, not set)."""
    prefix = name.encode() + b"="
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read()
    except OSError:
        return None
    for item in env.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix):].decode(errors="replace")
    return None


def stat_fields(pid):
    """/proc/PID/stat split after the comm, so index 0 is the state letter; None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2:].split()


def start_ticks(pid):
    """Start time in clock ticks since boot: with the pid, a process's identity."""
    fields = stat_fields(pid)
    return int(fields[19]) if fields else None


def pids_with_env(name, value):
    """Every process whose environment has name=value: a scan of all of /proc,
    for the rare path where the tree below lab init cannot be walked."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and environ_value(int(entry), name) == value:
            out.append(int(entry))
    return out


def freeze_and_kill(list_members):
    """SIGSTOP everything list_members() returns, rescanning until two scans in a
    row find nothing new (so a forking tree cannot race us), then SIGKILL it all."""
    frozen = set()
    quiet = 0
    while quiet < 2:
        new = [p for p in list_members() if p not in frozen]
        quiet = 0 if new else quiet + 1
        for pid in new:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
            frozen.add(pid)
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return frozen
