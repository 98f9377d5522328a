"""poll_server: IO多路复用 with poll(): register, poll, and a {fileno: socket} map.

    $ python -m lab.experiments.poll_server --port 8888
    listening on 127.0.0.1:8888
    服务器[19207] p.poll() 阻塞等待关注的IO事件  (waiting in poll)
    服务器[19207] 客户端 ('127.0.0.1', 60308) 已连接, register fd 4  (now watched)
    服务器[19207] 收到 ('127.0.0.1', 60308) fd 4: hello 1
    服务器[19207] 收到 ('127.0.0.1', 60308) fd 4: hello 2
    服务器[19207] 客户端 ('127.0.0.1', 60308) 离开了, unregister fd 4  (no longer watched)
    ^C服务器[19207] 服务器退出  (Ctrl-C: the server exits)

The notes' poll_server steps: "1. 创建套接字  2. 将套接字设置为关注
3. 创建查找字典, 并维护  4. 循环监控IO发生  5. 处理发生的IO事件".
``p.register(s, POLLIN | POLLERR)`` says which events we care about;
``events = p.poll()`` blocks until some happen and returns
[(fileno, event), ...]: numbers, not objects, hence the dictionary
``fdmap = {s.fileno(): s}`` to find the socket again.

One process, one thread.  While it waits, ``/proc/PID/wchan`` shows
do_sys_poll on older kernels, poll_schedule_timeout on newer ones, and
``/proc/PID/syscall`` starts with the poll system call number.
"""
import argparse
import os
import select
import socket

from lab.report import listening, say, set_role


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
    fdmap = {sockfd.fileno(): sockfd}         # fileno -> socket object
    addrs = {}                                # fileno -> client address
    say(f"{me} p.poll() 阻塞等待关注的IO事件  (waiting in poll)")
    try:
        while True:
            events = p.poll()
            for fd, event in events:
                if fd == sockfd.fileno():
                    connfd, addr = fdmap[fd].accept()
                    p.register(connfd, select.POLLIN | select.POLLHUP | select.POLLERR)
                    fdmap[connfd.fileno()] = connfd
                    addrs[connfd.fileno()] = addr
                    say(f"{me} 客户端 {addr} 已连接, register fd {connfd.fileno()}  (now watched)")
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
