"""file_server: the notes' tftp 文件服务器 over TCP: a class, a child process per client.

    $ python -m lab.experiments.file_server --port 8888
    listening on 127.0.0.1:8888
    服务器[26583] 文件库 (library): /tmp/proclab-ht0t1ha3/tftp
    服务器[26583] 客户端 ('127.0.0.1', 38758) 已连接 → 子进程 26585  (a child for this client)
    子进程[26585] 服务 ('127.0.0.1', 38758)  (the child serves it)
    子进程[26585] 请求 (request) ('127.0.0.1', 38758): 'L'
    子进程[26585] 文件列表 (list): 3 个普通文件, 35 字节
    子进程[26585] 请求 (request) ('127.0.0.1', 38758): 'G hello.txt'
    子进程[26585] 发送 (get) hello.txt: 23 字节, 文件结尾由长度决定  (the size tells the end)
    子进程[26585] 请求 (request) ('127.0.0.1', 38758): 'P homework.txt 13'
    子进程[26585] 收到 (put) homework.txt: 13 字节, 存入文件库  (stored)
    子进程[26585] 请求 (request) ('127.0.0.1', 38758): 'P ../evil.txt 13'
    子进程[26585] 拒绝 (refused) P '../evil.txt' 13: 文件名不合法 (names with /, .. or NUL are refused)
    子进程[26585] 客户端 ('127.0.0.1', 38758) 退出, 子进程退出  (the client left)
    服务器[26583] 收到 SIGCHLD, 回收子进程 26585, exit status 0  (reaped: no zombie)
    ^C服务器[26583] 服务器退出, 删除文件库  (the server exits; the library is removed)

    $ python -m lab.experiments.file_server --port 8890 --max-children 1 --idle 2
    listening on 127.0.0.1:8890
    服务器[15827] 文件库 (library): /tmp/proclab-1jcxuq5r/tftp
    服务器[15827] 客户端 ('127.0.0.1', 49662) 已连接 → 子进程 15829  (a child for this client)
    子进程[15829] 服务 ('127.0.0.1', 49662)  (the child serves it)
    服务器[15827] 客户端 ('127.0.0.1', 49674) 被拒绝: 已有 1 个子进程  (refused: too many clients)
    子进程[15829] 客户端 ('127.0.0.1', 49662) 2 秒没有请求, 超时, 关闭连接  (idle: timed out)
    子进程[15829] 客户端 ('127.0.0.1', 49662) 退出, 子进程退出  (the client left)
    服务器[15827] 收到 SIGCHLD, 回收子进程 15829, exit status 0  (reaped: no zombie)
    服务器[15827] 客户端 ('127.0.0.1', 49676) 已连接 → 子进程 15845  (a child for this client)
    子进程[15845] 服务 ('127.0.0.1', 49676)  (the child serves it)
    服务器[15827] 服务器退出, 删除文件库  (the server exits; the library is removed)     (kill PID)
    服务器[15827] 给子进程 15845 发 SIGTERM 并回收  (ending the children)

The notes' requirements: "1.查看服务器文件库的文件列表(只显示普通文件) 2.可以下载
其中的某个文件到本地 3.可以将本地文件上传到文件库中 4.退出", "允许客户端同时访问
操作"; technique: "tcp", "多进程并发", problems to mind: "粘包问题, 僵尸进程",
"文件名传输 注意粘包处理 文件传输注意传输结尾"; structure: ``class TftpServer``
with list/get/put, and main() creating the socket, accepting, forking.

粘包: TCP is a byte stream (流式套接字): two send()s may arrive in one
recv(), one send() in several.  The notes' program sleeps 0.1 s between a
reply and the data and ends a file with ``##``, which a file holding ``##``
or a busy network breaks.  Here every frame says where it ends:

- a request or a reply is one line ending in ``\\n``: ``L`` (list), ``G name``
  (get), ``P name size`` (put), ``Q`` (quit); ``OK ...`` or ``ERR reason``;
- a body (the list, a file) follows ``OK size`` and is exactly size bytes.

The reader keeps what a recv() brought past the end of a line for the next
read (``Channel.buf``): that is the 粘包 handled, not avoided by sleeping.

The library is a directory of the run's own (``lab.report.run_dir()``),
made at start with a few files and a subdirectory (the list shows regular
files only: os.path.isfile).  Uploads are written only there: names with
``/``, ``..``, NUL or a leading dot are refused, a file over --max-size KiB
or a full library (16 MiB) too, and an existing name is never overwritten
(the upload is written to a hidden part file, then linked to its name).
Children upload at once: each takes its room under a lock (flock on the
library) by making its part file the full size before the body comes, so
the part files count and the cap holds.  When the server exits (Ctrl-C,
kill PID) it sends SIGTERM to the children still serving, reaps them, and
removes the directory; under the dashboard it goes with the run however
the run stops.  A request that fails (the library gone...) is answered
``ERR``, never dropped.

One child per client (os.fork after accept), the parent's SIGCHLD handler
reaps them with waitpid(-1, WNOHANG): no zombie.  A process per client
costs: at most --max-children (8) serve at once, one more is told ``ERR``
and closed, and a child whose client sends no request for --idle seconds
(300) closes (超时检测: connfd.settimeout).  The client:
``python -m lab.experiments.file_client --port PORT``.
"""
import argparse
import fcntl
import os
import shutil
import signal
import socket
import stat

from lab.report import listening, run_dir, say, set_role

MAX_LINE = 512                 # bytes of a request line
MAX_NAME = 100                 # characters of a file name
LIBRARY_CAP = 16 * 1024 * 1024  # bytes the whole library may hold
MAX_FILES = 64                 # files the library may hold, the part files of uploads under way too
MAX_CHILDREN = 8               # clients served at once: one more is told ERR and closed
IDLE = 300.0                   # seconds a child waits for its client's next request (超时检测)
BLOCK = 4096


class ProtocolError(Exception):
    pass


class Channel:
    """A TCP connection with explicit framing: lines, and bodies of a size said before them."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""            # bytes a recv() brought past the frame being read (粘包)

    def send_line(self, text):
        self.sock.sendall(text.encode() + b"\n")

    def recv_line(self):
        """The next line without its \\n, or None if the other end closed."""
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise ProtocolError("line too long")
            data = self.sock.recv(BLOCK)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        if len(line) > MAX_LINE:
            raise ProtocolError("line too long")
        try:
            return line.decode()
        except UnicodeDecodeError:
            raise ProtocolError("not UTF-8")

    def recv_body(self, size):
        """Yield exactly size bytes, in blocks: first what is already buffered, then recv()."""
        left = size
        if self.buf:
            part, self.buf = self.buf[:left], self.buf[left:]
            left -= len(part)
            yield part
        while left:
            data = self.sock.recv(min(BLOCK, left))
            if not data:
                raise ConnectionError(f"closed {left} bytes before the end")
            left -= len(data)
            yield data


def safe_name(name):
    """A plain file name of the library: no path, no parent, no NUL, not hidden."""
    return (0 < len(name) <= MAX_NAME and "/" not in name and "\0" not in name and ".." not in name
            and not name.startswith(".") and name.isprintable())


class TftpServer:
    """One client's requests, in its own child process (the notes: 封装为类)."""

    def __init__(self, connfd, addr, library, max_size, idle=IDLE):
        self.ch = Channel(connfd)
        self.addr = addr
        self.library = library
        self.max_size = max_size
        self.idle = idle
        self.me = f"子进程[{os.getpid()}]"
        # 超时检测: a recv() or sendall() blocked longer than this raises socket.timeout, so a
        # client that connects and says nothing does not hold a child (a process) for ever.
        connfd.settimeout(idle)

    def serve(self):
        while True:
            try:
                line = self.ch.recv_line()
            except ProtocolError as exc:
                self.ch.send_line(f"ERR 请求不合法 (bad request: {exc})")
                return
            except socket.timeout:
                say(f"{self.me} 客户端 {self.addr} {self.idle:g} 秒没有请求, 超时, 关闭连接  (idle: timed out)")
                self.ch.send_line(f"ERR 超时 (idle for {self.idle:g} s), 关闭连接")
                return
            if line is None or line == "Q":
                return
            say(f"{self.me} 请求 (request) {self.addr}: {line!r}")
            cmd, _, rest = line.partition(" ")
            try:
                if cmd == "L" and not rest:
                    self.do_list()
                elif cmd == "G" and rest:
                    self.do_get(rest)
                elif cmd == "P" and " " in rest:
                    name, _, size = rest.rpartition(" ")
                    self.do_put(name, size)
                else:
                    self.ch.send_line("ERR 未知请求 (unknown request)")
            except (ConnectionError, socket.timeout):
                raise                   # the connection itself is gone or stuck: nobody to answer
            except Exception as exc:    # the library gone, a disk error...: the client hears why
                say(f"{self.me} 请求失败 (failed) {line!r}: {type(exc).__name__}: {exc}")
                self.ch.send_line(f"ERR 服务器出错 (server error: {type(exc).__name__})")
                return                  # a body may be half sent or unread: the framing is lost

    def refuse(self, what, reason):
        say(f"{self.me} 拒绝 (refused) {what}: {reason}")
        self.ch.send_line(f"ERR {reason}")

    def files(self):
        """The regular files of the library (os.path.isfile), hidden ones left out, as the notes do."""
        return sorted(f for f in os.listdir(self.library)
                      if not f.startswith(".") and os.path.isfile(os.path.join(self.library, f)))

    def do_list(self):
        names = self.files()
        body = "\n".join(names).encode()
        self.ch.send_line(f"OK {len(body)}")
        self.ch.sock.sendall(body)
        say(f"{self.me} 文件列表 (list): {len(names)} 个普通文件, {len(body)} 字节")

    def do_get(self, name):
        if not safe_name(name):
            return self.refuse(f"G {name!r}", "文件名不合法 (names with /, .. or NUL are refused)")
        try:
            fd = os.open(os.path.join(self.library, name), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return self.refuse(f"G {name!r}", "文件不存在 (no such file)")
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return self.refuse(f"G {name!r}", "不是普通文件 (not a regular file)")
        size = info.st_size
        with os.fdopen(fd, "rb") as f:
            self.ch.send_line(f"OK {size}")
            sent = 0
            while sent < size:
                data = f.read(min(64 * 1024, size - sent))
                if not data:
                    break
                self.ch.sock.sendall(data)    # blocks while the client's Recv-Q and our Send-Q are full
                sent += len(data)
        say(f"{self.me} 发送 (get) {name}: {sent} 字节, 文件结尾由长度决定  (the size tells the end)")

    def do_put(self, name, size):
        what = f"P {name!r} {size}"
        if not safe_name(name):
            return self.refuse(what, "文件名不合法 (names with /, .. or NUL are refused)")
        if not (size.isascii() and size.isdigit()):     # "²".isdigit() is True, int("²") fails
            return self.refuse(what, "大小不合法 (bad size)")
        size = int(size)
        if size > self.max_size:
            return self.refuse(what, f"文件太大 (over {self.max_size} bytes)")
        part = os.path.join(self.library, f".{os.getpid()}.part")
        # Children upload at the same time: checking the room and taking it must be one step, or
        # eight children all see room for one file.  The lock (flock on the library directory) makes
        # it one step; the part file, made its full size at once (ftruncate), holds the room taken
        # until its upload ends, so the next child counts it.
        lock = os.open(self.library, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = os.listdir(self.library)
            if name in entries:
                return self.refuse(what, "文件已存在 (the name exists)")
            held = [os.path.join(self.library, f) for f in entries
                    if os.path.isfile(os.path.join(self.library, f))]      # the part files too
            if len(held) >= MAX_FILES or sum(map(os.path.getsize, held)) + size > LIBRARY_CAP:
                return self.refuse(what, "文件库已满 (the library is full)")
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            os.ftruncate(fd, size)          # the room is taken now, before a byte arrives
        finally:
            os.close(lock)                  # closing the descriptor releases the lock
        try:
            with os.fdopen(fd, "wb") as f:
                self.ch.send_line("OK")          # now, and only now, the client sends the body
                for block in self.ch.recv_body(size):
                    f.write(block)
            os.link(part, os.path.join(self.library, name))     # fails if the name appeared meanwhile
        except FileExistsError:
            return self.refuse(what, "文件已存在 (the name exists)")
        finally:
            os.unlink(part)
        self.ch.send_line(f"OK {size}")
        say(f"{self.me} 收到 (put) {name}: {size} 字节, 存入文件库  (stored)")


def make_library(base):
    """The run's own library: a few files, and a directory the list leaves out."""
    library = os.path.join(base, "tftp")
    os.mkdir(library)
    with open(os.path.join(library, "hello.txt"), "w") as f:
        f.write("hello, 文件服务器\n")
    with open(os.path.join(library, "requirements.txt"), "w") as f:
        f.write("1.查看服务器文件库的文件列表(只显示普通文件)\n2.可以下载其中的某个文件到本地\n"
                "3.可以将本地文件上传到文件库中\n4.退出\n")
    with open(os.path.join(library, "data.bin"), "wb") as f:
        f.write(bytes(range(256)) * 512)          # 128 KiB: a transfer long enough to watch
    os.mkdir(os.path.join(library, "subdir"))     # not a regular file: not listed
    return library


children = set()         # the pids of the children serving clients now


def reap(sig, frame):
    """SIGCHLD: collect every child that has exited, without blocking."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        say(f"服务器[{os.getpid()}] 收到 SIGCHLD, 回收子进程 {pid}, exit status "
            f"{os.waitstatus_to_exitcode(status)}  (reaped: no zombie)")


def interrupt(sig, frame):
    raise KeyboardInterrupt     # SIGTERM (kill PID) ends the server as Ctrl-C does


def end_children(me):
    """SIGTERM to every child still serving, and wait for each: no orphan keeps a client (and
    the library) after the server.  Ctrl-C in a terminal reaches them already (the foreground
    group), kill PID reaches the server alone."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)   # waited for here, not in the handler
    left = sorted(children)
    if left:
        say(f"{me} 给子进程 {', '.join(map(str, left))} 发 SIGTERM 并回收  (ending the children)")
    for pid in left:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in left:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        children.discard(pid)


def main():
    parser = argparse.ArgumentParser(description="TFTP-like file server: list, get, put, a child per client")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    parser.add_argument("--max-size", type=int, default=1024, help="KiB an upload may have (1 to 4096)")
    parser.add_argument("--max-children", type=int, default=MAX_CHILDREN,
                        help=f"clients served at once, a child each (1 to {MAX_CHILDREN})")
    parser.add_argument("--idle", type=float, default=IDLE,
                        help=f"seconds a child waits for a request before it closes (0.1 to 3600, default {IDLE:g})")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    if not 1 <= args.max_size <= 4096:
        parser.error("--max-size must be from 1 to 4096 (KiB)")
    if not 1 <= args.max_children <= MAX_CHILDREN:
        parser.error(f"--max-children must be from 1 to {MAX_CHILDREN}")
    if not 0.1 <= args.idle <= 3600:
        parser.error("--idle must be from 0.1 to 3600 (seconds)")
    set_role("server")
    me = f"服务器[{os.getpid()}]"
    dashboard_dir = os.environ.get("PROCLAB_RUN_DIR")
    base = run_dir()            # in a terminal: a fresh temporary directory, removed at the end
    library = make_library(base)
    signal.signal(signal.SIGINT, signal.default_int_handler)   # Ctrl-C, even started with &
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGCHLD, reap)

    sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sockfd.bind(("127.0.0.1", args.port))
    sockfd.listen(5)
    port = sockfd.getsockname()[1]
    say(f"listening on 127.0.0.1:{port}")
    listening("tcp", f"127.0.0.1:{port}")
    say(f"{me} 文件库 (library): {library}")
    held_back = {signal.SIGCHLD, signal.SIGINT, signal.SIGTERM}
    try:
        while True:
            connfd, addr = sockfd.accept()
            if len(children) >= args.max_children:
                # A process per client: without a limit, idle connections alone would fork until
                # the machine (or the dashboard's cap on the run) says no.
                say(f"{me} 客户端 {addr} 被拒绝: 已有 {len(children)} 个子进程  (refused: too many clients)")
                try:
                    connfd.sendall(f"ERR 服务器忙 (busy: {len(children)} clients already)\n".encode())
                except OSError:
                    pass
                connfd.close()
                continue
            # Until the pid is in `children`, no SIGCHLD may reap it (it would stay there for ever)
            # and no SIGTERM may end the server (it would not be signalled): hold them back.
            signal.pthread_sigmask(signal.SIG_BLOCK, held_back)
            pid = os.fork()
            if pid == 0:
                try:
                    for sig in held_back:
                        signal.signal(sig, signal.SIG_DFL)   # the child never cleans the library up
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, held_back)
                    set_role("child")
                    sockfd.close()
                    say(f"子进程[{os.getpid()}] 服务 {addr}  (the child serves it)")
                    TftpServer(connfd, addr, library, args.max_size * 1024, args.idle).serve()
                    say(f"子进程[{os.getpid()}] 客户端 {addr} 退出, 子进程退出  (the client left)")
                except (OSError, ProtocolError) as exc:     # ConnectionError, socket.timeout...
                    say(f"子进程[{os.getpid()}] 连接中断 ({type(exc).__name__}: {exc}), 子进程退出")
                finally:
                    connfd.close()
                    os._exit(0)
            children.add(pid)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held_back)
            connfd.close()
            say(f"{me} 客户端 {addr} 已连接 → 子进程 {pid}  (a child for this client)")
    except KeyboardInterrupt:
        say(f"{me} 服务器退出, 删除文件库  (the server exits; the library is removed)")
    finally:
        # A second Ctrl-C or SIGTERM (a timeout sends two) must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sockfd.close()
        end_children(me)            # before the library goes: no child writes into a removed one
        shutil.rmtree(library if dashboard_dir else base, ignore_errors=True)


if __name__ == "__main__":
    main()
