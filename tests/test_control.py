"""Control and safety: signals and renice reach lab processes and nothing else."""
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from tests.helpers import proc_stat, wait_until
from tests.test_labs import by_role, processes, start
from tests.test_server import call


def ps_field(pid, field):
    out = subprocess.run(["ps", "-o", f"{field}=", "-p", str(pid)], capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture
def stranger():
    """A process of the same user that is not a lab process."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_only_lab_processes_can_be_signalled_or_reniced(client, engine, stranger):
    init_nice = ps_field(1, "ni")             # not always 0: a container's init may run at -10
    run = start(client, "zombie")
    zombie = wait_until(lambda: [p for p in processes(client, run["run"]).values() if p["state"] == "Z"])[0]
    assert client.post(f"/api/runs/{run['run']}/actions/parent_wait").status_code == 200
    wait_until(lambda: proc_stat(zombie["pid"]) is None)       # exited and reaped: its pid may be reused
    for pid in (1, os.getpid(), stranger.pid, zombie["pid"]):
        for path, body in (("signal", {"signal": "SIGKILL"}), ("signal", {"signal": "SIGSTOP", "target": "group"}),
                           ("renice", {"nice": 19})):
            res = client.post(f"/api/processes/{pid}/{path}", json=body)
            assert res.status_code == 404, (pid, path, res.get_json())
            assert "not a lab process" in res.get_json()["error"]
    assert stranger.poll() is None and ps_field(stranger.pid, "stat").startswith("S")
    assert ps_field(stranger.pid, "ni") == "0" and ps_field(1, "ni") == init_nice
    # lab init can be looked at, not touched
    res = client.post(f"/api/processes/{engine.launcher_pid}/signal", json={"signal": "SIGTERM"})
    assert res.status_code == 403
    refused = [e for e in engine.hub.events if e.get("kind") == "control" and e["action"] == "refused"]
    assert len(refused) >= 12


def test_signal_reply_says_what_was_sent_and_its_default(client):
    run = start(client, "fork_basics")
    res = client.post(f"/api/processes/{run['pid']}/signal", json={"signal": 19})
    assert res.status_code == 200
    assert res.get_json() | {"run": None} == {"pid": run["pid"], "run": None, "signal": "SIGSTOP",
                                               "number": 19, "target": "pid", "pgid": run["pid"],
                                               "default_action": "stop"}
    # visible at once: the control action re-sampled before replying
    assert processes(client, run["run"])[run["pid"]]["stat"] == "T+"
    res = client.post(f"/api/processes/{run['pid']}/signal", json={"signal": "cont"})
    assert res.get_json()["signal"] == "SIGCONT" and res.get_json()["default_action"] == "continue"
    res = client.post(f"/api/processes/{run['pid']}/signal", json={"signal": "SIGRTMIN+3"})
    assert res.status_code == 200 and res.get_json()["number"] == 37


def test_group_reaches_the_whole_group_and_pid_exactly_one(client):
    run = start(client, "driver_conductor")
    driver = by_role(client, run["run"], "driver")[0]
    conductor = by_role(client, run["run"], "conductor")[0]

    def stats():
        """STAT of driver and conductor; running or sleeping both count as "not stopped"."""
        procs = processes(client, run["run"])
        return tuple(procs[p["pid"]]["stat"].replace("R", "S") for p in (driver, conductor))

    res = client.post(f"/api/processes/{conductor['pid']}/signal", json={"signal": "SIGSTOP"})
    assert res.status_code == 200
    assert stats() == ("S+", "T+")                      # like kill: exactly one
    client.post(f"/api/processes/{conductor['pid']}/signal", json={"signal": "SIGCONT"})
    res = client.post(f"/api/processes/{conductor['pid']}/signal",
                      json={"signal": "SIGSTOP", "target": "group"})
    assert res.get_json()["pgid"] == driver["pid"]
    assert stats() == ("T+", "T+")                      # like the keyboard: the whole group
    client.post(f"/api/processes/{driver['pid']}/signal", json={"signal": "SIGCONT", "target": "group"})
    assert stats() == ("S+", "S+")


def test_renice_shows_at_once(client):
    run = start(client, "fork_basics")
    res = client.post(f"/api/processes/{run['pid']}/renice", json={"nice": 7})
    assert res.status_code == 200
    proc = processes(client, run["run"])[run["pid"]]
    assert proc["nice"] == 7 and proc["stat"][1:] == "N+" and ps_field(run["pid"], "ni") == "7"


BAD = [
    ("signal", {"signal": "SIGNOPE"}, 400, "unknown signal"),
    ("signal", {"signal": 0}, 400, "signal 0"),
    ("signal", {"signal": 65}, 400, "signal 65"),
    ("signal", {"signal": True}, 400, "signal"),
    ("signal", {"signal": [2]}, 400, "signal"),
    ("signal", {}, 400, "signal"),
    ("signal", {"signal": "SIGINT", "target": "everyone"}, 400, "target"),
    ("renice", {"nice": 100}, 400, "nice must be an integer from -20 to 19"),
    ("renice", {"nice": "x"}, 400, "nice"),
    ("renice", {"nice": 1.5}, 400, "nice"),
    ("renice", {}, 400, "nice"),
    ("renice", [], 400, "JSON object"),
]


@pytest.mark.parametrize("path,body,status,words", BAD)
def test_bad_input_is_a_clear_4xx(client, path, body, status, words):
    run = start(client, "fork_basics")
    res = client.post(f"/api/processes/{run['pid']}/{path}", json=body)
    assert res.status_code == status and words in res.get_json()["error"], res.get_json()
    assert proc_stat(run["pid"])[0] in "RS"        # untouched, and the server still serves
    assert client.get("/api/runs").status_code == 200


def test_bodies_must_be_small_json(client):
    run = start(client, "fork_basics")
    url = f"/api/processes/{run['pid']}/signal"
    res = client.post(url, data="signal=SIGINT", content_type="application/x-www-form-urlencoded")
    assert res.status_code == 415 and "JSON" in res.get_json()["error"]
    res = client.post(url, data="{not json", content_type="application/json")
    assert res.status_code == 400 and "not valid JSON" in res.get_json()["error"]
    res = client.post(url, data='{"signal": "' + "x" * 20000 + '"}', content_type="application/json")
    assert res.status_code == 413 and "too large" in res.get_json()["error"]
    for res, words in ((client.post("/api/runs/r999/actions/parent_wait"), "unknown run"),
                       (client.post("/api/labs/nope/start", json={}), "unknown lab"),
                       (client.post(f"/api/runs/{run['run']}/actions/nope"), "unknown action"),
                       (client.delete("/api/runs/r999"), "unknown run"),
                       (client.get("/api/nowhere"), "not found: GET /api/nowhere"),
                       (client.post("/api/runs/..%2f/terminal", json={"data": "x"}), "not found"),
                       (client.get("/api//runs"), "not found: GET /api//runs")):
        assert res.status_code == 404 and words in res.get_json()["error"], res.get_json()
    assert client.post(f"/api/runs/{run['run']}/terminal", json={"key": "ctrl_q"}).status_code == 400


def test_odd_input_is_a_4xx_not_a_crash(client):
    """Inputs that once made 500s: each names its problem, and nothing is sent."""
    run = start(client, "fork_basics")
    terminal, signal_url = f"/api/runs/{run['run']}/terminal", f"/api/processes/{run['pid']}/signal"
    for url, data, words in (
            (signal_url, "[" * 100000 + "]" * 100000, "too large"),               # refused unread
            (terminal, '{"data": "\\ud800"}', "not valid Unicode"),              # a lone surrogate
            (terminal, '{"key": [1]}', "unknown key"),                             # unhashable
            (terminal, '{"key": {"a": 1}}', "unknown key")):
        res = client.post(url, data=data, content_type="application/json")
        assert res.status_code in (400, 413) and res.is_json, (data[:20], res.status_code)
        assert words in res.get_json()["error"], res.get_json()
    short = "[" * 5000 + "]" * 5000          # deep, and small enough to be parsed
    res = client.post(signal_url, data=short, content_type="application/json")
    assert res.status_code == 400 and "not valid JSON" in res.get_json()["error"]
    for pid in (2 ** 70, 2 ** 31, 0):                                              # no pid is that
        res = client.post(f"/api/processes/{pid}/signal", json={"signal": "SIGTERM"})
        assert res.status_code == 404 and "not a lab process" in res.get_json()["error"], pid
    assert proc_stat(run["pid"])[0] in "RS"
    assert client.get("/api/runs").status_code == 200


def test_only_loopback_names_are_served_on_loopback(client):
    """DNS rebinding: evil.example resolving to 127.0.0.1 is same-origin for its own page,
    but the Host header still says evil.example, and the dashboard refuses it."""
    for host in ("evil.example", "evil.example:5000", "127.0.0.1.evil.example"):
        res = client.post("/api/labs/fork_basics/start", json={}, headers={"Host": host,
                                                                          "Origin": f"http://{host}"})
        assert res.status_code == 403 and "unknown Host" in res.get_json()["error"], host
        assert client.get("/api/snapshot", headers={"Host": host}).status_code == 403
    assert client.get("/api/runs").get_json()["runs"] == []          # nothing was started
    for host in ("127.0.0.1:5000", "localhost", "LOCALHOST:80", "[::1]:5000"):
        assert client.get("/api/labs", headers={"Host": host}).status_code == 200, host


def test_starts_are_rate_limited(app, client):
    app.config["START_RATE"] = (3, 60.0)
    app.extensions.pop("proclab_start_limit", None)
    codes = [client.post("/api/labs/fork_basics/start", json={}).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


def test_token_guards_control_but_not_watching(live_server):
    """Every start makes a token and prints the URL with it, as Jupyter does:
    on a shared machine every user reaches 127.0.0.1."""
    server = live_server()
    assert re.fullmatch(rf"Process & Socket Lab: http://127\.0\.0\.1:{server.port}/\?token=[\w-]{{24}}   "
                        r"\(Ctrl-C to stop\)\n", server.banner)
    assert call(server, "POST", "/api/labs/fork_basics/start", {}, token=False)[0] == 401
    assert call(server, "POST", "/api/labs/fork_basics/start", {},
                {"Authorization": "Bearer wrong"})[0] == 401
    status, run = call(server, "POST", "/api/labs/fork_basics/start", {},
                       {"Authorization": f"Bearer {server.token}"})
    assert status == 201
    assert call(server, "GET", "/api/snapshot", token=False)[0] == 200       # watching needs no token
    for method, path, body in (("POST", f"/api/processes/{run['pid']}/signal", {"signal": "SIGKILL"}),
                               ("POST", f"/api/processes/{run['pid']}/renice", {"nice": 5}),
                               ("POST", f"/api/runs/{run['run']}/terminal", {"data": "x"}),
                               ("POST", f"/api/runs/{run['run']}/actions/parent_wait", {}),
                               ("DELETE", f"/api/runs/{run['run']}", None), ("POST", "/api/reset", {})):
        status, answer = call(server, method, path, body, token=False)
        assert status == 401 and answer["detail"] == {"code": "token_required"}, (path, answer)
    assert call(server, "GET", f"/runs/{run['run']}/page/", token=False)[0] == 401
    # Not as a cookie: a browser sends those to every port of 127.0.0.1.
    assert call(server, "POST", "/api/reset", {}, {"Cookie": f"proclab_token={server.token}"})[0] == 401
    assert call(server, "GET", "/api/control", token=False)[1] == {"control": False, "token_required": True}
    assert call(server, "GET", "/api/control")[1] == {"control": True, "token_required": True}
    other = live_server()
    assert other.token != server.token                      # a new one at every start
    server.stop()
    assert "The link controls the lab; without its token a browser only watches." in server.output


def test_no_token_is_for_loopback_only_and_warns(live_server):
    server = live_server("--no-token")
    assert server.token is None and server.banner.endswith(f":{server.port}/   (Ctrl-C to stop)\n")
    assert call(server, "POST", "/api/labs/fork_basics/start", {})[0] == 201
    server.stop()
    assert "WARNING: --no-token: anyone who can reach this address" in server.output
    for args in (["--no-token", "--host", "0.0.0.0"], ["--no-token", "--token", "x"]):
        refused = subprocess.run([sys.executable, "app.py", "--port", "1", *args], cwd=ROOT,
                                 capture_output=True, text=True, timeout=30)
        assert refused.returncode == 2 and "--no-token" in refused.stderr, refused.stderr


def test_foreign_origin_post_is_refused(live_server):
    """An origin is scheme, host and port: the same host under https://, foo://
    or another port is another origin, and so is a sandboxed frame's "null"."""
    server = live_server()
    port = server.port
    for origin in ("http://evil.example", f"https://127.0.0.1:{port}", f"foo://127.0.0.1:{port}",
                   f"http://127.0.0.1:{port + 1}", "http://127.0.0.1", "null", f"http://127.0.0.1:{port}x",
                   f"//127.0.0.1:{port}", f"http://[::1:{port}"):
        status, body = call(server, "POST", "/api/labs/fork_basics/start", {}, {"Origin": origin})
        assert status == 403 and "cross-origin" in body["error"], origin
        assert body["detail"]["code"] == "cross_origin"
    for origin in (server.url, f"HTTP://127.0.0.1:{port}", f"http://127.0.0.1:{port}/"):
        status, body = call(server, "POST", "/api/labs/fork_basics/start", {}, {"Origin": origin})
        assert status == 201, (origin, body)
    status, body = call(server, "POST", "/api/labs/fork_basics/start", {},
                        {"Origin": f"http://localhost:{port}", "Host": f"localhost:{port}"})
    assert status == 201, body


def test_the_names_a_dashboard_answers_to():
    from app import allowed_hosts
    assert allowed_hosts("127.0.0.1") == ("127.0.0.1", "localhost", "::1")
    assert allowed_hosts("127.0.0.2") == ("127.0.0.1", "localhost", "::1", "127.0.0.2")
    assert allowed_hosts("[::1]", ["Lab.Example"]) == ("127.0.0.1", "localhost", "::1", "lab.example")
    assert allowed_hosts("0.0.0.0") is None and allowed_hosts("192.0.2.7", ["x"]) is None


def test_the_link_makes_the_page_control_and_sets_no_cookie(live_server):
    """The page opened with ?token= controls (its script keeps the token in the
    tab); the server sets no cookie, and clears the one older versions set.
    An old ?token= does not undo a good header, nor a bad header a good ?token=."""
    server = live_server("--token", "s3cret")
    assert server.token == "s3cret"
    good = {"Authorization": "Bearer s3cret"}
    assert call(server, "POST", "/api/reset?token=old", {}, good)[0] == 200
    assert call(server, "POST", "/api/reset?token=s3cret", {}, {"Authorization": "Bearer old"})[0] == 200
    assert call(server, "POST", "/api/reset?token=old", {}, {"Authorization": "Bearer older"})[0] == 401
    import urllib.request
    with urllib.request.urlopen(server.url + "/?token=s3cret&lang=zh") as res:
        assert 'data-can-control="true"' in res.read().decode() and res.headers["Set-Cookie"] is None
    page = urllib.request.urlopen(server.url + "/?token=old").read().decode()
    assert 'data-can-control="false"' in page and 'data-token-wrong="true"' in page
    req = urllib.request.Request(server.url + "/", headers={"Cookie": "proclab_token=s3cret"})
    with urllib.request.urlopen(req) as res:
        assert 'data-can-control="false"' in res.read().decode()
        assert res.headers["Set-Cookie"].startswith("proclab_token=;")          # cleared


def test_the_token_is_given_or_new_or_none_when_asked():
    from app import control_token
    assert len(control_token()) >= 24 and control_token() != control_token()
    assert control_token("mine") == "mine" and control_token(None, no_token=True) is None


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is not installed")
def test_renice_below_zero_without_privilege_is_403():
    """The real server without CAP_SYS_NICE, as on a student's machine.

    Root with CAP_SYS_NICE dropped from its bounding set is, for setpriority(),
    exactly an unprivileged user; it can still read the venv under /root."""
    from tests.conftest import LiveServer
    server = LiveServer.wrapped(["setpriv", "--bounding-set=-sys_nice"])
    try:
        status, run = call(server, "POST", "/api/labs/fork_basics/start", {})
        assert status == 201, run
        status, body = call(server, "POST", f"/api/processes/{run['pid']}/renice", {"nice": -5})
        assert status == 403 and "CAP_SYS_NICE" in body["error"]
        assert ps_field(run["pid"], "ni") == "0"
        assert call(server, "POST", f"/api/processes/{run['pid']}/renice", {"nice": 5})[0] == 200
    finally:
        server.stop()


def test_an_action_reaches_only_its_own_run(client, engine):
    """Roles are remembered by pid; a pid reused by another run is not the role's."""
    from lab import control
    first, second = start(client, "fork_basics"), start(client, "fork_basics")
    with pytest.raises(control.ControlError) as refused:
        control.send_signal(first["pid"], 19, engine.launcher_pid, run_id=second["run"])
    assert refused.value.status == 404 and f"not a process of run {second['run']}" in str(refused.value)
    assert proc_stat(first["pid"])[0] in "RS"                  # untouched


def test_group_signal_reaches_a_group_whose_leader_has_exited(client, engine):
    """The orphan lab: the parent (the group's leader) exits, its child lives on in
    that group.  'group' still reaches it, through the child's own pidfd."""
    run = start(client, "orphan")
    child = by_role(client, run["run"], "child")[0]["pid"]
    assert client.post(f"/api/runs/{run['run']}/actions/parent_exits").status_code == 200
    wait_until(lambda: proc_stat(run["pid"]) is None)
    assert proc_stat(child)[1] == engine.launcher_pid
    res = client.post(f"/api/processes/{child}/signal", json={"signal": "SIGSTOP", "target": "group"})
    assert res.status_code == 200 and res.get_json()["pgid"] == run["pid"]
    assert proc_stat(child)[0] == "T"
    client.post(f"/api/processes/{child}/signal", json={"signal": "SIGCONT", "target": "group"})
    assert proc_stat(child)[0] in "RS"


def test_a_failed_act_is_not_logged_as_done(client, engine):
    """Typing into a run that has ended is refused before anything is told."""
    run = start(client, "fork_basics")
    client.delete(f"/api/runs/{run['run']}")
    before = len(engine.hub.events)
    res = client.post(f"/api/runs/{run['run']}/terminal", json={"data": "hello\n"})
    assert res.status_code == 404 and "no running run" in res.get_json()["error"]
    assert not [e for e in list(engine.hub.events)[before:] if e.get("action") == "input"]


def test_a_stop_is_not_waited_for_when_the_process_catches_or_ignores_it(family):
    """control._handles decides whether a SIGTSTP/SIGTTIN/SIGTTOU will stop the process."""
    import signal
    from lab import control
    child = family.spawn("""
        signal.signal(signal.SIGTSTP, lambda *a: None)
        signal.signal(signal.SIGTTIN, signal.SIG_IGN)
        ready()
        idle()
    """)
    assert control._handles(child.pid, signal.SIGTSTP)
    assert control._handles(child.pid, signal.SIGTTIN)
    assert not control._handles(child.pid, signal.SIGTTOU)
    assert not control._handles(2 ** 22 + 1, signal.SIGTSTP)     # no such process


def test_a_realtime_signal_is_named_everywhere_and_prints_no_traceback(client, engine):
    """SIGRTMIN+1 kills a child its parent reaps, then the lab program itself: the
    parent, the run's session and lab init each name it, and nobody's traceback
    lands in the student's terminal (the session used to fail naming it)."""
    run = start(client, "fork_basics", hold=30, child_hold=30)
    child = by_role(client, run["run"], "child")[0]
    res = client.post(f"/api/processes/{child['pid']}/signal", json={"signal": "SIGRTMIN+1"})
    assert res.status_code == 200 and res.get_json()["signal"] == "SIGRTMIN+1"
    assert client.post(f"/api/runs/{run['run']}/actions/parent_wait").status_code == 200
    terminal = lambda: client.get(f"/api/runs/{run['run']}/terminal").get_json()["data"]
    wait_until(lambda: f"回收子进程 {child['pid']}, killed by signal 35" in terminal())
    res = client.post(f"/api/processes/{run['pid']}/signal", json={"signal": "SIGRTMAX-2"})
    assert res.status_code == 200 and res.get_json()["number"] == 62
    wait_until(lambda: engine.supervisor.get(run["run"]).state == "ended")
    assert engine.supervisor.get(run["run"]).exit == {"signal": "SIGRTMAX-2"}
    assert "Traceback" not in terminal() and "Real-time signal 28" in terminal()    # as bash says it
