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
# a run's start and end, the greeting.  Replies to the app's requests are
# never dropped either, and go before whatever else waits: a request is
# waited for, and a reply says nothing of the order of events.
HELD = frozenset({"hello", "started", "ended"})
URGENT = "reply"


def encode(msg):
    return (json.dumps(msg, ensure_ascii=False) + "\n").encode()


class Outbox:
    """Lines for the app, sent without ever blocking.

    ``put`` queues a line and sends what the socket takes at once; the loop
    calls ``flush`` when the socket is writable (``wants_write``).  While
    more than ``limit`` bytes wait, the app is behind: a line of a kind in
    HELD waits in ``held`` (bounded by the app's runs), any other is dropped
    and counted in ``missed``.  A reply (bounded by the app's own requests)
    always goes next, as soon as the line being sent is whole.
    ``caught_up`` tells when everything queued has gone and something was
    missed.
    """

    def __init__(self, sock, limit=1 << 20):
        self.sock = sock
        self.limit = limit
        self.sending = b""                   # the line being sent: what is left of it
        self.urgent = collections.deque()    # replies, next in line
        self.queue = collections.deque()     # encoded lines
        self.queued = 0                      # bytes in queue
        self.behind = False
        self.held = []                       # HELD lines that came while behind
        self.missed = collections.Counter()  # kind -> lines dropped while behind

    def put(self, kind, line):
        """Queue one encoded line; False if it was dropped (the app is behind)."""
        if kind == URGENT:
            self.urgent.append(line)
            self.flush()
            return True
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
        return bool(self.sending or self.urgent or self.queue)

    def flush(self):
        """Send what the socket takes now.  OSError (the app is gone) is the caller's."""
        while True:
            if not self.sending:
                if self.urgent:
                    self.sending = self.urgent.popleft()
                elif self.queue:
                    self.sending = self.queue.popleft()
                    self.queued -= len(self.sending)
                else:
                    return
            try:
                sent = self.sock.send(self.sending, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            self.sending = self.sending[sent:]
            if self.sending:
                return

    @property
    def caught_up(self):
        """Behind, and everything queued has gone: time for a resync."""
        return self.behind and not self.wants_write

    def resume(self, resync_line):
        """Send the resync, then what was held, and take lines again."""
        held, self.held = self.held, []
        self.missed = collections.Counter()
        self.behind = False
        for line in [resync_line, *held]:
            self.queue.append(line)
            self.queued += len(line)
        self.flush()


class RunView:
    """A run's roles and announced endpoints, from its events (report.py's)."""

    MAX_ENDPOINTS = 16
    MAX_TEXT = 200              # a role, an address, a URL: any lab program writes these

    def __init__(self, roles=None, endpoints=None):
        self.roles = dict(roles or {})       # pid -> role (None until it says)
        self.endpoints = list(endpoints or [])

    def note(self, event):
        """Take one event of the run's event pipe.  Any lab program can write
        one: what is not of the expected type is not taken."""
        kind, pid = event.get("kind"), event.get("pid")
        if not _is_pid(pid):
            return
        if kind in ("role", "spawned", "output"):
            role = event.get("role")
            if not (role is None or _is_text(role, self.MAX_TEXT)):
                return
            # A child keeps its parent's role until it names its own.
            if role is not None or pid not in self.roles:
                self.roles[pid] = role
        elif kind == "listening" and len(self.endpoints) < self.MAX_ENDPOINTS:
            endpoint = {k: event.get(k) for k in ("pid", "proto", "address", "url")}
            if (_is_text(endpoint["proto"], 16) and _is_text(endpoint["address"], self.MAX_TEXT)
                    and (endpoint["url"] is None or _is_text(endpoint["url"], self.MAX_TEXT))):
                self.endpoints.append(endpoint)

    def forget(self, pid):
        self.roles.pop(pid, None)

    def to_json(self):
        return {"roles": [[pid, role] for pid, role in self.roles.items()], "endpoints": self.endpoints}

    @classmethod
    def from_json(cls, data):
        roles = {pid: role for pid, role in data.get("roles", ()) if _is_pid(pid)}
        return cls(roles, data.get("endpoints", ()))


def _is_pid(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 1 << 22   # pid_max at most


def _is_text(value, limit):
    return isinstance(value, str) and 0 < len(value) <= limit
