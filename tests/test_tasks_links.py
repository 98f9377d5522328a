"""Threads (`tasks`) and the channels between processes (`links`) against /proc and ps.

The oracle reads /proc itself: `ls /proc/PID/task` and `ps -L` for the
threads; every fd's readlink, fstat in the process that made the object,
and /proc/PID/maps for the links.
"""
import os
import signal
import subprocess

from lab import links, procfs, socktable, unixpeers
from tests.helpers import wait_until

THREADS = '''
import threading
def named(name, target, *args):
    def body():
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as f:
            f.write(name)                   # the kernel's thread name, as ps -L shows it
        target(*args)
    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t
gate = threading.Event()
def spin():
    while not gate.is_set():
        pass
named("waiter", gate.wait)
named("sleeper", time.sleep, 60)
named("spinner", spin)
while threading.active_count() < 4 or len(os.listdir("/proc/self/task")) < 4:
    time.sleep(0.01)
ready()
idle()
'''


def ps_threads(pid):
    """{tid: (state letter, comm)} as `ps -L` lists them."""
    out = subprocess.run(["ps", "-L", "-o", "lwp=,s=,comm=", "-p", str(pid)],
                         capture_output=True, text=True).stdout
    return {int(line.split()[0]): (line.split()[1], line.split(None, 2)[2]) for line in out.splitlines()}


def test_tasks_are_the_threads_ps_lists(family, reader):
    child = family.spawn(THREADS)
    pid = child.pid

    def agrees():
        obj = reader.read(pid)
        ps = ps_threads(pid)
        listed = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
        tasks = {t["tid"]: t for t in obj["tasks"]}
        return (sorted(tasks) == listed == sorted(ps)
                and all(tasks[tid]["state"] == ps[tid][0] and tasks[tid]["name"] == ps[tid][1] for tid in ps)
                and obj["threads"] == len(listed) and "l" in obj["stat"])

    wait_until(agrees, timeout=10, message="tasks != ls task/ and ps -L")
    tasks = {t["name"]: t for t in reader.read(pid)["tasks"]}
    assert set(tasks) >= {"waiter", "sleeper", "spinner"}
    assert tasks["waiter"]["wchan"] == "futex_do_wait" or "futex" in (tasks["waiter"]["wchan"] or "")
    assert "nanosleep" in (tasks["sleeper"]["wchan"] or "")
    assert tasks[next(iter(tasks))]["tid"] == pid       # sorted by TID: the main thread first
    # The spinner's CPU is its own: the others' stay at 0.
    wait_until(lambda: {t["name"]: t["cpu"] for t in reader.read(pid)["tasks"]}["spinner"] > 20, timeout=10)
    cpu = {t["name"]: t["cpu"] for t in reader.read(pid)["tasks"]}
    assert cpu["sleeper"] == 0.0 and cpu["waiter"] == 0.0


def test_a_single_threaded_process_has_no_tasks(family, reader):
    child = family.spawn("ready(); idle()")
    assert reader.read(child.pid)["tasks"] is None


CHANNELS = '''
import multiprocessing
multiprocessing.set_start_method("fork")
value = multiprocessing.Value("i", 7)          # a /dev/shm file, and its lock: a semaphore
r, w = os.pipe()
a, b = socket.socketpair()
kid = os.fork()
if kid == 0:
    os.close(w)
    b.close()
    os.read(r, 1)                              # blocks: the parent never writes
    os._exit(0)
os.close(r)
a.close()
def ino(fd):
    return os.fstat(fd).st_ino
ready(kid=kid, pipe=ino(w), parent_sock=ino(b.fileno()), fds={"w": w, "b": b.fileno()})
idle()
'''


def fd_links(pid):
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            pass
    return out


def shm_maps(pid):
    """{inode: path} of the /dev/shm files mapped into pid."""
    out = {}
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split(None, 5)
            if len(fields) == 6 and fields[5].startswith("/dev/shm/"):
                out[int(fields[4])] = fields[5].strip()
    return out


def test_links_are_what_the_fds_and_maps_show(family, reader):
    child = family.spawn(CHANNELS)
    parent, kid = child.pid, child.info["kid"]
    wait_until(lambda: (procfs_state(kid) == "S"), timeout=10)
    peers = unixpeers.UnixPeers()
    try:
        procs = [reader.read(pid, socktable.SocketTable()) for pid in (parent, kid)]
        found = {(link["kind"], link["id"]): link for link in links.of_run(procs, reader.holds, peers.peer)}
    finally:
        peers.close()

    # The pipe: one inode, the parent's write end, the child's read end.
    pipe = found[("pipe", child.info["pipe"])]
    kid_fd = next(fd for fd, link in fd_links(kid).items() if link == f"pipe:[{child.info['pipe']}]")
    assert [(e["pid"], e["fd"], e["mode"]) for e in pipe["ends"]] == \
        [(parent, child.info["fds"]["w"], "w"), (kid, kid_fd, "r")]

    # The socketpair: two inodes, each the other's peer (ss -x says so too).
    sock_ends = {e["pid"]: e for link in found.values() if link["kind"] == "unix" for e in link["ends"]}
    assert sock_ends[parent]["inode"] == child.info["parent_sock"]
    kid_sock = next(int(link[8:-1]) for fd, link in fd_links(kid).items() if link.startswith("socket:"))
    assert sock_ends[kid]["inode"] == kid_sock != child.info["parent_sock"]
    ss = subprocess.run(["ss", "-xpn"], capture_output=True, text=True).stdout
    assert any(f" {kid_sock} " in line and f" {child.info['parent_sock']} " in line for line in ss.splitlines())

    # The Value's /dev/shm file and its lock's semaphore: mapped into both.
    both = set(shm_maps(parent)) & set(shm_maps(kid))
    shared = {(kind, ident) for kind, ident in found if kind in ("shm", "sem")}
    assert shared == {("sem" if "/sem." in shm_maps(parent)[i] else "shm", i) for i in both}
    assert {"shm", "sem"} <= {kind for kind, _ in shared}
    for kind, ident in shared:
        assert {e["pid"] for e in found[(kind, ident)]["ends"]} == {parent, kid}

    # Nothing else joins them: every other pipe is one process's alone.
    assert {kind for kind, _ in found} == {"pipe", "unix", "shm", "sem"}
    assert len([k for k in found if k[0] == "pipe"]) == 1


def procfs_state(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    return data[data.rindex(b")") + 2:].split()[0].decode()


def test_a_pipe_read_only_outside_the_run_is_no_link(family, reader):
    """Like the event pipe to lab init: both write to stdout and stderr and
    read stdin, pipes whose other ends are this test's."""
    child = family.spawn('''
kid = os.fork()
if kid == 0:
    time.sleep(60)
ready(kid=kid)
idle()
''')
    procs = [reader.read(pid, socktable.SocketTable()) for pid in (child.pid, child.info["kid"])]
    assert {h["fd"] for h in reader.holds(child.info["kid"]) if h["kind"] == "pipe"} >= {0, 1, 2}
    assert links.of_run(procs, reader.holds, lambda inode: None) == []


COW = '''
buf = bytearray(16 << 20)
for i in range(0, len(buf), 4096):
    buf[i] = 1                                  # resident, private to the parent
kid = os.fork()
if kid == 0:
    signal.sigwait({signal.SIGUSR1})
    for i in range(0, len(buf), 4096):
        buf[i] = 2                              # copy-on-write: every page copied now
    print("written", flush=True)
    time.sleep(60)
    os._exit(0)
ready(kid=kid)
idle()
'''


def test_memory_shared_after_fork_private_after_writing(family):
    import psutil
    signal_block = "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})\n"
    child = family.spawn(signal_block + COW)
    kid = child.info["kid"]
    before = procfs.memory(kid)
    full = psutil.Process(kid).memory_full_info()
    assert (before["uss"], before["pss"], before["swap"]) == (full.uss, full.pss, full.swap) or \
        abs(before["uss"] - full.uss) < 1 << 20      # (it may touch a page between the two reads)
    assert before["shared"] >= 16 << 20 and before["uss"] < 8 << 20
    assert before["rss"] == before["shared"] + before["uss"]
    os.kill(kid, signal.SIGUSR1)
    wait_until(lambda: procfs.memory(kid)["uss"] >= before["uss"] + (15 << 20), timeout=10)
    after, parent = procfs.memory(kid), procfs.memory(child.pid)
    assert after["shared"] < before["shared"] - (15 << 20)
    assert parent["uss"] >= 16 << 20                 # its pages are its own again too


def test_memory_of_a_process_outside_the_lab_is_refused(client):
    r = client.get(f"/api/processes/{os.getpid()}/memory")
    assert r.status_code == 404 and r.get_json()["detail"] == {"code": "not_lab_process", "pid": os.getpid()}


def test_a_runs_links_are_its_processes_shared_objects(client, engine):
    """The ipc lab's Queue through the API: its pipe and semaphores, as the fds and maps show."""
    from tests.test_labs import by_role, start
    rid = start(client, "ipc", channel="queue", period=0.5, delay=0.2)["run"]
    producer, consumer = (by_role(client, rid, role)[0]["pid"] for role in ("producer", "consumer"))

    def run_links():
        engine.hub.sample_now()
        run = next(r for r in client.get("/api/snapshot").get_json()["runs"] if r["id"] == rid)
        return {(link["kind"], link["id"]): link for link in run["links"]}

    def holders(link):
        return {e["pid"] for e in link["ends"]}

    # The queue's pipe: both ends in producer and consumer, the same inode in both fd tables.
    wait_until(lambda: any(k[0] == "pipe" and {producer, consumer} <= holders(v) for k, v in run_links().items()))
    found = run_links()
    both = {int(t[6:-1]) for t in set(fd_links(producer).values()) & set(fd_links(consumer).values())
            if t.startswith("pipe:")}
    for (kind, ident), link in found.items():
        if kind == "pipe" and {producer, consumer} <= holders(link):
            assert ident in both
            for e in link["ends"]:
                assert fd_links(e["pid"])[e["fd"]] == f"pipe:[{ident}]"
    # Its semaphores (the Queue's lock and counter), mapped by both.
    sems = {ident for (kind, ident), link in found.items() if kind == "sem" and {producer, consumer} <= holders(link)}
    mapped = {i for i, path in shm_maps(producer).items() if "/sem." in path} & set(shm_maps(consumer))
    assert sems == mapped and len(sems) >= 2
    r = client.get(f"/api/processes/{consumer}/memory")
    assert r.status_code == 200 and r.get_json()["rss"] == r.get_json()["uss"] + r.get_json()["shared"]


def test_the_threads_labs_tasks_are_ps_L(client, engine):
    """The process object's tasks for the threads lab: the TIDs and states ps -L prints."""
    from tests.test_labs import by_role, processes, start
    rid = start(client, "threads", threads=3, hold=30)["run"]
    pid = by_role(client, rid, "parent")[0]["pid"]

    def agrees():
        engine.hub.sample_now()
        obj = processes(client, rid)[pid]
        ps = ps_threads(pid)
        got = {t["tid"]: t["state"] for t in obj["tasks"] or []}
        return got and got == {tid: state for tid, (state, _) in ps.items()} \
            and set(got) == {int(t) for t in os.listdir(f"/proc/{pid}/task")}
    wait_until(agrees, timeout=10, message="the threads lab's tasks are not ps -L")


def test_a_unix_connection_in_the_backlog_is_linked_once_accepted(family, reader, monkeypatch):
    """Before accept() the client's peer has no inode yet: asked again, not remembered."""
    monkeypatch.setattr(unixpeers, "RETRY", 0.0)
    path = os.path.join(family.tempdir(), "s")
    server = family.spawn(f'''
srv = socket.socket(socket.AF_UNIX)
srv.bind({path!r})
srv.listen(1)
ready()
sys.stdin.readline()                 # the test says when to accept
conn, _ = srv.accept()
print("accepted", flush=True)
idle()
''')
    client = family.spawn(f'''
c = socket.socket(socket.AF_UNIX)
c.connect({path!r})
ready()
idle()
''')
    peers = unixpeers.UnixPeers()
    try:
        def found():
            procs = [reader.read(pid, socktable.SocketTable()) for pid in (server.pid, client.pid)]
            return links.of_run(procs, reader.holds, peers.peer)
        assert found() == []                              # in the backlog: no peer yet
        server.popen.stdin.write(b"go\n")
        server.popen.stdin.flush()
        assert server.popen.stdout.readline() == b"accepted\n"
        unix = wait_until(found, message="the accepted connection was never linked")
        assert [(link["kind"], {e["pid"] for e in link["ends"]}, link["name"]) for link in unix] == \
            [("unix", {server.pid, client.pid}, path)]
    finally:
        peers.close()


def test_memory_is_for_lab_processes_only_and_bounded(client, engine):
    from tests.test_labs import by_role, start
    rid = start(client, "zombie")["run"]
    parent = by_role(client, rid, "parent")[0]["pid"]
    r = client.get(f"/api/processes/{engine.launcher_pid}/memory")      # lab init is no lab process
    assert r.status_code == 404 and r.get_json()["detail"]["code"] == "not_lab_process"
    # A class asking at once about one process: one measurement, the same answer.
    answers = [client.get(f"/api/processes/{parent}/memory") for _ in range(25)]
    assert {r.status_code for r in answers} == {200} and len({r.data for r in answers}) == 1
    # Different processes, or later: each is measured, at most 20 a second.
    zombie = by_role(client, rid, "child")[0]["pid"]
    r = client.get(f"/api/processes/{zombie}/memory")
    assert r.status_code == 404                  # a zombie has no memory left to measure
    session = client.get(f"/api/runs/{rid}").get_json()["session"]
    answers = []
    for _ in range(12):
        engine._memory.clear()
        answers += [client.get(f"/api/processes/{pid}/memory") for pid in (parent, session)]
    codes = [r.status_code for r in answers]
    assert set(codes) == {200, 429} and codes.count(200) <= 20 - 2     # two measured above
    assert codes.index(429) == codes.count(200)                        # refused from then on
    assert "too many memory measurements" in answers[-1].get_json()["error"]
