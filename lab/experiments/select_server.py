"""select_server: IO多路复用 with select(): one process, one thread, every client.

    $ python -m lab.experiments.select_server --port 8891
    listening on 127.0.0.1:8891
    服务器[18366] select(rlist, wlist, xlist) 阻塞等待IO事件  (waiting in select)
    服务器[18366] 客户端 ('127.0.0.1', 38304) 已连接, 加入 rlist 和 xlist  (added to rlist and xlist)
    服务器[18366] 收到 ('127.0.0.1', 38304): hello 1
    服务器[18366] 收到 ('127.0.0.1', 38304): hello 2
                                           (kill -USR1 <the client>: one byte with MSG_OOB)
    服务器[18366] xlist 就绪 ('127.0.0.1', 38304): 带外数据 MSG_OOB !  (xs: urgent data)
    服务器[18366] 收到 ('127.0.0.1', 38304): hello 3
    你好                                   (typed in the server's terminal)
    服务器[18366] 终端输入 (typed): 你好
    服务器[18366] 客户端 ('127.0.0.1', 38304) 离开了, 移出 rlist 和 xlist  (removed from rlist and xlist)
    ^C服务器[18366] 服务器退出  (Ctrl-C: the server exits)

The notes: ``rs, ws, xs = select(rlist, wlist, xlist)`` "监控IO事件, 阻塞等待IO
事件发生".  rlist holds the listening socket (readable = a client is waiting
to be accepted), every connection (readable = data or the client closed)
and, as in the homework, the terminal (sys.stdin) when this program runs in
its foreground; wlist holds the connections that owe a reply.  No IO is
allowed to block: each is handled only when select says it is ready.

xlist holds every connection too.  One set of notes says xlist "在linux下无效":
not so.  It is not where errors show up (a reset connection is readable,
and its recv raises), it is where a TCP socket with *urgent data* shows
up: a byte the peer sent with ``send(b"!", MSG_OOB)`` (``kill -USR1`` a
tcp_client does it).  That byte travels outside the normal stream: recv()
never returns it, ``recv(1, MSG_OOB)`` does, and until it is read the
socket stays in xs.  (poll calls the same condition POLLPRI.)

Between events the process sleeps inside select: ``cat /proc/PID/wchan``
prints do_select on older kernels, poll_schedule_timeout on newer ones
(select and poll share it), and ``/proc/PID/syscall`` starts with the
select/pselect6 system call number.
"""
import argparse
import os
import select
import socket
import sys

from lab.report import listening, say, set_role


def keyboard():
    """Watch the terminal only if we are its foreground job (else reading it stops us: SIGTTIN)."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description="TCP server multiplexed with select()")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    parser.add_argument("--backlog", type=int, default=5, help="listen(n): the listen queue")
    args = parser.parse_args()
    set_role("server")
    me = f"服务器[{os.getpid()}]"

    sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sockfd.bind(("127.0.0.1", args.port))
    sockfd.listen(args.backlog)
    port = sockfd.getsockname()[1]
    say(f"listening on 127.0.0.1:{port}")
    listening("tcp", f"127.0.0.1:{port}")

    rlist = [sockfd] + ([sys.stdin] if keyboard() else [])
    wlist = []
    xlist = []
    clients = {}                              # connection -> (its address, the reply it is owed)
    say(f"{me} select(rlist, wlist, xlist) 阻塞等待IO事件  (waiting in select)")
    try:
        while True:
            rs, ws, xs = select.select(rlist, wlist, xlist)
            for r in rs:
                if r is sockfd:               # the listening socket is ready: accept won't block
                    connfd, addr = r.accept()
                    rlist.append(connfd)
                    xlist.append(connfd)      # ready there when urgent data (MSG_OOB) arrives
                    clients[connfd] = (addr, None)
                    say(f"{me} 客户端 {addr} 已连接, 加入 rlist 和 xlist  (added to rlist and xlist)")
                elif r is sys.stdin:
                    line = sys.stdin.readline()
                    if not line:              # Ctrl-D: stop watching the terminal
                        rlist.remove(sys.stdin)
                    else:
                        say(f"{me} 终端输入 (typed): {line.strip()}")
                else:
                    addr = clients[r][0]
                    try:
                        data = r.recv(1024)
                    except ConnectionError:
                        data = b""
                    if not data:              # the client closed: stop watching it
                        rlist.remove(r)
                        xlist.remove(r)
                        if r in wlist:
                            wlist.remove(r)
                        del clients[r]
                        r.close()
                        say(f"{me} 客户端 {addr} 离开了, 移出 rlist 和 xlist  (removed from rlist and xlist)")
                        continue
                    text = data.decode(errors="replace").strip()
                    say(f"{me} 收到 {addr}: {text}")
                    clients[r] = (addr, f"收到 (got) {text}".encode())
                    wlist.append(r)           # reply once it is writable
            for x in xs:
                if x in clients:              # not closed in the loop above
                    try:                      # the urgent byte, outside the normal stream
                        data = x.recv(1, socket.MSG_OOB)
                    except OSError as exc:    # EINVAL: already read; EAGAIN: not here yet
                        data = f"({type(exc).__name__})".encode()
                    say(f"{me} xlist 就绪 {clients[x][0]}: 带外数据 MSG_OOB {data.decode(errors='replace')}"
                        "  (xs: urgent data)")
            for w in ws:
                if w in wlist:                # not closed in the loop above
                    wlist.remove(w)
                    try:
                        w.send(clients[w][1])
                    except ConnectionError:
                        pass
    except KeyboardInterrupt:
        say(f"{me} 服务器退出  (Ctrl-C: the server exits)")
    finally:
        for s in rlist:
            if s is not sys.stdin:
                s.close()

if __name__ == "__main__":
    main()
