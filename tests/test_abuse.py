"""What a hostile or clumsy client can do to the real server, and that it holds.

Every test starts `python app.py` and does what no browser would: floods a
websocket, leaves connections half-open.  The server must stay within its
memory, keep feeding the other viewers and keep answering REST.  Load is
bounded in count and time.
"""
import json
import socket
import struct
import time

import psutil
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, RejectConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

from lab.web import worker
from tests.helpers import wait_until
from tests.test_server import call, lab_init
from tests.test_stream import Stream


def worker_of(server):
    """The gunicorn worker: lab init's parent."""
    return psutil.Process(psutil.Process(lab_init(server)).ppid())


def test_a_websocket_flood_is_cut_off_and_the_others_stay_fed(live_server):
    """A viewer needs no token; it has nothing to say but a resync now and then.
    100,000 messages of 4 KB (deflated to 31 bytes each, 3 MB on the wire) used
    to pile up in the worker (+40 MB, kept); now the viewer is closed with 1008
    after a few, and another viewer's frames keep coming."""
    server = live_server()
    assert call(server, "POST", "/api/labs/semaphore/start",
                {"k": 1, "n": 8, "hold": 0.1, "rounds": 10})[0] == 201      # a change every 0.1 s
    watcher = Stream(server)
    watcher.until(lambda: watcher.seq is not None and watcher.seq > 5)
    worker = worker_of(server)
    before = worker.memory_info().rss
    message = json.dumps({"type": "resync", "pad": " " * 3900})
    arrivals = []
    for _ in range(3):                                   # it comes back, twice
        flooder = RawViewer(server.port)
        flooder.flood(message, 100_000)
        assert flooder.wait_closed() == (1008, "too many messages")
        flooder.close()
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            seq = watcher.seq
            watcher.pump(0.05)
            if watcher.seq != seq:
                arrivals.append(time.monotonic())
    grown = worker.memory_info().rss - before
    assert grown < 8 << 20, f"the worker grew by {grown >> 20} MB"
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert len(arrivals) >= 5 and max(gaps) < 1.0, arrivals
    watcher.ws.send('{"type": "resync"}')                # its own few messages are fine
    watcher.until(lambda: watcher.seq is not None)
    watcher.close()
    assert call(server, "GET", "/api/runs")[0] == 200


def test_half_open_requests_take_no_thread_and_rest_still_answers(live_server):
    """300 connections that send half a request head, 60 that send nothing,
    and 20 that announce a body and send a bit of it, all at once: gthread gave
    each a thread that blocked until the request was whole, and 256 of them
    stopped every REST call and every new viewer.  Now they wait in the
    worker's loop, each until HEAD_TIMEOUT, when it is answered 408.  And 10
    whole requests whose clients never close their side: gthread's close
    waited for them in its loop, 2 s each, while nothing else was served."""
    server = live_server()
    assert worker.HEAD_TIMEOUT <= 5.0                    # this test waits for it
    host = f"127.0.0.1:{server.port}"
    idle = []
    try:
        for n in range(380):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            if n < 300:
                s.sendall(f"GET /api/runs HTTP/1.1\r\nHost: {host}\r\nX-Part: ".encode())
            elif n >= 360:
                s.sendall(f"POST /api/reset HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: 100\r\n\r\n{{\"a\": ".encode())
            idle.append(s)
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(f"GET /api/labs HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            idle.append(s)
        opened = time.monotonic()
        for _ in range(5):
            started = time.monotonic()
            status, body = call(server, "GET", "/api/runs", timeout=1.0)
            assert status == 200 and body == {"runs": []}
            assert time.monotonic() - started < 1.0
        viewer = Stream(server)                          # a new viewer gets in too
        viewer.until(lambda: viewer.seq is not None)
        viewer.close()
        assert call(server, "POST", "/api/labs/zombie/start", {}, timeout=1.0)[0] == 201
        # The half-open ones are answered 408 at their deadline, and closed.
        for s in (idle[0], idle[330], idle[370]):
            s.settimeout(worker.HEAD_TIMEOUT + 3 - (time.monotonic() - opened))
            answer = s.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
            assert b'"error": "the request did not arrive within' in answer
        assert call(server, "GET", "/api/runs", timeout=1.0)[0] == 200
    finally:
        for s in idle:
            s.close()
    server.stop()
    assert "Traceback" not in server.output, server.output


def test_viewers_that_leave_however_they_leave_leave_no_traceback(live_server):
    """A viewer that closes, one whose socket just ends, one reset mid-stream:
    ordinary departures, each was an ERROR with a traceback in the log."""
    server = live_server()
    assert call(server, "POST", "/api/labs/semaphore/start", {"k": 1, "n": 4, "hold": 0.1})[0] == 201
    worker, ports = worker_of(server), []
    for leave in ("close", "end", "reset"):
        viewer = RawViewer(server.port)
        ports.append(viewer.sock.getsockname()[1])
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:           # frames flowing: a send may be under way
            viewer._read()
        if leave == "close":
            viewer.sock.sendall(viewer.ws.send(CloseConnection(1000)))
        elif leave == "reset":
            viewer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        viewer.close()
    # the server notices (its next send fails, or its reader sees the end) and lets go
    wait_until(lambda: not [c for c in worker.net_connections("tcp") if c.raddr and c.raddr.port in ports])
    assert call(server, "GET", "/api/runs")[0] == 200
    server.stop()
    assert "Traceback" not in server.output and "ERROR" not in server.output, server.output


class RawViewer:
    """A websocket viewer that sends what a browser never would: simple-websocket's
    client sends one message a call, an attacker thousands in one write.  wsproto
    over a plain socket, with permessage-deflate as browsers offer it."""
    def __init__(self, port, host="127.0.0.1", headers=()):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host=f"{host}:{port}", target="/ws",
                                               extensions=[PerMessageDeflate()],
                                               extra_headers=list(headers))))
        self.accepted, self.closed, self.texts = None, None, []
        while self.accepted is None:
            self._read()

    def _read(self):
        data = self.sock.recv(65536)
        self.ws.receive_data(data or None)
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                self.accepted = True
            elif isinstance(event, RejectConnection):
                self.accepted = False
            elif isinstance(event, TextMessage):
                self.texts.append(event.data)
            elif isinstance(event, CloseConnection):
                self.closed = (event.code, event.reason)
        return bool(data)

    def flood(self, message, count):
        """Send `count` copies of `message` (1000 in each write) as fast as the
        socket takes them; returns (messages sent, bytes on the wire)."""
        sent = wire = 0
        try:
            while sent < count:
                batch = b"".join(self.ws.send(TextMessage(data=message)) for _ in range(1000))
                self.sock.sendall(batch)
                sent, wire = sent + 1000, wire + len(batch)
        except OSError:          # reset: the server closed it
            pass
        return sent, wire

    def wait_closed(self, timeout=10):
        """The server's close frame (code, reason), or None if the socket just ended."""
        self.sock.settimeout(timeout)
        try:
            while self.closed is None and self._read():
                pass
        except OSError:
            pass
        return self.closed

    def close(self):
        self.sock.close()


def test_clients_that_never_read_their_answers_hold_no_thread(live_server):
    """40 clients that pipeline 100 requests each and never read the answers
    (a receive buffer of 1 KB), beside 240 viewers that never read either:
    the 16 threads kept for REST were each stuck writing to one of them, and
    REST stopped.  Now a client's next request waits in the worker's loop
    until it has taken its last answer."""
    server = live_server()
    host = f"127.0.0.1:{server.port}"
    stuck = []
    try:
        for _ in range(240):                                 # as many as may watch (--threads 256 - 16)
            viewer = RawViewer(server.port)
            viewer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            stuck.append(viewer.sock)
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.sendall(f"GET /api/labs HTTP/1.1\r\nHost: {host}\r\n\r\n".encode() * 100)
            stuck.append(s)
        deadline = time.monotonic() + 2.5                    # it failed at once, when it did
        while time.monotonic() < deadline:
            started = time.monotonic()
            status, _ = call(server, "GET", "/api/runs", timeout=1.0)
            assert status == 200 and time.monotonic() - started < 1.0
            time.sleep(0.2)
    finally:
        for s in stuck:
            s.close()
