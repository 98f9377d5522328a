"""tcp_fork_server: 多进程并发服务器, a child process per client (os.fork).

    $ python -m lab.experiments.tcp_fork_server --port 8888
    listening on 127.0.0.1:8888
    服务器[19164] 等待客户端连接 accept() ...  (waiting for a client)
    服务器[19164] 客户端 ('127.0.0.1', 34516) 已连接 → 子进程 19175  (a child for this client)
    服务器[19164] 等待客户端连接 accept() ...  (waiting for a client)
    子进程[19175] 服务 ('127.0.0.1', 34516)  (the child serves it)
    子进程[19175] 收到 ('127.0.0.1', 34516): hello 1
    子进程[19175] 收到 ('127.0.0.1', 34516): hello 2
    子进程[19175] 客户端 ('127.0.0.1', 34516) 离开了, 子进程退出  (the client left, the child exits)
    服务器[19164] 收到 SIGCHLD, 回收子进程 19175, exit status 0  (reaped: no zombie)
    ^C服务器[19164] 服务器退出  (Ctrl-C: the server exits)

The notes' steps: "1.创建套接字, 绑定, 监听  2.等待接收客户端请求 accept
3.创建子进程处理客户端请求, 父进程继续等待其他客户端连接  4.客户端退出则子进程退出".
After fork both processes hold both sockets, so each closes the one it
does not need: the child the listening socket, the parent the connection.

A child that exits would stay a zombie (Z) until the parent waits for it.
The parent is busy in accept(), so the notes' cures apply: ``--reap
handler`` (default) reaps in a SIGCHLD handler with waitpid(-1, WNOHANG) in
a loop; ``--reap ignore`` sets signal(SIGCHLD, SIG_IGN) and the kernel
discards the children at once (their exit status is lost).
"""
import argparse
import os
import signal
import socket

from lab.report import listening, say, set_role


def reap(sig, frame):
    """SIGCHLD: collect every child that has exited, without blocking."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        say(f"服务器[{os.getpid()}] 收到 SIGCHLD, 回收子进程 {pid}, exit status "
            f"{os.waitstatus_to_exitcode(status)}  (reaped: no zombie)")


def handle(connfd, addr):
    """The child's whole life: serve one client, then exit."""
    me = f"子进程[{os.getpid()}]"
    say(f"{me} 服务 {addr}  (the child serves it)")
    while True:
        try:
            data = connfd.recv(1024)
        except ConnectionError:
            data = b""
        if not data:
            break
        text = data.decode(errors="replace").strip()
        say(f"{me} 收到 {addr}: {text}")
        try:
            connfd.send(f"收到 (got) {text}  from 子进程 {os.getpid()}".encode())
        except ConnectionError:
            break
    connfd.close()
    say(f"{me} 客户端 {addr} 离开了, 子进程退出  (the client left, the child exits)")


def main():
    parser = argparse.ArgumentParser(description="TCP server with a child process per client")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    parser.add_argument("--backlog", type=int, default=5, help="listen(n): the listen queue")
    parser.add_argument("--reap", choices=("handler", "ignore"), default="handler",
                        help="SIGCHLD handler with waitpid(WNOHANG), or SIG_IGN")
    args = parser.parse_args()
    set_role("server")
    me = f"服务器[{os.getpid()}]"
    signal.signal(signal.SIGCHLD, reap if args.reap == "handler" else signal.SIG_IGN)

    sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sockfd.bind(("127.0.0.1", args.port))
    sockfd.listen(args.backlog)
    port = sockfd.getsockname()[1]
    say(f"listening on 127.0.0.1:{port}")
    listening("tcp", f"127.0.0.1:{port}")
    try:
        while True:
            say(f"{me} 等待客户端连接 accept() ...  (waiting for a client)")
            connfd, addr = sockfd.accept()   # a SIGCHLD in between: accept() simply resumes
            pid = os.fork()
            if pid == 0:
                try:
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)   # Ctrl-C: the children go quietly
                    set_role("child")
                    sockfd.close()            # the child does not accept
                    handle(connfd, addr)
                finally:
                    os._exit(0)               # never back into the parent's loop
            connfd.close()                    # the parent does not talk to this client
            say(f"{me} 客户端 {addr} 已连接 → 子进程 {pid}  (a child for this client)")
    except KeyboardInterrupt:
        say(f"{me} 服务器退出  (Ctrl-C: the server exits)")
    finally:
        sockfd.close()


if __name__ == "__main__":
    main()
