"""The socket labs, for real: servers and clients under the dashboard, checked against ss.

Each test starts a lab through the REST API (POST /api/labs/<name>/start),
adds clients with the "add_client" action and reads GET /api/snapshot: the
processes, their sockets and the run's "connections" (lab.connections).
Every socket the dashboard shows must be exactly what ``ss`` shows for the
same pids, and stopping the run must leave no process, no socket on its
port (TIME_WAIT leftovers, which belong to no process, are checked to be
the only thing left and are then dropped with ``ss -K``) and no socket file.

At the end, every server runs as a student runs it: ``python -m
lab.experiments.NAME`` in a terminal (a pty), and a client connects.
"""
import os
import platform
import pty
import re
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from lab.catalog import LABS
from tests.helpers import lab_pids, proc_stat, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKLOG = "in backlog (not yet accepted)"

# ---- ss -----------------------------------------------------------------------------

SS_STATES = {"ESTAB": "ESTABLISHED", "LISTEN": "LISTEN", "TIME-WAIT": "TIME_WAIT",
             "CLOSE-WAIT": "CLOSE_WAIT", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV",
             "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2", "LAST-ACK": "LAST_ACK",
             "CLOSING": "CLOSING"}
USERS = re.compile(r'\("[^"]*",pid=(\d+),fd=(\d+)\)')


def _status(state, proto):
    if state == "UNCONN":       # psutil's names: CLOSE for tcp, NONE for udp and unix
        return "CLOSE" if proto.startswith("tcp") else "NONE"
    return SS_STATES[state]


def ss(pids):
    """{(pid, fd, proto, laddr, raddr, status)} of these pids' sockets, from ss -tuanp and ss -xap."""
    out = set()
    inet = subprocess.run(["ss", "-tuanpH"], capture_output=True, text=True, check=True).stdout
    for line in inet.splitlines():
        netid, state, _, _, local, peer = line.split()[:6]
        proto = netid + ("6" if local.startswith("[") else "")
        raddr = "" if peer.endswith(":*") else peer
        for pid, fd in USERS.findall(line):
            if int(pid) in pids:
                out.add((int(pid), int(fd), proto, local, raddr, _status(state, proto)))
    unix = subprocess.run(["ss", "-xapH"], capture_output=True, text=True, check=True).stdout
    for line in unix.splitlines():
        netid, state, _, _, local = line.split()[:5]     # our paths hold no spaces
        for pid, fd in USERS.findall(line):
            if int(pid) in pids:
                out.add((int(pid), int(fd), "unix", "" if local == "*" else local, "",
                         _status(state, "unix")))
    return out


def ss_port(port, proto="t"):
    """[(state, users)] of every tcp (or udp: proto "u") socket with this local or remote port."""
    return [(line.split()[0], USERS.findall(line)) for line in _ss_port_lines(port, proto)]


def _ss_port_lines(port, proto="t"):
    return subprocess.run(["ss", f"-{proto}anpH", f"( sport = :{port} or dport = :{port} )"],
                          capture_output=True, text=True, check=True).stdout.splitlines()


def ss_unowned(port):
    """{(proto, laddr, raddr, status)} of the tcp sockets on this port that no process holds."""
    out = set()
    for line in _ss_port_lines(port):
        state, _, _, local, peer = line.split()[:5]
        if not USERS.search(line):
            out.add(("tcp6" if local.startswith("[") else "tcp", local, peer, _status(state, "tcp")))
    return out


def drop_time_wait(port):
    subprocess.run(["ss", "-K", "-tan", "state", "time-wait", f"( sport = :{port} or dport = :{port} )"],
                   capture_output=True)


# ---- the dashboard -----------------------------------------------------------------------

class Lab:
    """One test's runs, through the Flask test client; stops them all and cleans their ports."""

    def __init__(self, client, engine):
        self.client, self.engine = client, engine
        self.runs, self.ports = [], set()

    def start(self, name, **params):
        res = self.client.post(f"/api/labs/{name}/start", json=params)
        assert res.status_code == 201, res.get_json()
        rid = res.get_json()["run"]
        self.runs.append(rid)
        endpoint = wait_until(lambda: self.client.get(f"/api/runs/{rid}").get_json()["endpoints"],
                              message=f"{name} did not announce where it listens")[0]
        if endpoint["proto"] in ("tcp", "udp"):
            self.ports.add(int(endpoint["address"].rsplit(":", 1)[1]))
        return rid, res.get_json()["pid"], endpoint

    def snapshot(self):
        return self.client.get("/api/snapshot").get_json()

    def run(self, rid, snap=None):
        return next(r for r in (snap or self.snapshot())["runs"] if r["id"] == rid)

    def processes(self, rid, snap=None):
        """{pid: process object} of the run, its session process left out."""
        snap = snap or self.snapshot()
        session = self.run(rid, snap)["session"]
        return {p["pid"]: p for p in snap["processes"] if p["run"] == rid and p["pid"] != session}

    def role(self, rid, role):
        return {pid: p for pid, p in self.processes(rid).items() if p["role"] == role}

    def connections(self, rid, **match):
        return [c for c in self.run(rid).get("connections", [])
                if all(_get(c, k) == v for k, v in match.items())]

    def add_client(self, rid, connected=True):
        """Press "add client"; return the new client's pid once it holds a connected socket."""
        before = set(self.role(rid, "client"))
        res = self.client.post(f"/api/runs/{rid}/actions/add_client")
        assert res.status_code == 200, res.get_json()

        def new_client():
            for pid, p in self.role(rid, "client").items():
                if pid not in before and (not connected or any(
                        s["status"] == "ESTABLISHED" or s["proto"].startswith("udp")
                        for s in p["sockets"])):
                    return pid
        return wait_until(new_client, message="the new client did not connect")

    def close(self, pid):
        """SIGTERM to one process, like `kill PID` (the REST signal endpoint)."""
        res = self.client.post(f"/api/processes/{pid}/signal", json={"signal": "SIGTERM"})
        assert res.status_code == 200, res.get_json()
        wait_until(lambda: proc_stat(pid) is None, message=f"client {pid} did not leave")

    def said(self, rid, needle, pid=None):
        return [e for e in list(self.engine.hub.events) if e.get("run") == rid and e.get("kind") == "output"
                and needle in e["text"] and (pid is None or e["pid"] == pid)]

    def sockets(self, rid):
        """{(pid, fd, proto, laddr, raddr, status)} of the run as the dashboard shows them."""
        return {(pid, s["fd"], s["proto"], s["laddr"], s["raddr"], s["status"])
                for pid, p in self.processes(rid).items() for s in p["sockets"]}

    def matches_ss(self, rid):
        """The dashboard's sockets of the run equal ss's for the same pids (retried while they move)."""
        def same():
            ours = self.sockets(rid)
            theirs = ss({pid for pid, *_ in ours})
            return ours if ours == theirs and ours == self.sockets(rid) else None
        return wait_until(same, timeout=5, message=f"dashboard {self.sockets(rid)} != ss")

    def unowned_matches_ss(self, rid, port):
        """The run's sockets held by no process (backlog, TIME_WAIT) equal ss's ownerless ones."""
        def same():
            ours = {(s["proto"], s["laddr"], s["raddr"], s["status"])
                    for s in self.run(rid)["unowned_sockets"]}
            return ours if ours == ss_unowned(port) else None
        return wait_until(same, timeout=5, message=f"unowned {self.run(rid)['unowned_sockets']} "
                                                   f"!= ss {ss_unowned(port)}")

    def stop(self, rid, path=None):
        """DELETE the run; then nothing of it is left: processes, sockets, port, socket file."""
        assert self.client.delete(f"/api/runs/{rid}").status_code == 200
        wait_until(lambda: not lab_pids(rid, self.engine.launcher_pid), timeout=3)
        for port in self.ports:
            # only TIME_WAIT may remain (the kernel's, owned by nobody); then drop it
            wait_until(lambda: all(state == "TIME-WAIT" and not users for state, users in ss_port(port)),
                       message=f"port {port}: {ss_port(port)}")
            drop_time_wait(port)
            wait_until(lambda: not ss_port(port) and not ss_port(port, "u"),
                       message=f"port {port} still in use: {ss_port(port)}")
        if path:
            assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))

    def cleanup(self):
        for rid in self.runs:
            self.client.delete(f"/api/runs/{rid}")
        for rid in self.runs:
            wait_until(lambda: not lab_pids(rid, self.engine.launcher_pid), timeout=3)
        for port in self.ports:
            drop_time_wait(port)


def _get(entry, key):
    """connections entry field; "server_pid" / "client_pid" reach into the ends."""
    if key.endswith("_pid"):
        end = entry.get(key[:-4])
        return end["pid"] if end else None
    return entry.get(key)


@pytest.fixture
def lab(client, engine):
    lab = Lab(client, engine)
    yield lab
    lab.cleanup()


def addr_of(lab, rid, pid):
    """The local address of a client's one TCP socket."""
    return next(s["laddr"] for s in lab.processes(rid)[pid]["sockets"] if s["proto"].startswith("tcp"))


# ---- the labs ---------------------------------------------------------------------------

def test_tcp_loop_server_serves_one_client_at_a_time(lab):
    rid, server, endpoint = lab.start("tcp_loop_server")
    first = lab.add_client(rid)
    wait_until(lambda: lab.said(rid, "收到 (received)", first))
    second = lab.add_client(rid)
    second_addr = addr_of(lab, rid, second)
    # the kernel completed the second connection, but nobody accepted it
    queued = wait_until(lambda: lab.connections(rid, client_pid=second, note=BACKLOG))[0]
    assert queued["server"]["pid"] is None and queued["server"]["fd"] is None
    assert queued["state"] == "ESTABLISHED" and queued["server_addr"] == endpoint["address"]
    listen = lab.connections(rid, kind="listen")
    assert [(l["listen"]["pid"], l["addr"], l["queued"]) for l in listen] == [(server, endpoint["address"], 1)]
    served = lab.connections(rid, client_pid=first)[0]
    assert (served["server"]["pid"], served["note"]) == (server, "connected")
    # the backlog connection is in the kernel (ss, no process) and not among the server's sockets
    port = int(endpoint["address"].rsplit(":", 1)[1])
    assert lab.unowned_matches_ss(rid, port) == {("tcp", endpoint["address"], second_addr, "ESTABLISHED")}
    ours = lab.matches_ss(rid)
    assert {s[4] for s in ours if s[0] == server} == {"", addr_of(lab, rid, first)}
    # its first line waits unread in the queued socket's receive queue (Recv-Q): no reply
    wait_until(lambda: [line for line in _ss_port_lines(port) if not USERS.search(line)
                        and second_addr in line and int(line.split()[1]) > 0])
    assert lab.said(rid, "发送 (sent)", second) and not lab.said(rid, "收到 (received)", second)

    first_addr = addr_of(lab, rid, first)
    # the first leaves ("close the first client": SIGTERM to the oldest client)
    res = lab.client.post(f"/api/runs/{rid}/actions/close_first_client")
    assert res.status_code == 200 and res.get_json()["pids"] == [first], res.get_json()
    wait_until(lambda: proc_stat(first) is None)
    # the server accepts the second
    wait_until(lambda: lab.connections(rid, client_pid=second, server_pid=server, note="connected"))
    wait_until(lambda: lab.said(rid, "收到 (received)", second))
    # the first closed first: its end lingers in TIME_WAIT, owned by nobody
    tw = wait_until(lambda: lab.connections(rid, client_addr=first_addr, note="time-wait leftover"))[0]
    assert tw["client"]["pid"] is None and tw["state"] == "TIME_WAIT"
    assert [l["queued"] for l in lab.connections(rid, kind="listen")] == [0]
    assert lab.unowned_matches_ss(rid, port) == {("tcp", first_addr, endpoint["address"], "TIME_WAIT")}
    lab.matches_ss(rid)
    lab.stop(rid)


@pytest.mark.parametrize("backlog", [0, 1])
def test_listen_n_queues_n_plus_one_connections(lab, backlog):
    """listen(n) on Linux: n + 1 completed connections wait unaccepted (listen(0): one);
    the next client's SYN is dropped and it stays in SYN_SENT (as the backlog's help says)."""
    assert "n + 1" in next(p for p in LABS["tcp_loop_server"].params if p.name == "backlog").help["en"]
    rid, server, endpoint = lab.start("tcp_loop_server", backlog=backlog)
    port = int(endpoint["address"].rsplit(":", 1)[1])
    first = lab.add_client(rid)
    wait_until(lambda: lab.said(rid, "收到 (received)", first))
    queued = [lab.add_client(rid) for _ in range(backlog + 1)]
    late = lab.add_client(rid, connected=False)

    def listen_queue():         # ss -ltn: a LISTEN socket's Recv-Q is its queue now, Send-Q its backlog
        lines = subprocess.run(["ss", "-ltnH", f"( sport = :{port} )"], capture_output=True, text=True,
                               check=True).stdout.splitlines()
        return [tuple(int(n) for n in line.split()[1:3]) for line in lines]
    wait_until(lambda: listen_queue() == [(backlog + 1, backlog)], message=f"ss -ltn: {listen_queue()}")
    # n + 1 server ends ESTABLISHED, held by no process (not accepted), one per queued client
    queued_addrs = {addr_of(lab, rid, pid) for pid in queued}
    assert {(raddr, status) for _, laddr, raddr, status in lab.unowned_matches_ss(rid, port)} == \
        {(addr, "ESTABLISHED") for addr in queued_addrs}
    # the next one never completed the handshake: SYN_SENT, in ss and in the dashboard
    wait_until(lambda: [s[5] for s in ss({late})] == ["SYN_SENT"], message=f"ss: {ss({late})}")
    assert [s["status"] for s in lab.processes(rid)[late]["sockets"]] == ["SYN_SENT"]
    assert [l["queued"] for l in lab.connections(rid, kind="listen")] == [backlog + 1]
    lab.stop(rid)


@pytest.mark.parametrize("reap", ["handler", "ignore"])
def test_tcp_fork_server_has_a_child_per_client_and_no_zombie(lab, reap):
    rid, server, endpoint = lab.start("tcp_fork_server", reap=reap)
    clients = [lab.add_client(rid) for _ in range(3)]

    def shape():
        procs = lab.processes(rid)
        children = {pid: p for pid, p in procs.items() if p["role"] == "child"}
        if len(children) != 3 or len(procs[server]["sockets"]) != 1:
            return None
        return procs, children
    procs, children = wait_until(shape, message="not three children with their sockets")
    assert all(p["ppid"] == server for p in children.values())
    assert [s["status"] for s in procs[server]["sockets"]] == ["LISTEN"]
    client_addrs = {addr_of(lab, rid, pid) for pid in clients}
    for child in children.values():     # each child: exactly one ESTABLISHED socket, to one client
        (sock,) = child["sockets"]
        assert sock["status"] == "ESTABLISHED" and sock["laddr"] == endpoint["address"]
        assert sock["raddr"] in client_addrs
    conns = lab.connections(rid, kind="connection")
    assert sorted((c["client"]["pid"], c["note"]) for c in conns) == sorted((pid, "connected") for pid in clients)
    assert {c["server"]["pid"] for c in conns} == set(children)
    lab.matches_ss(rid)

    zombies_seen = set()
    for pid in clients:
        lab.close(pid)

    def children_gone():
        procs = lab.processes(rid)
        zombies_seen.update(pid for pid, p in procs.items() if p["state"] == "Z")
        return not any(p["role"] == "child" for p in procs.values())
    wait_until(children_gone, message="a child outlived its client")
    assert all(proc_stat(pid) is None for pid in children)      # reaped, not zombies
    if reap == "handler":       # the parent collected every exit status itself
        for pid in children:
            wait_until(lambda: lab.said(rid, f"回收子进程 {pid}", server))
    else:                       # SIG_IGN: the kernel discards them; a Z never exists
        assert not zombies_seen
    # The tick that saw the last child gone may have read the TCP tables a moment before it
    # exited (its FIN not yet sent): the third TIME_WAIT shows on the next tick.
    wait_until(lambda: len(lab.connections(rid, note="time-wait leftover")) == 3,
               message="the three closed connections did not all leave a TIME_WAIT")
    lab.stop(rid)


def test_tcp_thread_server_is_one_process_with_a_thread_per_client(lab):
    rid, server, endpoint = lab.start("tcp_thread_server")
    clients = [lab.add_client(rid) for _ in range(3)]
    root = wait_until(lambda: (lambda p: p if p["threads"] == 4 and len(p["sockets"]) == 4 else None)(
        lab.processes(rid)[server]), message="not 4 threads")
    assert "l" in root["stat"] and root["stat"].startswith("S")
    assert [p for p in lab.processes(rid).values() if p["role"] != "client"] == [root]
    assert sorted(s["status"] for s in root["sockets"]) == ["ESTABLISHED"] * 3 + ["LISTEN"]
    conns = lab.connections(rid, kind="connection")
    assert sorted(c["client"]["pid"] for c in conns) == sorted(clients)
    assert {(c["server"]["pid"], c["note"]) for c in conns} == {(server, "connected")}
    lab.matches_ss(rid)
    lab.close(clients[0])
    wait_until(lambda: lab.processes(rid)[server]["threads"] == 3)
    lab.stop(rid)


# syscall numbers of the waits (x86_64, aarch64): select may be pselect6, poll ppoll, epoll_pwait
SYSCALLS = {"x86_64": {"select_server": {23, 270}, "poll_server": {7, 271},
                       "epoll_server": {232, 281, 441}},
            "aarch64": {"select_server": {72}, "poll_server": {73}, "epoll_server": {22, 441}}}
WCHAN = {"select_server": ("do_select", "poll_schedule_timeout"),
         "poll_server": ("do_sys_poll", "poll_schedule_timeout"),
         "epoll_server": ("ep_poll", "do_epoll_wait")}


@pytest.mark.parametrize("name", ["select_server", "poll_server", "epoll_server"])
def test_io_multiplexing_one_thread_holds_every_socket(lab, name):
    rid, server, endpoint = lab.start(name)
    clients = [lab.add_client(rid) for _ in range(3)]
    root = wait_until(lambda: (lambda p: p if len(p["sockets"]) == 4 else None)(lab.processes(rid)[server]))
    assert root["threads"] == 1 and "l" not in root["stat"]
    assert sorted(s["status"] for s in root["sockets"]) == ["ESTABLISHED"] * 3 + ["LISTEN"]
    assert sorted(s["raddr"] for s in root["sockets"] if s["raddr"]) == \
        sorted(addr_of(lab, rid, pid) for pid in clients)
    conns = lab.connections(rid, kind="connection")
    assert {(c["server"]["pid"], c["note"]) for c in conns} == {(server, "connected")} and len(conns) == 3
    # asleep in the kernel's select / poll / epoll (between the clients' lines)
    wait_until(lambda: (lambda p: p["state"] == "S" and p["wchan"] and p["wchan"].startswith(WCHAN[name]))(
        lab.processes(rid)[server]), message=f"{name} not seen waiting in {WCHAN[name]}")
    numbers = SYSCALLS.get(platform.machine(), {}).get(name)
    if numbers:
        def in_syscall():
            with open(f"/proc/{server}/syscall") as f:
                return int(f.read().split()[0]) in numbers
        wait_until(in_syscall, message=f"{name} not in one of the syscalls {numbers}")
    if name != "epoll_server" and platform.machine() in ("x86_64", "aarch64"):
        # select and poll share a wait channel: the dashboard tells which call it is
        names = {"select_server": {"select", "pselect6"}, "poll_server": {"poll", "ppoll"}}[name]
        wait_until(lambda: lab.processes(rid)[server].get("syscall") in names,
                   message=f"{name}: {lab.processes(rid)[server].get('wchan')} "
                           f"{lab.processes(rid)[server].get('syscall')}")
    lab.matches_ss(rid)
    lab.stop(rid)


def test_select_server_xlist_is_ready_for_urgent_data(lab):
    """"urgent byte": the client sends one byte with MSG_OOB; select returns its connection in xs
    and the server reads it with recv(1, MSG_OOB); the byte is never part of the normal stream."""
    rid, server, endpoint = lab.start("select_server")
    quiet, client = lab.add_client(rid), lab.add_client(rid)
    wait_until(lambda: lab.said(rid, "收到 (received)", client))
    replies = len(lab.said(rid, "收到 (received)", client))
    res = lab.client.post(f"/api/runs/{rid}/actions/urgent")
    assert res.status_code == 200 and res.get_json()["pids"] == [client], res.get_json()
    wait_until(lambda: lab.said(rid, "发送带外数据 MSG_OOB (sent urgent data): !", client))
    (line,) = wait_until(lambda: lab.said(rid, "xlist 就绪", server))
    assert line["text"].endswith(f"xlist 就绪 {_tuple(addr_of(lab, rid, client))}: 带外数据 MSG_OOB !  (xs: urgent data)")
    wait_until(lambda: len(lab.said(rid, "收到 (received)", client)) > replies)   # the stream goes on
    assert not [e for e in lab.said(rid, "收到 (", server) if "!" in e["text"]]   # never in a recv()
    assert proc_stat(client) is not None and proc_stat(quiet) is not None
    lab.matches_ss(rid)
    lab.stop(rid)


def _tuple(address):
    host, port = address.rsplit(":", 1)
    return str((host, int(port)))


@pytest.mark.parametrize("name, prefix", [("poll_server", "POLL"), ("epoll_server", "EPOLL")])
def test_poll_and_epoll_print_their_event_masks_as_bits(lab, name, prefix):
    """The masks as numbers and bits (位运算), for the fd the kernel says holds the client's connection;
    epoll's masks as the kernel keeps them (/proc/PID/fdinfo of the epoll fd, hex)."""
    IN, ERR, HUP = (getattr(select, prefix + e) for e in ("IN", "ERR", "HUP"))
    assert (IN, ERR, HUP) == (1, 8, 16)
    rid, server, endpoint = lab.start(name)
    client = lab.add_client(rid)
    wait_until(lambda: lab.said(rid, "收到 (received)", client))
    here = addr_of(lab, rid, client)
    (fd,) = [fd for pid, fd, _, _, raddr, _ in ss({server}) if raddr == here]        # the kernel's fd
    (listen_fd,) = [fd for pid, fd, *_, status in ss({server}) if status == "LISTEN"]
    assert lab.said(rid, f"register fd {listen_fd} (sockfd) 事件 9 = 0b01001 = {prefix}IN | {prefix}ERR", server)
    assert lab.said(rid, f"register fd {fd} 事件 25 = 0b11001 = {prefix}IN | {prefix}ERR | {prefix}HUP", server)
    assert 25 == IN | ERR | HUP and 9 == IN | ERR
    wait_until(lambda: lab.said(rid, f"events = [({fd}, 1)]: fd {fd} 事件 1 = 0b00001 = {prefix}IN", server))
    if name == "epoll_server":
        (epfd,) = [int(f) for f in os.listdir(f"/proc/{server}/fd")
                   if os.readlink(f"/proc/{server}/fd/{f}") == "anon_inode:[eventpoll]"]
        with open(f"/proc/{server}/fdinfo/{epfd}") as f:
            watched = {int(m[0]): int(m[1], 16) for m in re.findall(r"tfd:\s+(\d+) events:\s+([0-9a-f]+)", f.read())}
        # what was registered, with EPOLLERR | EPOLLHUP that epoll_ctl always adds
        assert watched == {listen_fd: (IN | ERR) | ERR | HUP, fd: (IN | ERR | HUP) | ERR | HUP} == \
            {listen_fd: 0x19, fd: 0x19}
    lab.close(client)
    wait_until(lambda: lab.said(rid, f"unregister fd {fd}", server))
    lab.stop(rid)


def test_udp_server_sockets_as_ss_shows_them(lab):
    rid, server, endpoint = lab.start("udp_server")
    assert endpoint["proto"] == "udp"
    clients = [lab.add_client(rid) for _ in range(2)]
    for pid in clients:
        wait_until(lambda: lab.said(rid, "recvfrom", pid))
    ours = lab.matches_ss(rid)
    assert {s[1:] for s in ours if s[0] == server} == {(3, "udp", endpoint["address"], "", "NONE")}
    for pid in clients:
        (sock,) = [s for s in ours if s[0] == pid]
        assert sock[2:] == ("udp", sock[3], "", "NONE") and sock[3].startswith("127.0.0.1:")
    assert lab.run(rid)["connections"] == []        # nothing connection-like about UDP
    lab.close(clients[0])
    lab.stop(rid)


def test_udp_client_without_a_server_times_out():
    """No server: the unconnected client is never told (no ConnectionRefusedError), it times out,
    though the kernel did answer with a port unreachable: a connected socket gets the error."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]       # closed again: nobody listens there now
    done = run_client("lab.experiments.udp_client", "--port", str(port), "--count", "2", "--every", "0.05",
                      "--timeout", "0.3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("sendto (sent): hello") == 2, done.stdout
    assert done.stdout.count("0.3 秒没有回复 (超时检测)") == 2, done.stdout
    assert "Refused" not in done.stdout + done.stderr and "关闭套接字, 退出" in done.stdout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as connected:
        connected.settimeout(5)
        connected.connect(("127.0.0.1", port))
        connected.send(b"hello")
        with pytest.raises(ConnectionRefusedError):
            connected.recv(1024)


def test_unix_socket_with_its_path_as_ss_shows_it(lab):
    rid, server, endpoint = lab.start("unix_socket", serve="threads")
    path = endpoint["address"]
    assert endpoint["proto"] == "unix" and stat.S_ISSOCK(os.stat(path).st_mode)
    clients = [lab.add_client(rid) for _ in range(2)]
    for pid in clients:
        wait_until(lambda: lab.said(rid, "收到 (received)", pid))
    ours = lab.matches_ss(rid)
    assert sorted(s[2:] for s in ours if s[0] == server) == sorted(
        [("unix", path, "", "LISTEN")] + [("unix", path, "", "ESTABLISHED")] * 2)
    for pid in clients:
        assert [s[2:] for s in ours if s[0] == pid] == [("unix", "", "", "ESTABLISHED")]
    # paired through sock_diag's peers (tests/test_unix_connections.py checks them against ss -xp)
    wait_until(lambda: sorted(c["client"]["pid"] for c in lab.run(rid)["connections"]
                              if c["kind"] == "connection" and c["client"]) == sorted(clients))
    assert {c["server"]["pid"] for c in lab.run(rid)["connections"] if c["kind"] == "connection"} == {server}
    lab.close(clients[0])
    lab.stop(rid, path=path)


def test_unix_socket_loop_serves_one_client_at_a_time(lab):
    """serve=loop (the default, the notes' program): the second client is connected but waits
    in the listen queue, unanswered, until the first leaves."""
    rid, server, endpoint = lab.start("unix_socket")
    path = endpoint["address"]
    first = lab.add_client(rid)
    wait_until(lambda: lab.said(rid, "收到 (received)", first))
    second = lab.add_client(rid)
    wait_until(lambda: lab.said(rid, "发送 (sent)", second))

    def listen_queue():     # ss -xl: the LISTEN line's Recv-Q is the queue
        lines = subprocess.run(["ss", "-xlH", "src", path], capture_output=True, text=True,
                               check=True).stdout.splitlines()
        return [int(line.split()[2]) for line in lines]
    wait_until(lambda: listen_queue() == [1], message=f"ss -xl: {listen_queue()}")
    ours = lab.matches_ss(rid)
    assert sorted(s[2:] for s in ours if s[0] == server) == [("unix", path, "", "ESTABLISHED"),
                                                              ("unix", path, "", "LISTEN")]
    assert [s[2:] for s in ours if s[0] == second] == [("unix", "", "", "ESTABLISHED")]
    root = lab.processes(rid)[server]
    assert root["threads"] == 1 and "l" not in root["stat"]
    assert not lab.said(rid, "收到 (received)", second)
    lab.close(first)
    wait_until(lambda: lab.said(rid, "收到 (received)", second))      # accepted at last
    wait_until(lambda: listen_queue() == [0])
    assert len(lab.said(rid, "客户端已连接, 只服务它直到它离开", server)) == 2
    lab.stop(rid, path=path)


def raw_get(address, path="/"):
    """A GET by hand: (our local address, a function reading the whole response)."""
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n".encode())
    here = "%s:%d" % sock.getsockname()

    def response():
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        sock.close()
        return data
    return here, response


def check_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert lines[0] == "HTTP/1.1 200 OK"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Length"] == str(len(body))
    assert headers["Connection"] == "close"
    assert body.startswith(b"<!doctype html>") and b"Hello from http_server" in body
    return body


def test_http_server_answers_a_real_get(lab):
    rid, server, endpoint = lab.start("http_server", delay=1.0)
    url = endpoint["url"]
    assert url == f"http://{endpoint['address']}/"
    # a request in progress is a connection: from outside the lab, to the server
    here, response = raw_get(endpoint["address"])
    conn = wait_until(lambda: lab.connections(rid, client_addr=here, server_pid=server))[0]
    assert (conn["client"], conn["note"], conn["state"]) == (None, "peer outside the lab", "ESTABLISHED")
    body = check_response(response())
    assert b"GET / HTTP/1.1" in body
    # the server closed first: its end of our connection is a TIME_WAIT leftover
    wait_until(lambda: lab.connections(rid, client_addr=here, note="time-wait leftover"))

    with urllib.request.urlopen(url, timeout=10) as res:          # what a browser gets
        assert (res.status, res.reason, res.version) == (200, "OK", 11)
        assert res.headers["Content-Type"] == "text/html; charset=utf-8"
        assert int(res.headers["Content-Length"]) == len(res.read())
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url + "nope", timeout=10)
    assert err.value.code == 404
    err.value.close()
    wait_until(lambda: lab.said(rid, "请求行 (request line): GET /nope HTTP/1.1", server))
    page = lab.client.get(f"/runs/{rid}/page/")      # the dashboard opens it for a browser elsewhere
    assert page.status_code == 200 and b"Hello from http_server" in page.data

    # "add client": the lab's own HTTP client, seen from both ends
    http_client = lab.add_client(rid, connected=False)
    wait_until(lambda: lab.connections(rid, client_pid=http_client, server_pid=server, note="connected"))
    wait_until(lambda: lab.said(rid, "响应行 (status line): HTTP/1.1 200 OK", http_client))
    lab.matches_ss(rid)
    lab.close(http_client)
    lab.stop(rid)


def test_http_server_threaded_serves_requests_side_by_side(lab):
    rid, server, endpoint = lab.start("http_server", mode="threaded", delay=1.5)
    pending = [raw_get(endpoint["address"]) for _ in range(2)]
    root = wait_until(lambda: (lambda p: p if p["threads"] == 3 else None)(lab.processes(rid)[server]),
                      message="not one thread per request")
    assert "l" in root["stat"]
    conns = lab.connections(rid, server_pid=server, note="peer outside the lab")
    assert sorted(c["client_addr"] for c in conns) == sorted(here for here, _ in pending)
    results = [None, None]
    readers = [threading.Thread(target=lambda i=i: results.__setitem__(i, pending[i][1]())) for i in range(2)]
    for t in readers:
        t.start()
    for t in readers:
        t.join(10)
    for data in results:
        check_response(data)
    wait_until(lambda: lab.processes(rid)[server]["threads"] == 1)
    lab.stop(rid)


def _response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Content-Length"] == str(len(body)) and headers["Connection"] == "close"
    return lines[0], headers["Content-Type"], body


def test_http_server_version_2_serves_its_static_directory(lab):
    """version=2: the class-based, threaded server of a static directory it wrote into the run's
    directory; its pages open through the dashboard (token or ticket); the directory goes at stop."""
    rid, server, endpoint = lab.start("http_server", version="2", delay=0.0)
    line = wait_until(lambda: lab.said(rid, "静态目录 (static dir)", server))[0]["text"]
    static = re.search(r"静态目录 \(static dir\) (\S+):", line).group(1)
    with open(f"/proc/{server}/environ", "rb") as f:
        run_dir = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)[b"PROCLAB_RUN_DIR"]
    assert os.path.dirname(static) == os.path.realpath(run_dir.decode())
    assert sorted(os.listdir(static)) == ["about.html", "index.html", "style.css"]

    def get(path):
        return _response(raw_get(endpoint["address"], path)[1]())
    for name, ctype in (("index.html", "text/html; charset=utf-8"), ("about.html", "text/html; charset=utf-8"),
                        ("style.css", "text/css; charset=utf-8")):
        with open(os.path.join(static, name), "rb") as f:
            assert get("/" + name) == ("HTTP/1.1 200 OK", ctype, f.read())
    status, _, index = get("/")
    assert status == "HTTP/1.1 200 OK" and b"Hello from http_server, version 2" in index
    assert b'href="about.html"' in index and b'href="/' not in index     # relative: they keep the ticket
    status, _, body = get("/time")
    assert status == "HTTP/1.1 200 OK" and b"<h1>time</h1>" in body
    for path in ("/missing.html", "/nothing", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2fx.html"):
        assert get(path)[0] == "HTTP/1.1 404 Not Found", path
    wait_until(lambda: lab.said(rid, "响应 (response): HTTP/1.1 200 OK, static/about.html", server))
    # a thread per request, as the notes' second version does
    assert lab.said(rid, "已连接 → 线程", server) and not lab.said(rid, "serving this request", server)

    # through the dashboard: with the token, and in a tab of its own with a ticket
    page = lab.client.get(f"/runs/{rid}/page/")
    assert page.status_code == 200 and page.data == index
    link = lab.client.post(f"/api/runs/{rid}/page").get_json()["url"]
    for rel, name in (("", "index.html"), ("about.html", "about.html"), ("style.css", "style.css")):
        res = lab.client.get(link + rel)
        with open(os.path.join(static, name), "rb") as f:
            assert res.status_code == 200 and res.data == f.read(), rel
    assert lab.client.get(link + "time").status_code == 200
    assert lab.client.get(link + "missing.html").status_code == 404
    lab.matches_ss(rid)
    lab.stop(rid)
    assert not os.path.exists(static)


def test_http_server_version_2_is_threaded(lab):
    rid, server, endpoint = lab.start("http_server", version="2", delay=1.5)
    pending = [raw_get(endpoint["address"], "/about.html") for _ in range(2)]
    wait_until(lambda: lab.processes(rid)[server]["threads"] == 3, message="not one thread per request")
    assert "l" in lab.processes(rid)[server]["stat"]
    for _, response in pending:
        assert _response(response())[0] == "HTTP/1.1 200 OK"
    wait_until(lambda: lab.processes(rid)[server]["threads"] == 1)
    lab.stop(rid)


def test_close_client_action_closes_the_newest(lab):
    rid, server, endpoint = lab.start("tcp_thread_server")
    old, new = lab.add_client(rid), lab.add_client(rid)
    res = lab.client.post(f"/api/runs/{rid}/actions/close_client")
    assert res.status_code == 200 and res.get_json()["pids"] == [new]
    wait_until(lambda: proc_stat(new) is None)
    wait_until(lambda: lab.said(rid, "关闭套接字, 退出", new))
    assert proc_stat(old) is not None
    lab.stop(rid)


# ---- in a terminal ----------------------------------------------------------------------

def lab_env():
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONIOENCODING="utf-8")
    for var in ("PROCLAB_EVENTS_FD", "PROCLAB_RUN", "PROCLAB_RUN_DIR", "PROCLAB_INIT", "PYTHONUNBUFFERED"):
        env.pop(var, None)
    return env


class Terminal:
    """A program in the foreground of a pseudo-terminal of its own, as if typed in a fresh tab."""

    def __init__(self, *argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.chdir(ROOT)
                os.execve(sys.executable, [sys.executable, *argv], lab_env())
            finally:
                os._exit(127)
        self.out, self.status = b"", None

    def text(self):
        return self.out.decode(errors="replace").replace("\r\n", "\n")

    def expect(self, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while not (m := re.search(pattern, self.text())):
            assert time.monotonic() < deadline, f"{pattern!r} not seen; output:\n{self.text()}"
            if select.select([self.fd], [], [], 0.05)[0]:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:     # EIO: the program is gone
                    time.sleep(0.05)
        return m

    def type(self, data):
        os.write(self.fd, data)

    def wait(self, timeout=10):
        deadline = time.monotonic() + timeout
        while self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                break
            assert time.monotonic() < deadline, f"{self.pid} still running; output:\n{self.text()}"
            try:
                if select.select([self.fd], [], [], 0.05)[0]:
                    self.out += os.read(self.fd, 65536)
            except OSError:
                time.sleep(0.05)
        return self.status

    def close(self):
        if self.status is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)     # the program and any child in its group
            except ProcessLookupError:
                pass
            self.wait()
        os.close(self.fd)


@pytest.fixture
def terminals():
    opened, ports = [], set()

    def open_(*argv):
        t = Terminal(*argv)
        opened.append(t)
        return t
    open_.ports = ports
    yield open_
    for t in opened:
        t.close()
    for port in ports:
        drop_time_wait(port)


def run_client(*argv):
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, env=lab_env(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize("name, args, client", [
    ("tcp_loop_server", (), "tcp_client"),
    ("tcp_fork_server", (), "tcp_client"),
    ("tcp_fork_server", ("--reap", "ignore"), "tcp_client"),
    ("tcp_thread_server", (), "tcp_client"),
    ("select_server", (), "tcp_client"),
    ("poll_server", (), "tcp_client"),
    ("epoll_server", (), "tcp_client"),
    ("udp_server", (), "udp_client"),
    ("unix_socket", (), "unix_client"),
    ("http_server", ("--delay", "0"), "http_client"),
    ("http_server", ("--threaded", "--delay", "0"), "http_client"),
    ("http_server", ("--version", "2", "--delay", "0"), "http_client"),
])
def test_in_a_terminal_a_client_connects(terminals, name, args, client):
    server = terminals("-m", f"lab.experiments.{name}", *args)
    address = server.expect(r"listening on (\S+)").group(1)
    if client == "unix_client":
        where = ("--path", address)
        assert stat.S_ISSOCK(os.stat(address).st_mode)
    else:
        port = int(address.rsplit(":", 1)[1])
        terminals.ports.add(port)
        where = ("--port", str(port))
    done = run_client(f"lab.experiments.{client}", *where, "--count", "2", "--every", "0.1")
    assert done.returncode == 0, done.stderr
    if client == "http_client":
        assert done.stdout.count("响应行 (status line): HTTP/1.1 200 OK") == 2, done.stdout
    else:
        assert done.stdout.count("(received): 收到 (got) hello") == 2, done.stdout
        server.expect(r"收到.*hello 2")
    if name == "select_server":     # the terminal is in rlist too (the notes' homework)
        server.type("你好\n".encode())
        server.expect(r"终端输入 \(typed\): 你好")
    server.type(b"\x03")            # Ctrl-C
    assert server.wait() == 0, server.text()
    if client == "unix_client":     # it removed its socket file, and the fresh directory
        assert not os.path.exists(address) and not os.path.exists(os.path.dirname(address))
    else:
        wait_until(lambda: all(state == "TIME-WAIT" and not users for state, users in ss_port(port)))
        assert not ss_port(port, "u")
    if "--version" in args:         # version 2 removed its static directory, and the fresh one it is in
        static = re.search(r"静态目录 \(static dir\) (\S+):", server.text()).group(1)
        assert not os.path.exists(static) and not os.path.exists(os.path.dirname(static))


def test_unix_socket_removes_its_file_on_sigterm(terminals, tmp_path):
    path = str(tmp_path / "lab.sock")
    server = terminals("-m", "lab.experiments.unix_socket", "--path", path)
    server.expect("listening on")
    assert stat.filemode(os.stat(path).st_mode).startswith("s")
    os.kill(server.pid, signal.SIGTERM)
    assert server.wait() == 0
    assert not os.path.exists(path) and os.path.isdir(tmp_path)     # its own --path dir stays


def test_tcp_client_reads_the_keyboard_in_the_foreground(terminals):
    server = terminals("-m", "lab.experiments.tcp_thread_server")
    port = int(server.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    terminals.ports.add(port)
    client = terminals("-m", "lab.experiments.tcp_client", "--port", str(port))
    client.expect("发送>> ")
    client.type("你好 server\n".encode())
    client.expect(r"收到 \(received\): 收到 \(got\) 你好 server")
    assert "hello 1" not in client.text()           # nothing automatic when a person types
    client.type(b"\n")                              # an empty line: leave
    client.expect("关闭套接字, 退出")
    assert client.wait() == 0
