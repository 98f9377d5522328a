"""The app's handle on lab init: start it, talk to it, remember every run.

Thread-safe: web request threads call it, one reader thread takes lab init's
messages and hands each to the listeners (the hub) in the order they came.
No Flask here.
"""
import base64
import collections
import glob
import itertools
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from lab import proctree

# The user's open-file limit, as this process had it when it started: the
# engine raises its own later (engine.raise_fd_limit), and lab init puts this
# one back, so lab programs always see the limit the user has.
USER_NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)[0]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class RunError(Exception):
    """A run could not be started or found; .status is the HTTP-like status to report."""

    def __init__(self, message, status=409):
        super().__init__(message)
        self.status = status


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
        self.reason = None            # why it ended: finished, stopped, process cap …
        self.exit = None              # the lab program's own exit: {"code": 0} or {"signal": …}
        self.error = None
        self.endpoints = []           # what its servers announced: {"pid", "proto", "address", …}
        self.output = bytearray()     # the terminal's recent bytes, bounded
        self.output_limit = output_limit
        self.output_total = 0         # bytes ever written, so a client can ask "since"
        self.changed = threading.Condition()

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


class Supervisor:
    def __init__(self, run_cap=64, total_cap=256, lifetime=900.0,
                 output_limit=256 * 1024, keep_ended=20):
        self.run_cap = run_cap
        self.total_cap = total_cap
        self.lifetime = lifetime
        self.output_limit = output_limit
        self.keep_ended = keep_ended
        self.runs = collections.OrderedDict()
        self.roles = {}                     # pid -> (run id, role) from the experiments' events
        self.listeners = []
        self.launcher_pid = None
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._sock = None
        self._proc = None
        self._reader = None
        self.closed = False

    # -- lifecycle ------------------------------------------------------------
    def start(self):
        """Start lab init.  Call before any other thread of this process forks or serves."""
        ours, theirs = socket.socketpair()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "lab.launcher", "--control-fd", str(theirs.fileno()),
             "--run-cap", str(self.run_cap), "--total-cap", str(self.total_cap),
             "--nofile", str(USER_NOFILE)],
            pass_fds=[theirs.fileno()], cwd=ROOT, env=env,
            start_new_session=True)     # the terminal's Ctrl-C is for the app, not for lab init
        theirs.close()
        self._sock = ours
        self._file = ours.makefile("rb")
        hello = json.loads(self._file.readline() or b"{}")
        if hello.get("ev") != "hello":
            raise RuntimeError("lab init did not start")
        self.launcher_pid = hello["pid"]
        self._reader = threading.Thread(target=self._read_loop, name="lab-init-reader", daemon=True)
        self._reader.start()
        return self

    def close(self, timeout=3.0):
        """Stop every run and lab init itself; nothing of the lab outlives this."""
        if self.closed or self._proc is None:
            return
        self.closed = True
        try:
            self._send({"op": "shutdown"})
        except RunError:
            pass            # lab init is already gone
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._sock.close()
        self._kill_leftovers()      # lab init hung and was killed: its labs are orphans now

    def _kill_leftovers(self):
        """Kill what a dead lab init left: its labs, orphaned to PID 1, carry its
        PROCLAB_INIT; its runs' scratch dirs (socket files) carry its pid."""
        proctree.freeze_and_kill(lambda: proctree.pids_with_env("PROCLAB_INIT", str(self.launcher_pid)))
        for scratch in glob.glob(os.path.join(tempfile.gettempdir(), f"proclab-{self.launcher_pid}-*")):
            shutil.rmtree(scratch, ignore_errors=True)

    # -- talking to lab init ----------------------------------------------------
    def _send(self, msg):
        data = (json.dumps(msg) + "\n").encode()
        try:
            with self._send_lock:
                self._sock.sendall(data)
        except OSError:
            raise RunError("lab init is not running (restart the dashboard)", 503)

    def _read_loop(self):
        for line in self._file:
            try:
                self._handle(json.loads(line))
            except Exception as exc:     # one odd message must not end the stream
                print(f"proclab: lab init's message {line[:200]!r} failed: {exc!r}", file=sys.stderr)
        # EOF: lab init is gone.  If it was killed (kill -9 lab-init), its lab
        # processes were orphaned to PID 1.
        if not self.closed:
            self._kill_leftovers()
            try:
                self._proc.wait(2)      # not a zombie in the app's process list
            except subprocess.TimeoutExpired:
                pass
        # Mark every run as ended so no one waits forever.
        with self._lock:
            for run in list(self.runs.values()):
                if run.state != "ended":
                    self._end(run, {"reason": "lab init exited", "t": time.time()})

    def _handle(self, msg):
        ev, run_id = msg.get("ev"), msg.get("run")
        with self._lock:
            run = self.runs.get(run_id)
            if ev == "output" and run is not None:
                data = base64.b64decode(msg["data"])
                with run.changed:
                    run.add_output(data)
                    run.changed.notify_all()
                msg = dict(msg, data=data)
            elif ev == "started" and run is not None:
                with run.changed:
                    run.state, run.root, run.session = "running", msg["root"], msg["session"]
                    run.changed.notify_all()
            elif ev == "error" and run is not None and run.state == "starting":
                with run.changed:
                    run.error = msg["error"]
                    run.changed.notify_all()
            elif ev == "event":
                event = msg["event"]
                pid = event.get("pid")
                if event.get("kind") in ("role", "spawned", "output") and isinstance(pid, int):
                    if event.get("role") is not None or pid not in self.roles:
                        self.roles[pid] = (run_id, event.get("role"))
                if event.get("kind") == "exited" and run is not None and pid == run.root:
                    run.exit = {k: event[k] for k in ("code", "signal") if k in event}
                if event.get("kind") == "listening" and run is not None and len(run.endpoints) < 16:
                    run.endpoints.append({k: event.get(k) for k in ("pid", "proto", "address", "url")})
            elif ev == "exited":
                _, role = self.roles.pop(msg.get("pid"), (None, None))
                msg = dict(msg, role=role)     # the listeners still want to say who it was
            elif ev == "ended" and run is not None:
                self._end(run, msg)
            listeners = list(self.listeners)
        for listener in listeners:
            listener(msg)

    def _end(self, run, msg):
        with run.changed:
            run.state = "ended"
            run.ended = msg.get("t", time.time())
            run.reason = msg.get("reason")
            if msg.get("exit"):
                run.exit = msg["exit"]
            run.changed.notify_all()
        for pid in [p for p, (r, _) in self.roles.items() if r == run.id]:
            del self.roles[pid]
        ended = [r for r in self.runs.values() if r.state == "ended"]
        for old in ended[: max(0, len(ended) - self.keep_ended)]:
            del self.runs[old.id]

    # -- runs ---------------------------------------------------------------
    def start_run(self, lab, params, argv, timeout=10.0):
        """Start a lab program as a new run; returns the RunRecord once its root runs."""
        if self.closed:
            raise RunError("the lab is shutting down", 503)
        with self._lock:
            run = RunRecord(f"r{next(self._ids)}", lab, params, self.output_limit)
            self.runs[run.id] = run
        try:
            self._send({"op": "start", "run": run.id, "argv": argv,
                        "cap": self.run_cap, "lifetime": self.lifetime})
        except RunError:
            with self._lock:
                self.runs.pop(run.id, None)
            raise
        with run.changed:
            run.changed.wait_for(lambda: run.state != "starting" or run.error, timeout)
        if run.state == "starting":
            with self._lock:
                self.runs.pop(run.id, None)
            if run.error:
                raise RunError(run.error, 429 if "cap" in run.error else 409)
            self._send({"op": "stop", "run": run.id, "reason": "did not start in time"})
            raise RunError("the run did not start in time", 503)
        return run

    def get(self, run_id):
        with self._lock:
            return self.runs.get(run_id)

    def list_runs(self):
        with self._lock:
            return [r.to_json() for r in self.runs.values()]

    def stop_run(self, run_id, reason="stopped", wait=True, timeout=3.0):
        run = self.get(run_id)
        if run is None:
            raise RunError(f"no run {run_id!r}", 404)
        if run.state != "ended":
            self._send({"op": "stop", "run": run_id, "reason": reason})
            if wait:
                with run.changed:
                    run.changed.wait_for(lambda: run.state == "ended", timeout)
        return run

    def reset(self, timeout=3.0):
        live = [r.id for r in list(self.runs.values()) if r.state != "ended"]
        for run_id in live:
            self._send({"op": "stop", "run": run_id, "reason": "reset"})
        for run_id in live:
            run = self.get(run_id)
            if run is not None:
                with run.changed:
                    run.changed.wait_for(lambda: run.state == "ended", timeout)
        return live

    def write(self, run_id, data):
        run = self.get(run_id)
        if run is None or run.state == "ended":
            raise RunError(f"no running run {run_id!r}", 404)
        self._send({"op": "write", "run": run_id, "data": base64.b64encode(data).decode()})

    def spawn(self, run_id, argv):
        run = self.get(run_id)
        if run is None or run.state == "ended":
            raise RunError(f"no running run {run_id!r}", 404)
        self._send({"op": "spawn", "run": run_id, "argv": argv})

    def pids_with_role(self, run_id, pattern):
        """Pids of a run whose role matches ("parent", or a prefix like "worker*")."""
        prefix = pattern[:-1] if pattern.endswith("*") else None
        with self._lock:
            return sorted(pid for pid, (run, role) in self.roles.items()
                          if run == run_id and role is not None
                          and (role.startswith(prefix) if prefix is not None else role == pattern))

    def role_of(self, pid):
        with self._lock:
            entry = self.roles.get(pid)
        return entry[1] if entry else None
