"""Spreadsheet uploads are read within limits set before reading (issue 17, findings 1, 2, 10)."""

from __future__ import annotations

import resource
import time
import zipfile
from io import BytesIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from fundsvc.uploads import (
    Limits,
    UploadRefused,
    _check_references,
    check_references_reference,
    check_xlsx,
    column_letters_of,
    column_number,
)
from tests.nominations.test_import_api import SAMPLE, upload

HEADER = ["Mã học sinh", "Họ và tên", "Ngày sinh"]


def workbook_with_cell_at(reference: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet[reference] = "x"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb(inflated_mib: int) -> bytes:
    """An xlsx-shaped zip whose sheet inflates to `inflated_mib` MiB of one repeated row (written in pieces)."""
    out = BytesIO()
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>' * 1000
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(b"<worksheet><sheetData>")
            for _ in range(inflated_mib * 1024 * 1024 // len(row)):
                part.write(row)
            part.write(b"</sheetData></worksheet>")
    return out.getvalue()


@pytest.fixture
def admin(app, tree, make_api):
    return make_api(app, "admin")


@pytest.mark.parametrize("reference", ["XFD1048576", "XFD2000", "A300000"])
def test_a_far_cell_is_refused_before_reading(admin, reference):
    data = workbook_with_cell_at(reference)
    assert len(data) < 10_000
    started = time.monotonic()
    response = upload(admin, data, name="ds.xlsx")
    assert response.status_code == 422, response.json
    assert time.monotonic() - started < 5
    assert "tối đa" in response.json["message"] + str(response.json["errors"])


def test_a_zip_bomb_is_refused_with_bounded_memory(admin):
    bomb = zip_bomb(300)
    assert len(bomb) < 3 * 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    response = upload(admin, bomb, name="ds.xlsx")
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert response.status_code == 422, response.json
    assert "MiB" in response.json["message"] + str(response.json["errors"])
    assert grown_mib < 100
    assert admin.get("/api/v1/health").status_code == 200


def test_xml_declarations_are_refused():
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet/>')
    with pytest.raises(UploadRefused, match="DTD"):
        check_xlsx(out.getvalue())


def test_a_million_columns_csv_is_refused(admin):
    data = ("a," * 1_000_000 + "b\n").encode()
    response = upload(admin, data)
    assert response.status_code == 422
    assert len(response.get_data()) < 10_000


def test_limits_and_ordinary_files():
    assert [column_number(x) for x in (b"A", b"Z", b"AA", b"XFD")] == [1, 26, 27, 16384]
    check_xlsx(workbook_with_cell_at("R500"))  # column 18, row 500: an ordinary sheet
    with pytest.raises(UploadRefused):
        check_xlsx(workbook_with_cell_at("R500"), Limits(max_rows=100))


def test_the_sample_still_imports(admin):
    assert upload(admin, SAMPLE).status_code == 200


def test_warnings_are_capped_with_a_count(admin):
    """Finding 10: ninety unknown columns make ninety warnings; the answer shows twenty and counts the rest."""
    text = SAMPLE.decode("utf-8-sig") if isinstance(SAMPLE, bytes) else SAMPLE
    lines = text.splitlines()
    extra = ",".join(f"Cột lạ {i}" for i in range(1, 81))
    widened = [lines[0] + "," + extra] + [line + "," * 80 for line in lines[1:] if line.strip()]
    response = upload(admin, ("\n".join(widened) + "\n").encode())
    assert response.status_code == 200, response.json
    warnings = response.json["warnings"]
    assert len(warnings) == 21 and "60 cảnh báo khác" in warnings[-1]


def _outcome(check, text: bytes, limits: Limits) -> str | None:
    try:
        check(text, limits)
    except UploadRefused as refused:
        return str(refused)
    return None


@given(
    references=st.lists(
        st.tuples(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=5), st.integers(0, 10**10)), max_size=40
    ),
    max_rows=st.integers(1, 300_000),
    max_columns=st.integers(1, 20_000),
)
@settings(max_examples=300, deadline=None)
def test_the_reference_check_reads_only_long_references_and_decides_as_the_rule(references, max_rows, max_columns):
    """The scan that collects only references long enough to be over a limit refuses exactly what the rule does,
    with the same message: rows and columns on, under and over the limits, a row element's bare number, five
    letters or ten digits (no reference at all for either)."""
    limits = Limits(max_rows=max_rows, max_columns=max_columns)
    near = [(column_letters_of(max_columns + d), max_rows + d) for d in (-1, 0, 1) if max_columns + d > 0]
    text = b"".join(b'<c r="%s%d" t="s">' % (letters.encode(), row) for letters, row in [*references, *near])
    assert _outcome(_check_references, text, limits) == _outcome(check_references_reference, text, limits)


def test_column_letters_of_is_column_number_backwards():
    for number in (1, 26, 27, 52, 53, 100, 702, 703, 16384):
        assert column_number(column_letters_of(number).encode()) == number
