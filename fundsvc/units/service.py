"""The unit tree: creating units and resolving codes within an actor's scope."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role, require_unit
from fundsvc.db import DriverStatement, write_transaction
from fundsvc.documents.words import today_in_vietnam
from fundsvc.errors import Invalid
from fundsvc.ledger.models import MoneyAccount
from fundsvc.units.identity import apply_identity, effective_identity, identity_chain, stored_identity
from fundsvc.units.models import LEVELS, Unit, UnitRef

_UNIT_BY_CODE = select(Unit).where(Unit.code == bindparam("code"))


_UNITS = Unit.__table__
# Built once: recording a gift resolves its unit on every request.
_UNIT_REF = select(
    _UNITS.c.id,
    _UNITS.c.code,
    _UNITS.c.path,
    _UNITS.c.books_opened_on,
    func.coalesce(_UNITS.c.merged_on, _UNITS.c.retired_on),
)
_UNIT_REF_BY_CODE = DriverStatement(_UNIT_REF.where(_UNITS.c.code == bindparam("code")))
_UNIT_REF_BY_ID = DriverStatement(_UNIT_REF.where(_UNITS.c.id == bindparam("id")))


def _unknown_unit(code: str, field: str) -> Invalid:
    return Invalid(f"Không có đơn vị mã {code!r} (unknown unit)", {field: [f"unknown unit {code!r}"]})


def get_unit(session: Session, code: str, *, field: str = "unit") -> Unit:
    """The unit with `code`, or a 422 naming the field that referred to it."""
    unit = session.scalar(_UNIT_BY_CODE, {"code": code})
    if unit is None:
        raise _unknown_unit(code, field)
    return unit


def visible_unit(session: Session, actor: Actor, code: str, *, field: str = "unit") -> Unit:
    """A unit the actor may act on (403 when it lies outside the actor's subtree)."""
    unit = get_unit(session, code, field=field)
    require_unit(actor, unit)
    return unit


def visible_unit_ref(session: Session, actor: Actor, code: str, *, field: str = "unit") -> UnitRef:
    """visible_unit, as a UnitRef: the same answers and errors, at a fraction of the cost."""
    row = _UNIT_REF_BY_CODE.first(session.connection(), {"code": code})
    if row is None:
        raise _unknown_unit(code, field)
    unit = UnitRef(*row)
    require_unit(actor, unit)
    return unit


def unit_ref(session: Session, unit_id: int) -> UnitRef:
    """The UnitRef of an existing unit."""
    row = _UNIT_REF_BY_ID.first(session.connection(), {"id": unit_id})
    if row is None:
        raise NoResultFound(f"no unit with id {unit_id}")
    return UnitRef(*row)


def ancestors(session: Session, unit: Unit) -> list[Unit]:
    """The unit and every unit above it, nearest first."""
    ids = [int(part) for part in unit.path.strip("/").split("/")]
    by_id = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [by_id[i] for i in reversed(ids)]


def list_units(session: Session, actor: Actor) -> list[Unit]:
    """The units of the actor's subtree, in tree order."""
    query = select(Unit).order_by(Unit.path)
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    return list(session.scalars(query))


def create_unit(session: Session, actor: Actor, data: dict) -> Unit:
    """Create a unit under its parent; the level must sit below the parent's."""
    require_role(actor, "admin")
    with write_transaction(session):
        if session.scalar(select(Unit.id).where(Unit.code == data["code"])) is not None:
            raise Invalid(f"Mã đơn vị {data['code']!r} đã tồn tại (code already used)", {"code": ["already exists"]})
        parent = None
        if data.get("parent"):
            parent = visible_unit(session, actor, data["parent"], field="parent")
            if LEVELS.index(data["level"]) <= LEVELS.index(parent.level):
                raise Invalid(
                    f"Cấp '{data['level']}' không thể nằm dưới cấp '{parent.level}' (level must be below parent's)",
                    {"level": [f"must be below {parent.level}"]},
                )
        elif actor.unit_path is not None:
            raise Invalid("Cần đơn vị cấp trên (parent required)", {"parent": ["required"]})
        unit = Unit(
            code=data["code"],
            name=data["name"],
            level=data["level"],
            parent=parent,
            address=data.get("address"),
            books_opened_on=data.get("books_opened_on") or date(today_in_vietnam().year, 1, 1),
            path="",
        )
        session.add(unit)
        session.flush()
        # Every unit holds its cash from its creation.
        session.add(MoneyAccount.cash_of(unit))
        unit.path = f"{parent.path if parent else '/'}{unit.id}/"
        record(
            session,
            actor,
            "unit.create",
            "unit",
            unit.id,
            None,
            {"code": unit.code, "name": unit.name, "level": unit.level, "parent": parent.code if parent else None},
            unit.id,
        )
    return unit


def unit_detail(session: Session, actor: Actor, code: str, defaults: dict) -> Unit:
    """A unit of the actor's scope with `effective_identity` set: the identity it prints today."""
    unit = visible_unit(session, actor, code)
    unit.effective_identity = effective_identity(identity_chain(session, unit), defaults)
    return unit


def update_unit(session: Session, actor: Actor, code: str, data: dict, defaults: dict) -> Unit:
    """Rename a unit, change its identity or move its books' opening date earlier (admin of the unit or above).

    Documents already issued keep the identity they were issued under (they store it).
    """
    require_role(actor, "admin")
    with write_transaction(session):
        unit = visible_unit(session, actor, code)
        before = _unit_state(unit)
        if data.get("name"):
            unit.name = data["name"]
        if "identity" in data:
            apply_identity(unit, data["identity"])
        if data.get("books_opened_on"):
            _move_books_opening(session, unit, data["books_opened_on"])
        session.flush()
        record(session, actor, "unit.update", "unit", unit.id, before, _unit_state(unit), unit.id)
    unit.effective_identity = effective_identity(identity_chain(session, unit), defaults)
    return unit


def _move_books_opening(session: Session, unit: Unit, opened: date) -> None:
    """Ngày mở sổ may move earlier (to enter past years), never after the unit's first document."""
    from fundsvc.allocation.models import Award, Round
    from fundsvc.donations.models import Donation

    first_gift = session.scalar(select(func.min(Donation.received_on)).where(Donation.unit_id == unit.id))
    first_payment = session.scalar(
        select(func.min(Award.paid_on)).join(Round, Round.id == Award.round_id).where(Round.unit_id == unit.id)
    )
    first = min((d for d in (first_gift, first_payment) if d is not None), default=None)
    if first is not None and opened > first:
        raise Invalid(
            f"Ngày mở sổ không thể sau chứng từ đầu tiên của đơn vị ({first:%d/%m/%Y}) "
            f"(books cannot open after the first document; latest allowed {first.isoformat()})",
            {"books_opened_on": [f"must be on or before {first.isoformat()}"]},
        )
    unit.books_opened_on = opened


def _unit_state(unit: Unit) -> dict:
    return {"name": unit.name, "books_opened_on": unit.books_opened_on, **stored_identity(unit)}


def paths_before(paths: dict[int, str], moves: list[tuple[str, str]]) -> dict[int, str]:
    """The tree's paths (unit id → path) with `moves` (old path, new path) undone, the last one first: pure."""
    paths = dict(paths)
    for old, new in reversed(moves):
        for unit_id, path in paths.items():
            if path.startswith(new):
                paths[unit_id] = old + path[len(new) :]
    return paths


def tree_paths_on(session: Session, day: date | None) -> dict[int, str] | None:
    """Every unit's path as the tree stood at the end of `day`: None when no unit has moved since (the tree as it is
    now), else the current paths with the later moves undone."""
    from fundsvc.units.models import UnitMove

    if day is None:
        return None
    moves = session.execute(
        select(UnitMove.old_path, UnitMove.new_path).where(UnitMove.moved_on > day).order_by(UnitMove.id)
    ).all()
    if not moves:
        return None
    paths = dict(session.execute(select(Unit.id, Unit.path)).all())
    return paths_before(paths, [tuple(move) for move in moves])


def district_of(unit_path: str, units_by_id: dict[int, Unit]) -> str | None:
    """The code of the district unit on a path, if any (docs/rules.md field `district`)."""
    for part in unit_path.strip("/").split("/"):
        unit = units_by_id.get(int(part))
        if unit is not None and unit.level == "district":
            return unit.code
    return None
