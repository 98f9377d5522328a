"""The notes' two capstone programs: the UDP chat room (聊天室) and the TCP file server (文件服务器).

Built on the socket labs' vocabulary (lab/catalog/sockets.py: add_client, CLOSE_CLIENT)."""
from dataclasses import replace

from lab.catalog.sockets import CLOSE_CLIENT, TCP_ENDPOINT, add_client
from lab.catalog.types import Action, Lab, en_zh

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
        "(client) receives. One socket, two processes: the sockets view shows the member's UDP socket in "
        "both. \"Close client\" sends SIGTERM to the newest sender: it sends Q name, the others get \"xxx "
        "退出了聊天室\", the server answers EXIT and the receiving parent reaps its child and exits.",
        "UDP (数据报套接字): 一条消息就是一个数据报, 没有粘包, 也没有连接。服务器的请求是 L 姓名 (进入)、"
        "C 姓名 内容 (发言)、Q 姓名 (退出)。服务器只有一个 UDP 套接字, 状态 UNCONN, 并且 fork: 父进程处理请求, "
        "子进程 (角色 admin, 管理员) 读终端, 把输入的内容以 C 管理员 内容 发给服务器自己, 所以两个进程持有同一个套接字。"
        "在运行的终端中输入一行 (或点 “管理员喊话”): 每个成员都收到 “管理员 说: ...”。“添加客户端” 启动一个成员: "
        "它依次用 小明、小红、小刚... 中第一个没被占用的姓名进入 (已有的姓名被拒绝: 该用户已存在, 它再试下一个), "
        "其他人收到 “xxx 进入了聊天室”; 然后它 fork: 子进程 (client sender) 每 4 秒发言一次, 服务器转发给其他人 "
        "“xxx 说: ...”, 父进程 (client) 负责接收。一个套接字, 两个进程: 套接字视图中两个进程都有这个成员的 UDP 套接字。"
        "“关闭客户端” 给最新的发送进程发 SIGTERM: 它发送 Q 姓名, 其他人收到 “xxx 退出了聊天室”, 服务器回复 EXIT, "
        "接收的父进程回收子进程后退出。"),
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

CAPSTONE_LABS = (_CHAT_ROOM,)
