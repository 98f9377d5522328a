"""Unix connections paired and every socket's queues, against ss at the same moment.

A real run (lab init starts it; the hub samples it): a Unix server with three
accepted clients, one of which sent bytes nobody reads, and a TCP pair with
unread bytes on each side.  `ss -xp` pairs Unix sockets by their peers
(sock_diag, as we do); `ss -tn`/`ss -xn` print Recv-Q and Send-Q.
"""
import re
import subprocess
import textwrap

from tests.helpers import wait_until
from tests.test_socket_labs import lab  # noqa: F401  (fixture)

PROGRAM = textwrap.dedent("""
    import os, socket, sys, time
    from lab.report import run_dir
    path = os.path.join(run_dir(), "s.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(5)
    for i in range(3):
        if os.fork() == 0:
            c = socket.socket(socket.AF_UNIX)
            c.connect(path)
            if i == 0:
                c.send(b"x" * 100)             # never read: the server's Recv-Q, our Send-Q
            time.sleep(60)
            os._exit(0)
    conns = [srv.accept()[0] for _ in range(3)]
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    t.listen(1)
    a = socket.create_connection(t.getsockname())
    b, _ = t.accept()
    a.send(b"y" * 300)                          # unread on b's side
    b.send(b"z" * 70)                           # unread on a's side
    print("ready", path, flush=True)
    time.sleep(60)
""")

SS_UNIX = re.compile(r"^u_str\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(.*)$")
USERS = re.compile(r'pid=(\d+),fd=(\d+)')


def ss_unix(pids):
    """{inode: (peer inode, Recv-Q, Send-Q, {(pid, fd)})} of the Unix stream sockets of pids."""
    out = {}
    for line in subprocess.run(["ss", "-xapnH"], capture_output=True, text=True, check=True).stdout.splitlines():
        m = SS_UNIX.match(line)
        if not m:
            continue
        users = {(int(p), int(f)) for p, f in USERS.findall(m[8])}
        if any(p in pids for p, _ in users):
            out[int(m[5])] = (int(m[7]), int(m[2]), int(m[3]), users)
    return out


def ss_tcp(pids):
    """{inode: (Recv-Q, Send-Q)} of the TCP sockets of pids (-e gives the inode)."""
    out = {}
    for line in subprocess.run(["ss", "-tanpeH"], capture_output=True, text=True, check=True).stdout.splitlines():
        users = {int(p) for p, _ in USERS.findall(line)}
        ino = re.search(r"\bino:(\d+)", line)
        if users & pids and ino:
            state, recv_q, send_q = line.split()[:3]
            out[int(ino[1])] = (int(recv_q), None if state == "LISTEN" else int(send_q))
    return out


def ours(engine, rid):
    with engine.hub.lock:
        procs = [p for p in engine.hub.processes.values() if p["run"] == rid]
        run = next(r for r in engine.hub.runs if r["id"] == rid)
    return procs, run


def test_unix_connections_and_queues_equal_ss(engine):
    run = engine.supervisor.start_run("t", {}, ["-c", PROGRAM])
    try:
        wait_until(lambda: b"ready" in run.output, timeout=10)

        def compare():
            engine.hub.sample_now()
            procs, info = ours(engine, run.id)
            pids = {p["pid"] for p in procs}
            socks = {s["inode"]: (p["pid"], s) for p in procs for s in p["sockets"]}
            before, tcp_ss, after = ss_unix(pids), ss_tcp(pids), ss_unix(pids)
            if before != after or not before:
                return None                    # something moved while ss looked: again
            # Every Unix stream socket: its peer and queues as ss says.
            for inode, (peer, rq, wq, _) in before.items():
                _, s = socks[inode]
                assert (s.get("peer") or 0, s["recv_q"], s["send_q"]) == (peer, rq, wq), (inode, s)
            # Every TCP socket: its queues as ss says.
            for inode, queues in tcp_ss.items():
                _, s = socks[inode]
                assert (s["recv_q"], s["send_q"]) == queues, (inode, s)
            # The connections: ss's peer pairs, server end the accepted socket.
            unix = [c for c in info["connections"] if c["proto"] == "unix" and c["kind"] == "connection"]
            pairs = {frozenset((socks_of(c["client"], socks), socks_of(c["server"], socks))) for c in unix}
            assert pairs == {frozenset((i, p)) for i, (p, *_) in before.items() if p}
            assert len(unix) == 3 and all(c["note"] == "connected" for c in unix)
            assert {c["server"]["pid"] for c in unix} == {run.root}
            listen = [c for c in info["connections"] if c["proto"] == "unix" and c["kind"] == "listen"]
            assert len(listen) == 1 and listen[0]["queued"] == 0
            return unix
        unix = wait_until(compare, timeout=10, message="the sockets never held still against ss")
        # The unread 100 bytes: the client end's Send-Q counts them (with their overhead), the
        # server end's Recv-Q exactly.
        sent = [c for c in unix if c["server"]["recv_q"] == 100]
        assert len(sent) == 1 and sent[0]["client"]["send_q"] >= 100
    finally:
        engine.supervisor.stop_run(run.id)


def socks_of(end, socks):
    """The inode of a connection's end (pid, fd) among the run's sockets."""
    return next(inode for inode, (pid, s) in socks.items() if pid == end["pid"] and s["fd"] == end["fd"])


def test_the_unix_socket_labs_connections_are_ss_xps_peer_pairs(lab):
    """Three clients of the threaded unix_socket server: three pairs, exactly ss -xp's; with the
    notes' loop, the one it serves is paired and the other two wait in its backlog."""
    for serve, accepted in (("threads", 3), ("loop", 1)):
        rid, server, endpoint = lab.start("unix_socket", serve=serve)
        clients = [lab.add_client(rid) for _ in range(3)]

        def agree():
            lab.engine.hub.sample_now()
            procs = lab.processes(rid)
            conns = [c for c in lab.run(rid)["connections"] if c["proto"] == "unix" and c["kind"] == "connection"]
            theirs = ss_unix(set(procs))
            socks = {(pid, s["fd"]): s["inode"] for pid, p in procs.items() for s in p["sockets"]}
            ours = {frozenset((socks[(c["client"]["pid"], c["client"]["fd"])], socks[(c["server"]["pid"], c["server"]["fd"])]))
                    for c in conns if c["client"] and c["server"] and c["server"]["pid"]}
            ss_pairs = {frozenset((i, p)) for i, (p, *_) in theirs.items() if p in theirs}
            waiting = [c for c in conns if c["note"] == "in backlog (not yet accepted)"]
            return (ours == ss_pairs and len(ours) == accepted and len(waiting) == 3 - accepted
                    and {c["client"]["pid"] for c in conns} == set(clients)
                    and {c["server"]["pid"] for c in conns if c["server"]} == {server, None} - ({None} if not waiting else set())
                    and all(c["server"]["addr"] == endpoint["address"] for c in waiting)) and conns
        wait_until(agree, timeout=10, message=f"serve={serve}: the Unix pairs are not ss -xp's")
        listen = [c for c in lab.run(rid)["connections"] if c["proto"] == "unix" and c["kind"] == "listen"]
        assert [c["queued"] for c in listen] == [3 - accepted]       # ss -xl's Recv-Q
        lab.stop(rid, path=endpoint["address"])


def test_many_sockets_are_looked_at_in_one_dump_with_the_same_answers():
    import os
    import socket
    from lab import unixpeers
    pairs = [socket.socketpair() for _ in range(unixpeers.DUMP_FROM)]
    try:
        for i, (a, _) in enumerate(pairs):
            a.send(b"x" * (i + 1))
        inodes = {os.fstat(s.fileno()).st_ino for pair in pairs for s in pair}
        one, many = unixpeers.UnixPeers(), unixpeers.UnixPeers()
        try:
            singly = {inode: one.look(inode) for inode in inodes}
            dumped = many.look_many(inodes)          # 2 × DUMP_FROM sockets: the dump
            assert dumped == singly and len(dumped) == len(inodes)
            assert sorted(rq for _, rq, _ in dumped.values() if rq) == list(range(1, unixpeers.DUMP_FROM + 1))
        finally:
            one.close()
            many.close()
    finally:
        for a, b in pairs:
            a.close()
            b.close()
