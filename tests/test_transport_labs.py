"""The transport labs against real processes and ``ss``: broadcast, sticky packets, TCP's states.

Through the REST API first (tests/test_socket_labs.py's ``lab`` fixture: it stops every run
and checks its ports are free again), then each one as a student runs it in a terminal
(tests/test_experiments_standalone.py's ``run``).
"""
import os
import re
import subprocess

from tests.helpers import proc_stat, wait_until
from tests.test_experiments_standalone import run, subreaper  # noqa: F401  (fixtures)
from tests.test_socket_labs import USERS, drop_time_wait, lab, ss  # noqa: F401  (lab is a fixture)


def ss_lines(port, proto="t"):
    """[(state, recv_q, send_q, local, peer, {pids})] of ``ss -tanp`` (or -uanp) for this port."""
    out = subprocess.run(["ss", f"-{proto}anpH", f"( sport = :{port} or dport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        state, recv_q, send_q, local, peer = line.split()[:5]
        rows.append((state, int(recv_q), int(send_q), local, peer, {int(p) for p, _ in USERS.findall(line)}))
    return rows


# ---- udp_broadcast ------------------------------------------------------------------------

def test_udp_broadcast_every_receiver_gets_every_datagram(lab):
    rid, sender, endpoint = lab.start("udp_broadcast", receivers=3, every=0.2)
    assert endpoint["proto"] == "udp" and endpoint["address"].startswith("127.255.255.255:")
    port = int(endpoint["address"].rsplit(":", 1)[1])
    receivers = wait_until(lambda: (lambda r: r if len(r) == 3 else None)(
        {pid: p for pid, p in lab.processes(rid).items() if (p["role"] or "").startswith("receiver ")}))
    assert all(p["ppid"] == sender for p in receivers.values())
    for n in (1, 2, 3):
        for pid in receivers:
            wait_until(lambda: lab.said(rid, f"收到广播 (received): 广播 {n} 来自发送端 {sender}", pid),
                       message=f"receiver {pid} did not get broadcast {n}")
    # without SO_BROADCAST the kernel refused: EACCES
    assert lab.said(rid, "没有设置 SO_BROADCAST: sendto(('127.255.255.255', %d)) 失败 (fails): "
                         "PermissionError [Errno 13] EACCES" % port, sender)
    # the kernel: one UNCONN socket per receiver on 127.255.255.255:port, the sender's on 127.0.0.1
    ours = lab.matches_ss(rid)
    for pid in receivers:
        assert [s[2:] for s in ours if s[0] == pid] == [("udp", f"127.255.255.255:{port}", "", "NONE")]
    (mine,) = [s for s in ours if s[0] == sender]
    assert mine[2] == "udp" and mine[3].startswith("127.0.0.1:")
    assert {row[3] for row in ss_lines(port, "u")} == {f"127.255.255.255:{port}"}

    assert lab.client.post(f"/api/runs/{rid}/actions/no_broadcast").status_code == 200
    wait_until(lambda: len(lab.said(rid, "PermissionError [Errno 13] EACCES", sender)) == 2)
    # one more receiver, started by the dashboard: it gets the broadcasts from then on
    assert lab.client.post(f"/api/runs/{rid}/actions/add_client").status_code == 200
    extra = wait_until(lambda: [pid for pid, p in lab.processes(rid).items() if p["role"] == "receiver"])[0]
    got = wait_until(lambda: lab.said(rid, "收到广播 (received): 广播", extra))[0]["text"]
    n = int(re.search(r"广播 (\d+) 来自", got)[1])
    for pid in receivers:
        wait_until(lambda: lab.said(rid, f"收到广播 (received): 广播 {n} 来自", pid))
    res = lab.client.post(f"/api/runs/{rid}/actions/close_client")      # the newest receiver
    assert res.status_code == 200 and res.get_json()["pids"] == [extra]
    wait_until(lambda: proc_stat(extra) is None)
    lab.stop(rid)


def test_udp_broadcast_in_a_terminal(run):
    r = run("udp_broadcast", "--receivers", 2, "--every", 0.1, "--count", 3)
    port = int(r.wait_for(r"listening on 127\.255\.255\.255:(\d+)")[0][1])
    r.wait_for(r"没有设置 SO_BROADCAST: .* PermissionError \[Errno 13\] EACCES")
    assert r.finish() == 0
    got = {}
    for m in r.wait_for(r"接收端 (\d)\[\d+\] 从 \('127\.0\.0\.1', \d+\) 收到广播 \(received\): (.*)", count=8):
        got.setdefault(m[1], []).append(m[2])
    sent = [f"广播 {n} 来自发送端 {r.pid}" for n in (1, 2, 3)] + ["广播结束 (the end)"]
    assert got == {"1": sent, "2": sent}
    assert len(r.wait_for(r"回收接收端 \d \(pid \d+\), exit status 0", count=2)) == 2
    assert not ss_lines(port, "u")
