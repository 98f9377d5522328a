"""ipc: a producer and a consumer talk through a Pipe, a Queue, a Value or an Array (进程间通信, day06).

    $ python -m lab.experiments.ipc --channel pipe --period 0.5 --delay 0.2 --hold 1
    父进程 pid=32178: fd1, fd2 = Pipe()  (双向管道: fd1、fd2 都可读写 both ends read and write)
    父进程 start(): producer pid=32180, consumer pid=32181; SIGUSR2 打印通道中的内容 (prints what is in the channel)
    producer pid=32180 ppid=32178: 每 0.5 秒发送一条消息  (sends a message every 0.5 s, or at SIGUSR1)
    consumer pid=32181 ppid=32178: 每条消息后等待 0.2 秒  (waits 0.2 s after each message)
    producer fd2.send(1)  (写入管道 into the pipe)
    consumer fd1.recv() → 1  (阻塞了 blocked 0.00 s)
    producer fd2.recv() → '收到 1'  (回复 the reply, 两端读写 both ends read and write)
    producer fd2.send(2)  (写入管道 into the pipe)
    consumer fd1.recv() → 2  (阻塞了 blocked 0.30 s)
    producer fd2.recv() → '收到 2'  (回复 the reply, 两端读写 both ends read and write)
    producer fd2.send(3)  (写入管道 into the pipe)
    consumer fd1.recv() → 3  (阻塞了 blocked 0.29 s)
    producer fd2.recv() → '收到 3'  (回复 the reply, 两端读写 both ends read and write)
    producer fd2.send(None): 最后一条消息, 结束  (the last message: the end)
    父进程 join(): producer 结束 (ended), exitcode 0
    consumer 收到 None: 结束  (the last message: the end)
    父进程 join(): consumer 结束 (ended), exitcode 0

    $ python -m lab.experiments.ipc --channel pipe_oneway --period 0.5 --delay 0.2 --hold 1
    父进程 pid=32182: fd1, fd2 = Pipe(duplex=False)  (单向管道: fd1 只读 recv end, fd2 只写 send end)
    ...
    producer fd2.recv() → OSError: connection is write-only  (fd2 只写: the send end)
    consumer fd1.send() → OSError: connection is read-only  (fd1 只读: the recv end)
    ...

    $ python -m lab.experiments.ipc --channel queue --period 0.3 --delay 1 --hold 1.2
    父进程 pid=31997: q = Queue(3)  (消息队列, 最多存放 3 条消息 at most 3 messages)
    父进程 start(): producer pid=31999, consumer pid=32000; SIGUSR2 打印通道中的内容 (prints what is in the channel)
    producer pid=31999 ppid=31997: 每 0.3 秒发送一条消息  (sends a message every 0.3 s, or at SIGUSR1)
    producer q.put(1): qsize()=1 full()=False
    consumer pid=32000 ppid=31997: 每条消息后等待 1 秒  (waits 1 s after each message)
    consumer q.get() → 1  (阻塞了 blocked 0.00 s): qsize()=0 empty()=True
    producer q.put(2): qsize()=1 full()=False
    producer q.put(3): qsize()=2 full()=False
    producer q.put(4): qsize()=3 full()=True
    consumer q.get() → 2  (阻塞了 blocked 0.00 s): qsize()=2 empty()=False
    producer q.put(5): qsize()=3 full()=True
    producer q.full()=True: q.put(None) 阻塞, 等消费者取走一条  (the queue is full: put blocks)
    consumer q.get() → 3  (阻塞了 blocked 0.00 s): qsize()=3 empty()=False
    producer q.put(None): qsize()=3 full()=True
    父进程 join(): producer 结束 (ended), exitcode 0
    consumer q.get() → 4  (阻塞了 blocked 0.00 s): qsize()=2 empty()=False
    consumer q.get() → 5  (阻塞了 blocked 0.00 s): qsize()=1 empty()=False
    consumer 收到 None: 结束  (the last message: the end)
    父进程 join(): consumer 结束 (ended), exitcode 0

    $ python -m lab.experiments.ipc --channel value --period 0.3 --delay 0.5 --hold 1.2
    父进程 pid=32112: obj = Value('i', 0)  (共享内存 shared memory: one int)
    父进程 start(): producer pid=32114, consumer pid=32115; SIGUSR2 打印通道中的内容 (prints what is in the channel)
    producer pid=32114 ppid=32112: 每 0.3 秒发送一条消息  (sends a message every 0.3 s, or at SIGUSR1)
    producer obj.value = 1  (覆盖 overwrites 0)
    consumer pid=32115 ppid=32112: 每条消息后等待 0.5 秒  (waits 0.5 s after each message)
    consumer obj.value → 1  (新的值 new)
    producer obj.value = 2  (覆盖 overwrites 1)
    consumer obj.value → 2  (新的值 new)
    producer obj.value = 3  (覆盖 overwrites 2)
    producer obj.value = 4  (覆盖 overwrites 3)
    consumer obj.value → 4  (错过了 missed [3]: 已被覆盖 overwritten)
    producer obj.value = 5  (覆盖 overwrites 4)
    producer obj.value = -1  (覆盖 overwrites 5)
    父进程 join(): producer 结束 (ended), exitcode 0
    consumer 读到 -1: 结束  (the end)
    父进程 join(): consumer 结束 (ended), exitcode 0

    (--channel array: obj = Array('i', [0, 0, 0, 0, 0]); message n goes into obj[(n - 1) % 5])

The notes' rule: 进程间空间独立, so processes pass data through an IPC
object: "管道对象需在父进程中创建, 在子进程中获取".  The parent makes the
channel, then forks a producer and a consumer (multiprocessing.Process),
and both hold the same kernel object: a Pipe() is a Unix socketpair
(duplex) or an os.pipe() (duplex=False), a Queue is a pipe plus
semaphores, a Value or an Array a page of shared memory (/dev/shm).

- pipe: fd1, fd2 = Pipe(): both ends read and write (两端读写).  The
  producer sends on fd2, the consumer recv()s on fd1 and sends a reply back
  on fd1, which the producer waits for with recv() on fd2.
- pipe_oneway: fd1, fd2 = Pipe(duplex=False): fd1 is the recv end only
  (只读), fd2 the send end only (只写); each side shows the other way fails.
- queue: q = Queue(3), first in first out (先进先出), at most 3 messages:
  q.put() blocks while it is full (q.full()), q.get() while it is empty
  (q.empty()); q.qsize() counts the messages in it.  The producer shows Sl
  after its first put: Queue's feeder thread writes into the pipe for it.
- value / array: obj = Value('i', 0) / obj = Array('i', [0, 0, 0, 0, 0]):
  shared memory, no messages: each write overwrites what was there
  (操作覆盖内存); the consumer reads whatever is there now, so it misses
  values when it is slower and reads the same one again when it is faster.

A reader of an empty pipe or queue blocks (空则阻塞): STAT S, sleeping in
the kernel's pipe or socket read.  The children hold both ends (the notes
close none), so no recv() ever sees end-of-file: after --hold seconds the
producer sends None (or writes -1 into the shared memory) as its last
message, the consumer stops there, the parent join()s both.  (Kill one
of them and the other may wait for ever: the parent terminate()s it 60 s
after --hold.)  Value() and Array() come with a lock of their own (a
semaphore, in /dev/shm too) that every obj.value read or write takes.

Signals: SIGUSR1 to the producer sends a message now; SIGUSR1 / SIGUSR2 to
the consumer doubles / halves its delay after each message (0.1 to 10 s);
SIGUSR2 to the parent prints what is in the channel now.
"""
import argparse
import multiprocessing
import os
import signal
import time
from multiprocessing import Array, Pipe, Process, Queue, Value

from lab.report import say, set_role

END = None            # the pipe's and queue's last message
END_VALUE = -1        # the shared memory's
SLOTS = 5             # the Array's length
GRACE = 60.0          # seconds past --hold the parent waits for a child before terminate()
channel = "pipe"
fd1 = fd2 = q = obj = None    # the channel, made by the parent before it forks: the children have it too
delay = 1.0           # the consumer's seconds after each message
asked = False         # the producer: SIGUSR1 asked for a message now
sent = 0              # the producer: messages sent so far


def send_now(sig, frame):
    global asked
    asked = True          # pause() returns after this handler: the producer sends at once


def period_over(sig, frame):
    pass                  # SIGALRM from setitimer: its only job is to end the producer's pause()


def slower(sig, frame):
    global delay
    delay = min(10.0, delay * 2)
    say(f"消费者变慢 (slower): 每条消息后等待 {delay:g} 秒  (waits {delay:g} s after each message)")


def faster(sig, frame):
    global delay
    delay = max(0.1, delay / 2)
    say(f"消费者变快 (faster): 每条消息后等待 {delay:g} 秒  (waits {delay:g} s after each message)")


def show(sig, frame):
    """The parent looks into the channel without taking anything out of it."""
    if channel in ("pipe", "pipe_oneway"):
        waiting = fd1.poll()
        say(f"父进程 fd1.poll() = {waiting}: "
            + ("管道中有消息等待 recv()  (a message waits in the pipe)" if waiting
               else "管道空, recv() 会阻塞  (the pipe is empty: recv() would block)"))
    elif channel == "queue":
        say(f"父进程 q.qsize()={q.qsize()} q.full()={q.full()} q.empty()={q.empty()}")
    elif channel == "value":
        say(f"父进程 obj.value = {obj.value}  (共享内存中现在的值 what the shared memory holds now)")
    else:
        say(f"父进程 obj[:] = {obj[:]}  (共享内存中现在的值 what the shared memory holds now)")


# ---- the producer ------------------------------------------------------------------

def put(n):
    """Send message n (END: the last one) through the channel, as the notes write it."""
    global sent
    if channel in ("pipe", "pipe_oneway"):
        if n is END:
            say("producer fd2.send(None): 最后一条消息, 结束  (the last message: the end)")
            fd2.send(n)
            return
        say(f"producer fd2.send({n})  (写入管道 into the pipe)")   # said first: the consumer's line follows
        fd2.send(n)
        if channel == "pipe":                      # duplex: the reply comes back through the same pipe
            say(f"producer fd2.recv() → {fd2.recv()!r}  (回复 the reply, 两端读写 both ends read and write)")
    elif channel == "queue":
        if q.full():
            say(f"producer q.full()=True: q.put({n}) 阻塞, 等消费者取走一条  (the queue is full: put blocks)")
        q.put(n)                                   # blocks while the queue holds 3 messages
        say(f"producer q.put({n}): qsize()={q.qsize()} full()={q.full()}")
    elif channel == "value":
        old = obj.value
        obj.value = END_VALUE if n is END else n   # overwrites what was there
        say(f"producer obj.value = {obj.value}  (覆盖 overwrites {old})")
    else:
        k = sent % SLOTS                           # message 1 in obj[0], ..., 6 in obj[0] again
        old = obj[k]
        obj[k] = END_VALUE if n is END else n
        say(f"producer obj[{k}] = {obj[k]} → {obj[:]}  (覆盖 overwrites {old})")
    sent += 1


def producer(period, deadline):
    global asked
    signal.signal(signal.SIGUSR2, signal.SIG_DFL)   # the parent's handler is not the producer's
    signal.signal(signal.SIGALRM, period_over)
    signal.signal(signal.SIGUSR1, send_now)         # before set_role: once it is "producer", it is ready
    set_role("producer")
    say(f"producer pid={os.getpid()} ppid={os.getppid()}: 每 {period:g} 秒发送一条消息  "
        f"(sends a message every {period:g} s, or at SIGUSR1)")
    if channel == "pipe_oneway":
        try:
            fd2.recv()
        except OSError as e:
            say(f"producer fd2.recv() → OSError: {e}  (fd2 只写: the send end)")
    n = 0
    while True:
        n += 1
        put(n)
        left = deadline - time.monotonic()
        if left <= 0:
            break
        signal.setitimer(signal.ITIMER_REAL, min(period, left))   # signal.alarm, to a fraction of a second
        if not asked:
            signal.pause()                          # until SIGALRM (the period) or SIGUSR1 (the student)
        asked = False
    signal.setitimer(signal.ITIMER_REAL, 0)
    put(END)


# ---- the consumer ------------------------------------------------------------------

def consume_messages():
    """Pipe or Queue: every message once, in order; an empty channel blocks the reader."""
    while True:
        started = time.monotonic()
        n = fd1.recv() if channel != "queue" else q.get()     # 空则阻塞: sleeps (S) until a message comes
        waited = time.monotonic() - started
        if n is END:
            say("consumer 收到 None: 结束  (the last message: the end)")
            return
        if channel == "queue":
            say(f"consumer q.get() → {n}  (阻塞了 blocked {waited:.2f} s): qsize()={q.qsize()} empty()={q.empty()}")
        else:
            say(f"consumer fd1.recv() → {n}  (阻塞了 blocked {waited:.2f} s)")
            if channel == "pipe":
                fd1.send(f"收到 {n}")                  # duplex: the consumer writes back on its end
        time.sleep(delay)


def consume_memory():
    """Value or Array: no messages, only what the shared memory holds at this moment."""
    last = 0
    while True:
        seen = [obj.value] if channel == "value" else obj[:]
        if END_VALUE in seen:
            say(f"consumer 读到 {END_VALUE}: 结束  (the end)")
            return
        newest = max(seen)
        what = f"obj.value → {newest}" if channel == "value" else f"obj[:] → {seen}"
        if newest == 0:
            note = "还没有写入 nothing written yet"
        elif newest == last:
            note = "重复 repeated: 没有新的值 nothing new"
        else:
            missed = [k for k in range(last + 1, newest) if k not in seen]
            note = f"错过了 missed {missed}: 已被覆盖 overwritten" if missed else "新的值 new"
        say(f"consumer {what}  ({note})")
        last = newest
        time.sleep(delay)


def consumer(seconds):
    global delay
    delay = seconds
    signal.signal(signal.SIGUSR1, slower)           # before set_role, as the producer
    signal.signal(signal.SIGUSR2, faster)
    set_role("consumer")
    say(f"consumer pid={os.getpid()} ppid={os.getppid()}: 每条消息后等待 {delay:g} 秒  "
        f"(waits {delay:g} s after each message)")
    if channel == "pipe_oneway":
        try:
            fd1.send("?")
        except OSError as e:
            say(f"consumer fd1.send() → OSError: {e}  (fd1 只读: the recv end)")
    if channel in ("value", "array"):
        consume_memory()
    else:
        consume_messages()


# ---- the parent --------------------------------------------------------------------

def make_channel():
    """The parent makes the object (管道对象需在父进程中创建); returns how the notes write it."""
    global fd1, fd2, q, obj
    if channel == "pipe":
        fd1, fd2 = Pipe()                            # duplex=True: a Unix socketpair, both ends read and write
        return "fd1, fd2 = Pipe()  (双向管道: fd1、fd2 都可读写 both ends read and write)"
    if channel == "pipe_oneway":
        fd1, fd2 = Pipe(duplex=False)                # an os.pipe(): fd1 its read end, fd2 its write end
        return "fd1, fd2 = Pipe(duplex=False)  (单向管道: fd1 只读 recv end, fd2 只写 send end)"
    if channel == "queue":
        q = Queue(3)
        return "q = Queue(3)  (消息队列, 最多存放 3 条消息 at most 3 messages)"
    if channel == "value":
        obj = Value("i", 0)
        return "obj = Value('i', 0)  (共享内存 shared memory: one int)"
    obj = Array("i", [0] * SLOTS)
    return f"obj = Array('i', {[0] * SLOTS})  (共享内存 shared memory: {SLOTS} ints)"


def main():
    global channel
    parser = argparse.ArgumentParser(description="a producer and a consumer: Pipe, Queue, Value, Array")
    parser.add_argument("--channel", choices=("pipe", "pipe_oneway", "queue", "value", "array"), default="pipe")
    parser.add_argument("--period", type=float, default=2.0, help="seconds between the producer's messages (0.2-60)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds the consumer waits after each (0.1-10)")
    parser.add_argument("--hold", type=float, default=300.0, help="seconds the producer sends (1-600)")
    args = parser.parse_args()
    if not 0.2 <= args.period <= 60 or not 0.1 <= args.delay <= 10 or not 1 <= args.hold <= 600:
        parser.error("--period must be from 0.2 to 60, --delay from 0.1 to 10, --hold from 1 to 600")
    multiprocessing.set_start_method("fork")        # plain fork, as in the notes
    signal.signal(signal.SIGINT, signal.SIG_DFL)    # Ctrl-C ends them all at once
    channel = args.channel
    made = make_channel()
    signal.signal(signal.SIGUSR2, show)
    set_role("parent")
    say(f"父进程 pid={os.getpid()}: {made}")
    deadline = time.monotonic() + args.hold         # CLOCK_MONOTONIC: the same clock in every process
    children = [Process(target=producer, args=(args.period, deadline), name="producer"),
                Process(target=consumer, args=(args.delay,), name="consumer")]
    for p in children:
        p.start()
    say(f"父进程 start(): producer pid={children[0].pid}, consumer pid={children[1].pid}; "
        "SIGUSR2 打印通道中的内容 (prints what is in the channel)")
    for p in children:
        # Bounded even if the student kills one of them: the other could wait for ever (nobody
        # sees EOF while the parent holds both ends), so after GRACE seconds more it is ended.
        p.join(max(0.0, deadline - time.monotonic()) + GRACE)
        if p.is_alive():
            p.terminate()
            p.join()
        say(f"父进程 join(): {p.name} 结束 (ended), exitcode {p.exitcode}")


if __name__ == "__main__":
    main()
