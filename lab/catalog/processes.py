"""The process labs, in teaching order (LABS.md, "Processes")."""
from lab.catalog.types import Action, Lab, Param, en_zh, hold_param, signal_action

_FORK_BASICS = Lab(
    "fork_basics", "lab.experiments.fork_basics",
    title=en_zh("fork() basics", "fork() 基础"),
    summary=en_zh("One os.fork(): a parent and a child print getpid(), getppid() and what fork returned.",
               "一次 os.fork(): 父子进程分别打印 getpid()、getppid() 和 fork 的返回值。"),
    explain=en_zh(
        "fork() returns twice: the child's PID in the parent and 0 in the child. The child's PPID is the "
        "parent's PID, and both sleep (STAT S+). If the child exits before anyone waits for it, it shows Z "
        "until the parent calls wait(); press \"parent calls wait()\" and the parent's handler blocks in "
        "os.wait() (wchan do_wait) until the child exits, then prints its pid and exit status.",
        "fork() 返回两次: 在父进程中返回子进程的 PID, 在子进程中返回 0。子进程的 PPID 就是父进程的 PID, "
        "两者都在睡眠 (STAT S+)。子进程退出后若没人 wait, 它会显示 Z, 直到父进程调用 wait(); "
        "点 “父进程调用 wait()”, 父进程的信号处理函数阻塞在 os.wait() (wchan do_wait) 中, "
        "直到子进程退出, 然后打印它的 pid 和退出状态。"),
    params=(
        hold_param(300, what=en_zh("the parent", "父进程")),
        Param("child_hold", "float", 60.0, 0.5, 600.0, label=en_zh("child hold (s)", "子进程保持 (秒)"),
              help=en_zh("how long the child lives before it exits", "子进程退出前存活的秒数")),
    ),
    actions=(
        signal_action("parent_wait", en_zh("parent calls wait()", "父进程调用 wait()"),
             en_zh("SIGUSR1 to the parent: its handler calls os.wait()",
                "给父进程发 SIGUSR1: 它的处理函数调用 os.wait()"), "parent", "SIGUSR1"),
    ),
    processes=lambda p: 2,
)

_FORK_TREE = Lab(
    "fork_tree", "lab.experiments.fork_tree",
    title=en_zh("Fork tree", "进程树"),
    summary=en_zh("Every process above the last level forks `breadth` children, `depth` levels deep.",
               "除最后一层外, 每个进程各创建 breadth 个子进程, 共 depth 层。"),
    explain=en_zh(
        "The tree has exactly 1 + b + b² + … + b^depth processes and each PPID points one level up. Every "
        "parent waits for its children (wchan do_wait) and exits once they are reaped; the leaves live \"hold\" "
        "seconds. Kill the root and its children become orphans: their PPID changes to lab init. Stop the "
        "root (STAT T), then \"children finish now\": the leaves end, their parents reap them and end too, and "
        "the root's children stay Z until the root continues and reaps them.",
        "进程树恰好有 1 + b + b² + … + b^depth 个进程, 每个进程的 PPID 指向上一层。每个父进程等待它的子进程 "
        "(wchan do_wait), 回收后退出; 叶子进程存活 \"保持\" 秒。杀死根进程, 它的子进程成为孤儿, PPID 变为 "
        "lab init。先暂停根进程 (STAT T), 再点 \"子进程立即结束\": 叶子进程结束, 它们的父进程回收后也结束, "
        "根进程的子进程会一直是 Z, 直到根进程继续运行并回收它们。"),
    params=(
        Param("depth", "int", 2, 0, 4, label=en_zh("depth", "深度"),
              help=en_zh("levels below the root", "根进程以下的层数")),
        Param("breadth", "int", 2, 1, 4, label=en_zh("breadth", "宽度"),
              help=en_zh("children of every process that is not a leaf", "每个非叶子进程的子进程数")),
        hold_param(300),
    ),
    actions=(
        signal_action("kill_root", en_zh("kill the root", "杀死根进程"),
             en_zh("SIGKILL to the root: its children are orphaned", "给根进程发 SIGKILL: 它的子进程成为孤儿"),
             "root", "SIGKILL"),
        signal_action("stop_root", en_zh("stop the root", "暂停根进程"),
             en_zh("SIGSTOP to the root (STAT T)", "给根进程发 SIGSTOP (STAT T)"), "root", "SIGSTOP"),
        signal_action("continue_root", en_zh("continue", "继续"),
             en_zh("SIGCONT to the root", "给根进程发 SIGCONT"), "root", "SIGCONT"),
        signal_action("children_finish", en_zh("children finish now", "子进程立即结束"),
             en_zh("SIGUSR1 below the root: the leaves end (waiting in sigtimedwait), and the tree comes down",
                   "给根进程以下的进程发 SIGUSR1: 叶子进程结束 (它们在 sigtimedwait 中等待), 进程树随之收起"),
             "L*", "SIGUSR1"),
    ),
    processes=lambda p: sum(p["breadth"] ** i for i in range(p["depth"] + 1)),
)

_FORK_LOOP = Lab(
    "fork_loop", "lab.experiments.fork_loop",
    title=en_zh("fork() in a loop", "循环中的 fork()"),
    summary=en_zh("for i in range(n): os.fork() makes 2^n processes.",
               "for i in range(n): os.fork() 会产生 2^n 个进程。"),
    explain=en_zh(
        "Each child starts right after the fork() that made it, inside the loop, so it forks in the "
        "remaining rounds too: the number of processes doubles every round. Each one prints what fork() "
        "returned to it in every round (P = a child's PID, C = 0) and reaps its own children at the end.",
        "子进程从创建它的 fork() 的下一句开始执行, 仍在循环里, 所以它也会在剩下的轮次中 fork: 进程数每轮翻倍。"
        "每个进程打印每一轮 fork() 的返回值 (P = 子进程 PID, C = 0), 最后回收自己的子进程。"),
    params=(
        Param("n", "int", 3, 1, 5, label=en_zh("rounds n", "轮数 n"),
              help=en_zh("how many times the loop calls os.fork()", "循环调用 os.fork() 的次数")),
        hold_param(300),
    ),
    actions=(
        signal_action("kill_root", en_zh("kill the root", "杀死根进程"),
             en_zh("SIGKILL to the first process", "给最初的进程发 SIGKILL"), "root", "SIGKILL"),
    ),
    processes=lambda p: 2 ** p["n"],
)

_ORPHAN = Lab(
    "orphan", "lab.experiments.orphan",
    title=en_zh("Orphan process", "孤儿进程"),
    summary=en_zh("The parent exits first; its child lives on and is adopted.",
               "父进程先于子进程退出, 子进程继续运行并被收养。"),
    explain=en_zh(
        "When the parent exits, the kernel re-parents the child to the nearest subreaper: lab init here "
        "(systemd or PID 1 in a plain terminal). Watch the child's PPID change and the re-parented event; "
        "the child keeps printing getppid(). When it finally exits, lab init reaps it, so it never stays Z.",
        "父进程退出后, 内核把子进程交给最近的 subreaper 收养: 这里是 lab init (普通终端中是 systemd 或 1 号进程)。"
        "注意子进程的 PPID 变化和 “reparented” 事件; 子进程会持续打印 getppid()。它退出时由 lab init 回收, 不会留下 Z。"),
    params=(
        Param("delay", "float", 10.0, 0.0, 600.0, label=en_zh("parent exits after (s)", "父进程退出延时 (秒)"),
              help=en_zh("seconds before the parent exits on its own", "父进程自行退出前的秒数")),
        hold_param(300, what=en_zh("the child", "子进程")),
        Param("every", "float", 2.0, 0.2, 10.0, label=en_zh("print every (s)", "打印间隔 (秒)"),
              help=en_zh("seconds between the child's getppid() lines", "子进程打印 getppid() 的间隔")),
    ),
    actions=(
        signal_action("parent_exits", en_zh("parent exits now", "父进程立即退出"),
             en_zh("SIGUSR1 to the parent: it exits without waiting", "给父进程发 SIGUSR1: 它不等待子进程就退出"),
             "parent", "SIGUSR1"),
    ),
    processes=lambda p: 2,
)

_ZOMBIE = Lab(
    "zombie", "lab.experiments.zombie",
    title=en_zh("Zombie process", "僵尸进程"),
    summary=en_zh("The child exits at once with status 3; the parent sleeps and never waits.",
               "子进程立即以状态 3 退出; 父进程睡眠, 不处理子进程的退出状态。"),
    explain=en_zh(
        "The dead child stays in the process table as Z+ (<defunct>) holding its exit status until the parent "
        "collects it. \"parent calls wait()\" makes the parent's SIGUSR1 handler call os.wait(): it prints the "
        "pid and the status, 768 (the exit status × 256, as the notes say), os.WEXITSTATUS(status) gives the 3, "
        "and the Z disappears. Kill the parent instead and lab init adopts the zombie "
        "(its PPID changes) and reaps it at once.",
        "已经结束的子进程以 Z+ (<defunct>) 留在进程表中, 保存着退出状态, 直到父进程处理它。"
        "“父进程调用 wait()” 让父进程的 SIGUSR1 处理函数调用 os.wait(): 打印 pid 和 status 768 (笔记中说的 "
        "“状态码*256”), os.WEXITSTATUS(status) 得到 3, Z 随之消失。"
        "如果杀死父进程, lab init 会收养这个僵尸 (PPID 改变) 并立即回收。"),
    params=(hold_param(300, what=en_zh("the parent", "父进程")),),
    actions=(
        signal_action("parent_wait", en_zh("parent calls wait()", "父进程调用 wait()"),
             en_zh("SIGUSR1 to the parent: its handler calls os.wait()",
                "给父进程发 SIGUSR1: 它的处理函数调用 os.wait()"), "parent", "SIGUSR1"),
        signal_action("kill_parent", en_zh("kill the parent", "杀死父进程"),
             en_zh("SIGKILL to the parent: lab init adopts and reaps the zombie",
                "给父进程发 SIGKILL: lab init 收养并回收僵尸"), "parent", "SIGKILL"),
    ),
    processes=lambda p: 2,
)

_ZOMBIE_FIXES = Lab(
    "zombie_fixes", "lab.experiments.zombie_fixes",
    title=en_zh("Avoiding zombies", "避免僵尸进程"),
    summary=en_zh("The cures from the notes: wait(), waitpid(WNOHANG), SIGCHLD ignored or handled, double fork.",
               "笔记中的方法: wait()、waitpid(WNOHANG)、忽略或处理 SIGCHLD、二级子进程。"),
    explain=en_zh(
        "Children work for a few steps and exit with status 1, 2, 3…; none of them stays Z. With wait() the "
        "parent blocks (wchan do_wait); with waitpid(WNOHANG) it polls and stays free; with SIGCHLD ignored "
        "the kernel discards the children and their status is lost; a SIGCHLD handler reaps them as they go. "
        "With the double fork the child exits at once and the grandchild, an orphan, gets lab init as PPID.",
        "子进程工作几步后以状态 1、2、3… 退出, 没有一个停留在 Z。用 wait() 父进程会阻塞 (wchan do_wait); "
        "用 waitpid(WNOHANG) 它轮询, 可以做别的事; 忽略 SIGCHLD 时由内核处理子进程, 退出状态丢失; "
        "SIGCHLD 处理函数随时回收。创建二级子进程: 子进程马上退出, 二级子进程成为孤儿, PPID 变为 lab init。"),
    params=(
        Param("fix", "choice", "wait", choices=("wait", "waitpid", "sigchld_ign", "sigchld_handler", "double_fork"),
              label=en_zh("cure", "方法"), help=en_zh("how the parent avoids zombies", "父进程避免僵尸进程的方法")),
        Param("children", "int", 3, 1, 5, label=en_zh("children", "子进程数"),
              help=en_zh("child i works i steps, then exit(i)", "第 i 个子进程工作 i 步, 然后 exit(i)")),
        Param("step", "float", 1.0, 0.05, 5.0, label=en_zh("step (s)", "每步 (秒)"),
              help=en_zh("seconds per step of work", "每一步工作的秒数")),
        hold_param(120, what=en_zh("the parent", "父进程")),
    ),
    actions=(),
    processes=lambda p: 1 + p["children"] * (2 if p["fix"] == "double_fork" else 1),
)

_DRIVER_CONDUCTOR = Lab(
    "driver_conductor", "lab.experiments.driver_conductor",
    title=en_zh("Driver and conductor", "司机和售票员"),
    summary=en_zh("Parent = driver, child = conductor; Ctrl-C, Ctrl-\\ and Ctrl-Z tell the story with signals.",
               "父进程是司机, 子进程是售票员; 用 Ctrl-C、Ctrl-\\ 和 Ctrl-Z 通过信号讲这个故事。"),
    explain=en_zh(
        "Keys typed into the terminal reach the whole foreground group (both show S+), so each side ignores "
        "the other's key: see SIGINT and SIGQUIT ignored in the driver and SIGTSTP ignored in the conductor. "
        "Ctrl-C: conductor → SIGUSR1 → driver \"老司机开车了\"; Ctrl-\\: conductor → SIGUSR2 → driver "
        "\"车速有点快，系好安全带\"; Ctrl-Z: driver → SIGUSR1 → conductor \"到站了请下车\". The conductor "
        "exits first, the driver reaps it (no Z) and exits too. Both wait in select() on a pipe that "
        "every signal with a Python handler writes a byte to (signal.set_wakeup_fd; see nap() in the source): "
        "Python runs a handler between two bytecodes, "
        "so a signal that came just before a plain waitpid() would wait with it.",
        "终端按键会发给整个前台进程组 (两者都是 S+), 所以双方各自忽略对方的按键: 司机忽略 SIGINT 和 SIGQUIT, "
        "售票员忽略 SIGTSTP。Ctrl-C: 售票员 → SIGUSR1 → 司机 “老司机开车了”; Ctrl-\\: 售票员 → SIGUSR2 → 司机 "
        "“车速有点快，系好安全带”; Ctrl-Z: 司机 → SIGUSR1 → 售票员 “到站了请下车”。售票员先下车 (子进程先退出), "
        "司机回收它 (没有 Z) 后也下车。双方都在 select() 里等一个管道, 每个有 Python 处理函数的信号都会往里写一个字节 "
        "(signal.set_wakeup_fd; 见源码中的 "
        "nap()): Python 在两条字节码之间才运行信号处理函数, 刚好在 waitpid() 之前到达的信号会跟着它一起等下去。"),
    params=(
        Param("hold", "int", 300, 1, 600, label=en_zh("ride (s)", "行程 (秒)"),
              help=en_zh("seconds until the last stop if nobody presses Ctrl-Z (signal.alarm)",
                      "无人按 Ctrl-Z 时到达终点站的秒数 (signal.alarm)")),
    ),
    actions=(
        Action("ctrl_c", "key", en_zh("Ctrl-C", "Ctrl-C"),
               en_zh("SIGINT to the whole group, like the keyboard", "像键盘一样向整个进程组发 SIGINT"), key="\x03"),
        Action("ctrl_backslash", "key", en_zh("Ctrl-\\", "Ctrl-\\"),
               en_zh("SIGQUIT to the whole group, like the keyboard", "像键盘一样向整个进程组发 SIGQUIT"), key="\x1c"),
        Action("ctrl_z", "key", en_zh("Ctrl-Z", "Ctrl-Z"),
               en_zh("SIGTSTP to the whole group, like the keyboard", "像键盘一样向整个进程组发 SIGTSTP"), key="\x1a"),
        signal_action("sigint_conductor", en_zh("SIGINT → conductor", "SIGINT → 售票员"),
             en_zh("only to the conductor, like kill -INT", "只发给售票员, 像 kill -INT"), "conductor", "SIGINT"),
        signal_action("sigquit_conductor", en_zh("SIGQUIT → conductor", "SIGQUIT → 售票员"),
             en_zh("only to the conductor, like kill -QUIT", "只发给售票员, 像 kill -QUIT"), "conductor", "SIGQUIT"),
        signal_action("sigtstp_driver", en_zh("SIGTSTP → driver", "SIGTSTP → 司机"),
             en_zh("only to the driver, like kill -TSTP", "只发给司机, 像 kill -TSTP"), "driver", "SIGTSTP"),
    ),
    processes=lambda p: 2,
)

_SEMAPHORE = Lab(
    "semaphore", "lab.experiments.semaphore",
    title=en_zh("Semaphore", "信号量"),
    summary=en_zh("multiprocessing.Semaphore(k) shared by n workers that acquire, work and release.",
               "n 个工作进程共享 multiprocessing.Semaphore(k): 获取、工作、释放。"),
    explain=en_zh(
        "At most k workers hold the semaphore at a time. The others sleep inside acquire() (STAT S, "
        "waiting in a futex: see wchan) until a holder releases; the value goes down on acquire and up on release. Ask the "
        "parent for the current value, or make the workers hold it shorter or longer.",
        "同一时刻最多 k 个工作进程持有信号量。其他进程在 acquire() 中睡眠 (STAT S, 在 futex 中等待, 见 wchan), "
        "直到有进程释放; acquire 使值减一, release 使值加一。可以让父进程打印当前值, 或让工作进程持有得更短或更长。"),
    params=(
        Param("k", "int", 2, 1, 4, label=en_zh("value k", "初始值 k"),
              help=en_zh("the semaphore's initial value: how many may hold it at once", "信号量初始值: 可同时持有的进程数")),
        Param("n", "int", 5, 2, 8, label=en_zh("workers n", "工作进程 n"), help=en_zh("worker processes", "工作进程数")),
        Param("hold", "float", 1.5, 0.1, 10.0, label=en_zh("hold (s)", "持有 (秒)"),
              help=en_zh("seconds a worker holds the semaphore each time", "每次持有信号量的秒数")),
        Param("rounds", "int", 4, 1, 10, label=en_zh("rounds", "轮数"),
              help=en_zh("how many times each worker acquires it", "每个工作进程获取的次数")),
    ),
    actions=(
        signal_action("show_value", en_zh("show the value", "显示当前值"),
             en_zh("SIGUSR1 to the parent: it prints sem.get_value()", "给父进程发 SIGUSR1: 打印 sem.get_value()"),
             "parent", "SIGUSR1"),
        signal_action("faster", en_zh("workers faster", "工作进程加快"),
             en_zh("SIGUSR1 to every worker: halve its hold time", "给每个工作进程发 SIGUSR1: 持有时间减半"),
             "worker*", "SIGUSR1"),
        signal_action("slower", en_zh("workers slower", "工作进程放慢"),
             en_zh("SIGUSR2 to every worker: double its hold time", "给每个工作进程发 SIGUSR2: 持有时间加倍"),
             "worker*", "SIGUSR2"),
    ),
    processes=lambda p: 1 + p["n"],
)

_PRIORITY = Lab(
    "priority", "lab.experiments.priority",
    title=en_zh("Priority and nice", "进程优先级与 nice"),
    summary=en_zh("CPU-bound workers pinned to one CPU, each with a different nice value.",
                  "几个绑定在同一个 CPU 上的计算密集型工作进程, nice 值各不相同。"),
    explain=en_zh(
        "The workers compete for one CPU, so the scheduler shares it by weight: each step of nice is worth "
        "about 10%, and %CPU follows. A worker with nice > 0 shows N in STAT (RN while it runs), one below 0 "
        "shows < (only root may raise priority). The PRI column is ps's: 19 − nice here (19, 14, 9 for nice 0, "
        "5, 10); the details' priority is the kernel's, top's PR: 20 + nice. Renice a worker while it runs and watch "
        "its share change. The lab stops by itself.",
        "工作进程争用同一个 CPU, 调度器按权重分配: nice 每差 1 大约差 10%, %CPU 随之变化。nice > 0 的进程 "
        "STAT 中有 N (运行时为 RN), 小于 0 的有 < (只有 root 能提高优先级)。PRI 列是 ps 的: 这里为 19 − nice "
        "(nice 0、5、10 时为 19、14、9); 详情中的 priority 是内核的, 即 top 的 PR: 20 + nice。在运行中给某个"
        "工作进程 renice, 观察它的份额变化。实验会自动结束。"),
    params=(
        Param("workers", "int", 3, 2, 4, label=en_zh("workers", "工作进程"),
              help=en_zh("CPU-bound processes", "计算密集型进程数")),
        Param("step", "int", 5, 0, 9, label=en_zh("nice step", "nice 步长"),
              help=en_zh("worker i gets nice (i-1)·step", "第 i 个工作进程的 nice 为 (i-1)·步长")),
        Param("seconds", "float", 30.0, 2.0, 120.0, label=en_zh("seconds", "秒数"),
              help=en_zh("the lab stops after this long", "运行这么久后自动结束")),
    ),
    actions=(),
    processes=lambda p: 1 + p["workers"],
)

_FORK_MEMORY = Lab(
    "fork_memory", "lab.experiments.fork_memory",
    title=en_zh("What fork() copies", "fork() 复制了什么"),
    summary=en_zh("A global changed in the child, copy-on-write pages, a print buffer printed twice, "
                  "os._exit vs sys.exit, one file offset shared.",
                  "子进程修改全局变量、写时复制的页、被打印两次的 print 缓冲区、os._exit 与 sys.exit、"
                  "共享的文件偏移量。"),
    explain=en_zh(
        "Four parts, one after the other. 1: the child sets the global value = 200; the parent's stays 100. "
        "fork copies the memory lazily (copy-on-write): after fork both processes map the parent's mb MiB "
        "buffer, so it is shared and the child's private memory is small (each prints its "
        "/proc/self/smaps_rollup). \"child writes its copy\" makes the child write every page: the kernel "
        "copies each one, the child's private memory grows by mb MiB and the parent's buffer still holds 'P'. "
        "The parent's pages are no longer shared either (they count as its private memory now) but its Rss "
        "stays the same: the new memory is the child's copies. 2: a line printed into a block-buffered file "
        "object before fork is in both copies of the buffer: both flush it, it shows twice (the dashboard "
        "runs Python unbuffered, so the lab makes its own buffer on fd 1). 3: sys.exit(3) raises SystemExit, so "
        "the finally runs and the with block flushes the buffer; os._exit(3) ends the process at once: "
        "neither. 4: a file object opened before fork is one open file for both: the child's write moves "
        "the parent's f.tell(); a file object the child opens itself has its own offset. The temporary "
        "file is removed at the end, also on Ctrl-C or SIGTERM. In the dashboard, select the child and press "
        "\"measure shared / private memory\" before and after \"child writes its copy\": USS (its own pages) "
        "grows by mb MiB, shared falls by as much.",
        "四个部分依次进行。1: 子进程把全局变量 value 改为 200, 父进程的仍是 100。fork 复制内存是按需的 "
        "(写时复制): fork 之后父子进程映射的是父进程那块 mb MiB 的缓冲区, 它是共享的, 子进程的私有内存很小 "
        "(两者各自打印 /proc/self/smaps_rollup)。点 \"子进程写它的副本\", 子进程写每一页: 内核逐页复制, "
        "子进程的私有内存增加 mb MiB, 父进程的缓冲区仍是 'P'。父进程的页也不再共享 (现在算作它的私有内存), "
        "但它的 Rss 不变: 新增的内存是子进程的副本。2: fork 之前 print 到全缓冲文件对象中的一行, 在两份缓冲区"
        "里都有: 父子进程各刷新一次, 它出现两次 (仪表板中 Python 的输出无缓冲, 所以实验在 fd 1 上自己建了缓冲区)。"
        "3: sys.exit(3) 抛出 SystemExit, finally 会执行, with 块会刷新缓冲区; os._exit(3) 立即结束进程: "
        "两者都没有。4: fork 之前打开的文件对象, 父子进程共用同一个文件描述符: 子进程的写入移动了父进程的 "
        "f.tell(); 子进程自己 open() 的文件对象有自己的偏移量, 相互独立。临时文件在结束时删除, "
        "Ctrl-C 或 SIGTERM 时也会删除。在仪表板中选中子进程, 在 \"子进程写它的副本\" 之前和之后各点一次 "
        "\"测量共享 / 私有内存\": USS (它自己的页) 增加 mb MiB, 共享的减少同样多。"),
    params=(
        Param("mb", "int", 32, 8, 64, label=en_zh("buffer (MiB)", "缓冲区 (MiB)"),
              help=en_zh("memory the parent touches before fork", "父进程在 fork 之前写满的内存")),
        hold_param(60, what=en_zh("the child of part 1", "第一部分的子进程")),
        Param("step", "float", 2.0, 0.0, 30.0, label=en_zh("step (s)", "每步 (秒)"),
              help=en_zh("how long the children of parts 2 and 4 live", "第 2、4 部分的子进程存活的秒数")),
    ),
    actions=(
        signal_action("child_writes", en_zh("child writes its copy", "子进程写它的副本"),
                      en_zh("SIGUSR1 to the child: it writes every page of the buffer, the kernel copies them",
                            "给子进程发 SIGUSR1: 它写缓冲区的每一页, 内核逐页复制"), "child", "SIGUSR1"),
    ),
    processes=lambda p: 2,      # the parent and one child at a time: each is reaped before the next fork
)

PROCESS_LABS = (
    _FORK_BASICS, _FORK_TREE, _FORK_LOOP, _ORPHAN, _ZOMBIE, _ZOMBIE_FIXES, _DRIVER_CONDUCTOR, _SEMAPHORE,
    _PRIORITY, _FORK_MEMORY,
)
