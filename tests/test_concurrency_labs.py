"""The multiprocessing labs through the REST API, against real processes:
Process objects, the pool, the signals playground, locks and events, deadlock."""

from tests.helpers import proc_stat, wait_until
from tests.test_labs import by_role, events, processes, start


def said(engine, run, needle):
    return [e for e in events(engine, run, "output") if needle in e.get("text", "")]


def test_process_objects_daemon_ends_with_a_normal_exit(client, engine):
    run = start(client, "process_objects", hold=30)
    rid = run["run"]
    parent = by_role(client, rid, "parent")[0]
    kids = {role: by_role(client, rid, role)[0] for role in ("worker-1", "Process-2", "MyProcess-3")}
    assert all(k["ppid"] == parent["pid"] for k in kids.values())
    wait_until(lambda: said(engine, rid, "p1.join(timeout=1) 超时返回"))
    assert client.post(f"/api/runs/{rid}/actions/parent_exits").status_code == 200
    # multiprocessing ends the daemon with SIGTERM on the way out (it stays Z until
    # the exiting parent gets to join it) ...
    daemon = kids["Process-2"]["pid"]
    wait_until(lambda: proc_stat(daemon) is None or proc_stat(daemon)[0] == "Z")
    # ... while the others keep it waiting for them (it joins them as it exits)
    procs = processes(client, rid)
    assert {parent["pid"], kids["worker-1"]["pid"], kids["MyProcess-3"]["pid"]} <= set(procs)
    assert procs[parent["pid"]]["state"] in "RS"


def test_process_objects_kill_the_parent_orphans_every_child(client, engine):
    run = start(client, "process_objects", hold=30)
    rid = run["run"]
    kids = [by_role(client, rid, role)[0]["pid"] for role in ("worker-1", "Process-2", "MyProcess-3")]
    assert client.post(f"/api/runs/{rid}/actions/kill_parent").status_code == 200
    # no exit code ran: the daemon lives on too, and all three are lab init's now
    wait_until(lambda: all(proc_stat(pid) and proc_stat(pid)[1] == engine.launcher_pid for pid in kids))
    assert all(proc_stat(pid)[0] in "RS" for pid in kids)
