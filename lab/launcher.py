"""Lab init: starts every run, adopts and reaps every orphan, always cleans up.

The app starts it once, before any server thread exists, with one end of a
Unix socket pair as its control channel:

    python -m lab.launcher --control-fd 5 --run-cap 64 --total-cap 256

It is single-threaded on purpose: it is the one process here that forks, and
forking a multi-threaded process is unsafe.  One loop (``selectors``: epoll,
the course's own technique) multiplexes the control channel, every run's
terminal and every run's event pipe.

- ``PR_SET_CHILD_SUBREAPER``: orphans of every run are adopted by lab init
  (not by PID 1), so they stay in view and are reaped here, with their status.
- Each run gets a pseudo-terminal and a session process (``lab.session``, a
  tiny shell) that runs the lab program in the foreground of that terminal.
- Stopping a run freezes its whole tree with SIGSTOP, rescans until nothing
  new appears (so a forking tree cannot race), then SIGKILLs it: members that
  called ``setsid()`` or double-forked are found because, being orphans, they
  were adopted here.
- EOF on the control channel means the app is gone, even by SIGKILL: every
  lab process is killed and lab init exits.

Protocol: JSON lines.  App -> lab init: ``{"op": "start" | "stop" | "write" |
"spawn" | "shutdown", ...}``.  Lab init -> app: ``{"ev": "hello" | "started" |
"error" | "output" | "event" | "exited" | "ended", ...}``; see ``Launcher``.
"""
import argparse
import base64
import ctypes
import fcntl
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import struct
import sys
import tempfile
import termios
import time

from lab import proctree
from lab.signals import exit_fields

PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36
EVENTS_FD = 255          # where every lab process finds its event pipe (like bash's 255)
OUTPUT_CHUNK = 16384
TICK = 0.1               # seconds between cap / lifetime / end-of-run checks
ADOPTEE_GRACE = 0.15     # seconds an adopted zombie waits to be reaped (see Launcher.reap)
MAX_DYING = 32           # adopted zombies waiting at most; beyond, they are reaped at once
ROWS, COLS = 24, 100
MAX_EVENT_LINE = 65536   # bytes: a longer line on an event pipe is dropped


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def become_lab_init():
    """Adopt every orphan below us, and be called "lab-init" in ps and top."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    libc.prctl(PR_SET_NAME, b"lab-init", 0, 0, 0)


class Run:
    def __init__(self, run_id, session, master, slave, events, cap, lifetime, scratch):
        self.id = run_id
        self.scratch = scratch      # PROCLAB_RUN_DIR: socket files and such, removed with the run
        self.session = session      # pid of the run's session process
        self.root = None            # pid of the lab program, once the session reports it
        self.master = master        # our side of the run's pseudo-terminal
        self.slave = slave          # kept open so helpers can be started on the same terminal
        self.events = events        # read end of the run's event pipe
        self.events_buf = b""
        self.events_skip = False    # dropping an overlong line until its newline
        self.cap = cap
        self.deadline = time.monotonic() + lifetime
        self.lifetime = lifetime
        self.stopping = None        # the reason, once we decided to stop it
        self.root_exit = None
        self.empty_since = None     # when only the session was first seen left


class Launcher:
    def __init__(self, control, run_cap, total_cap):
        self.control = control
        self.control_buf = b""
        self.run_cap = run_cap
        self.total_cap = total_cap
        self.runs = {}
        self.owner = {}             # pid -> run id, for every lab process we have seen
        self.direct = set()         # children we forked ourselves: sessions and helpers
        self.dying = {}             # adopted zombie -> when we first saw it (see reap)
        self.sel = selectors.DefaultSelector()
        self.pid = os.getpid()

    # -- talking to the app -------------------------------------------------
    def send(self, ev, **fields):
        fields["ev"] = ev
        fields.setdefault("t", time.time())
        try:
            self.control.sendall((json.dumps(fields, ensure_ascii=False) + "\n").encode())
        except OSError:
            self.shutdown()

    def on_control(self):
        try:
            data = self.control.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.shutdown()          # the app is gone: nothing of the lab may outlive it
        self.control_buf += data
        while b"\n" in self.control_buf:
            line, self.control_buf = self.control_buf.split(b"\n", 1)
            msg = None
            try:
                msg = json.loads(line)
                getattr(self, "op_" + msg["op"])(msg)
            except Exception as exc:   # a bad request must never take lab init down
                self.send("error", run=msg.get("run") if isinstance(msg, dict) else None,
                          error=f"{type(exc).__name__}: {exc}")

    # -- operations -----------------------------------------------------------
    def op_start(self, msg):
        run_id = msg["run"]
        if run_id in self.runs:
            raise ValueError(f"run {run_id} exists")
        if self.count_all() >= self.total_cap:
            self.send("error", run=run_id, error=f"total process cap ({self.total_cap}) reached")
            return
        fds, scratch = [], None
        try:
            master, slave = os.openpty()
            fds += [master, slave]
            events_r, events_w = os.pipe()
            fds += [events_r, events_w]
            scratch = tempfile.mkdtemp(prefix=f"proclab-{self.pid}-{run_id}-")
            fcntl.ioctl(slave, termios.TIOCSWINSZ,
                        struct.pack("HHHH", msg.get("rows", ROWS), msg.get("cols", COLS), 0, 0))
            env = self.lab_env(run_id, scratch)
            pid = os.fork()
        except BaseException:          # no fds or pids left (EMFILE, EAGAIN), a bad size…: leave nothing
            for fd in fds:
                os.close(fd)
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        if pid == 0:
            try:
                os.setsid()
                fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(slave, fd)
                os.dup2(events_w, EVENTS_FD)
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
                    signal.signal(sig, signal.SIG_DFL)
                signal.set_wakeup_fd(-1)
                os.execve(sys.executable, [sys.executable, "-m", "lab.session", *msg["argv"]], env)
            finally:
                os._exit(127)
        os.close(events_w)
        os.set_blocking(master, False)
        os.set_blocking(events_r, False)
        run = Run(run_id, pid, master, slave, events_r,
                  int(msg.get("cap", self.run_cap)), float(msg.get("lifetime", 900)), scratch)
        self.runs[run_id] = run
        self.owner[pid] = run_id
        self.direct.add(pid)
        self.sel.register(master, selectors.EVENT_READ, ("tty", run))
        self.sel.register(events_r, selectors.EVENT_READ, ("events", run))

    def lab_env(self, run_id, scratch):
        env = dict(os.environ, PROCLAB_RUN=run_id, PROCLAB_INIT=str(self.pid),
                   PROCLAB_EVENTS_FD=str(EVENTS_FD), PROCLAB_RUN_DIR=scratch,
                   PYTHONUNBUFFERED="1", TERM="xterm-256color")
        env.pop("PROCLAB_CONTROL_FD", None)
        return env

    def op_stop(self, msg):
        run = self.runs.get(msg["run"])
        if run is None:
            raise ValueError(f"no run {msg['run']}")
        self.stop(run, msg.get("reason", "stopped"))

    def op_write(self, msg):
        run = self.runs.get(msg["run"])
        if run is None:
            raise ValueError(f"no run {msg['run']}")
        data = base64.b64decode(msg["data"])
        try:
            os.write(run.master, data)
        except BlockingIOError:
            self.send("error", run=run.id, error="terminal input buffer full")

    def op_spawn(self, msg):
        """Start a helper (a client, say) inside a run, writing to the run's terminal."""
        run = self.runs.get(msg["run"])
        if run is None or run.stopping:
            raise ValueError(f"no running run {msg['run']}")
        if len([p for p in self.members(run) if p not in self.dying]) >= run.cap:
            self.send("error", run=run.id, error=f"process cap ({run.cap}) reached")
            return
        events_w = os.open(f"/proc/self/fd/{run.events}", os.O_WRONLY)
        try:
            env = self.lab_env(run.id, run.scratch)
            pid = os.fork()
        except BaseException:
            os.close(events_w)
            raise
        if pid == 0:
            try:
                os.setsid()      # the terminal belongs to the run's session: use it, don't own it
                for fd in (0, 1, 2):
                    os.dup2(run.slave, fd)
                os.dup2(events_w, EVENTS_FD)
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
                    signal.signal(sig, signal.SIG_DFL)
                signal.set_wakeup_fd(-1)
                os.execve(sys.executable, [sys.executable, *msg["argv"]], env)
            finally:
                os._exit(127)
        os.close(events_w)
        self.owner[pid] = run.id
        self.direct.add(pid)
        self.send("spawned", run=run.id, pid=pid, ppid=self.pid, argv=msg["argv"])

    def op_shutdown(self, msg):
        self.shutdown()

    # -- who belongs to which run ---------------------------------------------
    def run_of(self, pid):
        run_id = self.owner.get(pid)
        if run_id is None:
            run_id = proctree.environ_value(pid, "PROCLAB_RUN")
            if run_id is None:      # a zombie has no environ left: its session tells
                fields = proctree.stat_fields(pid)
                sid = int(fields[3]) if fields else None
                run_id = next((r.id for r in self.runs.values() if r.session == sid), None)
            if run_id is not None:
                self.owner[pid] = run_id
        return run_id

    def members(self, run):
        """Every live or zombie process of the run, its session process included."""
        out = []
        for kid in proctree.children(self.pid):
            if self.run_of(kid) == run.id:
                out.append(kid)
                out.extend(proctree.descendants(kid))
        return out

    def count_all(self):
        return len([p for p in proctree.descendants(self.pid) if p not in self.dying])

    # -- stopping -------------------------------------------------------------
    def stop(self, run, reason):
        if run.stopping is None:
            run.stopping = reason
        proctree.freeze_and_kill(lambda: self.members(run))

    def shutdown(self):
        """The app is gone or asked us to go: kill every lab process, reap, exit."""
        proctree.freeze_and_kill(lambda: proctree.descendants(self.pid))
        for run in self.runs.values():
            shutil.rmtree(run.scratch, ignore_errors=True)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    time.sleep(0.005)
            except ChildProcessError:
                break
        os._exit(0)

    # -- reaping and run ends -------------------------------------------------
    def reap(self):
        """Reap every child that has exited: the runs' session processes and
        helpers, and the orphans we adopted.

        An adopted zombie was some lab process's child; its old parent's exit
        is told by the run's session on the event pipe, which may not have been
        written yet.  So an adoptee is reaped only after ADOPTEE_GRACE: the log
        tells the parent's death first, and the view shows the zombie adopted
        by lab init (PPID changed) before it goes, as LABS.md wants."""
        try:    # the common case, on every wake of the loop: nobody has exited
            if os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                return
        except ChildProcessError:
            return
        now = time.monotonic()
        for pid in proctree.children(self.pid, 1):
            try:    # peek first: while it is still a zombie, /proc tells whose it is
                info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                continue
            if info is None:
                continue
            run_id = self.run_of(pid)
            run = self.runs.get(run_id)
            stopping = run is not None and run.stopping is not None
            # The grace is for a story being told in a running run: not while a
            # run is being stopped, nor for a flood of orphans (the zombies would
            # pile up), nor for a zombie whose run is unknown or over.
            if (pid not in self.direct and run is not None and not stopping and len(self.dying) < MAX_DYING
                    and now - self.dying.setdefault(pid, now) < ADOPTEE_GRACE):
                continue
            # A stopped run's session (its "shell") is told last, after its programs.
            if stopping and pid == run.session and any(p != pid for p in self.members(run)):
                continue
            if run is not None:          # its last words on the event pipe go before its exit
                self.on_events(run)
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                continue
            self.owner.pop(pid, None)
            self.direct.discard(pid)
            self.dying.pop(pid, None)
            closed = stopping and pid == run.session
            if run is not None and pid == run.root and run.root_exit is None:
                run.root_exit = exit_fields(status)    # its session died first (killed): we tell
            self.send("exited", run=run_id, pid=pid, by=self.pid, session_closed=closed,
                      **exit_fields(status))

    def on_tty(self, run):
        try:
            data = os.read(run.master, OUTPUT_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            self.send("output", run=run.id, data=base64.b64encode(data).decode())
        elif run.master in self.sel.get_map():   # EIO: the terminal is gone
            self.sel.unregister(run.master)

    def on_events(self, run):
        try:
            data = os.read(run.events, MAX_EVENT_LINE)   # never more than one line's limit: see on_events
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            if run.events in self.sel.get_map():
                self.sel.unregister(run.events)
            return
        # Any lab program can write here (it is fd 255 of each): take only lines
        # of at most MAX_EVENT_LINE bytes holding a JSON object, strict JSON (no
        # NaN, which a browser cannot parse), and never let a line take lab init down.
        lines = (run.events_buf + data).split(b"\n")
        run.events_buf = lines.pop()
        if len(run.events_buf) > MAX_EVENT_LINE:
            run.events_buf, run.events_skip = b"", True     # drop it, up to its newline
        for line in lines:
            if run.events_skip:
                run.events_skip = False
                continue
            try:
                event = json.loads(line, parse_constant=_no_constant)
            except (ValueError, RecursionError):
                continue
            if not isinstance(event, dict):
                continue
            kind, pid = event.get("kind"), event.get("pid")
            if isinstance(pid, int):
                self.owner.setdefault(pid, run.id)
            if kind == "root" and run.root is None and isinstance(pid, int):
                run.root = pid
                self.send("started", run=run.id, root=pid, session=run.session)
            elif kind == "exited" and pid == run.root:
                run.root_exit = {k: event[k] for k in ("code", "signal") if k in event}
            self.send("event", run=run.id, event=event)

    def tick(self):
        total = 0
        for run in list(self.runs.values()):
            members = self.members(run)
            # Zombies waiting out their grace are not processes any more: no cap counts them.
            lab = [p for p in members if p != run.session and p not in self.dying]
            total += len(lab)
            if run.stopping is None:
                if len(lab) > run.cap:
                    self.stop(run, f"process cap exceeded: {len(lab)} > {run.cap}")
                elif time.monotonic() > run.deadline:
                    self.stop(run, f"lifetime of {run.lifetime:g} s reached")
                elif run.root is not None and not lab:
                    # Only the session is left.  It reaped the program and is about to
                    # say how it ended: wait for those words (a moment at most).
                    run.empty_since = run.empty_since or time.monotonic()
                    if run.root_exit is not None or time.monotonic() - run.empty_since > 0.5:
                        self.stop(run, "finished")
                else:
                    run.empty_since = None
            elif not members:
                self.end(run)
        if total > self.total_cap:
            biggest = max(self.runs.values(), key=lambda r: len(self.members(r)))
            self.stop(biggest, f"total process cap exceeded: {total} > {self.total_cap}")

    def end(self, run):
        self.on_tty(run)                      # the last words on its terminal
        self.on_events(run)
        for fd in (run.master, run.events):
            try:
                self.sel.unregister(fd)
            except (KeyError, ValueError):
                pass
        for fd in (run.master, run.slave, run.events):
            os.close(fd)
        shutil.rmtree(run.scratch, ignore_errors=True)   # a SIGKILLed server's socket file too
        del self.runs[run.id]
        self.owner = {pid: r for pid, r in self.owner.items() if r != run.id}
        self.send("ended", run=run.id, reason=run.stopping, root=run.root, exit=run.root_exit)

    def loop(self):
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *a: None)
        signal.signal(signal.SIGTERM, lambda *a: self.shutdown())
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # the app decides when we go
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        self.sel.register(self.control, selectors.EVENT_READ, ("control", None))
        self.sel.register(wake_r, selectors.EVENT_READ, ("wake", None))
        self.send("hello", pid=self.pid, run_cap=self.run_cap, total_cap=self.total_cap)
        next_tick = time.monotonic() + TICK
        while True:
            for key, _ in self.sel.select(max(0.0, next_tick - time.monotonic())):
                what, run = key.data
                if what == "control":
                    self.on_control()
                elif what == "wake":
                    while True:
                        try:
                            if not os.read(wake_r, 512):
                                break
                        except BlockingIOError:
                            break
                elif what == "tty":
                    self.on_tty(run)
                elif what == "events":
                    self.on_events(run)
            self.reap()
            if time.monotonic() >= next_tick:
                self.tick()
                next_tick = time.monotonic() + TICK


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--run-cap", type=int, default=64)
    parser.add_argument("--total-cap", type=int, default=256)
    parser.add_argument("--nofile", type=int, default=None,
                        help="soft RLIMIT_NOFILE for lab programs (the user's, before the app raised its own)")
    args = parser.parse_args(argv)
    if args.nofile is not None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        fits = hard == resource.RLIM_INFINITY or 0 <= args.nofile <= hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile if fits else hard, hard))
    become_lab_init()
    os.set_inheritable(args.control_fd, False)    # no lab program may hold the app's channel
    control = socket.socket(fileno=args.control_fd)
    launcher = Launcher(control, args.run_cap, args.total_cap)
    try:
        launcher.loop()
    finally:     # even a bug in lab init must not leave lab processes behind
        launcher.shutdown()


if __name__ == "__main__":
    main()
