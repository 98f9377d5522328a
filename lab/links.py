"""The channels between a run's processes: kernel objects two of them hold.

    links.of_run(processes, holds, peer) -> [link, ...]

`processes` are the process objects of ONE run; holds(pid) gives what a
process holds besides sockets (holdings.py: pipes, /dev/shm files and
mappings); peer(inode) the Unix socket connected to a socket (unixpeers.py).
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


def of_run(processes, holds, peer):
    objects = {}            # (kind, id) -> link

    def end(kind, ident, name, pid, fd, mode, inode=None):
        link = objects.setdefault((kind, ident), {"kind": kind, "id": ident, "name": None, "ends": []})
        link["name"] = link["name"] or name         # a Unix server's path is on its side only
        link["ends"].append({"pid": pid, "fd": fd, "mode": mode, "inode": inode if inode else ident})

    for obj in processes:
        pid = obj["pid"]
        for h in holds(pid):
            end(h["kind"], h["id"], h["name"], pid, h["fd"], h["mode"])
        for sock in obj["sockets"]:
            if sock["proto"] == "unix" and sock["status"] == "ESTABLISHED":
                other = peer(sock["inode"])
                if other:
                    end("unix", min(sock["inode"], other), sock["laddr"] or None, pid, sock["fd"], "rw",
                        sock["inode"])
    out = []
    for link in objects.values():
        ends = link["ends"]
        if link["kind"] == "pipe":
            writers = {e["pid"] for e in ends if "w" in e["mode"]}
            readers = {e["pid"] for e in ends if "r" in e["mode"]}
            joins = any(w != r for w in writers for r in readers)
        elif link["kind"] == "unix":
            sides = {}
            for e in ends:
                sides.setdefault(e["inode"], set()).add(e["pid"])
            joins = len(sides) == 2 and any(a != b for a in list(sides.values())[0] for b in list(sides.values())[1])
        else:
            joins = len({e["pid"] for e in ends}) > 1
        if joins:
            ends.sort(key=lambda e: (e["pid"], e["fd"] is None, e["fd"] or 0))
            out.append(link)
    out.sort(key=lambda link: (_KINDS.index(link["kind"]), link["id"]))
    return out
