"""Per-tick cost of the sampler against the bare floor, for 10, 100 and 500 lab processes.

    $ .venv/bin/python -m bench.sampler
    machine: 2 CPUs, Python 3.11.7, kernel 6.18.44
    workload  procs  floor ms  sampler ms  ratio  max Hz  full reads
    asleep       12      0.12        0.31    2.5x    3270         8%
    ...
    waking      502      5.33       33.89    6.4x      30       100%

The floor is the least any exact sampler must do: open and read
/proc/PID/stat once for the same pids.  The sampler walks the tree from lab
init and builds every process object (procfs.ProcReader).  Two workloads:
"asleep", processes blocked in sleep() as most lab processes are most of the
time, and "waking", every process wakes up between two ticks (20 times a
second), so none of them can be read quietly and each costs a full read.
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
import os, sys, time
n, nap = int(sys.argv[1]), float(sys.argv[2])
for _ in range(n - 1):
    if os.fork() == 0:
        while True:
            time.sleep(nap)
print("ready", flush=True)
time.sleep(600)
"""
WORKLOADS = {"asleep": 600.0, "waking": 0.05}


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
    run = sup.start_run("bench", {}, ["-c", FAMILY, str(n), str(WORKLOADS[workload])])
    sampler = Sampler(sup.launcher_pid, sup.role_of)
    try:
        deadline = time.monotonic() + 30
        while len(sampler.sample()[0]) < n + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = list(sampler.sample()[0])
        reads = sampler.reader
        full0, quiet0 = reads.full_reads, reads.quiet_reads
        floor, full = [], []
        for _ in range(ROUNDS):
            time.sleep(TICK)
            floor.append(timed(floor_tick, pids))
            full.append(timed(sampler.sample))
        f, s = statistics.median(floor), statistics.median(full)
        fulls = reads.full_reads - full0
        share = fulls / max(1, fulls + reads.quiet_reads - quiet0)
        print(f"{workload:8}  {len(pids):>5}  {f * 1e3:>8.2f}  {s * 1e3:>10.2f}  {s / f:>5.1f}x"
              f"  {1 / s:>6.0f}  {share:>9.0%}", flush=True)
    finally:
        sampler.close()
        sup.stop_run(run.id, timeout=10)


def main():
    sup = Supervisor(run_cap=max(SIZES) + 8, total_cap=max(SIZES) + 16, lifetime=600).start()
    raise_fd_limit()        # as Engine.start does: 500 processes' held fds fit
    try:
        print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
              f"kernel {os.uname().release}")
        print(f"{'workload':8}  {'procs':>5}  {'floor ms':>8}  {'sampler ms':>10}  {'ratio':>6}"
              f"  {'max Hz':>6}  {'full reads':>9}")
        for workload in WORKLOADS:
            for n in SIZES:
                measure(sup, workload, n)
    finally:
        sup.close()


if __name__ == "__main__":
    main()
