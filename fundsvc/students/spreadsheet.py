"""Nomination spreadsheets: parse an import file, write an export and the template.

Pure layer (no Flask, no database); the format is ``shared/IMPORT.md``.

``parse_nominations(data, filename, known_units=None) -> ParsedSheet``
    ``.xlsx`` (first sheet, read with python-calamine) or ``.csv`` (UTF-8 with or
    without BOM, ``,`` / ``;`` / tab sniffed from the header line).  Every bad cell of
    every bad row becomes one ``CellError``; good rows come back column by column
    (``ParsedSheet.columns``, keyed by ``ROW_KEYS``) and, when asked for, as dicts
    (``ParsedSheet.rows``).  A file-level problem (unreadable file, no header row,
    missing required column) is a ``CellError`` on the header row (row 1 normally).

``write_nominations_xlsx(rows) -> bytes``
    The same rows in the import format (Vietnamese headers and words, real date
    cells), so that ``parse_nominations(write_nominations_xlsx(rows), "x.xlsx")``
    gives the same rows back.

``write_template_xlsx() -> bytes``
    An empty import file with drop-down lists, an example row and a "Hướng dẫn" sheet.

Speed: the rows are read and turned into columns a chunk at a time (while the chunk's
cells are still in the processor's cache), then converted column by column.  Coded columns have few distinct
values, so each distinct raw value is parsed once (``set(col)``) and the column is
mapped through the resulting table with C-level ``map``; free-text columns go
through a C-level ``map`` chain (split/join/NFC).  A 100,000-row file costs about
as much again as the bare csv / calamine read (see ``bench/import.py``).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import math
import re
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import chain, islice, repeat
from operator import itemgetter
from typing import Any

from ..memory import gc_paused
from .normalize import cell_text, clean_column, clean_text, fold

__all__ = [
    "COLUMNS_BY_KEY",
    "MIN_BIRTH_DATE",
    "NOMINATION_COLUMNS",
    "ROW_KEYS",
    "VIETNAMESE_WORDS",
    "CellError",
    "CellValueError",
    "Column",
    "ParsedSheet",
    "derive_grade",
    "identity_key",
    "parse_nominations",
    "write_nominations_xlsx",
    "write_template_xlsx",
]


# --------------------------------------------------------------------------- API types


class CellValueError(ValueError):
    """Raised by a column parser; ``str(exc)`` is the user-facing message."""


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Vietnamese title (IMPORT.md)
    required: bool
    parser: Callable[[Any], Any]  # non-blank raw cell (str, float, date, …) -> stored value
    aliases: tuple[str, ...] = ()  # other accepted headers ("Hạnh kiểm" for conduct)
    default: Any = None  # stored value for an empty cell / absent optional column
    kind: str = "coded"  # "text" (free text), "coded", "date", "number", "grade", "unit"
    choices: tuple[str, ...] = ()  # the words offered in the template drop-down
    hint: str = ""  # accepted values, for the "Hướng dẫn" sheet


@dataclass(frozen=True)
class CellError:
    row: int  # as the spreadsheet shows it; the header is row 1
    column: str  # the header as written in the file (Vietnamese header if the column is missing)
    message: str


@dataclass
class ParsedSheet:
    errors: list[CellError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The good rows column by column: every key of ROW_KEYS → one value per good row, in file order.
    # The import reads these directly; ``rows`` (the same rows as dicts) is only built when asked for.
    columns: dict[str, list] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def count(self) -> int:
        """The number of good rows."""
        return len(self.columns["row"]) if self.columns else 0

    @functools.cached_property
    def rows(self) -> list[dict]:
        """The good rows as dicts with the keys ``ROW_KEYS``, in file order."""
        if not self.columns:
            return []
        # Copying a template dict gives each row a table of the right size at once; update()
        # then only replaces values (cheaper than dict(zip(...)) growing the table twice).
        dicts = list(map(dict.copy, repeat(_ROW_TEMPLATE, self.count)))
        columns = [self.columns[key] for key in ROW_KEYS]
        deque(map(dict.update, dicts, map(zip, repeat(ROW_KEYS), zip(*columns, strict=True))), maxlen=0)
        return dicts


# --------------------------------------------------------------------------- vocabularies

GENDERS = {"nam": "male", "nu": "female", "male": "male", "female": "female"}

LEVELS = {
    "tieu hoc": "primary",
    "cap 1": "primary",
    "primary": "primary",
    "thcs": "lower_secondary",
    "trung hoc co so": "lower_secondary",
    "cap 2": "lower_secondary",
    "lower secondary": "lower_secondary",
    "thpt": "upper_secondary",
    "trung hoc pho thong": "upper_secondary",
    "cap 3": "upper_secondary",
    "upper secondary": "upper_secondary",
    "dai hoc": "university",
    "cao dang": "university",
    "dh": "university",
    "cd": "university",
    "university": "university",
}

HOUSEHOLDS = {
    "ho ngheo": "poor",
    "ngheo": "poor",
    "poor": "poor",
    "ho can ngheo": "near_poor",
    "can ngheo": "near_poor",
    "near poor": "near_poor",
    "kho khan": "hardship",
    "hoan canh kho khan": "hardship",
    "hardship": "hardship",
    "khong": "none",
    "none": "none",
}

YES_NO = {
    "x": True,
    "co": True,
    "1": True,
    "true": True,
    "khong": False,
    "0": False,
    "false": False,
}

ACADEMIC_RESULTS = {
    "tot": "excellent",
    "gioi": "excellent",
    "xuat sac": "excellent",
    "excellent": "excellent",
    "kha": "good",
    "good": "good",
    "dat": "pass",
    "trung binh": "pass",
    "tb": "pass",
    "pass": "pass",
    "chua dat": "fail",
    "yeu": "fail",
    "kem": "fail",
    "fail": "fail",
}

CONDUCTS = {
    "tot": "excellent",
    "excellent": "excellent",
    "kha": "good",
    "good": "good",
    "dat": "pass",
    "trung binh": "pass",
    "tb": "pass",
    "pass": "pass",
    "chua dat": "fail",
    "yeu": "fail",
    "fail": "fail",
}

ACHIEVEMENTS = {
    "quoc gia": "national",
    "cap quoc gia": "national",
    "national": "national",
    "tinh": "province",
    "cap tinh": "province",
    "province": "province",
    "huyen": "district",
    "cap huyen": "district",
    "district": "district",
    "truong": "school",
    "cap truong": "school",
    "school": "school",
    "khong": "none",
    "none": "none",
}

#: stored value -> the Vietnamese word written by the export (None/"" -> empty cell)
VIETNAMESE_WORDS: dict[str, dict[Any, str]] = {
    "gender": {"male": "Nam", "female": "Nữ"},
    "level": {
        "primary": "Tiểu học",
        "lower_secondary": "THCS",
        "upper_secondary": "THPT",
        "university": "Đại học",
    },
    "household": {"poor": "Hộ nghèo", "near_poor": "Hộ cận nghèo", "hardship": "Khó khăn", "none": ""},
    "orphan": {True: "x", False: ""},
    "disability": {True: "x", False: ""},
    "academic_result": {"excellent": "Tốt", "good": "Khá", "pass": "Đạt", "fail": "Chưa đạt"},
    "conduct": {"excellent": "Tốt", "good": "Khá", "pass": "Đạt", "fail": "Chưa đạt"},
    "achievement": {"national": "Quốc gia", "province": "Tỉnh", "district": "Huyện", "school": "Trường", "none": ""},
}

MIN_BIRTH_DATE = dt.date(1950, 1, 1)
_ONE_DECIMAL = Decimal("0.1")
_GPA_MAX = Decimal(10)


# --------------------------------------------------------------------------- parsers


def _shown(raw: Any) -> str:
    s = cell_text(raw)
    return s if len(s) <= 60 else s[:57] + "…"


def _text(raw: Any) -> str:
    return clean_text(cell_text(raw))


def _coded(vocab: dict[str, Any], vi_name: str, en_name: str, expected_vi: str, expected_en: str):
    get = vocab.get

    def parse(raw: Any) -> Any:
        value = get(fold(cell_text(raw)))
        if value is None:
            raise CellValueError(
                f"{vi_name} không hợp lệ '{_shown(raw)}': cần {expected_vi} (invalid {en_name}; expected {expected_en})"
            )
        return value

    return parse


def _parse_date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        value = raw.date()
    elif isinstance(raw, dt.date):
        value = raw
    else:
        s = raw.strip() if type(raw) is str else None
        value = None
        if s and len(s) == 10 and s[2] == "/" and s[5] == "/":
            # dd/mm/yyyy: the common case, validated by the C-level ISO parser
            try:
                value = dt.date.fromisoformat(f"{s[6:]}-{s[3:5]}-{s[:2]}")
            except ValueError:
                value = None
        if value is None and s:
            if "/" in s:
                parts = s.split("/")
                if len(parts) == 3:
                    d, m, y = parts
                    if 1 <= len(d) <= 2 and 1 <= len(m) <= 2 and len(y) == 4:
                        value = _make_date(s, y, m, d)
            elif "-" in s:
                parts = s.split("-")
                if len(parts) == 3:
                    y, m, d = parts
                    if len(y) == 4 and 1 <= len(m) <= 2 and 1 <= len(d) <= 2:
                        value = _make_date(s, y, m, d)
        if value is None:
            raise CellValueError(
                f"Ngày không hợp lệ '{_shown(raw)}': cần dạng dd/mm/yyyy (invalid date; expected dd/mm/yyyy)"
            )
    if value < MIN_BIRTH_DATE or value > dt.date.today():
        raise CellValueError(
            f"Ngày sinh ngoài khoảng hợp lệ '{value:%d/%m/%Y}': cần từ 01/01/1950 đến hôm nay "
            "(birth date out of range; expected between 01/01/1950 and today)"
        )
    return value


def _make_date(s: str, y: str, m: str, d: str) -> dt.date | None:
    ys, ms, ds = y.strip(), m.strip(), d.strip()
    if not (ys + ms + ds).isascii() or not (ys.isdigit() and ms.isdigit() and ds.isdigit()):
        return None
    try:
        return dt.date(int(ys), int(ms), int(ds))
    except ValueError:
        raise CellValueError(
            f"Ngày không hợp lệ '{_shown(s)}': ngày này không tồn tại, cần một ngày có thật dạng dd/mm/yyyy "
            "(invalid date: no such day; expected a real date as dd/mm/yyyy)"
        ) from None


def _gpa_error(raw: Any) -> CellValueError:
    return CellValueError(
        f"Điểm TB không hợp lệ '{_shown(raw)}': cần một số từ 0 đến 10, ví dụ 8.5 hoặc 8,5 "
        "(invalid GPA; expected a number from 0 to 10, e.g. 8.5)"
    )


def _parse_gpa(raw: Any) -> Decimal:
    t = type(raw)
    if t is str:
        s = raw.strip().replace(",", ".")
        if not (s.isascii() and s.replace(".", "", 1).isdigit()):
            raise _gpa_error(raw)
        try:
            value = Decimal(s)
        except InvalidOperation:  # pragma: no cover - guarded above
            raise _gpa_error(raw) from None
    elif t is float or t is int:
        if t is float:
            if not math.isfinite(raw):
                raise _gpa_error(raw)
            r = round(raw, 1)
            if abs(raw - r) > 1e-6:  # 8.55 is two decimals; 8.4999999999 is a float artefact of 8.5
                value = Decimal(repr(raw))
            else:
                value = Decimal(f"{r:.1f}")
        else:
            value = Decimal(raw)
    else:
        raise _gpa_error(raw)
    if value < 0 or value > _GPA_MAX:
        raise CellValueError(
            f"Điểm TB ngoài khoảng '{_shown(raw)}': cần một số từ 0 đến 10 "
            "(GPA out of range; expected a number from 0 to 10)"
        )
    q = value.quantize(_ONE_DECIMAL)
    if q != value:
        raise CellValueError(
            f"Điểm TB '{_shown(raw)}' có quá một chữ số thập phân: cần dạng 8.5 "
            "(GPA has more than one decimal; expected one decimal, e.g. 8.5)"
        )
    return q


def _level_for_number(n: int) -> str | None:
    if 1 <= n <= 5:
        return "primary"
    if 6 <= n <= 9:
        return "lower_secondary"
    if 10 <= n <= 12:
        return "upper_secondary"
    return None


def derive_grade(text: str) -> tuple[int | None, str | None]:
    """``"9A"`` → (9, "lower_secondary"); ``"Năm 2"`` → (2, "university"); unknown → (None, None)."""
    f = fold(text)
    if f.startswith("nam"):
        rest = f[3:].strip()
        if rest.startswith("thu "):
            rest = rest[4:].strip()
        if rest.isascii() and rest.isdigit() and 1 <= int(rest) <= 7:
            return int(rest), "university"
        return None, None
    f = f.removeprefix("lop ")
    k = 0
    while k < len(f) and "0" <= f[k] <= "9":
        k += 1
    if k == 0 or k > 2:
        return None, None
    n = int(f[:k])
    level = _level_for_number(n)
    return (n, level) if level else (None, None)


def _parse_grade(raw: Any) -> tuple[str, int | None, str | None]:
    text = _text(raw)
    number, level = derive_grade(text)
    return text, number, level


def _grade_error(raw: Any) -> str:
    return (
        f"Lớp không hợp lệ '{_shown(raw)}': cần dạng 9A, 9, 12A1 (lớp 1–12) hoặc Năm 2 (sinh viên) "
        "(invalid class; expected e.g. 9A, 9, 12A1 for grades 1–12 or Năm 2 for a university year)"
    )


# --------------------------------------------------------------------------- columns

_LEVEL_WORDS = "Tiểu học, THCS, THPT, Đại học hoặc Cao đẳng"
_YES_NO_VI = "x, có, 1, true (có) hoặc để trống, không, 0, false (không)"
_YES_NO_EN = "x/có/1/true for yes, empty/không/0/false for no"

NOMINATION_COLUMNS: tuple[Column, ...] = (
    Column(
        "student_code",
        "Mã học sinh",
        False,
        _text,
        ("Mã HS", "Mã số học sinh"),
        kind="text",
        hint="Văn bản; dùng để nhận ra học sinh qua các năm",
    ),
    Column("full_name", "Họ và tên", True, _text, ("Họ tên",), kind="text", hint="Văn bản"),
    Column(
        "birth_date",
        "Ngày sinh",
        True,
        _parse_date,
        ("Ngày tháng năm sinh",),
        kind="date",
        hint="dd/mm/yyyy (ví dụ 05/09/2012), yyyy-mm-dd hoặc ô kiểu ngày",
    ),
    Column(
        "gender",
        "Giới tính",
        False,
        _coded(GENDERS, "Giới tính", "gender", "Nam hoặc Nữ", "Nam or Nữ"),
        choices=("Nam", "Nữ"),
        hint="Nam, Nữ",
    ),
    Column("ethnicity", "Dân tộc", False, _text, kind="text", hint="Văn bản: Kinh, Khmer, Hoa, …"),
    Column("school", "Trường", True, _text, ("Trường học",), kind="text", hint="Văn bản"),
    Column("grade", "Lớp", True, _parse_grade, kind="grade", hint="9A, 9, 12A1; sinh viên: Năm 1, Năm 2, …"),
    Column(
        "level",
        "Cấp học",
        False,
        _coded(LEVELS, "Cấp học", "level", _LEVEL_WORDS, "Tiểu học, THCS, THPT, Đại học or Cao đẳng"),
        choices=("Tiểu học", "THCS", "THPT", "Đại học", "Cao đẳng"),
        hint=_LEVEL_WORDS + "; để trống thì suy ra từ lớp (1–5, 6–9, 10–12, Năm N)",
    ),
    Column("unit", "Mã đơn vị", True, _text, kind="unit", hint="Mã của đơn vị đề nghị (xã/phường, chi hội)"),
    Column(
        "household",
        "Hoàn cảnh gia đình",
        False,
        _coded(
            HOUSEHOLDS,
            "Hoàn cảnh gia đình",
            "household",
            "Hộ nghèo, Hộ cận nghèo, Khó khăn hoặc để trống",
            "Hộ nghèo, Hộ cận nghèo, Khó khăn or empty",
        ),
        ("Hoàn cảnh",),
        default="none",
        choices=("Hộ nghèo", "Hộ cận nghèo", "Khó khăn"),
        hint="Hộ nghèo, Hộ cận nghèo, Khó khăn hoặc để trống",
    ),
    Column(
        "orphan",
        "Mồ côi",
        False,
        _coded(YES_NO, "Mồ côi", "orphan", _YES_NO_VI, _YES_NO_EN),
        default=False,
        choices=("x", "Có", "Không"),
        hint="x hoặc để trống",
    ),
    Column(
        "disability",
        "Khuyết tật",
        False,
        _coded(YES_NO, "Khuyết tật", "disability", _YES_NO_VI, _YES_NO_EN),
        default=False,
        choices=("x", "Có", "Không"),
        hint="x hoặc để trống",
    ),
    Column(
        "gpa",
        "Điểm TB",
        False,
        _parse_gpa,
        ("Điểm trung bình", "ĐTB"),
        kind="number",
        hint="Số từ 0 đến 10, một chữ số thập phân: 8.5 hoặc 8,5",
    ),
    Column(
        "academic_result",
        "Học lực",
        False,
        _coded(
            ACADEMIC_RESULTS,
            "Học lực",
            "academic result",
            "Tốt, Giỏi, Khá, Đạt, Trung bình, Chưa đạt, Yếu hoặc Kém",
            "Tốt, Giỏi, Khá, Đạt, Trung bình, Chưa đạt, Yếu or Kém",
        ),
        choices=("Tốt", "Khá", "Đạt", "Chưa đạt", "Giỏi", "Trung bình", "Yếu", "Kém"),
        hint="Tốt/Giỏi, Khá, Đạt/Trung bình, Chưa đạt/Yếu/Kém",
    ),
    Column(
        "conduct",
        "Rèn luyện",
        False,
        _coded(
            CONDUCTS,
            "Rèn luyện",
            "conduct",
            "Tốt, Khá, Đạt, Trung bình, Chưa đạt hoặc Yếu",
            "Tốt, Khá, Đạt, Trung bình, Chưa đạt or Yếu",
        ),
        ("Hạnh kiểm",),
        choices=("Tốt", "Khá", "Đạt", "Chưa đạt", "Trung bình", "Yếu"),
        hint="Tốt, Khá, Đạt/Trung bình, Chưa đạt/Yếu (tiêu đề 'Hạnh kiểm' cũng được)",
    ),
    Column(
        "achievement",
        "Thành tích",
        False,
        _coded(
            ACHIEVEMENTS,
            "Thành tích",
            "achievement",
            "Quốc gia, Tỉnh, Huyện, Trường hoặc để trống",
            "Quốc gia, Tỉnh, Huyện, Trường or empty",
        ),
        default="none",
        choices=("Quốc gia", "Tỉnh", "Huyện", "Trường"),
        hint="Quốc gia, Tỉnh, Huyện, Trường hoặc để trống",
    ),
    Column("guardian", "Phụ huynh", False, _text, ("Người giám hộ",), kind="text", hint="Văn bản"),
    Column("note", "Ghi chú", False, _text, kind="text", hint="Văn bản"),
)

COLUMNS_BY_KEY: dict[str, Column] = {c.key: c for c in NOMINATION_COLUMNS}

#: keys of every parsed row dict, in order
ROW_KEYS: tuple[str, ...] = (
    "row",
    "student_code",
    "full_name",
    "birth_date",
    "gender",
    "ethnicity",
    "ethnic_minority",
    "school",
    "grade",
    "grade_number",
    "level",
    "unit",
    "household",
    "orphan",
    "disability",
    "gpa",
    "academic_result",
    "conduct",
    "achievement",
    "guardian",
    "note",
)


_ROW_TEMPLATE = dict.fromkeys(ROW_KEYS)


def _build_header_index() -> dict[str, Column]:
    index: dict[str, Column] = {}
    for c in NOMINATION_COLUMNS:
        for name in (c.header, c.key, *c.aliases):
            f = fold(name)
            assert index.get(f, c) is c, f"header {name!r} is ambiguous"
            index[f] = c
    return index


_HEADER_INDEX = _build_header_index()


# --------------------------------------------------------------------------- reading files


class _FileProblem(Exception):
    pass


_XLSX_EXTS = ("xlsx", "xlsm")

# Rows are read and turned into columns this many at a time (see _transpose).
_CHUNK_ROWS = 256


def _read_records(data: bytes, filename: str) -> tuple[Iterator[list[list]], int]:
    """Rows of raw cells, in chunks of up to ``_CHUNK_ROWS``, and the spreadsheet row number of the first one.

    A CSV file is read as the chunks are taken, so a malformed record raises ``_FileProblem`` from the iterator.
    """
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or ext == "xls":
        raise _FileProblem(
            "Tệp Excel 97-2003 (.xls) hoặc tệp có mật khẩu không được hỗ trợ: hãy lưu lại dạng .xlsx hoặc CSV UTF-8 "
            "(.xls or password-protected files are not supported; expected .xlsx or CSV UTF-8)"
        )
    if ext in _XLSX_EXTS:
        raise _FileProblem(
            "Tệp không phải là tệp .xlsx hợp lệ: hãy mở bằng Excel và lưu lại dạng .xlsx "
            "(not a valid .xlsx file; expected an Excel workbook)"
        )
    return _read_csv(data), 1


def _read_xlsx(data: bytes) -> tuple[Iterator[list[list]], int]:
    import python_calamine

    from fundsvc.uploads import UploadRefused, check_xlsx

    try:
        check_xlsx(data)  # before calamine, which would build the whole rectangle a cell reference implies
    except UploadRefused as refused:
        raise _FileProblem(str(refused)) from None
    try:
        book = python_calamine.load_workbook(io.BytesIO(data))
        try:
            sheet = book.get_sheet_by_index(0)
            rows = sheet.to_python()
            first = sheet.start[0] + 1 if rows and sheet.start else 1
        finally:
            book.close()
    except Exception as exc:  # calamine raises a zoo of errors for broken files
        raise _FileProblem(
            "Không đọc được tệp .xlsx: hãy mở bằng Excel và lưu lại "
            f"(cannot read the .xlsx file: {type(exc).__name__}; expected a valid Excel workbook)"
        ) from None
    return (rows[start : start + _CHUNK_ROWS] for start in range(0, len(rows), _CHUNK_ROWS)), first


def _read_csv(data: bytes) -> Iterator[list[list[str]]]:
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data[3:].decode("utf-8")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _FileProblem(
            "Tệp CSV không phải mã UTF-8: trong Excel hãy chọn Lưu thành 'CSV UTF-8' "
            "(the CSV file is not UTF-8; expected CSV UTF-8)"
        ) from None
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]
    delimiter = None
    stripped = first_line.strip()
    if stripped.lower().startswith("sep=") and len(stripped) == 5:  # Excel's "sep=;" hint line
        delimiter = stripped[4]
        text = "" if end < 0 else text[end + 1 :]
    if delimiter is None:
        counts = {d: first_line.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=counts.get) if max(counts.values()) else ","
    return _csv_chunks(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _csv_chunks(reader: Iterator[list[str]]) -> Iterator[list[list[str]]]:
    from fundsvc.uploads import MAX_COLUMNS, MAX_ROWS

    rows = 0
    try:
        while chunk := list(islice(reader, _CHUNK_ROWS)):
            rows += len(chunk)
            if rows > MAX_ROWS:
                raise _FileProblem(f"Tệp CSV có hơn {MAX_ROWS} dòng: hãy chia thành nhiều tệp")
            for record in chunk:
                if len(record) > MAX_COLUMNS and any(record[MAX_COLUMNS:]):
                    raise _FileProblem(f"Tệp CSV có dòng hơn {MAX_COLUMNS} cột có dữ liệu: tối đa {MAX_COLUMNS} cột")
            yield chunk
    except csv.Error as exc:
        raise _FileProblem(f"Tệp CSV bị lỗi định dạng: {exc} (malformed CSV; expected one record per line)") from None


def _head(chunks: Iterator[list[list]]) -> list[list]:
    """The first chunks, up to the one holding the tenth non-empty row (as far as ``_find_header`` looks)."""
    head: list[list] = []
    non_empty = 0
    for chunk in chunks:
        head += chunk
        non_empty += sum(1 for r in chunk if any(not _raw_blank(v) for v in r))
        if non_empty >= 10:
            break
    return head


def _transpose(chunks: Iterable[list[list]], width: int) -> list[list]:
    """The rows of ``chunks`` as columns, at least ``width`` of them; short rows are padded with "".

    A chunk at a time, while its cells are still in the processor's cache: transposing the whole
    file at once (``zip(*rows)``) read every cell back from memory, which cost about 40 % of the
    time of reading the csv file in the first place.
    """
    cols: list[list] = [[] for _ in range(width)]
    n = 0
    for chunk in chunks:
        if not chunk:
            continue
        lens = set(map(len, chunk))
        if lens != {width}:
            longest = max(lens)
            if longest > width:  # a column the rows read so far did not reach: blank in them
                cols += [[""] * n for _ in range(longest - width)]
                width = longest
            chunk = [r if len(r) == width else [*r, *[""] * (width - len(r))] for r in chunk]
        for col, values in zip(cols, zip(*chunk, strict=True), strict=True):
            col += values
        n += len(chunk)
    return cols


# --------------------------------------------------------------------------- parsing


_BLANK_STR = {"": None}


def _raw_blank(v: Any) -> bool:
    return v is None or (type(v) is str and not clean_text(v))


def _missing_message(c: Column) -> str:
    return f"Thiếu {c.header}: ô này bắt buộc phải có giá trị (missing {c.key.replace('_', ' ')}; a value is required)"


def _convert_text(col: list, c: Column) -> tuple[list, dict[int, str]]:
    try:
        cleaned, maybe_empty = clean_column(col)
    except TypeError:  # an .xlsx column with numbers/dates in it
        cleaned, maybe_empty = clean_column([v if type(v) is str else cell_text(v) for v in col])
    bad: dict[int, str] = {}
    if maybe_empty and "" in cleaned:
        if c.required:
            msg = _missing_message(c)
            bad = {i: msg for i, v in enumerate(cleaned) if not v}
        cleaned = list(map(_BLANK_STR.get, cleaned, cleaned))
    return cleaned, bad


class _Memo(dict):
    """raw cell -> stored value; a value not seen yet is parsed once by ``__missing__``.

    ``map(memo.__getitem__, column)`` then converts a whole column at C speed, calling
    back into Python only for the first occurrence of each distinct raw value.
    """

    __slots__ = ("default", "kinds", "messages", "missing", "parser", "placeholder")

    def __init__(self, seed, parser, default, placeholder, missing):
        super().__init__(seed)
        self.parser = parser
        self.default = default
        self.placeholder = placeholder
        self.missing = missing  # message for a blank cell of a required column, else None
        self.messages: dict[Any, str] = {}  # raw value -> error message
        self.kinds = 0  # bit 1: a bool was seen, bit 2: a number was seen

    def __missing__(self, raw):
        t = type(raw)
        if t is bool:
            self.kinds |= 1
        elif t is int or t is float:
            self.kinds |= 2
        if _raw_blank(raw):
            if self.missing:
                self.messages[raw] = self.missing
                value = self.placeholder
            else:
                value = self.default
        else:
            try:
                value = self.parser(raw)
            except CellValueError as exc:
                self.messages[raw] = str(exc)
                value = self.placeholder
        self[raw] = value
        return value


@functools.cache
def _seed_table(key: str) -> dict[str, Any]:
    """The usual spellings of a coded column, parsed once per process."""
    c = COLUMNS_BY_KEY[key]
    table: dict[str, Any] = {"": c.default}
    for word in c.choices:
        for w in (word, word.lower(), word.upper()):
            table[w] = c.parser(w)
    return table


def _convert_table(col: list, c: Column, parser: Callable[[Any], Any], placeholder: Any):
    """Parse each distinct raw value once; map the column through the memo table."""
    missing = _missing_message(c) if c.required else None
    seed = _seed_table(c.key) if c.choices and not c.required else ()
    memo = _Memo(seed, parser, c.default, placeholder, missing)
    vals = list(map(memo.__getitem__, col))
    if memo.kinds == 3:
        # True == 1 == 1.0 share a dict slot: redo this column cell by cell (rare).
        vals, bad = [], {}
        for i, v in enumerate(col):
            memo.clear()
            memo.messages.clear()
            vals.append(memo[v])
            if memo.messages:
                bad[i] = next(iter(memo.messages.values()))
        return vals, bad
    messages = memo.messages
    bad = {}
    if messages:
        bad = {i: messages[v] for i, v in enumerate(col) if v in messages}
    return vals, bad


def _unit_parser(known_units: Container[str] | None) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        code = "".join(_text(raw).split())
        if known_units is None or code in known_units:
            return code
        upper = code.upper()
        if upper != code and upper in known_units:
            return upper
        raise CellValueError(
            f"Mã đơn vị không tồn tại '{_shown(raw)}': cần mã của một đơn vị đã có "
            "(unknown unit code; expected the code of an existing unit)"
        )

    return parse


class _Derived(dict):
    """A memo of ``func(value)``: ``map(_Derived(func).__getitem__, column)`` calls func once per distinct value."""

    __slots__ = ("func",)

    def __init__(self, func):
        super().__init__()
        self.func = func

    def __missing__(self, key):
        value = self[key] = self.func(key)
        return value


def _is_minority(ethnicity: str | None) -> bool:
    return ethnicity is not None and fold(ethnicity) != "kinh"


def _find_header(records: list[list]) -> int | None:
    """Index of the header row: the first non-empty row, unless a later one among the first
    ten non-empty rows names at least two known columns and the first does not (title rows)."""
    first = None
    seen = 0
    for i, r in enumerate(records):
        if not any(not _raw_blank(v) for v in r):
            continue
        if first is None:
            first = i
        hits = sum(1 for v in r if type(v) is str and fold(v) in _HEADER_INDEX)
        if hits >= 2:
            return i
        seen += 1
        if seen >= 10:
            break
    return first


def parse_nominations(data: bytes, filename: str, *, known_units: Container[str] | None = None) -> ParsedSheet:
    """Parse an import file (see module docstring and IMPORT.md).

    ``known_units``: when given, a ``Mã đơn vị`` not in it is an error (a code that
    matches only in upper case is stored upper-cased).  ``rows`` holds only good
    rows and is empty when a required column is missing.
    """
    # The parse allocates a few million small containers that all stay alive until the
    # end; the cyclic GC would rescan them again and again (≈ +40 % time) and can
    # free none of them, so it is paused for the duration (and restored after).
    with gc_paused():
        return _parse(data, filename, known_units)


def _parse(data: bytes, filename: str, known_units: Container[str] | None) -> ParsedSheet:
    result = ParsedSheet()
    try:
        chunks, first_row = _read_records(data, filename)
        records = _head(chunks)
        h = _find_header(records)
        # The body (every row below the header), column by column.
        cols = _transpose(chain([records[h + 1 :]], chunks), len(records[h])) if h is not None else []
    except _FileProblem as exc:
        result.errors.append(CellError(1, "", str(exc)))
        return result

    if h is None:
        result.errors.append(
            CellError(
                1,
                "",
                "Tệp trống: không có dòng tiêu đề (empty file; expected a header row such as "
                "'Họ và tên, Ngày sinh, Trường, Lớp, Mã đơn vị' and one row per student)",
            )
        )
        return result
    header_row = first_row + h
    if h > 0 and any(any(not _raw_blank(v) for v in r) for r in records[:h]):
        result.warnings.append(
            f"Đã bỏ qua các dòng phía trên dòng tiêu đề (dòng {header_row}) "
            f"(rows above the header row {header_row} were ignored)"
        )
    header = list(records[h]) + [""] * (len(cols) - len(records[h]))
    del records
    base = header_row + 1

    # Empty rows are not filtered here: their cells are blank, so they show up as
    # "missing" required cells and are recognised (and dropped) further down.
    n = len(cols[0]) if cols else 0
    rownums = range(base, base + n)

    # -- map headers
    mapping: dict[str, tuple[int, str]] = {}
    for j, raw_h in enumerate(header):
        name = clean_text(cell_text(raw_h))
        if not name:
            if n and any(not _raw_blank(v) for v in set(cols[j])):
                result.warnings.append(
                    f"Cột thứ {j + 1} không có tiêu đề, đã bỏ qua (column {j + 1} has no header and was ignored)"
                )
            continue
        c = _HEADER_INDEX.get(fold(name))
        if c is None:
            result.warnings.append(
                f"Cột '{name}' không thuộc mẫu nhập, đã bỏ qua (unknown column '{name}' was ignored)"
            )
        elif c.key in mapping:
            result.errors.append(
                CellError(
                    header_row,
                    name,
                    f"Cột '{name}' trùng với cột '{mapping[c.key][1]}': mỗi cột chỉ được có một lần "
                    f"(duplicate column for {c.key}; expected each column once)",
                )
            )
        else:
            mapping[c.key] = (j, name)
    missing_cols = [c for c in NOMINATION_COLUMNS if c.required and c.key not in mapping]
    for c in missing_cols:
        result.errors.append(
            CellError(
                header_row,
                c.header,
                f"Thiếu cột bắt buộc '{c.header}': cần có cột này ở dòng tiêu đề "
                f"(missing required column '{c.header}' / {c.key}; expected it in the header row)",
            )
        )

    # -- convert column by column
    values: dict[str, Any] = {}
    cell_errors: list[tuple[int, int, str, str]] = []  # (position, file column index, header, message)
    missing_positions: set[int] = set()
    unit_parse = _unit_parser(known_units)
    unrecognised_grades: list = []

    def grade_parse(raw: Any) -> tuple[str, int | None, str | None]:
        parsed = _parse_grade(raw)
        if parsed[1] is None:
            unrecognised_grades.append(raw)
        return parsed

    for key, (j, name) in mapping.items():
        c = COLUMNS_BY_KEY[key]
        col = cols[j]
        if c.kind == "text":
            vals, bad = _convert_text(col, c)
        elif c.kind == "grade":
            vals, bad = _convert_table(col, c, grade_parse, ("", None, None))
        elif c.kind == "unit":
            vals, bad = _convert_table(col, c, unit_parse, None)
        else:
            vals, bad = _convert_table(col, c, c.parser, c.default)
        values[key] = vals
        if bad:
            if c.required:
                miss = _missing_message(c)
                missing_positions.update(i for i, m in bad.items() if m is miss or m == miss)
            cell_errors.extend((i, j, name, m) for i, m in bad.items())

    # -- grade / level
    grade_vals = values.get("grade")
    if grade_vals is not None:
        given = values.get("level")
        if unrecognised_grades:
            j, name = mapping["grade"]
            gcol = cols[j]
            for i, g in enumerate(grade_vals):
                if g[1] is None and g[0] and (given is None or given[i] != "university"):
                    cell_errors.append((i, j, name, _grade_error(gcol[i])))
        derived = list(map(itemgetter(2), grade_vals))
        if given is None:
            values["level"] = derived
        else:
            values["level"] = [lv if lv is not None else d for lv, d in zip(given, derived, strict=True)]
            mismatch = [
                rownums[i]
                for i, (lv, d) in enumerate(zip(given, derived, strict=True))
                if lv is not None and d is not None and lv != d
            ]
            if mismatch:
                shown = ", ".join(map(str, mismatch[:20])) + (", …" if len(mismatch) > 20 else "")
                result.warnings.append(
                    f"{len(mismatch)} dòng có Cấp học không khớp với Lớp (dòng {shown}); đã dùng Cấp học ghi trong tệp "
                    f"({len(mismatch)} rows where the level does not match the class; the given level was kept)"
                )
        values["grade_number"] = list(map(itemgetter(1), grade_vals))
        values["grade"] = list(map(itemgetter(0), grade_vals))
        for i, g in enumerate(values["grade"]) if not all(values["grade"]) else ():
            if not g:
                values["grade"][i] = None

    eth = values.get("ethnicity")
    if eth is not None:
        values["ethnic_minority"] = list(map(_Derived(_is_minority).__getitem__, eth))

    # -- whitespace-only rows count as empty rows
    if missing_positions:
        blank_rows = {i for i in missing_positions if all(_raw_blank(col[i]) for col in cols)}
        if blank_rows:
            cell_errors = [e for e in cell_errors if e[0] not in blank_rows]
    else:
        blank_rows = set()

    # -- duplicates inside the file
    cell_errors.extend(_duplicates(values, mapping, rownums, blank_rows, n))

    cell_errors.sort(key=lambda e: (e[0], e[1]))
    result.errors.extend(CellError(rownums[i], name, msg) for i, _, name, msg in cell_errors)

    if missing_cols or n == 0:
        return result

    # -- the good rows, column by column
    drop = {e[0] for e in cell_errors} | blank_rows
    keep = [i for i in range(n) if i not in drop] if drop else None
    columns: dict[str, list] = {}
    for key in ROW_KEYS:
        v = rownums if key == "row" else values.get(key)
        if v is None:
            c = COLUMNS_BY_KEY.get(key)
            default = c.default if c is not None else (False if key == "ethnic_minority" else None)
            columns[key] = [default] * (n if keep is None else len(keep))
        else:
            columns[key] = list(v) if keep is None else [v[i] for i in keep]
    result.columns = columns
    return result


def identity_key(row: dict) -> tuple:
    """How a row identifies its student: the student code, else name + birth date + school
    (name and school compared case-insensitively after space/NFC normalisation)."""
    code = row.get("student_code")
    if code:
        return ("code", code)
    name = row.get("full_name") or ""
    school = row.get("school") or ""
    return ("name", clean_text(name).casefold(), row.get("birth_date"), clean_text(school).casefold())


def _duplicates(values, mapping, rownums, blank_rows, n):
    codes = values.get("student_code")
    names = values.get("full_name")
    dates = values.get("birth_date")
    schools = values.get("school")
    if codes is not None and None not in codes and len(set(codes)) == n:
        return []  # every row has a distinct code: nothing can be a duplicate
    if codes is None:
        codes = repeat(None, n)
    if names is None or dates is None or schools is None:
        name_keys: Iterable = repeat(None, n)
    else:
        name_keys = [
            (nm.casefold(), d, s.casefold()) if nm is not None and d is not None and s is not None else None
            for nm, d, s in zip(names, dates, schools, strict=True)
        ]
    code_col = mapping.get("student_code", (0, "Mã học sinh"))
    name_col = mapping.get("full_name", (0, "Họ và tên"))
    first_code: dict = {}
    first_name: dict = {}
    first_name_codeless: dict = {}
    out = []
    for i, (code, nk) in enumerate(zip(codes, name_keys, strict=False)):
        if i in blank_rows:
            continue
        if code is not None:
            j = first_code.setdefault(code, i)
            if j != i:
                out.append((i, code_col[0], code_col[1], _dup_message(rownums[j], "code")))
            elif nk is not None:
                j = first_name_codeless.get(nk, i)
                if j != i:
                    out.append((i, name_col[0], name_col[1], _dup_message(rownums[j], "name")))
        elif nk is not None:
            j = first_name.get(nk, i)
            if j != i:
                out.append((i, name_col[0], name_col[1], _dup_message(rownums[j], "name")))
            first_name_codeless.setdefault(nk, i)
        if nk is not None:
            first_name.setdefault(nk, i)
    return out


def _dup_message(first_row: int, by: str) -> str:
    if by == "code":
        return (
            f"Trùng mã học sinh với dòng {first_row}: mỗi học sinh chỉ được một dòng "
            f"(duplicate of row {first_row}, same student code; expected one row per student)"
        )
    return (
        f"Trùng với dòng {first_row} (cùng họ tên, ngày sinh và trường): mỗi học sinh chỉ được một dòng "
        f"(duplicate of row {first_row}, same name, birth date and school; expected one row per student)"
    )


# --------------------------------------------------------------------------- writing

_EXPORT_KEYS = tuple(c.key for c in NOMINATION_COLUMNS)
_WIDTHS = {
    "student_code": 14,
    "full_name": 26,
    "birth_date": 12,
    "gender": 10,
    "ethnicity": 10,
    "school": 34,
    "grade": 8,
    "level": 11,
    "unit": 14,
    "household": 18,
    "orphan": 8,
    "disability": 10,
    "gpa": 8,
    "academic_result": 10,
    "conduct": 11,
    "achievement": 11,
    "guardian": 24,
    "note": 30,
}
_DATE_FORMAT = "DD/MM/YYYY"


def _export_value(key: str, value: Any) -> Any:
    if value is None:
        return None
    words = VIETNAMESE_WORDS.get(key)
    if words is not None:
        return words.get(value, value) or None
    if key == "gpa":
        return float(value)
    if key == "birth_date":
        return value.date() if isinstance(value, dt.datetime) else value
    return str(value) if value != "" else None


_OOXML_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def _escape_ooxml(text: str) -> str:
    """Protect a literal "_x0041_" (readers decode it as the character U+0041) as "_x005F_x0041_"."""
    return _OOXML_ESCAPE.sub("_x005F_", text)


def write_nominations_xlsx(rows: Iterable[dict]) -> bytes:
    """Rows (as parsed, or from the database with the same keys) → an import-format .xlsx."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách")
    for idx, key in enumerate(_EXPORT_KEYS, start=1):
        ws.column_dimensions[get_column_letter(idx)].width = _WIDTHS.get(key, 12)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    header = []
    for c in NOMINATION_COLUMNS:
        cell = WriteOnlyCell(ws, value=c.header)
        cell.font = bold
        cell.fill = fill
        header.append(cell)
    ws.append(header)

    date_idx = _EXPORT_KEYS.index("birth_date")
    gpa_idx = _EXPORT_KEYS.index("gpa")
    for row in rows:
        out: list[Any] = [_export_value(k, row.get(k)) for k in _EXPORT_KEYS]
        for i, v in enumerate(out):
            if type(v) is str:
                if "_x" in v:
                    v = out[i] = _escape_ooxml(v)
                if v[:1] == "=":
                    cell = WriteOnlyCell(ws, value=v)
                    cell.data_type = "s"  # text, never a formula
                    out[i] = cell
        if out[date_idx] is not None:
            cell = WriteOnlyCell(ws, value=out[date_idx])
            cell.number_format = _DATE_FORMAT
            out[date_idx] = cell
        if out[gpa_idx] is not None:
            cell = WriteOnlyCell(ws, value=out[gpa_idx])
            cell.number_format = "0.0"
            out[gpa_idx] = cell
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_EXAMPLE_ROW = {
    "student_code": "HS0700001",
    "full_name": "Nguyễn Thị Lan",
    "birth_date": dt.date(2011, 9, 5),
    "gender": "female",
    "ethnicity": "Khmer",
    "school": "Trường THCS Đại Tâm",
    "grade": "8B",
    "level": "lower_secondary",
    "unit": "ST-MX-DT",
    "household": "poor",
    "orphan": True,
    "disability": False,
    "gpa": Decimal("8.5"),
    "academic_result": "excellent",
    "conduct": "excellent",
    "achievement": "district",
    "guardian": "Nguyễn Văn Hùng",
    "note": "Dòng ví dụ – xoá trước khi gửi",
}


def write_template_xlsx() -> bytes:
    """The import template: headers, drop-downs for coded columns, one example row,
    and a "Hướng dẫn" (instructions) sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    last = 1000
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for idx, c in enumerate(NOMINATION_COLUMNS, start=1):
        cell = ws.cell(row=1, column=idx, value=c.header)
        cell.font = bold
        cell.fill = required_fill if c.required else fill
        letter = get_column_letter(idx)
        ws.column_dimensions[letter].width = _WIDTHS.get(c.key, 12)
        value = _export_value(c.key, _EXAMPLE_ROW.get(c.key))
        ex = ws.cell(row=2, column=idx, value=value)
        if type(value) is str:
            ex.data_type = "s"
        rng = f"{letter}2:{letter}{last}"
        if c.choices:
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(c.choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=c.header,
                error=f"Chọn một giá trị trong danh sách: {', '.join(c.choices)}",
                promptTitle=c.header,
                prompt=c.hint[:250],
                showInputMessage=True,
            )
            dv.add(rng)
            ws.add_data_validation(dv)
        elif c.key == "birth_date":
            dv = DataValidation(
                type="date",
                operator="between",
                formula1="DATE(1950,1,1)",
                formula2="TODAY()",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=c.header,
                error="Nhập ngày dạng dd/mm/yyyy, từ 01/01/1950 đến hôm nay",
            )
            dv.add(rng)
            ws.add_data_validation(dv)
            for r in range(2, last + 1):
                ws.cell(row=r, column=idx).number_format = _DATE_FORMAT
        elif c.key == "gpa":
            dv = DataValidation(
                type="decimal",
                operator="between",
                formula1="0",
                formula2="10",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=c.header,
                error="Nhập số từ 0 đến 10, một chữ số thập phân (ví dụ 8.5)",
            )
            dv.add(rng)
            ws.add_data_validation(dv)
            for r in range(2, last + 1):
                ws.cell(row=r, column=idx).number_format = "0.0"
        elif c.key in ("student_code", "unit", "grade"):
            for r in range(2, last + 1):  # keep leading zeros / "9/1" as typed
                ws.cell(row=r, column=idx).number_format = "@"
    ws.freeze_panes = "A2"

    guide = wb.create_sheet("Hướng dẫn")
    guide.append(["Hướng dẫn nhập danh sách đề nghị xét học bổng"])
    guide["A1"].font = Font(bold=True, size=14)
    for line in (
        "Mỗi dòng là một học sinh/sinh viên. Dòng 1 là dòng tiêu đề, giữ nguyên tên cột.",
        "Dòng 2 là dòng ví dụ: hãy xoá hoặc ghi đè trước khi gửi.",
        "Thứ tự cột không quan trọng; cột không có trong bảng dưới đây sẽ bị bỏ qua.",
        "Cột tô màu cam là bắt buộc. Có thể gửi tệp .xlsx (trang tính đầu tiên) hoặc CSV UTF-8.",
        "Nếu có lỗi, hệ thống không nhập dòng nào và báo từng ô sai (dòng, cột, lý do).",
        "Học sinh trùng (cùng mã học sinh, hoặc cùng họ tên + ngày sinh + trường) chỉ được một dòng.",
    ):
        guide.append([line])
    guide.append([])
    guide.append(["Cột", "Bắt buộc", "Giá trị hợp lệ", "Ví dụ", "Tên khác được chấp nhận"])
    for cell in guide[guide.max_row]:
        cell.font = bold
        cell.fill = fill
    for c in NOMINATION_COLUMNS:
        example = _export_value(c.key, _EXAMPLE_ROW.get(c.key))
        if isinstance(example, dt.date):
            example = f"{example:%d/%m/%Y}"
        guide.append([c.header, "Có" if c.required else "Không", c.hint, example, ", ".join((c.key, *c.aliases))])
    for letter, width in zip("ABCDE", (22, 10, 70, 24, 36), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
