"""Lab init against real processes: terminals, reaping, stopping whole trees, caps."""
import glob
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import pytest

from lab import proctree
from lab.supervisor import RunError, Supervisor
from tests.helpers import lab_pids, proc_stat, wait_until


@pytest.fixture
def sup():
    supervisor = Supervisor(run_cap=16, total_cap=40, lifetime=60).start()
    events = []
    supervisor.listeners.append(events.append)
    supervisor.events = events
    yield supervisor
    supervisor.close()


def program(code):
    """argv after `python` for a small inline lab program."""
    return ["-c", textwrap.dedent(code)]


def ps(pid, fields="stat,tty"):
    spec = ",".join(f + "=" for f in fields.split(","))
    out = subprocess.run(["ps", "-o", spec, "-p", str(pid)], capture_output=True, text=True)
    return out.stdout.split()


def test_run_has_its_own_terminal_and_session(sup):
    run = sup.start_run("t", {}, program("""
        import os, time
        print("pid", os.getpid(), "tty", os.ttyname(0), flush=True)
        time.sleep(30)
    """))
    wait_until(lambda: b"tty /dev/pts/" in run.output)
    assert ps(run.session)[0] == "Ss"          # the session leader, like a shell
    assert ps(run.root)[0] == "S+"              # the lab program, in the foreground
    assert proc_stat(run.root)[1] == run.session
    assert proc_stat(run.session)[1] == sup.launcher_pid
    assert set(lab_pids(run.id, sup.launcher_pid)) == {run.session, run.root}
    assert ps(run.root)[1] == ps(run.session)[1] != "?"     # the same pts, its own
    # the terminal and the event pipe, nothing of lab init's or the app's
    for pid in (run.session, run.root):
        assert sorted(os.listdir(f"/proc/{pid}/fd"), key=int) == ["0", "1", "2", "255"]


def test_stop_kills_setsid_and_double_forked_members(sup):
    run = sup.start_run("t", {}, program("""
        import os, time
        if os.fork() == 0:            # double fork: the grandchild is orphaned at once
            if os.fork() == 0:
                time.sleep(60)
            os._exit(0)
        if os.fork() == 0:            # a child that leaves the session
            os.setsid()
            while True:
                if os.fork() == 0:    # and keeps forking short-lived children
                    time.sleep(0.05)
                    os._exit(0)
                time.sleep(0.01)
                try:
                    while os.waitpid(-1, os.WNOHANG)[0]:
                        pass
                except ChildProcessError:
                    pass
        print("ready", flush=True)
        time.sleep(60)
    """))
    wait_until(lambda: b"ready" in run.output)
    wait_until(lambda: len(lab_pids(run.id, sup.launcher_pid)) >= 5)
    members = lab_pids(run.id, sup.launcher_pid)
    started = time.monotonic()
    sup.stop_run(run.id)
    wait_until(lambda: not lab_pids(run.id, sup.launcher_pid), timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert run.state == "ended" and run.reason == {"code": "stopped"}
    # nothing left, not even a zombie: every pid is gone from /proc
    assert [p for p in members if proc_stat(p) is not None] == []


def test_orphan_is_adopted_and_reaped_by_lab_init(sup):
    run = sup.start_run("t", {}, program("""
        import os, sys, time
        pid = os.fork()
        if pid == 0:
            time.sleep(0.5)
            os._exit(7)
        print("child", pid, flush=True)
        os._exit(0)              # the parent leaves first: the child is an orphan
    """))
    child = int(wait_until(lambda: b"child " in run.output and run.output)
                .split(b"child ")[1].split()[0])
    wait_until(lambda: (proc_stat(child) or (None, None))[1] == sup.launcher_pid)
    exited = wait_until(lambda: [e for e in sup.events if e.get("ev") == "exited" and e["pid"] == child])
    assert exited[0]["code"] == 7 and exited[0]["by"] == sup.launcher_pid
    wait_until(lambda: run.state == "ended")
    assert run.reason == {"code": "finished"} and run.exit == {"code": 0}


def test_ctrl_c_reaches_the_foreground_group_through_the_terminal(sup):
    run = sup.start_run("t", {}, program("""
        import os, time
        os.fork()
        print("ready", os.getpid(), flush=True)
        time.sleep(60)
    """))
    wait_until(lambda: run.output.count(b"ready") == 2)
    sup.write(run.id, b"\x03")
    wait_until(lambda: run.state == "ended")
    assert run.exit == {"signal": "SIGINT"}
    assert b"^C" in run.output          # the line discipline echoes it, as in a terminal


def test_terminal_input_reaches_the_program(sup):
    run = sup.start_run("t", {}, program("""
        name = input("name? ")
        print("hello", name)
    """))
    wait_until(lambda: b"name? " in run.output)
    sup.write(run.id, b"student\r")
    wait_until(lambda: b"hello student" in run.output)
    wait_until(lambda: run.state == "ended")
    assert run.exit == {"code": 0}


def test_process_cap_stops_the_run(sup):
    run = sup.start_run("t", {}, program("""
        import os, time
        for i in range(30):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
        time.sleep(60)
    """))
    wait_until(lambda: run.state == "ended", timeout=5)
    assert run.reason["code"] == "cap" and run.reason["cap"] == 16 and run.reason["processes"] > 16
    wait_until(lambda: not lab_pids(run.id, sup.launcher_pid), timeout=1)


def test_lifetime_stops_the_run():
    sup = Supervisor(lifetime=0.5).start()
    try:
        run = sup.start_run("t", {}, program("import time; time.sleep(60)"))
        wait_until(lambda: run.state == "ended", timeout=3)
        assert run.reason == {"code": "lifetime", "seconds": 0.5}
    finally:
        sup.close()


def test_total_cap_refuses_a_start():
    sup = Supervisor(run_cap=16, total_cap=2).start()
    try:
        sup.start_run("t", {}, program("import os, time; os.fork(); time.sleep(60)"))
        wait_until(lambda: len(lab_pids(init=sup.launcher_pid)) >= 3)      # 2 and the run's session
        with pytest.raises(RunError, match="total cap") as err:
            sup.start_run("t", {}, program("import time; time.sleep(60)"))
        assert err.value.status == 409
        assert err.value.detail == {"code": "total_cap", "processes": 2, "adds": 1, "cap": 2}
        assert len(sup.runs) == 1                   # the refused start left no record
    finally:
        sup.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_lab_dies_with_the_process_that_started_lab_init(sig):
    """Whatever kills the app, lab init sees EOF and kills every lab process."""
    host = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from lab.supervisor import Supervisor
        sup = Supervisor().start()
        code = "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\nos.fork()\\ntime.sleep(60)"
        for _ in range(3):
            sup.start_run("t", {}, ["-c", code])
        print("ready", sup.launcher_pid, flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        ready, init = host.stdout.readline().split()
        init = int(init)
        wait_until(lambda: len(lab_pids(init=init)) >= 3 * 5)
        host.send_signal(sig)
        wait_until(lambda: not lab_pids(init=init), timeout=2.0,
                   message=f"lab processes still alive 2 s after {sig.name}: {lab_pids(init=init)}")
    finally:
        host.kill()
        host.wait()
        host.stdout.close()


def test_a_killed_lab_init_takes_its_lab_processes_with_it_and_is_replaced(sup):
    """kill -9 lab-init: the app finds its orphaned lab processes and kills them,
    ends its runs saying why, and starts a new lab init: the next start works."""
    run = sup.start_run("t", {}, program("""
        import os, time
        if os.fork() == 0:
            os.setsid()                  # out of the terminal's reach: no SIGHUP saves us
            time.sleep(60)
        time.sleep(60)
    """))
    old = sup.launcher_pid
    wait_until(lambda: len(lab_pids(run.id, old)) == 3)
    scratch = glob.glob(os.path.join(tempfile.gettempdir(), f"proclab-{old}-*"))
    assert len(scratch) == 1            # the run's PROCLAB_RUN_DIR
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: not lab_pids(init=old), timeout=2.0)
    wait_until(lambda: not os.path.exists(scratch[0]))
    wait_until(lambda: run.state == "ended")
    assert run.reason == {"code": "lab_init_lost", "pid": old, "signal": "SIGKILL"}
    wait_until(lambda: proc_stat(old) is None)    # reaped: no zombie lab init
    told = wait_until(lambda: [e for e in sup.events if e.get("ev") == "lab_init"], timeout=2.0)
    assert proc_stat(sup.launcher_pid)[1] == os.getpid()       # ours, and alive
    assert [(e["code"], e["old"], e["pid"], e["runs"]) for e in told] == [("replaced", old, sup.launcher_pid, [run.id])]
    assert [e["reason"] for e in sup.events if e.get("ev") == "ended" and e["run"] == run.id] == [run.reason]
    again = sup.start_run("t", {}, program("import time; print('again', flush=True); time.sleep(60)"))
    wait_until(lambda: b"again" in again.output)
    assert proc_stat(again.session)[1] == sup.launcher_pid


def test_garbage_on_the_event_pipe_harms_no_one(sup):
    """Fd 255 is any lab program's to write: lines that are not event objects are
    ignored, and lab init goes on serving every run."""
    other = sup.start_run("t", {}, program("import time; time.sleep(30)"))
    run = sup.start_run("t", {}, program("""
        import os, time
        for line in (b"[1]", b"42", b'"x"', b"null", b"{bad", b"[" * 5000, b'{"kind": "x", "n": NaN}',
                     b'{"kind": "root", "pid": "x"}', b'{"kind": "role", "pid": [], "role": 7}',
                     b'{"kind": "role", "pid": 1, "role": "' + b"y" * 300000 + b'"}',
                     b'{"kind": "x", "pid": 1, "n": 1e999}',
                     ('{"kind": "role", "pid": %d, "role": 7}' % os.getppid()).encode(),    # its session's
                     ('{"kind": "role", "pid": %d, "role": {"a": 1}}' % (os.getppid() + 1)).encode(),
                     ('{"kind": "listening", "pid": %d, "proto": "tcp", "address": 5}' % os.getpid()).encode(),
                     ('{"kind": "listening", "pid": %d, "proto": "tcp", "address": "127.0.0.1:1", "url": [1]}'
                      % os.getpid()).encode()):
            os.write(255, line + b"\\n")
        os.write(255, ('{"kind": "role", "pid": %d, "role": "survivor"}\\n' % os.getpid()).encode())
        print("still here", flush=True)
        time.sleep(30)
    """))
    wait_until(lambda: b"still here" in run.output)
    assert run.state == other.state == "running" and proc_stat(sup.launcher_pid) is not None
    wait_until(lambda: sup.role_of(run.id, run.root) == "survivor")    # the line after the garbage counts
    told = [m["event"] for m in sup.events if m.get("ev") == "event" and m["run"] == run.id]
    assert not any(e.get("kind") == "x" or e.get("pid") == 1 for e in told)    # NaN, 1e999, 300 KB: dropped
    assert sup.pids_with_role(run.id, "survivor") == [run.root]     # a role 7 or {} was never taken
    assert sup.pids_with_role(run.id, "s*") == [run.root] and run.endpoints == []
    sup.write(other.id, b"x")          # lab init still answers
    sup.stop_run(run.id)
    assert run.state == "ended" and other.state == "running"


def test_orphans_that_come_and_go_do_not_count_against_the_cap(sup):
    """Adopted zombies wait a moment to be reaped (so the log tells their parent's
    death first); while they wait they are no processes for the caps."""
    run = sup.start_run("t", {}, program("""
        import os, time
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            pid = os.fork()
            if pid == 0:
                if os.fork() == 0:        # orphaned at once, then gone
                    time.sleep(0.005)
                    os._exit(0)
                os._exit(0)
            os.waitpid(pid, 0)
        print("done", flush=True)
        time.sleep(30)
    """))
    wait_until(lambda: b"done" in run.output or run.state == "ended", timeout=10)
    assert run.state == "running", run.reason
    sup.stop_run(run.id)
    told = [m for m in sup.events if m.get("ev") == "exited" and m.get("run") == run.id]
    assert told[-1]["pid"] == run.session and told[-1]["session_closed"]   # the shell is told last


def test_lab_programs_keep_the_users_open_file_limit():
    """The engine raises its own RLIMIT_NOFILE (the sampler holds /proc fds);
    lab init and the labs keep the user's, even for an engine started after that."""
    code = textwrap.dedent("""
        import resource, time
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))     # the user's limit
        from lab.engine import Engine
        from tests.helpers import wait_until
        def soft(pid):
            with open(f"/proc/{pid}/limits") as f:
                return next(line.split()[3] for line in f if line.startswith("Max open files"))
        for _ in range(2):                  # the second starts with the limit already raised
            engine = Engine(lifetime=30).start()
            try:
                run = engine.supervisor.start_run("t", {}, ["-c", "import time; time.sleep(30)"])
                wait_until(lambda: run.root is not None)
                print(soft(engine.launcher_pid), soft(run.root), resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= min(hard, 4096))
            finally:
                engine.close()
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=60)
    assert out.stdout.split() == ["256", "256", "True"] * 2, out.stderr


def test_lab_init_never_waits_for_an_app_that_stopped_reading():
    """The app's reader stalls (as when the worker is stopped): lab init's lines
    pile up, yet it still kills a run at its lifetime and reaps its orphans; when
    the app reads again, a resync says what it missed and restores the roles
    a live run named meanwhile."""
    sup = Supervisor(lifetime=1.5).start()
    gate, seen = threading.Event(), []

    def stall(msg):
        seen.append(msg)
        if msg.get("ev") == "output" and msg.get("run") == talker.id:
            gate.wait(30)            # the reader thread stops here: nothing more is read
    try:
        talker = None
        talker = sup.start_run("t", {}, program("""
            import os, time
            while True:
                if os.fork() == 0:          # an orphan every 20 ms: lab init must reap it
                    if os.fork() == 0:
                        os._exit(0)
                    os._exit(0)
                os.wait()
                os.write(1, b"x" * 65536 + b"\\n")   # 3 MB/s: more than lab init may queue
                time.sleep(0.02)
        """))
        sup.lifetime = 60.0
        quiet = sup.start_run("q", {}, program("""
            import signal, time
            from lab.report import say, set_role
            signal.signal(signal.SIGUSR1, lambda *_: set_role("late"))    # when the test says
            say("ready")
            while True:
                time.sleep(60)
        """))
        wait_until(lambda: b"ready" in quiet.output)
        sup.listeners.append(stall)
        wait_until(lambda: not gate.is_set() and any(m.get("ev") == "output" and m["run"] == talker.id
                                                      for m in seen))
        # lab init keeps time on its own: the talker is killed at 1.5 s, the orphans reaped
        os.kill(quiet.root, signal.SIGUSR1)        # names its role while the app is not reading
        wait_until(lambda: not lab_pids(talker.id, sup.launcher_pid), timeout=5.0)
        assert talker.state == "running"           # the app has not read it yet
        zombies = [p for p in lab_pids(init=sup.launcher_pid) if proc_stat(p) and proc_stat(p)[0] == "Z"]
        assert zombies == []
        assert sup.role_of(quiet.id, quiet.root) is None
        mark = len(seen)
        gate.set()
        resync = wait_until(lambda: next((m for m in seen[mark:] if m.get("ev") == "resync"), None))
        assert resync["missed"].get("output", 0) + resync["missed"].get("event", 0) > 0
        runs = {r["run"]: r for r in resync["runs"]}
        assert runs[quiet.id]["root"] == quiet.root and [quiet.root, "late"] in runs[quiet.id]["roles"]
        assert talker.id not in runs or runs[talker.id]["stopping"] == {"code": "lifetime", "seconds": 1.5}
        wait_until(lambda: talker.state == "ended")
        assert talker.reason == {"code": "lifetime", "seconds": 1.5}
        wait_until(lambda: sup.role_of(quiet.id, quiet.root) == "late")
        assert quiet.state == "running"
        wait_until(lambda: b"xxxx" in talker.output)      # the end of what it printed came too
    finally:
        gate.set()
        sup.close()


def test_the_suite_tells_its_lab_processes_from_another_dashboards(sup):
    """Lab init passes PROCLAB_TAG on: the session's leak check counts the lab
    processes of its own dashboards only, never those of another one running
    on the machine meanwhile (it used to count any it had not seen at the start)."""
    from tests.conftest import TAG, our_lab_pids
    env = {k: v for k, v in os.environ.items() if k != "PROCLAB_TAG"}
    other = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import time
        from lab.supervisor import Supervisor
        sup = Supervisor().start()
        sup.start_run("t", {}, ["-c", "import time; time.sleep(60)"])
        print(sup.launcher_pid, flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        ours = sup.start_run("t", {}, program("import time; time.sleep(60)"))
        theirs = lab_pids(init=int(other.stdout.readline()))
        assert len(theirs) == 2 and not set(theirs) & set(our_lab_pids())
        assert {ours.session, ours.root} <= set(our_lab_pids())
        assert all(proctree.environ_value(pid, "PROCLAB_TAG") == TAG for pid in (ours.session, ours.root))
    finally:
        other.kill()                    # its lab init sees EOF and kills its labs
        other.wait()
        other.stdout.close()
    wait_until(lambda: not [p for p in theirs if proc_stat(p)], timeout=3)


def test_lab_init_lost_too_often_is_revived_once_the_losses_are_old():
    """Lost once more than the budget allows, lab init is not replaced at once
    (it may keep dying); the next start after the window tries again, instead
    of 503 until the dashboard is restarted."""
    sup = Supervisor(restarts=(1, 1.0)).start()
    events = []
    sup.listeners.append(events.append)
    try:
        for _ in range(2):
            old = sup.launcher_pid
            os.kill(old, signal.SIGKILL)
            wait_until(lambda: [e for e in events if e.get("ev") == "lab_init" and e["old"] == old])
        assert [e["code"] for e in events if e.get("ev") == "lab_init"] == ["replaced", "lost"]
        with pytest.raises(RunError) as err:
            sup.start_run("t", {}, program("print(1)"))
        assert err.value.status == 503 and "lost too often" in str(err.value)
        time.sleep(1.0)                      # the budget's window: the loss grows old
        run = sup.start_run("t", {}, program("import time; print('back', flush=True); time.sleep(30)"))
        wait_until(lambda: b"back" in run.output)
        assert [e["code"] for e in events if e.get("ev") == "lab_init"] == ["replaced", "lost", "replaced"]
    finally:
        sup.close()


def test_a_stopped_lab_init_that_does_not_answer_is_replaced():
    """kill -STOP of lab init: a request it does not answer in time kills it, and
    a new one takes over (before, every request waited and failed, for ever)."""
    sup = Supervisor(reply_timeout=1.0).start()
    events = []
    sup.listeners.append(events.append)
    old = sup.launcher_pid
    try:
        run = sup.start_run("t", {}, program("import time; time.sleep(30)"))
        os.kill(old, signal.SIGSTOP)
        with pytest.raises(RunError) as err:
            sup.write(run.id, b"x")
        assert err.value.status == 503 and err.value.detail == {"code": "no_reply"}
        wait_until(lambda: [e for e in events if e.get("ev") == "lab_init"], timeout=3)
        assert run.state == "ended" and run.reason == {"code": "lab_init_lost", "pid": old, "signal": "SIGKILL"}
        assert not lab_pids(init=old)
        again = sup.start_run("t", {}, program("import time; time.sleep(30)"))
        assert again.state == "running" and sup.launcher_pid != old
    finally:
        sup.close()
