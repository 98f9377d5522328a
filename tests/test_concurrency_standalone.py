"""The multiprocessing labs run as a student runs them: ``python -m lab.experiments.NAME``.

Built on tests/test_experiments_standalone.py's Run: each run is a session of
its own, and whatever it orphans comes back to this test process to be reaped.
"""
import re

from tests.test_experiments_standalone import run, stat, subreaper  # noqa: F401  (fixtures)


def test_process_objects(run):
    r = run("process_objects", "--hold", 2)
    p1 = r.wait_for(r"p1 = Process\(name='worker-1'.*pid=None is_alive\(\)=False")
    assert p1 and r.wait_for(r"name='Process-2'  \(the default name\)")
    pids = r.wait_for(r"p1\.pid=(\d+) p2\.pid=(\d+) p3\.pid=(\d+), is_alive\(\)=True")[0]
    worker, daemon, sub = (int(pids[i]) for i in (1, 2, 3))
    assert {stat(pid)["ppid"] for pid in (worker, daemon, sub)} == {r.pid}     # forked by start()
    r.wait_for(rf"Process-2 pid={daemon} ppid={r.pid} work\(2, seconds=6\) 开始 \(starts\)  daemon")
    r.wait_for(rf"MyProcess-3 pid={sub} ppid={r.pid} run\(\) 开始")
    r.wait_for(r"p1\.join\(timeout=1\) 超时返回 \(timed out\): p1\.is_alive\(\)=True")
    r.wait_for(r"join\(\) 回收了 p1 \(exitcode 0\) 和 p3 \(exitcode 0\)")
    assert r.finish() == 0                         # and the daemon, 4 s of work left, went with it
    assert not any(re.search(rf"pid={daemon} 结束", line) for line in r.lines)
