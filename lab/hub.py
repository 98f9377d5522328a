"""One producer, many viewers: sample, diff, encode once, fan out.

A single thread samples the lab at up to ``hz`` times a second (at once when
a control action pokes it), turns the change into one JSON frame and appends
that same string to every viewer's queue.  A viewer that falls behind is not
allowed to grow its queue without bound: its queue is dropped and it gets a
fresh snapshot instead.  No Flask here.
"""
import codecs
import collections
import json
import threading
import time

from lab import connections, proctree
from lab.sampler import diff, lifecycle

CLOSED = object()
DIFF_PREFIX = '{"type": "diff"'


class Viewer:
    """One websocket's queue of encoded frames."""

    def __init__(self, hub, limit):
        self.hub = hub
        self.limit = limit
        self.frames = collections.deque()
        self.cond = threading.Condition()
        self.skipped = 0            # times it fell behind and was sent a snapshot instead
        self.closed = False

    def push(self, frame):
        with self.cond:
            if len(self.frames) >= self.limit:
                self.frames.clear()
                self.skipped += 1
                self.frames.append(self.hub.snapshot_frame())
                if frame.startswith(DIFF_PREFIX):
                    return          # the snapshot already holds this diff's state
            self.frames.append(frame)
            self.cond.notify()

    def resync(self):
        with self.hub.lock, self.cond:
            self.frames.clear()
            self.frames.append(self.hub.snapshot_frame())
            self.cond.notify()

    def get(self, timeout):
        """The next frame, None on timeout, CLOSED when the hub shut down."""
        with self.cond:
            if not self.frames and not self.closed:
                self.cond.wait(timeout)
            if self.frames:
                return self.frames.popleft()
            return CLOSED if self.closed else None

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify()


class Hub:
    def __init__(self, sampler, supervisor, hz=10.0, viewer_limit=256, keep_events=300):
        self.sampler = sampler
        self.supervisor = supervisor
        self.interval = 1.0 / hz
        self.viewer_limit = viewer_limit
        self.lock = threading.RLock()
        self.seq = 0
        self.t = time.time()
        self.processes = {}
        self.runs = []
        self.events = collections.deque(maxlen=keep_events)
        self.viewers = set()
        self._snapshot = None        # (seq, encoded frame), rebuilt at most once per seq and event
        self._poke = threading.Event()
        self._stop = threading.Event()
        self._started = self._done = 0   # tick numbers, so a caller can wait for a fresh one
        self._ticked = threading.Condition()
        self._reported_exits = collections.OrderedDict()   # pids whose exit lab init told us
        self._decoders = {}           # run -> incremental UTF-8 decoder for its terminal
        self._announced = {}          # pid -> its spawned event, until a sample has seen it
        self._held_exits = []         # exits guessed from samples, held one tick (see tick)
        self._thread = None
        supervisor.listeners.append(self.on_launcher)

    # -- producing ------------------------------------------------------------
    def start(self):
        self.tick()
        self._thread = threading.Thread(target=self._loop, name="hub", daemon=True)
        self._thread.start()
        return self

    def poke(self):
        """Sample now: a control action just changed something."""
        self._poke.set()

    def sample_now(self, timeout=1.0):
        """Poke, and wait until a tick that began after the poke has been published."""
        with self._ticked:
            target = self._started + 1    # one in progress may have read /proc already
            self._poke.set()
            self._ticked.wait_for(lambda: self._done >= target or self._stop.is_set(), timeout)

    def _loop(self):
        next_t = time.monotonic()
        while not self._stop.is_set():
            self._poke.wait(max(0.0, next_t - time.monotonic()))
            if self._stop.is_set():
                break
            next_t = time.monotonic() + self.interval
            with self._ticked:
                self._poke.clear()
                self._started += 1
                number = self._started
            try:
                self.tick()
            except Exception as exc:      # never let one bad sample stop the stream
                self.publish_event({"t": time.time(), "kind": "error", "pid": None,
                                    "run": None, "text": f"sampler: {exc!r}"})
            with self._ticked:
                self._done = number
                self._ticked.notify_all()

    def tick(self):
        processes, unowned, links = self.sampler.sample()
        runs = self.supervisor.list_runs()
        by_run = {}
        for obj in processes.values():
            by_run.setdefault(obj["run"], []).append(obj)
        for run in runs:
            run["unowned_sockets"] = unowned.get(run["id"], [])
            run["connections"] = connections.pair(by_run.get(run["id"], []), run["unowned_sockets"])
            run["links"] = links.get(run["id"], [])
        t = time.time()
        with self.lock:
            upsert, remove = diff(self.processes, processes)
            events = lifecycle(self.processes, processes, t) if self.seq else []
            changed_runs = runs != self.runs
            self.processes, self.t = processes, t
            if changed_runs:
                self.runs = runs
            if upsert or remove or changed_runs:
                self.seq += 1
                frame = {"type": "diff", "seq": self.seq, "t": t, "upsert": upsert, "remove": remove}
                if changed_runs:
                    frame["runs"] = runs
                self._fan_out(json.dumps(frame, ensure_ascii=False))
            # A process that vanished between two samples was reaped by its parent,
            # or, if that parent died too, by lab init, whose report may still be on
            # its way: such guesses wait one tick and give way to lab init's word.
            for event in self._held_exits:
                # Not if lab init told of it meanwhile, nor if it is back (missed by one sample).
                if event["pid"] not in self._reported_exits and event["pid"] not in processes:
                    self.publish_event(event)
            self._held_exits = []
            for event in events:
                if event["kind"] in ("gone", "reaped"):
                    if event["pid"] not in self._reported_exits:
                        self._held_exits.append(event)
                else:
                    self.publish_event(event)
            self._brief_lives(processes, t)

    def _brief_lives(self, processes, t):
        """A process that forked and exited between two samples still gets its exit told."""
        for pid, spawned in list(self._announced.items()):
            if pid in processes:
                del self._announced[pid]          # seen: the samples tell the rest
            elif proctree.stat_fields(pid) is None:
                del self._announced[pid]
                if pid not in self._reported_exits:
                    self.publish_event({"t": t, "kind": "gone", "pid": pid, "run": spawned["run"],
                                        "role": spawned.get("role"), "by": spawned.get("ppid"),
                                        "text": f"{pid} lived too briefly to be sampled: exited "
                                                f"and was reaped by {spawned.get('ppid')}"})

    def snapshot(self):
        with self.lock:
            return {"seq": self.seq, "t": self.t, "processes": list(self.processes.values()),
                    "runs": self.runs, "events": list(self.events)}

    def snapshot_frame(self):
        with self.lock:
            if self._snapshot is None or self._snapshot[0] != self.seq:
                frame = dict(self.snapshot(), type="snapshot")
                self._snapshot = (self.seq, json.dumps(frame, ensure_ascii=False))
            return self._snapshot[1]

    def _fan_out(self, frame):
        for viewer in list(self.viewers):
            viewer.push(frame)

    def publish_event(self, event):
        with self.lock:
            self.events.append(event)
            self._snapshot = None      # a snapshot carries the recent events: rebuild it
            self._fan_out(json.dumps({"type": "event", "event": event}, ensure_ascii=False))

    # -- what lab init reports ------------------------------------------------
    def on_launcher(self, msg):
        """Called on the supervisor's reader thread for every message of lab init."""
        ev, run = msg.get("ev"), msg.get("run")
        t = msg.get("t", time.time())
        if ev == "output":
            dec = self._decoders.setdefault(run, codecs.getincrementaldecoder("utf-8")("replace"))
            text = dec.decode(msg["data"])
            if text:
                with self.lock:
                    self._fan_out(json.dumps({"type": "terminal", "run": run, "data": text},
                                             ensure_ascii=False))
            return
        if ev == "event":
            event = dict(msg["event"], run=run)
            kind = event.get("kind")
            if kind == "exited":
                self._note_exit(event["pid"])
                event["text"] = f"{event['pid']} exited ({_status(event)}), reaped by {event.get('by')}"
            elif kind == "root":
                event["text"] = f"{event['pid']} started in the foreground of the run's terminal"
            elif kind == "spawned":
                event["text"] = f"{event['pid']} forked by {event.get('ppid')}"
                with self.lock:
                    self._announced[event["pid"]] = event
            elif kind == "role":
                event["text"] = f"{event['pid']} is the {event.get('role')}"
            elif kind == "listening":
                event["text"] = f"{event['pid']} listens on {event.get('proto')} {event.get('address')}"
            self.publish_event(event)
        elif ev == "exited":
            self._note_exit(msg["pid"])
            session = bool(msg.get("session_closed"))     # its end is the run's end, not a kill
            text = (f"{msg['pid']}, the run's session (its shell), closed by lab init: the run is over"
                    if session else f"{msg['pid']} exited ({_status(msg)}), reaped by lab init ({msg.get('by')})")
            self.publish_event({"t": t, "kind": "exited", "pid": msg["pid"], "run": run,
                                 "role": msg.get("role"), "by": msg.get("by"),
                                 "code": msg.get("code"), "signal": msg.get("signal"),
                                 "session": session, "text": text})
        elif ev in ("started", "ended", "spawned"):
            text = {"started": f"run {run} started: root {msg.get('root')}",
                    "ended": f"run {run} ended: {_reason(msg.get('reason'))}"
                             + (f" ({_status(msg['exit'])} of its program)" if msg.get("exit") else ""),
                    "spawned": f"{msg.get('pid')} started by lab init in run {run}"}[ev]
            event = {k: v for k, v in msg.items() if k != "ev"}
            self.publish_event(dict(event, kind="run_" + ev if ev != "spawned" else "spawned",
                                     pid=msg.get("root", msg.get("pid")), text=text))
            if ev == "ended":
                self._decoders.pop(run, None)
                self.sampler.forget_run(run)
            self.poke()
        elif ev == "error":
            fields = {k: v for k, v in msg.items() if k not in ("ev", "t", "ok", "run")}
            self.publish_event({"t": t, "kind": "error", "run": run, "pid": None, **fields,
                                "text": msg.get("error") or f"lab init refused: {fields}"})
        elif ev == "resync":
            # Lab init could not send for a while (this process was stopped, or too
            # slow): the runs are as it says now; the log and terminals have a gap.
            self.publish_event({"t": t, "kind": "resync", "run": None, "pid": None,
                                "missed": msg.get("missed", {}), "output_missed": msg.get("output_missed", {}),
                                "text": f"lab init's messages were missed while the dashboard was not "
                                        f"reading: {msg.get('missed')}, terminal bytes {msg.get('output_missed')}"})
            self.poke()
        elif ev == "lab_init":
            if msg.get("pid"):
                self.sampler.launcher_pid = msg["pid"]
            event = {k: v for k, v in msg.items() if k != "ev"}
            self.publish_event(dict(event, kind="lab_init", run=None, pid=msg.get("pid"),
                                    text=f"lab init {msg.get('old')} was lost ({_status(msg)}); "
                                         + (f"a new lab init {msg['pid']} took over" if msg.get("pid")
                                            else "none could be started: restart the dashboard")))
            self.poke()

    def _note_exit(self, pid):
        self._reported_exits[pid] = time.monotonic()
        while len(self._reported_exits) > 4096:
            self._reported_exits.popitem(last=False)

    # -- viewers --------------------------------------------------------------
    def subscribe(self):
        viewer = Viewer(self, self.viewer_limit)
        with self.lock:              # the snapshot and the diffs after it, with no gap
            viewer.frames.append(self.snapshot_frame())
            self.viewers.add(viewer)
        return viewer

    def unsubscribe(self, viewer):
        with self.lock:
            self.viewers.discard(viewer)

    def close(self):
        """Stop producing; True once no tick can be running any more."""
        self._stop.set()
        self._poke.set()
        with self.lock:
            for viewer in self.viewers:
                viewer.close()
        if self._thread is not None:
            self._thread.join(2)
            return not self._thread.is_alive()
        return True


def _reason(reason):
    """A run's end reason in a log line's words: its code and fields."""
    if not isinstance(reason, dict):
        return str(reason)
    fields = ", ".join(f"{k} {v}" for k, v in reason.items() if k != "code")
    return reason.get("code", "?") + (f" ({fields})" if fields else "")


def _status(event):
    if event.get("signal"):
        return f"killed by {event['signal']}"
    return f"exit code {event.get('code')}"
