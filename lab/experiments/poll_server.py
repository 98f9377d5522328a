"""poll_server: IO多路复用 with poll(): register, poll, and a {fileno: socket} map.

    $ python -m lab.experiments.poll_server --port 8892
    listening on 127.0.0.1:8892
    服务器[20586] register fd 3 (sockfd) 事件 9 = 0b01001 = POLLIN | POLLERR  (watched)
    服务器[20586] p.poll() 阻塞等待关注的IO事件  (waiting in poll)
    服务器[20586] events = [(3, 1)]: fd 3 事件 1 = 0b00001 = POLLIN  (ready)
    服务器[20586] 客户端 ('127.0.0.1', 34452) 已连接, register fd 4 事件 25 = 0b11001 = POLLIN | POLLERR | POLLHUP  (now watched)
    服务器[20586] events = [(4, 1)]: fd 4 事件 1 = 0b00001 = POLLIN  (ready)
    服务器[20586] 收到 ('127.0.0.1', 34452) fd 4: hello 1
    服务器[20586] events = [(4, 1)]: fd 4 事件 1 = 0b00001 = POLLIN  (ready)
    服务器[20586] 收到 ('127.0.0.1', 34452) fd 4: hello 2
    服务器[20586] events = [(4, 1)]: fd 4 事件 1 = 0b00001 = POLLIN  (ready)
    服务器[20586] 客户端 ('127.0.0.1', 34452) 离开了, unregister fd 4  (no longer watched)
    ^C服务器[20586] 服务器退出  (Ctrl-C: the server exits)

The notes' poll_server steps: "1. 创建套接字  2. 将套接字设置为关注
3. 创建查找字典, 并维护  4. 循环监控IO发生  5. 处理发生的IO事件".
``p.register(s, POLLIN | POLLERR)`` says which events we care about;
``events = p.poll()`` blocks until some happen and returns
[(fileno, event), ...]: numbers, not objects, hence the dictionary
``fdmap = {s.fileno(): s}`` to find the socket again.

The events are bits of one integer (位运算): POLLIN = 1 (0b00001), POLLPRI = 2,
POLLOUT = 4, POLLERR = 8, POLLHUP = 16 (0b10000).  ``POLLIN | POLLERR``
sets two bits, 9 = 0b01001; ``event & POLLIN`` is not 0 when that bit is
set.  Each line above prints a mask as a number, its bits and their names.
A client that closes is readable, POLLIN (recv then returns b""): POLLHUP
comes only when both directions are shut, e.g. after a reset.

One process, one thread.  While it waits, ``/proc/PID/wchan`` shows
do_sys_poll on older kernels, poll_schedule_timeout on newer ones, and
``/proc/PID/syscall`` starts with the poll system call number.
"""
import argparse
import os
import select
import socket

from lab.report import listening, say, set_role

# The event types are bits (the notes: 1 POLLIN, 4 POLLOUT, 8 POLLERR, 16 POLLHUP), so
# | combines them into one mask and & tests one of them (位运算).
POLL_BITS = [(name, getattr(select, name)) for name in
             ("POLLIN", "POLLPRI", "POLLOUT", "POLLERR", "POLLHUP", "POLLNVAL", "POLLRDHUP")]


def bits(mask, names=POLL_BITS):
    """25 -> "25 = 0b11001 = POLLIN | POLLERR | POLLHUP": the mask, its bits, the events they are."""
    set_ = [name for name, bit in names if mask & bit]       # & : is this bit set?
    return f"{mask} = 0b{mask:05b} = {' | '.join(set_) or '0'}"


def main():
    parser = argparse.ArgumentParser(description="TCP server multiplexed with poll()")
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

    p = select.poll()
    p.register(sockfd, select.POLLIN | select.POLLERR)
    say(f"{me} register fd {sockfd.fileno()} (sockfd) 事件 {bits(select.POLLIN | select.POLLERR)}  (watched)")
    fdmap = {sockfd.fileno(): sockfd}         # fileno -> socket object
    addrs = {}                                # fileno -> client address
    say(f"{me} p.poll() 阻塞等待关注的IO事件  (waiting in poll)")
    try:
        while True:
            events = p.poll()
            say(f"{me} events = {events}: " + "; ".join(f"fd {fd} 事件 {bits(ev)}" for fd, ev in events)
                + "  (ready)")
            for fd, event in events:
                if fd == sockfd.fileno():
                    connfd, addr = fdmap[fd].accept()
                    mask = select.POLLIN | select.POLLHUP | select.POLLERR
                    p.register(connfd, mask)
                    fdmap[connfd.fileno()] = connfd
                    addrs[connfd.fileno()] = addr
                    say(f"{me} 客户端 {addr} 已连接, register fd {connfd.fileno()} 事件 {bits(mask)}  (now watched)")
                elif event & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    try:
                        data = fdmap[fd].recv(1024)
                    except ConnectionError:
                        data = b""
                    if not data:              # the client closed: stop watching it
                        p.unregister(fd)
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


if __name__ == "__main__":
    main()
