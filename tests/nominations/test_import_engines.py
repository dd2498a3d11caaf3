"""The import service on SQLite and PostgreSQL: what it stores, pupils matched across years, re-imports.

The import writes through plain DBAPI executemany with ids it allocates itself, so these check the rows
as the ORM reads them back, and that the ORM can go on inserting afterwards (sequence not left behind).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from fundsvc.auth.service import SYSTEM
from fundsvc.extensions import db
from fundsvc.students.models import FIELDS, Nomination, Student
from fundsvc.students.rules import identity_key
from fundsvc.students.service import import_nominations
from fundsvc.students.spreadsheet import parse_nominations
from tests.conftest import SHARED_DATA, load_tree

SAMPLE = (SHARED_DATA / "nominations_sample.csv").read_bytes()


def _lines(data: bytes = SAMPLE) -> tuple[str, list[str]]:
    lines = data.decode("utf-8").splitlines()
    return lines[0], lines[1:]


def _stored(year: str) -> list[Nomination]:
    db.session.expire_all()
    return list(db.session.scalars(select(Nomination).where(Nomination.academic_year == year).order_by(Nomination.id)))


def test_sample_stores_every_field_on_both_engines(any_app):
    load_tree()
    outcome = import_nominations(db.session, SYSTEM, SAMPLE, "ds.csv", "2024-2025")
    assert (outcome.created, outcome.updated) == (120, 0)
    parsed = parse_nominations(SAMPLE, "ds.csv").rows
    stored = _stored("2024-2025")
    assert len(stored) == 120
    for n, row in zip(stored, parsed, strict=True):
        assert {f: getattr(n, f) for f in FIELDS} == {f: row[f] for f in FIELDS}
        assert n.unit.code == row["unit"] and n.status == "active" and n.source_row == row["row"]
        assert n.source_file == "ds.csv" and len(n.source_sha256) == 64
        assert n.created_at is not None and n.updated_at is not None
        assert n.student.identity_key == identity_key(
            row["student_code"], row["full_name"], row["birth_date"], row["school"]
        )
        assert (n.student.full_name, n.student.birth_date, n.student.school) == (
            row["full_name"],
            row["birth_date"],
            row["school"],
        )
    assert isinstance(stored[0].gpa, Decimal) and isinstance(stored[0].birth_date, date)
    assert db.session.scalar(select(func.count()).select_from(Student)) == 120
    # The ids the import allocated leave the ORM free to go on inserting (PostgreSQL: the sequence moved on).
    db.session.add(Student(identity_key="code:NEW", full_name="Mới", birth_date=date(2012, 1, 1), school="T"))
    db.session.commit()


def test_pupils_are_matched_across_years_and_reimports_update(any_app):
    load_tree()
    header, rows = _lines()
    import_nominations(db.session, SYSTEM, "\n".join([header, *rows[:60]]).encode(), "a.csv", "2023-2024")
    # The next year: the first 60 pupils again (one renamed: the code still matches), 60 new ones.
    again = [rows[0].replace("Phan Thanh Bình", "Phan Thanh Bính"), *rows[1:]]
    outcome = import_nominations(db.session, SYSTEM, "\n".join([header, *again]).encode(), "b.csv", "2024-2025")
    assert (outcome.created, outcome.updated) == (120, 0)
    assert db.session.scalar(select(func.count()).select_from(Student)) == 120
    by_code = {n.student_code: n for n in _stored("2024-2025")}
    old = {n.student_code: n for n in _stored("2023-2024")}
    assert all(by_code[code].student_id == n.student_id for code, n in old.items())
    assert by_code["HS0700001"].full_name == "Phan Thanh Bính"
    ids = [n.id for n in _stored("2024-2025")]
    assert ids == sorted(ids) and [n.source_row for n in _stored("2024-2025")] == list(range(2, 122))

    # Re-importing the year: 100 rows of it updated in place (file order kept), plus nothing created.
    first_ids = {n.student_code: n.id for n in _stored("2024-2025")}
    changed = [r.replace(",Nam,", ",Nữ,", 1) for r in again[20:]]
    outcome = import_nominations(db.session, SYSTEM, "\n".join([header, *changed]).encode(), "c.csv", "2024-2025")
    assert (outcome.created, outcome.updated) == (0, 100)
    stored = _stored("2024-2025")
    assert len(stored) == 120 and {n.student_code: n.id for n in stored} == first_ids
    assert {n.gender for n in stored if n.source_file == "c.csv"} == {"female"}
    assert sum(n.source_file == "c.csv" for n in stored) == 100


def test_pupils_without_a_code_are_matched_by_name_birth_date_and_school(any_app):
    load_tree()
    header, rows = _lines()
    codeless = [r.split(",", 1)[1] for r in rows[:30]]
    header = header.split(",", 1)[1]
    data = "\n".join([header, *codeless]).encode()
    import_nominations(db.session, SYSTEM, data, "a.csv", "2023-2024")
    moved = [codeless[0].replace("Phan Thanh Bình", "  PHAN  thanh bình "), *codeless[1:]]
    # Thirty more pupils, new this year, to mix new and known pupils in one file.
    extra = [r.split(",", 1)[1] for r in rows[30:60]]
    outcome = import_nominations(db.session, SYSTEM, "\n".join([header, *moved, *extra]).encode(), "b.csv", "2024-2025")
    assert (outcome.created, outcome.updated) == (60, 0)
    assert db.session.scalar(select(func.count()).select_from(Student)) == 60
    assert all(key.startswith("nbs:") for key in db.session.scalars(select(Student.identity_key)))
    outcome = import_nominations(
        db.session, SYSTEM, "\n".join([header, *moved, *extra]).encode(), "b.csv", "2024-2025", dry_run=True
    )
    assert (outcome.created, outcome.updated, outcome.dry_run) == (0, 60, True)


def test_sqlite_page_cache_is_put_back(app):
    load_tree()
    before = db.session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
    db.session.commit()
    import_nominations(db.session, SYSTEM, SAMPLE, "ds.csv", "2024-2025")
    import_nominations(db.session, SYSTEM, SAMPLE, "ds.csv", "2024-2025", dry_run=True)
    assert db.session.connection().exec_driver_sql("PRAGMA cache_size").scalar() == before


def test_coded_words_fit_their_columns():
    # The import measures only the free-text columns against their limits; a coded column stores these words.
    from fundsvc.students.service import _TEXT_LIMITS
    from fundsvc.students.spreadsheet import COLUMNS_BY_KEY, VIETNAMESE_WORDS

    for name, words in VIETNAMESE_WORDS.items():
        column = Nomination.__table__.c[name]
        if COLUMNS_BY_KEY[name].kind == "coded" and getattr(column.type, "length", None):
            assert name not in _TEXT_LIMITS
            assert max(len(w) for w in words if isinstance(w, str)) <= column.type.length, name
