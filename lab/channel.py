"""The channel between the app and lab init: what each side keeps of it.

JSON lines over a Unix socket pair.  Two small pieces live here because
both sides need them:

- ``Outbox``: lab init's sending side.  Lab init must never wait for the
  app (a stopped or slow app would stop it reaping and enforcing caps and
  lifetimes), so lines queue in memory and go out as the socket takes
  them.  Past a bound the app is *behind*: what can be rebuilt is dropped
  and counted, what cannot is held, and once the queue has drained lab init
  sends a resync (``Launcher.resync``).
- ``RunView``: what the app knows of a run beyond its processes, built from
  the run's events: who plays which role, where its servers listen.  The
  app keeps one per run; lab init keeps one too, to send in a resync what
  the app could not read.

No Flask here, and nothing lab init would not want to import.
"""
import collections
import json
import socket

# Lines that carry state the app cannot learn otherwise are never dropped:
# the answer to a request, a run's start and end, the greeting.
HELD = frozenset({"hello", "reply", "started", "ended", "resync"})


def encode(msg):
    return (json.dumps(msg, ensure_ascii=False) + "\n").encode()


class Outbox:
    """Lines for the app, sent without ever blocking.

    ``put`` queues a line and sends what the socket takes at once; the loop
    calls ``flush`` when the socket is writable (``wants_write``).  While
    more than ``limit`` bytes wait, the app is behind: a line of a kind in
    HELD waits in ``held`` (bounded by the app's own requests and its runs),
    any other is dropped and counted in ``missed``.  ``caught_up`` tells
    when everything queued has gone and something was missed.
    """

    def __init__(self, sock, limit=1 << 20):
        self.sock = sock
        self.limit = limit
        self.queue = collections.deque()     # encoded lines (the first maybe partly sent)
        self.queued = 0                      # bytes in queue
        self.behind = False
        self.held = []                       # HELD lines that came while behind
        self.missed = collections.Counter()  # kind -> lines dropped while behind

    def put(self, kind, line):
        """Queue one encoded line; False if it was dropped (the app is behind)."""
        if self.behind or self.queued + len(line) > self.limit:
            self.behind = True
            if kind in HELD:
                self.held.append(line)
                return True
            self.missed[kind] += 1
            return False
        self.queue.append(line)
        self.queued += len(line)
        self.flush()
        return True

    @property
    def wants_write(self):
        return bool(self.queue)

    def flush(self):
        """Send what the socket takes now.  OSError (the app is gone) is the caller's."""
        while self.queue:
            line = self.queue[0]
            try:
                sent = self.sock.send(line, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            self.queued -= sent
            if sent < len(line):
                self.queue[0] = line[sent:]
                return
            self.queue.popleft()

    @property
    def caught_up(self):
        """Behind, and the queue has drained: time for a resync."""
        return self.behind and not self.queue

    def resume(self, resync_line):
        """Send the resync, then what was held, and take lines again."""
        held, self.held = self.held, []
        missed, self.missed = dict(self.missed), collections.Counter()
        self.behind = False
        for line in [resync_line, *held]:
            self.queue.append(line)
            self.queued += len(line)
        self.flush()
        return missed


class RunView:
    """A run's roles and announced endpoints, from its events (report.py's)."""

    MAX_ENDPOINTS = 16

    def __init__(self, roles=None, endpoints=None):
        self.roles = dict(roles or {})       # pid -> role (None until it says)
        self.endpoints = list(endpoints or [])

    def note(self, event):
        """Take one event of the run's event pipe."""
        kind, pid = event.get("kind"), event.get("pid")
        if kind in ("role", "spawned", "output") and isinstance(pid, int) and not isinstance(pid, bool):
            # A child keeps its parent's role until it names its own.
            if event.get("role") is not None or pid not in self.roles:
                self.roles[pid] = event.get("role")
        elif kind == "listening" and len(self.endpoints) < self.MAX_ENDPOINTS:
            self.endpoints.append({k: event.get(k) for k in ("pid", "proto", "address", "url")})

    def forget(self, pid):
        self.roles.pop(pid, None)

    def to_json(self):
        return {"roles": [[pid, role] for pid, role in self.roles.items()], "endpoints": self.endpoints}

    @classmethod
    def from_json(cls, data):
        roles = {pid: role for pid, role in data.get("roles", ()) if isinstance(pid, int)}
        return cls(roles, data.get("endpoints", ()))
