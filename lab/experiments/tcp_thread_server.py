"""tcp_thread_server: 多线程并发服务器, a thread per client (threading.Thread).

    $ python -m lab.experiments.tcp_thread_server --port 8888
    listening on 127.0.0.1:8888
    服务器[19178] 等待客户端连接 accept() ...  (waiting for a client)
    服务器[19178] 客户端 ('127.0.0.1', 34768) 已连接 → 线程 Thread-1 (handle)  (a thread for this client)
    服务器[19178] Thread-1 (handle) 收到 ('127.0.0.1', 34768): hello 1
    服务器[19178] 等待客户端连接 accept() ...  (waiting for a client)
    服务器[19178] Thread-1 (handle) 收到 ('127.0.0.1', 34768): hello 2
    服务器[19178] Thread-1 (handle) 客户端 ('127.0.0.1', 34768) 离开了, 线程结束  (the client left, the thread ends)
    ^C服务器[19178] 服务器退出  (Ctrl-C: the server exits)

The notes' steps: "1.创建套接字, 绑定, 监听  2.接收客户端请求, 创建新的线程
3.主线程继续等待其他客户端连接, 分支线程执行客户端请求  4.处理完客户端请求后,
分支线程退出, 关闭客户端套接字".

One process: ``ps -o pid,stat,nlwp`` shows ``l`` (multi-threaded) in STAT
and NLWP = clients + 1; ``ps -L`` lists the threads (same PID, one LWP
each).  All sockets belong to the one process.  The threads are daemon
threads (``t.daemon = True``): when the main thread exits, they go too.
"""
import argparse
import os
import socket
import threading

from lab.report import listening, say, set_role


def handle(connfd, addr):
    """A branch thread: serve one client, then end."""
    me = f"服务器[{os.getpid()}] {threading.current_thread().name}"
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
            connfd.send(f"收到 (got) {text}  from {threading.current_thread().name}".encode())
        except ConnectionError:
            break
    connfd.close()
    say(f"{me} 客户端 {addr} 离开了, 线程结束  (the client left, the thread ends)")


def main():
    parser = argparse.ArgumentParser(description="TCP server with a thread per client")
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
    try:
        while True:
            say(f"{me} 等待客户端连接 accept() ...  (waiting for a client)")
            connfd, addr = sockfd.accept()
            t = threading.Thread(target=handle, args=(connfd, addr), daemon=True)
            say(f"{me} 客户端 {addr} 已连接 → 线程 {t.name}  (a thread for this client)")
            t.start()
    except KeyboardInterrupt:
        say(f"{me} 服务器退出  (Ctrl-C: the server exits)")
    finally:
        sockfd.close()


if __name__ == "__main__":
    main()
