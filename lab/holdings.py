"""What kernel objects one process holds that another can hold too: its fds and shared mappings.

Stdlib only; procfs.ProcReader calls it on a full read.  Two processes
talk through an object they both hold: a pipe (``pipe:[inode]`` in both fd
tables), a socket (``socket:[inode]``; a Unix socketpair is two sockets,
each the other's peer), or a file in /dev/shm mapped into both
(multiprocessing's Value, Array and heap are a deleted ``/dev/shm/pym-*``
file; its Lock, Semaphore and Queue's counters are POSIX semaphores,
``/dev/shm/sem.*``).  links.py joins what the processes of a run hold.

    fd_table(dfd, modes) -> ({fd: socket inode}, [held object, ...])
    shared_maps(dfd)     -> [held object, ...]

A held object is {"kind": "pipe" | "shm" | "sem", "id": inode, "fd": fd or
None for a mapping, "mode": "r" | "w" | "rw", "name": path or None}.
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


def fd_table(dfd, modes):
    """Socket inodes by fd, and the pipes and /dev/shm files among the fds.

    One readlink per fd, which the socket inodes need anyway; a pipe's or
    file's mode costs a read of its fdinfo, once: `modes` ({(fd, link): mode},
    the caller's, kept from the last call) is updated in place, its stale
    entries dropped."""
    fdd = os.open("fd", _DIR, dir_fd=dfd)
    try:
        sockets, held, seen = {}, [], set()
        for name in os.listdir(fdd):
            try:
                link = os.readlink(name, dir_fd=fdd)
            except OSError as e:
                if e.errno in _GONE:    # fd closed since listdir
                    continue
                raise
            if link.startswith("socket:["):
                sockets[int(name)] = int(link[8:-1])
                continue
            if link.startswith("pipe:["):
                kind, ident, path = "pipe", int(link[6:-1]), None
            elif link.startswith(_SHM):
                try:
                    ident = os.stat(name, dir_fd=fdd).st_ino    # the file the fd is open on
                except OSError as e:
                    if e.errno in _GONE:
                        continue
                    raise
                kind, path = _shm_kind(link), link
            else:
                continue
            fd = int(name)
            key = (fd, link)
            seen.add(key)
            if key not in modes:
                modes[key] = _fd_mode(dfd, fd)
            if modes[key] is not None:
                held.append({"kind": kind, "id": ident, "fd": fd, "mode": modes[key], "name": path})
        for key in [k for k in modes if k not in seen]:
            del modes[key]
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
