"""Domain exceptions raised by services, and the one JSON error shape of CONTRACT.md."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A business rule said no. Services raise these; the web layer maps them to HTTP."""

    status = 400

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422


class Unauthorized(DomainError):
    status = 401


def error_payload(code: int, message: str | None = None, errors: dict | None = None) -> dict:
    """The contract's error body: code, status, message, errors."""
    status = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Error"
    return {"code": code, "status": status, "message": message or status, "errors": errors or {}}


def _json_error(code: int, message: str | None, errors: dict | None = None, headers=None):
    response = jsonify(error_payload(code, message, errors))
    response.status_code = code
    if headers:
        response.headers.update(headers)
    return response


def _wants_html() -> bool:
    # The web UI (outside /api) gets HTML error pages; everything else gets the JSON shape.
    return not request.path.startswith("/api") and request.accept_mimetypes.accept_html


def register_errorhandlers(app: Flask) -> None:
    """Every 4xx/5xx leaves the app as the contract's JSON (or an HTML page for the web UI)."""

    @app.errorhandler(DomainError)
    def handle_domain(error: DomainError):
        if _wants_html():
            from fundsvc.web.errors import render_error_page

            return render_error_page(error.status, error.message)
        return _json_error(error.status, error.message, error.errors)

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages") or {}
        # webargs nests errors by location ("json", "query", "files"); flatten one level for readers.
        if set(errors) <= {"json", "query", "form", "files", "headers", "view_args"} and errors:
            flat: dict = {}
            for value in errors.values():
                flat.update(value if isinstance(value, dict) else {"_schema": value})
            errors = flat
        message = data.get("message") or error.description
        if error.code == 422 and not data.get("message"):
            message = "Dữ liệu không hợp lệ (validation failed)"
        if _wants_html() and error.code != 422:
            from fundsvc.web.errors import render_error_page

            return render_error_page(error.code or 500, message)
        return _json_error(error.code or 500, message, errors, getattr(error, "headers", None) and None)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        app.logger.exception("Unhandled error")
        return _json_error(500, "Lỗi máy chủ (internal server error)")
