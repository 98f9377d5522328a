"""Real child processes for tests, always killed and reaped (psutil's tests style).

    with Family() as fam:                   # or the `family` fixture below
        child = fam.spawn("ready(); idle()")
        ...                                 # child.pid, child.info (its ready() JSON)

A child is `python -c PRELUDE + code`.  PRELUDE gives it `ready(**info)`,
which prints one JSON line the test waits for (with a deadline), and
`idle()`, which blocks until the test closes its stdin.  Children get their
own process group (not the test's terminal foreground group, so no '+'),
or their own session with start_new_session=True.

While a Family is open the test process is a child subreaper, so whatever
the children fork and orphan comes back to us; close() SIGKILLs the whole
tree, reaps every process of it, and only then drops the subreaper flag.
"""
import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

PY = sys.executable

PRELUDE = '''\
import ctypes, json, os, signal, socket, sys, threading, time
def ready(**info):
    info.setdefault("pid", os.getpid())
    sys.stdout.write(json.dumps(info) + "\\n")
    sys.stdout.flush()
def idle():
    sys.stdin.buffer.read()
    os._exit(0)
'''

_PR_SET_CHILD_SUBREAPER, _PR_GET_CHILD_SUBREAPER = 36, 37
_libc = ctypes.CDLL(None, use_errno=True)


def ppid_map():
    """{pid: ppid} of every process now (zombies included)."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    data = f.read()
                out[int(name)] = int(data[data.rindex(b")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    return out


def descendants(roots, pp=None):
    """Every live process below `roots` (not the roots themselves)."""
    pp = ppid_map() if pp is None else pp
    kids = {}
    for pid, ppid in pp.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = set(), list(roots)
    while todo:
        for kid in kids.get(todo.pop(), ()):
            if kid not in out:
                out.add(kid)
                todo.append(kid)
    return out


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def page_out(pid, addr, length):
    """process_madvise(MADV_PAGEOUT) on another process's memory: it shrinks
    without running.  True if the kernel took it (x86_64/aarch64, 5.10+)."""
    nr = {"x86_64": 440, "aarch64": 440}.get(os.uname().machine)    # process_madvise
    if nr is None:
        return False
    pidfd = os.pidfd_open(pid)
    try:
        iov = _IoVec(addr, length)
        return _libc.syscall(nr, pidfd, ctypes.byref(iov), 1, 21, 0) > 0     # 21: MADV_PAGEOUT
    finally:
        os.close(pidfd)


def fault_in(pid, addr, length):
    """Read another process's memory (process_vm_readv): mapped pages that were
    not resident become so, without it running."""
    buf = ctypes.create_string_buffer(length)
    local, remote = _IoVec(ctypes.addressof(buf), length), _IoVec(addr, length)
    return _libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) == length


def _subreaper(on):
    if _libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _is_subreaper():
    flag = ctypes.c_int(0)
    _libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
    return bool(flag.value)


class Child:
    def __init__(self, popen, info):
        self.popen = popen
        self.pid = popen.pid
        self.info = info


class Family:
    """Children of one test; close() leaves no process, zombie, fd or file behind."""

    def __init__(self):
        self.children = []
        self._cleanups = []
        self._me = os.getpid()
        self._was_subreaper = _is_subreaper()
        self._base = {p for p, q in ppid_map().items() if q == self._me}
        _subreaper(True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def spawn(self, code, *args, ready=True, timeout=10.0, **popen_kw):
        """Start `python -c PRELUDE+code args…`; wait for its ready() line if `ready`."""
        env = {k: v for k, v in os.environ.items() if k != "PROCLAB_RUN"}
        if not popen_kw.get("start_new_session"):
            if sys.version_info >= (3, 11):
                popen_kw.setdefault("process_group", 0)
            else:                           # process_group= is new in 3.11
                popen_kw.setdefault("preexec_fn", os.setpgrp)
        popen = subprocess.Popen(
            [PY, "-c", PRELUDE + textwrap.dedent(code), *map(str, args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, **popen_kw)
        child = Child(popen, None)
        self.children.append(child)
        if ready:
            child.info = self._ready_line(popen, timeout)
        return child

    def _ready_line(self, popen, timeout):
        r, _, _ = select.select([popen.stdout], [], [], timeout)
        line = popen.stdout.readline() if r else b""
        if not line:
            try:
                os.killpg(popen.pid, signal.SIGKILL)    # what it forked holds stderr open too
            except ProcessLookupError:
                pass
            popen.kill()
            popen.wait()
            err = popen.stderr.read().decode(errors="replace")
            raise AssertionError(f"child {popen.pid} did not become ready within {timeout} s:\n{err}")
        return json.loads(line)

    def tempdir(self):
        """A short temporary directory (unix socket paths max 107 bytes), removed on close."""
        path = tempfile.mkdtemp(prefix="plab-")
        self._cleanups.append(lambda: shutil.rmtree(path, ignore_errors=True))
        return path

    def openpty(self):
        """(master fd, slave path) of a new pseudo-terminal; closed after the children die."""
        master, slave = os.openpty()
        path = os.ttyname(slave)
        os.close(slave)
        self._cleanups.append(lambda: os.close(master))
        return master, path

    def on_close(self, fn):
        self._cleanups.append(fn)

    def close(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        try:
            while True:
                pp = ppid_map()
                live = [c for c in self.children if c.popen.returncode is None]
                adopted = {p for p, q in pp.items() if q == self._me} - self._base \
                    - {c.pid for c in self.children}
                seeds = {c.pid for c in live} | adopted
                tree = (seeds & pp.keys()) | descendants(seeds, pp)
                if not tree and not live:
                    break
                for pid in tree:            # SIGKILL also ends stopped processes
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                for c in live:
                    try:
                        c.popen.wait(timeout=0.02)
                    except subprocess.TimeoutExpired:
                        pass
                for pid in adopted:         # orphans handed to us as subreaper
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"could not kill and reap {sorted(tree)}")
                time.sleep(0.005)
        finally:
            if not self._was_subreaper:
                _subreaper(False)
            for c in self.children:
                for f in (c.popen.stdin, c.popen.stdout, c.popen.stderr):
                    try:
                        f.close()
                    except OSError:     # stdin of a dead child: nothing to flush anyway
                        pass
            for fn in reversed(self._cleanups):
                fn()
            self._cleanups.clear()
