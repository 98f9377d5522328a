"""The core process labs through the REST API, against real processes.

Each test starts a lab with POST /api/labs/<name>/start and watches the real
kernel state in GET /api/snapshot and the hub's event stream.
"""
import pytest

from tests.helpers import lab_pids, proc_stat, wait_until


def start(client, name, **params):
    res = client.post(f"/api/labs/{name}/start", json=params)
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def processes(client, run):
    """{pid: process object} of one run's lab program (its session process left out)."""
    snap = client.get("/api/snapshot").get_json()
    session = next((r["session"] for r in snap["runs"] if r["id"] == run), None)
    return {p["pid"]: p for p in snap["processes"] if p["run"] == run and p["pid"] != session}


def events(engine, run=None, kind=None):
    return [e for e in list(engine.hub.events)
            if (run is None or e.get("run") == run) and (kind is None or e.get("kind") == kind)]


def by_role(client, run, role):
    return wait_until(lambda: [p for p in processes(client, run).values() if p["role"] == role])


def test_fork_tree_has_exactly_the_shape_asked_for(client, engine):
    run = start(client, "fork_tree", depth=2, breadth=3)
    procs = wait_until(lambda: (lambda p: p if len(p) == 13 else None)(processes(client, run["run"])),
                       message="fork_tree depth 2 breadth 3 did not make 13 processes")
    root = procs[run["pid"]]
    assert root["ppid"] == run["session"] and root["stat"] == "S+"
    level1 = [p for p in procs.values() if p["ppid"] == root["pid"]]
    assert len(level1) == 3
    for child in level1:
        grandchildren = [p for p in procs.values() if p["ppid"] == child["pid"]]
        assert len(grandchildren) == 3
        assert all(not [q for q in procs.values() if q["ppid"] == g["pid"]] for g in grandchildren)
    assert all(p["pgid"] == root["pid"] and p["sid"] == run["session"] for p in procs.values())
    # stopping the run leaves none of them, within a second
    assert client.delete(f"/api/runs/{run['run']}").status_code == 200
    wait_until(lambda: not lab_pids(run["run"], engine.launcher_pid), timeout=1.0)


def test_fork_tree_over_the_cap_is_refused(client):
    res = client.post("/api/labs/fork_tree/start", json={"depth": 4, "breadth": 4})
    assert res.status_code == 409
    assert "cap" in res.get_json()["error"]


def test_fork_loop_makes_two_to_the_n(client):
    run = start(client, "fork_loop", n=3)
    wait_until(lambda: len(processes(client, run["run"])) == 8)


def test_zombie_is_reaped_by_the_parent_on_wait(client, engine):
    run = start(client, "zombie")
    zombie = wait_until(lambda: [p for p in processes(client, run["run"]).values()
                                 if p["stat"] == "Z+"])[0]
    assert zombie["ppid"] == run["pid"]
    res = client.post(f"/api/runs/{run['run']}/actions/parent_wait")
    assert res.status_code == 200, res.get_json()
    wait_until(lambda: zombie["pid"] not in processes(client, run["run"]))
    wait_until(lambda: [e for e in events(engine, run["run"], "reaped") if e["pid"] == zombie["pid"]
                        and e["by"] == run["pid"]])
    # the parent printed the exit status it collected
    wait_until(lambda: [e for e in events(engine, run["run"], "output")
                        if e["pid"] == run["pid"] and str(zombie["pid"]) in e["text"]])


def test_zombie_of_a_killed_parent_is_reaped_by_lab_init(client, engine):
    run = start(client, "zombie")
    zombie = wait_until(lambda: [p for p in processes(client, run["run"]).values()
                                 if p["state"] == "Z"])[0]
    res = client.post(f"/api/runs/{run['run']}/actions/kill_parent")
    assert res.status_code == 200, res.get_json()
    exited = wait_until(lambda: [e for e in events(engine, run["run"], "exited")
                                 if e["pid"] == zombie["pid"]])
    assert exited[0]["by"] == engine.launcher_pid
    assert proc_stat(zombie["pid"]) is None


def test_orphan_is_adopted_by_lab_init(client, engine):
    run = start(client, "orphan")
    child = by_role(client, run["run"], "child")[0]
    assert child["ppid"] == run["pid"]
    assert client.post(f"/api/runs/{run['run']}/actions/parent_exits").status_code == 200
    wait_until(lambda: processes(client, run["run"]).get(child["pid"], {}).get("ppid")
               == engine.launcher_pid)
    reparented = wait_until(lambda: [e for e in events(engine, run["run"], "reparented")
                                     if e["pid"] == child["pid"]])
    assert reparented[0]["old"] == run["pid"] and reparented[0]["new"] == engine.launcher_pid


def outputs(engine, run, needle):
    return [e for e in events(engine, run, "output") if needle in e["text"]]


def test_driver_and_conductor_follow_the_story(client, engine):
    run = start(client, "driver_conductor")
    driver = by_role(client, run["run"], "driver")[0]
    conductor = by_role(client, run["run"], "conductor")[0]
    rid = run["run"]
    wait_until(lambda: conductor["signals"]["caught"] or processes(client, rid)[conductor["pid"]]
               ["signals"]["caught"])

    def key(name):
        assert client.post(f"/api/runs/{rid}/terminal", json={"key": name}).status_code == 200

    key("ctrl_c")
    line = wait_until(lambda: outputs(engine, rid, "老司机开车了"))[0]
    assert line["pid"] == driver["pid"] and line["role"] == "driver"
    key("ctrl_backslash")
    line = wait_until(lambda: outputs(engine, rid, "车速有点快"))[0]
    assert line["pid"] == driver["pid"]
    key("ctrl_z")
    line = wait_until(lambda: outputs(engine, rid, "到站了请下车"))[0]
    assert line["pid"] == conductor["pid"] and line["role"] == "conductor"
    # the conductor gets off first, then the driver; the run ends cleanly
    wait_until(lambda: client.get(f"/api/runs/{rid}").get_json()["state"] == "ended")
    assert client.get(f"/api/runs/{rid}").get_json()["exit"] == {"code": 0}
    off = outputs(engine, rid, "gets off")     # who got off, in the order they said it
    assert [e["pid"] for e in off] == [conductor["pid"], driver["pid"]]
    assert str(conductor["pid"]) in off[1]["text"]             # the driver reaped the conductor
    exits = {e["pid"]: e for e in events(engine, rid) if e["kind"] in ("exited", "reaped", "gone")}
    assert exits[conductor["pid"]].get("by") == driver["pid"]
    assert exits[driver["pid"]]["code"] == 0
    terminal = client.get(f"/api/runs/{rid}/terminal").get_json()["data"]
    assert terminal.index("老司机开车了") < terminal.index("车速有点快") < terminal.index("到站了请下车")


@pytest.mark.parametrize("k,n", [(1, 4), (2, 5)])
def test_semaphore_never_has_more_than_k_holders(client, engine, k, n):
    run = start(client, "semaphore", k=k, n=n, hold=0.1, rounds=2)
    rid = run["run"]
    wait_until(lambda: client.get(f"/api/runs/{rid}").get_json()["state"] == "ended", timeout=20)
    holders, most = set(), 0
    for e in events(engine, rid, "output"):
        if "acquired" in e["text"]:
            holders.add(e["pid"])
            most = max(most, len(holders))
        elif "released" in e["text"]:
            holders.discard(e["pid"])
    assert most == k      # the semaphore was full at some point, and never over-full


@pytest.mark.parametrize("body,param", [
    ({"depth": 9}, "depth"), ({"depth": "2"}, "depth"), ({"breadth": 0}, "breadth"),
    ({"width": 2}, "width"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, body, param):
    res = client.post("/api/labs/fork_tree/start", json=body)
    assert res.status_code == 400
    assert param in res.get_json()["error"]


def test_unknown_lab_is_404(client):
    res = client.post("/api/labs/no_such_lab/start", json={})
    assert res.status_code == 404 and "no_such_lab" in res.get_json()["error"]


def test_reset_stops_every_run(client, engine):
    runs = [start(client, "fork_basics")["run"], start(client, "zombie")["run"]]
    wait_until(lambda: all(len(lab_pids(r, engine.launcher_pid)) >= 2 for r in runs))
    assert client.post("/api/reset").get_json()["stopped"] == runs
    wait_until(lambda: not lab_pids(init=engine.launcher_pid), timeout=1.0)


def test_fork_tree_children_stay_z_while_the_root_is_stopped(client, engine):
    run = start(client, "fork_tree", depth=2, breadth=2)
    rid = run["run"]
    wait_until(lambda: len(processes(client, rid)) == 7)
    root = run["pid"]
    level1 = [pid for pid, p in processes(client, rid).items() if p["ppid"] == root]
    assert client.post(f"/api/runs/{rid}/actions/stop_root").status_code == 200
    assert client.post(f"/api/runs/{rid}/actions/children_finish").status_code == 200
    # the leaves end, their parents reap them and end: Z under the stopped root
    wait_until(lambda: [processes(client, rid).get(pid, {}).get("state") for pid in level1] == ["Z", "Z"])
    assert processes(client, rid)[root]["state"] == "T"
    assert client.post(f"/api/runs/{rid}/actions/continue_root").status_code == 200
    wait_until(lambda: client.get(f"/api/runs/{rid}").get_json()["state"] == "ended")
    assert client.get(f"/api/runs/{rid}").get_json()["exit"] == {"code": 0}
