"""Exports write text as text (issue 17, finding 4): no formula, no control character, in any csv or xlsx."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from fundsvc.documents import ceremony
from fundsvc.documents.cells import sheet_text
from tests.ceremony.test_ceremony_pure import row

PAYLOADS = ['=HYPERLINK("http://x","click")', "=1+1", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\t=1", "\r=1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_text_is_neutralised(payload):
    assert sheet_text(payload) == "'" + payload


def test_plain_text_numbers_and_control_characters():
    assert sheet_text("Nguyễn Văn A") == "Nguyễn Văn A"
    assert sheet_text(1_000_000) == 1_000_000 and sheet_text(None) is None
    assert sheet_text("Lê\x00Văn\x1fB") == "LêVănB"
    assert sheet_text("\x00=1") == "'=1"


def _groups():
    rows = [row(i, payload, school=payload) for i, payload in enumerate(PAYLOADS, 1)]
    return ceremony.group_rows(rows)


def test_award_list_xlsx_holds_no_formula():
    ws = load_workbook(io.BytesIO(ceremony.award_list_xlsx(_groups()))).active
    cells = [cell for line in ws.iter_rows() for cell in line if isinstance(cell.value, str)]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    names = {cell.value for cell in cells}
    for payload in PAYLOADS:  # (XML turns a stored CR into a LF)
        assert "'" + payload.replace("\r", "\n") in names


def test_award_list_csv_fields_are_neutralised():
    text = ceremony.award_list_csv(_groups()).decode("utf-8-sig")
    fields = [field for line in csv.reader(io.StringIO(text)) for field in line]
    assert not [field for field in fields if field.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'=1+1" in fields
