"""threads: threading.Thread objects, a daemon thread, a Thread subclass, and the GIL (线程, day07-08).

    $ python -m lab.experiments.threads --threads 2 --hold 8
    主线程 (main thread) pid=32247 tid=32247: 创建线程对象 (the Thread objects, not started yet)
      t1 = Thread(target=work, args=(1,))  name='Thread-1 (work)' (默认名字 the default name) → t1.name = 'thread-1'  is_alive()=False
      t2 = Thread(target=work, name='thread-2', args=(2,))
      d = Thread(target=watch, name='daemon'); d.daemon = True  (在 start() 之前 before start)
      m = MyThread(2)  自己的线程类 (a Thread subclass): start() 调用它的 run()
    thread-1 pid=32247 tid=32249 开始 (starts)
    thread-2 pid=32247 tid=32250 开始 (starts)
    daemon pid=32247 tid=32251 开始 (starts)  daemon=True
    MyThread pid=32247 tid=32252 run() 开始 (starts)
    主线程 start() 之后 (after start()): threading.active_count()=5 (主线程 main + 4), t1.is_alive()=True
    主线程 m.join(timeout=1) 超时返回 (timed out): m.is_alive()=True
    MyThread tid=32252 run() 结束 (ends)
    主线程 m.join() 回收了 MyThread (reclaimed): m.is_alive()=False
    等待 (waiting) 6 秒: kill -USR1 32247 添加线程 (adds a thread), kill -USR2 32247 GIL 效率测试 (runs the GIL test)
    (kill -USR1 32247, then kill -USR2 32247, in another terminal)
    主线程收到 SIGUSR1: 添加了 thread-3, 现在 5 个线程 (added a thread: 5 threads now)
    thread-3 pid=32247 tid=32294 开始 (starts)
    GIL 效率测试 (the efficiency test): count(1, 1) 做 2 次, 每次循环 15000000 次  (2 times, 15000000 loops each)
      串行 (serial): 用时 1.97 秒, CPU 1.97 秒 = 1.0 个核 (took 1.97 s, CPU 1.97 s = 1.0 cores)
    gil thread 1 tid=32322 count() 开始 (starts)
    gil thread 2 tid=32323 count() 开始 (starts)
      2 个线程 (threads): 用时 2.07 秒, CPU 2.07 秒 = 1.0 个核 (took 2.07 s, CPU 2.07 s = 1.0 cores)
    gil worker 1 pid=32324 ppid=32247 count() 开始 (starts)
    gil worker 2 pid=32325 ppid=32247 count() 开始 (starts)
      2 个进程 (processes): 用时 1.01 秒, CPU 1.97 秒 = 2.0 个核 (took 1.01 s, CPU 1.97 s = 2.0 cores)
      线程 / 串行 = 1.05, 进程 / 串行 = 0.51: 进程的效率明显提高, 由于 GIL 影响线程效率较低  (the GIL runs one thread at a time; processes run in parallel)
    时间到 (time is up): 主线程 stop.set(), join() 回收分支线程  (the branch threads end)
    thread-3 tid=32294 5 秒后结束 (ends after 5 s)
    thread-2 tid=32250 8 秒后结束 (ends after 8 s)
    thread-1 tid=32249 8 秒后结束 (ends after 8 s)
    主线程 join() 回收了 3 个分支线程 (is_alive()=False); d.is_alive()=True: 守护线程随主线程退出  (the daemon thread ends with the main thread)

A thread (线程, 轻量级的进程) is a branch of its process: every thread has
the process's PID (getpid() is the same) and a TID of its own, which
threading.get_native_id() returns and ``ps -L`` lists as LWP (one line per
entry of /proc/PID/task).  ps shows the process ``Sl``: ``l``, more than
one thread; NLWP is the thread count.

The notes' steps: Thread(target, name, args, kwargs) makes a thread object,
start() starts it, join([timeout]) waits for it and 回收 (reclaims) it.
``t.name`` (the notes' getName/setName), ``t.is_alive()`` and
``t.daemon = True`` (setDaemon(True), set before start(), and then no
join): a daemon thread is ended when the main thread exits, the others keep
the process alive until they end.  A subclass of Thread calls
Thread.__init__ and overrides run(); start() runs it in the new thread.
(Python 3.10+ warns about the old getName/setName/setDaemon spellings, so
the script uses the attributes.)

SIGUSR1 to the process adds a branch thread (at most 16); one that comes
while the main thread is busy (in join(), in the GIL test) waits for it, and
is dropped once the time is up.  SIGUSR2, or --gil on, runs the notes'
效率测试 (efficiency test): the same CPU-bound count() done serially, in K
threads, and in K processes, each timed, with the CPU time it used.  The GIL (全局解释器锁) lets one thread at a time run Python code:
K threads take as long as serial and together use one core; K processes run
in parallel, one core each (up to the machine's cores).  Python threads
suit blocking IO (a thread waiting gives the interpreter up), not CPU work.

Signal handlers run in the main thread, but the kernel may deliver a signal
to any thread: the main thread wakes up every 0.2 s to act on it (a
signal.pause() could sleep through a signal another thread took).
"""
import argparse
import multiprocessing
import os
import signal
import threading
import time
from threading import Thread

from lab.report import say, set_role

MAX_THREADS = 16           # "add a thread" stops here
MY_THREAD_SECONDS = 2.0    # how long the subclass's run() works
stop = threading.Event()   # set when the time is up: the branch threads end their loops
asked, testing = 0, False   # set by the signal handlers; the main thread acts on them
loops = 15000000           # count()'s loops: set before the workers fork, so every one has it


def work(number):
    """The thread function (线程函数): runs in a branch thread (分支线程), in the same process."""
    me = threading.current_thread()
    say(f"{me.name} pid={os.getpid()} tid={threading.get_native_id()} 开始 (starts)")
    rounds = 0
    while not stop.wait(1):    # sleeps (in a futex) until the time is up
        rounds += 1
    say(f"{me.name} tid={threading.get_native_id()} {rounds} 秒后结束 (ends after {rounds} s)")


def watch():
    """The daemon thread's function: it never ends by itself."""
    say(f"daemon pid={os.getpid()} tid={threading.get_native_id()} 开始 (starts)  daemon=True")
    while True:
        time.sleep(1)


class MyThread(Thread):
    """创建自己的线程类: inherit from Thread, run its __init__, override run()."""

    def __init__(self, seconds):
        super().__init__(name="MyThread")
        self.seconds = seconds

    def run(self):
        say(f"{self.name} pid={os.getpid()} tid={threading.get_native_id()} run() 开始 (starts)")
        time.sleep(self.seconds)
        say(f"{self.name} tid={threading.get_native_id()} run() 结束 (ends)")


def count(x, y):
    """The notes' CPU-bound work for the efficiency test: nothing but Python bytecode."""
    c = 0
    while c < loops:
        c += 1
        x += 1
        y += 1


def gil_thread():
    say(f"{threading.current_thread().name} tid={threading.get_native_id()} count() 开始 (starts)")
    count(1, 1)


def gil_worker():
    for sig in (signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)       # the parent's handlers are not the worker's
    me = multiprocessing.current_process()
    set_role(me.name)
    say(f"{me.name} pid={os.getpid()} ppid={os.getppid()} count() 开始 (starts)")
    count(1, 1)


def timed(what, run, children=False):
    """Run one round of the test; print its wall time and the CPU time it used (from the kernel)."""
    before, cpu = time.monotonic(), os.times()
    run()
    wall, after = time.monotonic() - before, os.times()
    if children:      # the workers' CPU, counted once join() has reaped them
        used = after.children_user + after.children_system - cpu.children_user - cpu.children_system
    else:             # this process's CPU, all its threads together
        used = after.user + after.system - cpu.user - cpu.system
    say(f"  {what}: 用时 {wall:.2f} 秒, CPU {used:.2f} 秒 = {used / wall:.1f} 个核 "
        f"(took {wall:.2f} s, CPU {used:.2f} s = {used / wall:.1f} cores)")
    return wall


def in_threads(k):
    threads = [Thread(target=gil_thread, name=f"gil thread {i}") for i in range(1, k + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def in_processes(k):
    workers = [multiprocessing.Process(target=gil_worker, name=f"gil worker {i}") for i in range(1, k + 1)]
    for p in workers:
        p.start()
    for p in workers:
        p.join()


def gil_test(k):
    say(f"GIL 效率测试 (the efficiency test): count(1, 1) 做 {k} 次, 每次循环 {loops} 次  "
        f"({k} times, {loops} loops each)")
    serial = timed("串行 (serial)", lambda: [count(1, 1) for _ in range(k)])
    threads = timed(f"{k} 个线程 (threads)", lambda: in_threads(k))
    processes = timed(f"{k} 个进程 (processes)", lambda: in_processes(k), children=True)
    if processes < 0.8 * serial:
        verdict = ("进程的效率明显提高, 由于 GIL 影响线程效率较低  "
                   "(the GIL runs one thread at a time; processes run in parallel)")
    else:         # the processes need free cores to run in parallel
        verdict = (f"进程也没有更快: {os.cpu_count()} 个核, 或者机器很忙  "
                   "(processes no faster either: one core, or a busy machine)")
    say(f"  线程 / 串行 = {threads / serial:.2f}, 进程 / 串行 = {processes / serial:.2f}: {verdict}")


def add_thread(sig, frame):
    global asked
    asked += 1       # counted: a signal that comes while the main thread is busy is not lost


def run_test(sig, frame):
    global testing
    testing = True


def main():
    global loops, testing
    parser = argparse.ArgumentParser(description="threading.Thread objects, a daemon thread, and the GIL")
    parser.add_argument("--threads", type=int, default=3, choices=range(1, 9), help="branch threads (1-8)")
    parser.add_argument("--workers", type=int, default=2, choices=range(2, 5),
                        help="threads and processes of the GIL test (2-4)")
    parser.add_argument("--count", type=int, default=15000000, help="count() loops per worker (100000-100000000)")
    parser.add_argument("--gil", choices=("off", "on"), default="off", help="on: run the GIL test at once")
    parser.add_argument("--hold", type=float, default=120.0, help="seconds the branch threads run (3-600)")
    args = parser.parse_args()
    if not 100000 <= args.count <= 100000000 or not 3 <= args.hold <= 600:
        parser.error("--count must be from 100000 to 100000000, --hold from 3 to 600")
    loops = args.count
    multiprocessing.set_start_method("fork")         # plain fork, as in the notes
    signal.signal(signal.SIGINT, signal.SIG_DFL)     # Ctrl-C ends it at once, threads and workers too
    signal.signal(signal.SIGUSR1, add_thread)        # before set_role: "parent" is ready for them
    signal.signal(signal.SIGUSR2, run_test)
    set_role("parent")
    deadline = time.monotonic() + args.hold
    pid = os.getpid()

    say(f"主线程 (main thread) pid={pid} tid={threading.get_native_id()}: 创建线程对象 "
        "(the Thread objects, not started yet)")
    t1 = Thread(target=work, args=(1,))
    default = t1.name
    t1.name = "thread-1"                             # the notes' t.setName("thread-1")
    say(f"  t1 = Thread(target=work, args=(1,))  name={default!r} (默认名字 the default name) → "
        f"t1.name = 'thread-1'  is_alive()={t1.is_alive()}")
    threads = [t1]
    for i in range(2, args.threads + 1):
        threads.append(Thread(target=work, name=f"thread-{i}", args=(i,)))
        say(f"  t{i} = Thread(target=work, name='thread-{i}', args=({i},))")
    d = Thread(target=watch, name="daemon")
    d.daemon = True                                  # setDaemon(True): before start(), and no join()
    say("  d = Thread(target=watch, name='daemon'); d.daemon = True  (在 start() 之前 before start)")
    m = MyThread(MY_THREAD_SECONDS)
    say(f"  m = MyThread({MY_THREAD_SECONDS:g})  自己的线程类 (a Thread subclass): start() 调用它的 run()")
    for t in threads + [d, m]:
        t.start()
    say(f"主线程 start() 之后 (after start()): threading.active_count()={threading.active_count()} "
        f"(主线程 main + {len(threads) + 2}), t1.is_alive()={t1.is_alive()}")
    m.join(timeout=1)                                # waits at most 1 s
    say(f"主线程 m.join(timeout=1) 超时返回 (timed out): m.is_alive()={m.is_alive()}")
    m.join()
    say(f"主线程 m.join() 回收了 MyThread (reclaimed): m.is_alive()={m.is_alive()}")
    testing = testing or args.gil == "on"
    say(f"等待 (waiting) {max(0, deadline - time.monotonic()):.0f} 秒: kill -USR1 {pid} 添加线程 "
        f"(adds a thread), kill -USR2 {pid} GIL 效率测试 (runs the GIL test)")

    answered = 0
    while time.monotonic() < deadline:
        if answered < asked:     # only the handler writes asked, only this loop answered
            answered += 1
            if len(threads) >= MAX_THREADS:
                say(f"主线程收到 SIGUSR1: 已有 {len(threads)} 个分支线程, 不再添加  (at most {MAX_THREADS})")
            else:
                t = Thread(target=work, name=f"thread-{len(threads) + 1}", args=(len(threads) + 1,))
                threads.append(t)
                t.start()
                say(f"主线程收到 SIGUSR1: 添加了 {t.name}, 现在 {threading.active_count()} 个线程 "
                    f"(added a thread: {threading.active_count()} threads now)")
        elif testing:
            testing = False
            gil_test(args.workers)
        else:
            time.sleep(0.2)      # not signal.pause(): a signal another thread took wakes nobody

    say("时间到 (time is up): 主线程 stop.set(), join() 回收分支线程  (the branch threads end)")
    stop.set()
    for t in threads:
        t.join()
    say(f"主线程 join() 回收了 {len(threads)} 个分支线程 (is_alive()={any(t.is_alive() for t in threads)}); "
        f"d.is_alive()={d.is_alive()}: 守护线程随主线程退出  (the daemon thread ends with the main thread)")


if __name__ == "__main__":
    main()
