"""The multiprocessing labs through the REST API, against real processes:
Process objects, the pool, the signals playground, locks and events, deadlock."""

import time

import pytest

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


def sleeping_in_pause(pid):
    """The process waits in signal.pause() (the kernel's sys_pause): ready for a signal."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return "pause" in f.read()
    except OSError:
        return False


def test_pool_runs_every_task_in_its_n_workers(client, engine):
    run = start(client, "pool", n=3, tasks=5, work=0.1)
    rid = run["run"]
    parent = by_role(client, rid, "parent")[0]
    workers = wait_until(lambda: (lambda w: w if len(w) == 3 else None)(
        [p for p in processes(client, rid).values() if (p["role"] or "").startswith("worker ")]))
    assert all(w["ppid"] == parent["pid"] for w in workers)
    wait_until(lambda: sleeping_in_pause(parent["pid"]), timeout=15)       # three rounds done: it waits
    procs = processes(client, rid)
    assert procs[parent["pid"]]["stat"] == "Sl+" and procs[parent["pid"]]["threads"] == 4     # the Pool's threads
    assert client.post(f"/api/runs/{rid}/actions/add_tasks").status_code == 200
    wait_until(lambda: said(engine, rid, "添加了 5 个事件"))
    ran = {e["pid"] for e in said(engine, rid, "由 ForkPoolWorker-")}
    assert ran == {w["pid"] for w in workers}                             # 16 tasks, the same 3 PIDs
    assert len(said(engine, rid, "由 ForkPoolWorker-")) == 5 + 1 + 5 + 5
    assert said(engine, rid, "get(): [1, 4, 9, 16, 25]") and said(engine, rid, "map(): [36, 49, 64, 81, 100]")
    assert client.post(f"/api/runs/{rid}/actions/close_join").status_code == 200
    wait_until(lambda: client.get(f"/api/runs/{rid}").get_json()["state"] == "ended")
    assert said(engine, rid, "join(): 回收了进程池的 3 个进程")
    assert client.get(f"/api/runs/{rid}").get_json()["exit"] == {"code": 0}


def test_signals_playground_masks_follow_each_action(client, engine):
    run = start(client, "signals")
    rid = run["run"]
    me = by_role(client, rid, "playground")[0]["pid"]
    masks = lambda: processes(client, rid)[me]["signals"]            # noqa: E731
    wait_until(lambda: said(engine, rid, "命令 (commands)"))
    assert {"SIGINT", "SIGUSR1", "SIGALRM"} <= set(masks()["caught"]) and "SIGQUIT" in masks()["ignored"]
    assert len(said(engine, rid, "失败 (fails): [Errno 22] Invalid argument  (不能被处理 cannot be caught)")) == 2
    act = lambda action: client.post(f"/api/runs/{rid}/actions/{action}").status_code      # noqa: E731
    assert act("ignore_int") == 200
    wait_until(lambda: "SIGINT" in masks()["ignored"] and "SIGINT" not in masks()["caught"])
    assert act("catch_int") == 200
    wait_until(lambda: "SIGINT" in masks()["caught"])
    assert act("alarm_10") == 200 and act("alarm_3") == 200
    replaced = wait_until(lambda: said(engine, rid, "之前的时钟还剩"))[0]["text"]
    assert replaced.startswith(("signal.alarm(3) 返回 10", "signal.alarm(3) 返回 9"))
    wait_until(lambda: said(engine, rid, "处理函数收到 SIGALRM"), timeout=6)     # 3 s, not 10
    assert act("default_int") == 200
    wait_until(lambda: "SIGINT" not in masks()["caught"] + masks()["ignored"])
    assert client.post(f"/api/runs/{rid}/terminal", json={"key": "ctrl_c"}).status_code == 200
    wait_until(lambda: client.get(f"/api/runs/{rid}").get_json()["state"] == "ended")
    assert client.get(f"/api/runs/{rid}").get_json()["exit"] == {"signal": "SIGINT"}


def test_signals_playground_an_alarm_with_no_handler_ends_it(client, engine):
    run = start(client, "signals")
    rid = run["run"]
    wait_until(lambda: said(engine, rid, "命令 (commands)"))
    client.post(f"/api/runs/{rid}/actions/default_alrm")
    wait_until(lambda: said(engine, rid, "signal.signal(SIGALRM, ...): 现在 (now) SIG_DFL"))
    client.post(f"/api/runs/{rid}/terminal", json={"data": "alarm 1\r"})
    wait_until(lambda: client.get(f"/api/runs/{rid}").get_json()["state"] == "ended", timeout=5)
    assert client.get(f"/api/runs/{rid}").get_json()["exit"] == {"signal": "SIGALRM"}
    assert "Alarm clock" in client.get(f"/api/runs/{rid}/terminal").get_json()["data"]


def in_a_futex(obj):
    return obj["state"] == "S" and "futex" in (obj["wchan"] or "")


def test_deadlock_both_sleep_in_a_futex_until_one_lets_go(client, engine):
    run = start(client, "deadlock", step=0.2)
    rid = run["run"]
    one, two = (by_role(client, rid, f"worker {i}")[0]["pid"] for i in (1, 2))
    wait_until(lambda: in_a_futex(processes(client, rid)[one]) and in_a_futex(processes(client, rid)[two]))
    assert said(engine, rid, f"worker 1 pid={one} 拿到锁 A, 等待锁 B") and said(engine, rid, "拿到锁 B, 等待锁 A")
    assert client.post(f"/api/runs/{rid}/actions/term_1").status_code == 200
    wait_until(lambda: said(engine, rid, "worker 2 拿到了两把锁, 完成"))
    wait_until(lambda: client.get(f"/api/runs/{rid}").get_json()["state"] == "ended")
    assert said(engine, rid, "worker 1 结束, exitcode 1") and said(engine, rid, "worker 2 结束, 完成")


def test_deadlock_sigkill_leaves_the_lock_taken_for_ever(client, engine):
    run = start(client, "deadlock", step=0.2)
    rid = run["run"]
    two = by_role(client, rid, "worker 2")[0]["pid"]
    wait_until(lambda: in_a_futex(processes(client, rid)[two]))
    assert client.post(f"/api/runs/{rid}/actions/kill_1").status_code == 200
    wait_until(lambda: said(engine, rid, "worker 1 结束, exitcode -9"))
    # lock A died with worker 1 still holding it: worker 2 sleeps on, and uses no CPU
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        assert in_a_futex(processes(client, rid)[two])
        time.sleep(0.1)
    assert not said(engine, rid, "worker 2 拿到了两把锁")


def test_deadlock_cured_by_taking_the_locks_in_the_same_order(client, engine):
    run = start(client, "deadlock", order="same", step=0.1)
    wait_until(lambda: client.get(f"/api/runs/{run['run']}").get_json()["state"] == "ended")
    assert len(said(engine, run["run"], "拿到了两把锁, 完成")) == 2


@pytest.mark.parametrize("use", ["processes", "threads"])
def test_lock_event_with_the_lock_the_total_is_exact(client, engine, use):
    run = start(client, "lock_event", lock="on", use=use, workers=3, count=20000, wait=0)
    wait_until(lambda: said(engine, run["run"], "结果 (total)"), timeout=20)
    assert said(engine, run["run"], "结果 (total): 60000, 应为 (expected) 60000: 正确 (exact)")


def test_lock_event_the_event_gates_the_workers(client, engine):
    run = start(client, "lock_event", lock="off", workers=2, count=2000000, wait=60)
    rid = run["run"]
    workers = [by_role(client, rid, f"worker {i}")[0]["pid"] for i in (1, 2)]
    gated = lambda: all(in_a_futex(processes(client, rid)[pid]) for pid in workers)      # noqa: E731
    wait_until(gated)                                   # e.wait(): the event is not set yet
    assert client.post(f"/api/runs/{rid}/actions/set_event").status_code == 200
    wait_until(lambda: any(processes(client, rid)[pid]["state"] == "R" or processes(client, rid)[pid]["cpu"] > 0
                           for pid in workers))
    assert client.post(f"/api/runs/{rid}/actions/clear_event").status_code == 200
    wait_until(gated)                                   # stopped at their next e.wait()
    assert not said(engine, rid, "结果 (total)")
    client.delete(f"/api/runs/{rid}")
