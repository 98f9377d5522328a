"""Sample lab init and every lab process into the process objects of DESIGN.md.

Cost grows with the lab, not with the machine: the tree is walked from lab
init through each process's children list, each process's /proc files are
read at most once per tick -- only stat if it has not run since the last
tick (``procfs.ProcReader``) -- and the /proc/net tables are read once per
tick only when some lab process holds a socket.  No Flask here.
"""
import threading
import time
from typing import NamedTuple

from lab import links, procfs, proctree, socktable, unixpeers


_ADOPTED = object()     # a child of lab init: its run is in its environment


class Sample(NamedTuple):
    processes: dict         # pid -> process object, lab init's and every lab process's
    unowned: dict           # run id -> TCP sockets of its ports no process holds
    links: dict             # run id -> the channels between its processes (links.py)


class Sampler:
    def __init__(self, launcher_pid, role_of=lambda run, pid: None):
        self.launcher_pid = launcher_pid
        self.role_of = role_of
        self.reader = procfs.ProcReader()
        self._run_cache = {}        # (pid, start time) -> run id of lab init's direct children
        self.lab_ports = {}         # port -> run id, of every port a lab process listened on
        self._ports_lock = threading.Lock()    # forget_run comes from another thread
        self._seen = set()          # pids of the previous sample, to forget the gone ones
        self.unix_peers = unixpeers.UnixPeers()
        self._links_cache = {}      # run -> (what its processes held, its links)

    def _run_of_adoptee(self, obj):
        """The run of one of lab init's children (a session, an orphan, a
        helper), from its environment, once per process: the key holds its
        start time, so a reused pid is looked at afresh."""
        key = (obj["pid"], obj["started"])
        run = self._run_cache.get(key)
        if run is None:
            run = proctree.environ_value(obj["pid"], "PROCLAB_RUN")
            if run is not None:
                self._run_cache[key] = run
        return run

    def sample(self):
        """A Sample: {pid: process object} for the whole lab, unowned sockets
        and links per run.

        One walk down from lab init: each process is read once (its children
        come from the same sample's thread count), and the /proc/net tables
        are read only if some lab process turns out to hold a socket; the lab's
        Unix sockets' peers and queues are asked of sock_diag (a query each, or
        one dump for many).  Links add little: the fd table is read for the
        sockets anyway, maps only when a mapping may have changed, and a run's
        links are joined again only when what its processes hold has changed
        (docs/performance.md)."""
        objs = {}
        table = socktable.SocketTable()      # reads a /proc/net table only when asked
        todo = [(self.launcher_pid, None)]     # (pid, its run; _ADOPTED: look it up)
        for last_look in (False, True):
            while todo:
                pid, run = todo.pop()
                if pid in objs:
                    continue            # an orphan re-parented mid-walk to one read later
                obj = self.reader.read(pid, table)
                if obj is None:
                    continue            # gone between the walk and the read: normal
                obj["run"] = self._run_of_adoptee(obj) if run is _ADOPTED else run
                obj["role"] = self.role_of(obj["run"], pid)
                objs[pid] = obj
                for kid in self.reader.children(pid):
                    todo.append((kid, _ADOPTED if pid == self.launcher_pid else obj["run"]))
            if not last_look and self.launcher_pid in objs:
                # An orphan being re-parented while we walked was in neither its old
                # parent's children nor (yet) lab init's: look at lab init's once more.
                todo = [(kid, _ADOPTED)
                        for kid in self.reader.children(self.launcher_pid, fresh=True) if kid not in objs]
        unowned = {}
        with self._ports_lock:
            if table.used or self.lab_ports:
                # A connection in the backlog or in TIME_WAIT has a lab's listening
                # port at one end: that is how it is known to be the lab's.
                for obj in objs.values():
                    for sock in obj["sockets"]:
                        port = _port(sock["laddr"])
                        if port and obj["run"] is not None and sock["status"] == "LISTEN":
                            self.lab_ports[port] = obj["run"]
                for sock in table.unowned_on_ports(set(self.lab_ports)):
                    run = (self.lab_ports.get(_port(sock["laddr"]))
                           or self.lab_ports.get(_port(sock["raddr"])))
                    unowned.setdefault(run, []).append(sock)
        self._unix_sockets(objs)
        run_links = self._links(objs)
        for pid in self._seen - objs.keys():
            self.reader.forget(pid)
        self._seen = set(objs)
        if len(self._run_cache) > 2 * len(objs) + 64:
            self._run_cache = {k: v for k, v in self._run_cache.items() if k[0] in objs}
        return Sample(objs, unowned, run_links)

    def _unix_sockets(self, objs):
        """Each lab Unix socket's peer and queues, from sock_diag (/proc/net/unix has neither):
        "peer" (the connected socket's inode, or None), "recv_q" and "send_q" as ss -x."""
        socks = [sock for obj in objs.values() if obj["run"] is not None and obj["sockets"]
                 for sock in obj["sockets"] if sock["proto"] == "unix"]
        if not socks:
            self.unix_peers.keep_only(set())
            return
        inodes = {sock["inode"] for sock in socks}
        looked = self.unix_peers.look_many(inodes)       # a few asked one by one, many in one dump
        for sock in socks:
            sock["peer"], sock["recv_q"], sock["send_q"] = looked[sock["inode"]]
        self.unix_peers.keep_only(inodes)

    def _links(self, objs):
        """{run: links} (links.py), each run's worked out again only if what its
        processes hold changed: a Pool's dozen objects held by every worker are
        thousands of ends."""
        by_run, version = {}, self.reader.holds_version
        for obj in objs.values():
            if obj["run"] is not None:
                key = (obj["pid"], version(obj["pid"]))
                if obj["sockets"]:
                    key += tuple((s["inode"], s["status"], s.get("peer"))
                                 for s in obj["sockets"] if s["proto"] == "unix")
                members, keys = by_run.setdefault(obj["run"], ([], []))
                members.append(obj)
                keys.append(key)
        cache, out = {}, {}
        for run, (members, keys) in by_run.items():
            key = tuple(keys)
            hit = self._links_cache.get(run)
            found = hit[1] if hit is not None and hit[0] == key else links.of_run(members, self.reader.holds)
            cache[run] = (key, found)
            if found:
                out[run] = found
        self._links_cache = cache
        return out

    def close(self):
        """Release the /proc fds the reader holds, and the netlink socket."""
        self.reader.close()
        self.unix_peers.close()

    def forget_run(self, run_id):
        """A run ended: its ports may be reused by anyone now."""
        with self._ports_lock:
            for port in [p for p, r in self.lab_ports.items() if r == run_id]:
                del self.lab_ports[port]


def _port(addr):
    if not addr or ":" not in addr:
        return None
    try:
        return int(addr.rsplit(":", 1)[1])
    except ValueError:
        return None


def diff(old, new):
    """(upsert, remove) between two {pid: obj} samples; only changed objects are sent."""
    upsert = [obj for pid, obj in new.items() if old.get(pid) != obj]
    remove = [pid for pid in old if pid not in new]
    return upsert, remove


def lifecycle(old, new, t=None):
    """Events a student should see, derived from two consecutive samples."""
    t = time.time() if t is None else t
    events = []
    for pid, obj in new.items():
        before = old.get(pid)
        base = {"t": t, "pid": pid, "run": obj["run"], "role": obj["role"]}
        if before is None:
            if obj["state"] == "Z":     # it died before we ever saw it alive
                events.append(dict(base, kind="zombie", old=None, new=obj["stat"],
                                   text=f"{pid} is a zombie ({obj['stat']}): exited, "
                                        f"not yet waited for by {obj['ppid']}"))
            elif old:    # not on the very first sample: everything would be "new"
                events.append(dict(base, kind="seen", ppid=obj["ppid"],
                                   text=f"{pid} appeared (parent {obj['ppid']})"))
            continue
        if before["ppid"] != obj["ppid"]:
            events.append(dict(base, kind="reparented", old=before["ppid"], new=obj["ppid"],
                               text=f"{pid} re-parented: {before['ppid']} → {obj['ppid']}"))
        # R <-> S is a process waking up and dozing off between two samples:
        # noise in a log (the STAT in the view shows it), not an event.
        if before["state"] != obj["state"] and {before["state"], obj["state"]} != {"R", "S"}:
            kind = "zombie" if obj["state"] == "Z" else "state"
            events.append(dict(base, kind=kind, old=before["stat"], new=obj["stat"],
                               text=f"{pid} {before['stat']} → {obj['stat']}"
                                    + (" (zombie: exited, not yet waited for)" if kind == "zombie" else "")))
        old_socks = {(s["fd"], s["proto"]): s for s in before["sockets"]}
        new_socks = {(s["fd"], s["proto"]): s for s in obj["sockets"]}
        for key, sock in new_socks.items():
            prev = old_socks.get(key)
            if prev is None:
                events.append(dict(base, kind="socket", change="opened", socket=sock,
                                   text=f"{pid} opened {sock['proto']} {sock['laddr']} {sock['status']}"))
            elif (prev["status"], prev["raddr"]) != (sock["status"], sock["raddr"]):
                change = (f"{prev['status']} → {sock['status']}" if prev["status"] != sock["status"]
                          else f"{sock['status']}, now with {sock['raddr'] or 'no peer'}")   # the fd was reused
                events.append(dict(base, kind="socket", change="changed", socket=sock,
                                   text=f"{pid} {sock['proto']} {sock['laddr']} {change}"))
        for key, sock in old_socks.items():
            if key not in new_socks:
                events.append(dict(base, kind="socket", change="closed", socket=sock,
                                   text=f"{pid} closed {sock['proto']} {sock['laddr']}"))
    for pid, obj in old.items():
        if pid not in new:
            parent = obj["ppid"]
            what = "reaped" if obj["state"] == "Z" else "gone"
            # Lab init reports what it reaps itself; anything else was reaped by its parent.
            events.append({"t": t, "pid": pid, "run": obj["run"], "role": obj["role"],
                           "kind": what, "by": parent,
                           "text": f"{pid} reaped by its parent {parent}" if what == "reaped"
                           else f"{pid} exited and was reaped by its parent {parent}"})
    return events
