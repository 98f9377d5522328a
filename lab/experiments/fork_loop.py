"""fork_loop: why ``for i in range(n): os.fork()`` makes 2^n processes.

    $ python -m lab.experiments.fork_loop --n 2 --hold 1
    根进程 root pid=29530: for i in range(2): os.fork()  →  4 个进程  (4 processes)
    根进程 root         pid=29530 ppid=29487 每轮 fork() 返回 (gave): P P
    子进程 child PC     pid=29532 ppid=29530 每轮 fork() 返回 (gave): P C
    子进程 child CC     pid=29533 ppid=29531 每轮 fork() 返回 (gave): C C
    子进程 child C      pid=29531 ppid=29530 每轮 fork() 返回 (gave): C P
    根进程 29530: 子进程全部回收, 退出  (all children reaped, exiting)

Every child starts right after the fork() that made it, *inside the loop*,
so it runs the remaining rounds too: after round 0 there are 2 processes,
after round 1 there are 4, after round n-1 there are 2^n.  (The notes: "不能
直接在os.fork()下接os.fork()".)

Each process prints what fork() returned to it in every round: P = a child's
PID (it was the parent), C = 0 (it had just been born).  A process is named by
those letters up to its birth, e.g. "child PC" was born in round 1 to a
process that had been a parent in round 0.  Everyone sleeps --hold seconds,
then reaps its own children before exiting.
"""
import argparse
import os
import signal
import time

from lab.report import say, set_role


def main():
    parser = argparse.ArgumentParser(description="for i in range(n): os.fork()")
    parser.add_argument("--n", type=int, default=3, choices=range(1, 6), help="rounds of fork() (1-5)")
    parser.add_argument("--hold", type=float, default=300, help="seconds every process sleeps (default 300)")
    args = parser.parse_args()
    if not 0.5 <= args.hold <= 600:
        parser.error("--hold must be from 0.5 to 600")
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends them all at once

    set_role("root")
    say(f"根进程 root pid={os.getpid()}: for i in range({args.n}): os.fork()  →  {2 ** args.n} 个进程"
        f"  ({2 ** args.n} processes)")
    name = "root"
    label = "根进程 root"   # the role's name in the notes' words, for the output
    results = ""      # what fork() returned to this process, round by round
    children = []     # the children this process made itself (it must reap them)
    for i in range(args.n):
        pid = os.fork()
        if pid == 0:
            results += "C"
            name = f"child {results}"
            label = f"子进程 {name}"
            set_role(name)
            children = []  # a newborn has no children yet (the list was copied from its parent)
        else:
            results += "P"
            children.append(pid)

    say(f"{label:<16} pid={os.getpid()} ppid={os.getppid()} 每轮 fork() 返回 (gave): {' '.join(results)}")
    time.sleep(args.hold)
    for pid in children:
        os.waitpid(pid, 0)
    if name != "root":
        os._exit(0)
    say(f"根进程 {os.getpid()}: 子进程全部回收, 退出  (all children reaped, exiting)")


if __name__ == "__main__":
    main()
