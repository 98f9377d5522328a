"""What the lab refuses, and how it says so: a 4xx JSON error whose detail is
data the page turns into words ({"code": "run_cap", ...}), and nothing broken.

Against the real lab init, through the Flask test client.
"""
import concurrent.futures

import pytest

from lab.web import create_app
from tests.helpers import lab_pids, wait_until
from tests.test_labs import processes, start


@pytest.fixture
def small_app():
    """A dashboard whose runs may have 4 processes each, 6 in all."""
    app = create_app({"TESTING": True, "SAMPLE_HZ": 20.0, "RUN_CAP": 4, "TOTAL_CAP": 6})
    yield app
    app.extensions["proclab"].close()


def add_client(client, run):
    return client.post(f"/api/runs/{run}/actions/add_client")


def test_add_client_past_the_run_cap_is_refused_and_the_run_lives_on(small_app):
    """A fork server's client brings two processes (itself and the server's child):
    the second click would make 5 of 4.  It used to start anyway, and the cap then
    killed the whole run."""
    client, engine = small_app.test_client(), small_app.extensions["proclab"]
    run = start(client, "tcp_fork_server")
    wait_until(lambda: engine.supervisor.get(run["run"]).endpoints)
    res = add_client(client, run["run"])
    assert res.status_code == 200 and isinstance(res.get_json()["pid"], int)
    wait_until(lambda: len(processes(client, run["run"])) == 3)        # server, its child, the client
    res = add_client(client, run["run"])
    assert res.status_code == 409
    assert res.get_json()["detail"] == {"code": "run_cap", "run": run["run"], "processes": 3, "adds": 2, "cap": 4}
    assert "cap of 4" in res.get_json()["error"]
    assert engine.supervisor.get(run["run"]).state == "running"
    assert len(processes(client, run["run"])) == 3
    refused = [e for e in engine.hub.events if e.get("kind") == "control" and e["action"] == "refused"]
    assert refused and refused[-1]["run"] == run["run"]


def test_a_spawn_past_the_total_cap_is_refused(small_app):
    client, engine = small_app.test_client(), small_app.extensions["proclab"]
    first = start(client, "tcp_thread_server")
    second = start(client, "fork_basics")                  # 1 + 2 = 3 of 6
    wait_until(lambda: engine.supervisor.get(first["run"]).endpoints)
    for _ in range(3):                                      # 3 clients: 6 of 6
        assert add_client(client, first["run"]).status_code == 200
    wait_until(lambda: len(lab_pids(first["run"], engine.launcher_pid)) == 1 + 1 + 3)   # and its session
    res = add_client(client, first["run"])
    assert res.status_code == 409 and res.get_json()["detail"]["code"] == "run_cap"    # 4 of its own
    wait_until(lambda: len(processes(client, second["run"])) == 2)
    res = client.post("/api/labs/fork_basics/start", json={})
    assert res.status_code == 409
    assert res.get_json()["detail"] == {"code": "total_cap", "processes": 6, "adds": 2, "cap": 6}
    assert [r["state"] for r in client.get("/api/runs").get_json()["runs"]] == ["running", "running"]


def test_terminal_input_that_is_not_delivered_says_so(client, engine):
    """A program in raw mode that never reads its terminal: the kernel's buffers
    fill (some 12 KB), and what does not fit cannot be delivered.  (In canonical
    mode the line discipline itself drops what passes its 4 KB line, as on any
    terminal.)"""
    run = engine.supervisor.start_run("t", {}, ["-c", "import time, tty; tty.setraw(0); print('raw', flush=True); time.sleep(60)"])
    wait_until(lambda: b"raw" in run.output)
    answers = []
    for _ in range(40):                    # 160 KB at most
        answers.append(client.post(f"/api/runs/{run.id}/terminal", json={"data": "x" * 4000}))
        if answers[-1].status_code != 200:
            break
    assert answers[0].status_code == 200 and answers[0].get_json()["written"] == 4000
    refused = [a for a in answers if a.status_code != 200]
    assert refused, [a.get_json() for a in answers]
    detail = refused[0].get_json()["detail"]
    assert refused[0].status_code == 409 and detail["code"] == "terminal_full"
    assert detail["size"] == 4000 and 0 <= detail["written"] < 4000
    assert "terminal input is full" in refused[0].get_json()["error"]
    assert run.state == "running"


def test_caps_hold_against_many_requests_at_once(small_app):
    """Ten starts at once, then ten "add client" clicks at once: each used to see
    the lab as it was before the others forked, and all got in (the caps then
    killed the runs).  What lab init let in a moment ago counts as there."""
    engine = small_app.extensions["proclab"]
    post = lambda path, body=None: small_app.test_client().post(path, json=body or {})   # noqa: E731
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: post("/api/labs/fork_basics/start").status_code, range(10)))
    assert sorted(codes) == [201] * 3 + [409] * 7          # 2 each, 6 in all
    wait_until(lambda: len(lab_pids(init=engine.launcher_pid)) == 3 * 3)      # and their sessions
    assert all(r["state"] == "running" for r in small_app.test_client().get("/api/runs").get_json()["runs"])
    small_app.test_client().post("/api/reset")
    run = start(small_app.test_client(), "tcp_fork_server")
    wait_until(lambda: engine.supervisor.get(run["run"]).endpoints)
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: post(f"/api/runs/{run['run']}/actions/add_client").status_code, range(10)))
    assert sorted(codes) == [200] + [409] * 9              # 1 server + 2 for its one client: 3 of 4
    wait_until(lambda: len(processes(small_app.test_client(), run["run"])) == 3)
    assert engine.supervisor.get(run["run"]).state == "running"
