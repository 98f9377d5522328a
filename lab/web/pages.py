"""The page itself; ?token=… in its URL makes it the page that controls.

The page is plain HTML plus ES modules and vendored files from /static (no
build step, no CDN: classrooms are offline).  It reads ``data-can-control``
on <body> (or, reloaded, asks /api/control with the token its tab kept) to
show or hide every control, so a student without the token watches
everything and changes nothing.
"""
from flask import Blueprint, current_app, make_response, render_template, request

from lab.web.guard import OLD_COOKIE, token_matches

bp = Blueprint("pages", __name__)

# Everything the page loads comes from this server: no inline script, no other origin.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",   # xterm.js writes <style> elements for its themes
    "img-src 'self' data: blob:",
    "connect-src 'self'",                 # the REST API and the websocket, on this host
    "frame-ancestors 'none'",             # no other site may frame the controls
    "base-uri 'none'",
    "form-action 'self'",
])


@bp.get("/")
def index():
    """?token=… makes this page a controlling one; its script keeps the token
    in the tab's sessionStorage and drops it from the URL.  Not a cookie: a
    browser sends a cookie of 127.0.0.1 to every port of 127.0.0.1, any
    other user's server and any lab's among them."""
    token = request.args.get("token")
    given = token is not None and token_matches(token)
    response = make_response(render_template(
        "index.html", can_control=given or not current_app.config.get("TOKEN"),
        token_required=bool(current_app.config.get("TOKEN")), token_wrong=token is not None and not given))
    if OLD_COOKIE in request.cookies:          # set by an older version: it no longer controls
        response.delete_cookie(OLD_COOKIE)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"    # a URL with ?token= never leaks as a Referer
    response.headers["Cache-Control"] = "no-store"         # whether it may control is decided per request
    return response
