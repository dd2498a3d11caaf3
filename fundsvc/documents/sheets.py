"""The layout every list taken away as a spreadsheet shares: the award list, the donations, donors, nominations and
awards lists (pure: no Flask, no database).

A workbook has one sheet: the title (bold, larger) in row 1, the lines under it (unit, period, filters), a blank
row, then the header row (bold, shaded, centred, frozen), the rows, and bold total rows where the caller puts them;
an italic note (the total in words) may follow. Money is a number formatted #,##0 (the sheet can sum it), a date a
date formatted DD/MM/YYYY; every text cell goes through `sheet_text` (no formula, no control character).

The workbook is written in openpyxl's write-only mode, row by row as the rows come: a 300,000-row list never sits
in memory (what stays is the workbook's table of distinct texts, as xlsx keeps them; bench/exports.py measures
it). The csv form is the header and the plain rows (no title, no totals), UTF-8 with a BOM so that Excel reads the
Vietnamese right, every field neutralised the same way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from .cells import sheet_text
from .words import format_date

MONEY_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"
NUMBER_FORMATS = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "decimal": "0.0"}
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Column:
    label: str
    width: float
    kind: str = "text"  # text, money, date, decimal or number: how its cells are formatted


@dataclass(frozen=True)
class Layout:
    title: str  # row 1, and the workbook's title
    columns: tuple[Column, ...]
    lines: tuple[str, ...] = ()  # under the title: the unit, the period, the filters applied
    sheet_name: str = "Danh sách"

    def aligned(self, values: dict[str, Any]) -> list[Any]:
        """A row with `values` under the columns they name by label, None elsewhere (a total, a note)."""
        unknown = set(values) - {c.label for c in self.columns}
        if unknown:
            raise KeyError(f"no such column: {sorted(unknown)}")
        return [values.get(c.label) for c in self.columns]

    @property
    def header_row(self) -> int:
        """The header's row number: after the title, its lines and a blank row."""
        return 1 + len(self.lines) + 2


@dataclass(frozen=True)
class Total:
    """A bold row (a subtotal or the total), its values aligned to the columns."""

    values: Sequence[Any]


@dataclass(frozen=True)
class Note:
    """An italic row after the table (the total in words), its values aligned to the columns."""

    values: Sequence[Any]


Row = Sequence[Any] | Total | Note


def write_xlsx(layout: Layout, rows: Iterable[Row], out: IO[bytes]) -> None:
    """The workbook of `layout` with `rows` (plain sequences, Total and Note rows) into the binary file `out`."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(layout.sheet_name)
    ws.freeze_panes = f"A{layout.header_row + 1}"
    for i, column in enumerate(layout.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = column.width
    bold, italic = Font(bold=True), Font(italic=True)
    formats = [NUMBER_FORMATS.get(column.kind) for column in layout.columns]

    def cell(value: Any, *, font=None, fmt=None, **style) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=sheet_text(value))
        if font is not None:
            c.font = font
        if fmt is not None and value is not None:
            c.number_format = fmt
        for name, setting in style.items():
            setattr(c, name, setting)
        return c

    ws.append([cell(layout.title, font=Font(bold=True, size=14))])
    for line in layout.lines:
        ws.append([cell(line, font=italic)])
    ws.append([])
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    fill = PatternFill("solid", fgColor="EEEEEE")
    ws.append([cell(c.label, font=bold, alignment=center, fill=fill) for c in layout.columns])
    for row in rows:
        if isinstance(row, Total | Note):
            font = bold if isinstance(row, Total) else italic
            ws.append([cell(v, font=font, fmt=f) for v, f in zip(row.values, formats, strict=True)])
        else:
            ws.append([cell(v, fmt=f) if f else sheet_text(v) for v, f in zip(row, formats, strict=True)])
    wb.properties.title = layout.title
    wb.properties.creator = "fundsvc"
    wb.save(out)


def write_csv(layout: Layout, rows: Iterable[Row], out: IO[bytes]) -> None:
    """The header and the plain rows of `rows` (Total and Note rows left out) as csv into `out`: UTF-8 with a BOM,
    dates dd/mm/yyyy, every field neutralised."""
    out.write(BOM)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")  # (None is written as an empty field)
    writer.writerow([sheet_text(c.label) for c in layout.columns])
    dates = [i for i, c in enumerate(layout.columns) if c.kind == "date"]
    for row in rows:
        if type(row) is Total or type(row) is Note:
            continue
        fields = list(map(sheet_text, row))
        for i in dates:
            fields[i] = format_date(fields[i])
        writer.writerow(fields)
    text.detach()  # `out` stays the caller's to close


def to_bytes(write, layout: Layout, rows: Iterable[Row]) -> bytes:
    """What `write` (write_xlsx or write_csv) writes, as bytes."""
    out = io.BytesIO()
    write(layout, rows, out)
    return out.getvalue()
