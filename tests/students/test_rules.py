"""The import's rules (fundsvc/students/rules.py) and every fast path against its plain reference.

* ``identity_keys`` (a column at a time) against ``identity_key`` row by row;
* ``file_duplicates`` (dicts of first occurrences) against the rule as docs/import.md states it, pair by pair;
* ``clean_column`` against ``clean_text`` cell by cell; ``_convert_table`` (memo) against ``_convert_plain``;
* the whole parse (column by column, memo tables, C-level maps) against ``reference_parse`` below, which reads
  the same csv file row by row with the same converters and rules.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundsvc.students import rules
from fundsvc.students.normalize import clean_column, clean_text, fold
from fundsvc.students.spreadsheet import (
    _convert_plain,
    _convert_table,
    _dup_message,
    converter,
    grade_error,
    missing_message,
    parse_nominations,
)
from fundsvc.students.vocabulary import COLUMNS_BY_KEY, NOMINATION_COLUMNS, ROW_KEYS
from tests.students.test_spreadsheet_roundtrip import HEADERS, dates, row, text

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- the rules themselves


def test_identity_key():
    born = dt.date(2011, 3, 6)
    assert rules.identity_key("HS1", "An", None, None) == "code:HS1"
    assert rules.identity_key(" HS1 ", "Bình", born, "T") == "code:HS1"
    assert (
        rules.identity_key(None, "Võ  Thị Giang", born, "Trường B")
        == rules.identity_key("", "võ thị giang", born, "trường b")
        == "nbs:võ thị giang|2011-03-06|trường b"
    )


def test_ethnic_minority():
    assert [rules.is_ethnic_minority(e) for e in (None, "", "  ", "Kinh", "KINH", " kinh ")] == [False] * 6
    assert [rules.is_ethnic_minority(e) for e in ("Khmer", "Hoa", "Tày", "Kinh Hoa")] == [True] * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9A", (9, "lower_secondary")),
        ("9", (9, "lower_secondary")),
        ("12A1", (12, "upper_secondary")),
        ("Lớp 5B", (5, "primary")),
        ("10/2", (10, "upper_secondary")),
        ("Năm 2", (2, "university")),
        ("năm thứ 3", (3, "university")),
        ("Năm 8", (None, None)),
        ("0A", (None, None)),
        ("13", (None, None)),
        ("123", (None, None)),
        ("K45", (None, None)),
        ("", (None, None)),
    ],
)
def test_level_from_the_class(text, expected):
    assert rules.derive_grade(text) == expected


def test_level_of_and_the_row_rules():
    assert rules.level_of(None, "primary") == "primary" and rules.level_of("university", "primary") == "university"
    assert rules.level_mismatch("university", "primary") and not rules.level_mismatch(None, "primary")
    assert not rules.level_mismatch("primary", None) and not rules.level_mismatch("primary", "primary")
    assert rules.grade_accepted("K45", None, "university") and not rules.grade_accepted("K45", None, "primary")
    assert rules.grade_accepted("9A", 9, "lower_secondary") and rules.grade_accepted("", None, None)


# --------------------------------------------------------------------------- fast paths against their references

codes = st.one_of(st.none(), st.just(""), st.sampled_from(["HS1", " HS1", "HS2 "]), text)
coded = st.one_of(st.sampled_from(["HS1", " HS1", "HS2 "]), text.filter(bool))
names = st.sampled_from(["An", "an", " AN ", "Bình", "Bính", "Võ  Thị", "võ thị"])
born = st.sampled_from([dt.date(2011, 3, 6), dt.date(2012, 1, 1)])
schools = st.sampled_from(["T", "t", "Trường B", "trường  b"])


@SETTINGS
@given(st.one_of(st.lists(st.tuples(coded, names, born, schools)), st.lists(st.tuples(codes, names, born, schools))))
def test_identity_keys_is_identity_key_row_by_row(pupils):
    columns = [list(c) for c in zip(*pupils, strict=True)] or [[], [], [], []]
    assert rules.identity_keys(*columns) == [rules.identity_key(*p) for p in pupils]


def _duplicates_as_stated(codes, keys):
    """docs/import.md: one pupil by the same code, or the same name, birth date and school where a code is missing.
    Each repeat is reported against the first earlier row it repeats."""
    out = []
    for i, (code, key) in enumerate(zip(codes, keys, strict=True)):
        same_code = [j for j in range(i) if code is not None and codes[j] == code]
        same_name = [j for j in range(i) if key is not None and keys[j] == key and (code is None or codes[j] is None)]
        if same_code:
            out.append((i, same_code[0], "code"))
        elif same_name:
            out.append((i, same_name[0], "name"))
    return out


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from([None, "HS1", "HS2"]), st.sampled_from([None, "a", "b"])), max_size=10))
def test_file_duplicates_is_the_rule_as_stated(pupils):
    codes, keys = [p[0] for p in pupils], [p[1] for p in pupils]
    assert list(rules.file_duplicates(codes, keys)) == _duplicates_as_stated(codes, keys)


@SETTINGS
@given(st.lists(text, max_size=8))
def test_clean_column_is_clean_text_cell_by_cell(col):
    cleaned, maybe_empty = clean_column(col)
    assert cleaned == [clean_text(v) for v in col]
    assert maybe_empty or "" not in cleaned


_CONVERTED = [c for c in NOMINATION_COLUMNS if c.kind != "text"]
raw_cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 13),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1.0, 8.5, 8.55, 9.999999999]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.sampled_from(["", " ", "x", "X", "có", "1", "true", "Nam", "nữ", "THCS", "Năm 2", "9A", "K1", "ST"]),
    dates,
    text,
)


@SETTINGS
@given(st.sampled_from(_CONVERTED), st.lists(raw_cells, max_size=10), st.sampled_from([None, frozenset({"ST"})]))
def test_memo_conversion_is_the_plain_conversion(c, col, units):
    convert = converter(c, units)
    placeholder = ("", None, None) if c.kind == "grade" else c.default
    assert _convert_table(col, c, convert, placeholder) == _convert_plain(col, c, convert, placeholder)


# --------------------------------------------------------------------------- the whole parse against a row-by-row one

_BY_FOLDED_NAME = {fold(name): c for c in NOMINATION_COLUMNS for name in (c.header, c.key, *c.aliases)}


def _convert(c, raw, units):
    """(stored value or None, error message or None) of one cell, as docs/import.md describes it."""
    if not clean_text(raw):
        return (None, missing_message(c)) if c.required else (c.default, None)
    try:
        return converter(c, units)(raw), None
    except ValueError as exc:
        return None, str(exc)


def _reference_row(mapping, record, units):
    """One row: its stored values (ROW_KEYS but "row") and its errors as (file column, header, message)."""
    cell = {key: record[j] if j < len(record) else "" for key, (j, _) in mapping.items()}
    values, errors = {}, []
    for key, (j, name) in mapping.items():
        values[key], message = _convert(COLUMNS_BY_KEY[key], cell[key], units)
        if message:
            errors.append((j, name, message))
    given_level = values.get("level")
    text, number, derived = values["grade"] or ("", None, None)
    values["level"] = rules.level_of(given_level, derived)
    if not rules.grade_accepted(text, number, values["level"]):
        errors.append((mapping["grade"][0], mapping["grade"][1], grade_error(cell["grade"])))
    values["grade"], values["grade_number"] = text or None, number
    values["ethnic_minority"] = rules.is_ethnic_minority(values.get("ethnicity"))
    for key in set(ROW_KEYS[1:]) - set(values):  # a column the file does not have
        values[key] = COLUMNS_BY_KEY[key].default
    return values, errors


def reference_parse(data: bytes, units=None) -> tuple[list[tuple], list[dict]]:
    """(errors as (row, column, message), good rows): a csv file whose first line is its header, row by row."""
    header, *body = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    mapping = {}
    for j, raw in enumerate(header):
        c = _BY_FOLDED_NAME.get(fold(clean_text(raw)))
        if c is not None:
            mapping[c.key] = (j, clean_text(raw))
    rows, codes, keys = [], [], []
    for number, record in enumerate(body, start=2):
        if all(not clean_text(v) for v in record):
            continue  # an empty row
        values, errors = _reference_row(mapping, record, units)
        values["row"] = number
        rows.append((values, errors))
        codes.append(values["student_code"])
        whole = all(values[k] is not None for k in ("full_name", "birth_date", "school"))
        keys.append(rules.name_key(values["full_name"], values["birth_date"], values["school"]) if whole else None)
    for i, first, by in _duplicates_as_stated(codes, keys):
        j, name = mapping["student_code" if by == "code" else "full_name"]
        rows[i][1].append((j, name, _dup_message(rows[first][0]["row"], by)))
    errors = [(v["row"], name, m) for v, errs in rows for j, name, m in sorted(errs, key=lambda e: e[0])]
    return errors, [{k: v[k] for k in ROW_KEYS} for v, errs in rows if not errs]


_REQUIRED = [h for h, c in zip(HEADERS, NOMINATION_COLUMNS, strict=True) if c.required]
_OPTIONAL = [h for h, c in zip(HEADERS, NOMINATION_COLUMNS, strict=True) if not c.required]
_SPELLINGS = {h: [h, h.upper(), c.key, *c.aliases] for h, c in zip(HEADERS, NOMINATION_COLUMNS, strict=True)}


@st.composite
def sheets(draw):
    """A csv file: every required column and some optional ones in any order and spelling, an unknown column now
    and then; rows as users type them, some repeated (with or without their code), some empty."""
    chosen = _REQUIRED + draw(st.lists(st.sampled_from(_OPTIONAL), unique=True))
    chosen = draw(st.permutations(chosen))
    header = [draw(st.sampled_from(_SPELLINGS[h])) for h in chosen]
    body = draw(st.lists(row, max_size=7))
    for i in draw(st.lists(st.integers(0, 6), max_size=3)):
        if i < len(body):
            body.append({**body[i], "Mã học sinh": draw(st.sampled_from([body[i]["Mã học sinh"], "", "HS9"]))})
    records = [[r[h] for h in chosen] for r in body]
    if draw(st.booleans()):
        header.append("Cột lạ")
        records = [[*r, "?"] for r in records]
    for at in draw(st.lists(st.integers(0, 8), max_size=2)):
        records.insert(min(at, len(records)), draw(st.sampled_from([[], ["", " "], [" "] * len(header)])))
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows([header, *records])
    return buf.getvalue().encode("utf-8")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets(), st.sampled_from([None, frozenset({"ST", "ST-MX-DT"})]))
def test_the_parse_is_the_row_by_row_reference(data, units):
    parsed = parse_nominations(data, "gen.csv", known_units=units)
    errors, rows = reference_parse(data, units)
    assert [(e.row, e.column, e.message) for e in parsed.errors] == errors
    assert parsed.rows == rows


def test_docs_import_md_lists_every_column_as_the_vocabulary_has_it():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text(encoding="utf-8")
    table = [line.split("|")[1:4] for line in doc.splitlines() if line.startswith("| `")]
    listed = [(key.strip(" `"), head.split("(")[0].strip(), required.strip() == "yes") for key, head, required in table]
    assert listed == [(c.key, c.header, c.required) for c in NOMINATION_COLUMNS]
    for c in NOMINATION_COLUMNS:
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{c.key}`"))
        assert all(alias in row for alias in c.aliases), c.key
