"""socketserver_server: socket 服务器的集成模块 socketserver, 多进程/多线程的 tcp/udp 并发服务器.

    $ python -m lab.experiments.socketserver_server --kind forking --port 8888
    listening on 127.0.0.1:8888
    服务器[17933] class Server(ForkingTCPServer), Handler(StreamRequestHandler): serve_forever()  (a process per client)
    子进程[17955] 服务 ('127.0.0.1', 37252)  (Handler.handle() in a child process)
    子进程[17955] 收到 ('127.0.0.1', 37252): hello 1
    子进程[17955] 收到 ('127.0.0.1', 37252): hello 2
    子进程[17955] 客户端 ('127.0.0.1', 37252) 离开了, handle() 返回, 子进程退出  (the client left: the child exits)
    服务器[17933] collect_children() 回收子进程 17955  (reaped by serve_forever's service_actions)
    ^C服务器[17933] 服务器退出  (Ctrl-C: the server exits)

    $ python -m lab.experiments.socketserver_server --kind threading --port 8888
    listening on 127.0.0.1:8888
    服务器[17812] class Server(ThreadingTCPServer), Handler(StreamRequestHandler): serve_forever()  (a thread per client)
    服务器[17812] Thread-1 (process_request_thread) 服务 ('127.0.0.1', 37242)  (Handler.handle() in a thread)
    服务器[17812] Thread-1 (process_request_thread) 收到 ('127.0.0.1', 37242): hello 1
    服务器[17812] Thread-1 (process_request_thread) 收到 ('127.0.0.1', 37242): hello 2
    服务器[17812] Thread-1 (process_request_thread) 客户端 ('127.0.0.1', 37242) 离开了, handle() 返回, 线程结束  (the client left: the thread ends)
    ^C服务器[17812] 服务器退出  (Ctrl-C: the server exits)

    $ python -m lab.experiments.socketserver_server --kind udp --port 8888
    listening on 127.0.0.1:8888
    服务器[17873] class Server(UDPServer), Handler(DatagramRequestHandler): serve_forever()  (one process, one socket)
    服务器[17873] 数据报 (datagram) 来自 ('127.0.0.1', 55367): hello 1
    服务器[17873] 数据报 (datagram) 来自 ('127.0.0.1', 55367): hello 2
    ^C服务器[17873] 服务器退出  (Ctrl-C: the server exits)

Talk to it with ``python -m lab.experiments.tcp_client --port 8888`` (or
``udp_client`` for --kind udp).

The notes' recipe ("服务器类"): "1.class Server(ForkingTCPServer): pass
2.class Handler(StreamRequestHandler): def handle(self) 3.server =
Server((ip,端口号),Handler) 4.server.serve_forever()".  The module writes the
loops the hand-written servers spell out: ForkingMixIn forks in
process_request() like tcp_fork_server's ``os.fork()`` after accept (a
child per client), ThreadingMixIn starts a threading.Thread like
tcp_thread_server (a thread per client), and UDPServer is udp_server's
recvfrom/sendto loop (one process, one socket for every client).  The
handler gets the connection as ``self.request`` and, from
StreamRequestHandler, ``self.rfile``/``self.wfile`` file objects on it;
DatagramRequestHandler gives the datagram as ``self.rfile`` and sends what
is written to ``self.wfile`` back to the sender when handle() returns.
The notes' ForkingUDPServer and ThreadingUDPServer would make a process or
a thread per *datagram*, not per client: UDP has no connection to keep.

Two things the library does its own way: its child keeps a copy of the
listening socket (ForkingMixIn does not close it; the handler does here,
as tcp_fork_server's child does, so the child holds only its connection);
and the parent reaps its children in collect_children(), which
serve_forever() calls every poll_interval (0.5 s), so an ended child may
show Z for up to half a second.  Between clients serve_forever() waits in
select/poll with that timeout, not in accept().

Leaving: the server sets block_on_close = False, or server_close() (at the
end of ``with server:``) would wait for every child still serving a client,
and ``kill -INT`` would not end it until the last client left.  Ctrl-C in a
terminal reaches the children too (the whole foreground group); a SIGINT to
the server alone ends the server only, and each child goes on with its
client until that client leaves, as tcp_fork_server's do.  The udp kind
does not set SO_REUSEADDR: UDP has no TIME_WAIT to wait for, and the option
would let another socket bind the same address and port beside it.
"""
import argparse
import os
import signal
import socketserver
import threading

from lab.report import listening, say, set_role

KINDS = {"forking": socketserver.ForkingTCPServer, "threading": socketserver.ThreadingTCPServer,
         "udp": socketserver.UDPServer}

server_pid = os.getpid()         # a forked child is the one whose pid differs


def who():
    """The speaker: the child process, the thread, or the server itself."""
    if threading.current_thread() is not threading.main_thread():
        return f"服务器[{os.getpid()}] {threading.current_thread().name}"
    return f"子进程[{os.getpid()}]" if server_pid != os.getpid() else f"服务器[{os.getpid()}]"


class StreamHandler(socketserver.StreamRequestHandler):
    """A client's whole conversation: handle() runs in its child process or its thread."""

    def setup(self):
        if isinstance(self.server, socketserver.ForkingMixIn):
            signal.signal(signal.SIGINT, signal.SIG_DFL)   # Ctrl-C: the children go quietly
            set_role("child")
            self.server.socket.close()    # the child does not accept (ForkingMixIn leaves it open)
        super().setup()

    def handle(self):
        where = "in a child process" if isinstance(self.server, socketserver.ForkingMixIn) else "in a thread"
        say(f"{who()} 服务 {self.client_address}  (Handler.handle() {where})")
        while True:
            try:
                data = self.rfile.readline()      # a line, the way tcp_client sends them
            except ConnectionError:
                data = b""
            if not data:                          # b"": the client closed its end
                break
            text = data.decode(errors="replace").strip()
            say(f"{who()} 收到 {self.client_address}: {text}")
            try:
                self.wfile.write(f"收到 (got) {text}  from {who()}".encode())
            except ConnectionError:
                break
        end = "子进程退出  (the client left: the child exits)" if where == "in a child process" \
            else "线程结束  (the client left: the thread ends)"
        say(f"{who()} 客户端 {self.client_address} 离开了, handle() 返回, {end}")


class DatagramHandler(socketserver.DatagramRequestHandler):
    """One datagram: self.rfile holds it, what goes to self.wfile is sent back by finish()."""

    def handle(self):
        text = self.rfile.read().decode(errors="replace").strip()
        say(f"{who()} 数据报 (datagram) 来自 {self.client_address}: {text}")
        self.wfile.write(f"收到 (got) {text}".encode())


def make_server(kind, port):
    base = KINDS[kind]

    class Server(base):
        # SO_REUSEADDR, as the hand-written TCP servers set it (端口立即复用 despite a TIME_WAIT).  Not
        # for UDP: it has no TIME_WAIT, and the option would let another process bind the same
        # address and port and take some of the datagrams.
        allow_reuse_address = kind != "udp"
        daemon_threads = True             # like tcp_thread_server's: they end with the main thread
        # server_close() (the end of `with server:`) would otherwise wait for every child process
        # still serving a client: Ctrl-C or kill -INT must end the server now, as tcp_fork_server's.
        block_on_close = False

        if kind == "forking":
            def collect_children(self, **kwargs):
                """ForkingMixIn's reaping (waitpid(pid, WNOHANG) per child), saying whom it reaped."""
                before = set(self.active_children or ())
                super().collect_children(**kwargs)
                for pid in sorted(before - set(self.active_children or ())):
                    say(f"{who()} collect_children() 回收子进程 {pid}  (reaped by serve_forever's service_actions)")

    handler = DatagramHandler if kind == "udp" else StreamHandler
    return Server(("127.0.0.1", port), handler), base.__name__, handler.__bases__[0].__name__


def main():
    parser = argparse.ArgumentParser(description="socketserver: ForkingTCPServer, ThreadingTCPServer, UDPServer")
    parser.add_argument("--kind", choices=tuple(KINDS), default="forking",
                        help="a process per client, a thread per client, or UDP")
    parser.add_argument("--port", type=int, default=0, help="0: the kernel picks a free port")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    # Ctrl-C raises KeyboardInterrupt even where SIGINT came in ignored (started with & by a shell)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    set_role("server")
    server, base, handler = make_server(args.kind, args.port)
    port = server.server_address[1]
    say(f"listening on 127.0.0.1:{port}")
    listening("udp" if args.kind == "udp" else "tcp", f"127.0.0.1:{port}")
    shape = {"forking": "a process per client", "threading": "a thread per client",
             "udp": "one process, one socket"}[args.kind]
    say(f"{who()} class Server({base}), Handler({handler}): serve_forever()  ({shape})")
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            say(f"{who()} 服务器退出  (Ctrl-C: the server exits)")


if __name__ == "__main__":
    main()
