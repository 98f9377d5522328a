"""Who may control: Origin check, control token, JSON bodies, start rate limit.

Watching needs nothing; changing something (a start, a signal, a key) needs
a same-origin request, a JSON body, and the token when one is set.
"""
import collections
import hmac
import threading
import time
from urllib.parse import urlsplit

from flask import current_app, request

from lab.web.errors import ApiError

COOKIE = "proclab_token"


def origin_ok():
    """Browsers send Origin on cross-site writes and websockets: it must be this host."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True            # not a browser cross-origin request (curl, tests)
    return urlsplit(origin).netloc == request.host


def token_of_request():
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[len("Bearer "):].strip()
    return request.cookies.get(COOKIE) or request.args.get("token")


def may_control():
    token = current_app.config.get("TOKEN")
    if not token:
        return True
    given = token_of_request()
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def check_control():
    """Raise the right 4xx unless this request may change the lab."""
    if not origin_ok():
        raise ApiError(403, "cross-origin request refused",
                       {"origin": request.headers.get("Origin"), "host": request.host})
    if not may_control():
        raise ApiError(401, "control token required: open the URL with ?token=… "
                            "or send Authorization: Bearer <token>")


def json_body(required=True):
    """The request's JSON object; an empty body is {} when not required."""
    if not request.get_data(cache=True):
        if required:
            raise ApiError(400, "a JSON object body is required")
        return {}
    if not request.is_json:
        raise ApiError(415, "control requests must be JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


class RateLimit:
    """At most `count` events in any `window` seconds."""

    def __init__(self, count, window):
        self.count, self.window = count, window
        self.times = collections.deque()
        self.lock = threading.Lock()

    def hit(self):
        now = time.monotonic()
        with self.lock:
            while self.times and now - self.times[0] > self.window:
                self.times.popleft()
            if len(self.times) >= self.count:
                retry = self.window - (now - self.times[0])
                raise ApiError(429, f"too many starts: at most {self.count} per "
                                    f"{self.window:g} s, retry in {retry:.1f} s")
            self.times.append(now)
