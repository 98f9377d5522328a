"""The multiprocessing labs, in the notes' order (day05-day08): Process objects,
the process pool, signals, locks and events, deadlock."""
from lab.catalog.types import Lab, Param, en_zh, signal_action

_PROCESS_OBJECTS = Lab(
    "process_objects", "lab.experiments.process_objects",
    title=en_zh("Process objects", "进程对象"),
    summary=en_zh("multiprocessing.Process: name, target, args, start(), join(timeout), is_alive(), daemon, a subclass.",
                  "multiprocessing.Process: name、target、args、start()、join(timeout)、is_alive()、daemon 和自定义进程类。"),
    explain=en_zh(
        "A Process object is only an object until start(): then the child is forked (its PPID is the parent) and "
        "pid and is_alive() change. join(timeout=1) returns when the time is up even if the child lives; join() "
        "reaps it, so no Z stays. worker-1 has a name given, Process-2 the default one, MyProcess-3 is a "
        "subclass whose run() start() calls. Process-2 is a daemon (daemon=True, set before start, never "
        "joined): when the parent exits normally (\"parent exits now\", or at the end), multiprocessing ends it "
        "with SIGTERM (it shows Z until the exiting parent joins it), while worker-1 and MyProcess-3 keep the "
        "parent waiting until they are done. \"Kill the "
        "parent\" with SIGKILL instead: nothing of that runs, every child is an orphan adopted by lab init, and "
        "the daemon lives on.",
        "进程对象在 start() 之前只是一个对象: start() 时才 fork 出子进程 (PPID 是父进程), pid 和 is_alive() 随之改变。"
        "join(timeout=1) 超时就返回, 即使子进程还活着; join() 回收子进程, 不会留下 Z。worker-1 有自己起的名字, "
        "Process-2 是默认名字, MyProcess-3 是自定义进程类, start() 会调用它重写的 run()。Process-2 是守护进程 "
        "(daemon=True, 在 start 前设置, 不再 join): 父进程正常退出时 (\"父进程立即退出\", 或运行结束), "
        "multiprocessing 用 SIGTERM 结束它 (在退出的父进程 join 它之前显示为 Z), 而 worker-1 和 MyProcess-3 会让父进程等它们做完。如果用 SIGKILL "
        "\"杀死父进程\": 这些都不会发生, 每个子进程都成为孤儿被 lab init 收养, 守护进程继续运行。"),
    params=(
        Param("hold", "float", 30.0, 1.0, 600.0, label=en_zh("work (s)", "工作 (秒)"),
              help=en_zh("seconds worker-1 works (MyProcess-3 three quarters of it, the daemon three times)",
                         "worker-1 工作的秒数 (MyProcess-3 为其四分之三, 守护进程为三倍)")),
    ),
    actions=(
        signal_action("parent_exits", en_zh("parent exits now", "父进程立即退出"),
                      en_zh("SIGUSR1 to the parent: sys.exit(), a normal exit: the daemon child is ended",
                            "给父进程发 SIGUSR1: sys.exit() 正常退出, 守护进程随之结束"), "parent", "SIGUSR1"),
        signal_action("kill_parent", en_zh("kill the parent", "杀死父进程"),
                      en_zh("SIGKILL to the parent: no exit code runs, every child is orphaned",
                            "给父进程发 SIGKILL: 退出处理不会运行, 每个子进程都成为孤儿"), "parent", "SIGKILL"),
    ),
    processes=lambda p: 4,
)

CONCURRENCY_LABS = (_PROCESS_OBJECTS,)
