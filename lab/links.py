"""The channels between a run's processes: kernel objects two of them hold.

    links.of_run(processes, holds, peer) -> [link, ...]

`processes` are the process objects of ONE run; holds(pid) gives what a
process holds besides sockets (holdings.py: pipes, /dev/shm files and
mappings).  A Unix socket's "peer" (the sampler's, from sock_diag) says
which socket it is connected to; without one, peer(inode) is asked.
A link is

    {"kind": "pipe" | "unix" | "shm" | "sem", "id": inode, "name": path or None,
     "ends": [{"pid", "fd", "mode", "inode"}, ...]}

- pipe: one pipe inode, its ends are the fds open on it, mode "r" or "w";
  listed when a process writes to it and another one reads from it.
- unix: a connected pair of Unix sockets (a socketpair: multiprocessing's
  Pipe(); or an accepted connection); id is the lower of the two inodes,
  each end names its socket's inode; listed when both sockets are held and
  not only by one and the same process.
- shm: a file in /dev/shm (multiprocessing's Value, Array and heap: a
  deleted ``pym-*`` file), sem: a POSIX semaphore (``sem.*``: every Lock,
  Semaphore, Event and Queue of multiprocessing); fd is None for a mapping;
  listed when two processes hold it.

A pipe all of whose readers are outside the run (the event pipe to lab
init, a shell's pipe) is not listed: it joins no two processes of the run.
Ends are sorted by pid, then fd (mappings last); links by kind, then id.
"""
_KINDS = ("pipe", "unix", "shm", "sem")


def of_run(processes, holds, peer=None):
    # Grouped first, ends made only for the objects that join two processes:
    # every lab process holds the event pipe, and that one joins none.
    groups = {}             # (kind, id) -> [(pid, fd, mode, inode, name)]
    for obj in processes:
        pid = obj["pid"]
        for h in holds(pid):
            groups.setdefault((h["kind"], h["id"]), []).append((pid, h["fd"], h["mode"], h["id"], h["name"]))
        for sock in obj["sockets"]:
            if sock["proto"] == "unix" and sock["status"] == "ESTABLISHED":
                other = sock.get("peer") or (peer(sock["inode"]) if peer else None)
                if other:
                    groups.setdefault(("unix", min(sock["inode"], other)), []).append(
                        (pid, sock["fd"], "rw", sock["inode"], sock["laddr"] or None))
    out = []
    for (kind, ident), ends in groups.items():
        if not _joins(kind, ends):
            continue
        ends.sort(key=lambda e: (e[0], e[1] is None, e[1] or 0))
        out.append({"kind": kind, "id": ident, "name": next((e[4] for e in ends if e[4]), None),
                    "ends": [{"pid": pid, "fd": fd, "mode": mode, "inode": inode}
                             for pid, fd, mode, inode, _ in ends]})
    out.sort(key=lambda link: (_KINDS.index(link["kind"]), link["id"]))
    return out


def _joins(kind, ends):
    """True if the object lets two different processes of the run talk."""
    if kind == "pipe":
        readers = {e[0] for e in ends if "r" in e[2]}
        return any(e[0] not in readers or len(readers) > 1 for e in ends if "w" in e[2]) if readers else False
    if kind == "unix":
        sides = {}
        for e in ends:
            sides.setdefault(e[3], set()).add(e[0])
        if len(sides) != 2:
            return False
        one, two = sides.values()
        return len(one | two) > 1
    return len({e[0] for e in ends}) > 1
