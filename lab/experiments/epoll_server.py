"""epoll_server: IO多路复用 with epoll(): like poll, with an epoll object in the kernel.

    $ python -m lab.experiments.epoll_server --port 8892
    listening on 127.0.0.1:8892
    服务器[20675] register fd 3 (sockfd) 事件 9 = 0b01001 = EPOLLIN | EPOLLERR  (watched)
    服务器[20675] ep.poll() 阻塞等待关注的IO事件  (waiting in epoll)
    服务器[20675] events = [(3, 1)]: fd 3 事件 1 = 0b00001 = EPOLLIN  (ready)
    服务器[20675] 客户端 ('127.0.0.1', 34462) 已连接, register fd 5 事件 25 = 0b11001 = EPOLLIN | EPOLLERR | EPOLLHUP  (now watched)
    服务器[20675] events = [(5, 1)]: fd 5 事件 1 = 0b00001 = EPOLLIN  (ready)
    服务器[20675] 收到 ('127.0.0.1', 34462) fd 5: hello 1
    服务器[20675] events = [(5, 1)]: fd 5 事件 1 = 0b00001 = EPOLLIN  (ready)
    服务器[20675] 收到 ('127.0.0.1', 34462) fd 5: hello 2
    服务器[20675] events = [(5, 1)]: fd 5 事件 1 = 0b00001 = EPOLLIN  (ready)
    服务器[20675] 客户端 ('127.0.0.1', 34462) 离开了, unregister fd 5  (no longer watched)
    ^C服务器[20675] 服务器退出  (Ctrl-C: the server exits)

(fd 4 is the epoll object itself.)

The notes: "使用方法: 基本与poll方法相同 * 生成对象改为epoll()方法 * 事件类型改为
EPOLL类型".  So this is poll_server with ``ep = select.epoll()`` and
EPOLLIN / EPOLLHUP / EPOLLERR.  The difference is inside the kernel: the
list of watched fds lives in the epoll object (an fd of its own: look for
``anon_inode:[eventpoll]`` in ``ls -l /proc/PID/fd``), so each wait does
not hand the whole list over again: "epoll效率比select和poll更高, IO监控数量比
select要多, 触发方式更多(边缘触发 EPOLLET)".

The masks are poll's bits (EPOLLIN = 1, EPOLLOUT = 4, EPOLLERR = 8,
EPOLLHUP = 16, 位运算 as in poll_server), and the kernel keeps them where you
can read them: ``cat /proc/PID/fdinfo/4`` (the epoll fd) prints a line per
watched fd, ``tfd: 5 events: 19`` in hex: 0x19 = 25 = EPOLLIN | EPOLLERR |
EPOLLHUP.  The listening socket was registered with 9 (EPOLLIN | EPOLLERR),
yet its line says 19 too: epoll_ctl always adds EPOLLERR | EPOLLHUP.

This server does not use EPOLLET: nothing here asks for it, so its epoll is
level-triggered (水平触发), like poll and select: ep.poll() reports a socket
again and again as long as data is waiting in it, so a recv(1024) that
leaves some behind is simply called again on the next ep.poll().  With
EPOLLET (边缘触发) an event comes only when new data arrives, so a partial
read leaves data with no new event: the ``nonblocking_io`` lab shows that,
with non-blocking sockets read until BlockingIOError.

One process, one thread.  While it waits, ``/proc/PID/wchan`` shows
ep_poll (do_epoll_wait on newer kernels) and ``/proc/PID/syscall`` starts
with the epoll_wait system call number.
"""
import argparse
import os
import select
import socket

from lab.experiments.poll_server import bits
from lab.report import listening, say, set_role

# The same bits as poll's (EPOLLIN 1, EPOLLPRI 2, EPOLLOUT 4, EPOLLERR 8, EPOLLHUP 16), and more;
# EPOLLET is the top bit, 1 << 31, not set here.
EPOLL_BITS = [(name, getattr(select, name)) for name in
              ("EPOLLIN", "EPOLLPRI", "EPOLLOUT", "EPOLLERR", "EPOLLHUP", "EPOLLRDHUP", "EPOLLET")]


def main():
    parser = argparse.ArgumentParser(description="TCP server multiplexed with epoll()")
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

    ep = select.epoll()
    ep.register(sockfd, select.EPOLLIN | select.EPOLLERR)
    say(f"{me} register fd {sockfd.fileno()} (sockfd) 事件 "
        f"{bits(select.EPOLLIN | select.EPOLLERR, EPOLL_BITS)}  (watched)")
    fdmap = {sockfd.fileno(): sockfd}         # fileno -> socket object
    addrs = {}                                # fileno -> client address
    say(f"{me} ep.poll() 阻塞等待关注的IO事件  (waiting in epoll)")
    try:
        while True:
            events = ep.poll()
            say(f"{me} events = {events}: "
                + "; ".join(f"fd {fd} 事件 {bits(ev, EPOLL_BITS)}" for fd, ev in events) + "  (ready)")
            for fd, event in events:
                if fd == sockfd.fileno():
                    connfd, addr = fdmap[fd].accept()
                    mask = select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR
                    ep.register(connfd, mask)
                    fdmap[connfd.fileno()] = connfd
                    addrs[connfd.fileno()] = addr
                    say(f"{me} 客户端 {addr} 已连接, register fd {connfd.fileno()} 事件 "
                        f"{bits(mask, EPOLL_BITS)}  (now watched)")
                elif event & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
                    try:
                        data = fdmap[fd].recv(1024)
                    except ConnectionError:
                        data = b""
                    if not data:              # the client closed: stop watching it
                        ep.unregister(fd)
                        fdmap.pop(fd).close()
                        say(f"{me} 客户端 {addrs.pop(fd)} 离开了, unregister fd {fd}  (no longer watched)")
                        continue
                    text = data.decode(errors="replace").strip()
                    say(f"{me} 收到 {addrs[fd]} fd {fd}: {text}")
                    try:
                        fdmap[fd].send(f"收到 (got) {text}".encode())
                    except ConnectionError:
                        pass
    except KeyboardInterrupt:
        say(f"{me} 服务器退出  (Ctrl-C: the server exits)")
    finally:
        for s in fdmap.values():
            s.close()
        ep.close()


if __name__ == "__main__":
    main()
