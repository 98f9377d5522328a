"""Who may control: Host and Origin checks, control token, JSON bodies, start rate limit.

Watching needs nothing; changing something (a start, a signal, a key) needs
a same-origin request, a JSON body, and the token when one is set.

Bound to loopback, the dashboard answers only to loopback names in the Host
header.  Otherwise a web page of another site whose name the attacker makes
resolve to 127.0.0.1 (DNS rebinding) would be "same origin" and could click
for the user.  Bound beyond loopback, any name is fine: the token guards control.
"""
import collections
import hmac
import threading
import time
from urllib.parse import urlsplit

from flask import current_app, request

from lab.web.errors import ApiError

OLD_COOKIE = "proclab_token"     # where older versions kept the token: it no longer counts


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def host_ok():
    """The Host header names this server (see the module's docstring)."""
    allowed = current_app.config.get("ALLOWED_HOSTS")
    if allowed is None:
        return True
    host = request.host
    name = host[1:host.index("]")] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0]
    return name.lower() in allowed


def refuse_options():
    """No cross-origin use is offered, so no CORS preflight is answered (Flask would, with an empty 200)."""
    if request.method == "OPTIONS":
        raise ApiError(405, f"method OPTIONS is not allowed on {request.path}")


def check_host():
    if not host_ok():
        names = ", ".join(current_app.config["ALLOWED_HOSTS"])
        raise ApiError(403, f"unknown Host header {request.host!r}: this dashboard answers to {names} "
                            "(to reach it by another name, start it with --allow-host NAME)",
                       {"host": request.host, "allowed": list(current_app.config["ALLOWED_HOSTS"])})


_PORTS = {"http": 80, "https": 443}


def _endpoint(scheme, netloc):
    """(scheme, host, port) as a browser compares origins: default ports filled in."""
    parts = urlsplit(f"//{netloc}")
    return scheme, parts.hostname, parts.port or _PORTS.get(scheme)


def origin_ok():
    """Browsers send Origin on cross-site writes and websockets: it must be this
    page's origin, scheme, host and port alike (https://, or foo://, the same
    host is another origin; so is "null", a sandboxed frame's)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True            # not a browser cross-origin request (curl, tests)
    try:
        parts = urlsplit(origin)
        theirs = _endpoint(parts.scheme, parts.netloc)
        ours = _endpoint(request.scheme, request.host)
    except ValueError:         # a port that is no number, a bracket unclosed
        return False
    return parts.netloc != "" and theirs == ours


def tokens_of_request():
    """Every token the request carries: a header (the page sends it so), a
    ?token= (curl).  Never a cookie: the browser would send it to any port of
    the host, and a page there could use it."""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        yield auth[len("Bearer "):].strip()
    yield request.args.get("token")


def token_matches(given):
    token = current_app.config.get("TOKEN")
    return bool(given) and bool(token) and hmac.compare_digest(given.encode(), token.encode())


def may_control():
    """No token set, or any token the request carries is right (an old
    ?token= does not undo a good header, nor an old header a good ?token=)."""
    if not current_app.config.get("TOKEN"):
        return True
    return any(token_matches(given) for given in tokens_of_request())


def check_control():
    """Raise the right 4xx unless this request may change the lab."""
    if not origin_ok():
        raise ApiError(403, "cross-origin request refused",
                       {"code": "cross_origin", "origin": request.headers.get("Origin"), "host": request.host})
    if not may_control():
        raise ApiError(401, "control token required: open the URL with ?token=… "
                            "or send Authorization: Bearer <token>", {"code": "token_required"})


def json_body(required=True):
    """The request's JSON object; an empty body is {} when not required."""
    if not request.get_data(cache=True):
        if required:
            raise ApiError(400, "a JSON object body is required")
        return {}
    if not request.is_json:
        raise ApiError(415, "control requests must be JSON (Content-Type: application/json)")
    try:
        body = request.get_json(silent=True)
    except RecursionError:             # [[[[…]]]] thousands deep: not a control request
        body = None
    if body is None:
        raise ApiError(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


class RateLimit:
    """At most `count` events in any `window` seconds."""

    def __init__(self, count, window, what="starts"):
        self.count, self.window, self.what = count, window, what
        self.times = collections.deque()
        self.lock = threading.Lock()

    def hit(self):
        now = time.monotonic()
        with self.lock:
            while self.times and now - self.times[0] > self.window:
                self.times.popleft()
            if len(self.times) >= self.count:
                retry = self.window - (now - self.times[0])
                raise ApiError(429, f"too many {self.what}: at most {self.count} per "
                                    f"{self.window:g} s, retry in {retry:.1f} s")
            self.times.append(now)
