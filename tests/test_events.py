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
