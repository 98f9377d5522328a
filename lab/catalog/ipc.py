"""The inter-process communication lab (进程间通信, day06): a producer and a consumer
talking through a Pipe, a Queue, a Value or an Array made by their parent."""
from lab.catalog.types import Lab, Param, en_zh, signal_action

_IPC = Lab(
    "ipc", "lab.experiments.ipc",
    title=en_zh("Inter-process communication", "进程间通信"),
    summary=en_zh("A producer and a consumer: Pipe (duplex or one-way), Queue(3), Value or Array, made by the parent.",
                  "生产者和消费者: 管道 Pipe (双向或单向)、消息队列 Queue(3)、共享内存 Value 或 Array, 由父进程创建。"),
    explain=en_zh(
        "Processes have separate memory, so they pass data through an IPC object the parent makes before it "
        "starts the producer and the consumer: both children get the same kernel object. Pipe() is a Unix "
        "socketpair: fd1 and fd2 both read and write; the consumer recv()s on fd1 and sends a reply back, "
        "which the producer recv()s on fd2. Pipe(duplex=False) is an os.pipe(): fd1 is only the recv end, "
        "fd2 only the send end (the other way raises OSError). A reader of an empty pipe blocks: the "
        "consumer is S, its wchan a pipe or unix-socket read, until a message comes. Queue(3) is first in, "
        "first out, at most 3 messages: with the consumer slower than the producer it fills up, q.full() "
        "turns True and put() blocks (the producer sleeps in a futex, on the queue's semaphore) until get() "
        "takes one; get() blocks while it is empty; q.qsize() and q.empty() are printed (qsize() counts what "
        "was put, empty() looks at the pipe the Queue's feeder thread fills a moment later: right after a "
        "put() they can disagree, qsize()=1 empty()=True). Value and Array are "
        "shared memory (/dev/shm): no messages, every write overwrites, and the consumer reads whatever is "
        "there now, so it misses values when slower and reads the same one again when faster. \"Send a "
        "message\" makes the producer send at once; \"consumer slower/faster\" doubles or halves its delay; "
        "\"print the value\" has the parent show what is in the channel now. After \"hold\" seconds the "
        "producer sends None (or writes -1) as its last message and all three end. The tree draws each "
        "kernel object two processes hold as a dashed curve between them (click one to name them): the "
        "parent and both children hold everything the parent made before start(), multiprocessing's own "
        "pipes to each child included, so the curves join all three; the details list every end with its fd.",
        "进程间空间独立, 所以要通过 IPC 对象传递数据: 父进程先创建它, 再启动生产者和消费者, 两个子进程得到的是"
        "同一个内核对象。Pipe() 是一对 Unix 套接字 (socketpair): fd1、fd2 都可读写; 消费者在 fd1 上 recv(), "
        "并发回一个回复, 生产者在 fd2 上 recv() 收到它。Pipe(duplex=False) 是 os.pipe(): fd1 只读, fd2 只写 "
        "(反过来用会抛出 OSError)。管道为空时读取会阻塞: 消费者处于 S, wchan 是管道或 unix 套接字的读操作, "
        "直到消息到来。Queue(3) 先进先出, 最多存放 3 条消息: 消费者比生产者慢时队列被填满, q.full() 变为 "
        "True, put() 阻塞 (生产者在 futex 中睡眠, 等待队列的信号量), 直到 get() 取走一条; 队列为空时 get() "
        "阻塞; 同时打印 q.qsize() 和 q.empty() (qsize() 数的是已 put 的消息, empty() 看的是队列的后台线程稍后"
        "才写入的管道: 刚 put() 之后两者可能不一致, 如 qsize()=1 empty()=True)。Value 和 Array 是共享内存 "
        "(/dev/shm): 没有消息, 每次写入都会"
        "覆盖之前的内容, 消费者读到的是当前的值, 所以慢时会错过一些值, 快时会重复读到同一个值。\"发送消息\" "
        "让生产者立即发送一条; \"消费者变慢/变快\" 让它的等待时间加倍或减半; \"打印当前值\" 让父进程显示通道"
        "中现在的内容。\"保持\" 秒之后, 生产者发送 None (或写入 -1) 作为最后一条消息, 三个进程都结束。"
        "进程树把两个进程共同持有的每个内核对象画成它们之间的虚线 (点击进程可看到名称): 父进程和两个子进程"
        "都持有父进程在 start() 之前创建的一切, 包括 multiprocessing 自己给每个子进程的管道, 所以虚线连接了"
        "三个进程; 详情中列出每一端和它的文件描述符。"),
    params=(
        Param("channel", "choice", "pipe", choices=("pipe", "pipe_oneway", "queue", "value", "array"),
              label=en_zh("channel", "通信方式"),
              help=en_zh("pipe: Pipe() duplex; pipe_oneway: Pipe(duplex=False); queue: Queue(3); "
                         "value: Value('i', 0); array: Array('i', [0, 0, 0, 0, 0])",
                         "pipe: 双向管道 Pipe(); pipe_oneway: 单向管道 Pipe(duplex=False); queue: 消息队列 "
                         "Queue(3); value: 共享内存 Value('i', 0); array: 共享内存 Array('i', [0, 0, 0, 0, 0])")),
        Param("period", "float", 2.0, 0.2, 60.0, label=en_zh("producer period (s)", "生产者间隔 (秒)"),
              help=en_zh("seconds between the producer's messages", "生产者每两条消息之间的秒数")),
        Param("delay", "float", 1.0, 0.1, 10.0, label=en_zh("consumer delay (s)", "消费者等待 (秒)"),
              help=en_zh("seconds the consumer waits after each message it reads",
                         "消费者每读一条消息后等待的秒数")),
        Param("hold", "float", 300.0, 1.0, 600.0, label=en_zh("hold (s)", "保持 (秒)"),
              help=en_zh("seconds the producer sends; then its last message ends all three",
                         "生产者发送消息的秒数; 之后它的最后一条消息让三个进程都结束")),
    ),
    actions=(
        signal_action("send_message", en_zh("send a message", "发送消息"),
                      en_zh("SIGUSR1 to the producer: it sends a message now", "给生产者发 SIGUSR1: 立即发送一条消息"),
                      "producer", "SIGUSR1"),
        signal_action("consumer_slower", en_zh("consumer slower", "消费者变慢"),
                      en_zh("SIGUSR1 to the consumer: its delay doubles (up to 10 s)",
                            "给消费者发 SIGUSR1: 等待时间加倍 (最多 10 秒)"), "consumer", "SIGUSR1"),
        signal_action("consumer_faster", en_zh("consumer faster", "消费者变快"),
                      en_zh("SIGUSR2 to the consumer: its delay halves (down to 0.1 s)",
                            "给消费者发 SIGUSR2: 等待时间减半 (最少 0.1 秒)"), "consumer", "SIGUSR2"),
        signal_action("print_value", en_zh("print the value", "打印当前值"),
                      en_zh("SIGUSR2 to the parent: it prints what is in the channel now (fd1.poll(), "
                            "q.qsize(), obj.value)",
                            "给父进程发 SIGUSR2: 打印通道中现在的内容 (fd1.poll()、q.qsize()、obj.value)"),
                      "parent", "SIGUSR2"),
    ),
    processes=lambda p: 3,
)

IPC_LABS = (_IPC,)
