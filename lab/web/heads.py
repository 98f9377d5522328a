"""A request's head, read before any thread is given to it.

gunicorn's threaded worker gives a connection a thread as soon as it has
data, and that thread then blocks until the whole request has come: 256
connections that each sent half a header (no token needed) held all 256
threads, and no REST call nor websocket got in for as long as they stayed.
So the worker's own loop reads each request's head, and a small body,
without blocking (lab/web/worker.py), and only a complete request gets a
thread.  This is the part that decides when a request is complete:

    >>> head = Head()
    >>> head.feed(b"POST /api/reset HTTP/1.1\\r\\nContent-Length: 2\\r\\n")
    >>> head.feed(b"\\r\\n{")
    >>> head.feed(b"}")
    'ready'
    >>> head.take()
    b'POST /api/reset HTTP/1.1\\r\\nContent-Length: 2\\r\\n\\r\\n{}'
"""
import re

HEAD_LIMIT = 32 * 1024      # bytes of request line and headers
BODY_LIMIT = 64 * 1024      # bytes of body read here; the app takes 16 KiB (MAX_CONTENT_LENGTH)
_FIELD = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*:[ \t]*(.*?)[ \t]*$")


class Refusal(Exception):
    """The request cannot be taken; answered at once with this status."""

    def __init__(self, status, reason, error):
        super().__init__(error)
        self.status, self.reason, self.error = status, reason, error


class Head:
    """Bytes of one request as they come: feed() until it says "ready"."""

    def __init__(self, data=b""):
        self.data = bytearray(data)
        self.searched = 0           # where the search for the head's end resumes
        self.needed = None          # head and body length, once the head is complete
        self.expects_continue = False   # "Expect: 100-continue": the client waits to send its body

    def feed(self, data):
        """Take more bytes: "ready" when the request is complete, else None;
        Refusal if it never can be.  Each byte is searched once (the loop that
        calls this serves everyone)."""
        self.data += data
        if self.needed is None:
            end = self.data.find(b"\r\n\r\n", self.searched)
            if end < 0:
                if self.data.find(b"\n\n", self.searched) >= 0:
                    raise Refusal(400, "Bad Request", "the request's lines must end in CRLF")
                if len(self.data) > HEAD_LIMIT:
                    raise Refusal(431, "Request Header Fields Too Large",
                                  f"the request's head is over {HEAD_LIMIT} bytes")
                self.searched = max(0, len(self.data) - 3)
                return None
            try:
                length, self.expects_continue = self._fields(bytes(self.data[:end]))
                self.needed = end + 4 + length
            except Refusal:
                raise
            except Exception as exc:        # whatever the bytes, never the loop's own exception
                raise Refusal(400, "Bad Request", f"the request's head cannot be read ({type(exc).__name__})")
        return "ready" if len(self.data) >= self.needed else None

    def ready(self):
        return self.feed(b"")

    def take(self):
        data, self.data = bytes(self.data), bytearray()
        return data

    @staticmethod
    def _fields(head):
        """(body length, expects 100-continue) from the head's fields."""
        lengths, expect = set(), False
        for line in head.split(b"\r\n")[1:]:
            field = _FIELD.match(line)
            if field is None:
                continue            # the parser will judge it; here only the length counts
            name = field.group(1).lower()
            if name == b"expect":
                expect = field.group(2).lower() == b"100-continue"
            if name == b"transfer-encoding":
                raise Refusal(411, "Length Required",
                              "a request body must come with Content-Length, not chunked")
            if name == b"content-length":
                value = field.group(2)
                if not value.isdigit():
                    raise Refusal(400, "Bad Request", "Content-Length is not a number")
                if len(value.lstrip(b"0")) > 12:      # int() of 5000 digits raises, and none is needed
                    raise Refusal(413, "Content Too Large", f"the request's body is over {BODY_LIMIT} bytes")
                lengths.add(int(value))
        if len(lengths) > 1:
            raise Refusal(400, "Bad Request", "two different Content-Length headers")
        length = lengths.pop() if lengths else 0
        if length > BODY_LIMIT:
            raise Refusal(413, "Content Too Large", f"the request's body is over {BODY_LIMIT} bytes")
        return length, expect and length > 0
