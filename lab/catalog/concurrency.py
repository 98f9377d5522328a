"""The multiprocessing labs, in the notes' order (day05-day08): Process objects,
the process pool, signals, locks and events, deadlock."""
from lab.catalog.types import Action, Lab, Param, en_zh, signal_action

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

_POOL = Lab(
    "pool", "lab.experiments.pool",
    title=en_zh("Process pool", "进程池"),
    summary=en_zh("multiprocessing.Pool(n): apply_async + get, apply, map, then close + join.",
                  "multiprocessing.Pool(n): apply_async + get、apply、map, 然后 close + join。"),
    explain=en_zh(
        "Pool(n) starts n worker processes once; every event put into the pool's queue runs in one of them, "
        "so only those n PIDs ever appear in the task lines however many tasks there are: no process is "
        "created or removed per task. apply_async() returns at once and get() waits for the result; apply() "
        "waits itself; map() queues one event per item and returns the results in order. The parent shows Sl: "
        "besides its main thread the Pool runs three threads of its own (handing out tasks, collecting "
        "results, watching the workers). \"Add tasks\" queues more; \"close and join\" does close() (no new "
        "events) and join() (the workers are reaped). Kill a worker and the Pool starts another (a new PID), "
        "but the task it was running is lost: a get() waiting for its result waits for ever, and close and "
        "join never return (stop the run).",
        "Pool(n) 一次性启动 n 个工作进程; 放入进程池队列的每个事件都在其中一个进程里运行, 所以不管有多少任务, "
        "任务行里只出现这 n 个 PID: 不会为每个任务创建和删除进程。apply_async() 立即返回, get() 等待结果; "
        "apply() 自己等待; map() 为每一项放入一个事件, 按顺序返回结果列表。父进程显示 Sl: 除了主线程, "
        "进程池还有自己的三个线程 (分发任务、收集结果、照看工作进程)。\"添加任务\" 放入更多事件; "
        "\"关闭并回收\" 执行 close() (不能再添加事件) 和 join() (回收工作进程)。杀死一个工作进程, "
        "进程池会启动一个新的 (新的 PID), 但它正在执行的任务丢失了: 等待这个结果的 get() 会永远等下去, close "
        "和 join 也不会返回 (请停止这次运行)。"),
    params=(
        Param("n", "int", 3, 1, 6, label=en_zh("processes n", "进程数 n"),
              help=en_zh("Pool(processes=n): the pool's worker processes", "Pool(processes=n): 进程池中的进程数")),
        Param("tasks", "int", 6, 1, 20, label=en_zh("tasks", "任务数"),
              help=en_zh("events per round", "每一轮的事件数")),
        Param("work", "float", 1.0, 0.1, 10.0, label=en_zh("work (s)", "工作 (秒)"),
              help=en_zh("seconds each task works", "每个任务工作的秒数")),
        Param("hold", "int", 300, 1, 600, label=en_zh("hold (s)", "保持 (秒)"),
              help=en_zh("seconds until the pool is closed by itself (signal.alarm)",
                         "进程池自动关闭前的秒数 (signal.alarm)")),
    ),
    actions=(
        signal_action("add_tasks", en_zh("add tasks", "添加任务"),
                      en_zh("SIGUSR1 to the parent: another round of apply_async()", "给父进程发 SIGUSR1: 再放入一轮 apply_async()"),
                      "parent", "SIGUSR1"),
        signal_action("close_join", en_zh("close and join", "关闭并回收"),
                      en_zh("SIGUSR2 to the parent: pool.close(), then pool.join()", "给父进程发 SIGUSR2: pool.close(), 然后 pool.join()"),
                      "parent", "SIGUSR2"),
    ),
    processes=lambda p: 1 + p["n"],
)

def _typed(id, label, help, line):
    """A command typed into the playground's terminal, as the student could type it."""
    return Action(id, "key", label, help, key=line + "\r")


_SIGNALS = Lab(
    "signals", "lab.experiments.signals",
    title=en_zh("Signals playground", "信号"),
    summary=en_zh("signal.signal() with SIG_DFL, SIG_IGN or a handler; signal.alarm(); signal.pause().",
                  "signal.signal() 的 SIG_DFL、SIG_IGN 和处理函数; signal.alarm(); signal.pause()。"),
    explain=en_zh(
        "One process (its role: playground) waits for commands at its prompt. It starts with SIGINT, SIGUSR1 "
        "and SIGALRM caught and SIGQUIT ignored: the caught and ignored masks in the details pane say so, and "
        "follow every change. Catching SIGKILL or SIGSTOP fails: the kernel lets nobody handle them. With "
        "SIGINT caught, Ctrl-C runs the handler and the process goes on; ignored, nothing happens; default, "
        "it ends the process. signal.alarm(n) sends SIGALRM to the process itself n seconds later, and there "
        "is one clock only: a second alarm() replaces the first and returns the seconds that were left. "
        "signal.pause() sleeps until a signal is handled. With SIGALRM back to SIG_DFL, the alarm ends the "
        "process (\"Alarm clock\"). Send any signal from the signal picker, too.",
        "一个进程 (角色: 信号演示进程) 在提示符后等待命令。开始时 SIGINT、SIGUSR1、SIGALRM 由处理函数处理, "
        "SIGQUIT 被忽略: 详情中的 caught 和 ignored 掩码就是这样, 并随每次修改而变化。处理 SIGKILL 或 "
        "SIGSTOP 会失败: 内核不允许任何进程处理它们。SIGINT 被处理时, Ctrl-C 运行处理函数, 进程继续; "
        "被忽略时什么也不发生; 默认处理则结束进程。signal.alarm(n) 在 n 秒后给自己发送 SIGALRM, 而且一个"
        "进程只有一个时钟: 第二次 alarm() 会覆盖第一次, 并返回原来剩下的秒数。signal.pause() 阻塞等待"
        "一个信号被处理。把 SIGALRM 恢复为 SIG_DFL 后, 时钟到时进程结束 (\"Alarm clock\")。"
        "也可以从信号选择器发送任何信号。"),
    params=(),
    actions=(
        _typed("ignore_int", en_zh("ignore SIGINT", "忽略 SIGINT"),
               en_zh("types: ign INT  (signal.signal(SIGINT, SIG_IGN))", "输入: ign INT  (signal.signal(SIGINT, SIG_IGN))"),
               "ign INT"),
        _typed("default_int", en_zh("SIGINT default", "SIGINT 默认处理"),
               en_zh("types: dfl INT  (signal.signal(SIGINT, SIG_DFL))", "输入: dfl INT  (signal.signal(SIGINT, SIG_DFL))"),
               "dfl INT"),
        _typed("catch_int", en_zh("catch SIGINT", "处理 SIGINT"),
               en_zh("types: catch INT  (a handler function)", "输入: catch INT  (处理函数)"), "catch INT"),
        _typed("alarm_10", en_zh("alarm(10)", "alarm(10)"),
               en_zh("types: alarm 10  (SIGALRM in 10 s)", "输入: alarm 10  (10 秒后 SIGALRM)"), "alarm 10"),
        _typed("alarm_3", en_zh("alarm(3)", "alarm(3)"),
               en_zh("types: alarm 3  (replaces the clock set before)", "输入: alarm 3  (覆盖之前设置的时钟)"), "alarm 3"),
        _typed("default_alrm", en_zh("SIGALRM default", "SIGALRM 默认处理"),
               en_zh("types: dfl ALRM  (the next alarm ends the process)", "输入: dfl ALRM  (下一个时钟结束进程)"),
               "dfl ALRM"),
        _typed("pause", en_zh("pause()", "pause()"),
               en_zh("types: pause  (blocks until a signal is handled)", "输入: pause  (阻塞等待一个信号被处理)"), "pause"),
    ),
    processes=lambda p: 1,
)

_DEADLOCK = Lab(
    "deadlock", "lab.experiments.deadlock",
    title=en_zh("Deadlock", "死锁"),
    summary=en_zh("Two workers take two locks in opposite order: each holds what the other waits for.",
                  "两个工作进程以相反的顺序获取两把锁: 每个都持有对方等待的锁。"),
    explain=en_zh(
        "Worker 1 holds lock A and waits for B; worker 2 holds B and waits for A. Both sleep in acquire() "
        "(STAT S, wchan in a futex: a multiprocessing.Lock is a semaphore the kernel puts them to sleep on), "
        "use no CPU, and never go on: a deadlock. SIGTERM to one (its handler calls sys.exit()) leaves its "
        "with blocks, which releases its lock: the other takes it and finishes. SIGKILL gives it no such "
        "chance: the lock stays taken and the other waits for ever, as when a process holding a lock "
        "crashes. With order = same both take A before B, and there is no deadlock.",
        "工作进程 1 持有锁 A 并等待锁 B; 工作进程 2 持有锁 B 并等待锁 A。两个都在 acquire() 中睡眠 "
        "(STAT S, wchan 在 futex 中: multiprocessing.Lock 是一个信号量, 内核让它们在上面睡眠), 不占用 CPU, "
        "永远不会继续: 这就是死锁。给其中一个发 SIGTERM (它的处理函数调用 sys.exit()), 它离开 with 块, "
        "释放持有的锁: 另一个拿到锁并完成。SIGKILL 不给它这个机会: 锁一直被占用, 另一个永远等待, "
        "就像持有锁的进程崩溃了一样。order = same 时两个都先拿 A 再拿 B, 不会死锁。"),
    params=(
        Param("order", "choice", "opposite", choices=("opposite", "same"), label=en_zh("order", "加锁顺序"),
              help=en_zh("opposite: worker 2 takes B then A (a deadlock); same: both take A then B",
                         "opposite: 工作进程 2 先拿 B 再拿 A (死锁); same: 都先拿 A 再拿 B")),
        Param("step", "float", 0.5, 0.1, 5.0, label=en_zh("step (s)", "间隔 (秒)"),
              help=en_zh("seconds between taking the first lock and asking for the second",
                         "拿到第一把锁到请求第二把锁之间的秒数")),
    ),
    actions=(
        signal_action("term_1", en_zh("SIGTERM → worker 1", "SIGTERM → 工作进程 1"),
                      en_zh("its handler exits: its lock is released", "它的处理函数退出: 释放它持有的锁"),
                      "worker 1", "SIGTERM"),
        signal_action("term_2", en_zh("SIGTERM → worker 2", "SIGTERM → 工作进程 2"),
                      en_zh("its handler exits: its lock is released", "它的处理函数退出: 释放它持有的锁"),
                      "worker 2", "SIGTERM"),
        signal_action("kill_1", en_zh("SIGKILL → worker 1", "SIGKILL → 工作进程 1"),
                      en_zh("no handler runs: its lock stays taken, worker 2 waits for ever",
                            "处理函数不会运行: 锁一直被占用, 工作进程 2 永远等待"), "worker 1", "SIGKILL"),
    ),
    processes=lambda p: 3,
)

_LOCK_EVENT = Lab(
    "lock_event", "lab.experiments.lock_event",
    title=en_zh("Lock and Event", "锁和事件"),
    summary=en_zh("Workers add to a shared counter, with and without a Lock; an Event gates them.",
                  "多个工作进程对共享计数器做加法, 加锁或不加锁; 用事件 (Event) 控制它们。"),
    explain=en_zh(
        "The counter is a critical resource, adding one to it the critical section: read the value, compute, "
        "write it back. Without the lock two workers often read the same value and both write value + 1: "
        "updates are lost, and the total printed at the end falls short of workers × count. With lock = on, "
        "with lock: makes them take turns (mutual exclusion): the total is exact, and it takes longer. "
        "Processes share the counter through a Value (shared memory), threads through a global, as the "
        "notes' threads do: the race is there for both (a thread switch can land in the middle too). The "
        "workers wait on an Event before every 1000 additions: they start when the parent sets it (after "
        "\"wait\" seconds, or with \"set the event\"); \"clear the event\" stops them, asleep in a futex, until it "
        "is set again (synchronization).",
        "计数器是临界资源, 对它加一的代码是临界区: 读出值、计算、写回。不加锁时, 两个工作进程常常读到同一个值, "
        "又都写回 值 + 1: 更新丢失了, 最后打印的结果小于 工作进程数 × 次数。lock = on 时, with lock: 让它们"
        "轮流进入 (互斥): 结果正确, 但用时更长。进程通过 Value (共享内存) 共享计数器, 线程像笔记中那样通过"
        "全局变量共享: 两种情况都有竞争 (线程切换也可能发生在中间)。工作进程每做 1000 次加法前等待一个事件: "
        "父进程设置事件后它们才开始 (\"等待\" 秒后, 或点 \"设置事件\"); \"清除事件\" 让它们停下, 在 futex 中"
        "睡眠, 直到事件再次被设置 (同步)。"),
    params=(
        Param("lock", "choice", "off", choices=("off", "on"), label=en_zh("lock", "加锁"),
              help=en_zh("with lock: around the critical section, or not", "临界区外面是否加 with lock:")),
        Param("use", "choice", "processes", choices=("processes", "threads"), label=en_zh("workers are", "工作者"),
              help=en_zh("processes sharing a Value, or threads sharing a global", "共享 Value 的进程, 或共享全局变量的线程")),
        Param("workers", "int", 3, 2, 4, label=en_zh("workers", "工作者数"),
              help=en_zh("how many add to the counter", "对计数器做加法的个数")),
        Param("count", "int", 1000000, 10000, 2000000, label=en_zh("additions", "加法次数"),
              help=en_zh("additions per worker", "每个工作者的加法次数")),
        Param("wait", "float", 3.0, 0.0, 60.0, label=en_zh("wait (s)", "等待 (秒)"),
              help=en_zh("seconds before the parent sets the event", "父进程设置事件前的秒数")),
    ),
    actions=(
        signal_action("set_event", en_zh("set the event", "设置事件"),
                      en_zh("SIGUSR1 to the parent: e.set(), the workers go on", "给父进程发 SIGUSR1: e.set(), 工作者继续"),
                      "parent", "SIGUSR1"),
        signal_action("clear_event", en_zh("clear the event", "清除事件"),
                      en_zh("SIGUSR2 to the parent: e.clear(), the workers stop at their next e.wait()",
                            "给父进程发 SIGUSR2: e.clear(), 工作者在下一次 e.wait() 停下"), "parent", "SIGUSR2"),
    ),
    processes=lambda p: 1 + (p["workers"] if p["use"] == "processes" else 0),
)

_THREADS = Lab(
    "threads", "lab.experiments.threads",
    title=en_zh("Threads and the GIL", "线程和 GIL"),
    summary=en_zh("threading.Thread: name, start(), join(timeout), is_alive(), daemon, a subclass; the GIL's "
                  "efficiency test: threads vs processes.",
                  "threading.Thread: name、start()、join(timeout)、is_alive()、daemon 和自定义线程类; "
                  "GIL 效率测试: 多线程和多进程的比较。"),
    explain=en_zh(
        "One process, many threads: every thread prints the same pid and a TID of its own "
        "(threading.get_native_id()), the entries of /proc/PID/task that ps -L lists. STAT shows l "
        "(multi-threaded) and the thread count is the main thread + the branch threads + the daemon thread "
        "(+ MyThread for its first 2 s). t1 shows its default name before it is renamed; join(timeout=1) "
        "returns while MyThread still lives (is_alive() True), join() reclaims it. The daemon thread "
        "(daemon = True, set before start, never joined) ends when the main thread exits. \"Add a thread\" "
        "starts one more (one more task, at most 16 branch threads). \"Run the GIL test\" does the notes' "
        "efficiency test: the same CPU-bound count() serially, in K threads, then in K processes (gil worker "
        "N, children of the parent), each timed with the CPU it used. The GIL lets one thread at a time "
        "run Python code: the threads take as long as serial and the process stays near 100% CPU (one "
        "core); the processes each reach 100% of a core and finish sooner (as many at once as there are "
        "cores). Python threads suit blocking IO, not CPU work. Select the process: the details list its "
        "threads (TID, name, state, what each waits in, %CPU). The kernel calls every one of them "
        "\"python\" (threading's names stay inside Python); a thread that has printed a line is shown with its "
        "threading name.",
        "一个进程, 多个线程: 每个线程打印相同的 pid 和自己的 TID (threading.get_native_id()), 也就是 "
        "/proc/PID/task 中的条目, ps -L 列出的线程。STAT 显示 l (多线程), 线程数 = 主线程 + 分支线程 + "
        "守护线程 (开始 2 秒内还有 MyThread)。t1 在改名之前显示默认名字; join(timeout=1) 超时返回时 MyThread "
        "还活着 (is_alive() 为 True), join() 回收它。守护线程 (daemon = True, 在 start 前设置, 不再 join) "
        "随主线程退出而结束。\"添加线程\" 再启动一个分支线程 (多一个 task, 最多 16 个分支线程)。"
        "\"GIL 效率测试\" 就是笔记中的效率测试: 同一个 CPU 密集型的 count() 先串行执行, 再用 K 个线程, "
        "再用 K 个进程 (gil worker N, 父进程的子进程), 每一轮打印用时和使用的 CPU 时间。GIL (全局解释器锁) "
        "使同一时刻只解释一个线程: 多线程和串行用时差不多, 这时进程的 CPU 一直在 100% 左右 (一个核); 每个进程"
        "都能用满一个核, 更快完成 (同时运行的个数最多为 CPU 核数)。进程的效率明显提高, 由于 GIL 影响线程效率"
        "较低: Python 线程适用于高延迟的 IO 操作, 不适合 CPU 密集型的任务。选中这个进程: 详情中列出它的"
        "线程 (TID、名称、状态、各自在等待什么、%CPU)。内核把每个线程都叫作 \"python\" (threading 的线程名只在 "
        "Python 内部); 打印过一行的线程会显示它的 threading 名字。"),
    params=(
        Param("threads", "int", 3, 1, 8, label=en_zh("branch threads", "分支线程数"),
              help=en_zh("threads started at the beginning, thread-1 .. thread-N",
                         "开始时启动的线程 thread-1 .. thread-N")),
        Param("workers", "int", 2, 2, 4, label=en_zh("GIL test K", "GIL 测试 K"),
              help=en_zh("the GIL test's threads, then processes", "GIL 测试中的线程数, 以及进程数")),
        Param("count", "int", 15000000, 100000, 100000000, label=en_zh("count() loops", "count() 循环次数"),
              help=en_zh("loops of each count() in the GIL test (15000000: about 1 s)",
                         "GIL 测试中每个 count() 的循环次数 (15000000: 约 1 秒)")),
        Param("gil", "choice", "off", choices=("off", "on"), label=en_zh("GIL test at once", "立即 GIL 测试"),
              help=en_zh("on: run the GIL test once MyThread is joined, without waiting for the action",
                         "on: 回收 MyThread 后立即进行 GIL 测试, 不等按钮")),
        Param("hold", "float", 120.0, 3.0, 600.0, label=en_zh("hold (s)", "保持 (秒)"),
              help=en_zh("seconds the branch threads run; then the main thread joins them and exits",
                         "分支线程运行的秒数; 然后主线程回收它们并退出")),
    ),
    actions=(
        signal_action("add_thread", en_zh("add a thread", "添加线程"),
                      en_zh("SIGUSR1 to the parent: the main thread starts one more branch thread",
                            "给父进程发 SIGUSR1: 主线程再启动一个分支线程"), "parent", "SIGUSR1"),
        signal_action("gil_test", en_zh("run the GIL test", "GIL 效率测试"),
                      en_zh("SIGUSR2 to the parent: count() serially, in K threads, in K processes, timed",
                            "给父进程发 SIGUSR2: count() 串行、K 个线程、K 个进程, 分别计时"), "parent", "SIGUSR2"),
    ),
    processes=lambda p: 1 + p["workers"],
)

CONCURRENCY_LABS = (_PROCESS_OBJECTS, _POOL, _SIGNALS, _LOCK_EVENT, _THREADS, _DEADLOCK)
