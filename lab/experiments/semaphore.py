"""semaphore: multiprocessing.Semaphore(k) shared by n workers (信号量).

    $ python -m lab.experiments.semaphore --k 2 --n 3 --hold 0.5 --rounds 1
    父进程 pid=29132: 信号量 Semaphore(2), 3 个工作进程共享  (shared by 3 workers)
    工作进程 1 acquire(): 信号量减一, 现在为 1, 持有 0.5 秒  (worker 1 acquired, value now 1, holds it 0.5 s)
    工作进程 2 acquire(): 信号量减一, 现在为 0, 持有 0.5 秒  (worker 2 acquired, value now 0, holds it 0.5 s)
    工作进程 1 release(): 信号量加一  (worker 1 released)
    工作进程 2 release(): 信号量加一  (worker 2 released)
    工作进程 3 acquire(): 信号量减一, 现在为 1, 持有 0.5 秒  (worker 3 acquired, value now 1, holds it 0.5 s)
    工作进程 3 release(): 信号量加一  (worker 3 released)
    父进程: 工作进程全部结束, 信号量的值为 2  (all workers done, semaphore value 2)

"sem.acquire() 信号量数量减一, 信号量为0时阻塞; sem.release() 信号量加一":
at most k workers hold the semaphore at a time; the others sleep in
acquire() (STAT S, waiting in a futex) until someone releases.

Each worker prints its acquire() line ("acquired") only after acquire()
returned and its release() line ("released") just before release(), so the
printed holders never exceed k.

Signals: SIGUSR1 to the parent prints sem.get_value() ("父进程 sem.get_value():
信号量现在为 0  (semaphore value now 0)"); SIGUSR1 / SIGUSR2 to
a worker halves / doubles how long it holds the semaphore (0.1 to 10 s), from
its next turn on.
"""
import argparse
import multiprocessing
import os
import signal
import time

from lab.report import say, set_role

sem = None     # the shared semaphore (made before the workers are forked)
hold = 1.0     # each worker's own hold time
me = 0         # the worker's number


def show_value(sig, frame):
    value = sem.get_value()
    say(f"父进程 sem.get_value(): 信号量现在为 {value}  (semaphore value now {value})")


# A worker's handlers only change a number (the next "acquired" line shows it):
# a handler that prints could interrupt the worker in the middle of its own print.
def faster(sig, frame):
    global hold
    hold = max(0.1, hold / 2)


def slower(sig, frame):
    global hold
    hold = min(10.0, hold * 2)


def worker(number, seconds, rounds):
    global hold, me
    me, hold = number, seconds
    signal.signal(signal.SIGUSR1, faster)  # before set_role: once it is "worker 3", it is ready
    signal.signal(signal.SIGUSR2, slower)
    set_role(f"worker {me}")
    for _ in range(rounds):
        sem.acquire()  # value - 1, or sleep while it is 0
        value, seconds = sem.get_value(), hold   # read once: both halves of the line agree
        say(f"工作进程 {me} acquire(): 信号量减一, 现在为 {value}, 持有 {seconds:g} 秒"
            f"  (worker {me} acquired, value now {value}, holds it {seconds:g} s)")
        time.sleep(hold)  # the work done while holding the semaphore
        say(f"工作进程 {me} release(): 信号量加一  (worker {me} released)")
        sem.release()  # value + 1, wakes up one sleeper


def main():
    global sem
    parser = argparse.ArgumentParser(description="multiprocessing.Semaphore(k) shared by n workers")
    parser.add_argument("--k", type=int, default=2, choices=range(1, 5), help="semaphore value (1-4)")
    parser.add_argument("--n", type=int, default=5, choices=range(2, 9), help="workers (2-8)")
    parser.add_argument("--hold", type=float, default=1.5, help="seconds each worker holds it (0.1-10)")
    parser.add_argument("--rounds", type=int, default=4, choices=range(1, 11), help="acquires per worker (1-10)")
    args = parser.parse_args()
    if not 0.1 <= args.hold <= 10:
        parser.error("--hold must be from 0.1 to 10")
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends them all at once

    ctx = multiprocessing.get_context("fork")  # plain fork, as in the notes: no helper processes
    sem = ctx.Semaphore(args.k)
    signal.signal(signal.SIGUSR1, show_value)
    set_role("parent")
    say(f"父进程 pid={os.getpid()}: 信号量 Semaphore({args.k}), {args.n} 个工作进程共享"
        f"  (shared by {args.n} workers)")
    workers = [ctx.Process(target=worker, args=(i, args.hold, args.rounds), name=f"worker {i}")
               for i in range(1, args.n + 1)]
    for p in workers:
        p.start()
    for p in workers:
        p.join()  # join() reaps: no zombies
    value = sem.get_value()
    say(f"父进程: 工作进程全部结束, 信号量的值为 {value}  (all workers done, semaphore value {value})")


if __name__ == "__main__":
    main()
