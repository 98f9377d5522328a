"""The dashboard's own snapshot against ps, for every lab process of several labs.

tests/test_procfs_oracle.py checks the decoder on hand-made processes in every
state; this checks what a student actually sees: GET /api/snapshot for real
labs, lab init included, compared field by field with ps at the same moment.
"""
import subprocess

from lab import signals
from tests.helpers import wait_until
from tests.test_labs import start

FIELDS = "pid,ppid,pgid,sid,tpgid,stat,ni,nlwp,caught,ignored,blocked,pending"


def ps(pids):
    out = subprocess.run(["ps", "-ww", "-o", ",".join(f + "=" for f in FIELDS.split(",")),
                          "-p", ",".join(map(str, pids))], capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        v = line.split()
        rows[int(v[0])] = {"ppid": int(v[1]), "pgid": int(v[2]), "sid": int(v[3]), "tpgid": int(v[4]),
                           "stat": v[5], "nice": None if v[6] == "-" else int(v[6]), "threads": int(v[7]),
                           "signals": {k: signals.names_in_mask(int(x, 16)) for k, x in
                                       zip(("caught", "ignored", "blocked", "pending"), v[8:12])}}
    return rows


def view(proc):
    return {k: proc[k] for k in ("ppid", "pgid", "sid", "tpgid", "stat", "nice", "threads", "signals")}


def test_snapshot_equals_ps_for_every_lab_process(client, engine):
    start(client, "zombie")
    start(client, "driver_conductor")
    start(client, "fork_tree", depth=2, breadth=2)
    start(client, "semaphore", k=1, n=3, hold=5.0)
    wait_until(lambda: len(client.get("/api/snapshot").get_json()["processes"]) >= 1 + 4 + 2 + 2 + 7 + 4)

    def agree():
        engine.hub.sample_now()
        snap = {p["pid"]: p for p in client.get("/api/snapshot").get_json()["processes"]}
        truth = ps(snap)
        return snap if all(pid in truth and view(p) == truth[pid] for pid, p in snap.items()) else None

    # Sleeping lab processes hold still, but a sample and a ps are two moments:
    # retry until one pair agrees on every field of every process.
    snap = wait_until(agree, timeout=10, message="snapshot never matched ps field by field")
    kinds = {p["stat"] for p in snap.values()}
    assert {"Ss", "S+", "Z+"} <= kinds                      # sessions, foreground, a zombie
    launcher = [p for p in snap.values() if p["run"] is None]
    assert len(launcher) == 1 and launcher[0]["name"] == "lab-init"
    conductor = next(p for p in snap.values() if p["role"] == "conductor")
    assert "SIGINT" in conductor["signals"]["caught"] and "SIGTSTP" in conductor["signals"]["ignored"]
