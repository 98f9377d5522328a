"""The lab as one object: lab init's supervisor, the sampler and the hub.

The web layer holds one of these; tests and benchmarks can use it without a
web server.  No Flask here.
"""
import resource
import time

from lab import procfs, proctree, socktable
from lab.hub import Hub
from lab.sampler import Sampler
from lab.supervisor import Supervisor

MEMORY_FRESH = 1.0      # seconds a memory measurement is answered again without measuring


class Engine:
    def __init__(self, run_cap=64, total_cap=256, lifetime=900.0, hz=10.0):
        self.supervisor = Supervisor(run_cap=run_cap, total_cap=total_cap, lifetime=lifetime)
        self.hz = hz
        self.sampler = None
        self.hub = None
        self._memory = {}       # (pid, started) -> (when, what procfs.memory said)

    def start(self):
        self.supervisor.start()        # lab init first, while this process has one thread
        raise_fd_limit()               # lab init puts the user's limit back for the labs
        self.sampler = Sampler(self.supervisor.launcher_pid, self.supervisor.role_of)
        self.hub = Hub(self.sampler, self.supervisor, hz=self.hz).start()
        return self

    @property
    def launcher_pid(self):
        return self.supervisor.launcher_pid

    def listener(self, run_id, host, port):
        """The pid of a process of `run_id` that listens on TCP host:port now
        (on that address, or on all of them), or None.  Read afresh from
        /proc, not from the last sample: a listener killed a moment ago, its
        port taken by a program outside the lab, must not pass for the lab's."""
        wanted = {f"{host}:{port}", f"[{host}]:{port}", f"0.0.0.0:{port}", f"[::]:{port}"}
        table = socktable.SocketTable()
        run = self.supervisor.get(run_id)
        announced = [e["pid"] for e in run.endpoints] if run is not None else []   # not sampled yet, maybe
        with self.hub.lock:
            sampled = [p["pid"] for p in self.hub.processes.values() if p["run"] == run_id]
        for pid in dict.fromkeys(announced + sampled):
            inodes = procfs.socket_inodes(pid)
            if not inodes or proctree.environ_value(pid, "PROCLAB_RUN") != run_id \
                    or proctree.environ_value(pid, "PROCLAB_INIT") != str(self.launcher_pid):
                continue        # gone, or its pid now someone else's
            for sock in table.for_fds(inodes):
                if sock["proto"].startswith("tcp") and sock["status"] == "LISTEN" and sock["laddr"] in wanted:
                    return pid
        return None

    def memory(self, pid, before_measuring=lambda: None):
        """Shared and private memory of a lab process now (procfs.memory), or None
        if pid is no live lab process.  A measurement makes the kernel walk the
        process's page tables, so one is kept for MEMORY_FRESH seconds: a class
        that asks at once about the same child costs one.  before_measuring is
        called before each real one (the web layer's rate limit)."""
        with self.hub.lock:
            obj = self.hub.processes.get(pid)
        if obj is None or obj["run"] is None:
            return None
        key, now = (pid, obj["started"]), time.monotonic()
        hit = self._memory.get(key)
        if hit is not None and now - hit[0] < MEMORY_FRESH:
            return hit[1]
        before_measuring()
        usage = procfs.memory(pid, obj["started"])      # None if the pid is another's now
        if len(self._memory) > 256:
            self._memory.clear()
        if usage is not None:
            self._memory[key] = (now, usage)
        return usage

    def close(self):
        stopped = self.hub.close() if self.hub is not None else True
        if self.sampler is not None and stopped:   # a tick stuck past the join keeps its fds
            self.sampler.close()
        self.supervisor.close()


def raise_fd_limit(want=65536):
    """Raise this process's soft RLIMIT_NOFILE towards the hard limit.

    The sampler keeps six /proc fds open per lab process (see
    procfs.ProcReader) and the server one socket per viewer; 1024, the
    usual soft limit, is too few for 256 processes and 100 viewers.  Go
    programs do the same at start.  Processes started later inherit it:
    lab init sets the user's limit back (supervisor.USER_NOFILE), so lab
    programs see the limit the user has."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
