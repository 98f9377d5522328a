"""Events and frames no single sample shows: brief processes, slow viewers."""
import json
import textwrap

from tests.helpers import wait_until


def test_a_process_too_brief_to_sample_still_gets_spawned_and_exited(engine):
    code = textwrap.dedent("""
        import os, time
        import lab.report
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                os._exit(4)          # gone long before the next 50 ms tick
            os.waitpid(pid, 0)
            print("reaped", pid, flush=True)
        time.sleep(30)
    """)
    run = engine.supervisor.start_run("t", {}, ["-c", code])
    wait_until(lambda: run.output.count(b"reaped") == 3)
    children = [int(line.split()[1]) for line in bytes(run.output).splitlines() if line.startswith(b"reaped")]
    events = lambda kind: {e["pid"]: e for e in list(engine.hub.events)
                           if e.get("kind") == kind and e.get("run") == run.id}
    wait_until(lambda: set(children) <= set(events("gone")))
    assert set(children) <= set(events("spawned"))
    assert all(events("gone")[pid]["by"] == run.root for pid in children)
    engine.supervisor.stop_run(run.id)


def test_a_slow_viewer_skips_to_a_fresh_snapshot_instead_of_queueing(client, engine):
    """A viewer that reads nothing never holds more than its limit of frames."""
    engine.hub.viewer_limit = 8
    slow = engine.hub.subscribe()
    res = client.post("/api/labs/priority/start", json={"workers": 2, "seconds": 10})
    assert res.status_code == 201
    wait_until(lambda: slow.skipped >= 2, timeout=10)   # diffs flowed past it at 20 Hz
    assert len(slow.frames) <= 8
    # what it reads now is whole: a snapshot, then diffs that follow it seq by seq
    frames = []
    while (frame := slow.get(0)) is not None:
        frames.append(json.loads(frame))
    states = [f for f in frames if f["type"] in ("snapshot", "diff")]
    assert states[0]["type"] == "snapshot"
    seqs = [f["seq"] for f in states]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    engine.hub.unsubscribe(slow)


def test_the_log_tells_cause_before_effect_when_a_zombies_parent_is_killed(client, engine):
    """SIGKILL from the dashboard, then the parent's death, then the zombie adopted
    by lab init, then reaped by it: in that order, as a student must read it."""
    from tests.test_labs import by_role, start
    run = start(client, "zombie")
    parent = by_role(client, run["run"], "parent")[0]["pid"]
    child = wait_until(lambda: [p for p in engine.hub.snapshot()["processes"]
                                if p["run"] == run["run"] and p["state"] == "Z"])[0]["pid"]
    assert client.post(f"/api/processes/{parent}/signal", json={"signal": "SIGKILL"}).status_code == 200

    def first(kind, pid, **match):
        for i, e in enumerate(list(engine.hub.events)):
            if e.get("kind") == kind and e.get("pid") == pid and all(e.get(k) == v for k, v in match.items()):
                return i
        return None
    wait_until(lambda: first("exited", child) is not None)
    told, died = first("control", parent, action="signal"), first("exited", parent)
    adopted, reaped = first("reparented", child, new=engine.launcher_pid), first("exited", child)
    assert None not in (told, died, adopted), (told, died, adopted)
    assert told < died < reaped and adopted < reaped
    assert engine.hub.events[reaped]["by"] == engine.launcher_pid
    assert b"Killed" in bytes(engine.supervisor.get(run["run"]).output)   # as bash says it
    ended = wait_until(lambda: [e for e in list(engine.hub.events)
                                if e.get("kind") == "run_ended" and e.get("run") == run["run"]])[0]
    assert ended["exit"] == {"signal": "SIGKILL"} and "killed by SIGKILL" in ended["text"]
    session = engine.supervisor.get(run["run"]).session
    closing = [e for e in list(engine.hub.events) if e.get("kind") == "exited" and e.get("pid") == session]
    assert closing and closing[0]["session"] and "the run's session" in closing[0]["text"]


def test_a_line_said_by_a_thread_carries_its_tid_and_threading_name(engine):
    """The kernel calls every Python thread "python": the event names it for the thread list."""
    code = textwrap.dedent("""
        import threading, time
        from lab.report import say
        def work():
            say("from the thread")
        t = threading.Thread(target=work, name="thread-1")
        t.start()
        t.join()
        say("from the main thread")
        print("tid", t.native_id, flush=True)
        time.sleep(30)
    """)
    run = engine.supervisor.start_run("t", {}, ["-c", code])
    wait_until(lambda: b"tid " in run.output)
    tid = int(bytes(run.output).split(b"tid ")[1].split()[0])
    said = lambda: {e["text"]: e for e in list(engine.hub.events)             # noqa: E731
                    if e.get("kind") == "output" and e.get("run") == run.id}
    wait_until(lambda: {"from the thread", "from the main thread"} <= set(said()))
    thread, main = said()["from the thread"], said()["from the main thread"]
    assert (thread["tid"], thread["thread"]) == (tid, "thread-1") and tid != thread["pid"]
    assert "tid" not in main and "thread" not in main
    engine.supervisor.stop_run(run.id)
