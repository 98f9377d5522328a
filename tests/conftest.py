"""Fixtures in the style of Flask's tutorial: `app` and `client`, plus the real server.

Every test starts real processes; the fixtures stop them all, and the session
ends by checking that nothing with PROCLAB_RUN in its environment is left.
"""
import os
import re
import signal
import subprocess
import sys
import uuid

import pytest

from lab import procfs, proctree
from lab.web import create_app
from tests.helpers import free_port, lab_pids, wait_until
from tests.procs import Family

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def app():
    app = create_app({"TESTING": True, "SAMPLE_HZ": 20.0})
    yield app
    app.extensions["proclab"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def family():
    """Real child processes, all killed and reaped at the end (tests/procs.py)."""
    with Family() as fam:
        yield fam


@pytest.fixture(params=["held", "reopened"])
def reader(request):
    """A ProcReader keeping each process's /proc fds open, and one with no fd
    budget that opens them afresh every read: both must read the same."""
    r = procfs.ProcReader(fd_budget=None if request.param == "held" else 0)
    yield r
    r.close()


@pytest.fixture
def engine(app):
    return app.extensions["proclab"]


class LiveServer:
    """`python app.py` in a subprocess on a free loopback port."""

    def __init__(self, *args, wrapper=(), own_group=False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*wrapper, sys.executable, "app.py", "--port", str(self.port), *args], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=own_group)    # its own group: Ctrl-C can reach all of it
        self.banner = self.proc.stdout.readline()
        if "http://" not in self.banner:
            self.stop()
            raise RuntimeError(f"server did not start: {self.banner!r}")
        # The control token is in the URL it prints (None with --no-token).
        found = re.search(r"[?&]token=([\w-]+)", self.banner)
        self.token = found.group(1) if found else None

    @classmethod
    def wrapped(cls, wrapper, *args):
        """Started through a command such as setpriv."""
        return cls(*args, wrapper=wrapper)

    def stop(self, sig=signal.SIGINT, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.proc.stdout.closed:
            self.output = self.proc.stdout.read()
            self.proc.stdout.close()


@pytest.fixture
def live_server():
    servers = []

    def start(*args, **kwargs):
        server = LiveServer(*args, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# Every dashboard and lab init this session starts inherits this tag, and lab
# init passes it on to every lab process (lab.labrun): the session's own lab
# processes are told from those of another dashboard on the machine (a
# developer's own, or one started while the tests run).
TAG = os.environ["PROCLAB_TAG"] = f"tests-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def our_lab_pids():
    return sorted(pid for pid in lab_pids() if proctree.environ_value(pid, "PROCLAB_TAG") == TAG)


@pytest.fixture(autouse=True, scope="session")
def no_lab_process_left():
    """Nothing this test session started may outlive it."""
    yield
    wait_until(lambda: not our_lab_pids(), timeout=3,
               message=f"lab processes left after the tests: {our_lab_pids()}")
