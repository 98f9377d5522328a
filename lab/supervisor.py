"""The app's handle on lab init: start it, talk to it, remember every run.

Thread-safe: web request threads call it, one reader thread takes lab init's
messages and hands each to the listeners (the hub) in the order they came.
A lab init that dies (kill -9) is replaced at once: its runs end with the
reason {"code": "lab_init_lost"}, whatever it left behind is killed, and the
next start works again.  No Flask here.
"""
import base64
import collections
import glob
import itertools
import json
import os
import resource
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from lab import proctree, signals
from lab.channel import RunView, encode

# The user's open-file limit, as this process had it when it started: the
# engine raises its own later (engine.raise_fd_limit), and lab init puts this
# one back, so lab programs always see the limit the user has.
USER_NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)[0]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEND_TIMEOUT = 5.0        # lab init reads its channel every loop: 5 s unread means it is stuck
REPLY_TIMEOUT = 5.0
HELLO_TIMEOUT = 10.0
RESTARTS = (3, 60.0)      # at most 3 replacements of lab init in 60 s


class RunError(Exception):
    """A run could not be started or found; .status is the HTTP-like status to
    report, .detail the refusal as data ({"code": "run_cap", ...}) if any."""

    def __init__(self, message, status=409, detail=None):
        super().__init__(message)
        self.status = status
        self.detail = detail


class NoReply(RunError):
    """Lab init did not answer a request: it may still carry it out."""

    def __init__(self, message):
        super().__init__(message, 503, {"code": "no_reply"})


# Lab init's refusals: HTTP status, and the sentence for logs and API clients
# (the browser makes its own words from the code).
REFUSALS = {
    "run_cap": (409, "run {run} has {processes} processes besides its shell: {adds} more would pass its cap of {cap}"),
    "total_cap": (409, "the lab has {processes} processes: {adds} more would pass the total cap of {cap}"),
    "no_run": (404, "no running run {run!r}"),
    "terminal_full": (409, "run {run}'s terminal input is full: {written} of {size} bytes were delivered"),
    "no_helper": (404, "{pid} is not a helper of run {run} that reads its stdin (only what add client started is)"),
    "os_error": (503, "lab init could not start it: {error} ({errno})"),
    "bad_request": (503, "lab init refused the request: {error}"),
}


def refusal(reply):
    status, text = REFUSALS.get(reply.get("code"), (503, "lab init refused: {code}"))
    fields = {k: v for k, v in reply.items() if k not in ("ev", "req", "ok", "t")}
    try:
        message = text.format(**fields)
    except (KeyError, IndexError, ValueError):
        message = f"lab init refused: {fields}"
    return RunError(message, status, fields)


class RunRecord:
    """What the app knows of one run, alive or ended."""

    def __init__(self, run_id, lab, params, output_limit):
        self.id = run_id
        self.lab = lab
        self.params = params
        self.state = "starting"       # starting -> running -> ended
        self.root = None
        self.session = None
        self.started = time.time()
        self.ended = None
        self.reason = None            # why it ended, as data: {"code": "finished"}, {"code": "cap", …}
        self.exit = None              # the lab program's own exit: {"code": 0} or {"signal": …}
        self.view = RunView()         # its roles and announced endpoints
        self.output = bytearray()     # the terminal's recent bytes, bounded
        self.output_limit = output_limit
        self.output_total = 0         # bytes ever written, so a client can ask "since"
        self.changed = threading.Condition()

    @property
    def endpoints(self):
        return self.view.endpoints

    def add_output(self, data):
        self.output += data
        self.output_total += len(data)
        if len(self.output) > self.output_limit:
            del self.output[: len(self.output) - self.output_limit]

    def to_json(self):
        return {"id": self.id, "lab": self.lab, "params": self.params, "state": self.state,
                "root": self.root, "session": self.session, "started": self.started,
                "ended": self.ended, "reason": self.reason, "exit": self.exit,
                "endpoints": list(self.endpoints)}


class _Waiter:
    """One request waiting for lab init's reply."""

    def __init__(self):
        self.done = threading.Event()
        self.reply = None


class Supervisor:
    def __init__(self, run_cap=64, total_cap=256, lifetime=900.0,
                 output_limit=256 * 1024, keep_ended=20, restarts=RESTARTS, reply_timeout=REPLY_TIMEOUT):
        self.run_cap = run_cap
        self.total_cap = total_cap
        self.lifetime = lifetime
        self.output_limit = output_limit
        self.keep_ended = keep_ended
        self.runs = collections.OrderedDict()
        self.listeners = []
        self.launcher_pid = None
        self._ids = itertools.count(1)
        self._reqs = itertools.count(1)
        self._waiting = {}                  # request id -> _Waiter
        self._lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._sock = None
        self._proc = None
        self.restarts = restarts            # (count, seconds): lab inits replaced at most
        self.reply_timeout = reply_timeout
        self._restarts = collections.deque()
        self._revive_lock = threading.Lock()
        self.closed = False

    # -- lifecycle ------------------------------------------------------------
    def start(self):
        """Start lab init.  Call before any other thread of this process forks or serves."""
        self._launch()
        return self

    def _launch(self):
        """Start a lab init and the thread that reads it."""
        self._install(*self._spawn())

    def _spawn(self):
        """A new lab init, once it has said hello: (proc, socket, reader, pid)."""
        ours, theirs = socket.socketpair()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
        try:
            # No preexec_fn: safe from a threaded process, which is what a replacement starts from.
            proc = subprocess.Popen(
                [sys.executable, "-m", "lab.launcher", "--control-fd", str(theirs.fileno()),
                 "--run-cap", str(self.run_cap), "--total-cap", str(self.total_cap),
                 "--nofile", str(USER_NOFILE)],
                pass_fds=[theirs.fileno()], cwd=ROOT, env=env,
                start_new_session=True)     # the terminal's Ctrl-C is for the app, not for lab init
        finally:
            theirs.close()
        reader = ours.makefile("rb")
        ours.settimeout(HELLO_TIMEOUT)      # a lab init that never greets is no lab init
        try:
            hello = json.loads(reader.readline() or b"{}")
        except (OSError, ValueError):
            hello = {}
        ours.settimeout(None)
        if hello.get("ev") != "hello":
            proc.kill()
            proc.wait()
            reader.close()
            ours.close()
            raise RuntimeError("lab init did not start")
        return proc, ours, reader, hello["pid"]

    def _install(self, proc, sock, reader, pid):
        with self._send_lock:
            self._sock, self._proc = sock, proc
        self.launcher_pid = pid
        threading.Thread(target=self._read_loop, args=(reader, sock, proc, pid),
                         name="lab-init-reader", daemon=True).start()

    def close(self, timeout=3.0):
        """Stop every run and lab init itself; nothing of the lab outlives this."""
        with self._lock:
            if self.closed or self._proc is None:
                self.closed = True
                return
            self.closed = True
        sock, proc = self._sock, self._proc     # sock is None if lab init was just lost
        if sock is not None:
            try:
                self._send({"op": "shutdown"}, timeout=1.0)
            except RunError:
                pass            # lab init is already gone
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if sock is not None:
            sock.close()
        self._kill_leftovers(proc.pid)      # lab init hung and was killed: its labs are orphans now

    @staticmethod
    def _kill_leftovers(launcher_pid):
        """Kill what a dead lab init left: its labs, orphaned to PID 1, carry its
        PROCLAB_INIT; its runs' scratch dirs (socket files) carry its pid."""
        proctree.freeze_and_kill(lambda: proctree.pids_with_env("PROCLAB_INIT", str(launcher_pid)))
        for scratch in glob.glob(os.path.join(tempfile.gettempdir(), f"proclab-{launcher_pid}-*")):
            shutil.rmtree(scratch, ignore_errors=True)

    def _lost(self, proc, pid):
        """Lab init's channel closed without close(): it was killed or crashed.
        Its labs are orphans now (PID 1 adopted them): kill them, end its runs,
        and start a new lab init, unless it keeps dying."""
        self._kill_leftovers(pid)
        try:
            proc.wait(2)                # not a zombie in the app's process list
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        code = proc.returncode
        status = {} if code is None else {"signal": signals.name(-code)} if code < 0 else {"code": code}
        reason = {"code": "lab_init_lost", "pid": pid, **status}
        ended = []
        with self._lock:
            for waiter in self._waiting.values():
                waiter.done.set()       # no reply will come: the caller says lab init exited
            for run in list(self.runs.values()):
                if run.state != "ended":
                    self._end(run, {"reason": reason, "t": time.time()})
                    ended.append({"ev": "ended", "run": run.id, "reason": reason, "root": run.root,
                                  "exit": run.exit, "t": run.ended})
        with self._send_lock:
            self._sock = None
        for msg in ended:
            self._tell(msg)
        self._revive(pid, status, [m["run"] for m in ended])

    def _revive(self, old=None, status=None, runs=()):
        """Start a new lab init in place of a lost one, unless too many were
        lost lately (RESTARTS); the next request tries again once they are older.
        Returns whether one runs now.  The runs stay readable meanwhile: the
        new one starts outside the supervisor's lock."""
        with self._revive_lock:
            if self._sock is not None:
                return True
            with self._lock:
                now = time.monotonic()
                while self._restarts and now - self._restarts[0] > self.restarts[1]:
                    self._restarts.popleft()
                if self.closed or len(self._restarts) >= self.restarts[0]:
                    if old is not None:
                        self._tell({"ev": "lab_init", "code": "lost", "old": old, **(status or {}), "t": time.time()})
                    return False
                self._restarts.append(now)
            try:
                spawned = self._spawn()
            except (OSError, RuntimeError) as exc:
                print(f"proclab: lab init could not be restarted: {exc}", file=sys.stderr)
                if old is not None:
                    self._tell({"ev": "lab_init", "code": "lost", "old": old, **(status or {}), "t": time.time()})
                return False
            with self._lock:
                if not self.closed:
                    self._install(*spawned)
                    spawned = None
            if spawned is not None:             # closed meanwhile: this one goes too
                new_proc, new_sock, new_reader, _ = spawned
                new_reader.close()
                new_sock.close()                # EOF: it kills its (no) labs and exits
                new_proc.wait()
                return False
        self._tell({"ev": "lab_init", "code": "replaced", "old": old, "pid": self.launcher_pid,
                    "runs": list(runs), **(status or {}), "t": time.time()})
        return True

    # -- talking to lab init ----------------------------------------------------
    def _send(self, msg, timeout=SEND_TIMEOUT):
        """Send one line.  Lab init reads its channel on every loop, so a line it
        has not taken within `timeout` means it is stuck (SIGSTOPped, say): it is
        killed, and replaced like a lost one."""
        data = memoryview(encode(msg))
        if self._sock is None and not self.closed:
            self._revive()              # lost, and not replaced then (too many lately): try again
        with self._send_lock:
            sock, proc = self._sock, self._proc
            if sock is None:
                raise RunError("lab init is not running: it was lost too often lately, "
                               "try again in a minute or restart the dashboard", 503)
            deadline = time.monotonic() + timeout
            try:
                while data:
                    try:
                        data = data[sock.send(data, socket.MSG_DONTWAIT):]
                    except BlockingIOError:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            proc.kill()         # the reader sees EOF and replaces it
                            raise RunError("lab init stopped reading its channel: restarting it", 503)
                        poll = select.poll()    # not select(): this fd may be past 1024
                        poll.register(sock, select.POLLOUT)
                        poll.poll(left * 1000)
            except OSError:
                raise RunError("lab init is not running (restart the dashboard)", 503)

    def _request(self, op, timeout=None, **fields):
        """Send an op and wait for lab init's reply; RunError if it refuses."""
        timeout = self.reply_timeout if timeout is None else timeout
        req = next(self._reqs)
        waiter = _Waiter()
        with self._lock:
            self._waiting[req] = waiter
        try:
            self._send({"op": op, "req": req, **fields})
            if not waiter.done.wait(timeout):
                # It answers in milliseconds when it runs: stopped (SIGSTOP) or stuck,
                # it is killed, and replaced as a lost one is.
                with self._send_lock:
                    if self._proc is not None and self._sock is not None:
                        self._proc.kill()
                raise NoReply("lab init did not answer in time: restarting it")
        finally:
            with self._lock:
                self._waiting.pop(req, None)
        if waiter.reply is None:
            raise NoReply("lab init exited")
        if not waiter.reply.get("ok"):
            raise refusal(waiter.reply)
        return waiter.reply

    def _read_loop(self, reader, sock, proc, pid):
        try:
            for line in reader:
                try:
                    self._handle(json.loads(line))
                except Exception as exc:     # one odd message must not end the stream
                    print(f"proclab: lab init's message {line[:200]!r} failed: {exc!r}", file=sys.stderr)
        except OSError:                      # reset: it was killed with lines unread
            pass
        reader.close()
        if not self.closed:
            sock.close()
            self._lost(proc, pid)

    def _tell(self, msg):
        for listener in list(self.listeners):
            listener(msg)

    def _handle(self, msg):
        ev, run_id = msg.get("ev"), msg.get("run")
        with self._lock:
            run = self.runs.get(run_id)
            if ev in ("output", "event") and run is None:
                return                   # of a run the app gave up (it did not start in time)
            if ev == "output":
                data = base64.b64decode(msg["data"])
                with run.changed:
                    run.add_output(data)
                    run.changed.notify_all()
                msg = dict(msg, data=data)
            elif ev == "reply":
                waiter = self._waiting.get(msg.get("req"))
                if waiter is not None:
                    waiter.reply = msg
                    waiter.done.set()
                return                   # an answer to one caller, not news for the listeners
            elif ev == "started" and run is not None:
                self._running(run, msg["root"], msg["session"])
            elif ev == "event":
                event = msg["event"]
                run.view.note(event)
                if event.get("kind") == "exited" and event.get("pid") == run.root:
                    run.exit = {k: event[k] for k in ("code", "signal") if k in event}
            elif ev == "exited":
                role = run.view.roles.pop(msg.get("pid"), None) if run is not None else None
                msg = dict(msg, role=role)     # the listeners still want to say who it was
            elif ev == "ended" and run is not None:
                self._end(run, msg)
            elif ev == "resync":
                for entry in msg.get("runs", ()):
                    known = self.runs.get(entry.get("run"))
                    if known is not None:
                        known.view = RunView.from_json(entry)
                        if entry.get("root") is not None:
                            self._running(known, entry["root"], entry["session"])
        self._tell(msg)

    def _running(self, run, root, session):
        with run.changed:
            if run.state == "starting":
                run.state, run.root, run.session = "running", root, session
                run.changed.notify_all()

    def _end(self, run, msg):
        with run.changed:
            run.state = "ended"
            run.ended = msg.get("t", time.time())
            run.reason = msg.get("reason")
            if msg.get("exit"):
                run.exit = msg["exit"]
            run.changed.notify_all()
        ended = [r for r in self.runs.values() if r.state == "ended"]
        for old in ended[: max(0, len(ended) - self.keep_ended)]:
            del self.runs[old.id]

    # -- runs ---------------------------------------------------------------
    def start_run(self, lab, params, argv, processes=1, timeout=10.0):
        """Start a lab program as a new run (of `processes` lab processes, as far
        as is known); returns the RunRecord once its root runs."""
        with self._lock:
            if self.closed:
                raise RunError("the lab is shutting down", 503)
            run = RunRecord(f"r{next(self._ids)}", lab, params, self.output_limit)
            self.runs[run.id] = run
        try:
            self._request("start", run=run.id, argv=argv, cap=self.run_cap,
                          lifetime=self.lifetime, adds=processes)
        except RunError as exc:
            with self._lock:
                self.runs.pop(run.id, None)
            if isinstance(exc, NoReply):    # it may start it yet: it must not live unknown
                try:
                    self._send({"op": "stop", "run": run.id, "reason": {"code": "start_timeout"}})
                except RunError:
                    pass
            raise
        with run.changed:
            run.changed.wait_for(lambda: run.state != "starting", timeout)
        if run.state == "starting":
            with self._lock:
                self.runs.pop(run.id, None)
            try:
                self._send({"op": "stop", "run": run.id, "reason": {"code": "start_timeout"}})
            except RunError:
                pass
            raise RunError("the run did not start in time", 503)
        if run.state == "ended" and run.root is None:
            reason = run.reason or {}
            raise RunError(f"run {run.id} ended before it started: {reason.get('code')}", 503, reason)
        return run

    def get(self, run_id):
        with self._lock:
            return self.runs.get(run_id)

    def list_runs(self):
        with self._lock:
            return [r.to_json() for r in self.runs.values()]

    def stop_run(self, run_id, reason=None, wait=True, timeout=3.0):
        run = self.get(run_id)
        if run is None:
            raise RunError(f"no run {run_id!r}", 404)
        if run.state != "ended":
            self._send({"op": "stop", "run": run_id, "reason": reason or {"code": "stopped"}})
            if wait:
                with run.changed:
                    run.changed.wait_for(lambda: run.state == "ended", timeout)
        return run

    def reset(self, timeout=3.0):
        with self._lock:
            live = [r.id for r in self.runs.values() if r.state != "ended"]
        for run_id in live:
            self._send({"op": "stop", "run": run_id, "reason": {"code": "reset"}})
        for run_id in live:
            run = self.get(run_id)
            if run is not None:
                with run.changed:
                    run.changed.wait_for(lambda: run.state == "ended", timeout)
        return live

    def _live(self, run_id):
        run = self.get(run_id)
        if run is None or run.state == "ended":
            raise RunError(f"no running run {run_id!r}", 404)
        return run

    def write(self, run_id, data, pid=None):
        """Type into a run's terminal, or into the stdin of its helper `pid`;
        RunError (409) if it could not take it all."""
        self._live(run_id)
        extra = {} if pid is None else {"pid": pid}
        return self._request("write", run=run_id, data=base64.b64encode(data).decode(), **extra)["written"]

    def spawn(self, run_id, argv, processes=1):
        """Start a helper in a run; RunError (409) if the caps leave no room for
        the `processes` it brings (itself, and a forking server's child)."""
        self._live(run_id)
        return self._request("spawn", run=run_id, argv=argv, adds=processes)["pid"]

    def pids_with_role(self, run_id, pattern):
        """Pids of a run whose role matches ("parent", or a prefix like "worker*")."""
        prefix = pattern[:-1] if pattern.endswith("*") else None
        with self._lock:
            run = self.runs.get(run_id)
            roles = dict(run.view.roles) if run is not None else {}
        return sorted(pid for pid, role in roles.items() if role is not None
                      and (role.startswith(prefix) if prefix is not None else role == pattern))

    def role_of(self, run_id, pid):
        run = self.runs.get(run_id)      # a dict read: atomic, no lock on the sampler's path
        return run.view.roles.get(pid) if run is not None else None
