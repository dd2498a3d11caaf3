"""Nomination spreadsheets: parse an import file, write an export and the template.

Pure layer (no Flask, no database); the format is ``docs/import.md``, its words are ``vocabulary.py`` and what a
row means (pupil identity, ethnic minority, level from the class) is ``rules.py``: this module is the mechanics.

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
values, so each distinct raw value is converted once (``_convert_table``, whose cell-by-cell reference is
``_convert_plain``) and the column is mapped through the resulting table with C-level ``map``; free-text columns
go through ``normalize.clean_column``.  ``tests/students/test_rules.py`` checks the whole parse against a plain
row-by-row reference parse.  A 100,000-row file costs about as much again as the bare csv / calamine read (see
``bench/import.py``).
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
from itertools import chain, compress, islice, repeat
from operator import itemgetter
from typing import Any

from ..memory import PerValue, gc_paused
from ..messages import Message
from . import rules
from .normalize import cell_text, clean_column, clean_text, fold
from .vocabulary import (
    COLUMNS_BY_KEY,
    EXAMPLE_ROW_NOTE,
    GPA_MAX,
    MIN_BIRTH_DATE,
    NOMINATION_COLUMNS,
    PUPIL_MIN_CELLS,
    ROW_KEYS,
    SIGNATURE_WORDS,
    VIETNAMESE_WORDS,
    Column,
)

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
    "converter",
    "grade_error",
    "missing_message",
    "parse_nominations",
    "write_nominations_xlsx",
    "write_template_xlsx",
]


# --------------------------------------------------------------------------- API types


class CellValueError(ValueError):
    """Raised by a column's converter; ``exc.args[0]`` is the user-facing message (a Message)."""


@dataclass(frozen=True)
class CellError:
    row: int  # as the spreadsheet shows it
    column: str  # the header as written in the file (Vietnamese header if the column is missing)
    message: str


@dataclass
class ParsedSheet:
    errors: list[CellError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The good rows column by column: every key of ROW_KEYS → one value per good row, in file order.
    # The import reads these directly; ``rows`` (the same rows as dicts) is only built when asked for.
    columns: dict[str, list] = field(default_factory=dict)
    header_row: int | None = None  # where the header was found, as the spreadsheet numbers rows

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


_ROW_TEMPLATE = dict.fromkeys(ROW_KEYS)
_ONE_DECIMAL = Decimal("0.1")


# --------------------------------------------------------------------------- converters: one non-blank cell


def _shown(raw: Any) -> str:
    s = cell_text(raw)
    return s if len(s) <= 60 else s[:57] + "…"


def _text(raw: Any) -> str:
    return clean_text(cell_text(raw))


def _coded(c: Column) -> Callable[[Any], Any]:
    """A coded column's converter: the folded cell looked up in the column's words."""
    get = c.words.get
    expected_vi, expected_en = c.expected

    def convert(raw: Any) -> Any:
        value = get(fold(cell_text(raw)))
        if value is None:
            raise CellValueError(
                Message(
                    "%(header)s không hợp lệ '%(value)s': cần %(expected)s",
                    header=c.header,
                    name_en=c.name_en,
                    value=_shown(raw),
                    expected=expected_vi,
                    expected_en=expected_en,
                )
            )
        return value

    return convert


def _parse_date(raw: Any) -> dt.date:
    value = _as_date(raw)
    if value is None:
        raise CellValueError(Message("Ngày không hợp lệ '%(value)s': cần dạng dd/mm/yyyy", value=_shown(raw)))
    if value < MIN_BIRTH_DATE or value > dt.date.today():
        raise CellValueError(
            Message(
                "Ngày sinh ngoài khoảng hợp lệ '%(value)s': cần từ 01/01/1950 đến hôm nay", value=f"{value:%d/%m/%Y}"
            )
        )
    return value


def _as_date(raw: Any) -> dt.date | None:
    """A date cell, or the date a text cell writes as dd/mm/yyyy, d/m/yyyy or yyyy-mm-dd; None for anything else."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    s = raw.strip() if type(raw) is str else ""
    if len(s) == 10 and s[2] == "/" and s[5] == "/":
        # dd/mm/yyyy: the common case, validated by the C-level ISO parser
        try:
            return dt.date.fromisoformat(f"{s[6:]}-{s[3:5]}-{s[:2]}")
        except ValueError:
            pass  # d/m/yyyy with spaces, or no such day: told apart below
    for sep in "/-":
        if sep in s:
            parts = s.split(sep)
            if len(parts) != 3:
                return None
            d, m, y = parts if sep == "/" else parts[::-1]
            if 1 <= len(d) <= 2 and 1 <= len(m) <= 2 and len(y) == 4:
                return _make_date(s, y, m, d)
            return None
    return None


def _make_date(s: str, y: str, m: str, d: str) -> dt.date | None:
    ys, ms, ds = y.strip(), m.strip(), d.strip()
    if not (ys + ms + ds).isascii() or not (ys.isdigit() and ms.isdigit() and ds.isdigit()):
        return None
    try:
        return dt.date(int(ys), int(ms), int(ds))
    except ValueError:
        raise CellValueError(
            Message(
                "Ngày không hợp lệ '%(value)s': ngày này không tồn tại, cần một ngày có thật dạng dd/mm/yyyy",
                value=_shown(s),
            )
        ) from None


def _gpa_error(raw: Any) -> CellValueError:
    return CellValueError(
        Message("Điểm TB không hợp lệ '%(value)s': cần một số từ 0 đến 10, ví dụ 8.5 hoặc 8,5", value=_shown(raw))
    )


def _gpa_number(raw: Any) -> Decimal:
    """The number a GPA cell holds, exactly as written (8,5 → 8.5; a float cell by its one-decimal value)."""
    t = type(raw)
    if t is str:
        s = raw.strip().replace(",", ".")
        if not (s.isascii() and s.replace(".", "", 1).isdigit()):
            raise _gpa_error(raw)
        try:
            return Decimal(s)
        except InvalidOperation:  # pragma: no cover - guarded above
            raise _gpa_error(raw) from None
    if t is int:
        return Decimal(raw)
    if t is not float or not math.isfinite(raw):
        raise _gpa_error(raw)
    r = round(raw, 1)
    if abs(raw - r) > 1e-6:  # 8.55 is two decimals; 8.4999999999 is a float artefact of 8.5
        return Decimal(repr(raw))
    return Decimal(f"{r:.1f}")


def _parse_gpa(raw: Any) -> Decimal:
    value = _gpa_number(raw)
    if value < 0 or value > GPA_MAX:
        raise CellValueError(Message("Điểm TB ngoài khoảng '%(value)s': cần một số từ 0 đến 10", value=_shown(raw)))
    q = value.quantize(_ONE_DECIMAL)
    if q != value:
        raise CellValueError(
            Message("Điểm TB '%(value)s' có quá một chữ số thập phân: cần dạng 8.5", value=_shown(raw))
        )
    return q


def _parse_grade(raw: Any) -> tuple[str, int | None, str | None]:
    """The class as written, and the grade number and level the rule reads from it."""
    text = _text(raw)
    return (text, *rules.derive_grade(text))


def grade_error(raw: Any) -> Message:
    """What is said of a class ``rules.grade_accepted`` refuses (in a file's row, or a nomination's correction)."""
    return Message(
        "Lớp không hợp lệ '%(value)s': cần dạng 9A, 9, 12A1 (lớp 1–12) hoặc Năm 2 (sinh viên)", value=_shown(raw)
    )


def _unit_parser(known_units: Container[str] | None) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        code = "".join(_text(raw).split())
        if known_units is None or code in known_units:
            return code
        upper = code.upper()
        if upper != code and upper in known_units:
            return upper
        raise CellValueError(
            Message("Mã đơn vị không tồn tại '%(value)s': cần mã của một đơn vị đã có", value=_shown(raw))
        )

    return parse


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "date": _parse_date,
    "number": _parse_gpa,
    "grade": _parse_grade,
    "unit": _unit_parser(None),
}


def converter(c: Column, known_units: Container[str] | None = None) -> Callable[[Any], Any]:
    """Column ``c``'s converter of one non-blank cell: stored value, or ``CellValueError`` with the message."""
    if c.kind == "coded":
        return _coded(c)
    if c.kind == "unit" and known_units is not None:
        return _unit_parser(known_units)
    return _CONVERTERS[c.kind]


def _build_header_index() -> dict[str, Column]:
    index: dict[str, Column] = {}
    for c in NOMINATION_COLUMNS:
        for name in (c.header, c.key, *c.aliases):
            f = fold(name)
            assert index.get(f, c) is c, f"header {name!r} is ambiguous"
            index[f] = c
    return index


_HEADER_INDEX = _build_header_index()
_COLUMN_CONVERTERS = {c.key: converter(c) for c in NOMINATION_COLUMNS}


# --------------------------------------------------------------------------- reading files


class _FileProblem(Exception):
    """The file cannot be read; ``args[0]`` is the message (a Message, or an upload check's text)."""


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
            Message(
                "Tệp Excel 97-2003 (.xls) hoặc tệp có mật khẩu không được hỗ trợ: hãy lưu lại dạng .xlsx hoặc CSV UTF-8"
            )
        )
    if ext in _XLSX_EXTS:
        raise _FileProblem(Message("Tệp không phải là tệp .xlsx hợp lệ: hãy mở bằng Excel và lưu lại dạng .xlsx"))
    return _read_csv(data), 1


def _read_xlsx(data: bytes) -> tuple[Iterator[list[list]], int]:
    import python_calamine

    from fundsvc.uploads import UploadRefused, check_xlsx

    try:
        check_xlsx(data)  # before calamine, which would build the whole rectangle a cell reference implies
    except UploadRefused as refused:
        raise _FileProblem(refused.args[0]) from None
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
            Message("Không đọc được tệp .xlsx (%(error)s): hãy mở bằng Excel và lưu lại", error=type(exc).__name__)
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
        raise _FileProblem(Message("Tệp CSV không phải mã UTF-8: trong Excel hãy chọn Lưu thành 'CSV UTF-8'")) from None
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
                raise _FileProblem(Message("Tệp CSV có hơn %(n)s dòng: hãy chia thành nhiều tệp", n=MAX_ROWS))
            for record in chunk:
                if len(record) > MAX_COLUMNS and any(record[MAX_COLUMNS:]):
                    raise _FileProblem(
                        Message("Tệp CSV có dòng hơn %(n)s cột có dữ liệu: tối đa %(n)s cột", n=MAX_COLUMNS)
                    )
            yield chunk
    except csv.Error as exc:
        raise _FileProblem(Message("Tệp CSV bị lỗi định dạng: %(error)s", error=str(exc))) from None


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


# --------------------------------------------------------------------------- parsing: whole columns


_BLANK_STR = {"": None}


def _raw_blank(v: Any) -> bool:
    return v is None or (type(v) is str and not clean_text(v))


def missing_message(c: Column) -> Message:
    """What is said of an empty cell in a required column (in a file's row, or a nomination's correction)."""
    name_en = c.name_en or c.key.replace("_", " ")
    return Message("Thiếu %(header)s: ô này bắt buộc phải có giá trị", header=c.header, name_en=name_en)


def _convert_text(col: list, c: Column) -> tuple[list, dict[int, str]]:
    """A free-text column: ``clean_text`` of every cell (``clean_column``), blank cells as None."""
    try:
        cleaned, maybe_empty = clean_column(col)
    except TypeError:  # an .xlsx column with numbers/dates in it
        cleaned, maybe_empty = clean_column([v if type(v) is str else cell_text(v) for v in col])
    bad: dict[int, str] = {}
    if maybe_empty and "" in cleaned:
        if c.required:
            msg = missing_message(c)
            bad = {i: msg for i, v in enumerate(cleaned) if not v}
        cleaned = list(map(_BLANK_STR.get, cleaned, cleaned))
    return cleaned, bad


def _convert_cell(raw: Any, convert, default: Any, placeholder: Any, missing: str | None) -> tuple[Any, str | None]:
    """One cell: (stored value, None), or (placeholder, the error message).

    A blank cell is the column's default, or the "missing" error for a required column.
    """
    if _raw_blank(raw):
        return (placeholder, missing) if missing else (default, None)
    try:
        return convert(raw), None
    except CellValueError as exc:
        return placeholder, exc.args[0]


def _convert_plain(col: list, c: Column, convert, placeholder: Any) -> tuple[list, dict[int, str]]:
    """The reference of ``_convert_table``: every cell converted on its own."""
    missing = missing_message(c) if c.required else None
    vals, bad = [], {}
    for i, raw in enumerate(col):
        value, message = _convert_cell(raw, convert, c.default, placeholder, missing)
        vals.append(value)
        if message is not None:
            bad[i] = message
    return vals, bad


class _Memo(dict):
    """raw cell -> stored value; a value not seen yet is converted once by ``__missing__`` (``_convert_cell``).

    ``map(memo.__getitem__, column)`` then converts a whole column at C speed, calling
    back into Python only for the first occurrence of each distinct raw value.
    """

    __slots__ = ("args", "messages", "zero_or_one")

    def __init__(self, seed, convert, default, placeholder, missing):
        super().__init__(seed)
        self.args = (convert, default, placeholder, missing)
        self.messages: dict[Any, str] = {}  # raw value -> error message
        self.zero_or_one = False  # a cell equal to 0 or 1 was seen: True, 1 and 1.0 would share a slot

    def __missing__(self, raw):
        if raw in _ZERO_ONE:
            self.zero_or_one = True
        value, message = _convert_cell(raw, *self.args)
        if message is not None:
            self.messages[raw] = message
        self[raw] = value
        return value


@functools.cache
def _seed_table(key: str) -> dict[str, Any]:
    """The usual spellings of an optional coded column, converted once per process."""
    c = COLUMNS_BY_KEY[key]
    convert = _COLUMN_CONVERTERS[key]
    table: dict[str, Any] = {"": c.default}
    for word in c.choices:
        for w in (word, word.lower(), word.upper()):
            table[w] = convert(w)
    return table


_NUMBERS = frozenset((int, float))
_ZERO_ONE = frozenset((0, 1))


def _convert_table(col: list, c: Column, convert, placeholder: Any) -> tuple[list, dict[int, str]]:
    """``_convert_plain``, converting each distinct raw value once and mapping the column through the table."""
    missing = missing_message(c) if c.required else None
    seed = _seed_table(c.key) if c.choices and not c.required else ()
    memo = _Memo(seed, convert, c.default, placeholder, missing)
    vals = list(map(memo.__getitem__, col))
    if memo.zero_or_one and bool in (types := set(map(type, col))) and not _NUMBERS.isdisjoint(types):
        # A TRUE cell and a 1 in one column share a dict slot, so the first of them decided for both (1 and 1.0
        # convert alike): cell by cell (rare).
        return _convert_plain(col, c, convert, placeholder)
    messages = memo.messages
    bad = {i: messages[v] for i, v in enumerate(col) if v in messages} if messages else {}
    return vals, bad


# --------------------------------------------------------------------------- parsing: the steps


@dataclass
class _Sheet:
    """The body of the file (every row below the header) column by column, and where it sits."""

    header: list  # the header row's cells, as long as ``cols``
    header_row: int  # as the spreadsheet shows it
    cols: list[list]
    n: int  # rows in the body, empty ones included

    @property
    def rownums(self) -> range:
        return range(self.header_row + 1, self.header_row + 1 + self.n)


@dataclass
class _Cells:
    """What the conversion found: the values by key and the bad cells."""

    values: dict[str, list] = field(default_factory=dict)
    errors: list[tuple[int, int, str, str]] = field(default_factory=list)  # (position, file column, header, message)
    missing: set[int] = field(default_factory=set)  # positions with a required cell blank

    def add(self, j: int, name: str, bad: dict[int, str]) -> None:
        self.errors.extend((i, j, name, m) for i, m in bad.items())


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


_EMPTY_FILE = Message(
    "Tệp trống: không có dòng tiêu đề; cần một dòng tiêu đề như 'Họ và tên, Ngày sinh, Trường, Lớp, Mã đơn vị' "
    "và mỗi học sinh một dòng"
)


def _read_sheet(data: bytes, filename: str, result: ParsedSheet) -> _Sheet | None:
    """The file read into columns below its header row; None (and the error in ``result``) if it cannot be."""
    try:
        chunks, first_row = _read_records(data, filename)
        records = _head(chunks)
        h = _find_header(records)
        if h is None:
            result.errors.append(CellError(1, "", _EMPTY_FILE))
            return None
        cols = _transpose(chain([records[h + 1 :]], chunks), len(records[h]))
    except _FileProblem as exc:
        result.errors.append(CellError(1, "", exc.args[0]))
        return None
    header_row = first_row + h
    if h > 0 and any(any(not _raw_blank(v) for v in r) for r in records[:h]):
        result.warnings.append(Message("Đã bỏ qua các dòng phía trên dòng tiêu đề (dòng %(row)s)", row=header_row))
    header = list(records[h]) + [""] * (len(cols) - len(records[h]))
    # Empty rows are kept: their cells are blank, so they show up as "missing" required cells and are
    # recognised (and dropped) by _blank_rows.
    return _Sheet(header, header_row, cols, len(cols[0]) if cols else 0)


def _map_headers(sheet: _Sheet, result: ParsedSheet) -> dict[str, tuple[int, str]]:
    """column key -> (index in the file, header as written); unknown and duplicate columns reported."""
    mapping: dict[str, tuple[int, str]] = {}
    for j, raw_h in enumerate(sheet.header):
        name = clean_text(cell_text(raw_h))
        if not name:
            if sheet.n and any(not _raw_blank(v) for v in set(sheet.cols[j])):
                result.warnings.append(Message("Cột thứ %(n)s không có tiêu đề, đã bỏ qua", n=j + 1))
            continue
        c = _HEADER_INDEX.get(fold(name))
        if c is None:
            result.warnings.append(Message("Cột '%(name)s' không thuộc mẫu nhập, đã bỏ qua", name=name))
        elif c.key in mapping:
            result.errors.append(
                CellError(
                    sheet.header_row,
                    name,
                    Message(
                        "Cột '%(name)s' trùng với cột '%(first)s': mỗi cột chỉ được có một lần",
                        name=name,
                        first=mapping[c.key][1],
                    ),
                )
            )
        else:
            mapping[c.key] = (j, name)
    return mapping


def _missing_columns(mapping: dict, header_row: int, result: ParsedSheet) -> bool:
    """Report every required column the header lacks; True if there is one."""
    missing = [c for c in NOMINATION_COLUMNS if c.required and c.key not in mapping]
    result.errors.extend(
        CellError(
            header_row,
            c.header,
            Message(
                "Thiếu cột bắt buộc '%(header)s': cần có cột này ở dòng tiêu đề (dòng %(row)s)",
                header=c.header,
                row=header_row,
            ),
        )
        for c in missing
    )
    return bool(missing)


_GRADE_PLACEHOLDER = ("", None, None)


def _convert_columns(sheet: _Sheet, mapping: dict, known_units: Container[str] | None) -> _Cells:
    """Every mapped column converted (a grade column to (class, grade number, level) triples)."""
    cells = _Cells()
    for key, (j, name) in mapping.items():
        c = COLUMNS_BY_KEY[key]
        col = sheet.cols[j]
        if c.kind == "text":
            vals, bad = _convert_text(col, c)
        else:
            convert = converter(c, known_units) if c.kind == "unit" else _COLUMN_CONVERTERS[key]
            placeholder = _GRADE_PLACEHOLDER if c.kind == "grade" else c.default
            vals, bad = _convert_table(col, c, convert, placeholder)
        cells.values[key] = vals
        if bad:
            if c.required:
                miss = missing_message(c)
                cells.missing.update(i for i, m in bad.items() if m == miss)
            cells.add(j, name, bad)
    return cells


def _grade_and_level(sheet: _Sheet, mapping: dict, cells: _Cells, result: ParsedSheet) -> None:
    """The grade triples split into class, grade number and level (``rules.level_of``), with the row rules:
    a class the rule cannot read (``rules.grade_accepted``), a given level its class contradicts (warned)."""
    values = cells.values
    grades = values.get("grade")
    if grades is None:
        return
    given = values.get("level") or repeat(None, sheet.n)
    classes = list(map(itemgetter(0), grades))
    numbers = list(map(itemgetter(1), grades))
    derived = list(map(itemgetter(2), grades))
    levels = values["level"] = list(map(rules.level_of, given, derived))
    if None in numbers:
        j, name = mapping["grade"]
        for i, ok in enumerate(map(rules.grade_accepted, classes, numbers, levels)):
            if not ok:
                cells.errors.append((i, j, name, grade_error(sheet.cols[j][i])))
    if "level" in mapping:
        mismatch = list(compress(sheet.rownums, map(rules.level_mismatch, given, derived)))
        _warn_level_mismatch(mismatch, result)
    values["grade_number"] = numbers
    values["grade"] = classes if all(classes) else [g or None for g in classes]


def _warn_level_mismatch(rownums: list[int], result: ParsedSheet) -> None:
    if rownums:
        shown = ", ".join(map(str, rownums[:20])) + (", …" if len(rownums) > 20 else "")
        result.warnings.append(
            Message(
                "%(n)s dòng có Cấp học không khớp với Lớp (dòng %(rows)s); đã dùng Cấp học ghi trong tệp",
                n=len(rownums),
                rows=shown,
            )
        )


def _blank_rows(sheet: _Sheet, cells: _Cells) -> set[int]:
    """Rows whose every cell is blank (whitespace only counts as blank): skipped, their errors dropped."""
    blank = {i for i in cells.missing if all(_raw_blank(col[i]) for col in sheet.cols)}
    if blank:
        cells.errors = [e for e in cells.errors if e[0] not in blank]
    return blank


def _not_pupils(sheet: _Sheet, mapping: dict, result: ParsedSheet) -> set[int]:
    """Rows that are not pupils, skipped with a warning: the template's example row, and the signature block
    schools put under their table (the rows below the last pupil's, when one of them names a signature)."""
    skipped: set[int] = set()
    rownums = sheet.rownums
    note = mapping.get("note")
    if note is not None:
        example = fold(EXAMPLE_ROW_NOTE)
        for i, raw in enumerate(sheet.cols[note[0]]):
            if type(raw) is str and fold(raw) == example:
                skipped.add(i)
                result.warnings.append(Message("Dòng %(row)s là dòng ví dụ của mẫu nhập: đã bỏ qua", row=rownums[i]))
    required = [sheet.cols[j] for key, (j, _name) in mapping.items() if COLUMNS_BY_KEY[key].required]

    def pupil_like(i: int) -> bool:
        return sum(not _raw_blank(col[i]) for col in required) >= PUPIL_MIN_CELLS and not _names_a_signature(sheet, i)

    last_pupil = next((i for i in range(sheet.n - 1, -1, -1) if pupil_like(i)), -1)
    footer = [i for i in range(last_pupil + 1, sheet.n) if any(not _raw_blank(col[i]) for col in sheet.cols)]
    if footer and any(_names_a_signature(sheet, i) for i in footer):
        skipped.update(footer)
        result.warnings.append(
            Message(
                "Đã bỏ qua %(n)s dòng chữ ký dưới bảng (từ dòng %(row)s): không phải hồ sơ học sinh",
                n=len(footer),
                row=rownums[footer[0]],
            )
        )
    return skipped


def _names_a_signature(sheet: _Sheet, i: int) -> bool:
    for col in sheet.cols:
        raw = col[i]
        if type(raw) is str and any(word in fold(raw) for word in SIGNATURE_WORDS):
            return True
    return False


def _duplicates(sheet: _Sheet, mapping: dict, cells: _Cells) -> None:
    """The rows of the file that repeat a pupil of an earlier row (``rules.file_duplicates``)."""
    values, n = cells.values, sheet.n
    codes = values.get("student_code")
    if codes is not None and None not in codes and len(set(codes)) == n:
        return  # every row has a distinct code: by the rule, nothing can be a duplicate
    names, dates, schools = values.get("full_name"), values.get("birth_date"), values.get("school")
    if names is None or dates is None or schools is None:
        name_keys: Iterable = repeat(None, n)
    else:
        name_keys = [
            rules.name_key(nm, d, s) if nm is not None and d is not None and s is not None else None
            for nm, d, s in zip(names, dates, schools, strict=True)
        ]
    columns = {
        "code": mapping.get("student_code", (0, "Mã học sinh")),
        "name": mapping.get("full_name", (0, "Họ và tên")),
    }
    rownums = sheet.rownums
    for i, first, by in rules.file_duplicates(codes or repeat(None, n), name_keys):
        j, name = columns[by]
        cells.errors.append((i, j, name, _dup_message(rownums[first], by)))


def _dup_message(first_row: int, by: str) -> Message:
    if by == "code":
        return Message("Trùng mã học sinh với dòng %(row)s: mỗi học sinh chỉ được một dòng", row=first_row)
    return Message(
        "Trùng với dòng %(row)s (cùng họ tên, ngày sinh và trường): mỗi học sinh chỉ được một dòng", row=first_row
    )


#: what a row stores for a column the file does not have: the column's default, or the rule's for no value
_ABSENT = {
    **{c.key: c.default for c in NOMINATION_COLUMNS},
    "ethnic_minority": rules.is_ethnic_minority(None),
    "grade_number": None,
}


def _good_columns(sheet: _Sheet, values: dict[str, list], drop: set[int]) -> dict[str, list]:
    """Every key of ROW_KEYS → its values in the rows not dropped, in file order."""
    keep = [i for i in range(sheet.n) if i not in drop] if drop else None
    count = sheet.n if keep is None else len(keep)
    columns: dict[str, list] = {}
    for key in ROW_KEYS:
        v = sheet.rownums if key == "row" else values.get(key)
        if v is None:
            columns[key] = [_ABSENT[key]] * count
        else:
            columns[key] = list(v) if keep is None else [v[i] for i in keep]
    return columns


def parse_nominations(data: bytes, filename: str, *, known_units: Container[str] | None = None) -> ParsedSheet:
    """Parse an import file (see the module docstring and docs/import.md).

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
    """The steps: read, map the headers, convert column by column, the row rules, the good rows."""
    result = ParsedSheet()
    sheet = _read_sheet(data, filename, result)
    if sheet is None:
        return result
    result.header_row = sheet.header_row
    mapping = _map_headers(sheet, result)
    columns_missing = _missing_columns(mapping, sheet.header_row, result)
    cells = _convert_columns(sheet, mapping, known_units)
    _grade_and_level(sheet, mapping, cells, result)
    eth = cells.values.get("ethnicity")
    if eth is not None:
        cells.values["ethnic_minority"] = list(map(PerValue(rules.is_ethnic_minority).__getitem__, eth))
    blank = _blank_rows(sheet, cells) | _not_pupils(sheet, mapping, result)
    if blank:
        cells.errors = [e for e in cells.errors if e[0] not in blank]
    _duplicates(sheet, mapping, cells)
    cells.errors.sort(key=lambda e: (e[0], e[1]))
    rownums = sheet.rownums
    result.errors.extend(CellError(rownums[i], name, msg) for i, _, name, msg in cells.errors)
    if not columns_missing and sheet.n:
        result.columns = _good_columns(sheet, cells.values, {e[0] for e in cells.errors} | blank)
    return result


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
    "note": EXAMPLE_ROW_NOTE,
}


def write_template_xlsx() -> bytes:
    """The import template: headers, drop-downs for coded columns, one example row,
    and a "Hướng dẫn" (instructions) sheet."""
    from openpyxl import Workbook

    wb = Workbook()
    _template_list(wb.active)
    _template_guide(wb.create_sheet("Hướng dẫn"))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_TEMPLATE_ROWS = 1000  # rows of the template given a drop-down or a cell format


def _template_list(ws) -> None:
    """The "Danh sách" sheet: the headers (required ones in orange), the example row, each column's check."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.title = "Danh sách"
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
        validation, number_format = _template_check(c)
        if validation is not None:
            validation.add(f"{letter}2:{letter}{_TEMPLATE_ROWS}")
            ws.add_data_validation(validation)
        if number_format is not None:
            for r in range(2, _TEMPLATE_ROWS + 1):
                ws.cell(row=r, column=idx).number_format = number_format
    ws.freeze_panes = "A2"


def _template_check(c: Column):
    """(the drop-down or range check, the cell format) the template gives column ``c``, either may be None."""
    from openpyxl.worksheet.datavalidation import DataValidation

    check = {"allow_blank": True, "showErrorMessage": True, "errorTitle": c.header}
    if c.choices:
        return DataValidation(
            type="list",
            formula1='"' + ",".join(c.choices) + '"',
            error=f"Chọn một giá trị trong danh sách: {', '.join(c.choices)}",
            promptTitle=c.header,
            prompt=c.hint[:250],
            showInputMessage=True,
            **check,
        ), None
    if c.kind == "date":
        return DataValidation(
            type="date",
            operator="between",
            formula1="DATE(1950,1,1)",
            formula2="TODAY()",
            error="Nhập ngày dạng dd/mm/yyyy, từ 01/01/1950 đến hôm nay",
            **check,
        ), _DATE_FORMAT
    if c.kind == "number":
        return DataValidation(
            type="decimal",
            operator="between",
            formula1="0",
            formula2="10",
            error="Nhập số từ 0 đến 10, một chữ số thập phân (ví dụ 8.5)",
            **check,
        ), "0.0"
    if c.key in ("student_code", "unit", "grade"):
        return None, "@"  # text: keep leading zeros / "9/1" as typed
    return None, None


_GUIDE = (
    "Mỗi dòng là một học sinh/sinh viên. Dòng 1 là dòng tiêu đề, giữ nguyên tên cột.",
    "Dòng 2 là dòng ví dụ: hãy xoá hoặc ghi đè trước khi gửi.",
    "Thứ tự cột không quan trọng; cột không có trong bảng dưới đây sẽ bị bỏ qua.",
    "Cột tô màu cam là bắt buộc. Có thể gửi tệp .xlsx (trang tính đầu tiên) hoặc CSV UTF-8.",
    "Nếu có lỗi, hệ thống không nhập dòng nào và báo từng ô sai (dòng, cột, lý do).",
    "Học sinh trùng (cùng mã học sinh, hoặc cùng họ tên + ngày sinh + trường) chỉ được một dòng.",
)


def _template_guide(guide) -> None:
    """The "Hướng dẫn" sheet: how to fill the list, and every column with its accepted values."""
    from openpyxl.styles import Alignment, Font, PatternFill

    guide.append(["Hướng dẫn nhập danh sách đề nghị xét học bổng"])
    guide["A1"].font = Font(bold=True, size=14)
    for line in _GUIDE:
        guide.append([line])
    guide.append([])
    guide.append(["Cột", "Bắt buộc", "Giá trị hợp lệ", "Ví dụ", "Tên khác được chấp nhận"])
    for cell in guide[guide.max_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
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
