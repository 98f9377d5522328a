"""Which Unix socket is connected to which, and its queues: the kernel's sock_diag, one inode at a time.

Stdlib only.  /proc/net/unix names no peer and no queue, so a socketpair
(what multiprocessing's Pipe() is) or an accepted Unix connection cannot be
paired from it; ``ss -x`` asks the kernel over NETLINK_SOCK_DIAG, and so
do we, for one inode (unix_diag_get_exact: about 8 µs).  A connected
socket's peer never changes, so a peer once known is kept; a socket with
none yet (a client whose connection waits in the backlog: the server's end
has no inode until accept()) is asked again a second later.  Queues change
all the time: look() asks each time.

    peers = UnixPeers()
    peers.peer(1512575)     # -> 1512576, or None (not connected yet, gone, no netlink)
    peers.look(1512575)     # -> (1512576, recv_q, send_q): bytes as ss -x shows them
"""
import errno
import socket
import struct
import time

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
DUMP_FROM = 16          # more sockets than this to look at: one dump of them all is cheaper
UDIAG_SHOW_PEER = 0x4
UDIAG_SHOW_RQLEN = 0x10
UNIX_DIAG_PEER = 2
UNIX_DIAG_RQLEN = 4         # struct unix_diag_rqlen {u32 rqueue, wqueue}: ss -x's Recv-Q, Send-Q
_NOCOOKIE = 0xFFFFFFFF
_HDR = struct.Struct("=IHHII")                  # struct nlmsghdr
_REQ = struct.Struct("=BBHIIIII")               # struct unix_diag_req
_MSG = struct.Struct("=BBBBIII")                # struct unix_diag_msg
_ATTR = struct.Struct("=HH")                    # struct rtattr
RETRY = 1.0             # seconds before a socket with no peer yet is asked again


class UnixPeers:
    def __init__(self):
        self._sock = None
        self._broken = False        # no NETLINK_SOCK_DIAG here (a sandbox): never ask again
        self._peer = {}             # inode -> peer inode
        self._retry = {}            # inode -> when to ask again: no peer last time
        self._seq = 0

    def peer(self, inode):
        peer = self._peer.get(inode)
        if peer is not None:
            return peer
        now = time.monotonic()
        if self._retry.get(inode, 0.0) > now:
            return None
        peer = self._ask(inode, UDIAG_SHOW_PEER).get(UNIX_DIAG_PEER)
        self._know(inode, peer, now)
        return peer

    def look(self, inode):
        """(peer or None, Recv-Q, Send-Q) of a socket now; queues None if it cannot be asked.

        For a listening socket, as ss shows it: the connections waiting for
        accept() and the backlog's size; else bytes not yet read, and bytes
        sent and not yet read by the peer."""
        attrs = self._ask(inode, UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN)
        peer = self._peer.get(inode) or attrs.get(UNIX_DIAG_PEER)
        self._know(inode, peer, time.monotonic())
        rq, wq = attrs.get(UNIX_DIAG_RQLEN, (None, None))
        return peer, rq, wq

    def look_many(self, inodes):
        """{inode: (peer, Recv-Q, Send-Q)} for many sockets: one at a time for a few, else
        one dump of the namespace's Unix sockets (one netlink round trip, whatever the count)."""
        if len(inodes) <= DUMP_FROM:
            return {inode: self.look(inode) for inode in inodes}
        found = self._dump(set(inodes))
        if found is None:                   # no netlink: one at a time says None as well
            return {inode: self.look(inode) for inode in inodes}
        now, out = time.monotonic(), {}
        for inode in inodes:
            attrs = found.get(inode, {})
            peer = self._peer.get(inode) or attrs.get(UNIX_DIAG_PEER)
            self._know(inode, peer, now)
            out[inode] = (peer, *attrs.get(UNIX_DIAG_RQLEN, (None, None)))
        return out

    def _dump(self, wanted):
        """{inode: attrs} of the wanted sockets from one NLM_F_DUMP, or None without netlink."""
        if self._broken:
            return None
        try:
            if self._sock is None:
                self._open()
            self._seq += 1
            req = _REQ.pack(socket.AF_UNIX, 0, 0, 0xFFFFFFFF, 0, UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN,
                            _NOCOOKIE, _NOCOOKIE)
            self._sock.send(_HDR.pack(_HDR.size + len(req), SOCK_DIAG_BY_FAMILY,
                                      NLM_F_REQUEST | NLM_F_DUMP, self._seq, 0) + req)
            found = {}
            while True:
                data = self._sock.recv(65536)
                at = 0
                while at + _HDR.size <= len(data):
                    length, kind, _, seq, _ = _HDR.unpack_from(data, at)
                    if length < _HDR.size:
                        return found
                    if seq == self._seq:
                        if kind in (NLMSG_DONE, NLMSG_ERROR):
                            return found
                        inode = _MSG.unpack_from(data, at + _HDR.size)[4]
                        if inode in wanted:
                            found[inode] = _attrs(data, at + _HDR.size + _MSG.size, at + length)
                    at += (length + 3) & ~3
        except OSError as e:
            if e.errno in (errno.EPROTONOSUPPORT, errno.EPERM, errno.EACCES, errno.EAFNOSUPPORT):
                self._broken = True
            self.close()
            return None

    def _open(self):
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, NETLINK_SOCK_DIAG)
        self._sock.settimeout(1.0)

    def _know(self, inode, peer, now):
        if peer:
            self._peer[inode] = peer
            self._retry.pop(inode, None)
        else:
            self._retry[inode] = now + RETRY

    def keep_only(self, inodes):
        """Forget the sockets no longer held (a new socket may get an old inode one day)."""
        if len(self._peer) > len(inodes):
            self._peer = {i: p for i, p in self._peer.items() if i in inodes}
        if len(self._retry) > len(inodes):
            self._retry = {i: t for i, t in self._retry.items() if i in inodes}

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _ask(self, inode, show):
        """{attribute: value} the kernel gave for one socket ({} if none, gone or no netlink)."""
        if self._broken:
            return {}
        try:
            if self._sock is None:
                self._open()
            self._seq += 1
            req = _REQ.pack(socket.AF_UNIX, 0, 0, 0xFFFFFFFF, inode, show, _NOCOOKIE, _NOCOOKIE)
            self._sock.send(_HDR.pack(_HDR.size + len(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, self._seq, 0) + req)
            while True:
                data = self._sock.recv(8192)
                length, kind, _, seq, _ = _HDR.unpack_from(data)
                if seq == self._seq:
                    break           # an answer to an earlier, timed-out question: skip it
        except OSError as e:
            if e.errno in (errno.EPROTONOSUPPORT, errno.EPERM, errno.EACCES, errno.EAFNOSUPPORT):
                self._broken = True
            self.close()
            return {}
        if kind == NLMSG_ERROR:         # ENOENT: that socket is gone
            return {}
        return _attrs(data, _HDR.size + _MSG.size, length)


def _attrs(data, at, end):
    """The peer and queue attributes of one unix_diag_msg's rtattrs, data[at:end]."""
    attrs = {}
    end = min(end, len(data))
    while at + _ATTR.size <= end:
        alen, atype = _ATTR.unpack_from(data, at)
        if alen < _ATTR.size:
            break
        if atype == UNIX_DIAG_PEER and alen >= _ATTR.size + 4:
            attrs[atype] = struct.unpack_from("=I", data, at + _ATTR.size)[0] or None
        elif atype == UNIX_DIAG_RQLEN and alen >= _ATTR.size + 8:
            attrs[atype] = struct.unpack_from("=II", data, at + _ATTR.size)
        at += (alen + 3) & ~3
    return attrs
