"""Pair a run's TCP and Unix stream sockets into connections: who talks to whom, and in what state.

    connections.pair(processes, unowned) -> [entry, ...]

`processes` are the process objects of ONE run (each with "pid" and
"sockets": [{"fd", "proto", "laddr", "raddr", "status", "inode"}, ...]);
`unowned` is that run's "unowned_sockets": TCP sockets no process holds
(inode 0, fd None) on the run's ports.  TCP sockets are paired by their
addresses; Unix ones by the "peer" inode the sampler asked sock_diag for
(/proc/net/unix names no peer), as ``ss -xp`` pairs them.  UDP has no
connections.

Every entry has "kind", "proto" and "note".  First the listening sockets:

    {"kind": "listen", "proto": "tcp", "addr": "127.0.0.1:8888",
     "listen": END, "queued": 1,
     "note": "listening"}

"queued" counts the connections on that port the kernel has completed but
no process has accept()ed yet (the backlog of listen(n)).  Then one entry
per connection, seen from either side or both:

    {"kind": "connection", "proto": "tcp",
     "client_addr": "127.0.0.1:51000", "server_addr": "127.0.0.1:8888",
     "client": END | None, "server": END | None,
     "state": "ESTABLISHED", "note": "connected"}

END is one socket as the kernel has it, and who holds it:

    {"pid": 123, "fd": 4, "addr": "127.0.0.1:51000", "status": "ESTABLISHED",
     "recv_q": 0, "send_q": 0, "also": [{"pid": 124, "fd": 4}]}

- pid and fd are None when no process holds the socket (inode 0): a
  connection waiting in the backlog, a TIME_WAIT, a FIN_WAIT after close();
- "also" lists the other processes holding the same socket (after fork(),
  before one side closes its copy), usually [];
- an end is None when its socket is not in the run: the peer is a process
  outside the lab (a browser), or that side has no socket any more (the
  passive closer's side is freed while the active closer sits in TIME_WAIT).

Which end is the server: the one whose local port is a LISTEN port of the
run; if neither is (the listener is gone), the end with the lower port.
Two sockets are the two ends of one connection when each one's local
address is the other's remote address (IPv4-mapped IPv6 addresses
``[::ffff:127.0.0.1]:p`` count as ``127.0.0.1:p``).

"state" is the status both ends share, else "CLIENT_STATUS/SERVER_STATUS"
(e.g. "FIN_WAIT2/CLOSE_WAIT").  "note", in words:

- "connected": ESTABLISHED, both ends held by processes of the run;
- "in backlog (not yet accepted)": the server end exists (ESTABLISHED or
  SYN_RECV) but no process holds it and its port is listened on in the run:
  the kernel finished the handshake, nobody called accept() yet;
- "peer outside the lab": ESTABLISHED and only one end is in the run;
- "time-wait leftover": TIME_WAIT, no process: the side that closed first
  waits 2*MSL so late packets of this connection die out;
- "half-closed": one side has closed (FIN_WAIT1/2), the other not yet
  (CLOSE_WAIT), or one of these alone;
- "closing": LAST_ACK, CLOSING, CLOSE;
- "connecting": SYN_SENT, or SYN_RECV held by nobody on a port nobody
  listens on.

Unix entries have "proto": "unix".  A listener's "addr" is its path and
"queued" what the kernel says waits for accept() (its Recv-Q).  In a
connection the server end is the socket accept() made (it bears the
listener's path as its name), the client end the one that connected
(usually nameless); a socketpair (multiprocessing's Pipe()) has no server:
"note" "socketpair", its two ends as client and server by inode.  A
connected client whose peer has no inode yet waits in a listener's backlog.

Entries come listeners first (by address), then connections by
(server_addr, client_addr).  Pure function: no /proc, no Flask.
"""

HALF_CLOSED = {"FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT"}
CLOSING = {"LAST_ACK", "CLOSING", "CLOSE"}


def _norm(addr):
    """'[::ffff:127.0.0.1]:80' -> '127.0.0.1:80'; anything else unchanged."""
    if addr.startswith("[::ffff:") and "." in addr:
        host, _, port = addr[len("[::ffff:"):].partition("]:")
        return f"{host}:{port}"
    return addr


def _port(addr):
    try:
        return int(addr.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return None


def _sockets(processes, unowned):
    """[(end dict, raw socket)], one per kernel socket (a socket several processes share counts once)."""
    by_inode, out = {}, []
    for proc in sorted(processes, key=lambda p: p["pid"]):
        for sock in proc.get("sockets") or ():
            if not sock.get("proto", "").startswith("tcp"):
                continue
            inode = sock.get("inode")
            if inode and inode in by_inode:
                by_inode[inode]["also"].append({"pid": proc["pid"], "fd": sock["fd"]})
                continue
            end = {"pid": proc["pid"], "fd": sock["fd"], "addr": sock["laddr"], "status": sock["status"],
                   "recv_q": sock.get("recv_q"), "send_q": sock.get("send_q"), "also": []}
            if inode:
                by_inode[inode] = end
            out.append((end, sock))
    for sock in unowned or ():
        if sock.get("proto", "").startswith("tcp"):
            out.append(({"pid": None, "fd": None, "addr": sock["laddr"], "status": sock["status"],
                         "recv_q": sock.get("recv_q"), "send_q": sock.get("send_q"), "also": []}, sock))
    return out


def _unix_sockets(processes):
    """{inode: (end, raw socket)} of the run's Unix stream sockets (not datagram: no status)."""
    out = {}
    for proc in sorted(processes, key=lambda p: p["pid"]):
        for sock in proc.get("sockets") or ():
            if sock.get("proto") != "unix" or sock.get("type", "stream") == "dgram" \
                    or sock.get("status") not in ("LISTEN", "ESTABLISHED"):
                continue        # a datagram socket, even connect()ed, has no connection
            inode = sock["inode"]
            if inode in out:
                out[inode][0]["also"].append({"pid": proc["pid"], "fd": sock["fd"]})
                continue
            out[inode] = ({"pid": proc["pid"], "fd": sock["fd"], "addr": sock["laddr"], "status": sock["status"],
                           "recv_q": sock.get("recv_q"), "send_q": sock.get("send_q"), "also": []}, sock)
    return out


def _pair_unix(processes):
    """(listener entries, connection entries) of the run's Unix stream sockets."""
    socks = _unix_sockets(processes)
    paths = {s["laddr"] for _, s in socks.values() if s["status"] == "LISTEN" and s["laddr"]}
    listen = [{"kind": "listen", "proto": "unix", "addr": s["laddr"], "listen": end,
               "queued": s.get("recv_q") or 0, "note": "listening"}
              for end, s in socks.values() if s["status"] == "LISTEN"]
    conns, done = [], set()
    for inode, (end, s) in socks.items():
        if s["status"] != "ESTABLISHED" or inode in done:
            continue
        done.add(inode)
        other = socks.get(s.get("peer"))
        if other is not None:
            done.add(s["peer"])
            peer_end, peer_sock = other
            # The accepted socket bears the listener's path; the one that connect()ed is
            # nameless unless it bound one (then the listening path decides, if any).
            mine, theirs = s["laddr"], peer_sock["laddr"]
            if mine and not theirs or (mine in paths and theirs not in paths):
                server, client = end, peer_end
            elif theirs and not mine or (theirs in paths and mine not in paths):
                server, client = peer_end, end
            else:               # a socketpair (both nameless), or both bound: by inode, lower first
                server, client = (end, peer_end) if inode < s["peer"] else (peer_end, end)
            note = "connected" if mine or theirs else "socketpair"
        elif s["laddr"]:
            server, client, note = end, None, "peer outside the lab"
        elif not s.get("peer") and paths:
            # Its peer has no inode yet: the listener's queue holds it until accept().  With
            # one listener in the run, that is the one; the kernel holds the server's end.
            server = {"pid": None, "fd": None, "addr": next(iter(paths)) if len(paths) == 1 else "",
                      "status": "ESTABLISHED", "recv_q": None, "send_q": None, "also": []}
            client, note = end, "in backlog (not yet accepted)"
        else:
            server, client, note = None, end, "peer outside the lab"
        conns.append({"kind": "connection", "proto": "unix",
                      "client_addr": client["addr"] if client else "",
                      "server_addr": server["addr"] if server else "",
                      "client": client, "server": server, "state": "ESTABLISHED", "note": note})
    return listen, conns


def _note(client, server, listening):
    ends = [e for e in (client, server) if e is not None]
    statuses = {e["status"] for e in ends}
    if statuses == {"ESTABLISHED"} or statuses == {"ESTABLISHED", "SYN_RECV"}:
        if server is not None and server["pid"] is None and _port(server["addr"]) in listening:
            return "in backlog (not yet accepted)"
        if "SYN_RECV" in statuses:
            return "connecting"
        return "connected" if len(ends) == 2 else "peer outside the lab"
    if statuses == {"SYN_RECV"} and server is not None and server["pid"] is None \
            and _port(server["addr"]) in listening:
        return "in backlog (not yet accepted)"
    if "TIME_WAIT" in statuses:
        return "time-wait leftover"
    if statuses & HALF_CLOSED:
        return "half-closed"
    if statuses & CLOSING:
        return "closing"
    return "connecting"


def pair(processes, unowned):
    """The run's TCP listeners and connections; see the module docstring for the format."""
    socks = _sockets(processes, unowned)
    listeners = [(end, s) for end, s in socks if end["status"] == "LISTEN"]
    listening = {_port(s["laddr"]) for _, s in listeners}
    by_addrs = {}
    for end, s in socks:
        if end["status"] != "LISTEN" and s.get("raddr"):
            by_addrs.setdefault((_norm(s["laddr"]), _norm(s["raddr"])), []).append((end, s))

    conns, done = [], set()
    for end, s in socks:
        if end["status"] == "LISTEN" or not s.get("raddr") or id(end) in done:
            continue
        local, remote = _norm(s["laddr"]), _norm(s["raddr"])
        peer = next((e for e, _ in by_addrs.get((remote, local), ()) if id(e) not in done), None)
        done.add(id(end))
        if peer is not None:
            done.add(id(peer))
        lp, rp = _port(local), _port(remote)
        if lp in listening and rp not in listening:
            is_server = True
        elif rp in listening and lp not in listening:
            is_server = False
        else:
            is_server = (lp or 0) < (rp or 0)
        server, client = (end, peer) if is_server else (peer, end)
        server_addr, client_addr = (local, remote) if is_server else (remote, local)
        statuses = [e["status"] for e in (client, server) if e is not None]
        state = statuses[0] if len(set(statuses)) == 1 else "/".join(statuses)
        conns.append({"kind": "connection", "proto": s["proto"],
                      "client_addr": client_addr, "server_addr": server_addr,
                      "client": client, "server": server, "state": state,
                      "note": _note(client, server, listening)})

    out = []
    for end, s in sorted(listeners, key=lambda item: item[0]["addr"]):
        queued = sum(1 for c in conns if c["note"] == "in backlog (not yet accepted)"
                     and _port(c["server_addr"]) == _port(s["laddr"]))
        out.append({"kind": "listen", "proto": s["proto"], "addr": s["laddr"], "listen": end,
                    "queued": queued, "note": "listening"})
    unix_listen, unix_conns = _pair_unix(processes)
    out += sorted(unix_listen, key=lambda e: e["addr"])
    conns += unix_conns
    conns.sort(key=lambda c: (c["server_addr"], c["client_addr"], (c["client"] or c["server"])["pid"] or 0))
    return out + conns
