"""lock_event: a shared counter with and without a Lock, workers gated by an Event (同步互斥, day07-08).

    $ python -m lab.experiments.lock_event --lock off --count 100000 --wait 1
    父进程 pid=30120: 3 个进程 processes, 共享一个 Value (共享内存); lock=off; 每个加 100000 次  (each adds 100000)
    工作进程都在 e.wait() 等待事件  (the workers wait for the event); 1 秒后 e.set()
    父进程 e.set(): 事件已设置, 工作开始  (the event is set: they start)
    结果 (total): 111021, 应为 (expected) 300000: 丢失了 188979 次更新 (lost updates), 用时 0.26 秒

    $ python -m lab.experiments.lock_event --lock on --use threads --count 100000 --wait 1
    父进程 pid=30131: 3 个线程 threads, 共享一个全局变量; lock=on; 每个加 100000 次  (each adds 100000)
    工作线程都在 e.wait() 等待事件  (the workers wait for the event); 1 秒后 e.set()
    父进程 e.set(): 事件已设置, 工作开始  (the event is set: they start)
    结果 (total): 300000, 应为 (expected) 300000: 正确 (exact), 用时 0.86 秒

The counter is a critical resource (临界资源), the code that adds one to it
the critical section (临界区): read the value, add one, write it back.  Two
workers doing that at once can both read 41 and both write 42: one update
is lost.  Processes share the counter as a Value (shared memory); threads,
as the notes' threads do, through a global of their process.  With --lock
on, ``with lock:`` around the critical section (互斥: one at a time) makes
the total exact, and slower.

An Event gates the workers (同步): every 1000 additions they call
e.wait(), which blocks while the event is clear (S, in a futex).  The
parent sets it after --wait seconds (e.set()); SIGUSR2 to the parent
clears it (the workers stop within 1000 additions), SIGUSR1 sets it again.
"""
import argparse
import multiprocessing
import os
import signal
import threading
import time

from lab.report import say, set_role

CHUNK = 1000         # additions between two looks at the event
STEPS = 200          # the work done inside the critical section, to make it last a while
counter = 0          # the threads' shared counter: a global of their process
shared = lock = event = None
set_at = None        # when the event was first set (the parent, or SIGUSR1 before it)


def plus_one(value):
    """The critical section's work: read value in, some computing, the new value out.
    A switch to another worker in the middle (a thread's, or a process's on another
    CPU) works on the same old value: one of the two updates is lost."""
    for _ in range(STEPS):
        pass
    return value + 1


def add_process(number, count, use_lock):
    set_role(f"worker {number}")
    for _ in range(count // CHUNK):
        event.wait()                                  # 同步: go on only while the event is set
        for _ in range(CHUNK):
            if use_lock:
                with lock:                            # 互斥: one worker in the critical section
                    shared.value = plus_one(shared.value)
            else:
                shared.value = plus_one(shared.value)   # read, compute, write: not one step


def add_thread(number, count, use_lock):
    global counter
    for _ in range(count // CHUNK):
        event.wait()
        for _ in range(CHUNK):
            if use_lock:
                with lock:
                    counter = plus_one(counter)
            else:
                counter = plus_one(counter)


def set_event(sig, frame):
    global set_at
    if set_at is None:
        set_at = time.monotonic()       # the work starts now: timed from here
    event.set()


def clear_event(sig, frame):
    event.clear()


def main():
    global shared, lock, event
    parser = argparse.ArgumentParser(description="a shared counter, a Lock, an Event")
    parser.add_argument("--lock", choices=("off", "on"), default="off")
    parser.add_argument("--use", choices=("processes", "threads"), default="processes")
    parser.add_argument("--workers", type=int, default=3, choices=range(2, 5), help="workers (2-4)")
    parser.add_argument("--count", type=int, default=1000000, help="additions per worker (10000-2000000)")
    parser.add_argument("--wait", type=float, default=3.0, help="seconds before the parent sets the event")
    args = parser.parse_args()
    if not 10000 <= args.count <= 2000000 or not 0 <= args.wait <= 60:
        parser.error("--count must be from 10000 to 2000000, --wait from 0 to 60")
    count = max(CHUNK, args.count - args.count % CHUNK)
    multiprocessing.set_start_method("fork")          # plain fork, as in the notes
    signal.signal(signal.SIGINT, signal.SIG_DFL)      # Ctrl-C ends them all at once
    threads = args.use == "threads"
    mod = threading if threads else multiprocessing
    lock, event = mod.Lock(), mod.Event()
    shared = None if threads else multiprocessing.Value("i", 0, lock=False)    # raw shared memory
    signal.signal(signal.SIGUSR1, set_event)
    signal.signal(signal.SIGUSR2, clear_event)
    set_role("parent")
    what = "线程 threads, 共享一个全局变量" if threads else "进程 processes, 共享一个 Value (共享内存)"
    say(f"父进程 pid={os.getpid()}: {args.workers} 个{what}; lock={args.lock}; 每个加 {count} 次  "
        f"(each adds {count})")
    kind = threading.Thread if threads else multiprocessing.Process
    target = add_thread if threads else add_process
    workers = [kind(target=target, args=(i, count, args.lock == "on"), name=f"worker {i}")
               for i in range(1, args.workers + 1)]
    for w in workers:
        w.start()
    say(f"工作{'线程' if threads else '进程'}都在 e.wait() 等待事件  (the workers wait for the event); "
        f"{args.wait:g} 秒后 e.set()")
    # Not e.wait(timeout): the handlers call e.set()/e.clear(), which take the Event's
    # lock, and a handler runs in this thread: inside e.wait() it would wait for itself.
    deadline = time.monotonic() + args.wait
    while set_at is None and time.monotonic() < deadline:
        time.sleep(0.05)                              # SIGUSR1 ("set the event") may come first
    if set_at is None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})   # same reason
        set_event(None, None)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGUSR2})
        say("父进程 e.set(): 事件已设置, 工作开始  (the event is set: they start)")
    else:
        say("事件在等待中已被设置 (SIGUSR1), 工作已开始  (the event was set early: they started)")
    for w in workers:
        w.join()
    got = counter if threads else shared.value
    expected = args.workers * count
    say(f"结果 (total): {got}, 应为 (expected) {expected}: "
        + (f"丢失了 {expected - got} 次更新 (lost updates)" if got != expected else "正确 (exact)")
        + f", 用时 {time.monotonic() - set_at:.2f} 秒")


if __name__ == "__main__":
    main()
