"""zombie: the child exits at once, the parent never waits: a zombie (僵尸进程).

    $ python -m lab.experiments.zombie --hold 60 &
    父进程 parent: pid=10762 睡 60 秒, 不调用 wait(): 子进程 10764 成为僵尸  (the parent sleeps without waiting: 10764 becomes a zombie)
    子进程 child: pid=10764 ppid=10762 马上退出, exit(3)
    $ ps -o pid,ppid,stat,cmd --ppid 10762
      PID  PPID STAT CMD
    10764 10762 Z    [python] <defunct>
    $ kill -USR1 10762
    父进程收到 SIGUSR1 → os.wait()  (the parent calls wait())
    回收了子进程 10764, status = 768, os.WEXITSTATUS(status) = 3  (the exit status is status // 256; the zombie is gone)

"子进程先于父进程退出, 父进程没有处理子进程退出状态": the child is dead but its
PCB (pid, exit status) stays in the kernel until the parent collects it.
``ps -o pid,ppid,stat,cmd`` shows it as ``Z`` (``Z+`` in a terminal) with
``<defunct>``.  You cannot kill a zombie, it is already dead.

- ``kill -USR1 <parent>``: the parent's handler calls os.wait(), prints the
  child's pid and its status, 768, which os.WEXITSTATUS turns into the exit
  status 3 (the notes: "status 退出的子进程状态码*256"), and the Z is gone.
- ``kill -9 <parent>``: the zombie is adopted (by PID 1, or lab init under the
  dashboard), which reaps it at once.
"""
import argparse
import os
import signal
import time

from lab.report import say, set_role

EXIT_CODE = 3  # recognisable in the exit status the parent collects


def collect(sig, frame):
    """SIGUSR1 handler in the parent: finally process the child's exit status."""
    say("父进程收到 SIGUSR1 → os.wait()  (the parent calls wait())")
    try:
        pid, status = os.wait()
    except ChildProcessError:
        say("父进程: 没有子进程可回收  (no child left to wait for)")
        return
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)     # strsignal: Python has no name for SIGRTMIN+1 …
        say(f"回收了子进程 {pid}, killed by signal {sig} ({signal.strsignal(sig)})")
    else:
        say(f"回收了子进程 {pid}, status = {status}, os.WEXITSTATUS(status) = {os.WEXITSTATUS(status)}  "
            "(the exit status is status // 256; the zombie is gone)")


def main():
    parser = argparse.ArgumentParser(description="the child exits, the parent does not wait: a zombie")
    parser.add_argument("--hold", type=float, default=300, help="seconds the parent sleeps (default 300)")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the parent (the zombie goes with it)

    pid = os.fork()
    if pid == 0:
        set_role("child")
        say(f"子进程 child: pid={os.getpid()} ppid={os.getppid()} 马上退出, exit({EXIT_CODE})")
        os._exit(EXIT_CODE)

    signal.signal(signal.SIGUSR1, collect)
    set_role("parent")
    say(f"父进程 parent: pid={os.getpid()} 睡 {args.hold:g} 秒, 不调用 wait(): 子进程 {pid} 成为僵尸"
        f"  (the parent sleeps without waiting: {pid} becomes a zombie)")
    time.sleep(args.hold)
    try:
        pid, status = os.wait()  # time is up: reap it now if nobody asked before
        say(f"时间到, 父进程回收子进程 {pid}, status = {status}, os.WEXITSTATUS(status) = {os.WEXITSTATUS(status)}  "
            "(reaped at the end)")
    except ChildProcessError:
        pass
    say(f"父进程 {os.getpid()} 退出  (the parent exits)")


if __name__ == "__main__":
    main()
