"""A viewer's websocket: simple-websocket's server, bounded both ways.

simple-websocket reads in a thread of its own and appends every message to
a list the handler drains: a viewer that needs no token could send 100,000
small messages (permessage-deflate makes them 26 bytes each on the wire)
and the worker grew by 300 MB a burst.  A viewer has little to say
(``{"type": "resync"}``, and later small answers), so here:

- at most INBOX messages wait, at most RATE arrive (a burst, then a steady
  rate), and at most READ_RATE bytes of frames of any kind (a flood of
  empty continuation frames or pings never makes a message); past any of
  these the connection is closed with 1008 (policy violation), the
  reading thread stops, and what it held is freed;
- a message over MAX_MESSAGE bytes, inflated, is closed with 1009;
- a frame the viewer does not take within SEND_TIMEOUT (a laptop gone to
  sleep with its socket full) closes the connection instead of holding a
  server thread forever;
- frames go out whole and one at a time: the reading thread's pings, pongs
  and close frames never land inside a frame the handler is sending.
"""
import socket
import threading
import time

from simple_websocket import ConnectionClosed, Server
from wsproto.events import CloseConnection, TextMessage
from wsproto.frame_protocol import CloseReason

INBOX = 16
RATE = (20, 2.0)          # a burst of 20 messages, then 2 a second
READ_RATE = (64 * 1024, 16 * 1024)     # bytes: a burst of 64 KiB, then 16 KiB a second
MAX_MESSAGE = 4096
SEND_TIMEOUT = 10.0


class Bucket:
    """A token bucket: `burst` at once, refilled at `per_second`."""

    def __init__(self, burst, per_second):
        self.burst, self.per_second = burst, per_second
        self.tokens = float(burst)
        self.last = time.monotonic()

    def take(self, n=1):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.per_second)
        self.last = now
        self.tokens -= n
        return self.tokens >= 0


class Inbox(list):
    """The received messages, as simple-websocket keeps them, but bounded in
    count and in rate.  Past a bound it takes nothing more."""

    def __init__(self, limit=INBOX, rate=RATE):
        super().__init__()
        self.limit = limit
        self.rate = Bucket(*rate)
        self.overflow = None         # why it stopped taking messages

    def append(self, message):
        if self.overflow is None:
            if len(self) >= self.limit:
                self.overflow = f"more than {self.limit} messages waiting"
            elif not self.rate.take():
                self.overflow = f"more than {self.rate.burst} messages at once, {self.rate.per_second:g} a second"
        if self.overflow is None:
            super().append(message)      # else dropped: the connection is being closed


class _Guarded:
    """The connection's socket: written by one thread at a time, a whole
    buffer at once (simple-websocket's send() takes what one send(2) takes),
    and read within a byte rate."""

    def __init__(self, sock, read_rate):
        self._sock = sock
        self._lock = threading.Lock()
        self.reads = Bucket(*read_rate)
        self.overflow = None

    def send(self, data, *flags):
        self.sendall(data)
        return len(data)

    def sendall(self, data):
        with self._lock:
            self._sock.sendall(data)

    def recv(self, size):
        data = self._sock.recv(size)
        if not self.reads.take(len(data)) and self.overflow is None:
            self.overflow = f"more than {self.reads.burst} bytes at once, {self.reads.per_second:g} a second"
        return data

    def __getattr__(self, name):        # fileno, settimeout, shutdown, close
        return getattr(self._sock, name)


class ViewerSocket(Server):
    def __init__(self, environ, ping_interval=10, inbox=INBOX, rate=RATE, read_rate=READ_RATE,
                 send_timeout=SEND_TIMEOUT):
        self._inbox = Inbox(inbox, rate)
        self.read_rate = read_rate
        self.send_timeout = send_timeout
        super().__init__(environ, ping_interval=ping_interval, max_message_size=MAX_MESSAGE)
        self.sock.settimeout(send_timeout)      # sends; reads wait in a selector first

    def handshake(self):
        """Before the reading thread starts: every read and write goes through _Guarded."""
        self.sock = _Guarded(self.sock, self.read_rate)
        super().handshake()

    # simple-websocket's Base.__init__ sets input_buffer to a list before its
    # reading thread starts: it gets the bounded one instead.
    @property
    def input_buffer(self):
        return self._inbox

    @input_buffer.setter
    def input_buffer(self, _list):
        pass

    def _handle_events(self):
        keep_going = super()._handle_events()
        if keep_going and self._inbox.overflow is not None:
            self._close_now(CloseReason.POLICY_VIOLATION, "too many messages")
            return False
        if keep_going and self.sock.overflow is not None:
            self._close_now(CloseReason.POLICY_VIOLATION, "too much data")
            return False
        return keep_going

    def send(self, data):
        """One whole frame, or the connection is closed."""
        if not self.connected:
            raise ConnectionClosed(self.close_reason, self.close_message)
        out = self.ws.send(TextMessage(data=data))
        try:
            self.sock.sendall(out)
        except socket.timeout:
            self.connected = False
            self.close_reason, self.close_message = CloseReason.POLICY_VIOLATION, "viewer does not read"
            try:
                self.sock.shutdown(socket.SHUT_RDWR)     # the frame is cut: nothing more may follow
            except OSError:
                pass
            raise ConnectionClosed(self.close_reason, self.close_message)

    def _close_now(self, reason, message):
        self.close_reason, self.close_message = reason, message
        try:
            self.sock.sendall(self.ws.send(CloseConnection(reason, message)))
        except OSError:
            pass
        self.connected = False
        self.event.set()            # a handler waiting in receive() wakes and sees it closed
