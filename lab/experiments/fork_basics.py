"""fork_basics: one os.fork(), two processes (day05: os.fork, os.getpid, os.getppid, os.wait).

    $ python -m lab.experiments.fork_basics --hold 3 --child-hold 1
    父进程 parent: pid=10254 ppid=10252 fork() returned 10255
    子进程 child:  pid=10255 ppid=10254 fork() returned 0
    子进程 10255 退出 (the child exits with status 0)
    父进程 wait() 回收子进程 10255, exit status 0  (the parent reaped its child)
    父进程 10254 退出 (the parent exits)

fork() returns twice: the child's PID in the parent, 0 in the child, and the
child's getppid() is the parent's getpid().  Which of the two lines comes first
is up to the scheduler.

Send SIGUSR1 to the parent (``kill -USR1 <parent pid>``, or the dashboard's
"parent calls wait()") and its handler calls os.wait(): the parent blocks
until the child exits, then prints the child's pid and exit status:

    父进程收到 SIGUSR1 → os.wait()  (the parent calls wait() and blocks)
    子进程 10318 退出 (the child exits with status 0)
    父进程 wait() 回收子进程 10318, exit status 0  (the parent reaped its child)

If nobody asks, a child that exits first stays a zombie (Z) until the parent
waits at the end.
"""
import argparse
import os
import signal
import time

from lab.report import say, set_role


def how(status):
    """The wait status in words: the exit code, or the signal that killed the child."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)     # strsignal: Python has no name for SIGRTMIN+1 …
        return f"killed by signal {sig} ({signal.strsignal(sig)})"
    return f"exit status {os.WEXITSTATUS(status)}"


def wait_for_child(sig, frame):
    """SIGUSR1 handler in the parent: block in os.wait() until the child is gone."""
    say("父进程收到 SIGUSR1 → os.wait()  (the parent calls wait() and blocks)")
    try:
        pid, status = os.wait()
    except ChildProcessError:
        say("父进程: 没有子进程了  (no child left to wait for)")
        return
    say(f"父进程 wait() 回收子进程 {pid}, {how(status)}  (the parent reaped its child)")


def main():
    parser = argparse.ArgumentParser(description="one os.fork(): a parent and a child")
    parser.add_argument("--hold", type=float, default=300, help="seconds the parent lives (default 300)")
    parser.add_argument("--child-hold", type=float, default=60, help="seconds the child lives (default 60)")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends both at once, like a C program

    pid = os.fork()
    if pid == 0:
        # The child: fork() returned 0 here.
        set_role("child")
        say(f"子进程 child:  pid={os.getpid()} ppid={os.getppid()} fork() returned {pid}")
        time.sleep(args.child_hold)
        say(f"子进程 {os.getpid()} 退出 (the child exits with status 0)")
        os._exit(0)

    # The parent: fork() returned the child's PID here.
    signal.signal(signal.SIGUSR1, wait_for_child)  # before set_role, so "parent" can already be told
    set_role("parent")
    say(f"父进程 parent: pid={os.getpid()} ppid={os.getppid()} fork() returned {pid}")
    time.sleep(args.hold)
    try:
        pid, status = os.wait()  # never leave a zombie behind
        say(f"父进程 wait() 回收子进程 {pid}, {how(status)}  (the parent reaped its child)")
    except ChildProcessError:
        pass  # already reaped when SIGUSR1 came
    say(f"父进程 {os.getpid()} 退出 (the parent exits)")


if __name__ == "__main__":
    main()
