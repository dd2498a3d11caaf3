"""Fixtures for the pure allocation engine: the worked example of RULES.md as nomination dicts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

# A minimal reader of the IMPORT.md sample, used until fundsvc.students.spreadsheet exists.
_LEVEL = {"tiểu học": "primary", "thcs": "lower_secondary", "thpt": "upper_secondary", "đại học": "university",
          "cao đẳng": "university"}
_HOUSEHOLD = {"hộ nghèo": "poor", "hộ cận nghèo": "near_poor", "khó khăn": "hardship", "": "none"}
_RESULT = {"tốt": "excellent", "giỏi": "excellent", "khá": "good", "đạt": "pass", "trung bình": "pass",
           "chưa đạt": "fail", "yếu": "fail", "kém": "fail", "": None}
_ACHIEVEMENT = {"quốc gia": "national", "tỉnh": "province", "huyện": "district", "trường": "school", "": "none"}
_GENDER = {"nam": "male", "nữ": "female", "": None}
_HEADERS = {"Mã học sinh": "student_code", "Họ và tên": "full_name", "Ngày sinh": "birth_date",
            "Giới tính": "gender", "Dân tộc": "ethnicity", "Trường": "school", "Lớp": "grade", "Cấp học": "level",
            "Mã đơn vị": "unit", "Hoàn cảnh gia đình": "household", "Mồ côi": "orphan", "Khuyết tật": "disability",
            "Điểm TB": "gpa", "Học lực": "academic_result", "Rèn luyện": "conduct", "Hạnh kiểm": "conduct",
            "Thành tích": "achievement", "Phụ huynh": "guardian", "Ghi chú": "note"}


def _truthy(s: str) -> bool:
    return s.strip().lower() in ("x", "có", "1", "true")


def _date(s: str) -> dt.date:
    s = s.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return dt.date.fromisoformat(s)
    d, m, y = s.split("/")
    return dt.date(int(y), int(m), int(d))


def _level_from_grade(n: int | None) -> str | None:
    if n is None:
        return None
    return "primary" if n <= 5 else "lower_secondary" if n <= 9 else "upper_secondary"


def minimal_rows(data: bytes) -> list[dict]:
    """IMPORT.md rows (keys as IMPORT.md plus ethnic_minority, grade_number, row) from the sample CSV."""
    text = data.decode("utf-8-sig")
    delim = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    rows = []
    for i, raw in enumerate(csv.DictReader(io.StringIO(text), delimiter=delim), start=2):
        r = {_HEADERS[k.strip()]: (v or "").strip() for k, v in raw.items() if k and k.strip() in _HEADERS}
        if not any(r.values()):
            continue
        m = re.match(r"\s*(?:năm\s*)?(\d+)", r["grade"], re.I)
        grade_number = int(m.group(1)) if m else None
        level = _LEVEL.get(r.get("level", "").lower()) or _level_from_grade(grade_number)
        eth = r.get("ethnicity") or None
        rows.append({
            "row": i,
            "student_code": r.get("student_code") or None,
            "full_name": r["full_name"],
            "birth_date": _date(r["birth_date"]),
            "gender": _GENDER[r.get("gender", "").lower()],
            "ethnicity": eth,
            "ethnic_minority": eth is not None and eth.lower() != "kinh",
            "school": r["school"],
            "grade": r["grade"],
            "grade_number": grade_number,
            "level": level,
            "unit": r["unit"],
            "household": _HOUSEHOLD[r.get("household", "").lower()],
            "orphan": _truthy(r.get("orphan", "")),
            "disability": _truthy(r.get("disability", "")),
            "gpa": Decimal(r["gpa"].replace(",", ".")) if r.get("gpa") else None,
            "academic_result": _RESULT[r.get("academic_result", "").lower()],
            "conduct": _RESULT[r.get("conduct", "").lower()],
            "achievement": _ACHIEVEMENT[r.get("achievement", "").lower()],
            "guardian": r.get("guardian") or None,
            "note": r.get("note") or None,
        })
    return rows


def read_rows(data: bytes, filename: str) -> list[dict]:
    """The import's parser when it exists (the real thing), else the minimal reader above."""
    try:
        from fundsvc.students.spreadsheet import parse_nominations
    except ImportError:
        return minimal_rows(data)
    sheet = parse_nominations(data, filename)
    assert not sheet.errors, sheet.errors
    return [dict(r) for r in sheet.rows]


@pytest.fixture(scope="session")
def units() -> dict[str, str | None]:
    return {u["code"]: u["parent"] for u in json.loads((SHARED_DATA / "units_example.json").read_text("utf-8"))}


def to_nominations(rows: list[dict], units: dict[str, str | None]) -> list[dict]:
    """Rows -> engine input: ids 1.. in file order, active, inside the round, no other award."""
    noms = []
    for i, r in enumerate(rows, start=1):
        n = dict(r)
        n.pop("row", None)
        # the district is the district-level unit above the commune ("ST-MX-DT" -> "ST-MX")
        code = n["unit"]
        while code is not None and code.count("-") > 1:
            code = units.get(code)
        n.update(id=i, status="active", in_round_unit=True, awarded_elsewhere=False, district=code,
                 guardian=n.get("guardian"), note=n.get("note"))
        noms.append(n)
    return noms


@pytest.fixture(scope="session")
def sample_nominations(units) -> list[dict]:
    data = (SHARED_DATA / "nominations_sample.csv").read_bytes()
    return to_nominations(read_rows(data, "nominations_sample.csv"), units)


@pytest.fixture(scope="session")
def example_rules() -> dict:
    return json.loads((SHARED_DATA / "rules_example.json").read_text("utf-8"))


@pytest.fixture(scope="session")
def expected_allocation() -> dict:
    return json.loads((SHARED_DATA / "allocation_example_expected.json").read_text("utf-8"))
