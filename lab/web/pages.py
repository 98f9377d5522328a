"""The page itself; ?token=… in its URL becomes a cookie, as Jupyter does."""
from flask import Blueprint, current_app, redirect, render_template, request

from lab.web.guard import COOKIE, may_control

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    token = request.args.get("token")
    if token is not None and may_control():
        response = redirect(request.path + ("?" + "&".join(
            f"{k}={v}" for k, v in request.args.items() if k != "token") if len(request.args) > 1 else ""))
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return response
    return render_template("index.html", can_control=may_control(),
                           token_required=bool(current_app.config.get("TOKEN")))
