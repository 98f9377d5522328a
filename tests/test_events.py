"""Lifecycle events that no sample could catch: processes living between two ticks."""
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
