"""unix_socket: 本地套接字, an AF_UNIX stream server on a socket file.

    $ python -m lab.experiments.unix_socket
    listening on /tmp/proclab-bwouqfuy/unix.sock
    服务器[25686] 套接字文件 /tmp/proclab-bwouqfuy/unix.sock: srwxr-xr-x (文件类型 s)  (a socket file)
    服务器[25686] 客户端已连接, 只服务它直到它离开  (serving it until it leaves)
    服务器[25686] 收到: hello 1
    服务器[25686] 收到: hello 2               (a second client connects: it waits in the queue)
    服务器[25686] 收到: hello 3
    服务器[25686] 客户端离开了  (the client left)
    服务器[25686] 客户端已连接, 只服务它直到它离开  (serving it until it leaves)
    服务器[25686] 收到: hello 1
    服务器[25686] 客户端离开了  (the client left)
    ^C服务器[25686] 服务器退出, 删除 /tmp/proclab-bwouqfuy/unix.sock  (the server exits and removes its file)

    $ python -m lab.experiments.unix_socket --serve threads
    listening on /tmp/proclab-g3qyul74/unix.sock
    服务器[19303] 套接字文件 /tmp/proclab-g3qyul74/unix.sock: srwxr-xr-x (文件类型 s)  (a socket file)
    服务器[19303] 客户端已连接 → 线程 Thread-1 (handle)  (a thread for this client)
    服务器[19303] Thread-1 (handle) 收到: hello 1
    服务器[19303] Thread-1 (handle) 收到: hello 2
    服务器[19303] Thread-1 (handle) 客户端离开了, 线程结束  (the client left, the thread ends)
    ^C服务器[19303] 服务器退出, 删除 /tmp/proclab-g3qyul74/unix.sock  (the server exits and removes its file)

Talk to it with ``python -m lab.experiments.unix_client --path PATH`` (the
path it printed); ``--path /tmp/lab.sock`` chooses the file yourself.

The notes' steps: "1.创建套接字对象 sockfd = socket(AF_UNIX,SOCK_STREAM)
2.绑定本地套接字文件 sockfd.bind(path)  3.监听  4.接收发送消息"; an old file
in the way is removed first (os.path.exists, os.unlink), or bind fails.
The file is of type ``s`` in ``ls -l``; ``ss -xap`` shows the listening
socket and every accepted one with the path, the clients' ends without one.
No IP, no port: only programs on this machine that can open the file can
connect.

``--serve loop`` (the default) is the notes' program: accept one client and
serve it until it leaves, like tcp_loop_server; a second client's connect()
succeeds (its end is ESTABLISHED in ``ss -xap``) but it waits in the listen
queue (the LISTEN line's Recv-Q counts it) until the first leaves.
``--serve threads`` serves each client in a thread of its own, as
tcp_thread_server does.

Without --path the file goes into a fresh directory (under the dashboard,
the run's own directory, removed when the run ends however it ends); the
server removes its file when it exits by Ctrl-C or SIGTERM.
"""
import argparse
import os
import signal
import socket
import stat
import sys
import threading

from lab.report import listening, run_dir, say, set_role


def leave(sig, frame):
    # A second SIGTERM (timeout(1) sends one to the process and one to its group) must not
    # interrupt the finally: below, which removes the socket file.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    raise SystemExit(0)


def handle(connfd, threaded):
    """Serve one client until it leaves: recv returns b"" when it closes."""
    me = f"服务器[{os.getpid()}]" + (f" {threading.current_thread().name}" if threaded else "")
    while True:
        try:
            data = connfd.recv(1024)
        except ConnectionError:
            data = b""
        if not data:
            break
        text = data.decode(errors="replace").strip()
        say(f"{me} 收到: {text}")
        try:
            connfd.send(f"收到 (got) {text}".encode())
        except ConnectionError:
            break
    connfd.close()
    if threaded:
        say(f"{me} 客户端离开了, 线程结束  (the client left, the thread ends)")
    else:
        say(f"{me} 客户端离开了  (the client left)")


def main():
    parser = argparse.ArgumentParser(description="AF_UNIX stream server on a socket file")
    parser.add_argument("--path", default="", help="the socket file (default: in a fresh directory)")
    parser.add_argument("--backlog", type=int, default=5, help="listen(n): the listen queue")
    parser.add_argument("--serve", choices=("loop", "threads"), default="loop",
                        help="loop: one client at a time, as in the notes; threads: a thread per client")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGHUP, leave)
    set_role("server")
    me = f"服务器[{os.getpid()}]"
    made_dir = None
    if args.path:
        path = args.path
    else:
        fresh = "PROCLAB_RUN_DIR" not in os.environ
        path = os.path.join(run_dir(), "unix.sock")
        made_dir = os.path.dirname(path) if fresh else None

    if os.path.exists(path):                 # a file left by an earlier run: bind would fail
        os.unlink(path)
    sockfd = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sockfd.bind(path)
        sockfd.listen(args.backlog)
        say(f"listening on {path}")
        listening("unix", path)
        say(f"{me} 套接字文件 {path}: {stat.filemode(os.stat(path).st_mode)} (文件类型 s)  (a socket file)")
        while True:
            connfd, _ = sockfd.accept()      # a Unix client has no address: ""
            if args.serve == "threads":
                t = threading.Thread(target=handle, args=(connfd, True), daemon=True)
                say(f"{me} 客户端已连接 → 线程 {t.name}  (a thread for this client)")
                t.start()
            else:                            # the notes' loop: the next client waits in the queue
                say(f"{me} 客户端已连接, 只服务它直到它离开  (serving it until it leaves)")
                handle(connfd, False)
    except KeyboardInterrupt:
        pass
    finally:
        sockfd.close()
        if os.path.exists(path):
            os.unlink(path)
        if made_dir:
            os.rmdir(made_dir)
        say(f"{me} 服务器退出, 删除 {path}  (the server exits and removes its file)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
