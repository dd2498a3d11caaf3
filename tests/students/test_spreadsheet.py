"""Nomination spreadsheet parsing / writing (pure layer, no database)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from decimal import Decimal

import openpyxl
import pytest

from fundsvc.messages import Message
from fundsvc.students.spreadsheet import (
    NOMINATION_COLUMNS,
    ROW_KEYS,
    CellError,
    parse_nominations,
    write_nominations_xlsx,
    write_template_xlsx,
)
from tests.conftest import SHARED_DATA as SHARED

SAMPLE = (SHARED / "nominations_sample.csv").read_bytes()
UNITS = {u["code"] for u in json.loads((SHARED / "units_example.json").read_text(encoding="utf-8"))}

HEADER = ["Mã học sinh", "Họ và tên", "Ngày sinh", "Trường", "Lớp", "Mã đơn vị", "Hoàn cảnh gia đình", "Điểm TB"]


def make_csv(rows, header=HEADER, delimiter=",", bom=False) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    return codecs.BOM_UTF8 + data if bom else data


def make_xlsx(rows, header=HEADER) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def strip_row(rows):
    return [{k: v for k, v in r.items() if k != "row"} for r in rows]


# --------------------------------------------------------------------------- the sample file


def test_sample_parses_into_120_rows_without_errors():
    parsed = parse_nominations(SAMPLE, "nominations_sample.csv", known_units=UNITS)
    assert parsed.errors == []
    assert parsed.warnings == []
    assert len(parsed.rows) == 120
    assert [r["row"] for r in parsed.rows] == list(range(2, 122))
    for r in parsed.rows:
        assert tuple(r) == ROW_KEYS


def test_sample_rows_field_by_field():
    raw = {r["Mã học sinh"]: r for r in csv.DictReader(io.StringIO(SAMPLE.decode("utf-8-sig")))}
    rows = {r["student_code"]: r for r in parse_nominations(SAMPLE, "s.csv").rows}

    r = rows[
        "HS0700001"
    ]  # HS0700001,Phan Thanh Bình,03/01/2011,Nam,Kinh,Trường THCS Đại Tâm,8B,THCS,ST-MX-DT,Hộ nghèo,,,7.0,Khá,Tốt,,
    assert r == {
        "row": 2,
        "student_code": "HS0700001",
        "full_name": "Phan Thanh Bình",
        "birth_date": dt.date(2011, 1, 3),
        "gender": "male",
        "ethnicity": "Kinh",
        "ethnic_minority": False,
        "school": "Trường THCS Đại Tâm",
        "grade": "8B",
        "grade_number": 8,
        "level": "lower_secondary",
        "unit": "ST-MX-DT",
        "household": "poor",
        "orphan": False,
        "disability": False,
        "gpa": Decimal("7.0"),
        "academic_result": "good",
        "conduct": "excellent",
        "achievement": "none",
        "guardian": None,
        "note": None,
    }
    r = rows[
        "HS0700008"
    ]  # ...,26/11/2006,Nữ,Kinh,Đại học Sư phạm TP.HCM,Năm 1,Đại học,ST-TP-P2,Khó khăn,,,8.0,Tốt,Tốt,,
    assert (r["birth_date"], r["gender"], r["grade"], r["grade_number"], r["level"], r["household"]) == (
        dt.date(2006, 11, 26),
        "female",
        "Năm 1",
        1,
        "university",
        "hardship",
    )
    assert (r["gpa"], r["academic_result"], r["conduct"]) == (Decimal("8.0"), "excellent", "excellent")
    r = rows["HS0700035"]  # Kim Thị Sa Rê,23/04/2011,Nữ,Khmer,...,8A1,THCS,ST-MX-TD,Hộ nghèo,x,,9.2,Tốt,Khá
    assert r["full_name"] == "Kim Thị Sa Rê" and r["ethnicity"] == "Khmer" and r["ethnic_minority"] is True
    assert r["orphan"] is True and r["disability"] is False and r["grade_number"] == 8
    assert r["conduct"] == "good" and r["gpa"] == Decimal("9.2")
    r = rows["HS0700026"]
    assert r["disability"] is True and r["academic_result"] == "pass" and r["unit"] == "ST-VC-VH"
    r = rows["HS0700004"]  # ...,Hộ cận nghèo,,,6.8,Khá,Tốt,Trường,
    assert r["household"] == "near_poor" and r["achievement"] == "school"

    # every row agrees with the CSV text on the coded columns
    words = {
        "Giới tính": ("gender", {"Nam": "male", "Nữ": "female"}),
        "Cấp học": (
            "level",
            {"Tiểu học": "primary", "THCS": "lower_secondary", "THPT": "upper_secondary", "Đại học": "university"},
        ),
        "Hoàn cảnh gia đình": (
            "household",
            {"Hộ nghèo": "poor", "Hộ cận nghèo": "near_poor", "Khó khăn": "hardship", "": "none"},
        ),
        "Mồ côi": ("orphan", {"x": True, "": False}),
        "Học lực": ("academic_result", {"Tốt": "excellent", "Khá": "good", "Đạt": "pass", "Chưa đạt": "fail"}),
        "Thành tích": ("achievement", {"": "none", "Trường": "school", "Tỉnh": "province", "Huyện": "district"}),
    }
    for code, text in raw.items():
        row = rows[code]
        assert row["full_name"] == text["Họ và tên"]
        assert row["birth_date"].strftime("%d/%m/%Y") == text["Ngày sinh"]
        assert row["gpa"] == Decimal(text["Điểm TB"])
        for header, (key, mapping) in words.items():
            assert row[key] == mapping[text[header]], (code, key)


def test_sample_written_as_xlsx_parses_identically():
    parsed = parse_nominations(SAMPLE, "s.csv", known_units=UNITS)
    data = write_nominations_xlsx(parsed.rows)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == [c.header for c in NOMINATION_COLUMNS]
    assert ws["C2"].is_date and ws["C2"].value.date() == dt.date(2011, 1, 3)  # a real date cell
    again = parse_nominations(data, "export.xlsx", known_units=UNITS)
    assert again.errors == [] and again.warnings == []
    assert again.rows == parsed.rows


# --------------------------------------------------------------------------- file variants


def test_bom_and_semicolon_variants():
    plain = parse_nominations(SAMPLE, "s.csv").rows
    text = SAMPLE.decode("utf-8-sig")
    with_bom = codecs.BOM_UTF8 + text.encode()
    assert parse_nominations(with_bom, "s.csv").rows == plain
    rows = list(csv.reader(io.StringIO(text)))
    semi = make_csv(rows[1:], header=rows[0], delimiter=";", bom=True)
    assert parse_nominations(semi, "s.csv").rows == plain
    semi_nobom = make_csv(rows[1:], header=rows[0], delimiter=";")
    assert parse_nominations(semi_nobom, "s.csv").rows == plain
    crlf = text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
    lf = text.replace("\r\n", "\n").encode()
    assert parse_nominations(lf, "s.csv").rows == plain
    assert parse_nominations(crlf, "s.csv").rows == plain


def test_headers_without_diacritics_and_by_key_in_any_order():
    rows = [["HS1", "Nguyễn Văn An", "05/09/2012", "Trường THCS A", "7A", "ST-MX-DT", "Hộ nghèo", "8,5"]]
    expected = parse_nominations(make_csv(rows), "a.csv").rows
    assert len(expected) == 1 and expected[0]["gpa"] == Decimal("8.5")
    plain = ["  ma hoc sinh", "Ho va ten", "ngay sinh", "TRUONG", "lop ", "Ma don vi", "hoan canh gia dinh", "diem tb"]
    assert strip_row(parse_nominations(make_csv(rows, header=plain), "a.csv").rows) == strip_row(expected)
    keys = ["student_code", "full_name", "birth_date", "school", "grade", "unit", "household", "gpa"]
    assert strip_row(parse_nominations(make_csv(rows, header=keys), "a.csv").rows) == strip_row(expected)
    # column order is free
    order = [7, 3, 0, 6, 1, 5, 2, 4]
    shuffled = make_csv([[rows[0][i] for i in order]], header=[HEADER[i] for i in order])
    assert strip_row(parse_nominations(shuffled, "a.csv").rows) == strip_row(expected)


def test_conduct_alias_hanh_kiem():
    header = [*HEADER, "Hạnh kiểm"]
    data = make_csv([["HS1", "An", "05/09/2012", "Trường A", "7A", "U", "", "", "Khá"]], header=header)
    parsed = parse_nominations(data, "a.csv")
    assert parsed.errors == [] and parsed.rows[0]["conduct"] == "good"


def test_xlsx_cells_numbers_dates_and_artefacts():
    header = [*HEADER, "Mồ côi"]
    rows = [
        [123, "Lê  Thị   Hoa ", dt.date(2012, 9, 5), "Trường TH B", 5, "ST-MX-DT", None, 8.499999999, True],
        ["HS2", "Trần Văn Bé", dt.datetime(2010, 1, 31), "Trường THCS C", "9A", "ST-MX-DT", "ho can ngheo", 9, 1],
        ["HS3", "Võ Văn Ba", "2011-02-28", "Trường THCS C", "6A", "ST-MX-DT", "KHÓ KHĂN", "10", "không"],
    ]
    parsed = parse_nominations(make_xlsx(rows, header=header), "a.xlsx", known_units=UNITS)
    assert parsed.errors == []
    a, b, c = parsed.rows
    assert a["student_code"] == "123" and a["full_name"] == "Lê Thị Hoa"
    assert a["birth_date"] == dt.date(2012, 9, 5) and a["gpa"] == Decimal("8.5")
    assert a["grade"] == "5" and a["grade_number"] == 5 and a["level"] == "primary" and a["orphan"] is True
    assert a["household"] == "none"
    assert b["birth_date"] == dt.date(2010, 1, 31) and b["gpa"] == Decimal("9.0") and b["orphan"] is True
    assert b["household"] == "near_poor"
    assert c["birth_date"] == dt.date(2011, 2, 28) and c["gpa"] == Decimal("10.0") and c["orphan"] is False
    assert c["household"] == "hardship"


def test_two_decimal_float_in_xlsx_is_an_error():
    rows = [["HS1", "An", dt.date(2012, 9, 5), "T", "5A", "U", None, 8.55]]
    parsed = parse_nominations(make_xlsx(rows), "a.xlsx")
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "Điểm TB")]
    assert "thập phân" in parsed.errors[0].message


def test_grades_and_levels():
    header = ["Họ và tên", "Ngày sinh", "Trường", "Lớp", "Mã đơn vị", "Cấp học"]
    rows = [
        ["A", "01/01/2015", "T", "3B", "U", ""],
        ["B", "01/01/2010", "T", "12A1", "U", ""],
        ["C", "01/01/2004", "T", "Năm 2", "U", ""],
        ["D", "01/01/2004", "T", "K47-CNTT", "U", "Cao đẳng"],
        ["E", "01/01/2012", "T", "Lớp 7", "U", "thcs"],
        ["F", "01/01/2012", "T", "abc", "U", ""],
        ["G", "01/01/2012", "T", "13A", "U", "THPT"],
        ["H", "01/01/2012", "T", "9A", "U", "Mẫu giáo"],
    ]
    parsed = parse_nominations(make_csv(rows, header=header), "a.csv")
    got = {r["full_name"]: (r["grade"], r["grade_number"], r["level"]) for r in parsed.rows}
    assert got == {
        "A": ("3B", 3, "primary"),
        "B": ("12A1", 12, "upper_secondary"),
        "C": ("Năm 2", 2, "university"),
        "D": ("K47-CNTT", None, "university"),
        "E": ("Lớp 7", 7, "lower_secondary"),
    }
    assert [(e.row, e.column) for e in parsed.errors] == [(7, "Lớp"), (8, "Lớp"), (9, "Cấp học")]


# --------------------------------------------------------------------------- errors


BAD_ROWS = [
    ["HS01", "Nguyễn Văn An", "05/09/2012", "Trường A", "7A", "ST-MX-DT", "Hộ nghèo", "8.5"],  # row 2 ok
    ["HS02", "Trần Thị Bình", "31/02/2010", "Trường A", "9B", "ST-MX-DT", "", "7.0"],  # row 3 date
    ["HS03", "Lê Văn Cường", "01/03/2011", "Trường A", "8A", "ST-MX-DT", "", "11"],  # row 4 gpa
    ["HS04", "Phạm Thị Dung", "02/03/2011", "Trường A", "8A", "XX-99", "", "tám"],  # row 5 unit + gpa
    ["HS05", "", "03/03/2011", "Trường A", "8A", "ST-MX-DT", "", ""],  # row 6 missing name
    ["HS06", "Hồ Văn Em", "04/03/2011", "Trường A", "8A", "ST-MX-DT", "giàu", ""],  # row 7 household
    ["HS01", "Nguyễn Văn An", "05/09/2012", "Trường A", "7A", "ST-MX-DT", "Hộ nghèo", "8.5"],  # row 8 dup
    ["", "Võ Thị Giang", "06/03/2011", "Trường B", "6A", "ST-MX-DT", "", ""],  # row 9 ok
    ["", "võ  thị giang", "2011-03-06", "trường b", "6B", "ST-MX-DT", "", ""],  # row 10 dup by name
]


def test_errors_one_per_bad_cell_with_rows_and_columns():
    parsed = parse_nominations(make_csv(BAD_ROWS), "bad.csv", known_units=UNITS)
    got = [(e.row, e.column) for e in parsed.errors]
    assert got == [
        (3, "Ngày sinh"),
        (4, "Điểm TB"),
        (5, "Mã đơn vị"),
        (5, "Điểm TB"),
        (6, "Họ và tên"),
        (7, "Hoàn cảnh gia đình"),
        (8, "Mã học sinh"),
        (10, "Họ và tên"),
    ]
    msgs = {(e.row, e.column): e.message for e in parsed.errors}
    assert msgs[(3, "Ngày sinh")].startswith("Ngày không hợp lệ '31/02/2010'")
    assert "dd/mm/yyyy" in msgs[(3, "Ngày sinh")]
    assert "11" in msgs[(4, "Điểm TB")] and "0" in msgs[(4, "Điểm TB")] and "10" in msgs[(4, "Điểm TB")]
    assert "'tám'" in msgs[(5, "Điểm TB")]
    assert "'XX-99'" in msgs[(5, "Mã đơn vị")] and "cần mã của một đơn vị đã có" in msgs[(5, "Mã đơn vị")]
    assert "Thiếu Họ và tên" in msgs[(6, "Họ và tên")]
    assert "'giàu'" in msgs[(7, "Hoàn cảnh gia đình")] and "Hộ nghèo" in msgs[(7, "Hoàn cảnh gia đình")]
    assert "dòng 2" in msgs[(8, "Mã học sinh")] and "row" not in msgs[(8, "Mã học sinh")]
    assert "dòng 9" in msgs[(10, "Họ và tên")]
    assert [r["row"] for r in parsed.rows] == [2, 9]
    assert all(isinstance(e, CellError) for e in parsed.errors)


def test_error_column_is_the_header_as_written():
    header = ["ho va ten", "NGAY SINH", "truong", "lop", "ma don vi"]
    parsed = parse_nominations(make_csv([["An", "32/01/2010", "T", "7A", "U"]], header=header), "a.csv")
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "NGAY SINH")]


def test_without_known_units_any_code_is_accepted_and_case_is_fixed_when_known():
    rows = [["HS1", "An", "05/09/2012", "T", "7A", "st-mx-dt", "", ""]]
    assert parse_nominations(make_csv(rows), "a.csv").rows[0]["unit"] == "st-mx-dt"
    assert parse_nominations(make_csv(rows), "a.csv", known_units=UNITS).rows[0]["unit"] == "ST-MX-DT"


def test_values_rules():
    header = [
        "Họ và tên",
        "Ngày sinh",
        "Trường",
        "Lớp",
        "Mã đơn vị",
        "Giới tính",
        "Mồ côi",
        "Khuyết tật",
        "Điểm TB",
        "Học lực",
        "Rèn luyện",
        "Thành tích",
        "Dân tộc",
    ]
    ok = [
        ["A", "5/9/2012", "T", "7A", "U", "nữ", "có", "TRUE", "8,5", "Giỏi", "Trung bình", "Quốc gia", ""],
        ["B", "2012-09-05", "T", "7A", "U", "NAM", "1", "0", "10", "Yếu", "Chưa đạt", "tinh", "Khmer"],
        ["C", "05/09/2012", "T", "7A", "U", "", "false", "không", "0", "Kém", "Đạt", "Huyện", "kinh"],
    ]
    parsed = parse_nominations(make_csv(ok, header=header), "a.csv")
    assert parsed.errors == []
    a, b, c = parsed.rows
    assert (a["birth_date"], a["gender"], a["orphan"], a["disability"], a["gpa"]) == (
        dt.date(2012, 9, 5),
        "female",
        True,
        True,
        Decimal("8.5"),
    )
    assert (a["academic_result"], a["conduct"], a["achievement"], a["ethnicity"], a["ethnic_minority"]) == (
        "excellent",
        "pass",
        "national",
        None,
        False,
    )
    assert (b["gender"], b["orphan"], b["disability"], b["gpa"], b["academic_result"], b["conduct"]) == (
        "male",
        True,
        False,
        Decimal("10.0"),
        "fail",
        "fail",
    )
    assert b["achievement"] == "province" and b["ethnic_minority"] is True
    assert (c["gender"], c["orphan"], c["disability"], c["gpa"], c["academic_result"], c["conduct"]) == (
        None,
        False,
        False,
        Decimal("0.0"),
        "fail",
        "pass",
    )
    assert c["ethnic_minority"] is False

    bad = [
        ["D", "05/09/12", "T", "7A", "U", "Khác", "có lẽ", "", "8.55", "Tuyệt", "Kém", "Xã", ""],
        ["E", "01/01/1900", "T", "7A", "U", "", "", "", "-1", "", "", "", ""],
        [
            "F",
            (dt.date.today() + dt.timedelta(days=3)).strftime("%d/%m/%Y"),
            "T",
            "7A",
            "U",
            "",
            "",
            "",
            "1e1",
            "",
            "",
            "",
            "",
        ],
    ]
    parsed = parse_nominations(make_csv(bad, header=header), "a.csv")
    assert [(e.row, e.column) for e in parsed.errors] == [
        (2, "Ngày sinh"),
        (2, "Giới tính"),
        (2, "Mồ côi"),
        (2, "Điểm TB"),
        (2, "Học lực"),
        (2, "Rèn luyện"),
        (2, "Thành tích"),
        (3, "Ngày sinh"),
        (3, "Điểm TB"),
        (4, "Ngày sinh"),
        (4, "Điểm TB"),
    ]
    assert parsed.rows == []
    for e in parsed.errors:  # in Vietnamese only, saying what is expected; the English is the catalogue's
        assert isinstance(e.message, Message) and "cần" in e.message and "expected" not in e.message


def test_missing_required_column_is_one_error_on_row_1():
    header = ["Họ và tên", "Trường", "Lớp", "Mã đơn vị"]
    parsed = parse_nominations(make_csv([["A", "T", "7A", "U"], ["B", "T", "7A", "U"]], header=header), "a.csv")
    assert [(e.row, e.column) for e in parsed.errors] == [(1, "Ngày sinh")]
    assert "Ngày sinh" in parsed.errors[0].message
    assert parsed.rows == []


def test_unknown_column_is_a_warning():
    header = [*HEADER, "Số điện thoại"]
    parsed = parse_nominations(
        make_csv([["HS1", "An", "05/09/2012", "T", "7A", "U", "", "", "0909"]], header=header), "a.csv"
    )
    assert parsed.errors == [] and len(parsed.rows) == 1
    assert len(parsed.warnings) == 1 and "Số điện thoại" in parsed.warnings[0]


def test_empty_rows_are_skipped_and_row_numbers_kept():
    rows = [
        ["HS1", "An", "05/09/2012", "T", "7A", "U", "", ""],
        [],
        ["", "", "", "", "", "", "", ""],
        ["  ", " ", "", "\u200b", "", "", "", ""],
        ["HS2", "Bình", "06/09/2012", "T", "7A", "U", "", "tám"],
    ]
    parsed = parse_nominations(make_csv(rows), "a.csv")
    assert [(e.row, e.column) for e in parsed.errors] == [(6, "Điểm TB")]
    assert [r["row"] for r in parsed.rows] == [2]
    rows[-1][-1] = ""
    parsed = parse_nominations(make_csv(rows), "a.csv")
    assert parsed.errors == [] and [r["row"] for r in parsed.rows] == [2, 6]
    xrows = [r + [None] * (8 - len(r)) for r in rows]
    parsed = parse_nominations(make_xlsx(xrows), "a.xlsx")
    assert parsed.errors == [] and [r["row"] for r in parsed.rows] == [2, 6]


def test_file_level_problems():
    assert parse_nominations(b"", "a.csv").errors[0].row == 1
    assert "UTF-8" in parse_nominations(b"H\xe0 N\xf4i\nAn\n", "a.csv").errors[0].message
    assert ".xls" in parse_nominations(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls").errors[0].message
    assert parse_nominations(b"not a zip", "a.xlsx").errors[0].row == 1


def test_text_is_normalised_nfc_and_spaces():
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Nguyễn  Thị\tHoà ")
    rows = [["HS1", " " + decomposed, "05/09/2012", "Trường\u200b  A", "7A", "U", "", ""]]
    r = parse_nominations(make_csv(rows), "a.csv").rows[0]
    assert r["full_name"] == "Nguyễn Thị Hoà" == unicodedata.normalize("NFC", r["full_name"])
    assert r["school"] == "Trường A"


# --------------------------------------------------------------------------- writing


def test_export_never_writes_formulas():
    parsed = parse_nominations(make_csv([["=1+1", '=HYPERLINK("x")', "05/09/2012", "T", "7A", "U", "", ""]]), "a.csv")
    data = write_nominations_xlsx(parsed.rows)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws["A2"].data_type == "s" and ws["B2"].data_type == "s"
    assert parse_nominations(data, "a.xlsx").rows == parsed.rows


def test_template_opens_with_validations_and_an_example_row():
    data = write_template_xlsx()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Danh sách", "Hướng dẫn"]
    ws = wb["Danh sách"]
    assert [c.value for c in ws[1]] == [c.header for c in NOMINATION_COLUMNS]
    validations = ws.data_validations.dataValidation
    by_column = {}
    for dv in validations:
        for rng in str(dv.sqref).split():
            by_column[
                ws.cell(1, openpyxl.utils.column_index_from_string(rng.split(":")[0].rstrip("0123456789"))).value
            ] = dv
    for header in (
        "Giới tính",
        "Cấp học",
        "Hoàn cảnh gia đình",
        "Mồ côi",
        "Khuyết tật",
        "Học lực",
        "Rèn luyện",
        "Thành tích",
    ):
        assert by_column[header].type == "list", header
    assert "Nam" in by_column["Giới tính"].formula1 and "Nữ" in by_column["Giới tính"].formula1
    guide = wb["Hướng dẫn"]
    assert guide.max_row > len(NOMINATION_COLUMNS)
    # The example row reads as a valid pupil, but it is the template's own: skipped, with a warning that says so.
    parsed = parse_nominations(data, "template.xlsx")
    assert parsed.errors == [] and parsed.rows == []
    assert parsed.warnings == ["Dòng 2 là dòng ví dụ của mẫu nhập: đã bỏ qua"]


PUPIL = ["HS1", "Nguyễn Văn An", "05/09/2012", "Trường THCS A", "7A", "ST-MX-DT", "Hộ nghèo", "8,5"]


def test_a_school_signature_block_under_the_table_is_skipped():
    rows = [PUPIL, ["HS2", "Trần Văn Bình", *PUPIL[2:]]]
    data = make_csv(rows).rstrip(b"\r\n")
    footer = [
        ",,Ngày 15 tháng 9 năm 2024,,,",
        "Người lập biểu,,,Hiệu trưởng,,",
        '"(Ký, ghi rõ họ tên)",,,"(Ký tên, đóng dấu)",,',
        "Nguyễn Thị Thu,,,Lê Văn Nam,,",
    ]
    data += ("\r\n" + "\r\n".join(footer) + "\r\n").encode()
    parsed = parse_nominations(data, "a.csv")
    assert parsed.errors == [] and len(parsed.rows) == 2
    assert parsed.warnings == ["Đã bỏ qua 4 dòng chữ ký dưới bảng (từ dòng 4): không phải hồ sơ học sinh"]


def test_rows_of_few_cells_without_a_signature_are_still_errors():
    data = make_csv([PUPIL]) + ",Trần Văn C,,,,,\r\n".encode()
    parsed = parse_nominations(data, "a.csv")
    assert {e.row for e in parsed.errors} == {3} and parsed.warnings == []


def test_the_header_row_found_is_named():
    data = "Danh sách đề cử học bổng\r\n\r\n".encode() + make_csv([PUPIL])
    parsed = parse_nominations(data, "a.csv")
    assert parsed.header_row == 3 and parsed.rows[0]["row"] == 4


@pytest.mark.parametrize("name", ["a.csv", "a.xlsx"])
def test_no_rows(name):
    data = make_csv([]) if name.endswith("csv") else make_xlsx([])
    parsed = parse_nominations(data, name)
    assert parsed.errors == [] and parsed.rows == []


def test_long_ragged_file_read_in_chunks():
    # Several of the parser's chunks of rows: a longer row, a shorter one and an empty one far down the file.
    rows = [[f"HS{i}", f"An {i}", "05/09/2012", "T", "7A", "U", "", "8,5"] for i in range(700)]
    rows[300] = [*rows[300], "ghi thêm"]
    rows[450] = rows[450][:6]
    rows[500] = []
    for data, name in ((make_csv(rows), "a.csv"), (make_xlsx(rows), "a.xlsx")):
        parsed = parse_nominations(data, name)
        assert parsed.errors == []
        assert [r["row"] for r in parsed.rows] == [i + 2 for i in range(700) if i != 500]
        assert parsed.rows[450]["gpa"] is None and parsed.rows[449]["gpa"] == Decimal("8.5")
        assert any("Cột thứ 9" in w for w in parsed.warnings)
    rows[600][1] = "x" * 200_000  # longer than the csv module's field limit: a malformed file
    bad = make_csv(rows)
    assert [(e.row, e.column) for e in parse_nominations(bad, "a.csv").errors] == [(1, "")]
