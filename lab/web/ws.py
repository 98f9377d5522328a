"""The websocket /ws: a snapshot, then diffs and events as the hub makes them.

The route is flask-sock's, written out: the socket is a ViewerSocket
(bounded input, whole frames out), and a viewer that leaves, however it
leaves, is one line in the log at most, never a traceback.
"""
import json
import logging
import threading

from flask import Blueprint, Response, current_app, g, request
from simple_websocket import ConnectionClosed
from wsproto.utilities import RemoteProtocolError

from lab.hub import CLOSED
from lab.web.errors import ApiError, error_response
from lab.web.guard import origin_ok
from lab.web.viewersocket import ViewerSocket

bp = Blueprint("ws", __name__)
log = logging.getLogger("proclab.ws")


@bp.before_request
def before_handshake():
    # Checked before the handshake: a page of another site may not even watch.
    if not origin_ok():
        raise ApiError(403, "cross-origin websocket refused",
                       {"code": "cross_origin", "origin": request.headers.get("Origin"), "host": request.host})
    # Each viewer holds a server thread for as long as it watches: keep some for
    # REST.  A slot is taken here, before the handshake, and given back when the
    # request ends, so many handshakes at once cannot overshoot the cap.
    limit = current_app.config["MAX_VIEWERS"]
    slots = current_app.extensions.setdefault("proclab_viewer_slots", ViewerSlots())
    if not slots.take(limit):
        raise ApiError(503, f"too many viewers (at most {limit}): try again later",
                       {"code": "viewers", "limit": limit})
    g.viewer_slot = slots


@bp.errorhandler(RemoteProtocolError)
def bad_handshake(exc):
    """An Upgrade request without Sec-WebSocket-Key or -Version: the client's fault."""
    return error_response(400, "bad websocket handshake", str(exc))


@bp.teardown_request
def give_back_slot(exc):
    slots = g.pop("viewer_slot", None)
    if slots is not None:
        slots.give_back()


class ViewerSlots:
    def __init__(self):
        self.used = 0
        self.lock = threading.Lock()

    def take(self, limit):
        with self.lock:
            if self.used >= limit:
                return False
            self.used += 1
            return True

    def give_back(self):
        with self.lock:
            self.used -= 1


@bp.route("/ws", websocket=True)
def websocket():
    ws = ViewerSocket(request.environ)
    try:
        stream(ws)
    except (ConnectionClosed, OSError) as exc:      # the viewer left, or stopped reading
        log.info("viewer %s left: %s", request.remote_addr, type(exc).__name__)
    try:
        ws.close()
    except (ConnectionClosed, OSError):
        pass
    return _Answered(gunicorn=ws.mode == "gunicorn")


class _Answered(Response):
    """The websocket has answered on the socket itself: nothing more may be
    written to it.  Under gunicorn that is said by ending the request with
    StopIteration (as flask-sock does); the development server takes an
    empty response."""

    def __init__(self, gunicorn):
        super().__init__()
        self.gunicorn = gunicorn

    def __call__(self, environ, start_response):
        if self.gunicorn:
            raise StopIteration()
        return super().__call__(environ, start_response)


def stream(ws):
    hub = current_app.extensions["proclab"].hub
    viewer = hub.subscribe()
    try:
        while True:
            frame = viewer.get(0.25)
            if frame is CLOSED:
                break
            if frame is not None:
                ws.send(frame)
            for _ in range(8):          # what the viewer sent meanwhile (a bounded few per loop)
                message = ws.receive(timeout=0)
                if message is None:
                    break
                answer(ws, viewer, message)
    finally:
        hub.unsubscribe(viewer)


def answer(ws, viewer, message):
    try:
        kind = json.loads(message).get("type")
    except (ValueError, AttributeError, RecursionError):
        kind = None
    if kind == "resync":
        viewer.resync()
    else:
        ws.send(json.dumps({"type": "error", "error": "unknown message",
                            "detail": "send {\"type\": \"resync\"}"}))


def init_app(app):
    app.register_blueprint(bp)
