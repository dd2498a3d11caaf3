"""Idempotency-Key: the same request sent again under the same key answers the first result and creates nothing.

Keys are the user's own; one table remembers each key's request fingerprint and what it created (a gift or a
movement), so a key used for one request cannot be used for another (422).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fundsvc.auth.service import Actor
from fundsvc.donations.models import IdempotencyRecord
from fundsvc.errors import Invalid

T = TypeVar("T")

MAX_KEY_LENGTH = 200
# The header as the OpenAPI document describes it.
IDEMPOTENCY_HEADER_DOC = {
    "in": "header",
    "name": "Idempotency-Key",
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
}


def request_fingerprint(body: object) -> str:
    """A stable hash of a request body, to tell a replay from a different request under the same key."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def check_key(key: str | None) -> str | None:
    """The header's key, or None without one; 422 when it is empty or too long."""
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
        raise Invalid(
            f"Idempotency-Key phải dài 1–{MAX_KEY_LENGTH} ký tự",
            {"Idempotency-Key": [f"1 to {MAX_KEY_LENGTH} characters"]},
        )
    return key


def earlier_request(session: Session, actor: Actor, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """What an earlier request under `key` recorded, or None when the key is unused; 422 when that request was
    another one."""
    earlier = session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == actor.user_id, IdempotencyRecord.key == key)
    )
    if earlier is None:
        return None
    if earlier.request_hash != fingerprint:
        raise Invalid(
            "Idempotency-Key đã dùng cho một yêu cầu khác (key reused with a different body)",
            {"Idempotency-Key": ["already used with a different request body"]},
        )
    return earlier


def once_per_key(
    session: Session,
    actor: Actor,
    key: str | None,
    fingerprint: str,
    *,
    made: str,
    load: Callable[[int], T],
    create: Callable[[], T],
) -> tuple[T, bool]:
    """`create()` once per key; returns (the result, replayed).

    Under a key already used for the same request, the first result again: `load(id)` of what it made, the
    IdempotencyRecord's column `made` (donation_id, movement_id). Without a key, just `create()`.
    """

    def replay() -> T | None:
        earlier = earlier_request(session, actor, key, fingerprint)
        if earlier is None:
            return None
        made_id = getattr(earlier, made)
        if made_id is None:
            raise Invalid(
                "Idempotency-Key đã dùng cho một yêu cầu khác (key reused with a different body)",
                {"Idempotency-Key": ["already used for another kind of request"]},
            )
        return load(made_id)

    if key:
        earlier = replay()
        if earlier is not None:
            return earlier, True
    try:
        return create(), False
    except IntegrityError:
        if not key:
            raise
        # A concurrent request under the same key committed first: its record refused ours, and our
        # transaction, document number included, was rolled back whole. Answer as its replay.
        earlier = replay()
        if earlier is None:
            raise
        return earlier, True
