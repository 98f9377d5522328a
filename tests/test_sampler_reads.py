"""The sampler reads each /proc file at most once per process per tick, and
each /proc/net table at most once per tick (issue 3, "cost that grows with
the lab"), whatever the processes do: sleep, wake, stop, hold sockets, die
unreaped, lose memory from outside.

Every read the sampler makes goes through os.open/os.read/os.pread/
os.readlink/os.listdir; the test wraps them, names each read by the path
of its fd, and counts the names per tick.
"""
import collections
import mmap
import os
import time

import pytest

from lab import procfs
from lab.sampler import Sampler
from tests.helpers import proc_stat, wait_until

PAGES = 8

# One parent; below it a process in each state the sampler treats differently.
LAB = """
import mmap
path, pages = sys.argv[1], int(sys.argv[2])
kids = {}
def fork(name, body):
    pid = os.fork()
    if pid == 0:
        body()
        os._exit(0)
    kids[name] = pid
def sleeper():
    time.sleep(600)
def waker():
    while True:
        time.sleep(0.005)
def sockets():
    tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
    a, b = socket.socketpair()
    time.sleep(600)
def stopped():
    os.kill(os.getpid(), signal.SIGSTOP)
    time.sleep(600)
def memory():                           # one page mapped from each file
    files = [open(os.path.join(path, str(i)), "r+b") for i in range(pages)]
    maps = [mmap.mmap(f.fileno(), mmap.PAGESIZE) for f in files]
    touched = sum(m[0] for m in maps)
    w.write(b"mapped\\n")
    w.flush()
    time.sleep(600)
r, w = os.pipe()
r, w = os.fdopen(r, "rb"), os.fdopen(w, "wb")
for name, body in [("sleeper", sleeper), ("waker", waker), ("sockets", sockets),
                   ("stopped", stopped), ("memory", memory)]:
    fork(name, body)
fork("zombie", lambda: None)            # never waited for
r.readline()
ready(kids=kids)
idle()
"""


class ReadCounter:
    """Counts reads of files by path while on; one Counter per tick."""

    def __init__(self, monkeypatch):
        self.real = {n: getattr(os, n) for n in ("open", "read", "pread", "readlink", "listdir")}
        self.fresh = set()          # fds opened and not yet read: their first read counts
        self.ticks = []
        self.on = False
        for name in self.real:
            monkeypatch.setattr(os, name, getattr(self, name))

    def where(self, fd):
        return self.real["readlink"](f"/proc/self/fd/{fd}")

    def count(self, path):
        if self.on:
            self.ticks[-1][path] += 1

    def open(self, path, flags, mode=0o777, *, dir_fd=None):
        fd = self.real["open"](path, flags, mode, dir_fd=dir_fd)
        if self.on:
            self.fresh.add(fd)
        return fd

    def read(self, fd, n):
        if fd in self.fresh:        # a later read() of the same fd goes on reading that file
            self.fresh.discard(fd)
            self.count(self.where(fd))
        return self.real["read"](fd, n)

    def pread(self, fd, n, offset):
        self.fresh.discard(fd)
        if offset == 0:
            self.count(self.where(fd))
        return self.real["pread"](fd, n, offset)

    def readlink(self, path, *, dir_fd=None):
        if dir_fd is not None:
            self.count(f"{self.where(dir_fd)}/{path}")
        return self.real["readlink"](path, dir_fd=dir_fd)

    def listdir(self, path="."):
        self.count(self.where(path) if isinstance(path, int) else path)
        return self.real["listdir"](path)

    def tick(self, sampler):
        self.ticks.append(collections.Counter())
        self.on = True
        try:
            return sampler.sample()[0]
        finally:
            self.on = False
            self.fresh.clear()


@pytest.mark.parametrize("budget", [None, 0], ids=["held", "reopened"])
def test_each_proc_file_is_read_at_most_once_per_tick(family, monkeypatch, tmp_path, budget):
    monkeypatch.setattr(procfs, "QUIET_REFRESH", 0.3)     # full re-reads happen in the test too
    for i in range(PAGES):
        (tmp_path / str(i)).write_bytes(b"x" * mmap.PAGESIZE)
    parent = family.spawn(LAB, tmp_path, PAGES)
    kids = parent.info["kids"]
    wait_until(lambda: proc_stat(kids["stopped"])[0] == "T")
    wait_until(lambda: proc_stat(kids["zombie"])[0] == "Z")

    sampler = Sampler(parent.pid)
    sampler.reader = procfs.ProcReader(fd_budget=budget)
    counter = ReadCounter(monkeypatch)
    gone = 0
    try:
        for n in range(40):
            objs = counter.tick(sampler)
            assert set(kids.values()) | {parent.pid} <= set(objs)
            if n % 5 == 2:          # one page less, between two ticks, without it running:
                os.truncate(tmp_path / str(gone), 0)      # its stat may not show it, statm does
                gone += 1
            time.sleep(0.02)
    finally:
        monkeypatch.undo()
        sampler.close()
    assert sampler.reader.quiet_reads and sampler.reader.full_reads     # both kinds were made

    # The one read twice on purpose: the root's children, looked at again at the
    # end of the walk for an orphan being re-parented to it meanwhile.
    again = f"/proc/{parent.pid}/task/{parent.pid}/children"
    for n, reads in enumerate(counter.ticks):
        twice = {p: k for p, k in reads.items() if k > 1 and p != again}
        assert not twice, f"tick {n} read {twice}"
        assert reads[again] <= 2
    seen = set().union(*counter.ticks)
    for pid in kids.values():
        assert f"/proc/{pid}/stat" in seen
    assert f"/proc/{kids['memory']}/statm" in seen           # quiet reads compare its resident set
    tables = {p.rsplit("/", 1)[1] for p in seen if "/net/" in p}     # /proc/net is /proc/self/net
    assert {"unix", "tcp"} <= tables
