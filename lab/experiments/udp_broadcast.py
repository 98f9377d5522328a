"""udp_broadcast: udp套接字应用之广播, one sender, several receivers (一点发送多点接收).

    $ python -m lab.experiments.udp_broadcast --receivers 2 --count 2 --every 1 --port 9999
    接收端 1[21796] 绑定 127.255.255.255:9999, recvfrom() 等待广播 ...  (waiting for a broadcast)
    listening on 127.255.255.255:9999
    发送端[21795] 2 个接收端 [21796, 21797] 绑定 127.255.255.255:9999  (receivers bound)
    发送端[21795] 没有设置 SO_BROADCAST: sendto(('127.255.255.255', 9999)) 失败 (fails): PermissionError [Errno 13] EACCES Permission denied
    发送端[21795] s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1): 允许发送广播  (broadcast allowed)
    接收端 2[21797] 绑定 127.255.255.255:9999, recvfrom() 等待广播 ...  (waiting for a broadcast)
    发送端[21795] sendto ('127.255.255.255', 9999): 广播 1 来自发送端 21795
    接收端 1[21796] 从 ('127.0.0.1', 59172) 收到广播 (received): 广播 1 来自发送端 21795
    接收端 2[21797] 从 ('127.0.0.1', 59172) 收到广播 (received): 广播 1 来自发送端 21795
    发送端[21795] sendto ('127.255.255.255', 9999): 广播 2 来自发送端 21795
    接收端 2[21797] 从 ('127.0.0.1', 59172) 收到广播 (received): 广播 2 来自发送端 21795
    发送端[21795] 发送了 2 个广播, 结束  (done: a last datagram tells the receivers)
    接收端 2[21797] 从 ('127.0.0.1', 59172) 收到广播 (received): 广播结束 (the end)
    接收端 2[21797] 接收结束, 关闭套接字  (closed the socket, leaving)
    接收端 1[21796] 从 ('127.0.0.1', 59172) 收到广播 (received): 广播 2 来自发送端 21795
    接收端 1[21796] 从 ('127.0.0.1', 59172) 收到广播 (received): 广播结束 (the end)
    接收端 1[21796] 接收结束, 关闭套接字  (closed the socket, leaving)
    发送端[21795] 回收接收端 1 (pid 21796), exit status 0  (reaped)
    发送端[21795] 回收接收端 2 (pid 21797), exit status 0  (reaped)

The notes' two programs in one: the receivers (forked here; run more with
``python -m lab.experiments.udp_broadcast_recv --port PORT``) and the sender:

    s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1)
    s.sendto(data, ('<broadcast>', port))     # 目标地址: 广播地址, 每个网段内最大的地址

On loopback the network is 127.0.0.0/8 and its broadcast address, the
largest in it, is 127.255.255.255 (``ip route show table local`` lists it as
``broadcast 127.255.255.255 dev lo``).  Without SO_BROADCAST the kernel
refuses to send there: sendto() fails with PermissionError, errno EACCES,
as the first lines show (and SIGUSR1 shows again).

Where the receivers bind, checked on Linux: the notes' ('', port) is every
address, 0.0.0.0, which this lab never uses; a socket bound to 127.0.0.1
gets nothing, because a bound address filters the datagrams by their
*destination* address; bound to 127.255.255.255 itself, each receiver gets
every datagram sent there.  So each receiver sets SO_REUSEADDR (端口立即复用,
or the second bind fails with EADDRINUSE) and binds ('127.255.255.255', port),
and the kernel gives each bound socket its own copy: ``ss -uanp`` shows one
UNCONN socket per receiver on the same address and port.  The sender makes
them all before it forks, so every one is bound before the first datagram
goes; each receiver then closes the copies it does not use, as a forking
server's child closes the listening socket.
"""
import argparse
import os
import signal
import socket
import time

from lab.experiments.udp_broadcast_recv import BROADCAST, END, make_socket, receive
from lab.report import listening, say, set_role

receivers = {}            # pid -> receiver number, of the receivers not yet reaped


def reap(sig, frame):
    """SIGCHLD: a receiver was closed ("close receiver"): collect it, no zombie."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        number = receivers.pop(pid, "?")
        say(f"发送端[{os.getpid()}] 回收接收端 {number} (pid {pid}), exit status "
            f"{os.waitstatus_to_exitcode(status)}  (reaped)")


def leave(sig, frame):
    raise SystemExit(0)


def try_without_broadcast(s, dest):
    """sendto() the broadcast address with SO_BROADCAST off: the kernel says EACCES."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 0)
    try:
        s.sendto("没有 SO_BROADCAST 的广播".encode(), dest)
        say(f"发送端[{os.getpid()}] 没有 SO_BROADCAST 也发出去了?  (sent without SO_BROADCAST?)")
    except PermissionError as exc:
        say(f"发送端[{os.getpid()}] 没有设置 SO_BROADCAST: sendto({dest}) 失败 (fails): "
            f"PermissionError [Errno {exc.errno}] EACCES {exc.strerror}")
    finally:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)


def main():
    parser = argparse.ArgumentParser(description="UDP broadcast: a sender with SO_BROADCAST and its receivers")
    parser.add_argument("--receivers", type=int, default=3, help="receiver processes (1 to 8)")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between broadcasts (0.1 to 10)")
    parser.add_argument("--count", type=int, default=100, help="broadcasts to send, then the end (1 to 300)")
    args = parser.parse_args()
    if not 1 <= args.receivers <= 8:
        parser.error("--receivers must be from 1 to 8")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    if not 0.1 <= args.every <= 10:
        parser.error("--every must be from 0.1 to 10 seconds")
    if not 1 <= args.count <= 300:
        parser.error("--count must be from 1 to 300")
    signal.signal(signal.SIGINT, signal.SIG_DFL)      # Ctrl-C ends the sender and its receivers
    # SIGUSR1 ("no SO_BROADCAST") may come as soon as the role is known, before its handler exists:
    # blocked until then, it waits (pending) instead of killing the sender.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    set_role("sender")
    me = f"发送端[{os.getpid()}]"

    # Every receiver's socket, bound before any fork: none can miss the first datagram.
    socks = [make_socket(args.port)]
    port = socks[0].getsockname()[1]
    socks += [make_socket(port) for _ in range(args.receivers - 1)]
    signal.signal(signal.SIGCHLD, reap)
    for number, mine in enumerate(socks, 1):
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, leave)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})   # the sender's, not ours
                set_role(f"receiver {number}")
                for other in socks:
                    if other is not mine:
                        other.close()
                receive(mine, f"接收端 {number}[{os.getpid()}]")
            finally:
                os._exit(0)
        receivers[pid] = number
    for mine in socks:
        mine.close()                 # the sender receives nothing

    dest = (BROADCAST, port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))         # the notes' sender never binds; here: loopback only
    say(f"listening on {BROADCAST}:{port}")
    listening("udp", f"{BROADCAST}:{port}")
    say(f"{me} {args.receivers} 个接收端 {sorted(receivers)} 绑定 {BROADCAST}:{port}  (receivers bound)")
    try_without_broadcast(s, dest)
    say(f"{me} s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1): 允许发送广播  (broadcast allowed)")
    signal.signal(signal.SIGUSR1, lambda sig, frame: try_without_broadcast(s, dest))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})   # one that came early is handled now
    signal.signal(signal.SIGTERM, leave)
    try:
        for n in range(1, args.count + 1):
            time.sleep(args.every)
            msg = f"广播 {n} 来自发送端 {os.getpid()}"
            s.sendto(msg.encode(), dest)
            say(f"{me} sendto {dest}: {msg}")
        say(f"{me} 发送了 {args.count} 个广播, 结束  (done: a last datagram tells the receivers)")
    finally:
        s.sendto(END, dest)
        s.close()
        # They leave on the end datagram; one that cannot (stopped, say) gets SIGTERM after 3 s.
        deadline = time.monotonic() + 3
        while receivers and time.monotonic() < deadline:
            time.sleep(0.05)         # the SIGCHLD handler reaps them and says so
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for pid in list(receivers):
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass

if __name__ == "__main__":
    main()
