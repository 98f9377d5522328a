"""fork_memory against the kernel: through the REST API (as the dashboard runs it) and as a
student runs it (``python -m lab.experiments.fork_memory``).

Copy-on-write is read from /proc/PID/smaps_rollup of the two processes, the shared offset
from /proc/PID/fdinfo of the parent while the child that moved it is still alive.
"""
import os
import re
import signal

from tests.helpers import lab_pids, wait_until
from tests.test_experiments_standalone import blocked_in, run, stat, subreaper  # noqa: F401  (fixtures)
from tests.test_labs import by_role, events, start

MB = 8


def kernel_memory(pid):
    """{"private", "shared", "rss"} in kB, as /proc/PID/smaps_rollup says."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            name, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                fields[name] = int(parts[0])
    return {"private": fields["Private_Clean"] + fields["Private_Dirty"],
            "shared": fields["Shared_Clean"] + fields["Shared_Dirty"], "rss": fields["Rss"]}


def said(engine, run, needle):
    return [e for e in events(engine, run, "output") if needle in e.get("text", "")]


def test_child_writes_its_copy_through_the_dashboard(client, engine):
    run = start(client, "fork_memory", mb=MB, hold=60, step=0)
    rid = run["run"]
    parent = by_role(client, rid, "parent")[0]["pid"]
    child = by_role(client, rid, "child")[0]
    assert child["ppid"] == parent
    child = child["pid"]
    wait_until(lambda: said(engine, rid, "子进程 child  smaps_rollup"))
    wait_until(lambda: blocked_in(child, "sigtimedwait"))         # waiting for SIGUSR1
    before = {pid: kernel_memory(pid) for pid in (parent, child)}
    # after fork the buffer is shared: the child's own pages are far fewer than the buffer
    assert before[child]["private"] < MB * 1024 / 2 < before[child]["shared"]
    assert client.post(f"/api/runs/{rid}/actions/child_writes").status_code == 200
    seen = wait_until(lambda: said(engine, rid, "父进程 value = 100, buf 的每一页仍是 'P'"))
    assert seen[0]["pid"] == parent
    assert said(engine, rid, "写了 buf 的每一页 → 'C'")[0]["pid"] == child
    after = {pid: kernel_memory(pid) for pid in (parent, child)}
    grew = after[child]["private"] - before[child]["private"]
    assert MB * 1024 * 0.95 <= grew <= MB * 1024 + 2048, (before, after)    # its own copy of every page
    assert after[child]["shared"] <= before[child]["shared"] - MB * 1024 * 0.95
    # the parent copied nothing: its resident memory is what it was; its pages are its alone now
    assert abs(after[parent]["rss"] - before[parent]["rss"]) < 1024, (before, after)
    assert after[parent]["shared"] <= before[parent]["shared"] - MB * 1024 * 0.95
    assert said(engine, rid, "子进程 pid=") and said(engine, rid, "value = 200")
    assert client.delete(f"/api/runs/{rid}").status_code == 200
    wait_until(lambda: not lab_pids(rid, engine.launcher_pid))


def test_the_line_shows_twice_on_the_dashboards_unbuffered_terminal(client, engine):
    run = start(client, "fork_memory", mb=MB, hold=0.5, step=0)
    rid = run["run"]
    wait_until(lambda: client.get(f"/api/runs/{rid}").get_json()["state"] == "ended", timeout=15)
    assert client.get(f"/api/runs/{rid}").get_json()["exit"] == {"code": 0}
    terminal = client.get(f"/api/runs/{rid}/terminal").get_json()["data"]
    assert "sys.stdout: 无缓冲 (unbuffered: PYTHONUNBUFFERED" in terminal      # print alone would not double
    assert terminal.count(f"fork 之前 print 了一次 (printed once, before fork) by pid {run['pid']}") == 2
    assert "缓冲区中的一行, 在 sys.exit(3) 之前写入" in terminal and "在 os._exit(3) 之前写入" not in terminal
    spawned = {e["pid"] for e in events(engine, rid, "spawned")}
    assert len(spawned - {run["pid"]}) == 6         # parts 1 and 2 fork one child each, parts 3 and 4 two


def test_the_whole_run_in_a_terminal(run):
    r = run("fork_memory", "--mb", MB, "--hold", 0.5, "--step", 1.5)
    folder = r.wait_for(r"临时目录 \(this run's temporary folder\): (\S+)")[0][1]
    parent = int(r.wait_for(r"父进程 pid=(\d+): value = 100")[0][1])
    assert parent == r.pid and os.path.isdir(folder)
    r.wait_for(rf"父进程回收子进程 \d+, exit status 0; 父进程 value = 100, buf 的每一页是 'P'")
    # 2. printed once before fork, written out by both processes
    r.wait_for(r"同一行出现了两次")
    doubled = [line for line in r.lines if line.startswith("fork 之前 print 了一次")]
    assert doubled == [f"fork 之前 print 了一次 (printed once, before fork) by pid {parent}"] * 2
    # 3. sys.exit: its finally and its buffer; os._exit: neither; status 3 both ways
    gone = r.wait_for(r"父进程回收 (\S+) 子进程 (\d+), exit status 3", count=2)
    kids = {m[1]: m[2] for m in gone}
    assert set(kids) == {"sys.exit", "os._exit"}
    text = r.text()
    assert f"子进程 {kids['sys.exit']} finally: 执行了" in text
    assert f"子进程 {kids['sys.exit']} 缓冲区中的一行, 在 sys.exit(3) 之前写入" in text
    assert f"子进程 {kids['os._exit']} finally" not in text
    assert f"子进程 {kids['os._exit']} 缓冲区中的一行" not in text
    # 4. the child's write moves the parent's offset: the kernel says so while the parent waits
    fd = int(r.wait_for(r"f = open\(.*fork\.txt', 'wb\+'\), fd (\d+): 写入 20 字节, f\.tell\(\) = 20")[0][1])
    child = int(r.wait_for(r"子进程 (\d+) f\.write\(18 字节\): f\.tell\(\) = 38, os\.lseek\(fd, 0, SEEK_CUR\) = 38")[0][1])
    with open(f"/proc/{parent}/fdinfo/{fd}") as f:
        info = f.read()
    assert os.readlink(f"/proc/{parent}/fd/{fd}") == os.path.join(folder, "fork.txt")
    child_alive = (stat(child) or {}).get("ppid") == parent
    if child_alive:             # the parent still waits for it: nobody but the child moved the offset
        assert "pos:\t38\n" in info
    r.wait_for(r"父进程 f\.tell\(\) = 38: 子进程的写入移动了父进程的偏移量")
    r.wait_for(r"文件内容 \(the file\): \['parent: before fork', 'child: after fork', 'parent: after the child'\]")
    r.wait_for(r"子进程 \d+ 自己 open\(\) 的 g: g\.read\(8\) → g\.tell\(\) = 8")
    r.wait_for(r"父进程 f\.tell\(\) = 62: 子进程自己创建的文件对象与它相互独立")
    assert r.finish() == 0
    assert not os.path.exists(folder)
    # six children in all (one for part 1, one for part 2, two each for parts 3 and 4)
    forks = [int(m[1]) for m in map(re.compile(r"(?:子进程 |子进程 pid=)(\d+)").search, r.lines) if m]
    assert len(set(forks)) == 6


def test_sigterm_ends_the_child_and_removes_the_folder(run):
    r = run("fork_memory", "--mb", MB, "--hold", 60)
    folder = r.wait_for(r"临时目录 \(this run's temporary folder\): (\S+)")[0][1]
    child = int(r.wait_for(r"子进程 pid=(\d+): value = 200")[0][1])
    wait_until(lambda: blocked_in(child, "sigtimedwait"))
    os.kill(r.pid, signal.SIGTERM)
    r.wait_for(r"父进程收到 SIGTERM")
    r.wait_for(rf"父进程删除临时目录 {re.escape(folder)}, 退出")
    assert r.finish() == 128 + signal.SIGTERM
    assert not os.path.exists(folder) and stat(child) is None


def test_ctrl_c_in_a_terminal_removes_the_folder(run):
    r = run("fork_memory", "--mb", MB, "--hold", 60, tty=True)
    folder = r.wait_for(r"临时目录 \(this run's temporary folder\): (\S+)")[0][1]
    child = int(r.wait_for(r"子进程 pid=(\d+): value = 200")[0][1])
    wait_until(lambda: blocked_in(child, "sigtimedwait"))
    os.write(r.fd, b"\x03")                   # to the foreground group: the child dies, the parent cleans up
    r.wait_for(r"父进程收到 SIGINT")
    r.wait_for(rf"父进程删除临时目录 {re.escape(folder)}, 退出")
    assert r.finish() == 128 + signal.SIGINT
    assert not os.path.exists(folder) and stat(child) is None
