"""The multiprocessing labs run as a student runs them: ``python -m lab.experiments.NAME``.

Built on tests/test_experiments_standalone.py's Run: each run is a session of
its own, and whatever it orphans comes back to this test process to be reaped.
"""
import os
import re
import signal

from tests.helpers import wait_until
from tests.test_experiments_standalone import blocked_in, run, stat, subreaper  # noqa: F401  (fixtures)


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


def test_pool(run):
    r = run("pool", "--n", 2, "--tasks", 3, "--work", 0.1, "--hold", 1)
    workers = r.wait_for(r"Pool\(2\) 进程池中有 2 个进程 \[(\d+), (\d+)\]")[0]
    pids = {workers[1], workers[2]}
    r.wait_for(r"join\(\): 回收了进程池的 2 个进程", timeout=15)
    ran = {m[1] for m in r.wait_for(r"任务 \d+ 由 ForkPoolWorker-\d pid=(\d+) 执行", count=7)}
    assert ran <= pids
    assert r.wait_for(r"get\(\): \[1, 4, 9\]") and r.wait_for(r"apply\(\): 0") and r.wait_for(r"map\(\): \[16, 25, 36\]")
    assert r.finish() == 0


def test_signals_playground_in_a_terminal(run):
    r = run("signals", tty=True)
    r.wait_for(r"命令 \(commands\)")
    assert len(r.wait_for(r"signal\.signal\(SIG(KILL|STOP), handler\) 失败")) == 2
    os.write(r.fd, b"\x03")                                  # Ctrl-C: the handler runs
    r.wait_for(r"处理函数收到 SIGINT")
    os.write(r.fd, b"ign INT\r")
    r.wait_for(r"signal\.signal\(SIGINT, \.\.\.\): 现在 \(now\) SIG_IGN")
    os.write(r.fd, b"\x03show\r")                            # ignored: nothing, and it goes on
    r.wait_for(r"  SIGINT: SIG_IGN")
    assert len([line for line in r.lines if "处理函数收到 SIGINT" in line]) == 1
    os.write(r.fd, b"\x04")                                  # Ctrl-D
    r.wait_for(r"EOF \(Ctrl-D\): 退出")
    assert r.finish() == 0


def test_deadlock(run):
    r = run("deadlock", "--step", 0.2)
    one = int(r.wait_for(r"worker 1 pid=(\d+) 拿到锁 A, 等待锁 B")[0][1])
    two = int(r.wait_for(r"worker 2 pid=(\d+) 拿到锁 B, 等待锁 A")[0][1])
    wait_until(lambda: blocked_in(one, "futex") and blocked_in(two, "futex"))
    os.kill(two, signal.SIGTERM)
    r.wait_for(r"worker 1 拿到了两把锁, 完成")
    r.wait_for(r"worker 2 结束, exitcode 1")
    assert r.finish() == 0


def test_lock_event(run):
    r = run("lock_event", "--lock", "on", "--workers", 2, "--count", 20000, "--wait", 0.2)
    r.wait_for(r"2 个进程 processes, 共享一个 Value \(共享内存\); lock=on; 每个加 20000 次")
    r.wait_for(r"父进程 e\.set\(\): 事件已设置")
    r.wait_for(r"结果 \(total\): 40000, 应为 \(expected\) 40000: 正确 \(exact\)", timeout=20)
    assert r.finish() == 0
