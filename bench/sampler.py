"""Per-tick cost of the sampler against the bare floor, for 10, 100 and 500 lab processes.

    $ .venv/bin/python -m bench.sampler
    machine: 2 CPUs, Python 3.11.7, kernel 6.18.44
    workload       procs  floor ms  sampler ms   ratio  max Hz  full reads  links
    asleep            12      0.30        0.98    3.3x    1024         8%      0
    ...
    threads+links    502      4.69       35.43    7.6x      28         0%      3

The floor is the least any exact sampler must do: open and read
/proc/PID/stat once for the same pids.  The sampler walks the tree from lab
init and builds every process object (procfs.ProcReader) and each run's
links.  Three workloads: "asleep", processes blocked in sleep() as most lab
processes are most of the time; "waking", every process wakes up between two
ticks (20 times a second), so none of them can be read quietly and each
costs a full read; "threads+links", asleep with two more threads each, all
holding one pipe, one socketpair and one /dev/shm page (links: how many the
last tick found).
Ticks are 0.1 s apart, as at the dashboard's 10 Hz; floor and sampler are
timed in the same run, interleaved, so the ratio holds on any machine.
"""
import os
import statistics
import sys
import time

from lab.engine import raise_fd_limit
from lab.sampler import Sampler
from lab.supervisor import Supervisor

SIZES = (10, 100, 500)
ROUNDS = 30
TICK = 0.1

FAMILY = """
import mmap, os, socket, sys, tempfile, threading, time
n, nap, shared = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
if shared:      # what a multiprocessing family holds: a pipe, a socketpair, a /dev/shm page
    r, w = os.pipe()
    a, b = socket.socketpair()
    fd, path = tempfile.mkstemp(dir="/dev/shm")
    os.unlink(path)
    os.ftruncate(fd, 4096)
    page = mmap.mmap(fd, 4096)
for _ in range(n - 1):
    if os.fork() == 0:
        if shared:  # and two more threads each (a Queue's feeder, a Pool's handlers)
            for _ in range(2):
                threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
        while True:
            time.sleep(nap)
print("ready", flush=True)
time.sleep(600)
"""
# name: (how long each process sleeps between wake-ups, whether it shares objects and has threads)
WORKLOADS = {"asleep": (600.0, False), "waking": (0.05, False), "threads+links": (600.0, True)}


def floor_tick(pids):
    for pid in pids:
        try:
            fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        except OSError:
            continue
        try:
            os.read(fd, 4096)
        finally:
            os.close(fd)


def timed(fn, *args):
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def measure(sup, workload, n):
    nap, shared = WORKLOADS[workload]
    run = sup.start_run("bench", {}, ["-c", FAMILY, str(n), str(nap), "1" if shared else "0"])
    sampler = Sampler(sup.launcher_pid, sup.role_of)
    try:
        deadline = time.monotonic() + 30
        while len(sampler.sample()[0]) < n + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = list(sampler.sample()[0])
        reads = sampler.reader
        full0, quiet0 = reads.full_reads, reads.quiet_reads
        floor, full = [], []
        links = 0
        for _ in range(ROUNDS):
            time.sleep(TICK)
            floor.append(timed(floor_tick, pids))
            t = time.perf_counter()
            got = sampler.sample()
            full.append(time.perf_counter() - t)
            links = sum(len(found) for found in got.links.values())
        f, s = statistics.median(floor), statistics.median(full)
        fulls = reads.full_reads - full0
        share = fulls / max(1, fulls + reads.quiet_reads - quiet0)
        print(f"{workload:13}  {len(pids):>5}  {f * 1e3:>8.2f}  {s * 1e3:>10.2f}  {s / f:>5.1f}x"
              f"  {1 / s:>6.0f}  {share:>9.0%}  {links:>5}", flush=True)
    finally:
        sampler.close()
        sup.stop_run(run.id, timeout=10)


def main():
    sup = Supervisor(run_cap=max(SIZES) + 8, total_cap=max(SIZES) + 16, lifetime=600).start()
    raise_fd_limit()        # as Engine.start does: 500 processes' held fds fit
    try:
        print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
              f"kernel {os.uname().release}")
        print(f"{'workload':13}  {'procs':>5}  {'floor ms':>8}  {'sampler ms':>10}  {'ratio':>6}"
              f"  {'max Hz':>6}  {'full reads':>9}  {'links':>5}")
        for workload in WORKLOADS:
            for n in SIZES:
                measure(sup, workload, n)
    finally:
        sup.close()


if __name__ == "__main__":
    main()
