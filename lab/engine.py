"""The lab as one object: lab init's supervisor, the sampler and the hub.

The web layer holds one of these; tests and benchmarks can use it without a
web server.  No Flask here.
"""
from lab.hub import Hub
from lab.sampler import Sampler
from lab.supervisor import Supervisor


class Engine:
    def __init__(self, run_cap=64, total_cap=256, lifetime=900.0, hz=10.0):
        self.supervisor = Supervisor(run_cap=run_cap, total_cap=total_cap, lifetime=lifetime)
        self.hz = hz
        self.sampler = None
        self.hub = None

    def start(self):
        self.supervisor.start()        # lab init first, while this process has one thread
        self.sampler = Sampler(self.supervisor.launcher_pid, self.supervisor.role_of)
        self.hub = Hub(self.sampler, self.supervisor, hz=self.hz).start()
        return self

    @property
    def launcher_pid(self):
        return self.supervisor.launcher_pid

    def close(self):
        if self.hub is not None:
            self.hub.close()
        self.supervisor.close()
