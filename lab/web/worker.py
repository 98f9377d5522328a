"""The dashboard's gunicorn worker: gthread, which stops once and at once, and
gives a thread only to a request that has fully arrived.

gthread (gunicorn 27) runs a main loop (a selector) that accepts
connections and hands each to a thread pool.  What differs here:

- Request heads are read in the main loop (lab.web.heads): a connection
  gets a thread only once its head and body are in, which must be within
  HEAD_TIMEOUT of its opening (of its next byte, once kept alive).
  Half-open requests cost a socket and a buffer, never a thread; past
  MAX_HEADS (or out of fds) the oldest is dropped.
- A connection is closed without the main loop waiting: gthread's graceful
  close lingers in the loop up to 2 s for the client to close its side (one
  client that never does stalls every accept); here the lingering waits in
  the selector with the others.
- A client that does not read its answers holds no thread: every socket
  gets a send buffer a whole reply fits in (REPLY_BUFFER), its next request
  waits in the loop until the last answer has left (DRAIN_LIMIT), and a
  reply that still does not fit waits IO_TIMEOUT at most.
- gunicorn's own refusals (a bad request line, a head too large) are JSON.

And the stop: see DashboardWorker.
"""
import collections
import ctypes
import errno
import fcntl
import json
import os
import resource
import selectors
import signal
import socket
import struct
import termios
import time
from functools import partial

from gunicorn import http, util
from gunicorn.workers.base import Worker
from gunicorn.workers.gthread import TConn, ThreadWorker

from lab.web.heads import Head, Refusal

HEAD_TIMEOUT = 5.0        # seconds from a request's first byte to its last (gthread waits 5 s too)
MAX_HEADS = 1024          # requests being read at once; the oldest goes first
IO_TIMEOUT = 5.0          # seconds a reply may wait for the client to take it
REPLY_BUFFER = 512 * 1024 # SO_SNDBUF (the kernel doubles it, up to net.core.wmem_max twice)
DRAIN_LIMIT = 64 * 1024   # unsent bytes past which a connection's next request waits
LINGER = 2.0              # seconds a closing connection waits for the client's FIN
SIG_IGN, SIG_ERR = 1, ctypes.c_void_p(-1).value     # <signal.h>: (sighandler_t) 1 and -1

libc = ctypes.CDLL(None, use_errno=True)
libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.signal.restype = ctypes.c_void_p


def _json_error(sock, status_int, reason, mesg):
    """gunicorn's answer to a request its parser refuses (a bad request line, a
    header it will not take), as everything here answers: JSON, not HTML."""
    body = json.dumps({"error": mesg or reason}).encode()
    util.write_nonblock(sock, b"HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: application/json\r\n"
                              b"Content-Length: %d\r\n\r\n%s" % (status_int, reason.encode("latin1", "replace"),
                                                                   len(body), body))


util.write_error = _json_error      # called by Worker.handle_error, which maps each error to its status


def _unsent(sock):
    """Bytes the kernel has not yet got the client to take (SIOCOUTQ)."""
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    except OSError:
        return 0


class Conn(TConn):
    """gthread's connection, with the request being read and a close that lingers
    in the loop.  As in gthread, the worker's count of connections (nr_conns)
    drops when it decides to close one, before the close."""

    def __init__(self, worker, *args):
        super().__init__(*args)
        self.worker = worker
        self.head = None            # the Head being read, while in the main loop
        self.deadline = None
        self.complete = False       # a whole request is buffered: the next enqueue is for real

    def close(self, graceful=False):
        if graceful:
            self.worker.linger(self)
        else:
            super().close()


class DashboardWorker(ThreadWorker):
    """gunicorn's threaded worker, which stops once, and at once.

    Ctrl-C reaches the worker twice: the terminal's SIGINT and, a moment
    later, the master's SIGQUIT.  gthread's quit handler shuts the thread
    pool down inside the signal handler, under a lock the main thread may
    hold at that moment (in the first quit's shutdown, or in submit()), and
    a later quit landed in the lab's shutdown (worker_exit) and cut it
    short.  The worker hung until the master SIGKILLed it ("Perhaps out of
    memory?"), about one Ctrl-C in ten.  So the first SIGINT, SIGQUIT or
    SIGTERM makes the kernel drop the others, no pool is shut down inside a
    handler, and the worker leaves as soon as the lab is closed (see
    app.DashboardServer._close_lab).  SIGTERM stops at once too: waiting for
    open websockets to drain would only run into the master's SIGKILL after
    graceful_timeout, since they close when the lab does.  That SIGKILL
    stays the backstop."""
    STOP_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM)
    stopping = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.heads = collections.OrderedDict()      # Conn -> None, oldest first
        self.draining = collections.OrderedDict()   # Conn -> None: the client has not read its answers
        self.closing = collections.OrderedDict()    # Conn -> None, lingering, oldest first
        self.spare = None                           # an fd kept to turn a connection away with
        self.told_fds = False
        self.max_heads = MAX_HEADS

    def init_process(self):
        self.spare = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)     # see out_of_fds
        super().init_process()

    def load_wsgi(self):
        """Once the app exists, the lab has raised the fd limit (engine.raise_fd_limit):
        requests being read, answers waiting and closes lingering may take a quarter each."""
        super().load_wsgi()
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if limit != resource.RLIM_INFINITY:
            self.max_heads = max(16, min(MAX_HEADS, limit // 4))

    # -- stopping ---------------------------------------------------------------
    def handle_quit(self, sig, frame):
        if self.stopping:        # handlers run in the main thread only: no race on the flag
            return               # (one caught before the kernel dropped them)
        self.stop_once()
        Worker.handle_quit(self, sig, frame)      # gunicorn's base: flag, worker_int, exit

    handle_exit = handle_quit

    def stop_once(self):
        """From now on the kernel drops the stop signals.  Set through libc,
        under Python: a signal caught just before still finds its Python
        handler, where Python's own SIG_IGN would report it "ignored due to
        race condition"."""
        self.stopping = True
        for sig in self.STOP_SIGNALS:
            if libc.signal(sig, SIG_IGN) == SIG_ERR:
                raise OSError(ctypes.get_errno(), f"signal({sig.name}, SIG_IGN)")

    def stopped(self):
        """Once the lab is closed (every signal caught before has been handled by
        then), Python learns they are ignored: its exit resets the handlers it
        knows to SIG_DFL, and a SIGQUIT after that would kill the worker with a
        core dump."""
        for sig in self.STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)

    # -- reading requests in the main loop ----------------------------------------
    def accept(self, listener):
        try:
            sock, client = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                self.out_of_fds(listener)
            elif exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, REPLY_BUFFER)
        except OSError:
            pass
        self.enqueue_req(Conn(self, self.cfg, sock, client, listener.getsockname()))

    def enqueue_req(self, conn):
        """Every way gthread gives a connection to a thread comes here: a new
        one, a kept-alive one that has data again, one with a next request
        already read.  Only a complete request goes on to a thread."""
        if conn.complete:
            conn.complete = False
            super().enqueue_req(conn)
            return
        if conn.parser is not None and _unsent(conn.sock) > DRAIN_LIMIT:
            # Kept alive or pipelining, it has not read what it was sent: the next
            # request waits here (murder_pending looks again), not in a thread.
            conn.deadline = time.monotonic() + IO_TIMEOUT
            while len(self.draining) >= self.max_heads:
                oldest = next(iter(self.draining))
                del self.draining[oldest]
                self.drop(oldest)
            self.draining[conn] = None
            return
        buffered = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.head, conn.deadline = Head(buffered), time.monotonic() + HEAD_TIMEOUT
        try:
            ready = buffered and conn.head.ready()
        except Refusal as refusal:
            self.refuse(conn, refusal)
            return
        if ready:
            self.dispatch(conn)
            return
        while len(self.heads) >= self.max_heads:
            oldest = next(iter(self.heads))
            self.forget_head(oldest)
            self.drop(oldest)
        self.heads[conn] = None
        conn.sock.setblocking(False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_head_data, conn))

    def out_of_fds(self, listener):
        """No fd for a new connection: give up the oldest request being read (or
        a closing one), or else turn the newcomer away through the spare fd,
        so the listener does not stay readable and the loop spin."""
        if self.heads:
            oldest = next(iter(self.heads))
            self.forget_head(oldest)
            self.drop(oldest)
        elif self.closing:
            self.stop_lingering(next(iter(self.closing)))
        elif self.spare is not None:
            os.close(self.spare)
            try:
                listener.accept()[0].close()
            except OSError:
                pass
            self.spare = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        if not self.told_fds:
            self.told_fds = True
            self.log.warning("out of file descriptors (RLIMIT_NOFILE %d): dropping the oldest connections",
                             resource.getrlimit(resource.RLIMIT_NOFILE)[0])

    def on_head_data(self, conn, sock):
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:                 # the client left mid-request
            self.forget_head(conn)
            self.drop(conn)
            return
        try:
            ready = conn.head.feed(data)
        except Refusal as refusal:
            self.forget_head(conn)
            self.refuse(conn, refusal)
            return
        if ready:
            self.forget_head(conn)
            self.dispatch(conn)
        elif conn.head.expects_continue:          # curl waits for this before sending a body
            conn.head.expects_continue = False
            try:
                sock.send(b"HTTP/1.1 100 Continue\r\n\r\n", socket.MSG_DONTWAIT)
            except OSError:
                pass

    def forget_head(self, conn):
        self.heads.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def dispatch(self, conn):
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(conn.head.take())
        conn.head, conn.data_ready, conn.complete = None, True, True
        self.enqueue_req(conn)

    def drop(self, conn):
        """Give a connection up at once: it no longer counts, and is closed."""
        self.nr_conns -= 1
        TConn.close(conn)

    def refuse(self, conn, refusal):
        """Answer a request that cannot be taken (no thread needed: it is small)."""
        body = json.dumps({"error": refusal.error}).encode()
        try:
            conn.sock.send(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                           b"Connection: close\r\n\r\n%s" % (refusal.status, refusal.reason.encode(),
                                                              len(body), body), socket.MSG_DONTWAIT)
        except OSError:
            pass
        self.nr_conns -= 1
        self.linger(conn)

    def linger(self, conn):
        """Close after the client has closed its side (or LINGER seconds), so a
        reply is not cut by a reset; waiting in the selector, not in the loop."""
        while len(self.closing) >= self.max_heads:
            self.stop_lingering(next(iter(self.closing)))
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_closing_data, conn))
        except (OSError, ValueError, KeyError):
            TConn.close(conn)
            return
        conn.deadline = time.monotonic() + LINGER
        self.closing[conn] = None

    def on_closing_data(self, conn, sock):
        try:
            if sock.recv(65536):
                return               # what it still sends is dropped
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self.stop_lingering(conn)

    def stop_lingering(self, conn):
        self.closing.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        TConn.close(conn)

    def murder_pending(self):
        """Every loop: requests not in by their deadline, closes that lingered long enough."""
        super().murder_pending()
        now = time.monotonic()
        while self.heads and next(iter(self.heads)).deadline <= now:
            conn = next(iter(self.heads))
            self.forget_head(conn)
            self.refuse(conn, Refusal(408, "Request Timeout",
                                      f"the request did not arrive within {HEAD_TIMEOUT:g} s"))
        while self.closing and next(iter(self.closing)).deadline <= now:
            self.stop_lingering(next(iter(self.closing)))
        for conn in list(self.draining):
            if _unsent(conn.sock) <= DRAIN_LIMIT:
                del self.draining[conn]
                self.enqueue_req(conn)
            elif conn.deadline <= now:
                del self.draining[conn]
                self.drop(conn)

    def handle_request(self, req, conn):
        """In a thread, with the request in hand: its reply may wait IO_TIMEOUT
        for the client.  A websocket sets its own deadlines (ViewerSocket)."""
        conn.sock.settimeout(IO_TIMEOUT)
        req._expected_100_continue = False      # said in the loop already (on_head_data): the body is here
        try:
            return super().handle_request(req, conn)
        except TimeoutError:
            self.log.info("a client did not take its reply within %g s", IO_TIMEOUT)
            return False
