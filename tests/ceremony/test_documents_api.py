"""Ceremony documents through the API: award list, signature sheet, certificates, xlsx, csv."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from fundsvc.documents.words import amount_in_words, format_vnd
from tests.ceremony.conftest import PUPILS, held, make_round

BASE = "/api/v1/rounds/{}/"


def url(round_id, name, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return BASE.format(round_id) + name + (f"?{q}" if q else "")


def _whole(pages):
    return " ".join(pages)


def test_award_list_pdf(admin, round_id, pdf_text):
    response = admin.get(url(round_id, "award-list.pdf"))
    assert response.status_code == 200, response.json
    assert response.mimetype == "application/pdf"
    pages = pdf_text(response.data)
    text = _whole(pages)
    for p in held():
        assert text.count(p[0]) == 1, p[0]
    assert "Bùi Văn Tèo" not in text  # cancelled
    total = sum(p[6] for p in held())
    assert f"TỔNG CỘNG ({len(held())} học sinh) {format_vnd(total)}" in text
    assert amount_in_words(total) in text
    # subtotals per school and per unit
    le_loi = sum(p[6] for p in held() if p[3] == "Trường THCS Lê Lợi")
    p2 = sum(p[6] for p in held() if p[4] == "ST-TP-P2")
    assert f"Cộng Trường THCS Lê Lợi (7 học sinh) {format_vnd(le_loi)}" in text
    assert f"Cộng Phường 2 (9 học sinh) {format_vnd(p2)}" in text
    assert "NGƯỜI LẬP BIỂU" in text and "TM. BAN THƯỜNG VỤ" in text and "CHỦ TỊCH" in text
    assert "Hội Khuyến học tỉnh Sóc Trăng".upper() in text.upper()
    assert "Học bổng Khuyến học 2024–2025" in text
    for i, page in enumerate(pages, 1):
        assert re.findall(r"Trang \d+/\d+", page) == [f"Trang {i}/{len(pages)}"]
    # Vietnamese collation inside a class: Dương < Đặng (d < đ), Anh < Ánh (ngang < sắc); classes 7A < 7A2 < 7A10.
    order = [
        text.index(n)
        for n in (
            "Dương Văn An",
            "Đặng Văn An",
            "Lê Thị Anh",
            "Lê Thị Ánh",
            "Phạm Thị Bé",
            "Nguyễn Văn Bình",
            "Trần Minh Ân",
        )
    ]
    assert order == sorted(order)
    # units in tree order (ST-TP-P2, ST-TP-P5, then ST-MX-DT), schools alphabetical inside a unit
    order = [
        text.index(n)
        for n in ("Trường TH Phường 2 (", "Trường THCS Lê Lợi (", "Trường THPT Hoàng Diệu (", "Trường THCS Đại Tâm (")
    ]
    assert order == sorted(order)
    assert "04/03/2012" in text  # birth dates for the committee/admin


@pytest.mark.parametrize("role", ["viewer", "treasurer"])
def test_only_deciding_roles_get_birth_dates(app, tree, make_api, round_id, pdf_text, role):
    viewer = make_api(app, role)
    response = viewer.get(url(round_id, "award-list.pdf"))
    assert response.status_code == 200
    text = _whole(pdf_text(response.data))
    assert "Ngày sinh" not in text and "04/03/2012" not in text and "Khuyến tài" not in text
    assert "Dương Văn An" in text
    sheet = viewer.get(url(round_id, "signature-sheet.pdf"))
    assert "Ngày sinh" not in _whole(pdf_text(sheet.data))
    rows = list(csv.reader(io.StringIO(viewer.get(url(round_id, "award-list.csv")).data.decode("utf-8-sig"))))
    assert "Ngày sinh" not in rows[0]


@pytest.mark.parametrize("role", ["committee", "treasurer"])
def test_roles_may_download(app, tree, make_api, round_id, role):
    assert make_api(app, role).get(url(round_id, "award-list.csv")).status_code == 200


def test_signature_sheet(admin, round_id, pdf_text):
    response = admin.get(url(round_id, "signature-sheet.pdf"))
    assert response.status_code == 200
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.data))
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    pages = pdf_text(response.data)
    text = _whole(pages)
    for p in held():
        assert text.count(p[0]) == 1, p[0]
    assert "Ký nhận" in text and "Ghi chú" in text and "NGƯỜI PHÁT TIỀN" in text
    # a page group per school: each school's pupils start on their own page
    schools = ["Trường THCS Lê Lợi", "Trường TH Phường 2", "Trường THPT Hoàng Diệu", "Trường THCS Đại Tâm"]
    firsts = [next(i for i, page in enumerate(pages) if f"{s} —" in page) for s in schools]
    assert len(set(firsts)) == len(schools)
    total = sum(p[6] for p in held())
    assert format_vnd(total) in text and amount_in_words(total) in text
    for i, page in enumerate(pages, 1):
        assert f"Trang {i}/{len(pages)}" in page


def test_certificates(admin, round_id, pdf_text):
    response = admin.get(url(round_id, "certificates.pdf"))
    assert response.status_code == 200
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == len(held())
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 148)
    pages = pdf_text(response.data)
    for page in pages:
        assert "GIẤY CHỨNG NHẬN" in page and "Trang" not in page
    page = next(p for p in pages if "Dương Văn An" in p)
    assert "1.000.000 đồng" in page and "Một triệu đồng" in page and "Trường THCS Lê Lợi" in page
    assert "04/03/2012" in page and "HỘI KHUYẾN HỌC TỈNH SÓC TRĂNG" in page
    assert sum("Lê Thị Ánh" in p for p in pages) == 1


def test_xlsx_totals_match_json_awards(admin, round_id):
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards").json
    expected = sum(a["amount"] for a in awards if a["status"] in ("approved", "paid"))
    response = admin.get(url(round_id, "award-list.xlsx"))
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).active
    assert ws["A1"].value == "DANH SÁCH HỌC SINH ĐƯỢC NHẬN HỌC BỔNG" and ws["A1"].font.bold
    head = next(row for row in ws.iter_rows(min_row=1, max_row=6) if row[0].value == "STT")[0].row
    assert ws.freeze_panes == f"A{head + 1}"
    header = [c.value for c in ws[head]]
    assert all(c.font.bold for c in ws[head])
    money = header.index("Số tiền (đồng)") + 1
    rows = list(ws.iter_rows(min_row=head + 1, values_only=True))
    pupils = [r for r in rows if isinstance(r[0], int)]
    assert sum(r[money - 1] for r in pupils) == expected
    totals = [r for r in rows if r[1] and str(r[1]).startswith("TỔNG CỘNG")]
    assert len(totals) == 1 and totals[0][money - 1] == expected
    assert ws.cell(row=head + 1, column=money).number_format == "#,##0"
    subtotals = {r[1]: r[money - 1] for r in rows if r[1] and str(r[1]).startswith("Cộng ")}
    assert subtotals["Cộng Trường THCS Lê Lợi (7 học sinh)"] == 7_500_000
    assert subtotals["Cộng Phường 2 (9 học sinh)"] == 8_500_000


def test_csv_has_bom_and_rows(admin, round_id):
    response = admin.get(url(round_id, "award-list.csv"))
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["STT", "Họ và tên"]
    assert sorted(r[1] for r in rows[1:]) == sorted(p[0] for p in held())
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, len(held()) + 1)]


def test_filters(admin, round_id, pdf_text):
    text = _whole(pdf_text(admin.get(url(round_id, "award-list.pdf", unit="ST-TP-P5")).data))
    assert "Lâm Quốc Đạt" in text and "Dương Văn An" not in text and "Sơn Thị Mỹ Dung" not in text
    text = _whole(pdf_text(admin.get(url(round_id, "award-list.pdf", unit="ST-TP")).data))
    assert "Lâm Quốc Đạt" in text and "Dương Văn An" in text and "Sơn Thị Mỹ Dung" not in text
    rows = list(
        csv.reader(
            io.StringIO(
                admin.get(url(round_id, "award-list.csv", school="Trường TH Phường 2")).data.decode("utf-8-sig")
            )
        )
    )
    assert [r[1] for r in rows[1:]] == ["Võ Ngọc Châu", "Huỳnh Thị Ơn"]
    sheet = _whole(pdf_text(admin.get(url(round_id, "signature-sheet.pdf", school="Trường TH Phường 2")).data))
    assert "Võ Ngọc Châu" in sheet and "Dương Văn An" not in sheet
    assert admin.get(url(round_id, "award-list.pdf", school="Không có")).status_code == 404
    assert admin.get(url(round_id, "award-list.pdf", unit="NOPE")).status_code == 422


def test_unit_user_sees_only_its_subtree(app, tree, make_api, round_id):
    other = make_api(app, "committee", unit="ST-MX")
    assert other.get(url(round_id, "award-list.csv")).status_code == 404  # the province round is outside
    admin_p5 = make_api(app, "admin")
    assert admin_p5.get(url(round_id, "award-list.csv", unit="ST-MX")).status_code == 200


def test_not_approved_is_409(admin, app, tree):
    from fundsvc.extensions import db

    draft = make_round(db.session, PUPILS[:2], status="allocated", academic_year="2025-2026")
    response = admin.get(url(draft.id, "award-list.pdf"))
    assert response.status_code == 409 and response.json["code"] == 409
    assert admin.get(url(999999, "award-list.pdf")).status_code == 404


def test_cache_reused_then_rebuilt_after_an_award_changes(admin, round_id, pdf_text, _cache_dir):
    first = admin.get(url(round_id, "award-list.pdf"))
    assert first.headers["X-Document-Cache"] == "miss"
    again = admin.get(url(round_id, "award-list.pdf"))
    assert again.headers["X-Document-Cache"] == "hit" and again.data == first.data
    files = list(_cache_dir.rglob("award-list-*.pdf"))
    assert len(files) == 1 and files[0].read_bytes() == first.data
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards").json
    target = next(a for a in awards if a["full_name"] == "Dương Văn An")
    assert admin.post(f"/api/v1/awards/{target['id']}/cancel", {"reason": "Chuyển trường"}).status_code == 200
    rebuilt = admin.get(url(round_id, "award-list.pdf"))
    assert rebuilt.headers["X-Document-Cache"] == "miss"
    assert "Dương Văn An" not in _whole(pdf_text(rebuilt.data))
    files = list(_cache_dir.rglob("award-list-*.pdf"))
    assert len(files) == 1 and files[0].read_bytes() == rebuilt.data  # the stale copy is gone
