"""lab.connections.pair on hand-written process objects (the real labs are in test_socket_labs)."""
from lab.connections import pair

S = "127.0.0.1:8888"


def sock(fd, laddr, raddr="", status="ESTABLISHED", inode=None, proto="tcp", peer=None, recv_q=0, send_q=0):
    s = {"fd": fd, "proto": proto, "laddr": laddr, "raddr": raddr, "status": status,
         "inode": inode if inode is not None else hash((laddr, raddr, status)) & 0xFFFFFF | 1,
         "recv_q": recv_q, "send_q": send_q}
    if proto == "unix":
        s["peer"] = peer
    return s


def unowned(laddr, raddr, status, proto="tcp"):
    return {"fd": None, "proto": proto, "laddr": laddr, "raddr": raddr, "status": status, "inode": 0,
            "recv_q": 0, "send_q": 0}


def proc(pid, *sockets):
    return {"pid": pid, "role": None, "sockets": list(sockets)}


def end(pid, fd, addr, status="ESTABLISHED", also=(), recv_q=0, send_q=0):
    return {"pid": pid, "fd": fd, "addr": addr, "status": status, "recv_q": recv_q, "send_q": send_q,
            "also": list(also)}


def conns(entries):
    return [e for e in entries if e["kind"] == "connection"]


def test_nothing():
    assert pair([], []) == []
    assert pair([proc(1)], []) == []


def test_listener_and_a_connected_client():
    server = proc(100, sock(3, S, status="LISTEN", inode=10), sock(4, S, "127.0.0.1:50000", inode=11))
    client = proc(200, sock(3, "127.0.0.1:50000", S, inode=12))
    out = pair([client, server], [])
    assert out == [
        {"kind": "listen", "proto": "tcp", "addr": S, "listen": end(100, 3, S, "LISTEN"),
         "queued": 0, "note": "listening"},
        {"kind": "connection", "proto": "tcp", "client_addr": "127.0.0.1:50000", "server_addr": S,
         "client": end(200, 3, "127.0.0.1:50000"), "server": end(100, 4, S),
         "state": "ESTABLISHED", "note": "connected"},
    ]


def test_second_client_waits_in_the_backlog():
    server = proc(100, sock(3, S, status="LISTEN", inode=10), sock(4, S, "127.0.0.1:50000", inode=11))
    first = proc(200, sock(3, "127.0.0.1:50000", S, inode=12))
    second = proc(300, sock(3, "127.0.0.1:50002", S, inode=13))
    queued = unowned(S, "127.0.0.1:50002", "ESTABLISHED")
    out = pair([server, first, second], [queued])
    assert out[0]["kind"] == "listen" and out[0]["queued"] == 1
    waiting = [c for c in conns(out) if c["client_addr"] == "127.0.0.1:50002"]
    assert waiting == [{"kind": "connection", "proto": "tcp", "client_addr": "127.0.0.1:50002",
                        "server_addr": S, "client": end(300, 3, "127.0.0.1:50002"),
                        "server": end(None, None, S), "state": "ESTABLISHED",
                        "note": "in backlog (not yet accepted)"}]
    assert [c["note"] for c in conns(out)] == ["connected", "in backlog (not yet accepted)"]


def test_time_wait_leftover_of_the_side_that_closed_first():
    server = proc(100, sock(3, S, status="LISTEN", inode=10))
    out = pair([server], [unowned("127.0.0.1:50000", S, "TIME_WAIT")])
    assert conns(out) == [{"kind": "connection", "proto": "tcp", "client_addr": "127.0.0.1:50000",
                           "server_addr": S, "client": end(None, None, "127.0.0.1:50000", "TIME_WAIT"),
                           "server": None, "state": "TIME_WAIT", "note": "time-wait leftover"}]
    # the server closed first (http): its end is the leftover
    out = pair([server], [unowned(S, "127.0.0.1:50004", "TIME_WAIT")])
    c = conns(out)[0]
    assert c["server"] == end(None, None, S, "TIME_WAIT") and c["client"] is None
    assert c["client_addr"] == "127.0.0.1:50004" and c["note"] == "time-wait leftover"


def test_half_closed():
    server = proc(100, sock(3, S, status="LISTEN", inode=10),
                  sock(4, S, "127.0.0.1:50000", status="CLOSE_WAIT", inode=11))
    out = pair([server], [unowned("127.0.0.1:50000", S, "FIN_WAIT2")])
    c = conns(out)[0]
    assert (c["state"], c["note"]) == ("FIN_WAIT2/CLOSE_WAIT", "half-closed")
    assert c["client"]["pid"] is None and c["server"]["pid"] == 100


def test_peer_outside_the_lab():
    server = proc(100, sock(3, S, status="LISTEN", inode=10), sock(4, S, "127.0.0.1:50000", inode=11))
    c = conns(pair([server], []))[0]
    assert c["client"] is None and c["server"] == end(100, 4, S)
    assert (c["client_addr"], c["note"]) == ("127.0.0.1:50000", "peer outside the lab")


def test_a_socket_shared_after_fork_counts_once():
    parent = proc(100, sock(3, S, status="LISTEN", inode=10), sock(4, S, "127.0.0.1:50000", inode=11))
    child = proc(101, sock(3, S, status="LISTEN", inode=10), sock(4, S, "127.0.0.1:50000", inode=11))
    client = proc(200, sock(3, "127.0.0.1:50000", S, inode=12))
    out = pair([child, client, parent], [])
    assert [e["kind"] for e in out] == ["listen", "connection"]
    assert out[0]["listen"] == end(100, 3, S, "LISTEN", also=[{"pid": 101, "fd": 3}])
    assert out[1]["server"] == end(100, 4, S, also=[{"pid": 101, "fd": 4}])


def test_v4_mapped_client_pairs_with_a_v4_server():
    server = proc(100, sock(3, S, status="LISTEN", inode=10), sock(4, S, "127.0.0.1:50000", inode=11))
    client = proc(200, sock(3, "[::ffff:127.0.0.1]:50000", "[::ffff:127.0.0.1]:8888", inode=12,
                            proto="tcp6"))
    c = conns(pair([server, client], []))[0]
    assert c["client"]["pid"] == 200 and c["server"]["pid"] == 100 and c["note"] == "connected"
    assert c["client_addr"] == "127.0.0.1:50000" and c["server_addr"] == S


def test_ipv6_loopback():
    s6 = "[::1]:8888"
    server = proc(100, sock(3, s6, status="LISTEN", proto="tcp6", inode=10),
                  sock(4, s6, "[::1]:50000", proto="tcp6", inode=11))
    client = proc(200, sock(3, "[::1]:50000", s6, proto="tcp6", inode=12))
    out = pair([server, client], [])
    assert out[0]["addr"] == s6 and out[1]["note"] == "connected" and out[1]["proto"] == "tcp6"


def test_without_a_listener_the_lower_port_is_the_server():
    a = proc(100, sock(4, S, "127.0.0.1:50000", inode=11))
    b = proc(200, sock(3, "127.0.0.1:50000", S, inode=12))
    c = conns(pair([b, a], []))[0]
    assert c["server"]["pid"] == 100 and c["client"]["pid"] == 200 and c["note"] == "connected"


def test_udp_unix_datagrams_and_unconnected_sockets_are_not_connections():
    p = proc(100, sock(3, "127.0.0.1:9999", status="NONE", proto="udp", inode=20),
             sock(4, "", status="NONE", proto="unix", inode=21),          # a Unix datagram socket
             sock(6, "127.0.0.1:0", status="CLOSE", inode=23))
    assert pair([p], []) == []


def test_connecting_and_closing():
    client = proc(200, sock(3, "127.0.0.1:50000", S, status="SYN_SENT", inode=12))
    assert conns(pair([client], []))[0]["note"] == "connecting"
    server = proc(100, sock(3, S, status="LISTEN", inode=10))
    out = pair([server], [unowned(S, "127.0.0.1:50002", "SYN_RECV")])
    assert conns(out)[0]["note"] == "in backlog (not yet accepted)" and out[0]["queued"] == 1
    out = pair([server], [unowned(S, "127.0.0.1:50004", "LAST_ACK")])
    assert conns(out)[0]["note"] == "closing"


def test_order_listeners_first_then_by_addresses():
    server = proc(100, sock(3, S, status="LISTEN", inode=10),
                  sock(5, S, "127.0.0.1:50002", inode=12), sock(4, S, "127.0.0.1:50001", inode=11))
    out = pair([server], [unowned("127.0.0.1:49000", S, "TIME_WAIT")])
    assert [e.get("client_addr") for e in out] == [None, "127.0.0.1:49000", "127.0.0.1:50001",
                                                   "127.0.0.1:50002"]


P = "/tmp/run/lab.sock"


def test_unix_stream_sockets_pair_by_their_peers():
    """A server, two accepted clients, one still in the backlog, and a socketpair."""
    server = proc(100, sock(3, P, status="LISTEN", inode=10, proto="unix", recv_q=1, send_q=5),
                  sock(4, P, inode=11, proto="unix", peer=21), sock(5, P, inode=12, proto="unix", peer=22))
    one = proc(200, sock(3, "", inode=21, proto="unix", peer=11, recv_q=7))
    two = proc(201, sock(3, "", inode=22, proto="unix", peer=12))
    waiting = proc(202, sock(3, "", inode=23, proto="unix", peer=None))
    pairs = proc(300, sock(6, "", inode=30, proto="unix", peer=31), sock(7, "", inode=31, proto="unix", peer=30))
    out = [e for e in pair([server, one, two, waiting, pairs], []) if e["proto"] == "unix"]
    listen = [e for e in out if e["kind"] == "listen"]
    assert listen == [{"kind": "listen", "proto": "unix", "addr": P, "queued": 1, "note": "listening",
                       "listen": end(100, 3, P, "LISTEN", recv_q=1, send_q=5)}]
    got = {(c["client"] and c["client"]["pid"], c["server"] and c["server"]["pid"], c["note"])
           for c in conns(out)}
    assert got == {(200, 100, "connected"), (201, 100, "connected"),
                   (202, None, "in backlog (not yet accepted)"), (300, 300, "socketpair")}
    waits = next(c for c in conns(out) if c["note"] == "in backlog (not yet accepted)")
    assert (waits["server"]["pid"], waits["server_addr"]) == (None, P)    # the kernel holds it, in P's queue
    first = next(c for c in conns(out) if c["client"] and c["client"]["pid"] == 200)
    assert (first["server"]["fd"], first["server_addr"], first["client"]["recv_q"]) == (4, P, 7)


def test_unix_ends_keep_their_parts_after_the_listener_closed_and_datagrams_are_none():
    accepted = proc(100, sock(4, P, inode=11, proto="unix", peer=21))     # no LISTEN socket any more
    client = proc(200, sock(3, "", inode=21, proto="unix", peer=11))
    dgram = proc(300, dict(sock(5, "", inode=30, proto="unix", peer=31), type="dgram"),
                 dict(sock(6, "", inode=31, proto="unix", peer=30), type="dgram"))
    out = conns(pair([accepted, client, dgram], []))
    assert [(c["client"]["pid"], c["server"]["pid"], c["server_addr"], c["note"]) for c in out] == \
        [(200, 100, P, "connected")]
