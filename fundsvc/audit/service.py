"""Writing and reading the audit trail."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from fundsvc.audit.models import AuditEvent
from fundsvc.auth.service import Actor
from fundsvc.db import DriverStatement, connection_of, utcnow


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _event_values(
    actor: Actor, action: str, entity: str, entity_id: Any, before: dict | None, after: dict | None, unit_id: int | None
) -> dict:
    return {
        "user_id": actor.user_id,
        "username": actor.username,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "unit_id": unit_id,
        "before": _jsonable(before),
        "after": _jsonable(after),
    }


_INSERT_EVENT = DriverStatement(AuditEvent.__table__.insert())  # inside every gift's write lock: see DriverStatement


def record(
    target: Session | Connection,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: Any,
    before: dict | None,
    after: dict | None,
    unit_id: int | None = None,
) -> None:
    """Write an audit event in the caller's transaction (`target`: its session or its connection), at once, by one
    INSERT: no unit-of-work flush, so a gift's write lock is held as briefly as possible."""
    connection = connection_of(target)
    values = _event_values(actor, action, entity, entity_id, before, after, unit_id)
    _INSERT_EVENT.execute(connection, {**values, "at": utcnow()})


def list_events(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    username: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
):
    """A select of audit events, newest first, filtered."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if username:
        query = query.where(AuditEvent.username == username)
    if date_from:
        query = query.where(AuditEvent.at >= datetime.combine(date_from, time.min))
    if date_to:
        query = query.where(AuditEvent.at <= datetime.combine(date_to, time.max))  # (to=9999-12-31 has no next day)
    return query
