"""Nominations: the all-or-nothing spreadsheet import, listing, editing, withdrawing, exporting."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, joinedload

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import write_transaction
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.students.models import FIELDS, Nomination, Student
from fundsvc.students.spreadsheet import COLUMNS_BY_KEY, CellError, parse_nominations, write_nominations_xlsx
from fundsvc.units.models import Unit
from fundsvc.units.service import district_of, visible_unit

COMMITTEE = ("committee",)
PERSONAL_FIELDS = ("birth_date", "household", "guardian", "disability", "orphan", "note")
_CHUNK = 900  # stays under SQLite's bound-parameter limit in IN (…) lists


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def identity_key(code: str | None, full_name: str, birth_date: date, school: str) -> str:
    """What identifies a pupil across years: the student code, else name + birth date + school."""
    if code:
        return f"code:{code.strip()}"
    return f"nbs:{_norm(full_name)}|{birth_date.isoformat()}|{_norm(school)}"


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False


# Text limits come from the columns themselves, so a 10,000-character name is a row error, not a database error.
_TEXT_LIMITS = {name: Nomination.__table__.c[name].type.length for name in FIELDS
                if getattr(Nomination.__table__.c[name].type, "length", None)}


def _too_long(rows: list[dict]) -> list[CellError]:
    # Fast path: the longest text of each limited column, measured at C speed; the cell-by-cell scan
    # below only runs when some column does overflow (or holds a non-text value).
    try:
        if all(max(map(len, filter(None, map(itemgetter(name), rows))), default=0) <= limit
               for name, limit in _TEXT_LIMITS.items()):
            return []
    except (KeyError, TypeError):
        pass
    errors = []
    for row in rows:
        for name, limit in _TEXT_LIMITS.items():
            value = row.get(name)
            if isinstance(value, str) and len(value) > limit:
                errors.append(CellError(row["row"], COLUMNS_BY_KEY[name].header,
                                        f"Dài quá {limit} ký tự (too long: at most {limit} characters)"))
    return errors


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def import_nominations(session: Session, actor: Actor, data: bytes, filename: str, academic_year: str,
                       *, dry_run: bool = False) -> ImportOutcome:
    """Import a schools' spreadsheet: every bad cell reported (422, nothing stored) or every row stored."""
    require_role(actor, *COMMITTEE)
    units = {u.code: u for u in session.scalars(select(Unit))}
    in_scope = {code for code, u in units.items() if actor.sees(u)}
    parsed = parse_nominations(data, filename, known_units=in_scope)
    errors = parsed.errors + _too_long(parsed.rows)
    if errors:
        rows = [{"row": e.row, "column": e.column, "message": e.message}
                for e in sorted(errors, key=lambda e: e.row)]
        raise Invalid(f"Tệp có {len({e.row for e in errors})} dòng lỗi, chưa lưu gì "
                      f"(file has errors; nothing was stored)", {"rows": rows, "warnings": parsed.warnings})
    if not parsed.rows:
        raise Invalid("Tệp không có dòng dữ liệu nào (no data rows)", {"file": ["no data rows"]})

    digest = hashlib.sha256(data).hexdigest()
    keys = [identity_key(r["student_code"], r["full_name"], r["birth_date"], r["school"]) for r in parsed.rows]
    outcome = ImportOutcome(warnings=list(parsed.warnings), dry_run=dry_run)
    with write_transaction(session):
        students: dict[str, int] = {}
        for chunk in _chunks(keys):
            students.update(session.execute(select(Student.identity_key, Student.id)
                                            .where(Student.identity_key.in_(chunk))).all())
        existing: dict[int, int] = {}
        for chunk in _chunks(list(students.values())):
            existing.update(session.execute(select(Nomination.student_id, Nomination.id).where(
                Nomination.student_id.in_(chunk), Nomination.academic_year == academic_year)).all())
        new_students = [(key, row) for key, row in zip(keys, parsed.rows, strict=True) if key not in students]
        to_update = [(existing[students[k]], r) for k, r in zip(keys, parsed.rows, strict=True)
                     if k in students and students[k] in existing]
        outcome.updated = len(to_update)
        outcome.created = len(parsed.rows) - outcome.updated
        if dry_run:
            session.rollback()
            return outcome
        if new_students:
            # Core inserts of the tables (one executemany each), not the ORM's per-row bulk machinery.
            session.execute(insert(Student.__table__), [
                {"identity_key": key, "student_code": r["student_code"], "full_name": r["full_name"],
                 "birth_date": r["birth_date"], "school": r["school"]} for key, r in new_students])
            for chunk in _chunks([key for key, _ in new_students]):
                students.update(session.execute(select(Student.identity_key, Student.id)
                                                .where(Student.identity_key.in_(chunk))).all())
        source = {"source_file": filename[:255], "source_sha256": digest}
        # New nominations are inserted in file row order, so their ids ascend with the rows.
        new_rows = [
            {**{f: r[f] for f in FIELDS}, **source, "source_row": r["row"], "student_id": students[key],
             "academic_year": academic_year, "unit_id": units[r["unit"]].id, "status": "active"}
            for key, r in zip(keys, parsed.rows, strict=True) if students[key] not in existing
        ]
        if new_rows:
            session.execute(insert(Nomination.__table__), new_rows)
        if to_update:
            session.execute(update(Nomination), [
                {**{f: r[f] for f in FIELDS}, **source, "source_row": r["row"], "id": nomination_id,
                 "unit_id": units[r["unit"]].id, "status": "active"} for nomination_id, r in to_update])
        record(session, actor, "nominations.import", "import", digest[:16], None,
               {"file": filename, "sha256": digest, "academic_year": academic_year, "created": outcome.created,
                "updated": outcome.updated, "updated_ids": [i for i, _ in to_update][:1000]}, actor.unit_id)
    return outcome


def nominations_query(session: Session, actor: Actor, *, academic_year=None, unit=None, school=None, status=None):
    """A select of nominations inside the actor's scope, in id order."""
    query = (select(Nomination).join(Unit, Unit.id == Nomination.unit_id)
             .options(joinedload(Nomination.unit)).order_by(Nomination.id))
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    if unit:
        query = query.where(Unit.path.startswith(visible_unit(session, actor, unit).path))
    if academic_year:
        query = query.where(Nomination.academic_year == academic_year)
    if school:
        query = query.where(Nomination.school == school)
    if status:
        query = query.where(Nomination.status == status)
    return query


def get_nomination(session: Session, actor: Actor, nomination_id: int) -> Nomination:
    """A nomination of the actor's scope, else 404."""
    nomination = session.scalar(select(Nomination).where(Nomination.id == nomination_id)
                                .options(joinedload(Nomination.unit)))
    if nomination is None or not actor.sees(nomination.unit):
        raise NotFound(f"Không có hồ sơ đề cử {nomination_id} (unknown nomination)")
    return nomination


def snapshot(nomination: Nomination) -> dict:
    """The audited state of a nomination."""
    return {**{f: getattr(nomination, f) for f in FIELDS}, "unit": nomination.unit.code, "status": nomination.status}


def update_nomination(session: Session, actor: Actor, nomination_id: int, changes: dict) -> Nomination:
    """Correct a nomination's fields (audited)."""
    require_role(actor, *COMMITTEE)
    with write_transaction(session):
        nomination = get_nomination(session, actor, nomination_id)
        if nomination.status == "withdrawn":
            raise Conflict("Hồ sơ đã rút, không sửa được (nomination withdrawn)")
        before = snapshot(nomination)
        if "unit" in changes:
            nomination.unit = visible_unit(session, actor, changes.pop("unit"))
        if "ethnicity" in changes and "ethnic_minority" not in changes:
            ethnicity = (changes["ethnicity"] or "").strip()
            changes["ethnic_minority"] = bool(ethnicity) and _norm(ethnicity) != "kinh"
        for name, value in changes.items():
            setattr(nomination, name, value)
        session.flush()
        record(session, actor, "nomination.update", "nomination", nomination.id, before, snapshot(nomination),
               nomination.unit_id)
    return nomination


def withdraw_nomination(session: Session, actor: Actor, nomination_id: int, reason: str | None = None) -> Nomination:
    """Withdraw a nomination: it stays on file but no round will consider it (409 if already withdrawn)."""
    require_role(actor, *COMMITTEE)
    with write_transaction(session):
        nomination = get_nomination(session, actor, nomination_id)
        if nomination.status == "withdrawn":
            raise Conflict("Hồ sơ đã rút trước đó (already withdrawn)")
        before = snapshot(nomination)
        nomination.status = "withdrawn"
        nomination.note = nomination.note if not reason else f"{nomination.note or ''} [Rút: {reason}]".strip()[:1000]
        record(session, actor, "nomination.withdraw", "nomination", nomination.id, before, snapshot(nomination),
               nomination.unit_id)
    return nomination


def export_xlsx(session: Session, actor: Actor, **filters) -> bytes:
    """The nominations in the import format (re-importable)."""
    require_role(actor, *COMMITTEE)
    rows = ({**{f: getattr(n, f) for f in FIELDS}, "unit": n.unit.code}
            for n in session.scalars(nominations_query(session, actor, **filters)))
    return write_nominations_xlsx(rows)


def engine_facts(session: Session, nominations: list[Nomination], round_unit: Unit) -> list[dict]:
    """Plain dicts for the allocation engine: every field, the unit and district codes, scope flag."""
    units_by_id = {u.id: u for u in session.scalars(select(Unit))}
    district_cache: dict[int, str | None] = {}
    facts = []
    for n in nominations:
        unit = units_by_id[n.unit_id]
        if unit.id not in district_cache:
            district_cache[unit.id] = district_of(unit.path, units_by_id)
        facts.append({
            "id": n.id, **{f: getattr(n, f) for f in FIELDS}, "unit": unit.code,
            "district": district_cache[unit.id], "status": n.status,
            "in_round_unit": unit.path.startswith(round_unit.path),
        })
    return facts


