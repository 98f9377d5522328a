"""The page itself; ?token=… in its URL becomes a cookie, as Jupyter does.

The page is plain HTML plus ES modules and vendored files from /static (no
build step, no CDN: classrooms are offline).  It reads ``data-can-control``
on <body> to show or hide every control, so a student without the token
watches everything and changes nothing.
"""
from urllib.parse import urlencode

from flask import Blueprint, current_app, make_response, redirect, render_template, request

from lab.web.guard import COOKIE, may_control, token_matches

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
    token = request.args.get("token")
    if token is not None and token_matches(token):
        # Keep the other parameters (?lang=zh&projector=1), properly encoded, drop the token.
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
        response = redirect(request.path + ("?" + urlencode(rest) if rest else ""))
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return response
    response = make_response(render_template(
        "index.html", can_control=may_control(), token_required=bool(current_app.config.get("TOKEN")),
        token_wrong=token is not None and not token_matches(token)))
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"    # a URL with ?token= never leaks as a Referer
    response.headers["Cache-Control"] = "no-store"         # whether it may control is decided per request
    return response
