"""nonblocking_io: 非阻塞IO: setblocking(False), settimeout(sec) (超时检测), and epoll's EPOLLET (边缘触发).

    $ python -m lab.experiments.nonblocking_io --mode nonblocking --port 8888
    listening on 127.0.0.1:8888
    服务器[18858] sockfd.setblocking(False): accept() 和 recv() 不再阻塞, 每次尝试之间 time.sleep(0.1)  (non-blocking; a short pause between tries)
    服务器[18858] accept() → BlockingIOError: [Errno 11] Resource temporarily unavailable  (no client yet: try again later)
    服务器[18858] 循环中做点别的事 (other work in the loop): accept() 尝试 21 次, BlockingIOError 21 次, recv() BlockingIOError 0 次
    服务器[18858] 客户端 ('127.0.0.1', 58402) 已连接, connfd.setblocking(False)  (connected)
    服务器[18858] 收到 ('127.0.0.1', 58402): hello 1
    服务器[18858] 循环中做点别的事 (other work in the loop): accept() 尝试 41 次, BlockingIOError 40 次, recv() BlockingIOError 17 次
    服务器[18858] 收到 ('127.0.0.1', 58402): hello 2
    服务器[18858] 客户端 ('127.0.0.1', 58402) 离开了  (the client left)
    ^C服务器[18858] 服务器退出  (Ctrl-C: the server exits)

    $ python -m lab.experiments.nonblocking_io --mode timeout --timeout 1 --port 8888
    listening on 127.0.0.1:8888
    服务器[19011] sockfd.settimeout(1): accept() 和 recv() 最多阻塞 1 秒  (超时检测: a blocking call gives up after 1 s)
    服务器[19011] accept() 等待客户端连接, 最多 1 秒 ...  (waiting, at most 1 s)
    服务器[19011] accept() 超时 (timed out): TimeoutError: timed out, 做点别的事, 继续等待  (1 s without a client: it goes on)
    服务器[19011] accept() 等待客户端连接, 最多 1 秒 ...  (waiting, at most 1 s)
    服务器[19011] 客户端 ('127.0.0.1', 40274) 已连接, connfd.settimeout(1)  (connected)
    服务器[19011] 收到 ('127.0.0.1', 40274): hello 1
    服务器[19011] recv() 超时 (timed out): 1 秒没有收到数据, 继续等待  (the client was silent for 1 s: it goes on)
    服务器[19011] recv() 超时 (timed out): 1 秒没有收到数据, 继续等待  (the client was silent for 1 s: it goes on)
    服务器[19011] 收到 ('127.0.0.1', 40274): hello 2
    服务器[19011] 客户端 ('127.0.0.1', 40274) 离开了  (the client left)
    服务器[19011] accept() 等待客户端连接, 最多 1 秒 ...  (waiting, at most 1 s)
    ^C服务器[19011] 服务器退出  (Ctrl-C: the server exits)

    $ python -m lab.experiments.nonblocking_io --mode epollet --chunk 4 --port 8888
    listening on 127.0.0.1:8888
    服务器[19144] 事件 (events): EPOLLIN=1 (1<<0), EPOLLPRI=2 (1<<1), EPOLLOUT=4 (1<<2), EPOLLERR=8 (1<<3), EPOLLHUP=16 (1<<4), EPOLLRDHUP=8192 (1<<13), EPOLLET=2147483648 (1<<31)
    服务器[19144] ep.register(fd 3, EPOLLIN): 1 = 0x1 = 0b1  (the listening socket: level-triggered)
    服务器[19144] ep.poll() → fd 3 event 1 = 0x1 = 0b1 = EPOLLIN
    服务器[19144] 客户端 ('127.0.0.1', 40284) 已连接 fd 5, ep.register(fd 5, EPOLLIN | EPOLLRDHUP | EPOLLET): 2147491841 = 0x80002001 = 0b10000000000000000010000000000001  (edge-triggered)
    服务器[19144] ep.poll() → fd 5 event 1 = 0x1 = 0b1 = EPOLLIN
    服务器[19144] recv(4) 读到 b'hell', 接收缓冲区还剩 4 字节 (Recv-Q)  (a partial read: under EPOLLET no new event comes for them)
    服务器[19144] ep.poll() → fd 5 event 1 = 0x1 = 0b1 = EPOLLIN
    服务器[19144] recv(4) 读到 b'o 1\\n', 接收缓冲区还剩 8 字节 (Recv-Q)  (a partial read: under EPOLLET no new event comes for them)
    服务器[19144] ep.poll() → fd 5 event 8193 = 0x2001 = 0b10000000000001 = EPOLLIN | EPOLLRDHUP
    服务器[19144] 客户端 ('127.0.0.1', 40284) 离开了, unregister fd 5, 未读的 8 字节丢弃  (the client left; unread bytes dropped)
    ^C服务器[19144] 服务器退出  (Ctrl-C: the server exits)

(fd 4 is the epoll object.  The second event came with "hello 2": new
data, a new edge; the bytes read were the old ones.)

Talk to it with ``python -m lab.experiments.tcp_client --port 8888``.

The notes: "非阻塞IO: 通过修改IO属性行为, 使原本阻塞的IO变为非阻塞的状态"
(sockfd.setblocking(False)), "非阻塞IO往往和循环搭配使用"; "超时检测: 设置一个最长
阻塞时间, 超过该时间后则不再阻塞等待, 不与非阻塞同用" (sockfd.settimeout(sec));
"epoll的触发方式更多(边缘触发)" (EPOLLET).

--mode nonblocking: accept() and recv() return at once, with the data or
with BlockingIOError (EAGAIN), so one loop tries the listening socket and
every client in turn and serves them all in one process, one thread,
without select.  The process never sleeps in the kernel's accept
(/proc/PID/wchan is never inet_csk_accept): it is R while it tries, and S
in nanosleep during the short time.sleep(--pause) between two rounds.  The
notes' loop has no pause: it would spin, R at 100% of a core, asking
again millions of times a second; the pause keeps the lesson cheap.

--mode timeout: the calls block, but at most --timeout seconds, then raise
socket.timeout (TimeoutError) and the loop goes on; one client at a time,
as a loop server (循环服务器).  Python builds settimeout on a non-blocking
socket and poll(): while it waits, wchan shows poll_schedule_timeout.

--mode epollet: an epoll server whose client sockets are registered with
EPOLLET (边缘触发).  It reads only --chunk bytes per event: the rest stays
in the socket's receive queue (ss -tn: Recv-Q > 0), and no new event comes
for it: ep.poll() sleeps (S, ep_poll) with data waiting, until more data
arrives and makes a new edge.  Level-triggered (the default, as for the
listening socket here) would report the fd again at once.  Under EPOLLET
a program must read until BlockingIOError, which is why ET sockets are
non-blocking.  Event masks are printed as numbers and bits: each EPOLL
constant is one bit (EPOLLIN = 1, EPOLLET = 1 << 31), ``|`` combines them
and ``event & EPOLLIN`` tests one (the notes' 位运算).
"""
import argparse
import array
import fcntl
import os
import select
import signal
import socket
import termios
import time

from lab.report import listening, say, set_role

EPOLL_BITS = (("EPOLLIN", select.EPOLLIN), ("EPOLLPRI", select.EPOLLPRI), ("EPOLLOUT", select.EPOLLOUT),
              ("EPOLLERR", select.EPOLLERR), ("EPOLLHUP", select.EPOLLHUP),
              ("EPOLLRDHUP", select.EPOLLRDHUP), ("EPOLLET", select.EPOLLET))
REPORT_EVERY = 2.0   # seconds between two "other work" lines of the non-blocking loop


def bits(mask, names=True):
    """A mask as the notes' 位运算 show it: the number, hex, binary, and the flags set (mask & flag)."""
    text = f"{mask} = {mask:#x} = 0b{mask:b}"
    if names:
        text += " = " + " | ".join(name for name, flag in EPOLL_BITS if mask & flag)
    return text


def unread(sock):
    """Bytes waiting in the socket's receive queue (what ss shows as Recv-Q): ioctl FIONREAD."""
    buf = array.array("i", [0])
    fcntl.ioctl(sock.fileno(), termios.FIONREAD, buf)
    return buf[0]


def serve_nonblocking(sockfd, me, pause):
    sockfd.setblocking(False)
    say(f"{me} sockfd.setblocking(False): accept() 和 recv() 不再阻塞, 每次尝试之间 time.sleep({pause:g})  "
        "(non-blocking; a short pause between tries)")
    clients = {}                                   # connfd -> address
    tries = accept_errors = recv_errors = 0
    reported = time.monotonic()
    while True:
        tries += 1
        try:
            connfd, addr = sockfd.accept()
        except BlockingIOError as exc:
            accept_errors += 1
            if accept_errors == 1:
                say(f"{me} accept() → BlockingIOError: [Errno {exc.errno}] {exc.strerror}  "
                    "(no client yet: try again later)")
        else:
            connfd.setblocking(False)
            clients[connfd] = addr
            say(f"{me} 客户端 {addr} 已连接, connfd.setblocking(False)  (connected)")
        for connfd, addr in list(clients.items()):
            try:
                data = connfd.recv(1024)
            except BlockingIOError:                # nothing from this client yet
                recv_errors += 1
                continue
            except ConnectionError:
                data = b""
            if not data:
                del clients[connfd]
                connfd.close()
                say(f"{me} 客户端 {addr} 离开了  (the client left)")
                continue
            text = data.decode(errors="replace").strip()
            say(f"{me} 收到 {addr}: {text}")
            try:
                connfd.send(f"收到 (got) {text}".encode())
            except (BlockingIOError, ConnectionError):
                pass                               # a short reply fits the send buffer; if not, drop it
        if time.monotonic() - reported >= REPORT_EVERY:
            reported = time.monotonic()
            say(f"{me} 循环中做点别的事 (other work in the loop): accept() 尝试 {tries} 次, "
                f"BlockingIOError {accept_errors} 次, recv() BlockingIOError {recv_errors} 次")
        # Without this pause the loop would spin: R at 100% of a core, asking again and again.
        time.sleep(pause)


def serve_timeout(sockfd, me, timeout):
    sockfd.settimeout(timeout)
    say(f"{me} sockfd.settimeout({timeout:g}): accept() 和 recv() 最多阻塞 {timeout:g} 秒  "
        f"(超时检测: a blocking call gives up after {timeout:g} s)")
    while True:
        say(f"{me} accept() 等待客户端连接, 最多 {timeout:g} 秒 ...  (waiting, at most {timeout:g} s)")
        try:
            connfd, addr = sockfd.accept()
        except socket.timeout as exc:
            say(f"{me} accept() 超时 (timed out): {type(exc).__name__}: {exc}, 做点别的事, 继续等待  "
                f"({timeout:g} s without a client: it goes on)")
            continue
        connfd.settimeout(timeout)                 # an accepted socket does not inherit it
        say(f"{me} 客户端 {addr} 已连接, connfd.settimeout({timeout:g})  (connected)")
        while True:
            try:
                data = connfd.recv(1024)
            except socket.timeout:
                say(f"{me} recv() 超时 (timed out): {timeout:g} 秒没有收到数据, 继续等待  "
                    f"(the client was silent for {timeout:g} s: it goes on)")
                continue
            except ConnectionError:
                data = b""
            if not data:
                break
            text = data.decode(errors="replace").strip()
            say(f"{me} 收到 {addr}: {text}")
            try:
                connfd.send(f"收到 (got) {text}".encode())
            except (socket.timeout, ConnectionError):
                break
        connfd.close()
        say(f"{me} 客户端 {addr} 离开了  (the client left)")


def serve_epollet(sockfd, me, chunk):
    say(f"{me} 事件 (events): " + ", ".join(f"{name}={flag} (1<<{flag.bit_length() - 1})"
                                             for name, flag in EPOLL_BITS))
    ep = select.epoll()
    ep.register(sockfd, select.EPOLLIN)           # level-triggered: every waiting client is reported
    say(f"{me} ep.register(fd {sockfd.fileno()}, EPOLLIN): {bits(select.EPOLLIN, names=False)}  "
        "(the listening socket: level-triggered)")
    fdmap = {sockfd.fileno(): sockfd}
    addrs = {}
    try:
        while True:
            for fd, event in ep.poll():
                say(f"{me} ep.poll() → fd {fd} event {bits(event)}")
                if fd == sockfd.fileno():
                    connfd, addr = sockfd.accept()
                    connfd.setblocking(False)      # under ET a program reads until EAGAIN: never block
                    mask = select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLET
                    ep.register(connfd, mask)
                    fdmap[connfd.fileno()], addrs[connfd.fileno()] = connfd, addr
                    say(f"{me} 客户端 {addr} 已连接 fd {connfd.fileno()}, ep.register(fd {connfd.fileno()}, "
                        f"EPOLLIN | EPOLLRDHUP | EPOLLET): {bits(mask, names=False)}  (edge-triggered)")
                    continue
                connfd = fdmap[fd]
                if event & (select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR):   # 位运算: & tests a bit
                    left = unread(connfd)
                    ep.unregister(fd)
                    fdmap.pop(fd).close()
                    say(f"{me} 客户端 {addrs.pop(fd)} 离开了, unregister fd {fd}, 未读的 {left} 字节丢弃  "
                        "(the client left; unread bytes dropped)")
                    continue
                try:
                    data = connfd.recv(chunk)      # only chunk bytes: the rest stays in the kernel
                except BlockingIOError:
                    continue
                except ConnectionError:
                    data = b""
                say(f"{me} recv({chunk}) 读到 {data!r}, 接收缓冲区还剩 {unread(connfd)} 字节 (Recv-Q)  "
                    "(a partial read: under EPOLLET no new event comes for them)")
                if data:
                    try:
                        connfd.send(f"收到 (got) {data.decode(errors='replace')!r}".encode())
                    except (BlockingIOError, ConnectionError):
                        pass
    finally:
        for s in fdmap.values():
            s.close()
        ep.close()


def main():
    parser = argparse.ArgumentParser(description="non-blocking IO: setblocking(False), settimeout, EPOLLET")
    parser.add_argument("--mode", choices=("nonblocking", "timeout", "epollet"), default="nonblocking")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    parser.add_argument("--pause", type=float, default=0.1,
                        help="nonblocking: seconds slept between two rounds of tries (0.01 to 2)")
    parser.add_argument("--timeout", type=float, default=3.0, help="timeout: settimeout(sec) (0.2 to 30)")
    parser.add_argument("--chunk", type=int, default=4, help="epollet: bytes read per event (1 to 1024)")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    if not 0.01 <= args.pause <= 2:
        parser.error("--pause must be from 0.01 to 2 (no pause would spin a whole core)")
    if not 0.2 <= args.timeout <= 30:
        parser.error("--timeout must be from 0.2 to 30")
    if not 1 <= args.chunk <= 1024:
        parser.error("--chunk must be from 1 to 1024")
    # Ctrl-C raises KeyboardInterrupt even where SIGINT came in ignored (started with & by a shell)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    set_role("server")
    me = f"服务器[{os.getpid()}]"

    sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sockfd.bind(("127.0.0.1", args.port))
    sockfd.listen(5)
    port = sockfd.getsockname()[1]
    say(f"listening on 127.0.0.1:{port}")
    listening("tcp", f"127.0.0.1:{port}")
    try:
        if args.mode == "nonblocking":
            serve_nonblocking(sockfd, me, args.pause)
        elif args.mode == "timeout":
            serve_timeout(sockfd, me, args.timeout)
        else:
            serve_epollet(sockfd, me, args.chunk)
    except KeyboardInterrupt:
        say(f"{me} 服务器退出  (Ctrl-C: the server exits)")
    finally:
        sockfd.close()


if __name__ == "__main__":
    main()
