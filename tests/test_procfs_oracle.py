"""lab.procfs against the real tools: every field as `ps` and `ss` print it.

Each test starts real processes in one interesting state and compares
procfs's object with `ps -o … -p PID` (and `ss` for sockets) field by field.
A comparison reads procfs, runs ps, reads procfs again: a field procfs saw
unchanged on both sides of ps must equal what ps printed, at once and
exactly; only a field that changed during the window (the process moved)
makes the comparison go round again, within a deadline.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from lab import procfs, signals, socktable
from tests.helpers import wait_until
from tests.procs import PY

PS_COLS = ["pid", "ppid", "pgid", "sid", "tpgid", "stat", "ni", "priority", "nlwp", "rss",
           "caught", "ignored", "blocked", "pending", "wchan"]
PS_FORMAT = ",".join(f"{c}=" for c in PS_COLS[:-1]) + ",wchan:64="
MASKS = ("caught", "ignored", "blocked", "pending")
IS_ROOT = os.geteuid() == 0


# --- the ps oracle ---------------------------------------------------------------

def ps_view(pid):
    """ps's row for pid as {column: value}, masks decoded to names; None if gone."""
    # -ww: without a terminal ps assumes 80 columns and then prints only the
    # low 32 bits of each signal mask ("<7ffbfeff"); unlimited width gives 64.
    out = subprocess.run(["ps", "-ww", "-o", PS_FORMAT, "-p", str(pid)],
                         capture_output=True, text=True).stdout.split()
    if not out:
        return None
    assert len(out) == len(PS_COLS), f"unexpected ps output: {out}"
    row = dict(zip(PS_COLS, out))
    for key in ("pid", "ppid", "pgid", "sid", "tpgid", "priority", "nlwp", "rss"):
        row[key] = int(row[key])
    for key in MASKS:
        assert not row[key].startswith("<"), f"ps cut the {key} mask short: {row[key]}"
        row[key] = signals.names_in_mask(int(row[key], 16))
    return row


def ps_wchan(name):
    """What ps prints for a wchan name (procps lookup_wchan: '-' for none,
    a leading '.' and leading underscores dropped)."""
    if name is None:
        return "-"
    return name.lstrip(".").lstrip("_")


def our_view(obj):
    """procfs's object in ps's columns."""
    return {
        "pid": obj["pid"], "ppid": obj["ppid"], "pgid": obj["pgid"], "sid": obj["sid"],
        "tpgid": obj["tpgid"], "stat": obj["stat"],
        "ni": "-" if obj["nice"] is None else str(obj["nice"]),
        "priority": obj["priority"], "nlwp": obj["threads"], "rss": obj["rss"] // 1024,
        **{key: obj["signals"][key] for key in MASKS},
        "wchan": ps_wchan(obj["wchan"]),
    }


def _table(pid, ours, theirs, keys):
    rows = [f"  {'field':9} {'procfs':40} ps"]
    rows += [f"{'!' if ours[k] != theirs[k] else ' '} {k:9} {str(ours[k]):40} {theirs[k]}" for k in keys]
    return f"pid {pid}: procfs disagrees with ps\n" + "\n".join(rows)


def assert_matches_ps(reader, pid, timeout=5.0):
    """Compare every ps column; return procfs's (second) object."""
    deadline = time.monotonic() + timeout
    while True:
        a = reader.read(pid)
        theirs = ps_view(pid)
        b = reader.read(pid)
        assert a and b and theirs, f"pid {pid} vanished during the comparison"
        va, vb = our_view(a), our_view(b)
        stable = [k for k in PS_COLS if va[k] == vb[k]]
        wrong = [k for k in stable if va[k] != theirs[k]]
        assert not wrong, _table(pid, vb, theirs, PS_COLS)
        if len(stable) == len(PS_COLS):
            return b
        if time.monotonic() > deadline:
            moving = [k for k in PS_COLS if k not in stable]
            raise AssertionError(f"pid {pid}: {moving} kept changing for {timeout} s")
        time.sleep(0.02)


def state_is(reader, pid, letter):
    return lambda: (reader.read(pid) or {}).get("state") == letter


def asleep(reader, child):
    """Wait until a child that said ready() sleeps in idle(), and return it."""
    wait_until(state_is(reader, child.pid, "S"), message=f"pid {child.pid} never slept")
    return child


# --- processes in every interesting state ---------------------------------------------

def test_running_busy_loop(family, reader):
    child = family.spawn("ready()\nwhile True: pass")
    wait_until(state_is(reader, child.pid, "R"))
    assert procfs.ProcReader().read(child.pid)["cpu"] == 0.0     # no previous read yet
    obj = assert_matches_ps(reader, child.pid)
    assert obj["stat"] == "R" and obj["wchan"] is None
    time.sleep(0.3)
    cpu = reader.read(child.pid)["cpu"]
    assert 10.0 < cpu <= 110.0, f"a busy loop uses (most of) one core, procfs says {cpu}%"


def test_sleeping(family, reader):
    code = "ready()\nidle()"
    t0 = time.time()
    child = family.spawn(code)
    wait_until(state_is(reader, child.pid, "S"))
    obj = assert_matches_ps(reader, child.pid)
    assert obj["stat"] == "S" and obj["wchan"]
    assert obj["cmdline"][0] == PY and obj["cmdline"][1] == "-c" and obj["cmdline"][2].endswith(code)
    assert obj["name"] == ps_comm(child.pid)
    assert abs(obj["started"] - t0) < 2.0
    assert obj["ppid"] == os.getpid() and obj["pgid"] == child.pid    # own process group
    time.sleep(0.2)
    assert reader.read(child.pid)["cpu"] < 5.0


def test_stopped_then_continued(family, reader):
    child = family.spawn("ready()\nidle()")
    os.kill(child.pid, signal.SIGSTOP)
    wait_until(state_is(reader, child.pid, "T"))
    assert assert_matches_ps(reader, child.pid)["stat"] == "T"
    os.kill(child.pid, signal.SIGCONT)
    wait_until(state_is(reader, child.pid, "S"))
    assert assert_matches_ps(reader, child.pid)["stat"] == "S"


def test_zombie_then_reaped(family, reader):
    child = family.spawn("ready()")         # exits at once; we do not wait() yet
    wait_until(state_is(reader, child.pid, "Z"))
    obj = assert_matches_ps(reader, child.pid)
    assert obj["stat"] == "Z" and obj["cmdline"] == [] and obj["rss"] == 0
    assert obj["wchan"] is None and obj["name"] == ps_comm(child.pid)
    child.popen.wait()
    assert reader.read(child.pid) is None
    assert procfs.socket_inodes(child.pid) == {}
    reader.forget(child.pid)


@pytest.mark.parametrize("nice, flag", [(5, "N"), (-5, "<")])
def test_niced(family, reader, nice, flag):
    if nice < 0 and not IS_ROOT:
        pytest.skip("a negative nice needs root")
    child = asleep(reader, family.spawn(f"os.nice({nice})\nready()\nidle()"))
    obj = assert_matches_ps(reader, child.pid)
    assert obj["stat"] == "S" + flag and obj["nice"] == nice and obj["priority"] == 20 + nice


def test_session_leader(family, reader):
    child = asleep(reader, family.spawn("ready()\nidle()", start_new_session=True))
    obj = assert_matches_ps(reader, child.pid)
    assert obj["stat"] == "Ss" and obj["sid"] == obj["pgid"] == child.pid and obj["tpgid"] == -1


def test_multithreaded(family, reader):
    child = family.spawn("""
        stop = threading.Event()
        for _ in range(3):
            threading.Thread(target=stop.wait, daemon=True).start()
        ready()
        idle()
    """)
    obj = assert_matches_ps(reader, asleep(reader, child).pid)
    assert obj["stat"] == "Sl" and obj["threads"] == 4


TERMINAL_JOBS = """
    import fcntl, termios
    tty = os.open(sys.argv[1], os.O_RDWR)
    fcntl.ioctl(tty, termios.TIOCSCTTY, 0)         # our controlling terminal
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # may hand the foreground on
    r, w = os.pipe()

    def job(body):                                 # a job in its own group, as a shell does
        pid = os.fork()
        if pid == 0:
            os.setpgid(0, 0)
            body()
            os._exit(0)
        os.setpgid(pid, pid)
        return pid

    def foreground():
        z = os.fork()
        if z == 0:
            os._exit(3)                            # a zombie of the foreground group
        os.write(w, b"%d\\n" % z)
        time.sleep(3600)

    fg = job(foreground)
    bg = job(lambda: time.sleep(3600))
    os.tcsetpgrp(tty, fg)
    ready(fg=fg, bg=bg, zombie=int(os.read(r, 32)))
    idle()
"""


def test_terminal_foreground_and_background(family, reader):
    _, slave = family.openpty()
    leader = family.spawn(TERMINAL_JOBS, slave, start_new_session=True)
    fg, bg, zombie = (leader.info[k] for k in ("fg", "bg", "zombie"))
    wait_until(state_is(reader, zombie, "Z"))
    wait_until(lambda: all(state_is(reader, p, "S")() for p in (leader.pid, fg, bg)))
    expected = {leader.pid: "Ss", fg: "S+", bg: "S", zombie: "Z+"}
    for pid, stat in expected.items():
        obj = assert_matches_ps(reader, pid)
        assert obj["stat"] == stat, f"pid {pid}: {obj['stat']} != {stat}"
        assert obj["sid"] == leader.pid and obj["tpgid"] == fg


def test_mlocked(family, reader):
    child = family.spawn("""
        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.mlockall(1) == 0                 # MCL_CURRENT
        ready(ok=ok, errno=ctypes.get_errno())
        idle()
    """)
    if not child.info["ok"]:
        pytest.skip(f"mlockall failed here: {os.strerror(child.info['errno'])}")
    obj = assert_matches_ps(reader, asleep(reader, child).pid)
    assert obj["stat"] == "SL"


def test_signal_dispositions_and_pending(family, reader):
    child = family.spawn("""
        handler = lambda *a: None
        signal.signal(signal.SIGRTMIN + 2, handler)
        signal.signal(signal.SIGUSR2, handler)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGWINCH, signal.SIGRTMIN + 3})
        # thread-directed: SigPnd only, which `ps -o pending` does not show
        signal.pthread_kill(threading.main_thread().ident, signal.SIGWINCH)
        ready()
        idle()
    """)
    asleep(reader, child)
    os.kill(child.pid, signal.SIGUSR1)
    os.kill(child.pid, signal.SIGRTMIN + 3)
    wait_until(lambda: len(reader.read(child.pid)["signals"]["pending"]) == 2)
    sig = assert_matches_ps(reader, child.pid)["signals"]
    assert {"SIGINT", "SIGUSR2", "SIGRTMIN+2"} <= set(sig["caught"])
    assert {"SIGHUP", "SIGPIPE"} <= set(sig["ignored"])
    assert sig["blocked"] == ["SIGUSR1", "SIGWINCH", "SIGRTMIN+3"]
    assert sig["pending"] == ["SIGUSR1", "SIGRTMIN+3"]
    with open(f"/proc/{child.pid}/status") as f:
        sigpnd = re.search(r"^SigPnd:\s*(\w+)", f.read(), re.M).group(1)
    assert signals.names_in_mask(int(sigpnd, 16)) == ["SIGWINCH"]


def test_idle_policy_has_no_nice(family, reader):
    child = asleep(reader, family.spawn(
        "os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\nready()\nidle()"))
    obj = assert_matches_ps(reader, child.pid)
    assert obj["nice"] is None and obj["stat"] == "S"


def test_realtime_policy(family, reader):
    child = family.spawn("""
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
            ready(ok=True)
        except OSError as e:
            ready(ok=False, err=str(e))
        idle()
    """)
    if not child.info["ok"]:
        pytest.skip(f"SCHED_FIFO not allowed here: {child.info['err']}")
    obj = assert_matches_ps(reader, asleep(reader, child).pid)
    assert obj["nice"] is None and obj["priority"] == -11


def test_comm_with_spaces_and_parens(family, reader):
    code = 'ctypes.CDLL(None).prctl(15, b"a) b (c", 0, 0, 0)\nready()\nidle()'   # PR_SET_NAME
    child = asleep(reader, family.spawn(code))
    obj = assert_matches_ps(reader, child.pid)
    assert obj["name"] == "a) b (c" == ps_comm(child.pid)


def test_cmdline_follows_exec(family, reader):
    child = family.spawn("""
        ready()
        sys.stdin.readline()
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(3600)", "after"])
    """)
    before = reader.read(child.pid)
    child.popen.stdin.write(b"go\n")
    child.popen.stdin.flush()
    # same pid, same start time, same comm: the cache must still notice the exec
    after = wait_until(lambda: (o := reader.read(child.pid)) and o["cmdline"][-1:] == ["after"] and o)
    assert after["started"] == before["started"] and after["name"] == before["name"]


def test_gone_process_reads_as_none(reader):
    assert reader.read(2 ** 22 + 1) is None
    assert procfs.socket_inodes(2 ** 22 + 1) == {}


def test_whole_system_stat_matches_ps(reader):
    """Every process on the machine, kernel threads included (I, I<, …).

    These processes are not ours to hold still, so on a disagreement ps and
    procfs are asked again, up to 20 times, and only a disagreement that never
    goes away fails; this test process is left out (R while it reads itself)."""
    cols = ["pid", "ppid", "pgid", "sid", "tpgid", "stat", "ni", "priority", "nlwp", *MASKS]
    out = subprocess.run(["ps", "-ww", "-e", "-o", ",".join(f"{c}=" for c in cols)],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()]
    assert len(rows) > 10 and all(len(r) == len(cols) for r in rows), out
    for row in rows:
        pid = int(row[0])
        if pid == os.getpid():
            continue
        theirs = dict(zip(cols, row))
        for key in MASKS:
            theirs[key] = signals.names_in_mask(int(theirs[key], 16))
        for attempt in range(20):
            obj = reader.read(pid)
            if obj is None:
                break               # gone: nothing to compare
            ours = {k: (v if k in MASKS else str(v)) for k, v in our_view(obj).items()}
            if all(ours[c] == theirs[c] for c in cols):
                break
            time.sleep(0.01)
            again = ps_view(pid)    # one more ps, compared strictly with procfs around it
            if again is None:
                break
            theirs = {c: (again[c] if c in MASKS else str(again[c])) for c in cols}
        else:
            raise AssertionError(_table(pid, ours, theirs, cols))


def ps_comm(pid):
    return subprocess.run(["ps", "-ww", "-o", "comm=", "-p", str(pid)],
                          capture_output=True, text=True).stdout.rstrip("\n")


# --- sockets against ss ----------------------------------------------------------------

SOCKETS = """
    d = sys.argv[1]
    AF6, UDP = socket.AF_INET6, socket.SOCK_DGRAM
    keep = {}
    def sock(name, *a):
        s = keep[name] = socket.socket(*a)
        return s
    lst = sock("tcp_listen"); lst.bind(("127.0.0.1", 0)); lst.listen()
    port = lst.getsockname()[1]
    sock("tcp6_listen", AF6).bind(("::1", 0)); keep["tcp6_listen"].listen()
    sock("tcp_client").connect(("127.0.0.1", port))
    keep["tcp_accepted"] = lst.accept()[0]
    sock("tcp6_mapped", AF6).connect(("::ffff:127.0.0.1", port))
    keep["tcp_accepted2"] = lst.accept()[0]
    t = socket.create_connection(("127.0.0.1", port))   # active close -> TIME_WAIT
    ts = lst.accept()[0]
    t.close()
    ts.recv(1)
    ts.close()
    sock("udp", socket.AF_INET, UDP).bind(("127.0.0.1", 0))
    sock("udp_connected", socket.AF_INET, UDP).connect(keep["udp"].getsockname())
    sock("udp6", AF6, UDP).bind(("::1", 0))
    ux = sock("unix_listen", socket.AF_UNIX); ux.bind(os.path.join(d, "lab.sock")); ux.listen()
    sock("unix_client", socket.AF_UNIX).connect(os.path.join(d, "lab.sock"))
    keep["unix_accepted"] = ux.accept()[0]
    sock("unix_abstract", socket.AF_UNIX).bind("\\0proclab-%d" % os.getpid())
    keep["unix_abstract"].listen()
    keep["pair_a"], keep["pair_b"] = socket.socketpair()
    sock("unix_dgram", socket.AF_UNIX, UDP)
    sock("unix_spaced", socket.AF_UNIX).bind(os.path.join(d, "with space.sock"))
    for i in range(40):     # /proc/net/tcp longer than one 4 KiB seq_file read
        sock(f"tcp_more{i}").bind(("127.0.0.1", 0)); keep[f"tcp_more{i}"].listen()
    ready(port=port, fds={k: s.fileno() for k, s in keep.items()})
    idle()
"""

SS_STATES = {"ESTAB": "ESTABLISHED", "LISTEN": "LISTEN", "TIME-WAIT": "TIME_WAIT",
             "CLOSE-WAIT": "CLOSE_WAIT", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV",
             "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2", "LAST-ACK": "LAST_ACK",
             "CLOSING": "CLOSING"}
USERS = re.compile(r'\("[^"]*",pid=(\d+),fd=(\d+)\)')
UNIX_LINE = re.compile(r"^(\S+)\s+(\S+)\s+\d+\s+\d+\s+(.*?)\s(\d+)\s+(\S+)\s(\d+)\s")


def _ss_status(state, proto):
    if state == "UNCONN":       # psutil's names: CLOSE for tcp, NONE for udp and unix
        return "CLOSE" if proto.startswith("tcp") else "NONE"
    return SS_STATES[state]


def ss_inet():
    """[(users {(pid, fd)}, socket dict)] of every tcp/udp socket, as ss prints them."""
    out = []
    text = subprocess.run(["ss", "-tanupeH"], capture_output=True, text=True, check=True).stdout
    for line in text.splitlines():
        netid, state, recv_q, send_q, local, peer = line.split()[:6]
        proto = netid + ("6" if local.startswith("[") else "")
        ino = re.search(r"\bino:(\d+)", line)
        status = _ss_status(state, proto)
        out.append(({(int(p), int(f)) for p, f in USERS.findall(line)}, {
            "proto": proto, "laddr": re.sub(r":\*$", ":0", local),
            "raddr": "" if peer.endswith(":*") else peer,
            "status": status, "inode": int(ino.group(1)) if ino else 0,
            # a listener's Send-Q in ss is its backlog's size, which /proc/net/tcp does not hold
            "recv_q": int(recv_q), "send_q": None if status == "LISTEN" else int(send_q)}))
    return out


def ss_unix():
    out = []
    text = subprocess.run(["ss", "-xapH"], capture_output=True, text=True, check=True).stdout
    for line in text.splitlines():
        m = UNIX_LINE.match(line)
        assert m, f"unparsed ss line: {line!r}"
        netid, state, local, inode, peer, _ = m.groups()
        assert peer == "*", line     # ss names no unix peer address either
        out.append(({(int(p), int(f)) for p, f in USERS.findall(line)}, {
            "proto": "unix", "laddr": "" if local == "*" else local, "raddr": "",
            "status": _ss_status(state, "unix"), "inode": int(inode),
            "recv_q": None, "send_q": None,      # not in /proc/net/unix: the sampler asks sock_diag
            "type": {"u_str": "stream", "u_dgr": "dgram", "u_seq": "seqpacket"}[netid]}))
    return out


def ss_for(pid):
    """{fd: socket dict} of pid's sockets according to ss."""
    socks = {}
    for users, sock in ss_inet() + ss_unix():
        for upid, fd in users:
            if upid == pid:
                socks[fd] = dict(sock, fd=fd)
    return socks


def our_sockets(pid):
    return {s["fd"]: s for s in socktable.SocketTable.load().for_fds(procfs.socket_inodes(pid))}


def _has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback (::1) here")
def test_sockets_match_ss(family, reader):
    tmp = family.tempdir()
    child = family.spawn(SOCKETS, tmp)
    port, fds = child.info["port"], child.info["fds"]
    family.on_close(lambda: subprocess.run(     # drop our TIME_WAIT leftover
        ["ss", "-K", "-tan", "state", "time-wait", "(", "dport", "=", f":{port}", ")"],
        capture_output=True))
    deadline = time.monotonic() + 5
    while True:
        a, theirs, b = our_sockets(child.pid), ss_for(child.pid), our_sockets(child.pid)
        if a == b:
            break
        assert time.monotonic() < deadline, "sockets kept changing"
    assert sorted(theirs) == sorted(b) == sorted(fds.values()), \
        f"fds: procfs {sorted(b)}, ss {sorted(theirs)}, the child's {sorted(fds.values())}"
    for fd in b:
        assert b[fd] == theirs[fd], f"fd {fd}:\n  procfs {b[fd]}\n  ss     {theirs[fd]}"
    assert reader.read(child.pid, socktable.SocketTable.load())["sockets"] == [b[fd] for fd in sorted(b)]

    def at(name):
        return b[fds[name]]
    lo = f"127.0.0.1:{port}"
    assert at("tcp_listen")["laddr"] == lo and at("tcp_listen")["raddr"] == ""
    assert (at("tcp_listen")["status"], at("tcp6_listen")["status"]) == ("LISTEN", "LISTEN")
    assert at("tcp6_listen")["laddr"].startswith("[::1]:") and at("tcp6_listen")["proto"] == "tcp6"
    assert at("tcp_client")["raddr"] == lo and at("tcp_client")["status"] == "ESTABLISHED"
    assert at("tcp_accepted")["raddr"] == at("tcp_client")["laddr"]
    assert at("tcp6_mapped")["raddr"] == f"[::ffff:127.0.0.1]:{port}"
    assert (at("udp")["status"], at("udp_connected")["status"]) == ("NONE", "ESTABLISHED")
    assert at("udp6")["proto"] == "udp6" and at("udp6")["laddr"].startswith("[::1]:")
    path = os.path.join(tmp, "lab.sock")
    assert (at("unix_listen")["laddr"], at("unix_listen")["status"]) == (path, "LISTEN")
    assert (at("unix_accepted")["laddr"], at("unix_accepted")["status"]) == (path, "ESTABLISHED")
    assert (at("unix_client")["laddr"], at("unix_client")["status"]) == ("", "ESTABLISHED")
    assert at("unix_abstract")["laddr"] == f"@proclab-{child.pid}"
    assert at("pair_a")["status"] == at("pair_b")["status"] == "ESTABLISHED"
    assert (at("unix_dgram")["laddr"], at("unix_dgram")["status"]) == ("", "NONE")
    assert at("unix_spaced")["laddr"] == os.path.join(tmp, "with space.sock")

    # the closed connection's TIME_WAIT: no process owns it, ss shows it without users
    tw = wait_until(lambda: socktable.SocketTable.load().unowned_on_ports({port}))
    assert [s["status"] for s in tw] == ["TIME_WAIT"] and tw[0]["raddr"] == lo and tw[0]["fd"] is None
    ss_unowned = sorted((s["proto"], s["laddr"], s["raddr"], s["status"])
                        for users, s in ss_inet() if not users and s["inode"] == 0
                        and (s["laddr"].endswith(f":{port}") or s["raddr"].endswith(f":{port}")))
    assert ss_unowned == [(s["proto"], s["laddr"], s["raddr"], s["status"]) for s in tw]


# --- pure decoding ---------------------------------------------------------------------

@pytest.mark.parametrize("args, stat", [
    (("S", 0, 0, 10, 10, 1, 10, 10), "Ss+"),
    (("S", 0, 0, 1, 10, 3, 10, 99), "Sl"),
    (("R", -5, 0, 1, 10, 1, 10, -1), "R<"),
    (("S", 19, 8, 1, 10, 1, 10, -1), "SNL"),
    (("Z", 0, 0, 1, 10, 1, 7, 7), "Z+"),
    (("I", -20, 0, 0, 10, 1, 0, -1), "I<"),
    (("T", 0, 0, 10, 10, 2, 10, -1), "Tsl"),
])
def test_stat_flags(args, stat):
    assert procfs.stat_flags(*args) == stat


@pytest.mark.skipif(sys.byteorder != "little", reason="/proc/net hex words are native-endian")
def test_inet_address_decoding():
    dec = socktable._inet_addr
    assert dec("0100007F:2328", False) == "127.0.0.1:9000"
    assert dec("00000000000000000000000001000000:0050", True) == "[::1]:80"
    assert dec("0000000000000000FFFF00000100007F:1F90", True) == "[::ffff:127.0.0.1]:8080"
    assert dec("B80D0120000000000000000001000000:0016", True) == "[2001:db8::1]:22"
