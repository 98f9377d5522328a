"""What the transport does underneath: broadcast, sticky packets (粘包), TCP's states (四次挥手).

Built on the socket labs' vocabulary (lab/catalog/sockets.py: add_client, CLOSE_CLIENT)."""
from lab.catalog.sockets import CLOSE_CLIENT
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
        "UDP keeps its boundaries: a datagram is never glued to another. \"send again\" runs another round.",
        "TCP 以字节流方式传输, 没有消息边界。服务器接受客户端的连接后先睡眠, 再第一次 recv(); 客户端发送若干条消息, "
        "每条一次 send()。内核把数据留在服务器套接字的接收缓冲区里: 套接字视图中它的 Recv-Q 随每次 send() 增长。"
        "framing = none 时, recv(1024) 一次返回所有数据, 多条消息粘在一起 (粘包): recv() 次数少于 send() 次数, "
        "也分不清一条消息在哪里结束。framing = length 时, 每条消息前面加 struct.pack('!I', n) (网络字节序的 4 字节"
        "长度), 人为添加消息边界; 服务器先准确读 4 个字节, 解析出 n, 再准确读 n 个字节: 每次 send() 对应一条完整"
        "的消息。UDP 有消息边界, 数据报不会粘包。“再发一轮” 再运行一轮。"),
    params=(
        Param("framing", "choice", "none", choices=("none", "length"), label=en_zh("framing", "消息边界"),
              help=en_zh("none: bare send()s; length: struct.pack('!I', n) before each message",
                         "none: 直接 send(); length: 每条消息前加 struct.pack('!I', n)")),
        Param("messages", "int", 5, 2, 20, label=en_zh("messages", "消息数"),
              help=en_zh("send() calls per round", "每一轮 send() 的次数")),
        Param("gap", "float", 0.3, 0.0, 2.0, label=en_zh("gap (s)", "发送间隔 (秒)"),
              help=en_zh("seconds between two send()s", "两次 send() 之间的秒数")),
        Param("delay", "float", 3.0, 0.0, 10.0, label=en_zh("delay (s)", "延时 (秒)"),
              help=en_zh("seconds the server sleeps before its first recv()",
                         "服务器第一次 recv() 之前睡眠的秒数")),
    ),
    actions=(
        signal_action("send_again", en_zh("send again", "再发一轮"),
                      en_zh("SIGUSR1 to the client: a new connection and another round of send()s",
                            "给客户端发 SIGUSR1: 新的连接, 再一轮 send()"), "client", "SIGUSR1"),
        CLOSE_CLIENT,
    ),
    processes=lambda p: 2,
)

TRANSPORT_LABS = (_BROADCAST, _STICKY)
