"""The real server: `python app.py`, started and killed as a user would."""
import json
import signal
import urllib.error
import urllib.request

import pytest

from tests.helpers import lab_pids, wait_until


def call(server, method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


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
    init = next(p["pid"] for p in call(server, "GET", "/api/snapshot")[1]["processes"] if p["run"] is None)
    wait_until(lambda: len(lab_pids(init=init)) >= 7 + 2 + 2)
    server.proc.send_signal(sig)
    wait_until(lambda: not lab_pids(init=init), timeout=2.0,
               message=f"lab processes alive 2 s after {sig.name} to the app: {lab_pids(init=init)}")
