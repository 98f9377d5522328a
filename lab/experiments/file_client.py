"""file_client: the client of the notes' tftp 文件服务器: list, get, put, quit.

    $ python -m lab.experiments.file_client --port 8888 --dir .
    客户端[26584] 连接 127.0.0.1:8888 成功, 本地地址 127.0.0.1:38758  (connected)
    =========== 命令选项 (commands) ===========
       list              查看文件列表 (list the files)
       get 文件名         下载文件 (download)
       put 路径 [文件名]   上传文件 (upload)
       quit              退出 (quit)
    ===========================================
    输入命令 (command): list
    客户端[26584] 文件列表 (list): data.bin, hello.txt, requirements.txt
    输入命令 (command): get hello.txt
    客户端[26584] 下载 (get) hello.txt: 23/23 字节 (bytes)
    客户端[26584] 下载完成 (downloaded) hello.txt: 23 字节 → ./hello.txt
    输入命令 (command): put homework.txt
    客户端[26584] 上传 (put) homework.txt: 13/13 字节 (bytes)
    客户端[26584] 上传完成 (uploaded) homework.txt: 13 字节, 服务器: OK 13
    输入命令 (command): put homework.txt ../evil.txt
    客户端[26584] 上传 ../evil.txt: ERR 文件名不合法 (names with /, .. or NUL are refused)
    输入命令 (command): quit
    客户端[26584] 发送 Q, 关闭套接字, 退出  (sent Q, closed the socket, leaving)

    $ python -m lab.experiments.file_client --port 8888 --pace 0.05 < /dev/null
    客户端[26652] 连接 127.0.0.1:8888 成功, 本地地址 127.0.0.1:38760  (connected)
    客户端[26652] 文件列表 (list): data.bin, hello.txt, homework.txt, requirements.txt
    客户端[26652] 下载 (get) data.bin: 36854/131072 字节 (bytes)
    客户端[26652] 下载 (get) data.bin: 69622/131072 字节 (bytes)
    客户端[26652] 下载 (get) data.bin: 102390/131072 字节 (bytes)
    客户端[26652] 下载 (get) data.bin: 131072/131072 字节 (bytes)
    客户端[26652] 下载完成 (downloaded) data.bin: 131072 字节 → /tmp/download-lq5cuq0s/data.bin
    客户端[26652] 上传 (put) upload-26652.txt: 8192/32768 字节 (bytes)
    ...
    客户端[26652] 上传完成 (uploaded) upload-26652.txt: 32768 字节, 服务器: OK 32768
    客户端[26652] 文件列表 (list): data.bin, hello.txt, homework.txt, requirements.txt, upload-26652.txt
    客户端[26652] 保持连接, 等待 SIGTERM  (staying connected)
    客户端[26652] 发送 Q, 关闭套接字, 退出  (sent Q, closed the socket, leaving)     (kill PID)

In the foreground of a terminal it shows the notes' command menu
("客户端有简单的命令提示界面") and reads commands: ``list``, ``get NAME``,
``put PATH [NAME]`` (NAME defaults to the file's own name: try ``put
hello.txt ../x`` to see the server refuse it), ``quit``.  Downloads go to
--dir (by default a temporary directory, removed when the client exits).

Anywhere else (the dashboard's "add client", ``&``, stdin not a terminal)
it does it by itself: list, get data.bin (or --get), put a file it
makes of --put-size KiB, then stays connected (asleep in recv) until
SIGTERM or Ctrl-C, which send ``Q`` and close the socket, or until the
server closes the connection (its child times an idle client out: --idle).  --pace slows every 4 KiB block
down, so a transfer lasts long enough to watch its bytes wait in the
sockets' queues (Recv-Q on this side while we read slowly, Send-Q on the
server child's).

The framing is the server's (see file_server): one line per request and
reply, a body of exactly the size the line said.
"""
import argparse
import os
import shutil
import signal
import socket
import tempfile
import time

from lab.experiments.file_server import BLOCK, Channel, safe_name
from lab.experiments.tcp_client import keyboard
from lab.report import say, set_role

MENU = """=========== 命令选项 (commands) ===========
   list              查看文件列表 (list the files)
   get 文件名         下载文件 (download)
   put 路径 [文件名]   上传文件 (upload)
   quit              退出 (quit)
==========================================="""


def leave(sig, frame):
    raise SystemExit(0)     # unwinds to the finally: below, which says Q and closes the socket


class TftpClient:
    def __init__(self, sock, folder, pace):
        self.ch = Channel(sock)
        self.folder = folder
        self.pace = pace
        self.me = f"客户端[{os.getpid()}]"

    def reply(self):
        line = self.ch.recv_line()
        if line is None:
            raise ConnectionError("the server closed the connection")
        return line

    def progress(self, what, done, size, last):
        """A line per quarter of the transfer: the bytes as they flow."""
        if size and (done * 4 // size > last * 4 // size or done == size):
            say(f"{self.me} {what}: {done}/{size} 字节 (bytes)")

    def do_list(self):
        self.ch.send_line("L")
        answer = self.reply()
        if not answer.startswith("OK "):
            say(f"{self.me} {answer}")
            return []
        body = b"".join(self.ch.recv_body(int(answer[3:])))
        names = body.decode().split("\n") if body else []
        say(f"{self.me} 文件列表 (list): {', '.join(names) or '文件库为空 (empty)'}")
        return names

    def do_get(self, name):
        self.ch.send_line(f"G {name}")
        answer = self.reply()
        if not answer.startswith("OK ") or not safe_name(name):
            say(f"{self.me} 下载 {name}: {answer}")
            return None
        size, done = int(answer[3:]), 0
        path = os.path.join(self.folder, name)
        with open(path, "wb") as f:
            for block in self.ch.recv_body(size):      # exactly size bytes: the end is known
                f.write(block)
                self.progress(f"下载 (get) {name}", done + len(block), size, done)
                done += len(block)
                if self.pace:
                    time.sleep(self.pace)               # reading slowly: the bytes wait in Recv-Q
        say(f"{self.me} 下载完成 (downloaded) {name}: {size} 字节 → {path}")
        return path

    def do_put(self, name, data):
        self.ch.send_line(f"P {name} {len(data)}")
        answer = self.reply()
        if answer != "OK":                              # refused: nothing of the body is sent
            say(f"{self.me} 上传 {name}: {answer}")
            return False
        for start in range(0, len(data), BLOCK):
            block = data[start:start + BLOCK]
            self.ch.sock.sendall(block)
            self.progress(f"上传 (put) {name}", start + len(block), len(data), start)
            if self.pace:
                time.sleep(self.pace)
        answer = self.reply()
        say(f"{self.me} 上传完成 (uploaded) {name}: {len(data)} 字节, 服务器: {answer}")
        return True


def automatic(client, get, put_size):
    names = client.do_list()
    if get is None and names:
        get = "data.bin" if "data.bin" in names else names[0]
    if get:
        client.do_get(get)
    text = f"客户端 {os.getpid()} 上传的文件 (uploaded by client {os.getpid()})\n".encode()
    client.do_put(f"upload-{os.getpid()}.txt", (text * (put_size * 1024 // len(text) + 1))[:put_size * 1024])
    client.do_list()
    say(f"{client.me} 保持连接, 等待 SIGTERM  (staying connected)")
    last = client.ch.recv_line()        # nothing comes unasked: this waits until the server closes
    say(f"{client.me} 服务器关闭了连接  (the server closed the connection)" + (f": {last}" if last else ""))


def typed(client):
    say(MENU)
    while True:
        words = input("输入命令 (command): ").split()
        if not words:
            continue
        if words[0] == "quit":
            return
        if words[0] == "list" and len(words) == 1:
            client.do_list()
        elif words[0] == "get" and len(words) == 2:
            client.do_get(words[1])
        elif words[0] == "put" and len(words) in (2, 3):
            try:
                with open(words[1], "rb") as f:
                    data = f.read(64 * 1024 * 1024 + 1)
            except OSError as exc:
                say(f"{client.me} 打不开 {words[1]}: {exc.strerror}")
                continue
            client.do_put(words[2] if len(words) == 3 else os.path.basename(words[1]), data)
        else:
            say("命令不对 (unknown command)\n" + MENU)


def main():
    parser = argparse.ArgumentParser(description="TFTP-like file client: list, get, put, quit")
    parser.add_argument("--host", default="127.0.0.1", help="server address (loopback only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between 4 KiB blocks (0 to 1)")
    parser.add_argument("--get", help="the file to download (default: data.bin)")
    parser.add_argument("--put-size", type=int, default=32, help="KiB of the file uploaded (1 to 1024)")
    parser.add_argument("--dir", help="where downloads go (default: a temporary directory, removed)")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost"):
        parser.error("this lab talks to loopback only (127.0.0.1)")
    if not 1 <= args.port <= 65535:
        parser.error("--port must be from 1 to 65535")
    if not 0 <= args.pace <= 1:
        parser.error("--pace must be from 0 to 1")
    if not 1 <= args.put_size <= 1024:
        parser.error("--put-size must be from 1 to 1024 (KiB)")
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    set_role("client")
    me = f"客户端[{os.getpid()}]"
    folder = args.dir or tempfile.mkdtemp(prefix="download-", dir=os.environ.get("PROCLAB_RUN_DIR"))
    sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sockfd.connect(("127.0.0.1", args.port))
        here = sockfd.getsockname()
        say(f"{me} 连接 127.0.0.1:{args.port} 成功, 本地地址 {here[0]}:{here[1]}  (connected)")
        client = TftpClient(sockfd, folder, args.pace)
        if keyboard():
            typed(client)
        else:
            automatic(client, args.get, args.put_size)
    except (ConnectionError, EOFError) as exc:
        say(f"{me} 连接结束  ({type(exc).__name__}: {exc})")
    except OSError as exc:
        say(f"{me} 连接失败  ({type(exc).__name__}: {exc})")
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            sockfd.sendall(b"Q\n")
        except OSError:
            pass
        sockfd.close()
        if not args.dir:
            shutil.rmtree(folder, ignore_errors=True)
        say(f"{me} 发送 Q, 关闭套接字, 退出  (sent Q, closed the socket, leaving)")


if __name__ == "__main__":
    main()
