"""The socket labs, in teaching order (LABS.md, "Sockets").

Every server announces where it listens (report.listening); "add client"
starts a client inside the run with that address, "close client" sends
SIGTERM to the newest client, whose handler closes its socket and exits.
Clients all take the role "client".
"""
from lab.catalog.types import Action, Lab, Param, en_zh

TCP_ENDPOINT = ("--host", "{host}", "--port", "{port}")


def add_client(module, *args, what=en_zh("a client", "一个客户端"), adds=1):
    """adds: the client, and the child a forking server makes for it."""
    return Action("add_client", "spawn", en_zh("add client", "添加客户端"),
                  en_zh(f"start {what['en']} in this run: it connects to the server and keeps talking",
                        f"在本次运行中启动{what['zh']}: 它连接服务器并持续收发消息"),
                  argv=("-m", f"lab.experiments.{module}", *args), adds=adds)


CLOSE_CLIENT = Action(
    "close_client", "signal", en_zh("close client", "关闭客户端"),
    en_zh("SIGTERM to the newest client: it closes its socket and exits",
          "给最新的客户端发 SIGTERM: 它关闭套接字并退出"),
    role="client*", signal="SIGTERM", pick="newest")

CLOSE_FIRST_CLIENT = Action(
    "close_first_client", "signal", en_zh("close the first client", "关闭最早的客户端"),
    en_zh("SIGTERM to the oldest client: the one an iterative server is serving",
          "给最早的客户端发 SIGTERM: 循环服务器正在服务的那一个"),
    role="client*", signal="SIGTERM", pick="oldest")


def backlog_param(default=5):
    return Param("backlog", "int", default, 0, 16, label=en_zh("backlog", "监听队列"),
                 help=en_zh("listen(n): the listen queue of connections the kernel has completed and nobody "
                            "accepted yet; Linux holds n + 1 of them (listen(0) still queues one), "
                            "further clients stay in SYN_SENT",
                            "listen(n): 监听队列, 存放内核已完成三次握手、还没有 accept() 的连接; Linux 上最多 n + 1 个 "
                            "(listen(0) 也能排队一个), 再多的客户端停在 SYN_SENT"))


def delay_param(default, what, most=10.0):
    return Param("delay", "float", float(default), 0.0, most, label=en_zh("delay (s)", "延时 (秒)"),
                 help=en_zh(f"seconds the server waits before each {what['en']}",
                            f"服务器每次{what['zh']}前等待的秒数"))


def one(params):
    return 1


_TCP_LOOP = Lab(
    "tcp_loop_server", "lab.experiments.tcp_loop_server",
    title=en_zh("Iterative TCP server", "循环服务器"),
    summary=en_zh("accept() one client, serve it until it leaves, then accept the next.",
                  "accept() 一个客户端, 服务它直到它离开, 再接收下一个。"),
    explain=en_zh(
        "One process, one client at a time. Add two clients: the first is served (its lines get replies). "
        "The second is ESTABLISHED in the kernel too: the handshake is done by the kernel, and its server "
        "end waits in the listen queue (the backlog of listen(n)), held by no process until accept(): the "
        "connections view says \"in backlog (not yet accepted)\" and its first line gets no reply. Close the "
        "first client: the server's recv() returns b\"\", it accepts the second, which is served at last. "
        "The first client closed first, so its end stays in TIME_WAIT for a minute, owned by nobody. "
        "On Linux listen(n) queues n + 1 such connections (listen(0) still one): with backlog=1 and four clients, "
        "the first is served, the second and third wait ESTABLISHED in the backlog (ss -ltn shows the LISTEN "
        "socket's Recv-Q 2, Send-Q 1) and the fourth stays in SYN_SENT, its SYN dropped until the queue has room.",
        "一个进程, 同一时刻只服务一个客户端。添加两个客户端: 第一个被服务 (发送的每一行都有回复)。"
        "第二个在内核中也是 ESTABLISHED: 三次握手由内核完成, 它的服务端套接字在监听队列 (listen(n) 的 backlog) "
        "中等待, 在 accept() 之前不属于任何进程: 连接视图显示 “在监听队列中 (尚未 accept)”, 它的第一行没有回复。"
        "关闭第一个客户端: 服务器的 recv() 返回 b\"\", 它 accept 第二个客户端, 第二个终于得到服务。"
        "第一个客户端先关闭, 所以它那一端进入 TIME_WAIT 约一分钟, 不属于任何进程。"
        "在 Linux 上 listen(n) 的监听队列能放 n + 1 个这样的连接 (listen(0) 也能放一个): backlog=1 时添加四个客户端, "
        "第一个被服务, 第二、三个以 ESTABLISHED 在监听队列中等待 (ss -ltn 显示 LISTEN 套接字的 Recv-Q 为 2, Send-Q 为 1), "
        "第四个停在 SYN_SENT: 它的 SYN 被丢弃, 直到队列有空位。"),
    params=(backlog_param(), delay_param(0, en_zh("reply", "回复"))),
    actions=(add_client("tcp_client", *TCP_ENDPOINT), CLOSE_FIRST_CLIENT, CLOSE_CLIENT),
    processes=one,
)

_TCP_FORK = Lab(
    "tcp_fork_server", "lab.experiments.tcp_fork_server",
    title=en_zh("TCP server: a process per client", "多进程并发服务器"),
    summary=en_zh("accept(), then os.fork(): the child serves the client, the parent accepts again.",
                  "accept() 之后 os.fork(): 子进程服务客户端, 父进程继续等待连接。"),
    explain=en_zh(
        "Each client gets a child process (role child) whose PPID is the server. The child closes the "
        "listening socket and holds exactly one ESTABLISHED socket; the parent closes its copy of the "
        "connection and holds only LISTEN. Close a client: its child's recv() returns b\"\", the child exits, "
        "and no Z appears: with reap=handler the parent's SIGCHLD handler calls waitpid(-1, WNOHANG) and "
        "prints the exit status; with reap=ignore, signal(SIGCHLD, SIG_IGN) lets the kernel discard the "
        "child at once (its status is lost).",
        "每个客户端有一个子进程 (角色 child), 它的 PPID 是服务器。子进程关闭监听套接字, 只持有一个 ESTABLISHED "
        "套接字; 父进程关闭它那份连接套接字, 只持有 LISTEN。关闭一个客户端: 子进程的 recv() 返回 b\"\", 子进程退出, "
        "不会出现 Z: reap=handler 时父进程的 SIGCHLD 处理函数调用 waitpid(-1, WNOHANG) 并打印退出状态; "
        "reap=ignore 时 signal(SIGCHLD, SIG_IGN) 让内核直接处理子进程 (退出状态丢失)。"),
    params=(backlog_param(),
            Param("reap", "choice", "handler", choices=("handler", "ignore"), label=en_zh("reap", "回收方式"),
                  help=en_zh("SIGCHLD handler with waitpid(WNOHANG), or signal(SIGCHLD, SIG_IGN)",
                             "SIGCHLD 处理函数 + waitpid(WNOHANG), 或 signal(SIGCHLD, SIG_IGN)"))),
    actions=(add_client("tcp_client", *TCP_ENDPOINT, adds=2), CLOSE_CLIENT),
    processes=one,
)

_TCP_THREAD = Lab(
    "tcp_thread_server", "lab.experiments.tcp_thread_server",
    title=en_zh("TCP server: a thread per client", "多线程并发服务器"),
    summary=en_zh("accept(), then threading.Thread: one process, a branch thread per client.",
                  "accept() 之后创建 threading.Thread: 一个进程, 每个客户端一个分支线程。"),
    explain=en_zh(
        "Still one process: every client adds a thread, so STAT gets an l (multi-threaded) and the thread "
        "count is clients + 1 (the main thread waits in accept()). All the ESTABLISHED sockets belong to "
        "this one process, next to its LISTEN socket. Close a client and its thread ends: the thread count "
        "drops; with no client left the l disappears. Threads are cheaper than processes but share "
        "everything, and Python's GIL runs one at a time, which is fine for IO.",
        "仍然只有一个进程: 每个客户端增加一个线程, 所以 STAT 带 l (多线程), 线程数 = 客户端数 + 1 "
        "(主线程在 accept() 中等待)。所有 ESTABLISHED 套接字和 LISTEN 套接字都属于这一个进程。"
        "关闭一个客户端, 它的线程结束, 线程数减少; 没有客户端时 l 消失。线程比进程省资源, 但共享一切, "
        "Python 的 GIL 让同一时刻只有一个线程执行, 对 IO 来说没有关系。"),
    params=(backlog_param(),),
    actions=(add_client("tcp_client", *TCP_ENDPOINT), CLOSE_CLIENT),
    processes=one,
)


URGENT = Action(
    "urgent", "signal", en_zh("urgent byte (MSG_OOB)", "发送带外数据 (MSG_OOB)"),
    en_zh("SIGUSR1 to the newest client: it sends one byte with send(b\"!\", MSG_OOB), and select() "
          "returns that connection in xs",
          "给最新的客户端发 SIGUSR1: 它用 send(b\"!\", MSG_OOB) 发送一个字节的带外数据, select() 在 xs 中返回这个连接"),
    role="client*", signal="SIGUSR1", pick="newest")


def _multiplexed(name, title, summary, how_en, how_zh, actions=()):
    return Lab(
        name, f"lab.experiments.{name}", title=title, summary=summary,
        explain=en_zh(
            "IO multiplexing (IO多路复用): one process with one thread holds the LISTEN socket and every "
            f"client's ESTABLISHED socket. {how_en} Between events the process sleeps in the kernel, state S; "
            "wchan names where: do_select or do_sys_poll (poll_schedule_timeout on newer kernels) for select "
            "and poll, ep_poll or do_epoll_wait for epoll. No IO may block here, or every client would wait. "
            "A client that closes shows as readable (POLLIN/EPOLLIN, its recv() returns b\"\"), not as POLLHUP: "
            "the kernel sets POLLHUP only once both directions are shut (or after a reset).",
            "IO多路复用: 一个进程、一个线程持有 LISTEN 套接字和每个客户端的 ESTABLISHED 套接字。"
            f"{how_zh}没有事件时进程在内核中睡眠, 状态 S; wchan 显示睡在哪里: select 和 poll 是 do_select 或 "
            "do_sys_poll (较新的内核是 poll_schedule_timeout), epoll 是 ep_poll 或 do_epoll_wait。"
            "这里任何 IO 都不能阻塞, 否则所有客户端都要等待。客户端关闭时表现为可读 (POLLIN/EPOLLIN, 它的 recv() 返回 "
            "b\"\"), 而不是 POLLHUP: 只有两个方向都关闭 (或连接被重置) 后内核才设置 POLLHUP。"),
        params=(backlog_param(),),
        actions=(add_client("tcp_client", *TCP_ENDPOINT), CLOSE_CLIENT, *actions),
        processes=one,
    )


_SELECT = _multiplexed(
    "select_server", en_zh("select() server", "select 服务器"),
    en_zh("rs, ws, xs = select(rlist, wlist, xlist): one thread watches every socket.",
          "rs, ws, xs = select(rlist, wlist, xlist): 一个线程监控所有套接字。"),
    "select(rlist, wlist, xlist) returns the sockets that are ready: the listening one (accept), a client "
    "with data (recv), a client owed a reply (send); a client that closed is removed from rlist. Type in "
    "the run's terminal: the terminal is in rlist too, as in the notes' homework. Every connection is in "
    "xlist as well: press \"urgent byte\" and the newest client sends one byte with MSG_OOB (TCP urgent "
    "data); select returns it in xs and the server reads it with recv(1, MSG_OOB), outside the normal "
    "stream. So xlist is not useless on Linux, as one set of notes says: it is not for errors (a reset "
    "connection shows in rlist, its recv raises) but for urgent data (poll's POLLPRI).",
    "select(rlist, wlist, xlist) 返回准备就绪的套接字: 监听套接字 (accept)、有数据的客户端 (recv)、等待回复的客户端 "
    "(send); 关闭的客户端移出 rlist。在运行的终端中输入: 终端也在 rlist 中, 正如笔记的作业。每个连接也在 xlist 中: "
    "点 “发送带外数据”, 最新的客户端用 MSG_OOB 发送一个字节 (TCP 紧急数据); select 在 xs 中返回它, 服务器用 "
    "recv(1, MSG_OOB) 在正常数据流之外读取。所以 xlist 在 Linux 下并非无效 (有的笔记这样说): 它不是用来报告出错的 "
    "(被重置的连接出现在 rlist 中, recv 时抛出异常), 而是用于带外数据 (poll 的 POLLPRI)。",
    actions=(URGENT,))

_POLL = _multiplexed(
    "poll_server", en_zh("poll() server", "poll 服务器"),
    en_zh("p.register(s, POLLIN | POLLERR), events = p.poll(), and a {fileno: socket} map.",
          "p.register(s, POLLIN | POLLERR), events = p.poll(), 以及 {fileno: 套接字} 字典。"),
    "p.poll() returns (fileno, event) pairs, numbers only, so a dictionary fdmap = {fileno: socket} finds "
    "the socket again; a client that closed is unregistered. Events are bits of one number, and the "
    "terminal prints each mask as a number, its bits and their names: POLLIN = 1, POLLPRI = 2, POLLOUT = 4, "
    "POLLERR = 8, POLLHUP = 16, so register(fd, POLLIN | POLLERR | POLLHUP) is 25 = 0b11001, and "
    "event & POLLIN tests one bit (the notes' bitwise operations).",
    "p.poll() 返回 (fileno, event) 元组, 只有数字, 所以用字典 fdmap = {fileno: 套接字} 找回套接字对象; "
    "关闭的客户端被 unregister。事件类型是一个整数的二进制位, 终端把每个事件掩码打印成数字、二进制位和名字: "
    "POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, 所以 register(fd, POLLIN | POLLERR | POLLHUP) "
    "是 25 = 0b11001, 用 event & POLLIN 判断某一位 (笔记的位运算: | 增补属性, & 判断属性)。")

_EPOLL = _multiplexed(
    "epoll_server", en_zh("epoll() server", "epoll 服务器"),
    en_zh("Like poll, with select.epoll() and EPOLL events: the watch list lives in the kernel.",
          "与 poll 基本相同, 使用 select.epoll() 和 EPOLL 事件: 关注列表保存在内核中。"),
    "Same as poll, but the watch list lives in the kernel's epoll object (one more fd, "
    "anon_inode:[eventpoll]), so a wait does not pass every fd again: epoll scales better. The masks are "
    "poll's bits, printed as numbers and bits (EPOLLIN = 1, EPOLLERR = 8, EPOLLHUP = 16), and the kernel "
    "shows them too: /proc/PID/fdinfo of the epoll fd has a line per watched fd, events in hex (19 = 25 = "
    "EPOLLIN | EPOLLERR | EPOLLHUP; epoll_ctl always adds EPOLLERR | EPOLLHUP). Level-triggered, like poll: "
    "no EPOLLET here.",
    "与 poll 相同, 但关注列表保存在内核的 epoll 对象中 (多一个文件描述符 anon_inode:[eventpoll]), "
    "每次等待不必再传入所有 fd: epoll 效率更高。事件掩码与 poll 的二进制位相同, 打印成数字和二进制位 "
    "(EPOLLIN = 1, EPOLLERR = 8, EPOLLHUP = 16), 内核里也能看到: epoll 文件描述符的 /proc/PID/fdinfo 中每个关注的 fd "
    "一行, events 是十六进制 (19 = 25 = EPOLLIN | EPOLLERR | EPOLLHUP; epoll_ctl 总会加上 EPOLLERR | EPOLLHUP)。"
    "这里是水平触发, 与 poll 相同, 没有使用边缘触发 EPOLLET。")

_UDP = Lab(
    "udp_server", "lab.experiments.udp_server",
    title=en_zh("UDP server", "UDP 服务器"),
    summary=en_zh("recvfrom() a datagram and its sender's address, sendto() the reply.",
                  "recvfrom() 接收数据报和发送方地址, sendto() 回复。"),
    explain=en_zh(
        "No listen, no accept, no connection: one socket serves every client. The sockets view shows the "
        "server's UDP socket with status NONE (ss: UNCONN) and no remote address however many clients talk, "
        "and each client's own UDP socket, bound to 127.0.0.1. There is nothing to pair into connections, "
        "and closing a client leaves no TIME_WAIT. Nor does a client learn that a server is missing: the "
        "kernel answers a datagram to a closed port with an ICMP port unreachable, but Linux reports it only "
        "to a connected UDP socket (ConnectionRefusedError); the notes' client uses sendto() unconnected, so "
        "its recvfrom() just times out (settimeout).",
        "没有 listen, 没有 accept, 没有连接: 一个套接字服务所有客户端。套接字视图中服务器的 UDP 套接字状态为 NONE "
        "(ss 显示 UNCONN), 无论多少客户端都没有远端地址; 每个客户端有自己的 UDP 套接字, 绑定在 127.0.0.1。"
        "没有可以配对的连接, 关闭客户端也不会留下 TIME_WAIT。客户端也不会知道服务器不在: 内核对发往无人端口的数据报回复 "
        "ICMP 端口不可达, 但 Linux 只把这个错误报告给已 connect 的 UDP 套接字 (ConnectionRefusedError); 笔记的客户端用 "
        "sendto() 不连接, 所以它的 recvfrom() 只会超时 (settimeout, 超时检测)。"),
    params=(),
    actions=(add_client("udp_client", *TCP_ENDPOINT, what=en_zh("a UDP client", "一个 UDP 客户端")),
             CLOSE_CLIENT),
    processes=one,
)

_UNIX = Lab(
    "unix_socket", "lab.experiments.unix_socket",
    title=en_zh("Unix domain socket", "本地套接字"),
    summary=en_zh("socket(AF_UNIX, SOCK_STREAM) bound to a socket file; one client at a time, or a thread each.",
                  "socket(AF_UNIX, SOCK_STREAM) 绑定到套接字文件; 一次服务一个客户端, 或每个客户端一个线程。"),
    explain=en_zh(
        "The address is a path, not an IP and port: the socket file (type s in ls -l) lives in the run's "
        "own directory. The sockets view shows proto unix: LISTEN with the path, each accepted connection "
        "ESTABLISHED with the path, each client's end ESTABLISHED without one (as ss -xap shows them). "
        "Unix connections leave no TIME_WAIT. When the run ends, the file and its directory are removed. "
        "serve=loop is the notes' plain loop: one client is served until it leaves; a second one is "
        "connected (ESTABLISHED) but waits in the listen queue, unanswered, until then. serve=threads gives "
        "each client a thread (STAT l).",
        "地址是一个路径, 不是 IP 和端口: 套接字文件 (ls -l 中类型为 s) 在这次运行自己的目录里。"
        "套接字视图显示 proto unix: 带路径的 LISTEN, 每个已接受的连接是带路径的 ESTABLISHED, 客户端那一端是不带路径的 "
        "ESTABLISHED (与 ss -xap 一致)。本地套接字不会留下 TIME_WAIT。运行结束时文件和目录被删除。"
        "serve=loop 是笔记中的循环程序: 服务一个客户端直到它离开; 第二个客户端已连接 (ESTABLISHED), 但在监听队列中等待, "
        "在那之前得不到回复。serve=threads 每个客户端一个线程 (STAT 带 l)。"),
    params=(Param("serve", "choice", "loop", choices=("loop", "threads"), label=en_zh("serve", "服务方式"),
                  help=en_zh("loop: one client at a time, as in the notes; threads: a thread per client",
                             "loop: 循环服务, 一次一个客户端 (同笔记); threads: 每个客户端一个线程")),
            backlog_param()),
    actions=(add_client("unix_client", "--path", "{path}", what=en_zh("a Unix-socket client",
                                                                        "一个本地套接字客户端")),
             CLOSE_CLIENT),
    processes=one,
)

_HTTP = Lab(
    "http_server", "lab.experiments.http_server",
    title=en_zh("Hand-written HTTP server", "HTTP 服务器"),
    summary=en_zh("Read the request line, headers and empty line; send a status line, headers and a page.",
                  "读取请求行、请求头和空行; 发送响应行、响应头和网页。"),
    explain=en_zh(
        "Open the page from the dashboard: the dashboard fetches it for your browser (the lab listens "
        "on 127.0.0.1 only), so the terminal shows the request line the dashboard sent "
        "(GET / HTTP/1.1; its headers, User-Agent: proclab-dashboard among them, are read but not printed), the server answers HTTP/1.1 200 OK with Content-Type, Content-Length and "
        "Connection: close, then closes: every request is a connection of its own, visible while the "
        "server takes its delay, and leaves a TIME_WAIT on the server side, which closed first. mode=plain "
        "serves one request at a time (the next waits in the backlog); mode=threaded starts a thread per "
        "request (STAT l while requests are in progress). \"add client\" makes a GET every 3 s by hand. "
        "version=2 is the notes' second version: a class HTTPServer (serve_forever, handle, get_html, get_data), "
        "threaded, serving a small static directory it writes into the run's directory at start (index.html, "
        "about.html, style.css; follow the page's links): \"/\" and *.html are files of that directory, "
        "/time is data made per request, anything else (or outside the directory) is 404; the directory goes "
        "when the run stops. mode does not apply to version 2.",
        "从仪表板打开网页: 仪表板替你的浏览器去取这个网页 (实验只监听 127.0.0.1), 所以终端显示的是仪表板发送的请求行 "
        "(GET / HTTP/1.1; 请求头, 包括 User-Agent: proclab-dashboard, 被读取但不打印), 服务器回复 HTTP/1.1 200 OK 以及 "
        "Content-Type、Content-Length 和 Connection: close, 然后关闭连接: 每个请求是一个单独的连接, 在服务器的延时期间"
        "可以看到, 并在先关闭的服务器一端留下 TIME_WAIT。mode=plain 一次处理一个请求 (下一个在监听队列中等待); "
        "mode=threaded 每个请求一个线程 (处理请求时 STAT 带 l)。“添加客户端” 每 3 秒手动发送一次 GET。"
        "version=2 是笔记的 httpserver 第二版: 封装为类 HTTPServer (serve_forever、handle、get_html、get_data), "
        "多线程并发, 提供一个小的静态网页目录, 启动时写在本次运行的目录里 (index.html、about.html、style.css; 点网页中的链接): "
        "“/” 和 *.html 是该目录中的文件, /time 是每次请求生成的数据 (数据获取功能), 其他路径 (或目录之外) 返回 404; "
        "运行结束时目录被删除。mode 参数不用于第二版。"),
    params=(Param("mode", "choice", "plain", choices=("plain", "threaded"), label=en_zh("mode", "模式"),
                  help=en_zh("one request at a time, or a thread per request", "一次一个请求, 或每个请求一个线程")),
            # at most 4 s: the dashboard's page proxy gives a lab server 5 s to answer
            delay_param(1.0, en_zh("response", "响应"), most=4.0), backlog_param(),
            Param("version", "choice", "1", choices=("1", "2"), label=en_zh("version", "版本"),
                  help=en_zh("1: one page, plain or threaded; 2: the notes' class-based threaded server of a "
                             "static directory",
                             "1: 一个网页, 循环或多线程; 2: 笔记的第二版, 用类封装、多线程并发、提供静态网页目录"))),
    actions=(add_client("http_client", *TCP_ENDPOINT, what=en_zh("an HTTP client", "一个 HTTP 客户端")),
             CLOSE_CLIENT),
    processes=one,
)

SOCKET_LABS = (_TCP_LOOP, _TCP_FORK, _TCP_THREAD, _SELECT, _POLL, _EPOLL, _UDP, _UNIX, _HTTP)
