"""Small helpers for tests against real processes: wait with deadlines, find lab processes."""
import os
import socket
import time


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


def lab_pids(run=None):
    """Pids of every live process with PROCLAB_RUN (of one run, if given) in its environment."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        for item in env:
            if item.startswith(b"PROCLAB_RUN=") and (run is None or item == b"PROCLAB_RUN=" + run.encode()):
                out.append(int(name))
                break
    return out


def proc_stat(pid):
    """(state letter, ppid) from /proc, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return fields[0].decode(), int(fields[1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
