"""Per-tick cost of the sampler against the bare floor, for 10, 100 and 500 lab processes.

    $ .venv/bin/python -m bench.sampler
    procs  floor ms  sampler ms  ratio  max Hz
       10     0.07        0.71  10.1x    1400
      ...

The floor is the least any exact sampler must do: open and read
/proc/PID/stat once for the same pids.  The sampler walks the tree from lab
init, reads stat, status, wchan and the fd table of each process, and builds
the process objects.  Both are timed in the same run, interleaved, so the
ratio holds on any machine.
"""
import os
import statistics
import sys
import time

from lab.sampler import Sampler
from lab.supervisor import Supervisor

SIZES = (10, 100, 500)
ROUNDS = 30

SLEEPERS = """
import os, sys, time
n = int(sys.argv[1])
for _ in range(n - 1):
    if os.fork() == 0:
        time.sleep(600)
        os._exit(0)
print("ready", flush=True)
time.sleep(600)
"""


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


def main():
    sup = Supervisor(run_cap=max(SIZES) + 8, total_cap=max(SIZES) + 16, lifetime=600).start()
    try:
        print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
              f"kernel {os.uname().release}")
        print(f"{'procs':>5}  {'floor ms':>8}  {'sampler ms':>10}  {'ratio':>6}  {'max Hz':>6}")
        for n in SIZES:
            run = sup.start_run("bench", {}, ["-c", SLEEPERS, str(n)])
            deadline = time.monotonic() + 30
            sampler = Sampler(sup.launcher_pid, sup.role_of)
            while len(sampler.sample()[0]) < n + 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            objs, _ = sampler.sample()
            pids = list(objs)
            floor, full = [], []
            for _ in range(ROUNDS):
                floor.append(timed(floor_tick, pids))
                full.append(timed(sampler.sample))
            f, s = statistics.median(floor), statistics.median(full)
            print(f"{len(pids):>5}  {f * 1e3:>8.2f}  {s * 1e3:>10.2f}  {s / f:>5.1f}x  {1 / s:>6.0f}",
                  flush=True)
            sup.stop_run(run.id, timeout=10)
    finally:
        sup.close()


if __name__ == "__main__":
    main()
