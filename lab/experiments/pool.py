"""pool: multiprocessing.Pool(n): a few processes serve a queue of events (进程池, day06).

    $ python -m lab.experiments.pool --n 2 --tasks 3 --work 0.2 --hold 1
    父进程 pid=27223: Pool(2) 进程池中有 2 个进程 [27224, 27225]  (the pool's processes)
    apply_async(): 3 个事件放入进程池队列  (queued; apply_async returns at once)
    任务 1 由 ForkPoolWorker-2 pid=27225 执行  (task 1 runs in this worker)
    任务 2 由 ForkPoolWorker-1 pid=27224 执行  (task 2 runs in this worker)
    任务 3 由 ForkPoolWorker-2 pid=27225 执行  (task 3 runs in this worker)
    get(): [1, 4, 9]  (each get() waits for its event's result)
    任务 0 由 ForkPoolWorker-1 pid=27224 执行  (task 0 runs in this worker)
    apply(): 0  (apply waits itself)
    任务 5 由 ForkPoolWorker-1 pid=27224 执行  (task 5 runs in this worker)
    任务 4 由 ForkPoolWorker-2 pid=27225 执行  (task 4 runs in this worker)
    任务 6 由 ForkPoolWorker-1 pid=27224 执行  (task 6 runs in this worker)
    map(): [16, 25, 36]  (one event per item, the results in order)
    等待: SIGUSR1 添加事件, SIGUSR2 关闭进程池  (SIGUSR1: more tasks; SIGUSR2, or in 1 s: close)
    close(): 关闭进程池, 不能添加新的事件  (no new events)
    join(): 回收了进程池的 2 个进程  (the pool's processes are reaped)

The notes' reason for a pool: many tasks, and creating and removing a
process for each costs too much.  So Pool(processes) starts n processes
once (进程池中放入适当进程), events go into the pool's queue
(apply_async(func, args) returns at once; get() waits for the result;
apply() waits itself; map(func, iterable) queues one event per item and
returns the list of results), the same n processes run them all until the
queue is empty, then close() (no new events) and join() reap the pool.

Every task's line names the worker that ran it: only n PIDs ever appear.
The parent runs three threads of the Pool's own besides its main thread (to
hand tasks out, collect results and watch the workers), so ps shows it Sl.
After the three rounds it waits: SIGUSR1 queues more tasks, SIGUSR2 (or
--hold seconds, by signal.alarm) closes and joins the pool.

A worker killed meanwhile is replaced by a new process (a new PID), but the
task it was running is lost: its get() would wait for ever.
"""
import argparse
import multiprocessing
import os
import signal
import time
from multiprocessing import Pool

from lab.report import say, set_role

more = closing = False     # set by the handlers; the main thread acts on them
work = 1.0                 # seconds a task works: set before the pool forks, so every worker has it


def init_worker():
    """Pool(initializer=...): runs once in each worker process as it starts."""
    for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)      # the parent's handlers are not the workers'
    set_role("worker " + multiprocessing.current_process().name.rsplit("-", 1)[1])     # ForkPoolWorker-2: "worker 2"


def task(number):
    """An event of the pool's queue (事件): runs in whichever worker is free."""
    me = multiprocessing.current_process()
    say(f"任务 {number} 由 {me.name} pid={os.getpid()} 执行  (task {number} runs in this worker)")
    time.sleep(work)
    return number * number


def add_tasks(sig, frame):
    global more
    more = True


def close_pool(sig, frame):
    global closing
    closing = True


def main():
    global more, work
    parser = argparse.ArgumentParser(description="multiprocessing.Pool: n processes, many tasks")
    parser.add_argument("--n", type=int, default=3, choices=range(1, 7), help="processes in the pool (1-6)")
    parser.add_argument("--tasks", type=int, default=6, choices=range(1, 21), help="tasks per round (1-20)")
    parser.add_argument("--work", type=float, default=1.0, help="seconds a task works (0.1-10)")
    parser.add_argument("--hold", type=int, default=300, help="seconds until the pool is closed (1-600)")
    args = parser.parse_args()
    if not 0.1 <= args.work <= 10 or not 1 <= args.hold <= 600:
        parser.error("--work must be from 0.1 to 10, --hold from 1 to 600")
    multiprocessing.set_start_method("fork")       # plain fork, as in the notes
    signal.signal(signal.SIGINT, signal.SIG_DFL)   # Ctrl-C ends them all at once, without tracebacks
    signal.signal(signal.SIGUSR1, add_tasks)
    signal.signal(signal.SIGUSR2, close_pool)
    signal.signal(signal.SIGALRM, close_pool)
    set_role("parent")
    work = args.work

    pool = Pool(processes=args.n, initializer=init_worker)
    workers = sorted(p.pid for p in multiprocessing.active_children())
    say(f"父进程 pid={os.getpid()}: Pool({args.n}) 进程池中有 {args.n} 个进程 {workers}  (the pool's processes)")

    results = [pool.apply_async(task, (i,)) for i in range(1, args.tasks + 1)]
    say(f"apply_async(): {args.tasks} 个事件放入进程池队列  (queued; apply_async returns at once)")
    say(f"get(): {[r.get() for r in results]}  (each get() waits for its event's result)")
    say(f"apply(): {pool.apply(task, (0,))}  (apply waits itself)")
    squares = pool.map(task, range(args.tasks + 1, 2 * args.tasks + 1), chunksize=1)
    say(f"map(): {squares}  (one event per item, the results in order)")

    signal.alarm(args.hold)
    say(f"等待: SIGUSR1 添加事件, SIGUSR2 关闭进程池  (SIGUSR1: more tasks; SIGUSR2, or in {args.hold} s: close)")
    added = 2 * args.tasks
    while not closing:
        signal.pause()
        if more and not closing:
            more = False
            results = [pool.apply_async(task, (i,)) for i in range(added + 1, added + args.tasks + 1)]
            added += args.tasks
            say(f"添加了 {args.tasks} 个事件 (more tasks): get() → {[r.get() for r in results]}")
    pool.close()
    say("close(): 关闭进程池, 不能添加新的事件  (no new events)")
    pool.join()
    say(f"join(): 回收了进程池的 {args.n} 个进程  (the pool's processes are reaped)")


if __name__ == "__main__":
    main()
