"""The websocket /ws against the real server: snapshot + diffs == /api/snapshot, and events."""
import concurrent.futures
import json
import time

import pytest
import simple_websocket

from tests.helpers import wait_until
from tests.test_server import call


class Stream:
    """A websocket viewer that applies diffs to its snapshot, as the browser does."""

    def __init__(self, server, **headers):
        self.ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{server.port}/ws", headers=headers)
        self.processes, self.runs, self.seq = {}, [], None
        self.events, self.terminal, self.errors = [], {}, []

    def pump(self, timeout=0.1):
        """Read frames for up to timeout seconds; apply them."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.ws.receive(timeout=max(0.0, deadline - time.monotonic()))
            if frame is None:
                return
            msg = json.loads(frame)
            if msg["type"] == "snapshot":
                self.processes = {p["pid"]: p for p in msg["processes"]}
                self.runs, self.seq = msg["runs"], msg["seq"]
            elif msg["type"] == "diff":
                assert msg["seq"] == self.seq + 1, f"seq jumped from {self.seq} to {msg['seq']}"
                self.seq = msg["seq"]
                for pid in msg["remove"]:
                    self.processes.pop(pid, None)
                for proc in msg["upsert"]:
                    self.processes[proc["pid"]] = proc
                if "runs" in msg:
                    self.runs = msg["runs"]
            elif msg["type"] == "event":
                self.events.append(msg["event"])
            elif msg["type"] == "terminal":
                self.terminal[msg["run"]] = self.terminal.get(msg["run"], "") + msg["data"]
            elif msg["type"] == "error":
                self.errors.append(msg)

    def until(self, predicate, timeout=5.0):
        def check():
            self.pump(0.05)
            return predicate()
        return wait_until(check, timeout=timeout)

    def find(self, kind, pid=None, run=None):
        return [e for e in self.events if e["kind"] == kind
                and (pid is None or e.get("pid") == pid) and (run is None or e.get("run") == run)]

    def close(self):
        self.ws.close()


@pytest.fixture
def server(live_server):
    return live_server()


@pytest.fixture
def stream(server):
    s = Stream(server)
    s.pump(0.5)
    yield s
    s.close()


def test_diffs_applied_to_the_snapshot_equal_the_rest_snapshot(server, stream):
    for lab in ("fork_tree", "zombie", "driver_conductor"):
        assert call(server, "POST", f"/api/labs/{lab}/start", {})[0] == 201
    stream.until(lambda: len(stream.processes) >= 1 + 3 + 7 + 2 + 2)   # lab init, 3 sessions, 7+2+2
    for _ in range(50):          # converge on the same seq, then compare everything
        status, rest = call(server, "GET", "/api/snapshot")
        stream.until(lambda: stream.seq >= rest["seq"])
        if stream.seq == rest["seq"]:
            break
    assert stream.seq == rest["seq"]
    assert stream.processes == {p["pid"]: p for p in rest["processes"]}
    assert stream.runs == rest["runs"]


def test_lifecycle_events_of_a_zombie_and_an_orphan(server, stream):
    status, zombie_run = call(server, "POST", "/api/labs/zombie/start", {})
    status, orphan_run = call(server, "POST", "/api/labs/orphan/start", {})
    launcher = next(p["pid"] for p in stream.until(lambda: list(stream.processes.values()))
                    if p["run"] is None)

    zombie = stream.until(lambda: [p for p in stream.processes.values()
                                   if p["run"] == zombie_run["run"] and p["state"] == "Z"])[0]
    assert stream.find("spawned", zombie["pid"])               # the fork, from the process itself
    assert stream.until(lambda: stream.find("zombie", zombie["pid"]))
    assert call(server, "POST", f"/api/runs/{zombie_run['run']}/actions/kill_parent", {})[0] == 200
    exited = stream.until(lambda: stream.find("exited", zombie["pid"]))[0]
    assert exited["by"] == launcher and exited["code"] is not None
    assert exited["role"] == "child"               # who it was, though it is gone
    parent_exit = stream.until(lambda: stream.find("exited", zombie_run["pid"]))[0]
    assert parent_exit["signal"] == "SIGKILL"

    child = stream.until(lambda: [p for p in stream.processes.values()
                                  if p["run"] == orphan_run["run"] and p["role"] == "child"])[0]
    assert call(server, "POST", f"/api/runs/{orphan_run['run']}/actions/parent_exits", {})[0] == 200
    moved = stream.until(lambda: stream.find("reparented", child["pid"]))[0]
    assert (moved["old"], moved["new"]) == (orphan_run["pid"], launcher)
    assert stream.processes[child["pid"]]["ppid"] == launcher
    # the parent's own exit, reported by the run's session (its parent), with its code
    assert stream.until(lambda: stream.find("exited", orphan_run["pid"]))[0]["code"] == 0

    # no event ever claims the killed parent reaped its zombie: lab init did
    stream.pump(0.5)
    assert not [e for e in stream.find("reaped", zombie["pid"]) + stream.find("gone", zombie["pid"])]

    # reaped by the parent itself: fork_basics' parent waits when told
    status, basics = call(server, "POST", "/api/labs/fork_basics/start", {"child_hold": 0.5})
    assert status == 201, basics
    kid = stream.until(lambda: [p for p in stream.processes.values()
                                if p["run"] == basics["run"] and p["ppid"] == basics["pid"]])[0]
    stream.until(lambda: stream.find("zombie", kid["pid"]))
    assert call(server, "POST", f"/api/runs/{basics['run']}/actions/parent_wait", {})[0] == 200
    reaped = stream.until(lambda: stream.find("reaped", kid["pid"]))[0]
    assert reaped["by"] == basics["pid"]


def test_resync_sends_a_fresh_snapshot(server, stream):
    stream.until(lambda: stream.seq is not None)
    stream.processes.clear()                       # forget everything: the snapshot restores it
    stream.ws.send(json.dumps({"type": "resync"}))
    stream.until(lambda: stream.processes)
    stream.ws.send("not json")                     # a bad message: an error frame, not a hang-up
    stream.until(lambda: stream.errors)


def test_foreign_origin_websocket_is_refused(server):
    with pytest.raises(simple_websocket.ConnectionError):
        Stream(server, Origin="http://evil.example")


def test_websocket_handshake_for_a_foreign_host_name_is_refused(server):
    """DNS rebinding again: a page at evil.example (resolving to 127.0.0.1) may not watch."""
    import http.client
    for host, expected in (("evil.example:5000", 403), (f"127.0.0.1:{server.port}", 101)):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.putrequest("GET", "/ws", skip_host=True)
        for name, value in (("Host", host), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                            ("Sec-WebSocket-Version", "13"), ("Origin", f"http://{host}")):
            conn.putheader(name, value)
        conn.endheaders()
        assert conn.getresponse().status == expected, host
        conn.close()


@pytest.mark.parametrize("missing", ["Sec-WebSocket-Key", "Sec-WebSocket-Version"])
def test_a_broken_handshake_gets_a_400_and_the_stream_goes_on(server, missing):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.putrequest("GET", "/ws")
    for name, value in (("Upgrade", "websocket"), ("Connection", "Upgrade"),
                        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")):
        if name != missing:
            conn.putheader(name, value)
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 400
    assert json.loads(response.read())["error"] == "bad websocket handshake"
    conn.close()
    stream = Stream(server)         # a well-formed one still works, and the slot came back
    stream.until(lambda: stream.seq is not None)
    stream.close()


def test_viewers_are_capped_below_the_server_threads_and_messages_are_small(live_server):
    """Each viewer holds a thread: past the cap a viewer is turned away before the
    handshake, and the REST API keeps answering.  A huge message closes its viewer."""
    server = live_server("--threads", "20")              # 4 viewers at most, 16 threads kept
    with concurrent.futures.ThreadPoolExecutor(12) as pool:    # 12 handshakes at once: 4 get in
        streams = [s for s in pool.map(lambda _: _try_stream(server), range(12)) if s]
    try:
        assert len(streams) == 4
        with pytest.raises(simple_websocket.ConnectionError) as refused:
            Stream(server)
        assert refused.value.status_code == 503
        assert call(server, "GET", "/api/runs")[0] == 200
        streams[0].ws.send("x" * 10000)                  # over max_message_size
        with pytest.raises(simple_websocket.ConnectionClosed):
            for _ in range(50):
                streams[0].ws.receive(timeout=0.1)
        streams[0] = wait_until(lambda: _try_stream(server), message="its place was not freed")
        streams[1].ws.send('{"type": "resync"}')         # the others still work
        streams[1].until(lambda: streams[1].seq is not None)
    finally:
        for stream in streams:
            stream.close()


def _try_stream(server):
    try:
        return Stream(server)
    except simple_websocket.ConnectionError:
        return None
