"""One run inside lab init: its terminal, its event pipe, its session and helpers.

A run is a pseudo-terminal, an event pipe and a scratch directory, and the
processes started on them: the session (``lab.session``, the run's "shell",
the terminal's controlling process) and the helpers an action starts (a
client, say), which use the terminal without owning it.  Every one of them
finds the event pipe at fd 255 (``EVENTS_FD``), ``PROCLAB_RUN`` and
``PROCLAB_INIT`` in its environment, and the app's ``PROCLAB_TAG`` if it
has one (the test suite tells its own lab processes by it).  Only lab init
imports this.
"""
import errno
import fcntl
import json
import os
import shutil
import signal
import struct
import sys
import tempfile
import termios
import time

from lab.channel import RunView

EVENTS_FD = 255          # where every lab process finds its event pipe (like bash's 255)
ROWS, COLS = 24, 100
OUTPUT_CHUNK = 16384
MAX_EVENT_LINE = 65536   # bytes: a longer line on an event pipe is dropped
MISSED_TAIL = 16384      # bytes of its terminal kept while the app is behind, sent on resync


class Refused(Exception):
    """What lab init will not do, as data: {"code": "run_cap", "processes": 63, ...}."""

    def __init__(self, code, **fields):
        super().__init__(code)
        self.fields = {"code": code, **fields}


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _finite(text):
    """1e999 is valid JSON but inf in Python, and Infinity to a browser: no JSON."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is too large")
    return value


def _refused(exc):
    """An OSError of a fork or an open as a refusal; anything else as it is."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return Refused("os_error", errno=errno.errorcode.get(exc.errno, exc.errno), error=exc.strerror)
    return exc


class Run:
    def __init__(self, run_id, init_pid, argv, cap, lifetime, rows=ROWS, cols=COLS):
        """Open the run's terminal, event pipe and scratch directory and start its
        session, which runs `argv` after python; nothing is left open if one of
        them cannot be had (EMFILE, EAGAIN, a bad size…)."""
        self.id = run_id
        self.init_pid = init_pid
        self.cap = cap
        self.lifetime = lifetime
        self.deadline = time.monotonic() + lifetime
        self.session = None         # pid of the run's session process
        self.root = None            # pid of the lab program, once the session reports it
        self.stopping = None        # the reason, once lab init decided to stop it
        self.root_exit = None
        self.empty_since = None     # when only the session was first seen left
        self.promised, self.promised_until = 0, 0.0    # see Launcher.size
        self.view = RunView()       # roles and endpoints, for a resync
        self.events_buf = b""
        self.events_skip = False    # dropping an overlong line until its newline
        self.missed_tail = bytearray()   # terminal output while the app was behind (its end)
        self.missed_bytes = 0
        self.helper_stdin = {}      # helper pid -> the write end of its stdin pipe (typing into it)
        fds, self.scratch = [], None
        try:
            self.master, self.slave = os.openpty()      # master: ours; slave: kept for helpers
            fds += [self.master, self.slave]
            self.events, events_w = os.pipe()
            fds += [self.events, events_w]
            self.scratch = tempfile.mkdtemp(prefix=f"proclab-{init_pid}-{run_id}-")
            fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            self.session = self._start(["-m", "lab.session", *argv], events_w, owns_terminal=True)
        except BaseException as exc:
            for fd in fds:
                os.close(fd)
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)
            raise _refused(exc)
        os.close(events_w)
        os.set_blocking(self.master, False)
        os.set_blocking(self.events, False)

    def env(self):
        """PROCLAB_RUN_DIR: socket files and such, removed with the run."""
        env = dict(os.environ, PROCLAB_RUN=self.id, PROCLAB_INIT=str(self.init_pid),
                   PROCLAB_EVENTS_FD=str(EVENTS_FD), PROCLAB_RUN_DIR=self.scratch,
                   PYTHONUNBUFFERED="1", TERM="xterm-256color")
        env.pop("PROCLAB_CONTROL_FD", None)
        return env

    def start_helper(self, argv):
        """A helper (a client, say) printing on the run's terminal, in a session of
        its own.  The keyboard is the run's foreground program's, so the helper's
        stdin is a pipe of its own instead: the dashboard types into it
        (write_helper), and a program asking isatty(0) knows it is not at a
        keyboard."""
        events_w = os.open(f"/proc/self/fd/{self.events}", os.O_WRONLY)
        stdin_r = stdin_w = None
        try:
            stdin_r, stdin_w = os.pipe()
            pid = self._start(argv, events_w, owns_terminal=False, stdin=stdin_r)
        except BaseException as exc:
            if stdin_w is not None:
                os.close(stdin_w)
            raise _refused(exc)
        finally:
            os.close(events_w)
            if stdin_r is not None:
                os.close(stdin_r)
        os.set_blocking(stdin_w, False)
        self.helper_stdin[pid] = stdin_w
        return pid

    def write_helper(self, pid, data):
        """Bytes written to a helper's stdin now (never waits); None if it has none."""
        fd = self.helper_stdin.get(pid)
        if fd is None:
            return None
        try:
            return os.write(fd, data)
        except BlockingIOError:
            return 0
        except BrokenPipeError:             # nobody reads it any more
            self.helper_gone(pid)
            return None

    def helper_gone(self, pid):
        fd = self.helper_stdin.pop(pid, None)
        if fd is not None:
            os.close(fd)

    def _start(self, argv, events_w, owns_terminal, stdin=None):
        env = self.env()
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()      # a helper uses the run's terminal; only the session owns it
                if owns_terminal:
                    fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(self.slave if fd or stdin is None else stdin, fd)
                os.dup2(events_w, EVENTS_FD)
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
                    signal.signal(sig, signal.SIG_DFL)
                signal.set_wakeup_fd(-1)
                os.execve(sys.executable, [sys.executable, *argv], env)
            finally:
                os._exit(127)
        return pid

    def read_output(self):
        """What its terminal printed since the last read: b"" once it is gone, None if nothing."""
        try:
            return os.read(self.master, OUTPUT_CHUNK)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:         # EIO: the terminal is gone
            return b""

    def keep_missed(self, data):
        self.missed_bytes += len(data)
        self.missed_tail += data
        del self.missed_tail[:-MISSED_TAIL]

    def read_events(self):
        """The events its processes wrote since the last read: None once the pipe is closed.

        Any lab program can write here (it is fd 255 of each): only lines of at
        most MAX_EVENT_LINE bytes holding a JSON object count, strict JSON (no
        NaN nor a float too large, which a browser cannot parse); a line can
        never take lab init down.
        One read is at most one line's limit, which the overlong-line skip relies on."""
        try:
            data = os.read(self.events, MAX_EVENT_LINE)
        except (BlockingIOError, InterruptedError):
            return []
        if not data:
            return None
        lines = (self.events_buf + data).split(b"\n")
        self.events_buf = lines.pop()
        if len(self.events_buf) > MAX_EVENT_LINE:
            self.events_buf, self.events_skip = b"", True     # drop it, up to its newline
        events = []
        for line in lines:
            if self.events_skip:
                self.events_skip = False
                continue
            try:
                event = json.loads(line, parse_constant=_no_constant, parse_float=_finite)
            except (ValueError, RecursionError):
                continue
            if isinstance(event, dict):
                self.view.note(event)
                events.append(event)
        return events

    def close(self):
        for fd in (self.master, self.slave, self.events, *self.helper_stdin.values()):
            os.close(fd)
        self.helper_stdin.clear()
        shutil.rmtree(self.scratch, ignore_errors=True)   # a SIGKILLed server's socket file too
