"""An .xlsx upload inspected within limits before any spreadsheet reader sees it.

A reader builds the sheet's whole rectangle: one cell at XFD1048576 in a 2 KB file asked for 512 GiB and killed
the worker, and a zip of 1 MB can inflate to gigabytes. So the zip's entries are counted, each one is inflated in
bounded pieces (the sizes its header declares are not trusted), XML that declares a DTD or entities is refused,
and every row and cell reference is checked against the rows and columns a nomination sheet can have.
Pure: no Flask, no database.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from operator import itemgetter

from fundsvc.messages import Message

MAX_ENTRIES = 1_000
MAX_INFLATED_BYTES = 256 * 1024 * 1024
MAX_ROWS = 200_000
# docs/import.md's 18 columns, with ample room for a school's own extra columns.
MAX_COLUMNS = 100
_PIECE = 1 << 20
# A cell's or a row's reference attribute: r="BC12" or r="12".
_REFERENCE = re.compile(rb' r="([A-Z]{0,4})(\d{1,9})"')
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")


class UploadRefused(ValueError):
    """The file is over a limit, or not a workbook that can be read safely; the message says which."""


@dataclass(frozen=True)
class Limits:
    max_rows: int = MAX_ROWS
    max_columns: int = MAX_COLUMNS
    max_inflated_bytes: int = MAX_INFLATED_BYTES
    max_entries: int = MAX_ENTRIES


def column_number(letters: bytes) -> int:
    """Excel's column letters as a number: A → 1, Z → 26, AA → 27, XFD → 16384."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def column_letters_of(number: int) -> str:
    """A column number as Excel's letters: 1 → A, 26 → Z, 27 → AA, 16384 → XFD."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def check_xlsx(data: bytes, limits: Limits = Limits()) -> None:
    """Raise UploadRefused unless the workbook `data` stays within `limits` (see the module doc)."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadRefused(Message("Tệp .xlsx hỏng: hãy mở bằng Excel và lưu lại")) from None
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_entries:
            raise UploadRefused(Message("Tệp .xlsx có quá nhiều thành phần (hơn %(n)s)", n=limits.max_entries))
        inflated = 0
        for entry in entries:
            if not entry.filename.endswith((".xml", ".rels")):
                inflated += entry.file_size
                continue
            inflated = _scan(archive, entry, inflated, limits)
        if inflated > limits.max_inflated_bytes:
            raise _too_big(limits)


def _scan(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, inflated: int, limits: Limits) -> int:
    """Inflate one XML part piece by piece, checking it as it comes; returns the running inflated total."""
    sheet = entry.filename.startswith("xl/worksheets/")
    tail = b""
    try:
        with archive.open(entry) as part:
            while piece := part.read(_PIECE):
                inflated += len(piece)
                if inflated > limits.max_inflated_bytes:
                    raise _too_big(limits)
                text = tail + piece
                if any(declaration in text for declaration in _DECLARATIONS):
                    raise UploadRefused(Message("Tệp .xlsx chứa khai báo DTD/ENTITY trong XML: không được chấp nhận"))
                if sheet:
                    _check_references(text, limits)
                tail = text[-32:]  # a reference or declaration cut between two pieces is seen whole next time
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as error:
        raise UploadRefused(
            Message("Tệp .xlsx hỏng (%(error)s): hãy mở bằng Excel và lưu lại", error=type(error).__name__)
        ) from None
    return inflated


def _check_references(text: bytes, limits: Limits) -> None:
    """Every row and cell reference of `text` within the limits: `check_references_reference`'s rule, read only where
    a reference could break it. A row number with fewer digits than the limit's, or a column with fewer letters than
    the last allowed column's, is within the limits whatever it is, so the scan collects only the references long
    enough to be over: in an ordinary sheet, none, instead of a million (tests/security/test_uploads.py proves both the
    same on random references)."""
    long_rows, long_columns = _long_references(limits)
    rows = long_rows.findall(text)
    if rows:
        biggest_row = max(map(int, rows))
        if biggest_row > limits.max_rows:
            raise _too_many_rows(biggest_row, limits)
    for letters in sorted(set(long_columns.findall(text)), key=lambda x: (len(x), x)):
        if column_number(letters) > limits.max_columns:
            raise _too_many_columns(letters.decode(), limits)


@lru_cache(maxsize=8)
def _long_references(limits: Limits) -> tuple[re.Pattern, re.Pattern]:
    """The references whose row has at least as many digits as `max_rows`, and those whose column has at least as
    many letters as column `max_columns`: the only ones that can be over the limits."""
    row_digits = len(str(limits.max_rows))
    column_letters = len(column_letters_of(limits.max_columns))
    return (
        re.compile(rb' r="[A-Z]{0,4}(\d{%d,9})"' % row_digits),
        re.compile(rb' r="([A-Z]{%d,4})\d{1,9}"' % column_letters),
    )


def check_references_reference(text: bytes, limits: Limits) -> None:
    """The rule as written: the biggest row of every reference, and each distinct column, within the limits."""
    references = _REFERENCE.findall(text)
    if not references:
        return
    biggest_row = max(map(int, map(itemgetter(1), references)))
    if biggest_row > limits.max_rows:
        raise _too_many_rows(biggest_row, limits)
    for letters in sorted(set(map(itemgetter(0), references)), key=lambda x: (len(x), x)):
        if letters and column_number(letters) > limits.max_columns:
            raise _too_many_columns(letters.decode(), limits)


def _too_big(limits: Limits) -> UploadRefused:
    return UploadRefused(Message("Tệp .xlsx giải nén vượt quá %(n)s MiB", n=limits.max_inflated_bytes // (1024 * 1024)))


def _too_many_rows(row: int, limits: Limits) -> UploadRefused:
    return UploadRefused(Message("Bảng tính có dữ liệu ở dòng %(row)s: tối đa %(n)s dòng", row=row, n=limits.max_rows))


def _too_many_columns(column: str, limits: Limits) -> UploadRefused:
    return UploadRefused(
        Message("Bảng tính có dữ liệu ở cột %(column)s: tối đa %(n)s cột", column=column, n=limits.max_columns)
    )
