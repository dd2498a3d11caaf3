"""Throttling of failed logins and failed tokens, per account and per address, shared across gunicorn workers.

The counting is the `limits` library's fixed-window rate limiter. Its counters live in Redis when
`FUNDSVC_RATELIMIT_STORAGE_URI` names one, else in the service's own database (DatabaseStorage below), so every
worker process sees the same counts without another server to run.
"""

from __future__ import annotations

import time
from typing import ClassVar

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from fundsvc.auth.models import ThrottleCounter
from fundsvc.db import write_transaction
from fundsvc.errors import DomainError

# Generous for a person who mistypes, far too few for guessing.
LOGIN_PER_ACCOUNT = "10/5 minutes"
FAILURES_PER_ADDRESS = "50/5 minutes"

_COUNTERS = ThrottleCounter.__table__


class TooManyRequests(DomainError):
    status = 429

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        self.minutes = max(1, (retry_after + 59) // 60)
        super().__init__(
            f"Quá nhiều lần thử sai. Vui lòng thử lại sau khoảng {self.minutes} phút "
            f"(too many failed attempts; retry after {retry_after} s)"
        )


class DatabaseStorage(Storage):
    """A `limits` storage on the service's database: one row per key, incremented by one upsert statement."""

    STORAGE_SCHEME: ClassVar[list[str]] = ["fundsvc+db"]

    def __init__(self, uri: str | None = None, **options):
        super().__init__(uri, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    @staticmethod
    def _session():
        from fundsvc.extensions import db

        return db.session

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        session = self._session()
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = insert(_COUNTERS).values(key=key, count=amount, expires_at=now + expiry)
        expired = _COUNTERS.c.expires_at <= now
        statement = statement.on_conflict_do_update(
            index_elements=[_COUNTERS.c.key],
            set_={
                "count": case((expired, amount), else_=_COUNTERS.c.count + amount),
                "expires_at": case((expired, now + expiry), else_=_COUNTERS.c.expires_at),
            },
        ).returning(_COUNTERS.c.count)
        with write_transaction(session):
            return int(session.execute(statement).scalar_one())

    def _row(self, key: str):
        return self._session().execute(select(_COUNTERS).where(_COUNTERS.c.key == key)).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row.count) if row is not None and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row.expires_at) if row is not None and row.expires_at > time.time() else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        session = self._session()
        with write_transaction(session):
            return session.execute(delete(_COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        session = self._session()
        with write_transaction(session):
            session.execute(delete(_COUNTERS).where(_COUNTERS.c.key == key))


class Throttle:
    """The limits of failed attempts; `blocked` before trying, `failed` after a failure, `succeeded` after a login."""

    def __init__(self, storage_uri: str | None = None):
        storage = storage_from_string(storage_uri) if storage_uri else DatabaseStorage()
        self.limiter = FixedWindowRateLimiter(storage)
        self.per_account: RateLimitItem = parse(LOGIN_PER_ACCOUNT)
        self.per_address: RateLimitItem = parse(FAILURES_PER_ADDRESS)

    def _checks(self, kind: str, address: str | None, account: str | None) -> list[tuple[RateLimitItem, tuple]]:
        checks = [(self.per_address, (kind, "address", address or "?"))]
        if account:
            checks.append((self.per_account, (kind, "account", account.lower())))
        return checks

    def refuse_if_blocked(self, kind: str, address: str | None, account: str | None = None) -> None:
        """429 when the address or the account has used up its failed attempts in the current window."""
        for item, keys in self._checks(kind, address, account):
            if not self.limiter.test(item, *keys):
                reset_at = self.limiter.get_window_stats(item, *keys).reset_time
                raise TooManyRequests(max(1, int(reset_at - time.time()) + 1))

    def count_request(self, kind: str, address: str | None, limit: str) -> None:
        """A public page's every request counts (not only failures): 429 once the address has made `limit`
        requests ("30/minute") in the current window."""
        item, keys = parse(limit), (kind, "address", address or "?")
        if not self.limiter.hit(item, *keys):
            reset_at = self.limiter.get_window_stats(item, *keys).reset_time
            raise TooManyRequests(max(1, int(reset_at - time.time()) + 1))

    def failed(self, kind: str, address: str | None, account: str | None = None) -> None:
        for item, keys in self._checks(kind, address, account):
            self.limiter.hit(item, *keys)

    def succeeded(self, kind: str, account: str) -> None:
        """A correct password ends the account's count (the address's stays: it may be guessing other accounts)."""
        self.limiter.clear(self.per_account, kind, "account", account.lower())
