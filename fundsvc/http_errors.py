"""Domain errors and every other failure as HTTP answers: the API's one JSON error shape, or the web UI's page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy.exc import DataError, DBAPIError
from werkzeug.exceptions import HTTPException

from fundsvc.errors import DomainError, database_busy, error_payload
from fundsvc.messages import said, say


def _string_keys(value):
    """JSON keys must be strings (webargs may name an unnamed multipart field None, which jsonify cannot sort)."""
    if isinstance(value, dict):
        return {("_unnamed" if key is None else str(key)): _string_keys(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_string_keys(item) for item in value]
    return value


def _json_error(code: int, message: str | None, errors: dict | None = None, headers=None):
    if code >= 500:
        # What an administrator looks the failure up by in the log (fundsvc.observability.requests); in the
        # message, as the contract's error shape has no other place for it.
        from fundsvc.observability.requests import request_id

        message = f"{message or error_payload(code)['message']} (mã yêu cầu / request id: {request_id()})"
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


def register_errorhandlers(app: Flask, html_page: Callable[[int, str], Any] | None = None) -> None:  # noqa: C901 — one short handler per kind of failure, closures over the app
    """Every 4xx/5xx leaves the app as the API's JSON error shape, or, for a browser outside /api, as the page
    `html_page(code, message)` renders (the web UI gives its own)."""

    def wants_page() -> bool:
        return html_page is not None and _wants_html()

    @app.errorhandler(DomainError)
    def handle_domain(error: DomainError):
        message = say(error.message)  # in the reader's language when the service wrote a Message (fundsvc.messages)
        if wants_page():
            return html_page(error.status, message)
        retry_after = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return _json_error(error.status, message, said(error.errors), headers)

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
        if wants_page() and error.code != 422:
            return html_page(error.code or 500, message)
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
        if wants_page():
            return html_page(422, message)
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
        if wants_page():
            try:
                return html_page(500, "")
            except Exception:  # the page itself failed to render: the JSON answer still goes out
                app.logger.exception("The error page failed")
        return _json_error(500, "Lỗi máy chủ (internal server error)")
