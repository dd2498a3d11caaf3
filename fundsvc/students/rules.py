"""What a nomination row means (docs/import.md): who the pupil is, the ethnic minority flag, the level of a class.

One definition each, pure functions of plain values, used by the import (``spreadsheet.py``, ``service.py``), by a
nomination's correction (``service.update_nomination``) and, through the stored rows, by the export. Where a bulk
path computes a rule a column at a time, the per-row function here is its reference, and a property test in
``tests/students/test_rules.py`` shows that both agree.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date

from .normalize import fold
from .vocabulary import GRADES_OF_LEVEL, KINH, UNIVERSITY_YEARS

__all__ = [
    "derive_grade",
    "file_duplicates",
    "grade_accepted",
    "identity_key",
    "identity_keys",
    "is_ethnic_minority",
    "level_for_grade_number",
    "level_mismatch",
    "level_of",
    "name_key",
]

# --------------------------------------------------------------------------- who the pupil is


def _norm(text: str) -> str:
    # NFC, case-folded, spaces collapsed: "  PHAN  thanh bình " and "Phan Thanh Bình" are one name.
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def name_key(full_name: str, birth_date: date, school: str) -> str:
    """A pupil without a student code: name + birth date + school (name and school compared as ``_norm`` does)."""
    return f"nbs:{_norm(full_name)}|{birth_date.isoformat()}|{_norm(school)}"


def identity_key(code: str | None, full_name: str, birth_date: date, school: str) -> str:
    """What identifies a pupil across years and files: the student code, else ``name_key``.

    Stored as ``students.identity_key``: a change of this rule is a data migration.
    """
    if code:
        return f"code:{code.strip()}"
    return name_key(full_name, birth_date, school)


def identity_keys(codes: list, names: list, birth_dates: list, schools: list) -> list[str]:
    """``identity_key`` of every row, given as columns; when every row has a code, at C speed."""
    if all(codes):
        return list(map("code:".__add__, map(str.strip, codes)))
    return list(map(identity_key, codes, names, birth_dates, schools))


def file_duplicates(codes: Iterable[str | None], name_keys: Iterable[str | None]) -> Iterator[tuple[int, int, str]]:
    """``(position, position of the earlier row, "code" | "name")`` for every row of one file that repeats a pupil.

    Two rows are one pupil when they have the same student code, or the same ``name_key`` and at least one of
    them has no code (two different codes are two pupils, even of the same name). A row whose ``name_key`` is None
    (a cell of it missing) is compared by code only.
    """
    first_code: dict[str, int] = {}
    first_name: dict[str, int] = {}  # every row's name, the first row that has it
    first_codeless: dict[str, int] = {}  # the names of rows without a code
    for i, (code, nk) in enumerate(zip(codes, name_keys, strict=True)):
        if code is not None:
            j = first_code.setdefault(code, i)
            if j != i:
                yield i, j, "code"
            elif nk is not None and first_codeless.get(nk, i) != i:
                yield i, first_codeless[nk], "name"
        elif nk is not None:
            if first_name.get(nk, i) != i:
                yield i, first_name[nk], "name"
            first_codeless.setdefault(nk, i)
        if nk is not None:
            first_name.setdefault(nk, i)


# --------------------------------------------------------------------------- ethnic minority


def is_ethnic_minority(ethnicity: str | None) -> bool:
    """Every named ethnic group but Kinh (in any case, with or without diacritics); False when none is given."""
    return ethnicity is not None and fold(ethnicity) not in ("", KINH)


# --------------------------------------------------------------------------- level from the class


def level_for_grade_number(n: int) -> str | None:
    """The school level of grade n (1–5 primary, 6–9 lower secondary, 10–12 upper secondary), else None."""
    for level, grades in GRADES_OF_LEVEL.items():
        if n in grades:
            return level
    return None


def derive_grade(text: str) -> tuple[int | None, str | None]:
    """The grade number and level a class names: "9A" → (9, "lower_secondary"), "Năm 2" → (2, "university").

    A school class starts with its grade (1–12, "Lớp " allowed before it); a university year is "Năm N" or
    "Năm thứ N". Anything else → (None, None).
    """
    f = fold(text)
    if f.startswith("nam"):
        rest = f[3:].strip().removeprefix("thu ").strip()
        if rest.isascii() and rest.isdigit() and int(rest) in UNIVERSITY_YEARS:
            return int(rest), "university"
        return None, None
    f = f.removeprefix("lop ")
    digits = len(f) - len(f.lstrip("0123456789"))
    if not 1 <= digits <= 2:
        return None, None
    n = int(f[:digits])
    level = level_for_grade_number(n)
    return (n, level) if level else (None, None)


def level_of(given: str | None, derived: str | None) -> str | None:
    """The stored level: the one the file gives, else the one its class implies."""
    return given if given is not None else derived


def level_mismatch(given: str | None, derived: str | None) -> bool:
    """The file gives a level its class contradicts (warned about; the given level is kept)."""
    return given is not None and derived is not None and given != derived


def grade_accepted(text: str | None, number: int | None, level: str | None) -> bool:
    """A class the rule cannot read is accepted only for a university (whose years are named freely)."""
    return number is not None or not text or level == "university"
