"""Bank statement exports (xlsx/csv) read into plain lines: pure, no Flask, no database.

Each bank's export is recognised by its own header row (docs/bank.md); a file none of them fits can be read with
a generic mapping (the columns chosen once per account). Title rows and the account/period rows are skipped; the
opening and closing balance rows (Số dư đầu kỳ / Số dư cuối kỳ, above the header, among or after the lines) are
read into `Parsed.opening` / `Parsed.closing` and the totals rows skipped; a date left empty is the one above (banks
fill it down only on the first line of a day); a row with only a description continues the line above (a
multi-line memo exported over rows).
Every bad row is reported; a caller stores nothing unless `errors` is empty (all or nothing, as docs/import.md).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from fundsvc.students.normalize import fold
from fundsvc.uploads import Limits, UploadRefused, check_xlsx

MAX_BYTES = 10 * 1024 * 1024  # a year of a unit's statement is well under 1 MB
MAX_LINES = 50_000
MAX_AMOUNT = 10**13  # VND; more than any scholarship fund holds
EARLIEST = dt.date(2000, 1, 1)
LIMITS = Limits(max_rows=MAX_LINES + 100, max_columns=40, max_inflated_bytes=64 * 1024 * 1024)

FIELDS = ("date", "reference", "debit", "credit", "amount", "description", "balance", "counterparty_account")


@dataclass(frozen=True)
class Layout:
    bank: str
    # folded header text (Vietnamese part, before any "/English") → field
    headers: dict[str, str]


def _h(**by_field: tuple[str, ...]) -> dict[str, str]:
    return {fold(text): name for name, texts in by_field.items() for text in texts}


LAYOUTS = (
    Layout(
        "VCB",
        _h(
            date=("Ngày giao dịch",),
            reference=("Số tham chiếu",),
            debit=("Số tiền ghi nợ",),
            credit=("Số tiền ghi có",),
            balance=("Số dư",),
            description=("Mô tả",),
        ),
    ),
    Layout(
        "BIDV",
        _h(
            date=("Ngày hiệu lực",),
            reference=("Số CT",),
            debit=("Ghi nợ",),
            credit=("Ghi có",),
            balance=("Số dư",),
            description=("Nội dung giao dịch",),
        ),
    ),
    Layout(
        "VIETINBANK",
        _h(
            date=("Ngày hạch toán",),
            description=("Diễn giải",),
            debit=("Nợ",),
            credit=("Có",),
            balance=("Số dư",),
            reference=("Số giao dịch",),
        ),
    ),
    Layout(
        "AGRIBANK",
        _h(
            date=("Ngày GD",),
            reference=("Số chứng từ",),
            description=("Diễn giải",),
            debit=("Phát sinh nợ",),
            credit=("Phát sinh có",),
            balance=("Số dư",),
        ),
    ),
    Layout(
        "TECHCOMBANK",
        _h(
            date=("Ngày giao dịch",),
            counterparty_account=("Tài khoản đối tác",),
            description=("Diễn giải",),
            debit=("Nợ",),
            credit=("Có",),
            balance=("Số dư",),
            reference=("Số bút toán",),
        ),
    ),
    Layout(
        "MB",
        _h(
            reference=("Mã giao dịch",),
            date=("Ngày giao dịch",),
            debit=("Ghi nợ",),
            credit=("Ghi có",),
            balance=("Số dư",),
            description=("Nội dung chi tiết",),
        ),
    ),
)
# A summary row starts (its first non-empty cell) with one of these labels, folded; "/" begins an English label.
SUMMARY_LABELS = {
    "opening": ("so du dau ky", "so du dau", "opening balance"),
    "closing": ("so du cuoi ky", "so du cuoi", "closing balance"),
    "total": ("tong cong", "cong phat sinh", "tong phat sinh", "tong so", "total"),
}
# Every label starts with one of these letters (Vietnamese never marks S, T or C; "Opening" is English), so a cell
# starting with any other character is no label and is not folded: folding every row was most of a parse's time.
_LABEL_INITIALS = frozenset("SsTtCcOo")


class StatementRefused(ValueError):
    """The file itself cannot be read (not a workbook, too big, a formula, no known header row)."""


@dataclass
class Line:
    row: int
    date: dt.date
    amount: int
    direction: str  # "in" | "out"
    description: str
    reference: str | None = None
    balance: int | None = None
    counterparty_account: str | None = None


@dataclass
class Parsed:
    bank: str | None
    lines: list[Line] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    # The balances the file prints (Số dư đầu kỳ / cuối kỳ), None when it prints none.
    opening: int | None = None
    closing: int | None = None

    def totals(self) -> tuple[int, int]:
        """(money in, money out) over every line of the file."""
        money_in = sum(line.amount for line in self.lines if line.direction == "in")
        return money_in, sum(line.amount for line in self.lines) - money_in


def balance_gap(opening: int | None, closing: int | None, money_in: int | None, money_out: int | None) -> int | None:
    """How far the closing balance a statement prints is from its opening balance + credits − debits (0 when they
    agree); None when the file printed no opening or no closing balance (nothing to check)."""
    if opening is None or closing is None or money_in is None or money_out is None:
        return None
    return closing - (opening + money_in - money_out)


def _header_key(cell) -> str:
    # Techcombank's headers are bilingual ("Nợ/Debit", or over two lines in one cell): the Vietnamese part names it.
    return fold(re.split(r"[/\n]", str(cell or ""), maxsplit=1)[0])


def read_rows(data: bytes, filename: str) -> list[list]:
    if len(data) > MAX_BYTES:
        raise StatementRefused(f"Tệp sao kê lớn hơn {MAX_BYTES // (1024 * 1024)} MB")
    if data[:4] == b"PK\x03\x04":
        return _xlsx_rows(data)
    if filename.lower().endswith((".xlsx", ".xls")):
        raise StatementRefused("Tệp không phải là tệp .xlsx hợp lệ: hãy mở bằng Excel và lưu lại dạng .xlsx")
    try:
        text = data[3:].decode() if data.startswith(codecs.BOM_UTF8) else data.decode()
    except UnicodeDecodeError:
        raise StatementRefused("Tệp CSV không phải mã UTF-8: hãy lưu lại dạng 'CSV UTF-8'") from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return [
            row
            for _, row in zip(
                range(MAX_LINES + 100), csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), strict=False
            )
        ]
    except csv.Error:
        raise StatementRefused("Tệp CSV sai định dạng") from None


def _xlsx_rows(data: bytes) -> list[list]:
    import python_calamine

    try:
        check_xlsx(data, LIMITS)
    except UploadRefused as refused:
        raise StatementRefused(str(refused)) from None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            # A bank's export holds values only; a formula (=HYPERLINK(...)) means the file was made by hand.
            if name.startswith("xl/worksheets/") and re.search(rb"<f[ >]", archive.read(name)):
                raise StatementRefused("Tệp sao kê chứa công thức (formula): hãy dùng tệp tải từ ngân hàng")
    try:
        book = python_calamine.load_workbook(io.BytesIO(data))
        try:
            return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        finally:
            book.close()
    except Exception as exc:  # calamine raises many kinds of errors for broken files
        raise StatementRefused(f"Không đọc được tệp .xlsx ({type(exc).__name__}): hãy lưu lại bằng Excel") from None


def find_layout(rows: list[list], mapping: dict[str, str] | None = None) -> tuple[int, str | None, dict[int, str]]:
    """(header row index, bank, column → field): a bank's own layout, else the account's generic mapping."""
    for index, row in enumerate(rows[:40]):
        keys = [_header_key(c) for c in row]
        for layout in LAYOUTS:
            columns = {i: layout.headers[k] for i, k in enumerate(keys) if k in layout.headers}
            if len(set(columns.values())) == len(set(layout.headers.values())):
                return index, layout.bank, columns
        if mapping:
            wanted = {fold(v): k for k, v in mapping.items()}
            columns = {i: wanted[k] for i, k in enumerate(keys) if k in wanted}
            if len(columns) == len(wanted):
                return index, None, columns
    raise StatementRefused(
        "Không nhận ra mẫu sao kê (Vietcombank, BIDV, VietinBank, Agribank, Techcombank, MB) và tài khoản chưa có "
        "cách đọc cột riêng: hãy khai báo cột ngày, số tiền, nội dung"
    )


MAPPED_FIELDS = ("date", "amount", "debit", "credit", "description", "reference", "balance")


def mapping_errors(mapping: dict[str, str]) -> dict[str, list[str]]:
    """What is wrong with a generic mapping (field → the header text of its column): a date, a description, and
    either a signed amount or both debit and credit columns; each header named once, at most 100 characters."""
    errors: dict[str, list[str]] = {}
    for name, header in mapping.items():
        if name not in MAPPED_FIELDS:
            errors[name] = ["unknown field"]
        elif not isinstance(header, str) or not header.strip() or len(header) > 100:
            errors[name] = ["a column header of 1 to 100 characters"]
    for name in ("date", "description"):
        if name not in mapping:
            errors[name] = ["required"]
    if "amount" not in mapping and not {"debit", "credit"} <= set(mapping):
        errors["amount"] = ["required: a signed amount column, or both debit and credit"]
    if "amount" in mapping and {"debit", "credit"} & set(mapping):
        errors["amount"] = ["either a signed amount or debit/credit columns, not both"]
    folded = [fold(h) for h in mapping.values() if isinstance(h, str)]
    if len(set(folded)) != len(folded):
        errors["_schema"] = ["each column named once"]
    return errors


def parse_amount(raw) -> int | None:
    """VND as written by the banks: 1.000.000 / 1,000,000 / 1,000,000.00 / a number cell; None when empty."""
    if raw is None:
        return None
    if type(raw) is int:  # the usual number cell (bool, a subclass of int, is refused below)
        if abs(raw) >= MAX_AMOUNT:
            raise ValueError(f"số tiền '{raw}' quá lớn")
        return raw
    if isinstance(raw, str) and not raw.strip():
        return None
    if isinstance(raw, bool):
        raise ValueError("số tiền không hợp lệ")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueError(f"số tiền không hợp lệ '{raw}'")
        if not raw.is_integer():
            raise ValueError(f"số tiền '{raw}' có phần lẻ dưới một đồng")
        value = int(raw)
    else:
        value = _amount_of_text(raw)
    if abs(value) >= MAX_AMOUNT:
        raise ValueError(f"số tiền '{raw}' quá lớn")
    return value


def _amount_of_text(raw: str) -> int:
    text = _AMOUNT_NOISE.sub("", raw)
    # A separator followed by one or two digits at the end is the decimal point; every other one groups thousands.
    cents = _CENTS.fullmatch(text)
    text = _GROUPING.sub("", cents[1]) + "." + cents[2] if cents else _GROUPING.sub("", text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"số tiền không hợp lệ '{raw}'") from None
    if not value.is_finite():
        raise ValueError(f"số tiền không hợp lệ '{raw}'")
    if value != value.to_integral_value():
        raise ValueError(f"số tiền '{raw}' có phần lẻ dưới một đồng")
    return int(value)


_NOT_DIGIT = re.compile(r"\D")
_AMOUNT_NOISE = re.compile(r"(?i)\s|vnd|đ")
_CENTS = re.compile(r"(.*)[.,](\d{1,2})")
_GROUPING = re.compile(r"[.,]")
_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")


def parse_date(raw, today: dt.date) -> dt.date | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, dt.datetime):
        value = raw.date()
    elif isinstance(raw, dt.date):
        value = raw
    else:
        value = _date_of_text(str(raw).strip())
    if not EARLIEST <= value <= today + dt.timedelta(days=1):
        raise ValueError(f"ngày '{raw}' nằm ngoài khoảng 01/01/2000 đến hôm nay")
    return value


@functools.lru_cache(maxsize=4096)
def _date_of_text(text: str) -> dt.date:
    """dd/mm/yyyy (or with . or -, and a time after it); a statement repeats each day's text on many lines."""
    match = _DATE.fullmatch(text)
    if not match:
        raise ValueError(f"ngày không hợp lệ '{text}', cần dd/mm/yyyy")
    try:
        return dt.date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise ValueError(f"ngày '{text}' không tồn tại") from None


def _cell_text(raw) -> str:
    """A cell as one line of text: every run of whitespace (newlines of a multi-line cell too) one space."""
    if raw is None:
        return ""
    return " ".join(raw.split()) if isinstance(raw, str) else ("" if raw is None else " ".join(str(raw).split()))


def summary_row(row: list, skip: int | None = None) -> tuple[str, int] | None:
    """(kind, index of its label cell) when the row is a summary row: its first non-empty cell, unless that is
    column `skip` (the description: a memo "Tong cong ty..." is a transfer), starts with a label of
    SUMMARY_LABELS."""
    for index, cell in enumerate(row):
        if cell is None or cell == "":
            continue
        if index == skip or not isinstance(cell, str) or cell.lstrip()[:1] not in _LABEL_INITIALS:
            return None
        label = fold(cell)
        for kind, labels in SUMMARY_LABELS.items():
            if label.startswith(labels):
                return kind, index
        return None
    return None


def summary_amount(row: list, label_index: int) -> int | None:
    """The amount a balance row prints: in its label cell after the label ("Số dư đầu kỳ: 10.000.000"), else the
    first non-empty cell after it; None when it prints none. ValueError when that is no amount."""
    rest = re.sub(r"^[^:]*:", "", str(row[label_index])) if ":" in str(row[label_index]) else ""
    for raw in (rest, *row[label_index + 1 :]):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        return parse_amount(raw)
    return None


def parse(data: bytes, filename: str, today: dt.date, mapping: dict[str, str] | None = None) -> Parsed:
    rows = read_rows(data, filename)
    header, bank, columns = find_layout(rows, mapping)
    parsed = Parsed(bank)
    for index in range(header):
        _summary(parsed, rows[index], index + 1, None)  # a balance printed in the account block above the header
    fields = tuple(columns.items())
    description = next((i for i, name in fields if name == "description"), None)
    last_date: dt.date | None = None
    for index in range(header + 1, len(rows)):
        row, number = rows[index], index + 1
        if _summary(parsed, row, number, description):
            continue
        width = len(row)
        cells = {name: (row[i] if i < width else None) for i, name in fields}
        try:
            line = _line(cells, number, today, last_date)
        except ValueError as error:
            parsed.errors.append({"row": number, "message": f"dòng {number}: {error}"})
            continue
        if line is None:  # a description continued from the row above
            text = _cell_text(cells.get("description"))
            if parsed.lines and text:
                parsed.lines[-1].description = f"{parsed.lines[-1].description} {text}".strip()
            continue
        last_date = line.date
        parsed.lines.append(line)
        if len(parsed.lines) > MAX_LINES:
            raise StatementRefused(f"Tệp sao kê có hơn {MAX_LINES} dòng")
    if not parsed.lines and not parsed.errors:
        raise StatementRefused("Tệp sao kê không có dòng giao dịch nào")
    return parsed


def _summary(parsed: Parsed, row: list, number: int, skip: int | None) -> bool:
    """Read a summary row into `parsed` (the first opening balance, the last closing one; totals are only skipped);
    False when the row is none."""
    found = summary_row(row, skip)
    if found is None:
        return False
    kind, label_index = found
    if kind == "total":
        return True
    try:
        amount = summary_amount(row, label_index)
    except ValueError as error:
        parsed.errors.append({"row": number, "message": f"dòng {number}: số dư: {error}"})
        return True
    if kind == "opening" and parsed.opening is None:
        parsed.opening = amount
    elif kind == "closing" and amount is not None:
        parsed.closing = amount
    return True


def _line(cells: dict, number: int, today: dt.date, last_date: dt.date | None) -> Line | None:
    debit, credit = parse_amount(cells.get("debit")), parse_amount(cells.get("credit"))
    signed = parse_amount(cells.get("amount"))
    day = parse_date(cells.get("date"), today)
    if debit is None and credit is None and signed is None:
        if day is None and _cell_text(cells.get("reference")) == "":
            return None
        raise ValueError("thiếu số tiền ghi nợ hoặc ghi có")
    if signed is not None:
        amount, direction = abs(signed), "in" if signed > 0 else "out"
    elif debit and credit:
        raise ValueError("có cả số tiền ghi nợ và ghi có trên một dòng")
    else:
        amount, direction = (credit, "in") if credit else (debit, "out")
    if not amount or amount < 0:
        raise ValueError("số tiền phải lớn hơn 0")
    day = day or last_date
    if day is None:
        raise ValueError("thiếu ngày giao dịch")
    description = _cell_text(cells.get("description"))
    if len(description) > 1000:
        raise ValueError("nội dung dài quá 1000 ký tự")
    reference = _cell_text(cells.get("reference"))[:100] or None
    balance = parse_amount(cells.get("balance"))
    written = cells.get("counterparty_account")
    account = (_NOT_DIGIT.sub("", _cell_text(written)) or None) if written is not None else None
    return Line(number, day, amount, direction, description, reference, balance, account)


def dedupe_keys(lines: list[Line]) -> list[str]:
    """The key a line is recognised by on a later import: the bank's reference, else date, direction, amount,
    description and how many identical lines came before it that day (two equal transfers stay two)."""
    seen: dict[tuple, int] = {}
    keys = []
    for line in lines:
        base = (
            ("ref", line.reference, line.direction, line.amount)
            if line.reference
            else ("day", line.date.isoformat(), line.direction, line.amount, fold(line.description))
        )
        n = seen.get(base, 0)
        seen[base] = n + 1
        keys.append("|".join(map(str, (*base, n))))
    return keys
