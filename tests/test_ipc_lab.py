"""The ipc lab against the kernel: through the REST API, then run as a student runs it.

A producer and a consumer must hold the very same kernel object (the socketpair
Pipe() is, the os.pipe() of Pipe(duplex=False) and of a Queue, the /dev/shm
page of a Value); a reader of an empty channel sleeps in S in the kernel's read;
Queue(3)'s producer sleeps in a futex when the queue is full.
"""
import os
import re

import pytest

from tests.helpers import wait_until
from tests.test_experiments_standalone import blocked_in, run, stat, subreaper  # noqa: F401  (fixtures)
from tests.test_labs import by_role, events, processes, start

# What a read of an empty channel sleeps in on this kernel: unix_stream_read_generic
# for the socketpair, pipe_read (anon_pipe_read on 6.x) for a pipe.
READS = {"pipe": "unix_stream_read", "pipe_oneway": "pipe_read", "queue": "pipe_read"}


def said(engine, run, needle):
    return [e["text"] for e in events(engine, run, "output") if needle in e.get("text", "")]


def kernel(pid):
    """(state letter, wchan) from /proc/PID/stat and /proc/PID/wchan."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/wchan") as f:
            return state, f.read()
    except OSError:
        return None, ""


def sleeps_in(pid, word):
    state, wchan = kernel(pid)
    return state == "S" and word in wchan


def fds(pid):
    """{fd: (link, access mode "r"/"w"/"rw")} from /proc/PID/fd and fdinfo."""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                flags = int(re.search(r"flags:\s+(\d+)", f.read())[1], 8)
        except OSError:
            continue
        out[int(fd)] = (link, ("r", "w", "rw")[flags & os.O_ACCMODE])
    return out


def channel(pid):
    """The kernel objects a process holds as a read-and-write channel: its unix sockets, and the
    pipes it holds both ends of (a child's sentinel or the event pipe is one end only)."""
    ends = {}
    for link, mode in fds(pid).values():
        ends.setdefault(link, set()).add(mode)
    return {link for link, modes in ends.items()
            if link.startswith("socket:") or (link.startswith("pipe:") and modes == {"r", "w"})}


def shm(pid):
    """The /dev/shm objects mapped into a process (Value's page, the semaphores), by inode."""
    with open(f"/proc/{pid}/maps") as f:
        return {(line.split()[4], line.split()[5]) for line in f if "/dev/shm/" in line}


# ---- through the dashboard ---------------------------------------------------------

@pytest.mark.parametrize("kind", ["pipe", "pipe_oneway", "queue"])
def test_the_consumer_of_an_empty_channel_sleeps_in_its_read(client, engine, kind):
    run = start(client, "ipc", channel=kind, period=60, delay=0.1, hold=60)
    rid = run["run"]
    producer, consumer = (by_role(client, rid, role)[0]["pid"] for role in ("producer", "consumer"))
    assert len(processes(client, rid)) == 3
    wait_until(lambda: said(engine, rid, "→ 1  (阻塞了"))             # message 1 read, the channel empty
    wait_until(lambda: sleeps_in(consumer, READS[kind]), message=f"consumer not in {READS[kind]}: {kernel(consumer)}")
    shared = channel(producer) & channel(consumer)
    assert shared and all(link.startswith("socket:" if kind == "pipe" else "pipe:") for link in shared)
    assert len(shared) == (2 if kind == "pipe" else 1)                # a socketpair's two ends; one pipe
    wait_until(lambda: sleeps_in(producer, "pause"))                  # waiting for the period (60 s)
    assert client.post(f"/api/runs/{rid}/actions/send_message").status_code == 200
    wait_until(lambda: said(engine, rid, "→ 2  (阻塞了"))
    if kind == "pipe":                                                # the reply came back the other way
        wait_until(lambda: said(engine, rid, "producer fd2.recv() → '收到 2'"))
    if kind == "pipe_oneway":
        assert said(engine, rid, "fd1.send() → OSError: connection is read-only")
    client.delete(f"/api/runs/{rid}")


def test_a_full_queue_blocks_put_in_a_futex(client, engine):
    run = start(client, "ipc", channel="queue", period=0.2, delay=10, hold=60)
    rid = run["run"]
    producer, consumer = (by_role(client, rid, role)[0]["pid"] for role in ("producer", "consumer"))
    wait_until(lambda: said(engine, rid, "q.full()=True: q.put(5) 阻塞"))
    wait_until(lambda: sleeps_in(producer, "futex"), message=f"producer: {kernel(producer)}")
    assert said(engine, rid, "producer q.put(4): qsize()=3 full()=True")
    assert not said(engine, rid, "q.put(5):")                         # still waiting for a free slot
    assert client.post(f"/api/runs/{rid}/actions/print_value").status_code == 200
    wait_until(lambda: said(engine, rid, "父进程 q.qsize()=3 q.full()=True q.empty()=False"))
    assert shm(producer) & shm(consumer)                              # the queue's semaphores
    assert processes(client, rid)[producer]["stat"].startswith("Sl")  # Queue's feeder thread
    client.delete(f"/api/runs/{rid}")


@pytest.mark.parametrize("kind", ["value", "array"])
def test_shared_memory_is_overwritten_and_ends_by_itself(client, engine, kind):
    run = start(client, "ipc", channel=kind, period=0.2, delay=0.5, hold=1.5)
    rid = run["run"]
    producer, consumer = (by_role(client, rid, role)[0]["pid"] for role in ("producer", "consumer"))
    wait_until(lambda: said(engine, rid, "consumer obj"))
    assert any("/dev/shm/pym-" in path for _, path in shm(producer) & shm(consumer))   # the same page
    wait_until(lambda: client.get(f"/api/runs/{rid}").get_json()["state"] == "ended", timeout=15)
    assert client.get(f"/api/runs/{rid}").get_json()["exit"] == {"code": 0}
    written = [int(m[1]) for t in said(engine, rid, "producer obj") for m in [re.search(r"= (-?\d+)", t)]]
    assert written == list(range(1, len(written))) + [-1]            # 1, 2, ... then the end mark
    read = [max(map(int, re.findall(r"-?\d+", t.split("→")[1].split("(")[0])))
            for t in said(engine, rid, "consumer obj")]
    assert set(read) - {0} <= set(written) and read == sorted(read)  # only values it wrote, in order
    assert len(set(read) - {0}) < len(written) - 1                   # 2.5 writes a read: some missed
    assert said(engine, rid, "父进程 join(): consumer 结束 (ended), exitcode 0")


# ---- as a student runs it ----------------------------------------------------------

def test_standalone_pipe_oneway(run):
    r = run("ipc", "--channel", "pipe_oneway", "--period", 60, "--delay", 0.1, "--hold", 30)
    pids = r.wait_for(r"producer pid=(\d+), consumer pid=(\d+)")[0]
    producer, consumer = int(pids[1]), int(pids[2])
    assert stat(producer)["ppid"] == stat(consumer)["ppid"] == r.pid
    r.wait_for(r"fd2\.recv\(\) → OSError: connection is write-only  \(fd2 只写")
    r.wait_for(r"consumer fd1\.recv\(\) → 1")
    wait_until(lambda: blocked_in(consumer, "pipe_read") and stat(consumer)["state"] == "S")
    assert channel(producer) & channel(consumer) & channel(r.pid)     # one pipe, held by all three
    wait_until(lambda: blocked_in(producer, "pause"))
    os.kill(producer, 10)                                             # SIGUSR1: a message now
    r.wait_for(r"consumer fd1\.recv\(\) → 2")
    os.kill(r.pid, 12)                                                # SIGUSR2: the parent looks
    r.wait_for(r"父进程 fd1\.poll\(\) = False")


def test_standalone_queue_ends_by_itself(run):
    r = run("ipc", "--channel", "queue", "--period", 0.2, "--delay", 0.3, "--hold", 1)
    r.wait_for(r"q = Queue\(3\)")
    r.wait_for(r"父进程 join\(\): consumer 结束 \(ended\), exitcode 0", timeout=15)
    put = [int(m[1]) for m in r.wait_for(r"producer q\.put\((\d+)\): qsize\(\)=[0-3] full\(\)=")]
    got = [int(m[1]) for m in r.wait_for(r"consumer q\.get\(\) → (\d+) ")]
    assert got == put == list(range(1, len(put) + 1))                 # every message once, in order
    assert r.finish() == 0
