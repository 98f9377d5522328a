"""The transport labs against real processes and ``ss``: broadcast, sticky packets, TCP's states.

Through the REST API first (tests/test_socket_labs.py's ``lab`` fixture: it stops every run
and checks its ports are free again), then each one as a student runs it in a terminal
(tests/test_experiments_standalone.py's ``run``).
"""
import os
import re
import signal
import subprocess

from tests.helpers import proc_stat, wait_until
from tests.test_experiments_standalone import run, stat, subreaper  # noqa: F401  (fixtures)
from tests.test_server_labs import drain, full_event_pipe, signal_mask, wchan
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


def test_udp_broadcast_sigusr1_before_its_handler_does_not_kill(run):
    """The "no SO_BROADCAST" action may come as soon as the dashboard knows the sender's role."""
    r_events, w_events = full_event_pipe()
    try:
        r = run("udp_broadcast", "--receivers", 1, "--every", 0.1, "--count", 2, events_fd=w_events)
    finally:
        os.close(w_events)
    usr1 = 1 << (signal.SIGUSR1 - 1)
    try:
        # its set_role("sender") waits in write() on the full pipe: no socket, no handler yet
        wait_until(lambda: "pipe_write" in wchan(r.pid), message="set_role() did not block on the full pipe")
        assert signal_mask(r.pid, "SigBlk") & usr1           # blocked until the handler is there
        os.kill(r.pid, signal.SIGUSR1)
        wait_until(lambda: signal_mask(r.pid, "ShdPnd") & usr1, message="SIGUSR1 is not pending")
        assert stat(r.pid)["state"] != "Z"                   # the kernel holds it; the sender lives
    finally:
        reader, events = drain(r_events)
    assert r.finish() == 0
    # once unblocked, the handler ran: a second sendto() without SO_BROADCAST, EACCES again
    assert len(r.wait_for(r"没有设置 SO_BROADCAST: .* PermissionError \[Errno 13\] EACCES", count=2)) == 2
    r.wait_for(r"发送了 2 个广播, 结束")
    reader.join(10)
    assert {e["role"] for e in events if e["kind"] == "role"} == {"sender", "receiver 1"}


# ---- sticky_packets -------------------------------------------------------------------------

MESSAGE = len("第1条消息".encode())        # 13 bytes; with framing=length 4 more for the prefix


def test_sticky_packets_recv_q_grows_and_the_sends_are_glued(lab):
    # half a second between the sends, the server asleep 1.5 s after the last: the 10 Hz sampler
    # sees each Recv-Q value several times, and the CLOSE_WAIT, even on a loaded machine
    rid, server, endpoint = lab.start("sticky_packets", framing="none", messages=4, gap=0.5, delay=3.0)
    port = int(endpoint["address"].rsplit(":", 1)[1])
    client = wait_until(lambda: [pid for pid, p in lab.processes(rid).items() if p["role"] == "client"])[0]
    assert lab.processes(rid)[client]["ppid"] == server
    seen, kernel = set(), set()

    def server_recv_q():
        """The server's connection socket's (state, Recv-Q), in the dashboard and in ss, until it reads."""
        for s in lab.processes(rid)[server]["sockets"]:
            if s["laddr"] == endpoint["address"] and s["status"] != "LISTEN":
                seen.add((s["status"], s["recv_q"]))
        kernel.update((row[0], row[1]) for row in ss_lines(port)
                      if row[3] == endpoint["address"] and row[0] != "LISTEN" and row[5] == {server})
        return lab.said(rid, "recv() 第 1 次", server)
    wait_until(server_recv_q, timeout=10, interval=0.05)
    # the bytes piled up, send() after send(), while the server slept: Recv-Q grew ...
    assert len({q for state, q in kernel if state == "ESTAB" and q}) >= 2, kernel
    assert len({q for state, q in seen if state == "ESTABLISHED" and q}) >= 2, seen
    # ... to all four messages, and the client's FIN (one sequence number) after them: CLOSE_WAIT
    assert ("CLOSE-WAIT", 4 * MESSAGE + 1) in kernel and ("CLOSE_WAIT", 4 * MESSAGE + 1) in seen
    total = wait_until(lambda: lab.said(rid, "客户端关闭了连接: recv() 共", server))[0]["text"]
    calls = int(re.search(r"recv\(\) 共 (\d+) 次", total)[1])
    assert lab.said(rid, "send() 共 4 次", client)
    assert 1 <= calls < 4                  # 粘包: fewer recv()s than send()s
    glued = lab.said(rid, "recv() 第 1 次", server)[0]["text"]
    assert "第1条消息第2条消息" in glued

    assert lab.client.post(f"/api/runs/{rid}/actions/send_again").status_code == 200
    wait_until(lambda: len(lab.said(rid, "客户端关闭了连接: recv() 共", server)) == 2, timeout=10)
    assert len(lab.said(rid, "send() 共 4 次", client)) == 2
    res = lab.client.post(f"/api/runs/{rid}/actions/close_client")
    assert res.status_code == 200 and res.get_json()["pids"] == [client]
    wait_until(lambda: proc_stat(client) is None)      # reaped by the server: no zombie
    wait_until(lambda: lab.said(rid, f"回收客户端 {client}", server))
    lab.stop(rid)


def test_sticky_packets_add_client_forks_one_more_that_waits_its_turn(lab):
    rid, server, endpoint = lab.start("sticky_packets", framing="length", messages=2, gap=0, delay=2.0)
    first = wait_until(lambda: [pid for pid, p in lab.processes(rid).items() if p["role"] == "client"])[0]
    assert lab.client.post(f"/api/runs/{rid}/actions/add_client").status_code == 200
    second = wait_until(lambda: [pid for pid, p in lab.processes(rid).items()
                                 if p["role"] == "client" and pid != first])[0]
    assert lab.processes(rid)[second]["ppid"] == server
    # once it has sent and closed its own socket, it holds none: none of the server's either
    # (the listening one, the one being served), which a forked child would keep unless it closes them
    wait_until(lambda: lab.said(rid, "等待 SIGUSR1 再发一轮", second), timeout=10)
    lab.engine.hub.sample_now()
    assert lab.processes(rid)[second]["sockets"] == []
    # the iterative server takes it once the first is done: two rounds served, whole messages each
    wait_until(lambda: len(lab.said(rid, "共收到 2 条完整的消息", server)) >= 2, timeout=15)
    for _ in range(3):
        assert lab.client.post(f"/api/runs/{rid}/actions/add_client").status_code == 200
    wait_until(lambda: lab.said(rid, "不再添加", server), timeout=5)       # at most four
    assert len([p for p in lab.processes(rid).values() if p["role"] == "client"]) == 4


def test_sticky_packets_in_a_terminal(run):
    for framing in ("none", "length"):
        r = run("sticky_packets", "--framing", framing, "--messages", 5, "--gap", 0, "--delay", 0.5)
        port = int(r.wait_for(r"listening on 127\.0\.0\.1:(\d+)")[0][1])
        client = int(r.wait_for(r"客户端\[(\d+)\] send\(\) 共 5 次")[0][1])
        assert stat(client)["ppid"] == r.pid
        if framing == "none":
            total = int(r.wait_for(r"recv\(\) 共 (\d+) 次得到数据")[0][1])
            assert total < 5
            got = "".join(m[1] for m in r.wait_for(r"recv\(\) 第 \d+ 次 \(recv #\d+\) \d+ 字节: (.*)", count=total))
            assert got == "".join(f"第{k}条消息" for k in range(1, 6))
        else:
            r.wait_for(r"共收到 5 条完整的消息")
            bodies = [m[1] for m in r.wait_for(r"消息 \d: 长度 13 字节 \(struct\.unpack\('!I'\)\), 内容 \(body\): (.*)",
                                                count=5)]
            assert bodies == [f"第{k}条消息" for k in range(1, 6)]       # one whole message per send()
        os.kill(r.pid, signal.SIGTERM)           # the server ends, and takes its client with it
        assert r.finish() == 0
        assert stat(client) is None
        drop_time_wait(port)                     # the client closed first: its TIME_WAIT
        assert not ss_lines(port)


# ---- tcp_states ----------------------------------------------------------------------------

def states(port):
    """{(state, local, peer, owned)} of the port's TCP sockets but the listener, as ss -tanp shows them."""
    return {(row[0], row[3], row[4], bool(row[5])) for row in ss_lines(port) if row[0] != "LISTEN"}


def test_tcp_states_half_close_last_ack_and_syn_sent(lab):
    rid, me, endpoint = lab.start("tcp_states", backlog=1)
    server = endpoint["address"]
    port = int(server.rsplit(":", 1)[1])
    wait_until(lambda: lab.said(rid, "命令 (commands)", me))

    def act(action):
        assert lab.client.post(f"/api/runs/{rid}/actions/{action}").status_code == 200

    act("add_client")
    client = wait_until(lambda: [local for state, local, peer, owned in states(port)
                                 if state == "ESTAB" and peer == server and owned])[0]
    wait_until(lambda: states(port) == {("ESTAB", client, server, True), ("ESTAB", server, client, True)})
    act("shutdown")          # a half close: the client keeps its socket, FIN_WAIT2
    wait_until(lambda: states(port) == {("FIN-WAIT-2", client, server, True), ("CLOSE-WAIT", server, client, True)})
    act("send")              # the client does not read: its Recv-Q, the server's Send-Q
    wait_until(lambda: [row for row in ss_lines(port) if row[3] == server and row[0] == "CLOSE-WAIT" and row[2] > 0])
    assert [row[1] for row in ss_lines(port) if row[3] == client][0] > 0
    act("server_close")      # its FIN waits behind the unread bytes: LAST_ACK, owned by nobody
    wait_until(lambda: states(port) == {("FIN-WAIT-2", client, server, True), ("LAST-ACK", server, client, False)})
    assert ("tcp", server, client, "LAST_ACK") in lab.unowned_matches_ss(rid, port)
    act("read")              # the FIN gets through, the client ACKs: TIME_WAIT on the client's side
    wait_until(lambda: states(port) == {("TIME-WAIT", client, server, False)}, timeout=10)
    wait_until(lambda: lab.said(rid, "客户端 ACK (4): 服务器的 LAST_ACK 结束, 客户端 TIME_WAIT", me))

    act("flood")             # backlog 1: two get into the listen queue, two stay SYN_SENT
    line = wait_until(lambda: lab.said(rid, "个 connect(), 没有 accept()", me))[0]["text"]
    assert "2 个 ESTABLISHED" in line and "2 个 SYN_SENT" in line
    flood = [(state, owned) for state, local, peer, owned in states(port) if local not in (client, server)
             and peer == server]
    assert sorted(flood) == [("ESTAB", True)] * 2 + [("SYN-SENT", True)] * 2
    queued = [local for state, local, peer, owned in states(port) if local == server and state == "ESTAB"]
    assert len(queued) == 2 and all(not owned for state, local, _, owned in states(port)
                                    if local == server and state == "ESTAB")
    def fds():
        return len(os.listdir(f"/proc/{me}/fd"))

    def flooding():
        return sorted(state for state, local, peer, owned in states(port)
                      if peer == server and owned and local != client)
    before = fds()
    act("flood")             # again: the last flood's sockets are closed first, none is left open
    wait_until(lambda: len(lab.said(rid, "个 connect(), 没有 accept()", me)) == 2)
    assert lab.said(rid, "先关闭上一次 flood 的连接", me)
    assert fds() == before
    assert wait_until(lambda: flooding() == ["ESTAB"] * 2 + ["SYN-SENT"] * 2 or None)
    act("reset")
    wait_until(lambda: not [s for s in states(port) if s[0] in ("SYN-SENT", "ESTAB")])
    assert fds() < before
    lab.stop(rid)


def test_tcp_states_in_a_terminal_close_rebind(run):
    r = run("tcp_states", tty=True)
    server = r.wait_for(r"listening on (127\.0\.0\.1:\d+)")[0][1]
    port = int(server.rsplit(":", 1)[1])
    r.wait_for(r"命令 \(commands\)")
    try:
        def step(command, expect):
            os.write(r.fd, command.encode() + b"\r")
            return r.wait_for(expect)[0]

        client = step("connect", r"三次握手 \(handshake\): 客户端 (\S+) connect")[1]
        wait_until(lambda: states(port) == {("ESTAB", client, server, True), ("ESTAB", server, client, True)})
        # the client closes first: FIN_WAIT2 (owned by nobody now), the server CLOSE_WAIT until it closes
        step("close client", r"服务器还没有 close\(\): 服务器 CLOSE_WAIT")
        wait_until(lambda: states(port) == {("FIN-WAIT-2", client, server, False),
                                            ("CLOSE-WAIT", server, client, True)})
        step("close server", r"服务器后 close\(\)")
        wait_until(lambda: states(port) == {("TIME-WAIT", client, server, False)})
        # that TIME_WAIT is on the client's port: the server's port binds again without SO_REUSEADDR
        step("rebind", r"不设置 SO_REUSEADDR: bind\(\) 成功")
        r.wait_for(rf"listening on {server}", count=2)

        # now the server closes first: the TIME_WAIT is on the server's port
        client2 = step("connect", rf"三次握手 \(handshake\): 客户端 (?!{client} )(\S+) connect")[1]
        step("close server", r"服务器先 close\(\)")
        wait_until(lambda: {s for s in states(port) if client2 in s} == {
            ("FIN-WAIT-2", server, client2, False), ("CLOSE-WAIT", client2, server, True)})
        step("close client", r"客户端后 close\(\)")
        wait_until(lambda: {s for s in states(port) if client2 in s} == {("TIME-WAIT", server, client2, False)})
        step("rebind", r"不设置 SO_REUSEADDR: bind\(\) 失败 \(fails\): \[Errno 98\] EADDRINUSE")
        step("show", r"s\.setsockopt\(SOL_SOCKET, SO_REUSEADDR, 1\): bind\(\) 成功 \(端口立即复用\)")
        r.wait_for(rf"监听 listen {server}: LISTEN", count=1)
        assert [row[0] for row in ss_lines(port) if row[0] == "LISTEN" and row[5] == {r.pid}] == ["LISTEN"]
        os.write(r.fd, b"\x04")              # Ctrl-D
        r.wait_for(r"EOF \(Ctrl-D\): 退出")
        assert r.finish() == 0
    finally:
        drop_time_wait(port)
