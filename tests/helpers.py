"""Small helpers for tests against real processes: wait with deadlines, find lab processes."""
import os
import socket
import time

from lab import proctree


def wait_until(predicate, timeout=5.0, interval=0.02, message=None):
    """Poll predicate until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


def lab_pids(run=None, init=None):
    """Pids of every live process with PROCLAB_RUN in its environment; of one run
    (run ids repeat across dashboards, so `init`, lab init's pid, pins it down)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = set(f.read().split(b"\0"))
        except OSError:
            continue
        if not any(item.startswith(b"PROCLAB_RUN=") for item in env):
            continue
        if run is not None and b"PROCLAB_RUN=" + run.encode() not in env:
            continue
        if init is not None and b"PROCLAB_INIT=%d" % init not in env:
            continue
        out.append(int(name))
    return out


def proc_stat(pid):
    """(state letter, ppid) from /proc, or None if gone."""
    fields = proctree.stat_fields(pid)
    return None if fields is None else (fields[0].decode(), int(fields[1]))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
