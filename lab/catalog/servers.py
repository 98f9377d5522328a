"""Servers the library builds and servers that never block: socketserver, non-blocking IO (非阻塞IO).

Built on the socket labs' vocabulary (lab/catalog/sockets.py: add_client, CLOSE_CLIENT)."""
from lab.catalog.sockets import CLOSE_CLIENT, TCP_ENDPOINT, add_client, one
from lab.catalog.types import Lab, Param, en_zh

_SOCKETSERVER = Lab(
    "socketserver_server", "lab.experiments.socketserver_server",
    title=en_zh("socketserver: the library's concurrent servers", "socketserver 集成模块"),
    summary=en_zh("class Server(ForkingTCPServer / ThreadingTCPServer / UDPServer), class Handler(StreamRequestHandler "
                  "/ DatagramRequestHandler), serve_forever().",
                  "服务器类 class Server(ForkingTCPServer / ThreadingTCPServer / UDPServer), 处理类 class Handler("
                  "StreamRequestHandler / DatagramRequestHandler), 运行服务器 serve_forever()。"),
    explain=en_zh(
        "The same servers as the hand-written ones, with the loops written by the socketserver module. "
        "kind=forking (ForkingMixIn + TCPServer) is tcp_fork_server: each client gets a child process (role "
        "child, PPID the server) holding its one ESTABLISHED socket, the server holds only LISTEN. The library's "
        "child would keep a copy of the listening socket; the handler closes it, as tcp_fork_server's child does. "
        "A child that ends is reaped by collect_children(), which serve_forever() calls every 0.5 s: a Z may show "
        "for up to half a second. kind=threading (ThreadingMixIn + TCPServer) is tcp_thread_server: one process, "
        "a thread per client (Thread-N (process_request_thread)), so STAT gets l and the thread count is clients "
        "+ 1. kind=udp (UDPServer with a DatagramRequestHandler) is udp_server: one process, one UDP socket "
        "(UNCONN, no peer) for every client; each datagram is a request, the handler's wfile goes back with "
        "sendto(). Between requests serve_forever() waits in poll() with a 0.5 s timeout, not in accept(). "
        "\"add client\" starts tcp_client or udp_client, whichever the port speaks.",
        "与手写的服务器相同, 只是循环由 socketserver 模块写好了。kind=forking (ForkingMixIn + TCPServer) 就是 "
        "tcp_fork_server: 每个客户端一个子进程 (角色 child, PPID 是服务器), 只持有它的一个 ESTABLISHED 套接字, "
        "服务器只持有 LISTEN。模块的子进程本来会保留一份监听套接字; 处理类把它关闭, 与 tcp_fork_server 的子进程一样。"
        "结束的子进程由 collect_children() 回收, serve_forever() 每 0.5 秒调用一次: Z 最多可见半秒 (僵尸进程)。"
        "kind=threading (ThreadingMixIn + TCPServer) 就是 tcp_thread_server: 一个进程, 每个客户端一个分支线程 "
        "(Thread-N (process_request_thread)), STAT 带 l, 线程数 = 客户端数 + 1。kind=udp (UDPServer + "
        "DatagramRequestHandler) 就是 udp_server: 一个进程、一个 UDP 套接字 (UNCONN, 没有远端) 服务所有客户端; "
        "每个数据报是一个请求, 处理类写入 wfile 的内容由 sendto() 发回。请求之间 serve_forever() 在 poll() 中等待 "
        "(超时 0.5 秒), 而不是在 accept() 中。“添加客户端” 根据端口的协议启动 tcp_client 或 udp_client。"),
    params=(Param("kind", "choice", "forking", choices=("forking", "threading", "udp"),
                  label=en_zh("kind", "类型"),
                  help=en_zh("ForkingTCPServer (a process per client), ThreadingTCPServer (a thread per "
                             "client) or UDPServer (one socket)",
                             "ForkingTCPServer (每个客户端一个进程)、ThreadingTCPServer (每个客户端一个线程) "
                             "或 UDPServer (一个套接字)")),),
    # with kind=forking a client brings its child too; threading and udp serve it in the server
    actions=(add_client("socketserver_client", *TCP_ENDPOINT,
                        what=en_zh("a client (TCP or UDP, as the server speaks)",
                                   "一个客户端 (TCP 或 UDP, 与服务器一致)"),
                        adds=lambda p: 2 if p["kind"] == "forking" else 1),
             CLOSE_CLIENT),
    processes=one,
)

_NONBLOCKING = Lab(
    "nonblocking_io", "lab.experiments.nonblocking_io",
    title=en_zh("Non-blocking IO, timeouts and edge-triggered epoll", "非阻塞IO、超时检测与边缘触发"),
    summary=en_zh("setblocking(False) with BlockingIOError in a loop, settimeout(sec), and epoll's EPOLLET.",
                  "setblocking(False) 与循环中的 BlockingIOError, settimeout(sec), 以及 epoll 的 EPOLLET。"),
    explain=en_zh(
        "mode=nonblocking: sockfd.setblocking(False) makes accept() and recv() return at once, with data or "
        "with BlockingIOError (EAGAIN), so one loop tries the listening socket and every client in turn and "
        "serves them all in one process, one thread, without select. It never sleeps in the kernel's accept "
        "(wchan is never inet_csk_accept): R while it tries, S in nanosleep during the short pause between "
        "rounds. The notes' loop has no pause and would spin at 100% of a core; the pause keeps it cheap. "
        "mode=timeout (超时检测): settimeout(sec) lets accept() and recv() block at most sec seconds, then "
        "raise socket.timeout, print it and go on; one client at a time, a loop server. Python waits for the "
        "timeout in poll() (wchan poll_schedule_timeout). mode=epollet: client sockets are registered with "
        "EPOLLIN | EPOLLRDHUP | EPOLLET (edge-triggered) and only chunk bytes are read per event: the rest "
        "stays in the socket's Recv-Q (sockets view, ss -tn) and no new event comes for it: the server sleeps "
        "in ep_poll with data waiting, until the client sends more. Level-triggered (the listening socket "
        "here) would report it again at once. Every event mask is printed as a number and its bits: EPOLLIN "
        "= 1, EPOLLRDHUP = 1<<13, EPOLLET = 1<<31, joined with | and tested with &.",
        "mode=nonblocking (非阻塞IO): sockfd.setblocking(False) 让 accept() 和 recv() 立即返回, 要么有数据, 要么抛出 "
        "BlockingIOError (EAGAIN), 所以一个循环依次尝试监听套接字和每个客户端, 一个进程、一个线程、不用 select "
        "就服务所有客户端。它从不在内核的 accept 中睡眠 (wchan 从不是 inet_csk_accept): 尝试时是 R, 两轮之间的"
        "短暂停顿中是 S (nanosleep)。笔记中的循环没有停顿, 会空转占满一个 CPU 核 (100%); 停顿让它省资源。"
        "mode=timeout (超时检测): settimeout(sec) 让 accept() 和 recv() 最多阻塞 sec 秒, 然后抛出 socket.timeout, "
        "打印后继续执行; 一次一个客户端, 是循环服务器。Python 在 poll() 中等待超时 (wchan 是 "
        "poll_schedule_timeout)。mode=epollet (边缘触发): 客户端套接字以 EPOLLIN | EPOLLRDHUP | EPOLLET 注册, "
        "每个事件只读 chunk 个字节: 其余的留在套接字的接收缓冲区 Recv-Q (套接字视图, ss -tn), 并且不会再有新事件: "
        "服务器在 ep_poll 中睡眠, 数据仍在等待, 直到客户端再发来数据。水平触发 (这里的监听套接字) 会立即再次报告。"
        "每个事件掩码都打印成数字和二进制位 (位运算): EPOLLIN = 1, EPOLLRDHUP = 1<<13, EPOLLET = 1<<31, 用 | 组合, "
        "用 & 判断。"),
    params=(Param("mode", "choice", "nonblocking", choices=("nonblocking", "timeout", "epollet"),
                  label=en_zh("mode", "模式"),
                  help=en_zh("setblocking(False), settimeout(sec), or epoll with EPOLLET",
                             "setblocking(False)、settimeout(sec) 或 epoll 的 EPOLLET")),
            Param("pause", "float", 0.1, 0.01, 2.0, label=en_zh("pause (s)", "停顿 (秒)"),
                  help=en_zh("nonblocking: seconds slept between two rounds of tries, so the loop does not spin",
                             "nonblocking: 两轮尝试之间睡眠的秒数, 避免循环空转")),
            Param("timeout", "float", 3.0, 0.2, 30.0, label=en_zh("timeout (s)", "超时 (秒)"),
                  help=en_zh("timeout: settimeout(sec), the longest accept() or recv() blocks",
                             "timeout: settimeout(sec), accept() 或 recv() 最长阻塞的秒数")),
            Param("chunk", "int", 4, 1, 1024, label=en_zh("chunk (bytes)", "每次读取 (字节)"),
                  help=en_zh("epollet: bytes recv() reads per event; the rest stays in Recv-Q",
                             "epollet: 每个事件 recv() 读取的字节数; 其余留在 Recv-Q"))),
    actions=(add_client("tcp_client", *TCP_ENDPOINT), CLOSE_CLIENT),
    processes=one,
)

SERVER_LABS = (_SOCKETSERVER, _NONBLOCKING)
