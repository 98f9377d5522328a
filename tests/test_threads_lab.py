"""The threads lab against the kernel: through the REST API, and run as a student runs it.

Its threads are the entries of /proc/PID/task: the TIDs it prints are there,
the thread count is their number, "add a thread" adds one, and the GIL
test's worker processes are children of the lab's process.
"""
import os
import re
import signal
import subprocess

from tests.helpers import proc_stat, wait_until
from tests.test_concurrency_labs import said
from tests.test_experiments_standalone import run, stat, subreaper  # noqa: F401  (fixtures)
from tests.test_labs import by_role, processes, start


def tasks(pid):
    """The TIDs of a process's threads, as the kernel lists them (what ps -L shows)."""
    try:
        return {int(tid) for tid in os.listdir(f"/proc/{pid}/task")}
    except OSError:
        return set()


def ps_stat(pid):
    """(STAT, NLWP) as ps prints them."""
    out = subprocess.run(["ps", "-o", "stat=,nlwp=", "-p", str(pid)], capture_output=True, text=True).stdout
    return tuple(out.split()) if out.strip() else None


def tids(lines, pid):
    """{name: tid} from the lab's "NAME pid=PID tid=TID 开始" lines, each checked to be of process pid."""
    found = {}
    for line in lines:
        m = re.search(r"^(thread-\d+|daemon|MyThread) pid=(\d+) tid=(\d+) (run\(\) )?开始", line)
        if m:
            assert int(m[2]) == pid, line          # a branch thread has its process's PID
            found[m[1]] = int(m[3])
    return found


def test_threads_are_the_kernels_tasks_and_the_gil_workers_its_children(client, engine):
    rid = start(client, "threads", threads=3, workers=2, count=6000000, hold=60)["run"]
    pid = by_role(client, rid, "parent")[0]["pid"]
    wait_until(lambda: said(engine, rid, "等待 (waiting)"), timeout=10)
    # main + thread-1..3 + daemon (MyThread is joined): the sampler, the kernel and ps agree
    count = lambda: processes(client, rid)[pid]["threads"]          # noqa: E731
    wait_until(lambda: count() == len(tasks(pid)) == 5)
    assert "l" in processes(client, rid)[pid]["stat"]
    wait_until(lambda: ps_stat(pid) == ("Sl+", "5"))                # l: more than one thread
    named = tids([e["text"] for e in said(engine, rid, " 开始")], pid)
    assert set(named) == {"thread-1", "thread-2", "thread-3", "daemon", "MyThread"}
    assert {named[n] for n in ("thread-1", "thread-2", "thread-3", "daemon")} | {pid} == tasks(pid)
    assert named["MyThread"] not in tasks(pid)                       # joined: its task is gone

    assert client.post(f"/api/runs/{rid}/actions/add_thread").status_code == 200
    wait_until(lambda: tids([e["text"] for e in said(engine, rid, "thread-4 pid=")], pid))
    new = tids([e["text"] for e in said(engine, rid, "thread-4 pid=")], pid)["thread-4"]
    assert new in tasks(pid)
    wait_until(lambda: count() == len(tasks(pid)) == 6)

    assert client.post(f"/api/runs/{rid}/actions/gil_test").status_code == 200
    seen = {}

    def workers():
        procs = processes(client, rid)
        assert len(procs) <= 3                    # the catalogue's processes=: 1 + workers
        seen.update({p["role"]: p for p in procs.values() if (p["role"] or "").startswith("gil worker ")})
        return len(seen) == 2

    wait_until(workers, timeout=20)
    for w in seen.values():
        assert w["ppid"] == pid
        now = proc_stat(w["pid"])                 # the kernel says so too, while it lives
        assert now is None or now[1] == pid
    # each worker's own line names the same pid, and its parent
    lines = lambda: [re.search(r"gil worker \d pid=(\d+) ppid=(\d+)", e["text"])          # noqa: E731
                     for e in said(engine, rid, "gil worker")]
    wait_until(lambda: {(int(m[1]), int(m[2])) for m in lines() if m} == {(w["pid"], pid) for w in seen.values()})
    wait_until(lambda: said(engine, rid, "2 个进程 (processes): 用时"), timeout=20)
    client.delete(f"/api/runs/{rid}")


def test_threads_standalone(run):
    r = run("threads", "--threads", 2, "--workers", 2, "--count", 3000000, "--hold", 4)
    main = r.wait_for(r"主线程 \(main thread\) pid=(\d+) tid=(\d+)")[0]
    assert int(main[1]) == int(main[2]) == r.pid          # the main thread's TID is the PID
    r.wait_for(r"name='Thread-1 \(work\)' \(默认名字 the default name\) → t1\.name = 'thread-1'  is_alive\(\)=False")
    r.wait_for(r"m\.join\(timeout=1\) 超时返回 \(timed out\): m\.is_alive\(\)=True")
    r.wait_for(r"m\.join\(\) 回收了 MyThread \(reclaimed\): m\.is_alive\(\)=False")
    r.wait_for(r"等待 \(waiting\)")
    named = tids(r.lines, r.pid)
    assert {named["thread-1"], named["thread-2"], named["daemon"], r.pid} == tasks(r.pid)
    wait_until(lambda: ps_stat(r.pid) == ("Ssl", "4"))             # a session leader, multi-threaded

    os.kill(r.pid, signal.SIGUSR1)                        # add a thread
    new = int(r.wait_for(rf"thread-3 pid={r.pid} tid=(\d+) 开始")[0][1])
    assert new in tasks(r.pid)
    wait_until(lambda: len(tasks(r.pid)) == 5)

    os.kill(r.pid, signal.SIGUSR2)                        # the GIL test
    for m in r.wait_for(r"gil worker \d pid=(\d+) ppid=(\d+) count\(\) 开始", count=2):
        assert int(m[2]) == r.pid
        assert stat(int(m[1])) is None or stat(int(m[1]))["ppid"] == r.pid
    threads = r.wait_for(r"2 个线程 \(threads\): 用时 [\d.]+ 秒, CPU [\d.]+ 秒 = ([\d.]+) 个核")[0]
    assert float(threads[1]) <= 1.3                       # the GIL: together, one core at most
    r.wait_for(r"2 个进程 \(processes\): 用时")
    r.wait_for(r"d\.is_alive\(\)=True: 守护线程随主线程退出")
    assert r.finish() == 0
