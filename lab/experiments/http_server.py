"""http_server: a hand-written HTTP server on a TCP socket, plain or threaded.

    $ python -m lab.experiments.http_server --port 8000 --threaded
    listening on 127.0.0.1:8000
    服务器[19307] 打开 http://127.0.0.1:8000/  (open it in a browser)
    服务器[19307] 客户端 ('127.0.0.1', 57556) 已连接 → 线程 Thread-1 (handle)  (a thread for this request)
    服务器[19307] Thread-1 (handle) 请求行 (request line): GET / HTTP/1.1
    服务器[19307] Thread-1 (handle) 响应 (response): HTTP/1.1 200 OK, 356 字节 (bytes)
    ^C服务器[19307] 服务器退出  (Ctrl-C: the server exits)

Open the URL in a browser, or ``curl -v http://127.0.0.1:8000/``, or run
``python -m lab.experiments.http_client --port 8000``.

The notes' "基础的http服务流程程序": 接收http请求 → 查看请求内容 → 将一个网页回发
给浏览器.  A request is text on the TCP connection: the request line
(``GET / HTTP/1.1``), headers (``Host: ...``, one per line), an empty line,
then the body (if Content-Length says there is one).  The response has the
same shape: the status line ``HTTP/1.1 200 OK`` (404 Not Found for any
other path), headers (Content-Type, Content-Length, Connection: close), an
empty line, the HTML page.  After each response the server closes the
connection, so every request is a connection of its own.

``--mode plain`` (default) serves one request at a time, like the loop
server: with --delay, a second request waits in the listen queue.
``--mode threaded`` (or ``--threaded``) starts a thread per request, the
notes' "基于多线程并发的HTTPServer": requests are served side by side, and
STAT shows ``l`` while they are.

``--version 2`` is the notes' "httpserver第二版" (升级: 使用多线程并发, 增加具体
请求解析, 增加数据获取功能, 封装使用类): a class ``HTTPServer`` whose
serve_forever() accepts and starts a thread per request; handle() parses
the request line; get_html() sends a file of a small static directory
("/" is index.html), get_data() answers other paths (/time), 404 otherwise.
The directory is written at start into the run's own directory and removed
when the server stops; a path outside it (``/../``) is a 404 too.

    $ python -m lab.experiments.http_server --version 2 --port 8895
    服务器[25898] 静态目录 (static dir) /tmp/proclab-hzqt1yjb/static: about.html, index.html, style.css
    listening on 127.0.0.1:8895
    服务器[25898] 打开 http://127.0.0.1:8895/  (open it in a browser)
    服务器[25898] 客户端 ('127.0.0.1', 46044) 已连接 → 线程 Thread-1 (handle)  (a thread for this request)
    服务器[25898] Thread-1 (handle) 请求行 (request line): GET / HTTP/1.1
    服务器[25898] Thread-1 (handle) 响应 (response): HTTP/1.1 200 OK, static/index.html, 535 字节 (bytes)
    服务器[25898] 客户端 ('127.0.0.1', 46060) 已连接 → 线程 Thread-2 (handle)  (a thread for this request)
    服务器[25898] Thread-2 (handle) 请求行 (request line): GET /about.html HTTP/1.1
    服务器[25898] Thread-2 (handle) 响应 (response): HTTP/1.1 200 OK, static/about.html, 313 字节 (bytes)
    服务器[25898] 客户端 ('127.0.0.1', 46080) 已连接 → 线程 Thread-4 (handle)  (a thread for this request)
    服务器[25898] Thread-4 (handle) 请求行 (request line): GET /time HTTP/1.1
    服务器[25898] Thread-4 (handle) 响应 (response): HTTP/1.1 200 OK, get_data /time, 66 字节 (bytes)
    服务器[25898] 客户端 ('127.0.0.1', 46098) 已连接 → 线程 Thread-6 (handle)  (a thread for this request)
    服务器[25898] Thread-6 (handle) 请求行 (request line): GET /../../etc/passwd HTTP/1.1
    服务器[25898] Thread-6 (handle) 响应 (response): HTTP/1.1 404 Not Found, -, 74 字节 (bytes)
    ^C服务器[25898] 服务器退出  (Ctrl-C: the server exits)
"""
import argparse
import html
import os
import shutil
import signal
import socket
import threading
import time
from urllib.parse import unquote, urlsplit

from lab.report import listening, run_dir, say, set_role

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Process &amp; Socket Lab</title></head>
<body>
<h1>Hello from http_server</h1>
<p>served by process {pid}, {thread}, at {time}</p>
<h2>your request</h2>
<pre>{request}</pre>
</body></html>
"""


def read_request(connfd):
    """Bytes up to the empty line, then the body Content-Length announces."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = connfd.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            want = min(int(value), 65536)
            while len(body) < want:
                chunk = connfd.recv(4096)
                if not chunk:
                    break
                body += chunk
    return head.decode("latin-1"), body


def handle(connfd, addr, delay):
    """One request, one response, then close: the whole life of a connection."""
    me = f"服务器[{os.getpid()}] {threading.current_thread().name}"
    connfd.settimeout(10)      # a browser may open a connection and send nothing (超时检测)
    try:
        head, body = read_request(connfd)
        request_line = head.split("\r\n")[0]
        say(f"{me} 请求行 (request line): {request_line or '(empty)'}")
        time.sleep(delay)
        parts = request_line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            status, page = "400 Bad Request", "<h1>400 Bad Request</h1>\n"
        elif parts[1] in ("/", "/index.html"):
            status = "200 OK"
            page = PAGE.format(pid=os.getpid(), thread=html.escape(threading.current_thread().name),
                               time=time.strftime("%H:%M:%S"),
                               request=html.escape(head + ("\r\n\r\n" + body.decode(errors="replace")
                                                           if body else "")))
        else:
            status, page = "404 Not Found", f"<h1>404 Not Found</h1><p>{html.escape(parts[1])}</p>\n"
        content = page.encode()
        response = (f"HTTP/1.1 {status}\r\n"
                    "Content-Type: text/html; charset=utf-8\r\n"
                    f"Content-Length: {len(content)}\r\n"
                    "Connection: close\r\n"
                    "\r\n").encode() + content
        connfd.sendall(response)
        say(f"{me} 响应 (response): HTTP/1.1 {status}, {len(content)} 字节 (bytes)")
    except (socket.timeout, ConnectionError) as exc:
        say(f"{me} {addr} 没有完成请求  ({type(exc).__name__})")
    finally:
        connfd.close()


# ---- version 2: the notes' "httpserver 第二版" ------------------------------------------

STATIC = {      # the small static site version 2 serves, written at start into the run's directory
    "index.html": """<!doctype html>
<html><head><meta charset="utf-8"><title>http_server version 2</title>
<link rel="stylesheet" href="style.css"></head>
<body>
<h1>Hello from http_server, version 2</h1>
<p>A static page from the server's directory {static_dir}, served by a class-based, threaded server.</p>
<ul>
<li><a href="about.html">about.html</a>: another static page</li>
<li><a href="time">time</a>: data made for each request (get_data)</li>
<li><a href="missing.html">missing.html</a>: not there, 404</li>
</ul>
</body></html>
""",
    "about.html": """<!doctype html>
<html><head><meta charset="utf-8"><title>about</title><link rel="stylesheet" href="style.css"></head>
<body>
<h1>About</h1>
<p>HTTPServer.handle() reads the request line, get_html() sends a file of the static directory,
get_data() answers the other paths. <a href="./">back</a></p>
</body></html>
""",
    "style.css": "body { font-family: sans-serif; margin: 2em; }\nh1 { color: #2a5d8f; }\n",
}
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".txt": "text/plain; charset=utf-8"}


def response(status, content, content_type="text/html; charset=utf-8"):
    """Status line, headers, the empty line, the body: the response as bytes."""
    return (f"HTTP/1.1 {status}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(content)}\r\n"
            "Connection: close\r\n"
            "\r\n").encode() + content


class HTTPServer:
    """The notes' httpserver 第二版: 封装使用类, 使用多线程并发, 增加具体请求解析, 增加数据获取功能."""

    def __init__(self, server_address, static_dir, backlog=5, delay=0.0):
        self.server_address = server_address
        self.static_dir = static_dir
        self.backlog = backlog
        self.delay = delay
        self.me = f"服务器[{os.getpid()}]"
        self.create_socket()

    def create_socket(self):
        self.sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sockfd.bind(self.server_address)
        self.port = self.sockfd.getsockname()[1]

    def serve_forever(self):
        """The main thread accepts; a branch thread handles each request."""
        self.sockfd.listen(self.backlog)
        url = f"http://127.0.0.1:{self.port}/"
        say(f"listening on 127.0.0.1:{self.port}")
        listening("tcp", f"127.0.0.1:{self.port}", url=url)
        say(f"{self.me} 打开 {url}  (open it in a browser)")
        while True:
            connfd, addr = self.sockfd.accept()
            t = threading.Thread(target=self.handle, args=(connfd, addr), daemon=True)
            say(f"{self.me} 客户端 {addr} 已连接 → 线程 {t.name}  (a thread for this request)")
            t.start()

    def handle(self, connfd, addr):
        """Parse the request line; a file of the static directory, or data."""
        me = f"{self.me} {threading.current_thread().name}"
        connfd.settimeout(10)      # a browser may open a connection and send nothing (超时检测)
        try:
            head, _ = read_request(connfd)
            request_line = head.split("\r\n")[0]
            say(f"{me} 请求行 (request line): {request_line or '(empty)'}")
            time.sleep(self.delay)
            parts = request_line.split()
            if len(parts) != 3 or not parts[2].startswith("HTTP/"):
                status, what, content, ctype = "400 Bad Request", "-", b"<h1>400 Bad Request</h1>\n", TYPES[".html"]
            elif parts[0] != "GET":
                status, what, content, ctype = ("405 Method Not Allowed", "-",
                                                b"<h1>405 Method Not Allowed</h1>\n", TYPES[".html"])
            else:
                path = urlsplit(parts[1]).path
                if path == "/" or os.path.splitext(path)[1] in TYPES:
                    status, what, content, ctype = self.get_html(path)
                else:
                    status, what, content, ctype = self.get_data(path)
            connfd.sendall(response(status, content, ctype))
            say(f"{me} 响应 (response): HTTP/1.1 {status}, {what}, {len(content)} 字节 (bytes)")
        except (socket.timeout, ConnectionError) as exc:
            say(f"{me} {addr} 没有完成请求  ({type(exc).__name__})")
        finally:
            connfd.close()

    def get_html(self, path):
        """A file of the static directory: "/" is index.html; nothing outside the directory."""
        name = unquote(path).lstrip("/") or "index.html"
        filename = os.path.realpath(os.path.join(self.static_dir, name))
        inside = os.path.commonpath([filename, self.static_dir]) == self.static_dir
        if "\0" in name or not inside or not os.path.isfile(filename):
            page = f"<h1>404 Not Found</h1><p>{html.escape(path)}: no such page</p>\n"
            return "404 Not Found", "-", page.encode(), TYPES[".html"]
        with open(filename, "rb") as f:
            content = f.read()
        ctype = TYPES.get(os.path.splitext(filename)[1], "application/octet-stream")
        return "200 OK", os.path.relpath(filename, os.path.dirname(self.static_dir)), content, ctype

    def get_data(self, path):
        """Not a file: data made for this request (the notes' 数据获取功能)."""
        if path == "/time":
            page = f"<h1>time</h1><p>{time.strftime('%Y-%m-%d %H:%M:%S')}, thread " \
                   f"{html.escape(threading.current_thread().name)}</p>\n"
            return "200 OK", "get_data /time", page.encode(), TYPES[".html"]
        page = f"<h1>404 Not Found</h1><p>Sorry, not found the data: {html.escape(path)}</p>\n"
        return "404 Not Found", "-", page.encode(), TYPES[".html"]


def make_static_dir():
    """A small static site in the run's directory (a fresh temporary one in a terminal)."""
    base = os.path.realpath(run_dir())
    static_dir = os.path.join(base, "static")
    os.mkdir(static_dir)
    for name, text in STATIC.items():
        with open(os.path.join(static_dir, name), "w", encoding="utf-8") as f:
            f.write(text.replace("{static_dir}", html.escape(static_dir)) if name == "index.html" else text)
    return base, static_dir


def leave(sig, frame):
    # A second SIGTERM (timeout(1) sends one to the process and one to its group) must not
    # interrupt the finally: below, which removes the static directory.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    raise SystemExit(0)


def version2(args):
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGHUP, leave)
    me = f"服务器[{os.getpid()}]"
    fresh = "PROCLAB_RUN_DIR" not in os.environ       # under the dashboard the run's dir goes by itself
    base, static_dir = make_static_dir()
    say(f"{me} 静态目录 (static dir) {static_dir}: {', '.join(sorted(os.listdir(static_dir)))}")
    try:
        server = HTTPServer(("127.0.0.1", args.port), static_dir, args.backlog, args.delay)
        server.serve_forever()
    except KeyboardInterrupt:
        say(f"{me} 服务器退出  (Ctrl-C: the server exits)")
    finally:
        shutil.rmtree(static_dir if not fresh else base, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description="hand-written HTTP server, plain or threaded")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    parser.add_argument("--backlog", type=int, default=5, help="listen(n): the listen queue (0 to 16)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each response (0 to 4)")
    parser.add_argument("--mode", choices=("plain", "threaded"), default="plain")
    parser.add_argument("--threaded", dest="mode", action="store_const", const="threaded",
                        help="same as --mode threaded: a thread per request")
    parser.add_argument("--version", choices=("1", "2"), default="1",
                        help="1: one page, plain or threaded; 2: the notes' class-based, threaded server "
                             "of a static directory (--mode is ignored)")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    if not 0 <= args.backlog <= 16:
        parser.error("--backlog must be from 0 to 16")
    # at most 4 s, as in the catalogue: the dashboard's page proxy gives a lab server 5 s to answer
    if not 0 <= args.delay <= 4:
        parser.error("--delay must be from 0 to 4 seconds")
    set_role("server")
    if args.version == "2":
        return version2(args)
    me = f"服务器[{os.getpid()}]"

    sockfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sockfd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sockfd.bind(("127.0.0.1", args.port))
    sockfd.listen(args.backlog)
    port = sockfd.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    say(f"listening on 127.0.0.1:{port}")
    listening("tcp", f"127.0.0.1:{port}", url=url)
    say(f"{me} 打开 {url}  (open it in a browser)")
    try:
        while True:
            connfd, addr = sockfd.accept()
            if args.mode == "threaded":
                t = threading.Thread(target=handle, args=(connfd, addr, args.delay), daemon=True)
                say(f"{me} 客户端 {addr} 已连接 → 线程 {t.name}  (a thread for this request)")
                t.start()
            else:
                say(f"{me} 客户端 {addr} 已连接  (serving this request, the next one waits)")
                handle(connfd, addr, args.delay)
    except KeyboardInterrupt:
        say(f"{me} 服务器退出  (Ctrl-C: the server exits)")
    finally:
        sockfd.close()


if __name__ == "__main__":
    main()
