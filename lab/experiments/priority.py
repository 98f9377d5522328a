"""priority: CPU-bound workers on one CPU with different nice values (进程优先级).

    $ python -m lab.experiments.priority --workers 3 --step 5 --seconds 4.5
    父进程 parent: pid=26610, 3 个工作进程都绑定在 CPU 0 上  (3 workers pinned to CPU 0)
    worker 1: pid=26611 nice=0
    worker 2: pid=26612 nice=5
    worker 3: pid=26613 nice=10
    worker 1 nice 0: 2.0 s, 49% of the CPU
    worker 2 nice 5: 2.0 s, 16% of the CPU
    worker 3 nice 10: 2.1 s, 5% of the CPU
    ...
    父进程: 全部结束  (all workers done)

(The shares add up to less than 100% when something else also uses CPU 0.)

The notes: "优先级决定了一个进程的权限和占有资源的优先程度 ... 取值范围 -20 -- 19,
-20 最高".  All workers spin on the same CPU, so the scheduler must share
it, and the share follows nice: each step of 1 is worth about 10% of CPU
weight.  ``ps`` shows ``RN``/``SN`` for a worker with nice > 0 (``<`` below 0,
as root); ``top`` shows the PR column (20 + nice).  Renice a worker while it
runs (``renice -n 15 -p PID``) and watch its share drop.  The lab stops by
itself after --seconds.
"""
import argparse
import os
import signal
import time

from lab.report import say, set_role


def worker(number, nice, seconds, cpu):
    set_role(f"worker {number}")
    os.sched_setaffinity(0, {cpu})
    os.nice(nice)
    say(f"worker {number}: pid={os.getpid()} nice={nice}")
    start = last = time.monotonic()
    used_before = os.times()
    while time.monotonic() - start < seconds:
        for _ in range(200_000):         # spin: pure CPU work
            pass
        now = time.monotonic()
        if now - last >= 2:
            used = os.times()
            cpu_s = (used.user + used.system) - (used_before.user + used_before.system)
            say(f"worker {number} nice {os.getpriority(os.PRIO_PROCESS, 0)}: "
                f"{now - last:.1f} s, {cpu_s / (now - last):.0%} of the CPU")
            last, used_before = now, used
    os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3, help="CPU-bound processes (2-4)")
    parser.add_argument("--step", type=int, default=5, help="nice of worker i is (i-1)*step")
    parser.add_argument("--seconds", type=float, default=30.0, help="stop after this long")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.SIG_DFL)     # Ctrl-C ends them all, without tracebacks

    set_role("parent")
    cpu = min(os.sched_getaffinity(0))
    say(f"父进程 parent: pid={os.getpid()}, {args.workers} 个工作进程都绑定在 CPU {cpu} 上  "
        f"({args.workers} workers pinned to CPU {cpu})")
    for number in range(1, args.workers + 1):
        if os.fork() == 0:
            worker(number, min(19, (number - 1) * args.step), args.seconds, cpu)
    for _ in range(args.workers):
        os.wait()
    say("父进程: 全部结束  (all workers done)")


if __name__ == "__main__":
    main()
