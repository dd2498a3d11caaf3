"""Domain exceptions raised by services, and the one JSON error shape of CONTRACT.md."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, jsonify, request
from sqlalchemy.exc import DataError, DBAPIError
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


class Unavailable(DomainError):
    """The database is busy or unreachable for the moment: nothing was stored, the same request may be retried."""

    status = 503
    retry_after = 2  # seconds, sent as Retry-After


def database_busy() -> Unavailable:
    """The answer to a write that could not get its lock in time, or to a database unavailable for a moment."""
    return Unavailable("Cơ sở dữ liệu đang bận, xin thử lại sau giây lát (database busy, try again shortly)")


def error_payload(code: int, message: str | None = None, errors: dict | None = None) -> dict:
    """The contract's error body: code, status, message, errors."""
    status = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Error"
    return {"code": code, "status": status, "message": message or status, "errors": errors or {}}


def _string_keys(value):
    """JSON keys must be strings (webargs may name an unnamed multipart field None, which jsonify cannot sort)."""
    if isinstance(value, dict):
        return {("_unnamed" if key is None else str(key)): _string_keys(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_string_keys(item) for item in value]
    return value


def _json_error(code: int, message: str | None, errors: dict | None = None, headers=None):
    response = jsonify(error_payload(code, message, _string_keys(errors)))
    response.status_code = code
    if headers:
        response.headers.update(headers)
    return response


def _wants_html() -> bool:
    # The web UI (outside /api) gets HTML error pages; everything else gets the JSON shape.
    return not request.path.startswith("/api") and request.accept_mimetypes.accept_html


def _rollback() -> None:
    """Leave the session usable after a failed statement (PostgreSQL refuses anything else in that transaction)."""
    from fundsvc.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the answer must go out whatever state the connection is in
        pass


def register_errorhandlers(app: Flask) -> None:
    """Every 4xx/5xx leaves the app as the contract's JSON (or an HTML page for the web UI)."""

    @app.errorhandler(DomainError)
    def handle_domain(error: DomainError):
        if _wants_html():
            from fundsvc.web.errors import render_error_page

            return render_error_page(error.status, error.message)
        retry_after = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return _json_error(error.status, error.message, error.errors, headers)

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

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def handle_bad_value(error: Exception):
        # A value the database refuses (SQLite: an integer beyond 64 bits, OverflowError; PostgreSQL: a DBAPI
        # DataError, e.g. integer out of range or a NUL byte in text) can only come from input no schema
        # bounded: the input is wrong, not the server. Logged, so the missing bound gets added.
        _rollback()
        app.logger.warning("Unvalidated input reached the database: %s", error)
        message = "Giá trị không hợp lệ với cơ sở dữ liệu (value out of range or not storable)"
        if _wants_html():
            from fundsvc.web.errors import render_error_page

            return render_error_page(422, message)
        return _json_error(422, message)

    @app.errorhandler(DBAPIError)
    def handle_database(error: DBAPIError):
        from fundsvc.db import is_transient

        if not is_transient(error):
            return handle_unexpected(error)
        # Busy (SQLite's lock past its timeout), a deadlock or serialization failure, a lost connection: the
        # transaction was rolled back whole, so the client may simply try again.
        _rollback()
        app.logger.warning("Database unavailable for a moment: %s", error.orig)
        return handle_domain(database_busy())

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        _rollback()
        app.logger.exception("Unhandled error")
        return _json_error(500, "Lỗi máy chủ (internal server error)")
