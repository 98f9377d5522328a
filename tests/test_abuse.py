"""What a hostile or clumsy client can do to the real server, and that it holds.

Every test starts `python app.py` and does what no browser would: floods a
websocket, leaves connections half-open.  The server must stay within its
memory, keep feeding the other viewers and keep answering REST.  Load is
bounded in count and time.
"""
import json
import time

import psutil

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
