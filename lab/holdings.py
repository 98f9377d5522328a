"""What kernel objects one process holds that another can hold too: its fds and shared mappings.

Stdlib only; procfs.ProcReader calls it on a full read.  Two processes
talk through an object they both hold: a pipe (``pipe:[inode]`` in both fd
tables), a socket (``socket:[inode]``; a Unix socketpair is two sockets,
each the other's peer), or a file in /dev/shm mapped into both
(multiprocessing's Value, Array and heap are a deleted ``/dev/shm/pym-*``
file; its Lock, Semaphore and Queue's counters are POSIX semaphores,
``/dev/shm/sem.*``).  links.py joins what the processes of a run hold.

    fd_table(dfd, last) -> ({fd: socket inode}, [held object, ...])
    shared_maps(dfd)     -> [held object, ...]

A held object is {"kind": "pipe" | "shm" | "sem", "id": inode, "fd": fd or
None for a mapping, "mode": "r" | "w" | "rw", "name": path or None}.

What it can miss: a mode is read once per fd and target, so an fd that
dup2() points at the other end of the same pipe keeps its old mode until it
is closed or another fd changes.
"""
import errno
import os

_GONE = (errno.ENOENT, errno.ESRCH)
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_SHM = "/dev/shm/"
_MODES = {0: "r", 1: "w", 2: "rw"}          # O_ACCMODE of fdinfo's flags


def _shm_kind(path):
    return "sem" if os.path.basename(path).startswith("sem.") else "shm"


def _fd_mode(dfd, fd):
    """"r", "w" or "rw": how fd was opened (fdinfo's flags, octal); None if gone."""
    try:
        f = os.open(f"fdinfo/{fd}", os.O_RDONLY | os.O_CLOEXEC, dir_fd=dfd)
    except OSError as e:
        if e.errno in _GONE:
            return None
        raise
    try:
        data = os.read(f, 4096)
    finally:
        os.close(f)
    i = data.find(b"flags:")
    if i < 0:
        return None
    return _MODES.get(int(data[i + 6:data.find(b"\n", i)].strip(), 8) & 3)


def fd_table(dfd, last):
    """Socket inodes by fd, and the pipes and /dev/shm files among the fds.

    One readlink per fd, which the socket inodes need anyway.  `last` is the
    caller's dict, kept between calls: when the pipes and files are the very
    fds and targets of last time (nearly always: a pipe's inode is unique,
    and /dev/shm names are random), last time's objects are returned without
    building them again; a new one's mode costs a read of its fdinfo, once."""
    fdd = os.open("fd", _DIR, dir_fd=dfd)
    try:
        sockets, others = {}, []
        for name in os.listdir(fdd):
            try:
                link = os.readlink(name, dir_fd=fdd)
            except OSError as e:
                if e.errno in _GONE:    # fd closed since listdir
                    continue
                raise
            if link.startswith("socket:["):
                sockets[int(name)] = int(link[8:-1])
            elif link.startswith("pipe:[") or link.startswith(_SHM):
                others.append((name, link))
        key = tuple(others)         # listdir gives fds in the kernel's order: the same each time
        if last.get("key") == key:
            return sockets, last["held"]
        modes, held = last.get("modes", {}), []
        for name, link in key:
            if link.startswith("pipe:["):
                kind, ident, path = "pipe", int(link[6:-1]), None
            else:
                try:
                    ident = os.stat(name, dir_fd=fdd).st_ino    # the file the fd is open on
                except OSError as e:
                    if e.errno in _GONE:
                        continue
                    raise
                kind, path = _shm_kind(link), link
            fd = int(name)
            mode = modes.get((fd, link)) or _fd_mode(dfd, fd)
            if mode is not None:
                modes[(fd, link)] = mode
                held.append({"kind": kind, "id": ident, "fd": fd, "mode": mode, "name": path})
        wanted = {(int(name), link) for name, link in key}
        last.update(key=key, held=held, modes={k: v for k, v in modes.items() if k in wanted})
        return sockets, held
    finally:
        os.close(fdd)


def shared_maps(dfd):
    """The /dev/shm files mapped into the process, one per file (the
    first mapping's mode; "rw" if any mapping of it is writable)."""
    try:
        f = os.open("maps", os.O_RDONLY | os.O_CLOEXEC, dir_fd=dfd)
    except PermissionError:
        return []
    try:
        parts = []
        while chunk := os.read(f, 65536):
            parts.append(chunk)
    finally:
        os.close(f)
    data = b"".join(parts)
    found = {}
    at = data.find(b" " + _SHM.encode())
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        line = data[start:end if end >= 0 else None].decode("utf-8", "replace")
        # address perms offset dev inode path (the path may hold spaces)
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[5].startswith(_SHM):
            inode, perms = int(fields[4]), fields[1]
            mode = "rw" if perms[1] == "w" else "r"
            got = found.get(inode)
            if got is None:
                found[inode] = {"kind": _shm_kind(fields[5]), "id": inode, "fd": None, "mode": mode,
                                "name": fields[5]}
            elif mode == "rw":
                got["mode"] = "rw"
        at = data.find(b" " + _SHM.encode(), end if end >= 0 else len(data))
    return list(found.values())
