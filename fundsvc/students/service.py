"""Nominations: the all-or-nothing spreadsheet import, listing, correcting, exporting (withdrawing: withdrawal.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, Table, and_, false, or_, select
from sqlalchemy.orm import Session, joinedload

from fundsvc.allocation.models import HELD, Award, Round
from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import write_transaction
from fundsvc.donations.identity import search_words
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.memory import PerValue, gc_paused
from fundsvc.messages import Message
from fundsvc.students.models import FIELDS, Nomination, Student
from fundsvc.students.normalize import fold
from fundsvc.students.rules import derive_grade, grade_accepted, identity_keys, is_ethnic_minority
from fundsvc.students.spreadsheet import CellError, grade_error, parse_nominations, write_nominations_xlsx
from fundsvc.students.vocabulary import COLUMNS_BY_KEY
from fundsvc.units.models import Unit
from fundsvc.units.service import district_of, visible_unit

COMMITTEE = ("committee",)
PERSONAL_FIELDS = ("birth_date", "household", "guardian", "disability", "orphan", "note")
STUDENT_FIELDS = ("student_code", "full_name", "birth_date", "school")  # what a new pupil's row stores
_CHUNK = 900  # stays under SQLite's bound-parameter limit in IN (…) lists
MAX_WARNINGS = 20  # shown of an import's warnings; the rest are counted (a hostile file cannot inflate the answer)
MAX_ERROR_ROWS = 1000  # likewise for the rows of a refused file


def capped(messages: list[str]) -> list[str]:
    """The first MAX_WARNINGS messages and, when there were more, one line saying how many more."""
    if len(messages) <= MAX_WARNINGS:
        return list(messages)
    more = len(messages) - MAX_WARNINGS
    return [*messages[:MAX_WARNINGS], Message("… và %(n)s cảnh báo khác", n=more)]


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False


# Text limits come from the columns themselves, so a 10,000-character name is a row error, not a database error.
# Only the columns that store the file's own text are measured: a coded column stores one of the parser's words.
_TEXT_LIMITS = {
    name: Nomination.__table__.c[name].type.length
    for name in FIELDS
    if getattr(Nomination.__table__.c[name].type, "length", None) and COLUMNS_BY_KEY[name].kind != "coded"
}


def _too_long(columns: dict[str, list]) -> list[CellError]:
    errors = []
    for name, limit in _TEXT_LIMITS.items():
        values = columns.get(name)
        if not values:
            continue
        try:  # the longest text of the column, measured at C speed; a cell-by-cell scan only when it overflows
            if max(map(len, filter(None, values)), default=0) <= limit:
                continue
        except TypeError:  # a non-text value: scanned below
            pass
        header, rownums = COLUMNS_BY_KEY[name].header, columns["row"]
        errors.extend(
            CellError(rownums[i], header, Message("Dài quá %(n)s ký tự", n=limit))
            for i, value in enumerate(values)
            if isinstance(value, str) and len(value) > limit
        )
    return errors


# ----------------------------------------------------------------------------- bulk statements
# The import reads and writes up to hundreds of thousands of rows. SQLAlchemy's per-row parameter handling
# (construct_params, bind processors, expanding IN) cost several times the database's own work, so these
# helpers hand plain tuples to the DBAPI's executemany through Connection.exec_driver_sql, having converted
# each column once with the same bind processors SQLAlchemy would use: what is stored is unchanged.


def _mark(conn: Connection) -> str:
    """The DBAPI's positional parameter marker (sqlite3: qmark; psycopg: %s with a tuple)."""
    return {"qmark": "?", "format": "%s", "pyformat": "%s"}[conn.dialect.paramstyle]


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _select_in(conn: Connection, sql: str, values: list, *before) -> list[tuple]:
    """Rows of ``sql`` + `` IN (…)`` over ``values``, a chunk per statement; ``before`` are the earlier parameters."""
    mark, rows = _mark(conn), []
    for chunk in _chunks(values):
        rows += conn.exec_driver_sql(f"{sql} IN ({', '.join([mark] * len(chunk))})", (*before, *chunk)).all()
    return rows


def _bound_columns(
    conn: Connection, table: Table, values: dict[str, Any], n: int, defaults: str
) -> dict[str, Iterable]:
    """Every column given (a list of n values, or one value for every row) plus the columns with a Python-side
    ``defaults`` ("default" or "onupdate") not given, each as n DBAPI values (a scalar default or callable is
    evaluated once for the statement)."""
    values = dict(values)
    for column in table.c:
        default = getattr(column, defaults)
        if column.name not in values and default is not None and not column.primary_key:
            if not (default.is_scalar or default.is_callable):
                raise NotImplementedError(f"{table.name}.{column.name}: a SQL default is not evaluated here")
            values[column.name] = default.arg(None) if default.is_callable else default.arg
    out = {}
    for name, given in values.items():
        process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if isinstance(given, list):
            out[name] = given if process is None else list(map(PerValue(process).__getitem__, given))
        else:
            out[name] = repeat(given if process is None else process(given), n)
    return out


def _insert_many(conn: Connection, table: Table, values: dict[str, Any], n: int) -> None:
    """INSERT n rows: one executemany of plain tuples (see ``_bound_columns`` for ``values``)."""
    columns = _bound_columns(conn, table, values, n, "default")
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(
        f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) "
        f"VALUES ({', '.join([_mark(conn)] * len(columns))})",
        list(zip(*columns.values(), strict=True)),
    )


def _update_many(conn: Connection, table: Table, ids: list[int], values: dict[str, Any]) -> None:
    """UPDATE the rows of ``ids`` by primary key: one executemany of plain tuples."""
    columns = _bound_columns(conn, table, values, len(ids), "onupdate")
    quote, mark = conn.dialect.identifier_preparer.quote, _mark(conn)
    conn.exec_driver_sql(
        f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(c)} = {mark}' for c in columns)} WHERE id = {mark}",
        list(zip(*columns.values(), ids, strict=True)),
    )


def _allocate_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """n ascending primary keys for rows about to be inserted with explicit ids (so no RETURNING or re-select)."""
    if conn.dialect.name == "postgresql":
        return sorted(
            conn.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table.name, n)
            ).scalars()
        )
    if conn.dialect.name == "sqlite":
        # write_transaction began with BEGIN IMMEDIATE: no other writer can take these ids before we commit.
        top = conn.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar() or 0
        return list(range(top + 1, top + 1 + n))
    raise NotImplementedError(conn.dialect.name)


# The page cache an import may use on SQLite (KiB, as PRAGMA cache_size takes a negative number): see _page_cache.
_IMPORT_PAGE_CACHE_KIB = 256 * 1024


@contextmanager
def _page_cache(conn: Connection):
    """SQLite: a page cache large enough for the pages the import writes, while it writes them.

    With the default 2 MB cache, the index pages that 100,000 rows enter in random order (school, unit) are
    evicted and spilled to the WAL in the middle of the transaction, then read back (measured: 174 MB read and
    174 MB written through system calls instead of 54 and 109, about 15 % more CPU in the inserts).
    cache_size is the connection's own setting (no data, no durability involved); it only allocates the pages
    actually used, and is put back before the connection goes back to the pool.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{_IMPORT_PAGE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def _pick(values: list, positions: list[int] | None) -> list:
    return values if positions is None else [values[i] for i in positions]


def import_nominations(
    session: Session, actor: Actor, data: bytes, filename: str, academic_year: str, *, dry_run: bool = False
) -> ImportOutcome:
    """Import a schools' spreadsheet: every bad cell reported (422, nothing stored) or every row stored."""
    require_role(actor, *COMMITTEE)
    units = {u.code: u for u in session.scalars(select(Unit))}
    in_scope = {code for code, u in units.items() if actor.sees(u)}
    parsed = parse_nominations(data, filename, known_units=in_scope)
    _refuse_errors(parsed)
    columns, n = parsed.columns, parsed.count
    digest = hashlib.sha256(data).hexdigest()
    outcome = ImportOutcome(warnings=capped(parsed.warnings), dry_run=dry_run)
    with gc_paused():
        keys = identity_keys(columns["student_code"], columns["full_name"], columns["birth_date"], columns["school"])
        unit_ids = list(map({code: u.id for code, u in units.items()}.__getitem__, columns["unit"]))
        with write_transaction(session):
            conn = session.connection()
            plan = _plan(conn, keys, academic_year)
            outcome.updated = len(plan.to_update)
            outcome.created = n - outcome.updated
            if dry_run:
                session.rollback()
                return outcome
            with _page_cache(conn):
                _store_students(conn, columns, keys, plan)
                source = {
                    "source_file": filename[:255],
                    "source_sha256": digest,
                    "source_row": columns["row"],
                    "unit_id": unit_ids,
                    "name_folded": list(map(fold, columns["full_name"])),
                }
                updated_ids = _store_nominations(conn, columns, source, plan, academic_year)
                audited = {"file": filename, "sha256": digest, "academic_year": academic_year}
                audited |= {"created": outcome.created, "updated": outcome.updated, "updated_ids": updated_ids[:1000]}
                record(session, actor, "nominations.import", "import", digest[:16], None, audited, actor.unit_id)
                session.flush()  # while the page cache is still large
    return outcome


def _refuse_errors(parsed) -> None:
    """422 with every bad cell (the first MAX_ERROR_ROWS) when the file has one, or has no data row."""
    errors = parsed.errors + _too_long(parsed.columns)
    if errors:
        ordered = sorted(errors, key=lambda e: e.row)[:MAX_ERROR_ROWS]
        rows = [{"row": e.row, "column": e.column, "message": e.message} for e in ordered]
        bad_rows = len({e.row for e in errors})
        message = (
            Message(
                "Tệp có %(n)s dòng lỗi, chưa lưu gì; %(listed)s lỗi đầu tiên được liệt kê",
                n=bad_rows,
                listed=MAX_ERROR_ROWS,
            )
            if len(errors) > MAX_ERROR_ROWS
            else Message("Tệp có %(n)s dòng lỗi, chưa lưu gì", n=bad_rows)
        )
        raise Invalid(message, {"rows": rows, "warnings": capped(parsed.warnings), "header_row": parsed.header_row})
    if not parsed.count:
        raise Invalid(Message("Tệp không có dòng dữ liệu nào"), {"file": [Message("Tệp không có dòng dữ liệu nào")]})


@dataclass
class _Plan:
    """Where each row of the file goes: its pupil (known or new) and its nomination this year (new or existing)."""

    student_ids: list  # per row: the pupil's id, None for a pupil not stored yet
    existing: dict[int, int]  # student id -> id of its nomination of the year
    # Positions (in file order) of the rows whose pupil is new / whose nomination this year exists / is new;
    # None stands for "every row" in the common case of a file of new pupils.
    new_students: list[int] | None
    to_update: list[int]
    to_create: list[int] | None


def _plan(conn: Connection, keys: list[str], academic_year: str) -> _Plan:
    students = dict(_select_in(conn, "SELECT identity_key, id FROM students WHERE identity_key", keys))
    existing = (
        dict(
            _select_in(
                conn,
                f"SELECT student_id, id FROM nominations WHERE academic_year = {_mark(conn)} AND student_id",
                list(students.values()),
                academic_year,
            )
        )
        if students
        else {}
    )
    student_ids = list(map(students.get, keys))
    new_students = [i for i, sid in enumerate(student_ids) if sid is None] if students else None
    to_update = [i for i, sid in enumerate(student_ids) if sid in existing] if existing else []
    updating = set(to_update)
    to_create = [i for i in range(len(keys)) if i not in updating] if to_update else None
    return _Plan(student_ids, existing, new_students, to_update, to_create)


def _store_students(conn: Connection, columns: dict[str, list], keys: list[str], plan: _Plan) -> None:
    """INSERT the new pupils; their ids completed in ``plan.student_ids``."""
    count = len(keys) if plan.new_students is None else len(plan.new_students)
    if not count:
        return
    ids = _allocate_ids(conn, Student.__table__, count)
    values = {f: _pick(columns[f], plan.new_students) for f in STUDENT_FIELDS}
    _insert_many(conn, Student.__table__, {"id": ids, "identity_key": _pick(keys, plan.new_students), **values}, count)
    if plan.new_students is None:
        plan.student_ids = ids
    else:
        for i, sid in zip(plan.new_students, ids, strict=True):
            plan.student_ids[i] = sid


def _store_nominations(
    conn: Connection, columns: dict[str, list], source: dict[str, Any], plan: _Plan, academic_year: str
) -> list[int]:
    """INSERT the year's new nominations (in file row order, so their ids ascend with the rows) and UPDATE the
    existing ones; the ids updated."""
    per_row = {**{f: columns[f] for f in FIELDS}, **source}
    fixed = {k: per_row.pop(k) for k in list(per_row) if not isinstance(per_row[k], list)}
    fixed["status"] = "active"
    count = len(plan.student_ids) - len(plan.to_update)
    if count:
        rows = {k: _pick(v, plan.to_create) for k, v in per_row.items()}
        student_ids = _pick(plan.student_ids, plan.to_create)
        values = {**rows, **fixed, "student_id": student_ids, "academic_year": academic_year}
        _insert_many(conn, Nomination.__table__, values, count)
    updated_ids = [plan.existing[plan.student_ids[i]] for i in plan.to_update]
    if plan.to_update:
        rows = {k: _pick(v, plan.to_update) for k, v in per_row.items()}
        _update_many(conn, Nomination.__table__, updated_ids, {**rows, **fixed})
    return updated_ids


def pupil_found_by(search: str):
    """The condition of the nominations a search finds, ignoring case and diacritics: the names in which each word
    typed starts a word ("nguyen th" finds "Nguyễn Thị Ánh", "dang" "Đặng Văn Út"), on the folded name, or a piece
    of the pupil's code."""
    words = search_words(search)
    by_name = (
        and_(*(or_(Nomination.name_folded.startswith(w), Nomination.name_folded.contains(f" {w}")) for w in words))
        if words
        else false()
    )
    return or_(by_name, Nomination.student_code.ilike(f"%{search.strip()}%"))


def nominations_query(
    session: Session, actor: Actor, *, academic_year=None, unit=None, school=None, status=None, search=None
):
    """A select of nominations inside the actor's scope, in id order; `search` as pupil_found_by."""
    query = (
        select(Nomination)
        .join(Unit, Unit.id == Nomination.unit_id)
        .options(joinedload(Nomination.unit))
        .order_by(Nomination.id)
    )
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
    if search:
        query = query.where(pupil_found_by(search))
    return query


def get_nomination(session: Session, actor: Actor, nomination_id: int) -> Nomination:
    """A nomination of the actor's scope, else 404."""
    nomination = session.scalar(
        select(Nomination).where(Nomination.id == nomination_id).options(joinedload(Nomination.unit))
    )
    if nomination is None or not actor.sees(nomination.unit):
        raise NotFound(f"Không có hồ sơ đề cử {nomination_id} (unknown nomination)")
    return nomination


def snapshot(nomination: Nomination) -> dict:
    """The audited state of a nomination."""
    return {
        **{f: getattr(nomination, f) for f in FIELDS},
        "unit": nomination.unit.code,
        "status": nomination.status,
        "withdrawal_reason": nomination.withdrawal_reason,
    }


def _with_derived(changes: dict) -> dict:
    """A correction of the ethnicity or the class corrects what the import's rules derive from it, unless given; one
    of the name its folded form."""
    if "full_name" in changes:
        changes["name_folded"] = fold(changes["full_name"])
    if "ethnicity" in changes and "ethnic_minority" not in changes:
        changes["ethnic_minority"] = is_ethnic_minority(changes["ethnicity"])
    if "grade" in changes:
        number, level = derive_grade(changes["grade"])
        changes.setdefault("grade_number", number)
        if level is not None:  # a class the rule cannot read leaves the level as it was
            changes.setdefault("level", level)
    return changes


@contextmanager
def changing(session: Session, actor: Actor, nomination_id: int, action: str, if_withdrawn: str):
    """A change of one nomination of the actor's scope still active (else 409 ``if_withdrawn``), in one write
    transaction, audited as ``action`` with its state before and after."""
    require_role(actor, *COMMITTEE)
    with write_transaction(session):
        nomination = get_nomination(session, actor, nomination_id)
        if nomination.status == "withdrawn":
            raise Conflict(if_withdrawn)
        before = snapshot(nomination)
        yield nomination
        session.flush()  # a new unit is a unit_id only once flushed
        record(session, actor, action, "nomination", nomination.id, before, snapshot(nomination), nomination.unit_id)


def held_awards(session: Session, nomination_id: int, *, lock: bool = False) -> list[Award]:
    """The nomination's awards that count as given (approved or paid), with their rounds."""
    query = (
        select(Award)
        .where(Award.nomination_id == nomination_id, Award.status.in_(HELD))
        .options(joinedload(Award.round).joinedload(Round.unit))
        .order_by(Award.id)
    )
    if lock:
        query = query.with_for_update(of=Award)
    return list(session.scalars(query))


def correction_refused(awards: list[Award]) -> str | None:
    """Why a nomination holding these awards cannot be corrected (None when it can): an approved round's award list,
    certificates and payment vouchers print the pupil's data as the committee decided on it."""
    if not awards:
        return None
    award = awards[0]
    return (
        f"Hồ sơ đang nhận học bổng của đợt xét “{award.round.name}” ({award.round.unit.code}), "
        + ("đã chi" if award.status == "paid" else "đã duyệt")
        + ", nên không sửa được; nếu em không nhận nữa, hãy rút hồ sơ"
    )


def _check_class(nomination: Nomination) -> None:
    """The import's rule for the class (rules.grade_accepted), on the corrected nomination: a class the rule cannot
    read is accepted only for a university."""
    if not grade_accepted(nomination.grade, nomination.grade_number, nomination.level):
        raise Invalid("Lớp không hợp lệ (invalid class)", {"grade": [grade_error(nomination.grade)]})


def update_nomination(session: Session, actor: Actor, nomination_id: int, changes: dict) -> Nomination:
    """Correct a nomination's fields (audited): 409 when withdrawn or when it holds an award (correction_refused);
    the class held to the import's rule."""
    with changing(
        session, actor, nomination_id, "nomination.update", "Hồ sơ đã rút, không sửa được (nomination withdrawn)"
    ) as nomination:
        refused = correction_refused(held_awards(session, nomination.id))
        if refused:
            raise Conflict(refused)
        if "unit" in changes:
            nomination.unit = visible_unit(session, actor, changes.pop("unit"))
        for name, value in _with_derived(changes).items():
            setattr(nomination, name, value)
        if {"grade", "level"} & changes.keys():
            _check_class(nomination)
    return nomination


def export_xlsx(session: Session, actor: Actor, **filters) -> bytes:
    """The nominations in the import format (re-importable)."""
    require_role(actor, *COMMITTEE)
    rows = (
        {**{f: getattr(n, f) for f in FIELDS}, "unit": n.unit.code}
        for n in session.scalars(nominations_query(session, actor, **filters))
    )
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
        facts.append(
            {
                "id": n.id,
                **{f: getattr(n, f) for f in FIELDS},
                "unit": unit.code,
                "district": district_cache[unit.id],
                "status": n.status,
                "in_round_unit": unit.path.startswith(round_unit.path),
            }
        )
    return facts
