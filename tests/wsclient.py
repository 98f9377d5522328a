"""A raw websocket client for tests that must send what a browser never would.

simple-websocket's client sends one message per call; an attacker writes
thousands in one go.  This one speaks wsproto over a plain socket, with
permessage-deflate as browsers offer it, and reads what the server answers.
"""
import socket

from wsproto import ConnectionType, WSConnection
from wsproto.events import (AcceptConnection, CloseConnection, RejectConnection, Request,
                            TextMessage)
from wsproto.extensions import PerMessageDeflate


class RawViewer:
    def __init__(self, port, host="127.0.0.1", headers=()):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host=f"{host}:{port}", target="/ws",
                                               extensions=[PerMessageDeflate()],
                                               extra_headers=list(headers))))
        self.accepted, self.closed, self.texts = None, None, []
        while self.accepted is None:
            self._read()

    def _read(self):
        data = self.sock.recv(65536)
        self.ws.receive_data(data or None)
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                self.accepted = True
            elif isinstance(event, RejectConnection):
                self.accepted = False
            elif isinstance(event, TextMessage):
                self.texts.append(event.data)
            elif isinstance(event, CloseConnection):
                self.closed = (event.code, event.reason)
        return bool(data)

    def flood(self, message, count):
        """Send `count` copies of `message` (1000 in each write) as fast as the
        socket takes them; returns (messages sent, bytes on the wire)."""
        sent = wire = 0
        try:
            while sent < count:
                batch = b"".join(self.ws.send(TextMessage(data=message)) for _ in range(1000))
                self.sock.sendall(batch)
                sent, wire = sent + 1000, wire + len(batch)
        except OSError:          # reset: the server closed it
            pass
        return sent, wire

    def wait_closed(self, timeout=10):
        """The server's close frame (code, reason), or None if the socket just ended."""
        self.sock.settimeout(timeout)
        try:
            while self.closed is None and self._read():
                pass
        except OSError:
            pass
        return self.closed

    def close(self):
        self.sock.close()
