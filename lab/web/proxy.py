"""Open a lab's web page from the dashboard: /runs/<id>/page/ forwards a GET.

A lab's HTTP server listens on 127.0.0.1 only, so a student watching from
another machine could not open it directly.  The dashboard fetches it for
them: one GET, to the run's announced URL only, and only while a process
of the run listens there; a bounded reply.  Each request is a real
connection to the lab server, and shows in its sockets.

A request is an act on the lab, so it needs control.  A new browser tab
carries no token, though: the controlling page asks for a link first
(``POST /api/runs/<id>/page``), whose ticket opens that run's page and
nothing else, ``/runs/<id>/page~<ticket>/``; the lab page's relative links
keep it.  API clients may send the token instead (``/runs/<id>/page/``).
"""
import collections
import http.client
import secrets
import threading
from urllib.parse import quote, quote_from_bytes, urlsplit

from flask import Blueprint, Response, current_app, jsonify, request

from lab.web.errors import ApiError
from lab.web.guard import check_control

bp = Blueprint("proxy", __name__)

LIMIT = 1024 * 1024
URL_SAFE = "/:@!$&'()*+,;=-._~"     # a %3F in the path stays %3F: not a query
PASSED_HEADERS = ("Content-Type", "Cache-Control", "Last-Modified")


class PageTickets:
    """Tickets to one run's page each, the latest few hundred."""

    def __init__(self, keep=256):
        self.keep = keep
        self.tickets = collections.OrderedDict()     # ticket -> run id
        self.lock = threading.Lock()

    def issue(self, run_id):
        ticket = secrets.token_urlsafe(16)
        with self.lock:
            self.tickets[ticket] = run_id
            while len(self.tickets) > self.keep:
                self.tickets.popitem(last=False)
        return ticket

    def valid(self, run_id, ticket):
        with self.lock:
            return ticket is not None and self.tickets.get(ticket) == run_id


def _tickets():
    return current_app.extensions.setdefault("proclab_page_tickets", PageTickets())


def _page_url(run_id):
    engine = current_app.extensions["proclab"]
    run = engine.supervisor.get(run_id)
    if run is None:
        raise ApiError(404, f"unknown run {run_id!r}")
    if run.state == "ended":
        raise ApiError(409, f"run {run_id} has ended")
    url = next((e["url"] for e in run.endpoints if e.get("url")), None)
    if url is None:
        raise ApiError(404, f"run {run_id} serves no web page")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:                  # ":99999", ":abc": a lab program may announce anything
        port = None
    if port is None or parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "::1"):
        raise ApiError(409, f"run {run_id} announced {url!r}: only http on loopback is opened")
    # What was announced may be stale: the server killed, its port taken by a
    # program outside the lab.  Only a process of the run listening now counts.
    if engine.listener(run_id, parts.hostname, port) is None:
        raise ApiError(502, f"no process of run {run_id} listens on port {parts.port} now",
                       {"code": "not_listening", "run": run_id, "port": parts.port})
    return parts


@bp.post("/api/runs/<run_id>/page")
def page_link(run_id):
    """A link that opens the run's page in a tab of its own (see the module's docstring)."""
    check_control()
    _page_url(run_id)
    return jsonify({"url": f"/runs/{quote(run_id, safe='')}/page~{_tickets().issue(run_id)}/"})


@bp.get("/runs/<run_id>/page~<ticket>/", defaults={"rest": ""})
@bp.get("/runs/<run_id>/page~<ticket>/<path:rest>")
def page_by_ticket(run_id, ticket, rest):
    if not _tickets().valid(run_id, ticket):
        raise ApiError(401, "this link to a lab's page is not (or no longer) valid: open it from the dashboard",
                       {"code": "page_ticket"})
    return _forward(run_id, rest)


@bp.get("/runs/<run_id>/page/", defaults={"rest": ""})
@bp.get("/runs/<run_id>/page/<path:rest>")
def page(run_id, rest):
    check_control()          # a request is an action on the lab: it makes a connection
    return _forward(run_id, rest)


def _forward(run_id, rest):
    parts = _page_url(run_id)
    # Flask decoded the path; the lab's server gets it encoded again, as a browser sends it.
    path = quote("/" + rest, safe=URL_SAFE)
    if request.query_string:
        path += "?" + quote_from_bytes(request.query_string, safe=URL_SAFE + "?%")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request("GET", path, headers={"User-Agent": "proclab-dashboard", "Connection": "close"})
        reply = conn.getresponse()
        body = reply.read(LIMIT + 1)
    except (OSError, http.client.HTTPException) as exc:
        raise ApiError(502, f"the lab's server did not answer: {exc}")
    finally:
        conn.close()
    if len(body) > LIMIT:
        raise ApiError(502, f"the lab's page is larger than {LIMIT} bytes")
    headers = {k: v for k, v in reply.getheaders() if k in PASSED_HEADERS}
    # The page comes from a lab, not from us: in a sandbox, its scripts (if any)
    # run as a foreign origin and cannot use the dashboard's cookie or API.
    headers["Content-Security-Policy"] = "sandbox"
    return Response(body, status=reply.status, headers=headers)
