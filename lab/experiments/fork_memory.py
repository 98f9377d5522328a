"""fork_memory: what os.fork() copies and what it shares (day05: os.fork, os._exit, sys.exit; 文件偏移量).

    $ python -m lab.experiments.fork_memory --mb 32 --hold 5 --step 1
    临时目录 (this run's temporary folder): /tmp/fork_memory-863guwob
    == 1. 全局变量与写时复制 (a global and copy-on-write) ==
    父进程 pid=1437: value = 100, buf = 32 MiB, 每一页是 'P'
    父进程 parent smaps_rollup: 私有 Private 37.9 MiB, 共享 Shared 6.5 MiB, Pss 39.7 MiB, Rss 44.4 MiB
    父进程 fork() → 子进程 1438: 子进程得到父进程内存的副本, 但内核先让两者共享同一些页  (the pages are shared until one side writes)
    父进程 parent smaps_rollup: 私有 Private 0.8 MiB, 共享 Shared 43.6 MiB, Pss 21.0 MiB, Rss 44.4 MiB
    父进程 os.waitpid(1438): 5 秒内 kill -USR1 1438 让子进程写它的副本  (SIGUSR1 to the child: it writes its copy)
    子进程 pid=1438: value = 200 (改了全局变量 the child changed the global); buf 的每一页是 'P'
    子进程 child  smaps_rollup: 私有 Private 0.9 MiB, 共享 Shared 40.8 MiB, Pss 20.1 MiB, Rss 41.6 MiB
    (kill -USR1 1438, in another terminal)
    子进程收到 SIGUSR1: 写了 buf 的每一页 → 'C'  (the child wrote every page: the kernel copied them)
    子进程 child  smaps_rollup: 私有 Private 32.9 MiB, 共享 Shared 9.0 MiB, Pss 36.2 MiB, Rss 41.9 MiB
    父进程 value = 100, buf 的每一页仍是 'P'  (the parent's copy is unchanged); 它的页不再与子进程共享, 计为私有, Rss 不变  (no longer shared: private now, the same Rss)
    父进程 parent smaps_rollup: 私有 Private 32.9 MiB, 共享 Shared 11.4 MiB, Pss 37.0 MiB, Rss 44.4 MiB
    父进程回收子进程 1438, exit status 0; 父进程 value = 100, buf 的每一页是 'P'  (the parent's global and buffer are unchanged)
    == 2. print 的缓冲区被复制 (a print buffer, copied by fork) ==
    sys.stdout: 行缓冲 (line-buffered: a terminal); 这里用自己的全缓冲文件对象 out = open(1, 'w', buffering=4096)
    父进程 print(..., file=out): 这一行还在 out 的缓冲区中, 没有换行刷新  (still in out's buffer)
    子进程 1468 out.flush()  (the child writes its copy of the buffer)
    fork 之前 print 了一次 (printed once, before fork) by pid 1437
    父进程 1437 out.flush()  (the parent writes its own)
    fork 之前 print 了一次 (printed once, before fork) by pid 1437
    同一行出现了两次: 缓冲区在 fork 时被复制了  (the line shows twice: fork copied the buffer)
    == 3. os._exit 与 sys.exit ==
    子进程 1469 调用 sys.exit(3)
    子进程 1469 finally: 执行了  (the finally ran)
    子进程 1469 缓冲区中的一行, 在 sys.exit(3) 之前写入  (buffered before sys.exit)
    父进程回收 sys.exit 子进程 1469, exit status 3
    子进程 1470 调用 os._exit(3)
    父进程回收 os._exit 子进程 1470, exit status 3
    sys.exit: finally 执行, 缓冲区被刷新; os._exit: 都没有  (sys.exit runs the finally and flushes; os._exit does neither)
    == 4. fork 之前创建的文件对象 (a file object made before fork) ==
    父进程 f = open('/tmp/fork_memory-863guwob/fork.txt', 'wb+'), fd 3: 写入 20 字节, f.tell() = 20
    子进程 1471 f.write(18 字节): f.tell() = 38, os.lseek(fd, 0, SEEK_CUR) = 38
    父进程 f.tell() = 38: 子进程的写入移动了父进程的偏移量  (the child's write moved the parent's offset: one open file)
    文件内容 (the file): ['parent: before fork', 'child: after fork', 'parent: after the child']  (接着写, 没有覆盖 nothing overwritten)
    子进程 1474 自己 open() 的 g: g.read(8) → g.tell() = 8
    父进程 f.tell() = 62: 子进程自己创建的文件对象与它相互独立  (a file object opened after fork has its own offset)
    父进程删除临时目录 /tmp/fork_memory-863guwob, 退出  (the parent removes its folder and exits)

The notes: 子进程会复制父进程全部内存空间, 父子进程空间独立, 各自修改各自的
内容, 互不干扰.  Four parts show what that means, one after the other:

1. A global (全局变量) changed in the child leaves the parent's unchanged.
   The kernel does not copy the memory at fork: both processes map the same
   pages, read-only, and a page is copied only when one of them writes it
   (写时复制, copy-on-write).  /proc/self/smaps_rollup shows it: after fork
   the parent's buffer of --mb MiB is shared (共享) by both and the child's
   private (私有) memory is small.  SIGUSR1 to the child ("child writes its
   copy") makes it write every page: its private memory grows by --mb MiB
   while the parent's buffer still holds 'P'.  The parent's pages are no
   longer shared with anyone either, so they count as its private memory
   now, but its Rss stays the same: the new --mb MiB are the child's copies
   (the two Pss grow by --mb together).
2. What print() left in a buffer (缓冲区) before fork is in both copies of
   the buffer, and both write it out: the line printed once shows twice.
   A terminal's stdout is line-buffered, a pipe's or a file's block-buffered,
   and the dashboard's unbuffered (PYTHONUNBUFFERED), so the lab makes its
   own block-buffered file object on fd 1 (open(1, "w", buffering=4096)),
   the same everywhere.
3. sys.exit() raises SystemExit: the finally runs and the with block closes
   its file, flushing the buffer, as at any normal end of the program.
   os._exit() ends the process at once: neither happens, the buffered line
   is lost with the process's memory.  The exit status is 3 both ways.
4. A file object made before fork is one open file shared by both (同一个
   文件描述符): the child's write moves the parent's offset (文件偏移量,
   f.tell()); a file object each process opens itself after fork has an
   offset of its own (相互独立).  The file is in a temporary directory of
   this run, removed at the end (also on Ctrl-C or SIGTERM).
"""
import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

from lab.report import say, set_role

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
value = 100          # the global (全局变量) the child changes
buf = None           # the parent's buffer of --mb MiB, every page touched before fork
PARENT = os.getpid()
child_pid = None     # the child alive now, ended by the clean-up if the parent is stopped


def memory():
    """This process's memory as the kernel counts it: /proc/self/smaps_rollup, in kB."""
    fields = {}
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            name, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                fields[name] = int(parts[0])
    return fields


def show_memory(who):
    m = memory()
    private = m["Private_Clean"] + m["Private_Dirty"]
    shared = m["Shared_Clean"] + m["Shared_Dirty"]
    say(f"{who} smaps_rollup: 私有 Private {private / 1024:.1f} MiB, 共享 Shared {shared / 1024:.1f} MiB, "
        f"Pss {m['Pss'] / 1024:.1f} MiB, Rss {m['Rss'] / 1024:.1f} MiB")


def pages(b):
    """What every page of the buffer holds (its first byte), e.g. "'P'"."""
    return ", ".join(repr(chr(c)) for c in sorted(set(b[::PAGE])))


def became_child(role):
    """Right after fork, in the child: its own role, and Ctrl-C or SIGTERM end it at once
    (the parent's handlers, copied by fork, are for the parent's clean-up)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    set_role(role)


def reap(pid):
    global child_pid
    _, status = os.waitpid(pid, 0)
    child_pid = None
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


# ---- 1. a global, and copy-on-write ----------------------------------------------

def parent_sees(sig, frame):
    """SIGUSR2 from the child, once it has written its copy: the parent looks at its own."""
    if buf is None:
        return                  # part 1 is over
    say(f"父进程 value = {value}, buf 的每一页仍是 {pages(buf)}  (the parent's copy is unchanged); "
        "它的页不再与子进程共享, 计为私有, Rss 不变  (no longer shared: private now, the same Rss)")
    show_memory("父进程 parent")


def write_copy(hold):
    """The child: it shares every page until SIGUSR1 tells it to write them (写时复制)."""
    global value
    became_child("child")
    value = 200                                     # a global changed in the child
    say(f"子进程 pid={os.getpid()}: value = 200 (改了全局变量 the child changed the global); "
        f"buf 的每一页是 {pages(buf)}")
    show_memory("子进程 child ")
    deadline = time.monotonic() + hold
    while (left := deadline - time.monotonic()) > 0:
        if signal.sigtimedwait([signal.SIGUSR1], left) is None:
            break                                   # the hold is over
        buf[::PAGE] = b"C" * len(range(0, len(buf), PAGE))     # one byte in every page: each is copied
        say(f"子进程收到 SIGUSR1: 写了 buf 的每一页 → {pages(buf)}  (the child wrote every page: the kernel "
            f"copied them)")
        show_memory("子进程 child ")
        os.kill(os.getppid(), signal.SIGUSR2)       # "look at yours now"
    os._exit(0)


def part_global(mb, hold):
    global buf, child_pid
    say("== 1. 全局变量与写时复制 (a global and copy-on-write) ==")
    buf = bytearray(mb * MIB)
    buf[::PAGE] = b"P" * len(range(0, len(buf), PAGE))    # every page touched: resident, the parent's
    say(f"父进程 pid={os.getpid()}: value = {value}, buf = {mb} MiB, 每一页是 {pages(buf)}")
    show_memory("父进程 parent")
    signal.signal(signal.SIGUSR2, parent_sees)
    # SIGUSR1 blocked before fork: the child waits for it in sigtimedwait(), and one sent
    # as soon as the dashboard knows the child cannot kill it first.
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    pid = os.fork()
    if pid == 0:
        write_copy(hold)
    child_pid = pid
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR1])
    say(f"父进程 fork() → 子进程 {pid}: 子进程得到父进程内存的副本, 但内核先让两者共享同一些页  "
        f"(the pages are shared until one side writes)")
    show_memory("父进程 parent")
    say(f"父进程 os.waitpid({pid}): {hold:g} 秒内 kill -USR1 {pid} 让子进程写它的副本  "
        f"(SIGUSR1 to the child: it writes its copy)")
    how = reap(pid)
    say(f"父进程回收子进程 {pid}, {how}; 父进程 value = {value}, buf 的每一页是 {pages(buf)}  "
        f"(the parent's global and buffer are unchanged)")
    buf = None                                      # freed: the next parts fork a small parent


# ---- 2. a print buffer, copied ---------------------------------------------------

def stdout_kind():
    if sys.stdout.write_through:
        return "无缓冲 (unbuffered: PYTHONUNBUFFERED, as under the dashboard)"
    if sys.stdout.line_buffering:
        return "行缓冲 (line-buffered: a terminal)"
    return "全缓冲 (block-buffered: a pipe or a file)"


def part_buffer(step):
    global child_pid
    say("== 2. print 的缓冲区被复制 (a print buffer, copied by fork) ==")
    say(f"sys.stdout: {stdout_kind()}; 这里用自己的全缓冲文件对象 out = open(1, 'w', buffering=4096)")
    out = open(sys.stdout.fileno(), "w", buffering=4096, encoding="utf-8", closefd=False)
    print(f"fork 之前 print 了一次 (printed once, before fork) by pid {os.getpid()}", file=out)
    say("父进程 print(..., file=out): 这一行还在 out 的缓冲区中, 没有换行刷新  (still in out's buffer)")
    pid = os.fork()
    if pid == 0:
        became_child("buffer child")
        time.sleep(step)
        say(f"子进程 {os.getpid()} out.flush()  (the child writes its copy of the buffer)")
        out.flush()
        os._exit(0)
    child_pid = pid
    reap(pid)
    say(f"父进程 {os.getpid()} out.flush()  (the parent writes its own)")
    out.close()
    say("同一行出现了两次: 缓冲区在 fork 时被复制了  (the line shows twice: fork copied the buffer)")


# ---- 3. os._exit and sys.exit --------------------------------------------------

def ending(how):
    """The child: a buffered line, a with block and a finally, then sys.exit(3) or os._exit(3)."""
    me = os.getpid()
    with open(sys.stdout.fileno(), "w", buffering=4096, encoding="utf-8", closefd=False) as out:
        try:
            print(f"子进程 {me} 缓冲区中的一行, 在 {how}(3) 之前写入  (buffered before {how})", file=out)
            say(f"子进程 {me} 调用 {how}(3)")
            if how == "sys.exit":
                sys.exit(3)         # SystemExit: up through the with and the finally (and main's)
            os._exit(3)             # the system call _exit: the process ends here
        finally:
            say(f"子进程 {me} finally: 执行了  (the finally ran)")


def part_exit():
    global child_pid
    say("== 3. os._exit 与 sys.exit ==")
    for how in ("sys.exit", "os._exit"):
        pid = os.fork()
        if pid == 0:
            became_child(f"{how} child")
            ending(how)
        child_pid = pid
        say(f"父进程回收 {how} 子进程 {pid}, {reap(pid)}")
    say("sys.exit: finally 执行, 缓冲区被刷新; os._exit: 都没有  "
        "(sys.exit runs the finally and flushes; os._exit does neither)")


# ---- 4. one file offset, shared -------------------------------------------------

def part_offset(folder, step):
    global child_pid
    say("== 4. fork 之前创建的文件对象 (a file object made before fork) ==")
    path = os.path.join(folder, "fork.txt")
    f = open(path, "wb+", buffering=0)    # unbuffered: f.tell() is the kernel's offset
    f.write(b"parent: before fork\n")
    say(f"父进程 f = open({path!r}, 'wb+'), fd {f.fileno()}: 写入 20 字节, f.tell() = {f.tell()}")
    pid = os.fork()
    if pid == 0:
        became_child("offset child")
        f.write(b"child: after fork\n")
        say(f"子进程 {os.getpid()} f.write(18 字节): f.tell() = {f.tell()}, "
            f"os.lseek(fd, 0, SEEK_CUR) = {os.lseek(f.fileno(), 0, os.SEEK_CUR)}")
        time.sleep(step)
        os._exit(0)
    child_pid = pid
    reap(pid)
    say(f"父进程 f.tell() = {f.tell()}: 子进程的写入移动了父进程的偏移量  "
        f"(the child's write moved the parent's offset: one open file)")
    f.write(b"parent: after the child\n")
    f.seek(0)
    say(f"文件内容 (the file): {f.read().decode().splitlines()}  (接着写, 没有覆盖 nothing overwritten)")
    pid = os.fork()
    if pid == 0:
        became_child("offset child")
        with open(path, "rb", buffering=0) as g:   # its own file object: its own offset
            g.read(8)
            say(f"子进程 {os.getpid()} 自己 open() 的 g: g.read(8) → g.tell() = {g.tell()}")
        os._exit(0)
    child_pid = pid
    reap(pid)
    say(f"父进程 f.tell() = {f.tell()}: 子进程自己创建的文件对象与它相互独立  "
        f"(a file object opened after fork has its own offset)")
    f.close()


def leave(sig, frame):
    say(f"父进程收到 {signal.Signals(sig).name}  (the parent is told to stop)")
    raise SystemExit(128 + sig)          # to main's finally: the child ended, the folder removed


def main():
    parser = argparse.ArgumentParser(description="what fork() copies and what it shares")
    parser.add_argument("--mb", type=int, default=32, help="MiB the parent touches before fork (8-64)")
    parser.add_argument("--hold", type=float, default=60.0,
                        help="seconds the first child lives, waiting for SIGUSR1 (0.5-600)")
    parser.add_argument("--step", type=float, default=2.0,
                        help="seconds the later children live (0-30)")
    args = parser.parse_args()
    if not 8 <= args.mb <= 64 or not 0.5 <= args.hold <= 600 or not 0 <= args.step <= 30:
        parser.error("--mb must be from 8 to 64, --hold from 0.5 to 600, --step from 0 to 30")
    # Ctrl-C and SIGTERM end the parent through its finally, so the file goes too.
    signal.signal(signal.SIGINT, leave)
    signal.signal(signal.SIGTERM, leave)
    set_role("parent")
    folder = tempfile.mkdtemp(prefix="fork_memory-", dir=os.environ.get("PROCLAB_RUN_DIR"))
    say(f"临时目录 (this run's temporary folder): {folder}")
    try:
        part_global(args.mb, args.hold)
        part_buffer(args.step)
        part_exit()
        part_offset(folder, args.step)
    finally:
        # A child that ends with sys.exit() unwinds the copy of the parent's stack it got
        # from fork: this finally runs in it too.  Only the parent cleans up.
        if os.getpid() == PARENT:
            try:                         # a child not yet reaped is ours (its pid cannot be reused)
                if child_pid is not None and os.waitpid(child_pid, os.WNOHANG) == (0, 0):
                    os.kill(child_pid, signal.SIGKILL)
                    os.waitpid(child_pid, 0)
            except ChildProcessError:
                pass                     # reaped already
            shutil.rmtree(folder, ignore_errors=True)
            say(f"父进程删除临时目录 {folder}, 退出  (the parent removes its folder and exits)")


if __name__ == "__main__":
    main()
