"""fork_loop: why ``for i in range(n): os.fork()`` makes 2^n processes.

    $ python -m lab.experiments.fork_loop --n 2 --hold 3
    root pid=10416: for i in range(2): os.fork()  →  4 processes
    root         pid=10416 ppid=10252 fork() gave P P
    child PC     pid=10418 ppid=10416 fork() gave P C
    child C      pid=10417 ppid=10416 fork() gave C P
    child CC     pid=10419 ppid=10417 fork() gave C C
    root 10416: all children reaped, exiting

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
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends them all at once

    set_role("root")
    say(f"root pid={os.getpid()}: for i in range({args.n}): os.fork()  →  {2 ** args.n} processes")
    name = "root"
    results = ""      # what fork() returned to this process, round by round
    children = []     # the children this process made itself (it must reap them)
    for i in range(args.n):
        pid = os.fork()
        if pid == 0:
            results += "C"
            name = f"child {results}"
            set_role(name)
            children = []  # a newborn has no children yet (the list was copied from its parent)
        else:
            results += "P"
            children.append(pid)

    say(f"{name:<12} pid={os.getpid()} ppid={os.getppid()} fork() gave {' '.join(results)}")
    time.sleep(args.hold)
    for pid in children:
        os.waitpid(pid, 0)
    if name != "root":
        os._exit(0)
    say(f"root {os.getpid()}: all children reaped, exiting")


if __name__ == "__main__":
    main()
