"""zombie_fixes: the cures for zombies from the notes (如何避免僵尸进程产生).

    $ python -m lab.experiments.zombie_fixes --fix waitpid --children 2 --step 0.5 --hold 2
    父进程 pid=28891: fix = waitpid, os.waitpid(-1, WNOHANG) 非阻塞回收子进程  (how this parent avoids zombies)
    子进程 1 (pid 28892) 工作 1/1  (child 1 working)
    子进程 2 (pid 28893) 工作 1/2  (child 2 working)
    子进程 1 (pid 28892) 退出, exit(1)  (child 1 exits)
    子进程 2 (pid 28893) 工作 2/2  (child 2 working)
    父进程回收子进程 pid=28892, exit status 1  (the parent reaped its child)
    子进程 2 (pid 28893) 退出, exit(2)  (child 2 exits)
    父进程回收子进程 pid=28893, exit status 2  (the parent reaped its child)
    父进程 28891 退出, 没有留下僵尸进程  (the parent exits, no zombie left)

    $ python -m lab.experiments.zombie_fixes --fix double_fork --children 2 --step 0.5 --hold 2
    父进程 pid=28978: fix = double_fork, 创建二级子进程  (how this parent avoids zombies)
    子进程 1 (pid 28979) 创建二级子进程后马上退出  (child 1 forked a grandchild and exits at once)
    二级子进程 1 (pid 28981) 工作 1/1  (grandchild 1 working)
    ...
    父进程回收子进程 pid=28979, exit status 0  (the parent reaped its child)
    ...
    二级子进程 1 (pid 28981) exit(1), 由收养它的 1 回收  (grandchild 1 exits, reaped by its adopter)

--fix chooses the cure; child i works i steps of --step seconds, then exit(i):

- wait             the parent blocks in os.wait() once per child.
- waitpid          os.waitpid(-1, os.WNOHANG) polled every 0.1 s: the parent
                   stays free to do its own work (a child may show Z for an instant).
- sigchld_ign      signal(SIGCHLD, SIG_IGN) before forking: the kernel discards
                   exited children itself; their exit status is lost.
- sigchld_handler  a SIGCHLD handler reaps with waitpid(WNOHANG) in a loop
                   (one pending SIGCHLD can stand for several exits).
- double_fork      二级子进程: the child forks a grandchild and exits at once;
                   the parent waits for the child; the grandchild, an orphan
                   adopted by PID 1 / lab init, does the work until --hold ends.

The parent lives for --hold seconds in every case, so you can see it has no Z.
"""
import argparse
import os
import signal
import time

from lab.report import say, set_role

FIXES = ("wait", "waitpid", "sigchld_ign", "sigchld_handler", "double_fork")
HOW = {  # the cure in the notes' words, for the parent's first line
    "wait": "os.wait() 阻塞等待回收子进程",
    "waitpid": "os.waitpid(-1, WNOHANG) 非阻塞回收子进程",
    "sigchld_ign": "signal(SIGCHLD, SIG_IGN), 子进程退出时由系统自动处理",
    "sigchld_handler": "SIGCHLD 信号处理函数回收子进程",
    "double_fork": "创建二级子进程",
}


def work(who, who_en, steps, step):
    for k in range(1, steps + 1):
        say(f"{who} (pid {os.getpid()}) 工作 {k}/{steps}  ({who_en} working)")
        time.sleep(step)


def reaped(pid, status):
    say(f"父进程回收子进程 pid={pid}, exit status {os.WEXITSTATUS(status)}  (the parent reaped its child)")


def on_sigchld(sig, frame):
    """SIGCHLD handler: reap every child that has exited, without blocking."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no children at all
        if pid == 0:
            return  # children left, none exited
        reaped(pid, status)


def spawn(i, args, deadline):
    pid = os.fork()
    if pid != 0:
        return pid
    set_role(f"child {i}")
    if args.fix == "double_fork":
        if os.fork() == 0:
            set_role(f"grandchild {i}")
            work(f"二级子进程 {i}", f"grandchild {i}", i, args.step)
            time.sleep(max(0, deadline - time.monotonic()))
            say(f"二级子进程 {i} (pid {os.getpid()}) exit({i}), 由收养它的 {os.getppid()} 回收"
                f"  (grandchild {i} exits, reaped by its adopter)")
            os._exit(i)
        say(f"子进程 {i} (pid {os.getpid()}) 创建二级子进程后马上退出"
            f"  (child {i} forked a grandchild and exits at once)")
        os._exit(0)
    work(f"子进程 {i}", f"child {i}", i, args.step)
    say(f"子进程 {i} (pid {os.getpid()}) 退出, exit({i})  (child {i} exits)")
    os._exit(i)


def main():
    parser = argparse.ArgumentParser(description="ways to never leave a zombie")
    parser.add_argument("--fix", choices=FIXES, default="wait", help="which cure (default wait)")
    parser.add_argument("--children", type=int, default=3, choices=range(1, 6), help="children to fork (1-5)")
    parser.add_argument("--step", type=float, default=1.0, help="seconds per step of work (default 1)")
    parser.add_argument("--hold", type=float, default=120, help="seconds the parent lives (default 120)")
    args = parser.parse_args()
    if not 0.05 <= args.step <= 5 or not 0.5 <= args.hold <= 600:
        parser.error("--step must be from 0.05 to 5, --hold from 0.5 to 600")
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends them all at once
    deadline = time.monotonic() + args.hold

    # The SIGCHLD cures must be in place before the first child can exit.
    if args.fix == "sigchld_ign":
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    elif args.fix == "sigchld_handler":
        signal.signal(signal.SIGCHLD, on_sigchld)
    set_role("parent")
    say(f"父进程 pid={os.getpid()}: fix = {args.fix}, {HOW[args.fix]}  (how this parent avoids zombies)")
    pids = [spawn(i, args, deadline) for i in range(1, args.children + 1)]

    if args.fix in ("wait", "double_fork"):
        for _ in pids:
            reaped(*os.wait())  # blocks until some child exits
    elif args.fix == "waitpid":
        left = len(pids)
        while left:
            pid, status = os.waitpid(-1, os.WNOHANG)  # returns (0, 0) at once if nobody exited
            if pid:
                reaped(pid, status)
                left -= 1
            else:
                time.sleep(0.1)  # ... the parent's own work would go here
    elif args.fix == "sigchld_ign":
        say("父进程: 忽略 SIGCHLD, 子进程退出时由系统自动处理, 没有退出状态"
            "  (SIGCHLD ignored, the kernel reaps the children: no exit status)")

    time.sleep(max(0, deadline - time.monotonic()))
    if args.fix == "sigchld_handler":
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # from here on main reaps, not the handler
    try:
        # Normally nothing is left.  With SIG_IGN, wait() blocks until every
        # child has gone and then fails with ECHILD: that is how we know.
        while True:
            reaped(*os.wait())
    except ChildProcessError:
        pass
    say(f"父进程 {os.getpid()} 退出, 没有留下僵尸进程  (the parent exits, no zombie left)")


if __name__ == "__main__":
    main()
