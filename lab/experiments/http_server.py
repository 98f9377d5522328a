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
"""
import argparse
import html
import os
import socket
import threading
import time

from lab.report import listening, say, set_role

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


def main():
    parser = argparse.ArgumentParser(description="hand-written HTTP server, plain or threaded")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    parser.add_argument("--backlog", type=int, default=5, help="listen(n): the listen queue")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each response")
    parser.add_argument("--mode", choices=("plain", "threaded"), default="plain")
    parser.add_argument("--threaded", dest="mode", action="store_const", const="threaded",
                        help="same as --mode threaded: a thread per request")
    args = parser.parse_args()
    set_role("server")
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
