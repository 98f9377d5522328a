"""Every error is JSON: {"error": "...", "detail": ...} with a 4xx status, never a stack trace."""
from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from lab.control import ControlError
from lab.supervisor import RunError


class ApiError(Exception):
    def __init__(self, status, error, detail=None):
        super().__init__(error)
        self.status, self.error, self.detail = status, error, detail


def error_response(status, error, detail=None):
    body = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return jsonify(body), status


def register(app):
    @app.errorhandler(ApiError)
    def api_error(exc):
        return error_response(exc.status, exc.error, exc.detail)

    @app.errorhandler(RunError)
    @app.errorhandler(ControlError)
    def engine_error(exc):
        return error_response(exc.status, str(exc), getattr(exc, "detail", None))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        messages = {
            404: f"not found: {request.method} {request.path}",
            405: f"method {request.method} is not allowed on {request.path}",
            413: f"request body too large (limit {app.config['MAX_CONTENT_LENGTH']} bytes)",
        }
        return error_response(exc.code, messages.get(exc.code, exc.description or exc.name))

    @app.errorhandler(Exception)
    def unexpected(exc):
        app.logger.exception("unexpected error")
        return error_response(500, "internal error", type(exc).__name__)
