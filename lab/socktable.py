"""The /proc/net socket tables: which socket an inode is, as ss(8) shows it.

Stdlib only.  A process's fds name socket inodes (procfs.socket_inodes);
these tables say what each inode is: protocol, local and remote address,
state.  iproute2's ss reads the same tables (or their netlink twin);
tests/test_procfs_oracle.py checks the result against `ss`.
"""
import os
import socket
import sys

_TCP_STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
    "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
    "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING", "0C": "SYN_RECV",
}
_SO_ACCEPTCON = 0x10000         # /proc/net/unix Flags: a listening socket
_UNIX_TYPES = {1: "stream", 2: "dgram", 5: "seqpacket"}    # /proc/net/unix Type: SOCK_STREAM, ...
_SS_CONNECTED = 3               # /proc/net/unix St


def _inet_addr(hexaddr, v6):
    """'0100007F:2328' -> '127.0.0.1:9000'; v6 -> '[::1]:9000'.

    The kernel prints each 32-bit word of the (network order) address as a
    native-endian integer, so every 8 hex digits are turned back into the
    machine's byte order; the port is printed as a plain number."""
    ip_hex, port_hex = hexaddr.split(":")
    raw = b"".join(int(ip_hex[i:i + 8], 16).to_bytes(4, sys.byteorder)
                   for i in range(0, len(ip_hex), 8))
    ip = socket.inet_ntop(socket.AF_INET6 if v6 else socket.AF_INET, raw)
    return f"[{ip}]:{int(port_hex, 16)}" if v6 else f"{ip}:{int(port_hex, 16)}"


def _decode(proto, rec):
    """One raw /proc/net record -> (laddr, raddr, status)."""
    if proto == "unix":
        flags, st, path, _ = rec    # raddr "": /proc/net/unix has no peer (psutil: "" too)
        return path, "", ("LISTEN" if flags & _SO_ACCEPTCON else
                          "ESTABLISHED" if st == _SS_CONNECTED else "NONE")
    local, remote, st, _ = rec
    v6 = proto.endswith("6")
    # An unconnected remote end is all zeros with port 0: shown as "".
    raddr = "" if remote.strip("0:") == "" else _inet_addr(remote, v6)
    if proto.startswith("tcp"):
        status = _TCP_STATES.get(st, "NONE")
    else:   # udp: connect()ed (ss: ESTAB) or not (ss: UNCONN, psutil: NONE)
        status = "ESTABLISHED" if st == "01" else "NONE"
    return _inet_addr(local, v6), raddr, status


class SocketTable:
    """The /proc/net/{unix,udp,udp6,tcp,tcp6} tables, each read at most once per tick.

    A table is read only when a socket inode that the tables read so far do
    not know is asked for, cheapest first: a process holding one Unix socket
    (lab init's control channel) costs a read of /proc/net/unix, never the
    walk of the TCP hash tables (about 1.2 ms each).  The tables are per
    network namespace: load() reads this process's, load(pid) that of `pid`.
    """
    ORDER = ("unix", "udp", "udp6", "tcp", "tcp6")

    def __init__(self, base="/proc/net"):
        self._base = base
        self._loaded = []               # protocols read so far, in ORDER
        self._by_inode = {}             # inode -> (proto, raw record)
        self._orphans = []              # [(proto, raw record)] of tcp sockets with inode 0

    @classmethod
    def load(cls, pid=None):
        return cls(f"/proc/{pid}/net" if pid else "/proc/net")

    @property
    def used(self):
        """True if any table was read this tick."""
        return bool(self._loaded)

    def _read(self, proto):
        self._loaded.append(proto)
        if proto == "unix":
            for line in _lines(f"{self._base}/unix"):
                # Num RefCount Protocol Flags Type St Inode [Path]; the path may hold spaces
                p = line.split(None, 7)
                path = p[7].rstrip("\n") if len(p) > 7 else ""
                self._by_inode[int(p[6])] = ("unix", (int(p[3], 16), int(p[5], 16), path, int(p[4], 16)))
            return
        for line in _lines(f"{self._base}/{proto}"):
            # sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
            p = line.split(None, 10)
            rec = (p[1], p[2], p[3], p[4])     # ..., "tx_queue:rx_queue" in hex
            inode = int(p[9])
            if inode:
                self._by_inode[inode] = (proto, rec)
            elif proto.startswith("tcp"):
                self._orphans.append((proto, rec))

    def _lookup(self, inode):
        hit = self._by_inode.get(inode)
        while hit is None and len(self._loaded) < len(self.ORDER):
            self._read(self.ORDER[len(self._loaded)])
            hit = self._by_inode.get(inode)
        return hit

    def for_fds(self, fd_inodes):
        """[{"fd","proto","laddr","raddr","status","inode","recv_q","send_q"}] sorted by fd
        (a Unix socket's also has "type": "stream", "dgram" or "seqpacket").

        fds whose inode is in none of the tables (netlink, packet, a socket
        of another namespace, one created after load()) are left out."""
        out = []
        for fd in sorted(fd_inodes):
            inode = fd_inodes[fd]
            hit = self._lookup(inode)
            if hit is None:
                continue
            laddr, raddr, status = _decode(*hit)
            recv_q, send_q = _queues(*hit, status)
            sock = {"fd": fd, "proto": hit[0], "laddr": laddr, "raddr": raddr,
                    "status": status, "inode": inode, "recv_q": recv_q, "send_q": send_q}
            if hit[0] == "unix":        # ss's u_str, u_dgr, u_seq
                sock["type"] = _UNIX_TYPES.get(hit[1][3], "other")
            out.append(sock)
        return out

    def unowned_on_ports(self, ports):
        """TCP sockets no file refers to (inode 0: TIME_WAIT, orphaned
        FIN_WAIT/LAST_ACK after close(), embryonic SYN_RECV) whose local or
        remote port is in `ports`; same dicts with fd None, inode 0."""
        if not ports:
            return []
        while len(self._loaded) < len(self.ORDER):
            self._read(self.ORDER[len(self._loaded)])
        out = []
        for proto, rec in self._orphans:
            if int(rec[0].rsplit(":", 1)[1], 16) in ports or \
               int(rec[1].rsplit(":", 1)[1], 16) in ports:
                laddr, raddr, status = _decode(proto, rec)
                recv_q, send_q = _queues(proto, rec, status)
                out.append({"fd": None, "proto": proto, "laddr": laddr, "raddr": raddr,
                            "status": status, "inode": 0, "recv_q": recv_q, "send_q": send_q})
        out.sort(key=lambda s: (s["proto"], s["laddr"], s["raddr"]))
        return out


def _queues(proto, rec, status):
    """(Recv-Q, Send-Q) in bytes as ss shows them, or None where the table cannot say.

    TCP: bytes received and not yet read, bytes sent and not yet acknowledged
    (rcv_nxt - copied_seq, write_seq - snd_una); for a listener Recv-Q is the
    accept queue's length, and ss's Send-Q (the backlog's size) is not in the
    table: None.  UDP: the memory its queued datagrams take, as ss counts it.
    Unix: not in /proc/net/unix (the sampler asks sock_diag: unixpeers.py)."""
    if proto == "unix":
        return None, None
    tx, rx = (int(x, 16) for x in rec[3].split(":"))
    return rx, None if status == "LISTEN" else tx


def _lines(path):
    """Data lines of a /proc/net table ([] if the protocol is absent)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    try:
        parts = []
        while True:
            chunk = os.read(fd, 65536)
            parts.append(chunk)
            # A seq_file read stops short of the request only at EOF or when
            # its buffer (>= 4 KiB) cannot take the next line (< 300 bytes in
            # these tables), so a chunk this short is the end: skip the read()
            # that would confirm it -- it walks the whole TCP hash table again
            # (about 1.2 ms per table on a 24 GiB machine).
            if len(chunk) < 3072:
                break
    finally:
        os.close(fd)
    return b"".join(parts).decode("utf-8", "replace").splitlines()[1:]
