"""fork_tree: a process tree of a given depth and breadth, built with os.fork().

    $ python -m lab.experiments.fork_tree --depth 2 --breadth 2 --hold 1
    进程树 depth 2, breadth 2: 共 7 个进程  (7 processes)
    第 0 层 (level 0) root       pid=29776 ppid=29731
    第 1 层 (level 1) L1 #1      pid=29777 ppid=29776
    第 2 层 (level 2) L2 #1.1    pid=29779 ppid=29777
    第 1 层 (level 1) L1 #2      pid=29778 ppid=29776
    第 2 层 (level 2) L2 #1.2    pid=29780 ppid=29777
    第 2 层 (level 2) L2 #2.1    pid=29781 ppid=29778
    第 2 层 (level 2) L2 #2.2    pid=29782 ppid=29778
    根进程 29776: 子进程全部回收, 退出  (all children reaped, exiting)

Every process on a level below --depth forks --breadth children, so the tree
has 1 + b + b^2 + ... + b^depth processes.  From the notes: forking siblings
is done on the ``pid > 0`` side (the parent forks again), going one level
down on the ``pid == 0`` side (the child forks its own children).

The leaves then live --hold seconds, and every parent waits for its own
children (os.waitpid) and exits once they are reaped, so nobody is left a
zombie and the tree comes down from the leaves up.  Kill the root and its
children become orphans.  SIGUSR1 to a leaf makes it finish at once (it
waits with signal.sigtimedwait, so SIGUSR1 shows as blocked, then
pending); it says so:

    L1 #1 pid=29785: 收到 SIGUSR1, 马上结束  (SIGUSR1, finishing now)

Stop the root (SIGSTOP), make the leaves finish, and the root's children,
done too, stay Z until the root continues and reaps them.
"""
import argparse
import os
import signal

from lab.report import say, set_role


def grow(level, path, args):
    """Be one process of the tree: say who we are, fork the next level; a leaf
    lives --hold seconds (or until SIGUSR1), a parent reaps its children."""
    name = f"L{level} #{path}" if path else "root"
    set_role(name)
    say(f"第 {level} 层 (level {level}) {name:<10} pid={os.getpid()} ppid={os.getppid()}")

    children = []
    if level < args.depth:
        for i in range(1, args.breadth + 1):
            pid = os.fork()
            if pid == 0:
                # The child goes one level down; it must never come back into
                # this loop (it would fork its parent's remaining siblings too).
                try:
                    grow(level + 1, f"{path}.{i}" if path else str(i), args)
                finally:
                    os._exit(0)
            children.append(pid)

    if not children:
        if signal.sigtimedwait({signal.SIGUSR1}, args.hold):
            say(f"{name} pid={os.getpid()}: 收到 SIGUSR1, 马上结束  (SIGUSR1, finishing now)")
        return
    for pid in children:
        os.waitpid(pid, 0)  # each parent reaps its own children, as each finishes


def main():
    parser = argparse.ArgumentParser(description="a fork tree: every level forks --breadth children")
    parser.add_argument("--depth", type=int, default=2, choices=range(0, 5), help="levels below the root (0-4)")
    parser.add_argument("--breadth", type=int, default=2, choices=range(1, 5), help="children per process (1-4)")
    parser.add_argument("--hold", type=float, default=300, help="seconds the leaves live (default 300)")
    args = parser.parse_args()
    if not 0.5 <= args.hold <= 600:
        parser.error("--hold must be from 0.5 to 600")
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the whole tree at once
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})   # kept for sigtimedwait, in every process

    total = sum(args.breadth ** i for i in range(args.depth + 1))
    say(f"进程树 depth {args.depth}, breadth {args.breadth}: 共 {total} 个进程  ({total} processes)")
    grow(0, "", args)
    say(f"根进程 {os.getpid()}: 子进程全部回收, 退出  (all children reaped, exiting)")


if __name__ == "__main__":
    main()
