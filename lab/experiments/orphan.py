"""orphan: the parent exits first and its child becomes an orphan (孤儿进程).

    $ python -m lab.experiments.orphan --delay 2 --hold 5 --every 1
    父进程 parent: pid=10489 创建子进程 10494, 2 秒后退出, 不等待它  (exits in 2 s without waiting)
    子进程 child: pid=10494 ppid=10489
    子进程 child: pid=10494 ppid=10489
    父进程 10489 退出  (the parent exits, the child lives on)
    $ 子进程 child: pid=10494 ppid=10489
    父进程 10489 不在了: 孤儿被 1 (process_api) 收养  (orphan adopted by 1)
    子进程 child: pid=10494 ppid=1
    子进程 child: pid=10494 ppid=1
    子进程 child: pid=10494 ppid=1
    子进程 10494 退出, 由收养它的 1 回收  (the adopter reaps it)

(Here PID 1 of a container adopted it; under the dashboard it is lab init.)

"孤儿进程会被系统指定的进程收养": when the parent exits, the kernel hands the
child to an adopter: the nearest "child subreaper" above it (systemd --user
on a desktop, lab init under the dashboard) or else PID 1.  The child sees
getppid() change; the adopter will reap it when it exits.

The parent exits after --delay seconds, or at once on SIGUSR1 ("parent exits
now").  In a terminal the shell prompt comes back while the orphan goes on
printing: it is no longer the shell's job.
"""
import argparse
import os
import signal
import sys
import time

from lab.report import say, set_role


def comm(pid):
    """The adopter's command name, e.g. "systemd" or "python"."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def exit_now(sig, frame):
    """SIGUSR1 handler in the parent: leave without waiting for the child."""
    say("父进程收到 SIGUSR1, 马上退出  (parent exits now)")
    sys.exit(0)


def child(parent, args):
    set_role("child")
    say(f"子进程 child: pid={os.getpid()} ppid={os.getppid()}")
    deadline = time.monotonic() + args.hold
    while time.monotonic() < deadline:
        time.sleep(min(args.every, max(0, deadline - time.monotonic())))
        ppid = os.getppid()
        if ppid != parent:
            say(f"父进程 {parent} 不在了: 孤儿被 {ppid} ({comm(ppid)}) 收养  (orphan adopted by {ppid})")
            parent = ppid
        say(f"子进程 child: pid={os.getpid()} ppid={ppid}")
    say(f"子进程 {os.getpid()} 退出, 由收养它的 {os.getppid()} 回收  (the adopter reaps it)")


def main():
    parser = argparse.ArgumentParser(description="the parent exits first: an orphan")
    parser.add_argument("--delay", type=float, default=10, help="seconds before the parent exits (default 10)")
    parser.add_argument("--hold", type=float, default=300, help="seconds the child lives (default 300)")
    parser.add_argument("--every", type=float, default=2, help="seconds between the child's lines (default 2)")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends both at once

    parent = os.getpid()  # the child remembers its real parent, even if that exits very soon
    pid = os.fork()
    if pid == 0:
        child(parent, args)
        os._exit(0)

    signal.signal(signal.SIGUSR1, exit_now)
    set_role("parent")
    say(f"父进程 parent: pid={os.getpid()} 创建子进程 {pid}, {args.delay:g} 秒后退出, 不等待它"
        f"  (exits in {args.delay:g} s without waiting)")
    time.sleep(args.delay)
    say(f"父进程 {os.getpid()} 退出  (the parent exits, the child lives on)")


if __name__ == "__main__":
    main()
