"""Domain exceptions raised by services, and the one JSON error shape of the API (docs/api.md).

No Flask here: services raise these; fundsvc.http_errors turns them into answers."""

from __future__ import annotations

from http import HTTPStatus


class DomainError(Exception):
    """A business rule said no; `status` is the HTTP status the API answers it with."""

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


class TimedOut(DomainError):
    """The request ran past its limit (FUNDSVC_REQUEST_TIMEOUT) and was stopped: its transaction rolled back."""

    status = 504


def database_busy() -> Unavailable:
    """The answer to a write that could not get its lock in time, or to a database unavailable for a moment."""
    return Unavailable("Cơ sở dữ liệu đang bận, xin thử lại sau giây lát (database busy, try again shortly)")


def error_payload(code: int, message: str | None = None, errors: dict | None = None) -> dict:
    """The contract's error body: code, status, message, errors."""
    status = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Error"
    return {"code": code, "status": status, "message": message or status, "errors": errors or {}}
