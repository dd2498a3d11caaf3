"""The pure builders: order, groups, subtotals, chunks; xlsx and csv from plain rows."""

from __future__ import annotations

import io
import re
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from fundsvc.documents import ceremony


def row(i, name, school="Trường A", unit=("U1", "Xã Một", [1, 2]), grade="6A", amount=1_000_000):
    return {
        "award_id": i,
        "full_name": name,
        "birth_date": date(2012, 1, 1),
        "grade": grade,
        "grade_number": int(grade[0]) if grade[0].isdigit() else None,
        "school": school,
        "level": "lower_secondary",
        "tier": None,
        "amount": amount,
        "status": "approved",
        "unit_code": unit[0],
        "unit_name": unit[1],
        "unit_sort": unit[2],
    }


U2 = ("U2", "Xã Hai", [1, 3])


def test_order_and_groups():
    rows = [
        row(1, "Lê Thị Ánh"),
        row(2, "Lê Thị Anh"),
        row(3, "Đặng Văn An"),
        row(4, "Dương Văn An"),
        row(5, "Trần Văn Bình", grade="6A10"),
        row(6, "Trần Văn Bé", grade="6A2"),
        row(7, "Ngô Văn Cường", school="Trường B", amount=500_000),
        row(8, "Lý Văn Dũng", unit=U2),
    ]
    groups = ceremony.group_rows(rows)
    assert [u["code"] for u in groups["units"]] == ["U1", "U2"]
    first = groups["units"][0]
    assert [s["name"] for s in first["schools"]] == ["Trường A", "Trường B"]
    assert [r["full_name"] for r in first["schools"][0]["rows"]] == [
        "Dương Văn An",
        "Đặng Văn An",
        "Lê Thị Anh",
        "Lê Thị Ánh",
        "Trần Văn Bé",
        "Trần Văn Bình",
    ]
    assert [r["stt"] for s in first["schools"] for r in s["rows"]] == list(range(1, 8))
    assert (first["count"], first["amount"]) == (7, 6_500_000)
    assert (groups["count"], groups["amount"]) == (8, 7_500_000)


def test_class_natural_order():
    grades = ["10A1", "6A10", "6A2", "6A1", "9B", "Năm 2"]
    assert sorted(
        grades, key=lambda g: ceremony.class_sort_key(g, int(re.match(r"\d+", g)[0]) if g[0].isdigit() else None)
    ) == [
        "6A1",
        "6A2",
        "6A10",
        "9B",
        "10A1",
        "Năm 2",
    ]


def _sizes(n_units, per_unit):
    rows = []
    for u in range(n_units):
        for i in range(per_unit):
            rows.append(
                row(u * 1000 + i, f"Học Sinh {i:04d}", school=f"Trường {i // 7}", unit=(f"U{u}", f"Xã {u}", [1, u + 2]))
            )
    return rows


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 90), st.integers(1, 40))
def test_chunks_keep_every_line_once_in_order(n_units, per_unit, size):
    groups = ceremony.group_rows(_sizes(n_units, per_unit))
    items = ceremony.award_list_items(groups)
    chunks = ceremony.chunk_items(items, size)
    lines = [line for c in chunks for u in c["units"] for line in u["lines"] if not line.get("continued")]
    assert lines == [i for i in items if i["kind"] != "unit"]
    assert sum(c["pupils"] for c in chunks) == groups["count"]
    for c in chunks[:-1]:
        assert c["pupils"] <= 3 * size + per_unit  # bounded: memory per worker stays bounded
    # a unit is never cut unless it is longer than twice the chunk size
    cut_units = {u["code"] for c in chunks for u in c["units"] if u["continued"]}
    assert all(per_unit > 2 * size for _ in cut_units)


def test_viewer_rows_have_no_birth_date():
    groups = ceremony.group_rows([row(1, "Lê Văn A")])
    items = ceremony.award_list_items(groups, personal=False)
    pupil = next(i for i in items if i["kind"] == "row")
    assert "birth_date" not in pupil and "tier" not in pupil
    header = ceremony.award_list_context({"name": "R"}, {"org_name": "Hội"}, groups, personal=False)
    assert "birth_date" not in [c["key"] for c in header["columns"]]


def test_xlsx_and_csv():
    from openpyxl import load_workbook

    groups = ceremony.group_rows([row(1, "Lê Văn A"), row(2, "Trần Thị B", unit=U2, amount=2_500_000)])
    data = ceremony.award_list_xlsx(groups, lines=["Học bổng Khuyến học — năm học 2026–2027", "Đơn vị: Xã A"])
    ws = load_workbook(io.BytesIO(data)).active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0][0] == "DANH SÁCH HỌC SINH ĐƯỢC NHẬN HỌC BỔNG" and ws["A1"].font.bold
    assert [values[1][0], values[2][0]] == ["Học bổng Khuyến học — năm học 2026–2027", "Đơn vị: Xã A"]
    assert values[4][0] == "STT" and ws.freeze_panes == "A6"
    assert next(v for v in values if v[1] == "TỔNG CỘNG (2 học sinh)")[-1] == 3_500_000
    assert values[-1][1] == "Bằng chữ: Ba triệu năm trăm nghìn đồng"
    data = ceremony.award_list_csv(groups)
    assert data.startswith(b"\xef\xbb\xbf") and "Lê Văn A".encode() in data and b"01/01/2012" in data


def test_issuer_lines():
    assert ceremony.issuer_lines("Hội Khuyến học tỉnh Sóc Trăng", "Tỉnh Sóc Trăng") == (
        "",
        "Hội Khuyến học tỉnh Sóc Trăng",
    )
    assert ceremony.issuer_lines("Hội Khuyến học tỉnh Sóc Trăng", "Thành phố Sóc Trăng", "district") == (
        "Hội Khuyến học tỉnh Sóc Trăng",
        "Hội Khuyến học thành phố Sóc Trăng",
    )


def test_the_tier_column_only_when_some_award_has_a_tier():
    from openpyxl import load_workbook

    plain = ceremony.group_rows([row(1, "Lê Văn A"), row(2, "Trần Thị B")])
    tiered = ceremony.group_rows([row(1, "Lê Văn A"), {**row(2, "Trần Thị B"), "tier": "Khuyến tài"}])
    for groups, shown in ((plain, False), (tiered, True)):
        header = ceremony.award_list_context({"name": "R"}, {"org_name": "Hội"}, groups)
        assert ("tier" in [c["key"] for c in header["columns"]]) is shown
        ws = load_workbook(io.BytesIO(ceremony.award_list_xlsx(groups))).active
        assert ("Mức / diện" in next(ws.iter_rows(min_row=3, values_only=True))) is shown
        assert ("Mức / diện" in ceremony.award_list_csv(groups).decode("utf-8-sig").splitlines()[0]) is shown


def test_the_academic_year_is_said_once_in_a_title():
    assert ceremony.round_title("Học bổng Khuyến học", "2026-2027") == "Học bổng Khuyến học — năm học 2026–2027"
    for name in ("Học bổng Khuyến học năm học 2026–2027", "Học bổng Khuyến học 2026-2027"):
        assert ceremony.round_title(name, "2026-2027") == name
    header = ceremony.award_list_context(
        {"name": "Học bổng Khuyến học năm học 2026–2027", "academic_year": "2026-2027"},
        {"org_name": "Hội"},
        ceremony.group_rows([row(1, "Lê Văn A")]),
    )
    assert header["round"]["title"].count("2026–2027") == 1


def test_a_university_student_is_a_student_of_a_year_not_a_pupil_of_a_class():
    assert ceremony.pupil_line("Năm 4", "university") == "Sinh viên năm 4"
    assert ceremony.pupil_line("8B", "lower_secondary") == "Học sinh lớp 8B"
    groups = ceremony.group_rows([{**row(1, "Lê Văn A", grade="Năm 4"), "level": "university"}])
    _header, items = ceremony.certificate_contexts({"name": "R", "academic_year": "2026-2027"}, {}, groups)
    assert items[0]["pupil"] == "Sinh viên năm 4"
