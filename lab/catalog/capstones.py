"""The notes' two capstone programs: the UDP chat room (聊天室) and the TCP file server (文件服务器).

Built on the socket labs' vocabulary (lab/catalog/sockets.py: add_client, CLOSE_CLIENT)."""
from dataclasses import replace

from lab.catalog.sockets import CLOSE_CLIENT, TCP_ENDPOINT, add_client
from lab.catalog.types import Action, Lab, Param, en_zh

_CHAT_ROOM = Lab(
    "chat_room", "lab.experiments.chat_room",
    title=en_zh("UDP chat room", "聊天室"),
    summary=en_zh("A server keeps {name: address}; members join with a unique name, talk, leave; "
                  "the admin speaks to all.",
                  "服务器保存 {姓名: 地址}; 成员用不重复的姓名进入聊天室、发言、退出; 管理员喊话群里都收到。"),
    explain=en_zh(
        "UDP (datagram sockets): one message is one datagram, so there is no 粘包 and no connection. The "
        "server's requests are L name (login), C name text (chat), Q name (quit). It holds one UDP socket, "
        "UNCONN, and forks: the parent answers the requests, the child (role admin) reads the terminal and "
        "sends what you type to the server itself as C 管理员 text, so both hold the same socket. Type a line "
        "in the run's terminal (or \"admin speaks\"): every member gets \"管理员 说: ...\". \"Add client\" "
        "starts a member: it logs in with the first free name of 小明, 小红, 小刚... (a taken name is refused: "
        "该用户已存在, and it tries the next), the others get \"xxx 进入了聊天室\"; then it forks: the child "
        "(client sender) sends a line every 4 s, relayed to the others as \"xxx 说: ...\", the parent "
        "(client) receives. Select a member and use \"type into its stdin\" in its details: what you type "
        "there it says to the room at once (a member does not own the run's keyboard, so lab init gives it "
        "a stdin of its own, a pipe). One socket, two processes: the sockets view shows the member's UDP socket in "
        "both. \"Close client\" sends SIGTERM to the newest sender: it sends Q name, the others get \"xxx "
        "退出了聊天室\", the server answers EXIT and the receiving parent reaps its child and exits; if the "
        "sender is killed (kill -9), the parent sees it die (SIGCHLD) and sends Q name for it. A name is "
        "letters, numbers and signs (a space, a control or an invisible character: 姓名不合法), and a look-alike "
        "of 管理员 or of a name in use is taken; a text loses its control characters (no line of its own). "
        "UDP has no connection: a member prints only the datagrams from the server's address.",
        "UDP (数据报套接字): 一条消息就是一个数据报, 没有粘包, 也没有连接。服务器的请求是 L 姓名 (进入)、"
        "C 姓名 内容 (发言)、Q 姓名 (退出)。服务器只有一个 UDP 套接字, 状态 UNCONN, 并且 fork: 父进程处理请求, "
        "子进程 (角色 admin, 管理员) 读终端, 把输入的内容以 C 管理员 内容 发给服务器自己, 所以两个进程持有同一个套接字。"
        "在运行的终端中输入一行 (或点 “管理员喊话”): 每个成员都收到 “管理员 说: ...”。“添加客户端” 启动一个成员: "
        "它依次用 小明、小红、小刚... 中第一个没被占用的姓名进入 (已有的姓名被拒绝: 该用户已存在, 它再试下一个), "
        "其他人收到 “xxx 进入了聊天室”; 然后它 fork: 子进程 (client sender) 每 4 秒发言一次, 服务器转发给其他人 "
        "“xxx 说: ...”, 父进程 (client) 负责接收。选中一个成员, 在详情中用 “向它的标准输入输入”: 输入的内容它会"
        "立即发到聊天室 (成员不拥有运行的键盘, 所以 lab init 给了它自己的标准输入, 一个管道)。一个套接字, 两个进程: 套接字视图中两个进程都有这个成员的 UDP 套接字。"
        "“关闭客户端” 给最新的发送进程发 SIGTERM: 它发送 Q 姓名, 其他人收到 “xxx 退出了聊天室”, 服务器回复 EXIT, "
        "接收的父进程回收子进程后退出; 发送进程被 kill -9 杀死时, 父进程收到 SIGCHLD, 替它发送 Q 姓名。"
        "姓名只能是文字、数字和符号 (含空格、控制字符或看不见的字符: 姓名不合法), 和管理员或已有姓名相像的也算已存在; "
        "发言中的控制字符 (如换行) 变成空格, 不能另起一行。UDP 没有连接: 成员只显示服务器地址发来的数据报。"),
    params=(),
    actions=(
        replace(add_client("chat_member", *TCP_ENDPOINT, what=en_zh("a chat member", "一个聊天室成员"), adds=2),
                help=en_zh("start a member in this run: it joins with the first free name, then forks a "
                           "sending child; it says a line every 4 s",
                           "在本次运行中启动一个成员: 用第一个没被占用的姓名进入聊天室, 然后 fork 出发送的子进程; "
                           "每 4 秒发言一次")),
        replace(CLOSE_CLIENT, help=en_zh("SIGTERM to the newest member's sender: it sends Q name and the "
                                         "room is told it left",
                                         "给最新成员的发送进程发 SIGTERM: 它发送 Q 姓名, 聊天室里其他人收到退出通知")),
        Action("admin_says", "key", en_zh("admin speaks", "管理员喊话"),
               en_zh("type a line into the server's terminal: the admin child sends it to every member",
                     "在服务器的终端中输入一行: 管理员子进程把它发给所有成员"),
               key="大家好, 我是管理员\r"),
    ),
    processes=lambda params: 2,
)

_FILE_SERVER = Lab(
    "file_server", "lab.experiments.file_server",
    title=en_zh("File server (tftp)", "文件服务器"),
    summary=en_zh("The notes' tftp file server over TCP: class TftpServer, a child process per client; "
                  "list, get, put, quit.",
                  "笔记中的 tftp 文件服务器, 基于 TCP: TftpServer 类, 每个客户端一个子进程; 查看列表、下载、上传、退出。"),
    explain=en_zh(
        "TCP is a byte stream (流式套接字), so two send()s may arrive in one recv() (粘包). The notes' program "
        "sleeps and ends a file with ##; here every frame says where it ends: a request is one line (L, "
        "G name, P name size, Q), a reply is OK size or ERR reason, and a body is exactly the size announced; "
        "what a recv() brings past a line is kept for the next read. The server serves a library of its "
        "own made for this run (three files and a subdirectory, which the list leaves out: only regular "
        "files). \"Add client\" connects a client: the server forks a child (role child, PPID the server) "
        "holding that one ESTABLISHED socket, while the parent holds only LISTEN. The client lists, "
        "downloads data.bin (128 KiB, read 4 KiB every 0.05 s: the bytes wait in its Recv-Q and the child's "
        "Send-Q, the progress lines show them arrive), uploads a file of 32 KiB and stays connected. Names "
        "with /, .. or NUL are refused, uploads are capped (upload cap), nothing is overwritten; the library "
        "holds 16 MiB at most, the room of an upload taken under a lock (flock) before its bytes come. "
        "At most 8 children serve at once: a ninth client is told ERR and closed; a child whose client "
        "sends nothing for 300 s closes (settimeout: 超时检测). Close a "
        "client: it sends Q, its child exits and the SIGCHLD handler reaps it (waitpid WNOHANG): no Z. "
        "When the run stops, the library and the uploads are gone with it.",
        "TCP 是字节流 (流式套接字), 两次 send() 可能在一次 recv() 中到达 (粘包)。笔记中的程序用 sleep 和 ## 表示文件结尾; "
        "这里每一帧都说明自己在哪里结束: 请求是一行 (L, G 文件名, P 文件名 大小, Q), 回复是 OK 大小 或 ERR 原因, "
        "数据正好是声明的字节数; recv() 多收到的字节留给下一次读取。服务器使用本次运行自己的文件库 (三个文件和一个子目录, "
        "列表不显示子目录: 只显示普通文件)。“添加客户端” 连接一个客户端: 服务器 fork 一个子进程 (角色 child, PPID 是服务器) "
        "持有这一个 ESTABLISHED 套接字, 父进程只持有 LISTEN。客户端查看列表, 下载 data.bin (128 KiB, 每 0.05 秒读 4 KiB: "
        "字节在它的 Recv-Q 和子进程的 Send-Q 中等待, 进度行显示它们陆续到达), 上传一个 32 KiB 的文件, 然后保持连接。"
        "含 /、.. 或 NUL 的文件名被拒绝, 上传大小有上限, 已有的文件不会被覆盖; 文件库最多 16 MiB, 上传在数据到达之前"
        "先在锁 (flock) 下占好空间。最多 8 个子进程同时服务: 第九个客户端收到 ERR 后被关闭; 客户端 300 秒没有请求, "
        "子进程关闭连接 (settimeout: 超时检测)。关闭一个客户端: 它发送 Q, 子进程退出, "
        "SIGCHLD 处理函数回收它 (waitpid WNOHANG): 没有 Z。运行停止时, 文件库和上传的文件一起删除。"),
    params=(Param("max_size", "int", 1024, 1, 4096, label=en_zh("upload cap (KiB)", "上传上限 (KiB)"),
                  help=en_zh("the largest file a client may put; larger ones are refused",
                             "客户端可以上传的最大文件; 更大的被拒绝")),),
    actions=(
        replace(add_client("file_client", *TCP_ENDPOINT, "--pace", "0.05",
                           what=en_zh("a file client", "一个文件客户端"), adds=2),
                help=en_zh("start a client in this run: it lists, gets data.bin, puts a file and stays "
                           "connected; the server forks a child for it",
                           "在本次运行中启动一个客户端: 查看列表, 下载 data.bin, 上传一个文件, 然后保持连接; "
                           "服务器为它 fork 一个子进程")),
        replace(CLOSE_CLIENT, help=en_zh("SIGTERM to the newest client: it sends Q and closes; its child "
                                         "exits and is reaped",
                                         "给最新的客户端发 SIGTERM: 它发送 Q 并关闭; 它的子进程退出并被回收")),
    ),
    processes=lambda params: 1,
)

CAPSTONE_LABS = (_CHAT_ROOM, _FILE_SERVER)
