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
- Each run (``lab.labrun``) gets a pseudo-terminal and a session process
  (``lab.session``, a tiny shell) that runs the lab program in the
  foreground of that terminal.
- Stopping a run freezes its whole tree with SIGSTOP, rescans until nothing
  new appears (so a forking tree cannot race), then SIGKILLs it: members that
  called ``setsid()`` or double-forked are found because, being orphans, they
  were adopted here.
- EOF on the control channel means the app is gone, even by SIGKILL: every
  lab process is killed and lab init exits.

Protocol: JSON lines (``lab.channel``).  App -> lab init: ``{"op": "start" |
"stop" | "write" | "spawn" | "shutdown", ...}``; an op with a ``"req"`` id is
answered ``{"ev": "reply", "req", "ok": true, ...}`` or, refused, ``{"ev":
"reply", "req", "ok": false, "code": ..., ...fields}``.  Lab init -> app:
``{"ev": "hello" | "reply" | "started" | "error" | "output" | "event" |
"exited" | "ended" | "resync", ...}``.  Lab init never waits for the app: its
lines queue (``channel.Outbox``), and when the app has fallen too far behind
it drops what can be rebuilt and later sends a ``resync``: every live run's
session, root, roles and endpoints, and what was missed.
"""
import argparse
import base64
import ctypes
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import time

from lab import proctree
from lab.channel import Outbox, encode
from lab.labrun import COLS, ROWS, Refused, Run
from lab.signals import exit_fields

PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36
TICK = 0.1               # seconds between cap / lifetime / end-of-run checks
ADOPTEE_GRACE = 0.15     # seconds an adopted zombie waits to be reaped (see Launcher.reap)
MAX_DYING = 32           # adopted zombies waiting at most; beyond, they are reaped at once
PROMISE = 3.0            # seconds a start's or a spawn's processes count before they exist


def become_lab_init():
    """Adopt every orphan below us, and be called "lab-init" in ps and top."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    libc.prctl(PR_SET_NAME, b"lab-init", 0, 0, 0)


class Launcher:
    def __init__(self, control, run_cap, total_cap):
        self.control = control
        self.control.setblocking(False)
        self.outbox = Outbox(control)
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
        """Queue one line for the app; never blocks.  False if it was dropped
        because the app is behind (see channel.Outbox)."""
        fields["ev"] = ev
        fields.setdefault("t", time.time())
        try:
            return self.outbox.put(ev, encode(fields))
        except OSError:
            self.shutdown()      # the app is gone

    def on_writable(self):
        try:
            self.outbox.flush()
        except OSError:
            self.shutdown()
        if self.outbox.caught_up:
            self.resync()

    def resync(self):
        """The app read everything it was sent: tell it what it missed meanwhile,
        and how every live run stands now."""
        runs = []
        for run in self.runs.values():
            for pid in [p for p in run.view.roles if proctree.stat_fields(p) is None]:
                run.view.forget(pid)
            runs.append({"run": run.id, "session": run.session, "root": run.root,
                         "stopping": run.stopping, **run.view.to_json()})
        output = {run.id: run.missed_bytes - len(run.missed_tail)
                  for run in self.runs.values() if run.missed_bytes}
        missed = dict(self.outbox.missed)
        try:
            self.outbox.resume(encode({"ev": "resync", "t": time.time(), "runs": runs,
                                       "missed": missed, "output_missed": output}))
        except OSError:
            self.shutdown()
        for run in self.runs.values():       # the end of what its terminal showed meanwhile
            if run.missed_tail:
                self.send("output", run=run.id, data=base64.b64encode(run.missed_tail).decode())
            run.missed_tail, run.missed_bytes = bytearray(), 0

    def on_control(self):
        try:
            data = self.control.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
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
                answer = {"ok": True, **(getattr(self, "op_" + msg["op"])(msg) or {})}
            except Refused as exc:
                answer = {"ok": False, **exc.fields}
            except Exception as exc:   # a bad request must never take lab init down
                answer = {"ok": False, "code": "bad_request", "error": f"{type(exc).__name__}: {exc}"}
            req = msg.get("req") if isinstance(msg, dict) else None
            if req is not None:
                self.send("reply", req=req, **answer)
            elif not answer["ok"]:     # nobody waits for the answer: the log gets it
                self.send("error", run=msg.get("run") if isinstance(msg, dict) else None, **answer)

    # -- operations -----------------------------------------------------------
    def op_start(self, msg):
        run_id = msg["run"]
        if run_id in self.runs:
            raise ValueError(f"run {run_id} exists")
        adds = max(1, int(msg.get("adds", 1)))
        self.check_total(adds)
        run = Run(run_id, self.pid, msg["argv"], int(msg.get("cap", self.run_cap)),
                  float(msg.get("lifetime", 900)), msg.get("rows", ROWS), msg.get("cols", COLS))
        self.promise(run, adds)
        self.runs[run_id] = run
        self.owner[run.session] = run_id
        self.direct.add(run.session)
        self.sel.register(run.master, selectors.EVENT_READ, ("tty", run))
        self.sel.register(run.events, selectors.EVENT_READ, ("events", run))
        return {"session": run.session}

    def live_run(self, msg):
        run = self.runs.get(msg["run"])
        if run is None or run.stopping is not None:
            raise Refused("no_run", run=msg["run"])
        return run

    def op_stop(self, msg):
        run = self.runs.get(msg["run"])
        if run is None:
            raise Refused("no_run", run=msg["run"])
        reason = msg.get("reason")
        self.stop(run, reason if isinstance(reason, dict) and isinstance(reason.get("code"), str)
                  else {"code": "stopped"})

    def op_write(self, msg):
        """Type into a run's terminal, or with "pid" into one of its helpers' stdin.
        Nothing waits: what the terminal (or pipe) cannot take now is refused,
        saying how much went in."""
        run = self.live_run(msg)
        data = base64.b64decode(msg["data"])
        pid = msg.get("pid")
        if pid is not None:
            written = run.write_helper(pid, data) if isinstance(pid, int) else None
            if written is None:
                raise Refused("no_helper", run=run.id, pid=pid)
        else:
            try:
                written = os.write(run.master, data)
            except BlockingIOError:
                written = 0
        if written < len(data):
            raise Refused("terminal_full", run=run.id, written=written, size=len(data))
        return {"written": written}

    def op_spawn(self, msg):
        """Start a helper (a client, say) inside a run, writing to the run's terminal.
        ``adds``: the processes it brings into the run (a forking server's child
        per client counts too); refused if the run or the lab would pass its cap."""
        run = self.live_run(msg)
        adds = max(1, int(msg.get("adds", 1)))
        count = self.size(run)
        if count + adds > run.cap:
            raise Refused("run_cap", run=run.id, processes=count, adds=adds, cap=run.cap)
        self.check_total(adds)
        pid = run.start_helper(msg["argv"])
        self.promise(run, count + adds)
        self.owner[pid] = run.id
        self.direct.add(pid)
        self.send("spawned", run=run.id, pid=pid, ppid=self.pid, argv=msg["argv"])
        return {"pid": pid}

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

    def lab_members(self, run):
        """The run's lab processes: its members but its session and the adopted
        zombies waiting out their grace (they are not processes any more)."""
        return [p for p in self.members(run) if p != run.session and p not in self.dying]

    def size(self, run):
        """What the caps count of a run: the lab processes it has, or, for
        PROMISE seconds after a start or a spawn was let in, the processes it
        was let have (they may still be forking).  Ten starts at once must not
        each see the lab as it was before the others."""
        live = len(self.lab_members(run))
        return max(live, run.promised) if time.monotonic() < run.promised_until else live

    def promise(self, run, size):
        run.promised, run.promised_until = size, time.monotonic() + PROMISE

    def check_total(self, adds):
        total = sum(self.size(run) for run in self.runs.values())
        if total + adds > self.total_cap:
            raise Refused("total_cap", processes=total, adds=adds, cap=self.total_cap)

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
            if run is not None:
                run.view.forget(pid)
                run.helper_gone(pid)
            closed = stopping and pid == run.session
            if run is not None and pid == run.root and run.root_exit is None:
                run.root_exit = exit_fields(status)    # its session died first (killed): we tell
            self.send("exited", run=run_id, pid=pid, by=self.pid, session_closed=closed,
                      **exit_fields(status))

    def on_tty(self, run):
        data = run.read_output()
        if data:
            # While the app is behind, the end of it goes in the resync.
            if self.outbox.behind or not self.send("output", run=run.id, data=base64.b64encode(data).decode()):
                run.keep_missed(data)
        elif data == b"" and run.master in self.sel.get_map():   # the terminal is gone
            self.sel.unregister(run.master)

    def on_events(self, run):
        events = run.read_events()
        if events is None:
            if run.events in self.sel.get_map():
                self.sel.unregister(run.events)
            return
        for event in events:
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
        total, sizes = 0, {}
        for run in list(self.runs.values()):
            members = self.members(run)
            # Zombies waiting out their grace are not processes any more: no cap counts them.
            lab = [p for p in members if p != run.session and p not in self.dying]
            total += len(lab)
            sizes[run.id] = len(lab)
            if run.stopping is None:
                if len(lab) > run.cap:
                    self.stop(run, {"code": "cap", "processes": len(lab), "cap": run.cap})
                elif time.monotonic() > run.deadline:
                    self.stop(run, {"code": "lifetime", "seconds": run.lifetime})
                elif run.root is not None and not lab:
                    # Only the session is left.  It reaped the program and is about to
                    # say how it ended: wait for those words (a moment at most).
                    run.empty_since = run.empty_since or time.monotonic()
                    if run.root_exit is not None or time.monotonic() - run.empty_since > 0.5:
                        self.stop(run, {"code": "finished"})
                else:
                    run.empty_since = None
            elif not members:
                self.end(run)
        if total > self.total_cap and sizes:
            biggest = self.runs[max(sizes, key=sizes.get)]
            self.stop(biggest, {"code": "total_cap", "processes": total, "cap": self.total_cap})

    def end(self, run):
        self.on_tty(run)                      # the last words on its terminal
        self.on_events(run)
        for fd in (run.master, run.events):
            try:
                self.sel.unregister(fd)
            except (KeyError, ValueError):
                pass
        run.close()
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
        writing = False
        self.sel.register(wake_r, selectors.EVENT_READ, ("wake", None))
        self.send("hello", pid=self.pid, run_cap=self.run_cap, total_cap=self.total_cap)
        next_tick = time.monotonic() + TICK
        while True:
            for key, mask in self.sel.select(max(0.0, next_tick - time.monotonic())):
                what, run = key.data
                if what == "control":
                    if mask & selectors.EVENT_WRITE:
                        self.on_writable()
                    if mask & selectors.EVENT_READ:
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
            if self.outbox.wants_write != writing:     # wait for room only while lines wait
                writing = self.outbox.wants_write
                self.sel.modify(self.control, selectors.EVENT_READ | (selectors.EVENT_WRITE if writing else 0),
                                ("control", None))


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
