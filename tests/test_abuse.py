"""What a hostile or clumsy client can do to the real server, and that it holds.

Every test starts `python app.py` and does what no browser would: floods a
websocket, leaves connections half-open.  The server must stay within its
memory, keep feeding the other viewers and keep answering REST.  Load is
bounded in count and time.
"""
import json
import socket
import time

import psutil

from lab.web import worker
from tests.helpers import wait_until
from tests.test_server import call, lab_init
from tests.test_stream import Stream
from tests.wsclient import RawViewer


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
