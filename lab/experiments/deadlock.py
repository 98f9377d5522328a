"""deadlock: two workers, two locks, taken in opposite order (死锁, day07-08: 同步互斥).

    $ python -m lab.experiments.deadlock --step 0.2
    父进程 pid=28052: 两把锁 A、B; order=opposite  (two locks)
    worker 1 pid=28053 拿到锁 A, 等待锁 B  (holds A, waits for B)
    worker 2 pid=28054 拿到锁 B, 等待锁 A  (holds B, waits for A)
    (kill -TERM 28054, in another terminal)
    worker 2 收到 SIGTERM → sys.exit(): 离开 with 块, 释放它持有的锁  (leaves its with blocks, releasing its lock)
    worker 1 拿到了两把锁, 完成  (holds both, done)
    父进程 join(): worker 1 结束, 完成 (done)
    父进程 join(): worker 2 结束, exitcode 1
    父进程退出  (the parent exits)

Worker 1 takes lock A, then wants B; worker 2 takes B, then wants A.  Each
holds what the other waits for: both sleep in acquire() for ever (STAT S,
in a futex: a multiprocessing.Lock is a semaphore the kernel sleeps them
on).  Neither uses the CPU, nothing moves: that is a deadlock.

SIGTERM to one of them (its handler calls sys.exit()) leaves its ``with``
blocks, so its lock is released and the other takes it and finishes.
SIGKILL gives it no such chance: the lock stays taken for ever and the
other never finishes, as when a process holding a lock crashes.

--order same takes A before B in both: no deadlock, the cure.
"""
import argparse
import multiprocessing
import os
import signal
import sys
import time
from multiprocessing import Lock, Process

from lab.report import say, set_role


def leave(sig, frame):
    say(f"worker {me} 收到 SIGTERM → sys.exit(): 离开 with 块, 释放它持有的锁  (leaves its with blocks, "
        "releasing its lock)")
    sys.exit(1)


me = 0


def worker(number, first, second, names, step):
    global me
    me = number
    signal.signal(signal.SIGTERM, leave)
    set_role(f"worker {number}")
    with first:                          # lock.acquire() ... lock.release() at the block's end
        say(f"worker {number} pid={os.getpid()} 拿到锁 {names[0]}, 等待锁 {names[1]}  "
            f"(holds {names[0]}, waits for {names[1]})")
        time.sleep(step)                 # the other takes its first lock meanwhile
        with second:
            say(f"worker {number} 拿到了两把锁, 完成  (holds both, done)")
            time.sleep(step)


def main():
    parser = argparse.ArgumentParser(description="two workers, two locks, opposite order")
    parser.add_argument("--order", choices=("opposite", "same"), default="opposite",
                        help="opposite: a deadlock; same: both take A first, no deadlock")
    parser.add_argument("--step", type=float, default=0.5, help="seconds between taking the two locks")
    args = parser.parse_args()
    multiprocessing.set_start_method("fork")        # plain fork, as in the notes
    signal.signal(signal.SIGINT, signal.SIG_DFL)    # Ctrl-C ends them all at once
    set_role("parent")
    lock_a, lock_b = Lock(), Lock()
    second_pair = (lock_b, lock_a, ("B", "A")) if args.order == "opposite" else (lock_a, lock_b, ("A", "B"))
    say(f"父进程 pid={os.getpid()}: 两把锁 A、B; order={args.order}  (two locks)")
    workers = [Process(target=worker, args=(1, lock_a, lock_b, ("A", "B"), args.step)),
               Process(target=worker, args=(2, *second_pair, args.step))]
    for p in workers:
        p.start()
    for i, p in enumerate(workers, 1):
        p.join()
        how = "完成 (done)" if p.exitcode == 0 else f"exitcode {p.exitcode}"
        say(f"父进程 join(): worker {i} 结束, {how}")
    say("父进程退出  (the parent exits)")


if __name__ == "__main__":
    main()
