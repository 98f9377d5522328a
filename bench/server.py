"""Start the real dashboard for a benchmark, and talk to it (not a benchmark itself)."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Server:
    def __init__(self, *args):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "app.py", "--port", str(self.port), "--no-browser", *args],
                                     cwd=ROOT, stdout=subprocess.PIPE, text=True)
        banner = self.proc.stdout.readline()          # it serves, and control needs this token
        found = re.search(r"[?&]token=([\w-]+)", banner)
        self.token = found.group(1) if found else None

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read())

    def worker_pid(self):
        """The gunicorn worker (the arbiter's only child): it serves, samples and fans out."""
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
            return int(f.read().split()[0])

    def cpu_seconds(self):
        with open(f"/proc/{self.worker_pid()}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(10)
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
