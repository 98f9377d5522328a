"""What the transport does underneath: broadcast, sticky packets (粘包), TCP's states (四次挥手).

Built on the socket labs' vocabulary (lab/catalog/sockets.py: add_client, CLOSE_CLIENT)."""
from lab.catalog.sockets import CLOSE_CLIENT, backlog_param
from lab.catalog.types import Action, Lab, Param, en_zh, signal_action

_BROADCAST = Lab(
    "udp_broadcast", "lab.experiments.udp_broadcast",
    title=en_zh("UDP broadcast", "UDP 广播"),
    summary=en_zh("One sender with SO_BROADCAST to 127.255.255.255, several receivers: each gets every datagram.",
                  "一点发送多点接收: 发送端设置 SO_BROADCAST 发往 127.255.255.255, 每个接收端都收到每个数据报。"),
    explain=en_zh(
        "The sender (role sender) forks the receivers (receiver 1, 2, ...). Each receiver has its own UDP "
        "socket bound to the broadcast address 127.255.255.255 and the same port: SO_REUSEADDR lets them "
        "share it, and the sockets view shows one UDP socket per receiver on that address, status NONE "
        "(ss: UNCONN). Every datagram the sender sends to the broadcast address is copied by the kernel to "
        "every socket bound there: each receiver prints each one. The first line shows the rule: without "
        "SO_BROADCAST, sendto() to a broadcast address fails with PermissionError (EACCES); \"send without "
        "SO_BROADCAST\" tries again. A socket bound to 127.0.0.1 would get nothing (a bound address filters "
        "by the destination), and 0.0.0.0 is not used here. \"add receiver\" starts one more, which gets "
        "the broadcasts from then on; the last datagram says the broadcast is over, and every receiver leaves.",
        "发送端 (角色 sender) 创建接收端进程 (receiver 1、2 ...)。每个接收端有自己的 UDP 套接字, 绑定广播地址 "
        "127.255.255.255 和同一个端口: SO_REUSEADDR (端口立即复用) 让它们共用这个端口, 套接字视图中每个接收端"
        "一个 UDP 套接字, 状态 NONE (ss 显示 UNCONN)。发送端发往广播地址的每个数据报, 内核复制给绑定在那里的每个"
        "套接字: 每个接收端都打印每一个。第一行说明规则: 没有设置 SO_BROADCAST 时, sendto() 发往广播地址失败, "
        "PermissionError (EACCES); “不设 SO_BROADCAST 发送” 再试一次。绑定 127.0.0.1 的套接字什么也收不到 "
        "(绑定的地址按目标地址过滤), 这里也不使用 0.0.0.0。“添加接收端” 再启动一个, 它从此收到广播; "
        "最后一个数据报表示广播结束, 所有接收端退出。"),
    params=(
        Param("receivers", "int", 3, 1, 8, label=en_zh("receivers", "接收端数"),
              help=en_zh("receiver processes, each with its own socket on the broadcast address",
                         "接收端进程数, 每个在广播地址上有自己的套接字")),
        Param("every", "float", 2.0, 0.1, 10.0, label=en_zh("every (s)", "间隔 (秒)"),
              help=en_zh("seconds between two broadcasts", "两次广播之间的秒数")),
        Param("count", "int", 100, 1, 300, label=en_zh("broadcasts", "广播次数"),
              help=en_zh("datagrams to send, then the broadcast is over", "发送的数据报数, 然后广播结束")),
    ),
    actions=(
        Action("add_client", "spawn", en_zh("add receiver", "添加接收端"),
               en_zh("start one more receiver in this run: it binds 127.255.255.255 and the port, and gets "
                     "every broadcast from then on",
                     "在本次运行中再启动一个接收端: 它绑定 127.255.255.255 和端口, 从此收到每个广播"),
               argv=("-m", "lab.experiments.udp_broadcast_recv", "--port", "{port}")),
        Action("close_client", "signal", en_zh("close receiver", "关闭接收端"),
               en_zh("SIGTERM to the newest receiver: it closes its socket and exits",
                     "给最新的接收端发 SIGTERM: 它关闭套接字并退出"),
               role="receiver*", signal="SIGTERM", pick="newest"),
        signal_action("no_broadcast", en_zh("send without SO_BROADCAST", "不设 SO_BROADCAST 发送"),
                      en_zh("SIGUSR1 to the sender: sendto() with SO_BROADCAST off fails with EACCES",
                            "给发送端发 SIGUSR1: 关闭 SO_BROADCAST 后 sendto() 失败, EACCES"),
                      "sender", "SIGUSR1"),
    ),
    processes=lambda p: 1 + p["receivers"],
)

_STICKY = Lab(
    "sticky_packets", "lab.experiments.sticky_packets",
    title=en_zh("Sticky packets", "TCP 粘包"),
    summary=en_zh("Several quick send()s arrive in one recv(); the fix: a struct.pack('!I', n) length prefix.",
                  "多次 send() 的数据被一次 recv() 收到 (粘包); 解决: struct.pack('!I', n) 长度前缀。"),
    explain=en_zh(
        "TCP is a byte stream (字节流) with no message boundaries. The server accepts the client's connection "
        "and sleeps before its first recv(); the client sends its messages, one send() each. The kernel "
        "keeps the bytes in the server socket's receive buffer: its Recv-Q in the sockets view grows with "
        "every send(). With framing = none, recv(1024) then returns everything at once, the messages glued "
        "together: fewer recv()s than send()s, and no way to tell where one ends. With framing = length, "
        "each message goes out as struct.pack('!I', n) (a 4-byte length in network byte order) and its n "
        "bytes; the server reads exactly 4 bytes, unpacks n, reads exactly n: one whole message per send(). "
        "UDP keeps its boundaries: a datagram is never glued to another. \"send again\" runs another round. "
        "The client closes when it has sent: the server's socket turns CLOSE_WAIT and its Recv-Q counts one "
        "more than the bytes sent, the client's FIN (it takes a sequence number too).",
        "TCP 以字节流方式传输, 没有消息边界。服务器接受客户端的连接后先睡眠, 再第一次 recv(); 客户端发送若干条消息, "
        "每条一次 send()。内核把数据留在服务器套接字的接收缓冲区里: 套接字视图中它的 Recv-Q 随每次 send() 增长。"
        "framing = none 时, recv(1024) 一次返回所有数据, 多条消息粘在一起 (粘包): recv() 次数少于 send() 次数, "
        "也分不清一条消息在哪里结束。framing = length 时, 每条消息前面加 struct.pack('!I', n) (网络字节序的 4 字节"
        "长度), 人为添加消息边界; 服务器先准确读 4 个字节, 解析出 n, 再准确读 n 个字节: 每次 send() 对应一条完整"
        "的消息。UDP 有消息边界, 数据报不会粘包。“再发一轮” 再运行一轮。客户端发完就关闭连接: 服务器的套接字"
        "变为 CLOSE_WAIT, 它的 Recv-Q 比发送的字节数多 1, 那是客户端的 FIN (它也占一个序号)。"),
    params=(
        Param("framing", "choice", "none", choices=("none", "length"), label=en_zh("framing", "消息边界"),
              help=en_zh("none: bare send()s; length: struct.pack('!I', n) before each message",
                         "none: 直接 send(); length: 每条消息前加 struct.pack('!I', n)")),
        Param("messages", "int", 5, 2, 20, label=en_zh("messages", "消息数"),
              help=en_zh("send() calls per round", "每一轮 send() 的次数")),
        Param("gap", "float", 1.0, 0.0, 2.0, label=en_zh("gap (s)", "发送间隔 (秒)"),
              help=en_zh("seconds between two send()s", "两次 send() 之间的秒数")),
        Param("delay", "float", 3.0, 0.0, 10.0, label=en_zh("delay (s)", "延时 (秒)"),
              help=en_zh("seconds the server sleeps before its first recv()",
                         "服务器第一次 recv() 之前睡眠的秒数")),
    ),
    actions=(
        signal_action("add_client", en_zh("add client", "添加客户端"),
                      en_zh("SIGUSR2 to the server: it forks one more client (at most four); the server is "
                            "iterative, so its bytes wait until the current one is done",
                            "给服务器发 SIGUSR2: 它再 fork 一个客户端 (最多四个); 服务器是循环服务器, 新客户端的数据"
                            "要等当前客户端处理完"), "server", "SIGUSR2"),
        signal_action("send_again", en_zh("send again", "再发一轮"),
                      en_zh("SIGUSR1 to the client: a new connection and another round of send()s",
                            "给客户端发 SIGUSR1: 新的连接, 再一轮 send()"), "client", "SIGUSR1"),
        CLOSE_CLIENT,
    ),
    processes=lambda p: 2,      # the server and its first client; "add client" forks at most three more
)



def _typed(id, label, help, line):
    """A command typed into the demo process's terminal, as the student could type it."""
    return Action(id, "key", label, help, key=line + "\r")


_TCP_STATES = Lab(
    "tcp_states", "lab.experiments.tcp_states",
    title=en_zh("TCP's states", "TCP 的状态: 三次握手和四次挥手"),
    summary=en_zh("The close handshake step by step: FIN_WAIT2 and CLOSE_WAIT, LAST_ACK, TIME_WAIT; half close; "
                  "EADDRINUSE; SYN_SENT past the backlog.",
                  "一步一步地四次挥手: FIN_WAIT2 和 CLOSE_WAIT、LAST_ACK、TIME_WAIT; 半关闭; EADDRINUSE; "
                  "超出监听队列的 SYN_SENT。"),
    explain=en_zh(
        "One process (role tcp demo) holds both ends: the client's socket and the server's listening and "
        "connected sockets; each action types one command, and the sockets view shows each state as ss -tan "
        "does. connect: the three-way handshake, both ESTABLISHED. close client: the client closes first "
        "(its FIN and the ACK): the client is FIN_WAIT2, owned by no process; the server's recv() returns "
        "b\"\", and as long as it does not close, it is CLOSE_WAIT. close server: the last FIN and ACK: "
        "LAST_ACK for an instant, then the side that closed first is TIME_WAIT for a minute, owned by "
        "nobody. Either side may close first. On loopback LAST_ACK is too quick to see, so: shutdown "
        "(SHUT_WR, a half close: the client sends its FIN but can still receive), server send (it fills "
        "the client's window: Recv-Q and Send-Q), close server: the FIN waits behind unread data, LAST_ACK "
        "stays; client read lets it go. rebind closes the listening socket and binds the port again "
        "without SO_REUSEADDR: after the server closed first, its TIME_WAIT holds the port and bind() "
        "fails with EADDRINUSE; with SO_REUSEADDR it works (端口立即复用). After the client closed first "
        "the TIME_WAIT is on the client's port, and the rebind works anyway. flood: backlog + 3 connect()s "
        "that nobody accepts: backlog + 1 are ESTABLISHED in the listen queue, the others stay SYN_SENT.",
        "一个进程 (角色 TCP 演示进程) 持有两端: 客户端套接字, 以及服务器的监听套接字和连接套接字; 每个操作输入一条命令, "
        "套接字视图像 ss -tan 一样显示每个状态。connect: 三次握手, 两端 ESTABLISHED。关闭客户端: 客户端先关闭 "
        "(主动方发送 FIN, 被动方回复 ACK): 客户端 FIN_WAIT2, 不再属于任何进程; 服务器的 recv() 返回 b\"\", "
        "只要它还没有 close(), 就是 CLOSE_WAIT。关闭服务器: 被动方再发送 FIN, 主动方回复 ACK: 短暂的 LAST_ACK, "
        "然后先关闭的一方进入 TIME_WAIT 约一分钟, 不属于任何进程。哪一方都可以先关闭。在本机回环上 LAST_ACK "
        "太快看不到, 所以: shutdown (SHUT_WR 半关闭: 客户端发送 FIN, 但仍可以接收), 服务器 send (填满客户端的接收窗口: "
        "Recv-Q 和 Send-Q), 关闭服务器: FIN 排在没有读的数据后面, LAST_ACK 一直保持; 客户端 read 后才结束。"
        "rebind 关闭监听套接字, 不设置 SO_REUSEADDR 重新绑定端口: 服务器先关闭后, 它的 TIME_WAIT 占着端口, "
        "bind() 失败, EADDRINUSE; 设置 SO_REUSEADDR 后成功 (端口立即复用)。客户端先关闭时 TIME_WAIT 在客户端的"
        "端口上, rebind 照样成功。flood: backlog + 3 个没有人 accept 的 connect(): backlog + 1 个在监听队列中 "
        "ESTABLISHED, 其余的停在 SYN_SENT。"),
    params=(backlog_param(1),),
    actions=(
        _typed("add_client", en_zh("connect", "连接"),
               en_zh("types: connect  (connect() and accept(): the three-way handshake)",
                     "输入: connect  (connect() 和 accept(): 三次握手)"), "connect"),
        _typed("close_client", en_zh("close client", "关闭客户端"),
               en_zh("types: close client  (the client's close(): FIN_WAIT2, the server CLOSE_WAIT)",
                     "输入: close client  (客户端 close(): FIN_WAIT2, 服务器 CLOSE_WAIT)"), "close client"),
        _typed("server_close", en_zh("close server", "关闭服务器"),
               en_zh("types: close server  (the server's close(): LAST_ACK, or FIN_WAIT2 if it is first)",
                     "输入: close server  (服务器 close(): LAST_ACK, 先关闭则 FIN_WAIT2)"), "close server"),
        _typed("shutdown", en_zh("half close", "半关闭"),
               en_zh("types: shutdown  (the client's shutdown(SHUT_WR): it can still receive)",
                     "输入: shutdown  (客户端 shutdown(SHUT_WR): 仍可以接收)"), "shutdown"),
        _typed("send", en_zh("server sends", "服务器发送"),
               en_zh("types: send  (the server sends until its buffer is full: the client does not read)",
                     "输入: send  (服务器发送直到缓冲区满: 客户端不读)"), "send"),
        _typed("read", en_zh("client reads", "客户端读取"),
               en_zh("types: read  (the client reads all that came, to b\"\" if the server closed)",
                     "输入: read  (客户端读完收到的数据, 服务器关闭了则读到 b\"\")"), "read"),
        _typed("rebind", en_zh("rebind the port", "重新绑定端口"),
               en_zh("types: rebind  (bind() again without SO_REUSEADDR: EADDRINUSE while a TIME_WAIT holds it)",
                     "输入: rebind  (不设 SO_REUSEADDR 重新 bind(): TIME_WAIT 占着端口时 EADDRINUSE)"), "rebind"),
        _typed("flood", en_zh("past the backlog", "超出监听队列"),
               en_zh("types: flood  (backlog + 3 connect()s nobody accepts: some stay SYN_SENT)",
                     "输入: flood  (backlog + 3 个没有人 accept 的 connect(): 有的停在 SYN_SENT)"), "flood"),
        _typed("reset", en_zh("reset", "重置"),
               en_zh("types: reset  (close every connection)", "输入: reset  (关闭所有连接)"), "reset"),
    ),
    processes=lambda p: 1,
)

TRANSPORT_LABS = (_BROADCAST, _STICKY, _TCP_STATES)
