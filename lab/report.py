"""The experiment helper: print like a terminal program, and tell the dashboard who spoke.

In a terminal, ``say("老司机开车了")`` prints the line, as print() would.
Under the dashboard the launcher also hands every run an inherited pipe (its
fd number is in ``PROCLAB_EVENTS_FD``); each call then writes one JSON line
to it with the pid, the role this process gave itself and the text, so the
event log can say *which process* printed a line.

    from lab.report import say, set_role
    set_role("driver")
    say("老司机开车了  (the driver starts the bus)")

Every forked child (``os.fork`` or ``multiprocessing``) reports itself as
``spawned`` with its parent, so even a process that lives for a millisecond
shows up in the log.  A child keeps its parent's role until it sets its own.
"""
import json
import os
import sys
import threading
import time

_FD = int(os.environ.get("PROCLAB_EVENTS_FD", "-1"))
_RUN = os.environ.get("PROCLAB_RUN")
_role = None

# One write of at most PIPE_BUF bytes to a pipe is atomic, so lines from many
# processes never interleave.  Longer texts are cut to fit.
_PIPE_BUF = 4096


def under_dashboard():
    """True when the launcher gave us an event pipe."""
    return _FD >= 0


def emit(kind, **fields):
    """Send one structured event to the dashboard (no-op in a plain terminal)."""
    if _FD < 0:
        return
    event = {"kind": kind, "pid": os.getpid(), "t": time.time(), "role": _role}
    tid = threading.get_native_id()
    if tid != event["pid"]:
        # Said by a thread other than the main one: its TID (the task ps -L lists) and its
        # threading name, which Python does not give the kernel, so the thread list can
        # name it.
        event.update(tid=tid, thread=threading.current_thread().name[:64])
    event.update(fields)
    data = (json.dumps(event, ensure_ascii=False) + "\n").encode()
    if len(data) > _PIPE_BUF:
        text = event.get("text", "")
        event["text"] = text[: max(0, len(text) - (len(data) - _PIPE_BUF) - 16)] + "…"
        data = (json.dumps(event, ensure_ascii=False) + "\n").encode()[:_PIPE_BUF]
    try:
        os.write(_FD, data)
    except OSError:
        pass  # the dashboard went away; the terminal output is what matters


def say(*args, sep=" "):
    """print() a line exactly as in a terminal, and report it as this process's output."""
    text = sep.join(str(a) for a in args)
    # One write(2) of the whole line, not print(): print makes two writes
    # unbuffered (lines of two processes could interleave) and raises
    # "reentrant call" when a signal handler prints while the code it
    # interrupted was printing.  What print() buffered goes out first.
    try:
        sys.stdout.flush()
    except (RuntimeError, ValueError, OSError):
        pass
    try:
        os.write(sys.stdout.fileno(), (text + "\n").encode())
    except (OSError, ValueError, AttributeError):
        print(text, flush=True)
    emit("output", text=text)


def set_role(role):
    """Name this process's part in the story ("driver", "child", "worker 3")."""
    global _role
    _role = role
    emit("role")


def role():
    return _role


def listening(proto, address, url=None):
    """A server tells the dashboard where it listens, so "add client" knows where to connect.

    address: "127.0.0.1:PORT", "[::1]:PORT" or a Unix socket path."""
    emit("listening", proto=proto, address=address, url=url)


def run_dir():
    """A directory for this run's files (a Unix socket's path): under the dashboard it is
    removed when the run stops, however it stops; in a terminal, a fresh temporary one."""
    path = os.environ.get("PROCLAB_RUN_DIR")
    if not path:
        import tempfile
        path = tempfile.mkdtemp(prefix="proclab-")
    return path


def _after_fork_in_child():
    emit("spawned", ppid=os.getppid())


os.register_at_fork(after_in_child=_after_fork_in_child)
