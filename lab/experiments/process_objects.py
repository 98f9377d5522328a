"""process_objects: multiprocessing.Process objects, daemon children and a Process subclass (day05, day06).

    $ python -m lab.experiments.process_objects --hold 2
    父进程 parent pid=26922: 创建进程对象 (the Process objects, not started yet)
      p1 = Process(name='worker-1', target=work, args=(1,), kwargs={'seconds': 2})  pid=None is_alive()=False
      p2 = Process(target=work, args=(2,), daemon=True)  name='Process-2'  (the default name)
      p3 = MyProcess(3)  a Process subclass: start() runs its run()
    worker-1 pid=26923 ppid=26922 work(1, seconds=2) 开始 (starts)
    父进程 start() 之后 (after start()): p1.pid=26923 p2.pid=26924 p3.pid=26925, is_alive()=True
    Process-2 pid=26924 ppid=26922 work(2, seconds=6) 开始 (starts)  daemon
    MyProcess-3 pid=26925 ppid=26922 run() 开始 (starts)
    父进程 p1.join(timeout=1) 超时返回 (timed out): p1.is_alive()=True
    MyProcess-3 pid=26925 run() 结束 (ends)
    worker-1 pid=26923 结束 (ends)
    父进程 join() 回收了 p1 (exitcode 0) 和 p3 (exitcode 0)  (reaped: no zombie)
    父进程 26922 正常退出: 守护进程 p2 随之结束 (the parent exits; its daemon child is ended with it)

The notes' steps: wrap the work in a function, make a Process object with
name, target, args and kwargs, start() it (only now is the child forked),
join([timeout]) to wait for and reap it.  ``p.pid``, ``p.name`` (Process-1
by default) and ``p.is_alive()`` tell about it.  ``daemon=True``, set
before start() and never joined: the child ends when the parent exits
normally (multiprocessing terminates it with SIGTERM on the way out; it
shows Z until the exiting parent joins it), while a child with
daemon=False keeps the parent waiting for it.  A subclass of
Process overrides run(), and start() runs it in the child.

Kill the parent with SIGKILL instead and nothing of this runs: no join, no
ending of the daemon child.  Every child is an orphan, adopted by PID 1 or
lab init, and the daemon one lives on until its work is done.  SIGUSR1 to the
parent makes it exit normally at once (sys.exit()).
"""
import argparse
import multiprocessing
import os
import signal
import sys
import time
from multiprocessing import Process

from lab.report import say, set_role


def work(number, seconds):
    """The event a child runs (事件函数): it works, then ends."""
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)     # the parent's handler is not the child's
    me = multiprocessing.current_process()
    set_role(me.name)
    say(f"{me.name} pid={os.getpid()} ppid={os.getppid()} work({number}, seconds={seconds:g}) 开始 (starts)"
        + ("  daemon" if me.daemon else ""))
    time.sleep(seconds)
    say(f"{me.name} pid={os.getpid()} 结束 (ends)")


class MyProcess(Process):
    """创建自己的进程类: inherit from Process, call its __init__, override run()."""

    def __init__(self, number, seconds):
        super().__init__()
        self.number, self.seconds = number, seconds

    def run(self):
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)
        set_role(self.name)
        say(f"{self.name} pid={os.getpid()} ppid={os.getppid()} run() 开始 (starts)")
        time.sleep(self.seconds)
        say(f"{self.name} pid={os.getpid()} run() 结束 (ends)")


def exit_now(sig, frame):
    say("父进程收到 SIGUSR1 → sys.exit()  (the parent exits normally, now)")
    sys.exit(0)


def main():
    parser = argparse.ArgumentParser(description="multiprocessing.Process objects and daemon children")
    parser.add_argument("--hold", type=float, default=30.0, help="seconds worker-1 works (1-600)")
    args = parser.parse_args()
    if not 1 <= args.hold <= 600:
        parser.error("--hold must be from 1 to 600")
    multiprocessing.set_start_method("fork")         # plain fork, as in the notes (3.14 defaults to forkserver)
    signal.signal(signal.SIGINT, signal.SIG_DFL)    # Ctrl-C ends them all at once
    signal.signal(signal.SIGUSR1, exit_now)          # before set_role: "parent" is ready for it
    set_role("parent")
    hold = args.hold

    say(f"父进程 parent pid={os.getpid()}: 创建进程对象 (the Process objects, not started yet)")
    p1 = Process(name="worker-1", target=work, args=(1,), kwargs={"seconds": hold})
    say(f"  p1 = Process(name='worker-1', target=work, args=(1,), kwargs={{'seconds': {hold:g}}})"
        f"  pid={p1.pid} is_alive()={p1.is_alive()}")
    p2 = Process(target=work, args=(2, hold * 3), daemon=True)      # daemon: set before start()
    say(f"  p2 = Process(target=work, args=(2,), daemon=True)  name={p2.name!r}  (the default name)")
    p3 = MyProcess(3, hold * 0.75)
    say("  p3 = MyProcess(3)  a Process subclass: start() runs its run()")
    for p in (p1, p2, p3):
        p.start()                                    # only now is the child forked
    say(f"父进程 start() 之后 (after start()): p1.pid={p1.pid} p2.pid={p2.pid} p3.pid={p3.pid}, "
        f"is_alive()={p1.is_alive()}")

    p1.join(timeout=1)                               # waits at most 1 s
    say(f"父进程 p1.join(timeout=1) 超时返回 (timed out): p1.is_alive()={p1.is_alive()}")
    p3.join()
    p1.join()                                        # the daemon p2 is not joined (the notes: 不再使用join)
    say(f"父进程 join() 回收了 p1 (exitcode {p1.exitcode}) 和 p3 (exitcode {p3.exitcode})  (reaped: no zombie)")
    say(f"父进程 {os.getpid()} 正常退出: 守护进程 p2 随之结束 "
        "(the parent exits; its daemon child is ended with it)")


if __name__ == "__main__":
    main()
