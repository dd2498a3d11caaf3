"""Writing and reading the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select
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


def events_query(
    session: Session,
    actor: Actor,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    username: str | None = None,
    unit: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
):
    """A select of the audit events of the actor's subtree (admins), newest first, filtered; `unit` keeps the events
    of a unit's subtree. Events of no unit (the organisation's) are seen by admins of every unit only."""
    from fundsvc.auth.service import require_role
    from fundsvc.units.models import Unit
    from fundsvc.units.service import visible_unit

    require_role(actor)
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    scope = visible_unit(session, actor, unit).path if unit else actor.unit_path
    if scope is not None:
        query = query.where(AuditEvent.unit_id.in_(select(Unit.id).where(Unit.path.startswith(scope))))
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if username:
        query = query.where(AuditEvent.username == username)
    since = _vietnam_midnight(date_from) if date_from else None
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    until = _vietnam_midnight(date_to + timedelta(days=1)) if date_to and date_to < date.max else None
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return query


def events_of(session: Session, records: Iterable[tuple[str, Any]], *, limit: int = 200) -> list[AuditEvent]:
    """The audit events of the records named as (entity, id), newest first (at most ``limit``): their history, for a
    reader the caller has let see them."""
    ids_by_entity: dict[str, list[str]] = {}
    for entity, entity_id in records:
        ids_by_entity.setdefault(entity, []).append(str(entity_id))
    if not ids_by_entity:
        return []
    found = or_(
        *(and_(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids)) for entity, ids in ids_by_entity.items())
    )
    return list(session.scalars(select(AuditEvent).where(found).order_by(AuditEvent.id.desc()).limit(limit)))


def _vietnam_midnight(day: date) -> datetime | None:
    """The instant (UTC) a day begins in Vietnam: dates in filters are the reader's, events are stored in UTC.
    None for a day whose start is before the calendar's first instant in UTC (0001-01-01): nothing is older."""
    from fundsvc.documents.words import VN_TZ

    try:
        return datetime.combine(day, time.min, tzinfo=VN_TZ).astimezone(UTC)
    except OverflowError:
        return None


def entity_names(session: Session) -> list[str]:
    """Every kind of entity the trail holds events of, for a filter's choices."""
    return sorted(session.scalars(select(AuditEvent.entity).distinct()))


@dataclass(frozen=True)
class Change:
    """One field of an event, before and after (`changed` when they differ)."""

    field: str
    before: Any
    after: Any
    changed: bool


def readable_changes(before: Any, after: Any) -> list[Change]:
    """An event's before and after as one line per field (nested fields dotted: "identity.address"), in the
    after's order, then fields only the before had; fields that changed are marked."""
    old, new = _flat(before), _flat(after)
    fields = list(new) + [name for name in old if name not in new]
    missing = object()
    lines = []
    for name in fields:
        was, now = old.get(name, missing), new.get(name, missing)
        lines.append(Change(name, None if was is missing else was, None if now is missing else now, was != now))
    return lines


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flat(item, f"{prefix}{key}."))
        return flat
    if value is None and not prefix:
        return {}
    if not prefix:
        return {"": value}
    return {prefix[:-1]: value}
