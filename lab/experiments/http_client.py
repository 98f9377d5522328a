"""http_client: what a browser does, by hand: an HTTP GET on a TCP socket.

    $ python -m lab.experiments.http_client --port 8000 --count 1
    客户端[19325] 连接 127.0.0.1:8000, 发送请求 (request): GET / HTTP/1.1
    客户端[19325] 响应行 (status line): HTTP/1.1 200 OK
    客户端[19325] 响应头 (headers): Content-Type: text/html; charset=utf-8 | Content-Length: 356 | Connection: close
    客户端[19325] 响应体 (body): 356 字节 (bytes), 服务器关闭了连接  (the server closed the connection)
    客户端[19325] 退出  (leaving)

The request is the notes' format: request line, headers, an empty line
(``\\r\\n\\r\\n``), no body.  The server says ``Connection: close``, so the
end of the body is where recv() returns b"".  Every --every seconds it asks
again, on a new connection each time (the connection shows in ``ss -tan``
while the server takes its --delay); SIGTERM or Ctrl-C stops it.
"""
import argparse
import os
import signal
import socket
import time

from lab.experiments.tcp_client import leave
from lab.report import say, set_role


def get(host, port, path):
    """One GET: connect, send the request, read until the server closes."""
    me = f"客户端[{os.getpid()}]"
    sockfd = socket.create_connection((host, port), timeout=30)
    try:
        request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/html\r\n" \
                  f"User-Agent: proclab-http-client\r\nConnection: close\r\n\r\n"
        sockfd.sendall(request.encode())
        say(f"{me} 连接 {host}:{port}, 发送请求 (request): {request.splitlines()[0]}")
        data = b""
        while chunk := sockfd.recv(4096):
            data += chunk
    finally:
        sockfd.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    say(f"{me} 响应行 (status line): {lines[0]}")
    say(f"{me} 响应头 (headers): {' | '.join(lines[1:])}")
    say(f"{me} 响应体 (body): {len(body)} 字节 (bytes), 服务器关闭了连接  (the server closed the connection)")


def main():
    parser = argparse.ArgumentParser(description="HTTP GET by hand, on a TCP socket")
    parser.add_argument("--host", default="127.0.0.1", help="server address (loopback only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/", help="what to GET")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between requests")
    parser.add_argument("--count", type=int, default=0, help="requests to make, 0 = until stopped")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("this lab talks to loopback only (127.0.0.1 or ::1)")
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    set_role("client")
    n = 0
    try:
        while not args.count or n < args.count:
            if n:
                time.sleep(args.every)
            n += 1
            try:
                get(args.host, args.port, args.path)
            except OSError as exc:
                say(f"客户端[{os.getpid()}] 请求失败  ({type(exc).__name__}: {exc})")
    finally:
        say(f"客户端[{os.getpid()}] 退出  (leaving)")


if __name__ == "__main__":
    main()
