"""The real server: `python app.py`, started and killed as a user would."""
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import psutil
import pytest
import simple_websocket

import app
from tests.helpers import lab_pids, proc_stat, wait_until


def call(server, method, path, body=None, headers=None, timeout=10, token=True):
    """One REST call to a live server, with its control token unless token=False
    (or the headers carry their own Authorization or Cookie)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **(headers or {})}
    if token and server.token and not {"Authorization", "Cookie"} & set(headers):
        headers["Authorization"] = f"Bearer {server.token}"
    req = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def lab_init(server):
    """Lab init's pid, from the snapshot (the one process of no run)."""
    return next(p["pid"] for p in call(server, "GET", "/api/snapshot")[1]["processes"] if p["run"] is None)


def test_serves_on_loopback_with_a_production_server(live_server):
    server = live_server()
    assert server.banner.strip().startswith(f"Process & Socket Lab: http://127.0.0.1:{server.port}/")
    status, body = call(server, "GET", "/api/labs")
    assert status == 200 and any(lab["name"] == "zombie" for lab in body["labs"])
    server.stop(signal.SIGINT)
    assert server.proc.returncode == 0
    assert "development server" not in server.output and "Traceback" not in server.output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_stopping_the_app_leaves_no_lab_process(live_server, sig):
    server = live_server()
    for lab, params in [("fork_tree", {"depth": 2, "breadth": 2}), ("zombie", {}), ("orphan", {})]:
        status, body = call(server, "POST", f"/api/labs/{lab}/start", params)
        assert status == 201, body
    init = lab_init(server)
    wait_until(lambda: len(lab_pids(init=init)) >= 7 + 2 + 2)
    server.proc.send_signal(sig)
    wait_until(lambda: not lab_pids(init=init), timeout=2.0,
               message=f"lab processes alive 2 s after {sig.name} to the app: {lab_pids(init=init)}")


def test_ctrl_c_stops_the_worker_without_the_masters_sigkill(live_server):
    """Ctrl-C reaches gunicorn's worker twice: from the terminal, and as the
    master's SIGQUIT a moment later.  That second quit (or a third) used to
    land inside the first: deadlocked on the thread pool's shutdown lock, or
    cutting the lab's shutdown short, the worker hung until the master
    SIGKILLed it ("Perhaps out of memory?"); once Python had exited, a late
    SIGQUIT killed it with a core dump."""
    server = live_server(own_group=True)
    status, body = call(server, "POST", "/api/labs/zombie/start", {})
    assert status == 201, body
    init = lab_init(server)
    worker = psutil.Process(init).ppid()       # lab init is the worker's child
    assert psutil.Process(worker).ppid() == server.proc.pid
    worker_fd = os.pidfd_open(worker)          # the storm can reach no other process
    try:
        os.killpg(server.proc.pid, signal.SIGINT)
        # More quits through its whole stop, as a storm: at most 10000 of them, well
        # within its signal wakeup pipe (64 KiB, a byte a signal)
        storm = time.monotonic() + 1.0
        for _ in range(10000):
            try:
                signal.pidfd_send_signal(worker_fd, signal.SIGQUIT)
            except ProcessLookupError:
                break
            if time.monotonic() > storm:
                break
            time.sleep(0.0001)
    finally:
        os.close(worker_fd)
    assert_stopped_cleanly(server, init)


def test_sigterm_with_viewers_stops_without_the_masters_sigkill(live_server):
    """SIGTERM (systemd's stop) is gunicorn's graceful stop: it waited for open
    websockets to end, but they end only when the lab closes, after the wait,
    and the master SIGKILLed the worker in the middle of closing it.  A viewer
    that no longer reads (a laptop gone to sleep) held the worker's exit too."""
    server = live_server()
    assert call(server, "POST", "/api/labs/orphan/start", {})[0] == 201
    init = lab_init(server)
    viewers = [simple_websocket.Client.connect(f"ws://127.0.0.1:{server.port}/ws") for _ in range(3)]
    asleep = silent_viewer(server)
    try:
        for viewer in viewers:
            assert json.loads(viewer.receive(timeout=5))["type"] == "snapshot"
        server.proc.send_signal(signal.SIGTERM)
        assert_stopped_cleanly(server, init)
    finally:
        asleep.close()
        for viewer in viewers:
            with contextlib.suppress(simple_websocket.ConnectionClosed):    # the server closed it
                viewer.close()


def silent_viewer(server):
    """A websocket that shakes hands and then never reads nor answers again."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.putrequest("GET", "/ws")
    for name, value in (("Upgrade", "websocket"), ("Connection", "Upgrade"),
                        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")):
        conn.putheader(name, value)
    conn.endheaders()
    assert conn.getresponse().status == 101
    return conn


def assert_stopped_cleanly(server, init):
    # Past graceful_timeout the master SIGKILLs the worker, and after a SIGTERM it
    # says nothing: the deadline tells the two endings apart (it is no speed target).
    try:
        server.proc.wait(app.GRACEFUL_TIMEOUT - 0.25)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the server ran past graceful_timeout ({app.GRACEFUL_TIMEOUT} s): "
                    "the master SIGKILLs its worker then")
    server.stop()
    # "Worker (pid:N) was sent SIGKILL!" / "was sent SIGQUIT!", or a traceback
    assert "was sent" not in server.output and "Traceback" not in server.output, server.output
    assert server.proc.returncode == 0
    wait_until(lambda: not lab_pids(init=init), timeout=2.0)


def test_a_stopped_worker_does_not_stop_lab_init(live_server):
    """SIGSTOP the worker (as Ctrl-Z of `make run` does) for twice a run's
    lifetime, while a class keeps loading a lab's web page (3 lines of log
    each): lab init used to block in a send to the stopped worker, and stopped
    reaping and enforcing lifetimes.  Now the runs die on time, the zombie is
    reaped, and once the worker runs again it learns what happened."""
    server = live_server("--lifetime", "2")
    begun = time.monotonic()
    status, zombie_run = call(server, "POST", "/api/labs/zombie/start", {})
    assert status == 201
    status, web = call(server, "POST", "/api/labs/http_server/start", {"delay": 0})
    assert status == 201
    init = lab_init(server)
    snapshot = lambda: call(server, "GET", "/api/snapshot")[1]       # noqa: E731
    zombie = wait_until(lambda: next((p["pid"] for p in snapshot()["processes"] if p["state"] == "Z"), None))
    address = wait_until(lambda: call(server, "GET", f"/api/runs/{web['run']}")[1]["endpoints"])[0]["address"]
    host, port = address.rsplit(":", 1)
    worker = psutil.Process(init).ppid()
    os.kill(worker, signal.SIGSTOP)
    try:
        for _ in range(3000):                        # a few MB of log and terminal, in 2 s at most
            try:
                with socket.create_connection((host, int(port)), timeout=1) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
                    while s.recv(65536):
                        pass
            except OSError:
                break                                # the lifetime: the server is gone
        wait_until(lambda: not lab_pids(init=init), timeout=max(0.1, begun + 3.0 - time.monotonic()),
                   message="a run outlived its lifetime while the worker was stopped")
        wait_until(lambda: proc_stat(zombie) is None, timeout=1.0,     # reaped by lab init, worker stopped
                   message="the zombie was not reaped while the worker was stopped")
        while time.monotonic() - begun < 4.0:        # stopped for twice the lifetime
            assert proc_stat(init)[0] in "RS"
            time.sleep(0.1)
    finally:
        os.kill(worker, signal.SIGCONT)
    for run in (zombie_run, web):
        body = wait_until(lambda: (lambda b: b if b["state"] == "ended" else None)(
            call(server, "GET", f"/api/runs/{run['run']}")[1]))
        assert body["reason"] == {"code": "lifetime", "seconds": 2.0}
    resync = wait_until(lambda: [e for e in snapshot()["events"] if e["kind"] == "resync"])
    assert sum(resync[0]["missed"].values()) > 0
    assert call(server, "POST", "/api/labs/zombie/start", {})[0] == 201


def test_a_killed_lab_init_is_replaced_and_starting_works_again(live_server):
    """kill -9 of lab init: its lab processes go, its runs end saying why, and a
    new lab init takes over: a start succeeds within 2 s (it was 503 until the
    dashboard was restarted by hand)."""
    server = live_server()
    status, run = call(server, "POST", "/api/labs/orphan/start", {})
    assert status == 201
    old = lab_init(server)
    worker = psutil.Process(old).ppid()
    wait_until(lambda: len(lab_pids(init=old)) >= 3)
    killed = time.monotonic()
    os.kill(old, signal.SIGKILL)
    started = wait_until(lambda: (lambda r: r if r[0] == 201 else None)(
        call(server, "POST", "/api/labs/zombie/start", {})), timeout=2.0, interval=0.2)   # within the start rate
    assert time.monotonic() - killed < 2.0
    assert not lab_pids(init=old)
    new = lab_init(server)
    assert new != old and proc_stat(new)[1] == worker            # the worker started it, as the first
    assert proc_stat(started[1]["session"])[1] == new
    assert proc_stat(started[1]["pid"]) is not None
    body = call(server, "GET", f"/api/runs/{run['run']}")[1]
    assert body["state"] == "ended" and body["reason"] == {"code": "lab_init_lost", "pid": old, "signal": "SIGKILL"}
    told = wait_until(lambda: [e for e in call(server, "GET", "/api/snapshot")[1]["events"] if e["kind"] == "lab_init"])
    assert [(e["code"], e["old"], e["pid"], e["runs"]) for e in told] == [("replaced", old, new, [run["run"]])]
    server.stop()
    assert "Traceback" not in server.output, server.output


def test_a_realtime_signal_and_a_click_past_the_cap_break_nothing(live_server):
    """SIGRTMIN+1 to a lab program: no traceback in its terminal (the run's
    session could not name it).  "add client" past the run's cap: a 409 that
    says so, and the run lives on (it used to start, and the cap killed the
    whole run)."""
    server = live_server("--run-cap", "4")
    status, run = call(server, "POST", "/api/labs/fork_basics/start", {})
    assert status == 201
    wait_until(lambda: len(lab_pids(run["run"], lab_init(server))) == 3)
    assert call(server, "POST", f"/api/processes/{run['pid']}/signal",
                {"signal": "SIGRTMIN+1", "target": "group"})[0] == 200        # parent and child
    ended = wait_until(lambda: (lambda b: b if b["state"] == "ended" else None)(
        call(server, "GET", f"/api/runs/{run['run']}")[1]))
    assert ended["exit"] == {"signal": "SIGRTMIN+1"}
    terminal = call(server, "GET", f"/api/runs/{run['run']}/terminal")[1]["data"]
    assert "Real-time signal 1" in terminal and "Traceback" not in terminal
    status, web = call(server, "POST", "/api/labs/tcp_fork_server/start", {})
    assert status == 201
    wait_until(lambda: call(server, "GET", f"/api/runs/{web['run']}")[1]["endpoints"])
    assert call(server, "POST", f"/api/runs/{web['run']}/actions/add_client", {})[0] == 200     # 1 + 2 of 4
    status, body = call(server, "POST", f"/api/runs/{web['run']}/actions/add_client", {})
    assert status == 409 and body["detail"]["code"] == "run_cap", body
    assert call(server, "GET", f"/api/runs/{web['run']}")[1]["state"] == "running"
