"""Lab init against real processes: terminals, reaping, stopping whole trees, caps."""
import glob
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

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
    assert run.state == "ended" and run.reason == "stopped"
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
    assert run.reason == "finished" and run.exit == {"code": 0}


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
    assert run.reason.startswith("process cap exceeded")
    wait_until(lambda: not lab_pids(run.id, sup.launcher_pid), timeout=1)


def test_lifetime_stops_the_run():
    sup = Supervisor(lifetime=0.5).start()
    try:
        run = sup.start_run("t", {}, program("import time; time.sleep(60)"))
        wait_until(lambda: run.state == "ended", timeout=3)
        assert run.reason == "lifetime of 0.5 s reached"
    finally:
        sup.close()


def test_total_cap_refuses_a_start():
    sup = Supervisor(run_cap=16, total_cap=3).start()
    try:
        sup.start_run("t", {}, program("import os, time; os.fork(); time.sleep(60)"))
        wait_until(lambda: len(lab_pids(init=sup.launcher_pid)) >= 3)
        with pytest.raises(RunError, match="total process cap"):
            sup.start_run("t", {}, program("import time; time.sleep(60)"))
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


def test_a_killed_lab_init_takes_its_lab_processes_with_it(sup):
    """kill -9 lab-init: the app finds its orphaned lab processes and kills them."""
    run = sup.start_run("t", {}, program("""
        import os, time
        if os.fork() == 0:
            os.setsid()                  # out of the terminal's reach: no SIGHUP saves us
            time.sleep(60)
        time.sleep(60)
    """))
    wait_until(lambda: len(lab_pids(run.id, sup.launcher_pid)) == 3)
    scratch = glob.glob(os.path.join(tempfile.gettempdir(), f"proclab-{sup.launcher_pid}-*"))
    assert len(scratch) == 1            # the run's PROCLAB_RUN_DIR
    os.kill(sup.launcher_pid, signal.SIGKILL)
    wait_until(lambda: not lab_pids(init=sup.launcher_pid), timeout=2.0)
    wait_until(lambda: not os.path.exists(scratch[0]))
    wait_until(lambda: run.state == "ended")
    assert run.reason == "lab init exited"
    wait_until(lambda: proc_stat(sup.launcher_pid) is None)    # reaped: no zombie lab init
    with pytest.raises(RunError) as err:
        sup.start_run("t", {}, program("print(1)"))
    assert err.value.status == 503
    assert [r.state for r in sup.runs.values()] == ["ended"]   # the refused start left no record


def test_garbage_on_the_event_pipe_harms_no_one(sup):
    """Fd 255 is any lab program's to write: lines that are not event objects are
    ignored, and lab init goes on serving every run."""
    other = sup.start_run("t", {}, program("import time; time.sleep(30)"))
    run = sup.start_run("t", {}, program("""
        import os, time
        for line in (b"[1]", b"42", b'"x"', b"null", b"{bad", b"[" * 5000, b'{"kind": "x", "n": NaN}',
                     b'{"kind": "root", "pid": "x"}', b'{"kind": "role", "pid": [], "role": 7}',
                     b'{"kind": "role", "pid": 1, "role": "' + b"y" * 300000 + b'"}'):
            os.write(255, line + b"\\n")
        os.write(255, ('{"kind": "role", "pid": %d, "role": "survivor"}\\n' % os.getpid()).encode())
        print("still here", flush=True)
        time.sleep(30)
    """))
    wait_until(lambda: b"still here" in run.output)
    assert run.state == other.state == "running" and proc_stat(sup.launcher_pid) is not None
    wait_until(lambda: sup.role_of(run.root) == "survivor")    # the line after the garbage counts
    told = [m["event"] for m in sup.events if m.get("ev") == "event" and m["run"] == run.id]
    assert not any(e.get("kind") == "x" or e.get("pid") == 1 for e in told)    # NaN and 300 KB: dropped
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
