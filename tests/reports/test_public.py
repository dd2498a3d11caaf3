"""Publishing the yearly public statement: no login to read it, no pupil's personal data, dated corrections."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date, datetime

from pypdf import PdfReader

from fundsvc.documents.words import format_date
from fundsvc.reports import charts
from tests.reports.conftest import give, pay_award, void

BIRTH = date(2013, 4, 17)
GUARDIAN = "Trần Thị Giám Hộ"
NOTE = "Cha mất sớm, mẹ làm thuê"


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _year(session):
    give(session, "ST-TP-P2", 5_000_000, on=date(2024, 1, 10), donor="Công ty TNHH Minh Phát", phone="0912000001")
    give(
        session, "ST-MX-DT", 3_000_000, on=date(2024, 4, 1), donor="Ông Lâm Bí Mật", phone="0912000002", anonymous=True
    )
    wrong = give(session, "ST-TP-P5", 900_000, on=date(2024, 5, 1), donor="Bà Ghi Nhầm", phone="0912000003")
    void(session, wrong.id)
    # The province's own gift, in its cash box: the awards below are paid from it in cash.
    give(
        session,
        "ST",
        20_000_000,
        fund="KH",
        on=date(2024, 6, 1),
        method="cash",
        donor="Ngân hàng TMCP Công Thương",
        phone="0912000004",
    )
    pay_award(
        session,
        "KH",
        "ST-TP-P2",
        1_500_000,
        on=date(2024, 9, 5),
        name="Lý Thị Hồng Nhung",
        school="Trường Tiểu học Phường 2",
        birth_date=BIRTH,
        guardian=GUARDIAN,
        household="poor",
        note=NOTE,
        tier="Vượt khó",
        level="primary",
    )
    pay_award(
        session,
        "KH",
        "ST-MX-DT",
        2_000_000,
        on=date(2024, 9, 6),
        name="Thạch Văn Sa Rết",
        school="Trường THCS Đại Tâm",
        birth_date=date(2011, 12, 2),
        guardian=GUARDIAN,
        household="near_poor",
        note=NOTE,
        tier="Khuyến tài",
        level="lower_secondary",
    )
    give(session, "ST-VC-VH", 1_000_000, on=date(2023, 12, 30))  # another year: not in 2024's statement


def test_publish_then_read_without_login(session, admin, client):
    _year(session)
    response = admin.post("/api/v1/reports/public/2024/publish?unit=ST")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["version"] == 1 and body["changes"] == []
    assert body["html"] == "/api/v1/public/statements/ST/2024.html"

    page = client.get("/api/v1/public/statements/ST/2024.html")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    pdf = client.get("/api/v1/public/statements/ST/2024.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == body["pdf_sha256"]
    assert client.get("/api/v1/public/statements/ST/2024.pdf").data == pdf.data  # stored: same bytes
    text = _pdf_text(pdf.data)

    for out in (html, text):
        assert "Nhà hảo tâm ẩn danh" in out
        assert "Bí Mật" not in out
        assert "Công ty TNHH Minh Phát" in out and "Ngân hàng TMCP Công Thương" in out
        assert "Bà Ghi Nhầm" not in out  # a voided gift is not on the honour roll
        assert "Lý Thị Hồng Nhung" in out and "Trường Tiểu học Phường 2" in out
        assert "28.000.000" in out  # 5 + 3 + 0,9 + 20 million received in 2024
        assert "3.500.000" in out  # awards paid
    assert "<svg" in html and html.count("<svg") >= 2
    assert "Thu, chi theo tháng" in text and "Học bổng theo cấp học" in text  # the SVG charts, drawn in the PDF

    listing = client.get("/api/v1/public/statements/ST/2024").get_json()
    assert listing["latest"] == 1 and listing["versions"][0]["pdf_sha256"] == body["pdf_sha256"]


def test_no_personal_data_of_pupils(session, admin, client):
    _year(session)
    assert admin.post("/api/v1/reports/public/2024/publish?unit=ST").status_code == 201
    html = client.get("/api/v1/public/statements/ST/2024.html").get_data(as_text=True)
    text = _pdf_text(client.get("/api/v1/public/statements/ST/2024.pdf").data)
    for out in (html, text):
        for secret in (
            format_date(BIRTH),
            BIRTH.isoformat(),
            "02/12/2011",
            GUARDIAN,
            NOTE,
            "near_poor",
            "Hộ nghèo",
            "Cận nghèo",
            "Giám Hộ",
            "HS0",
        ):
            assert secret not in out, secret
        assert not re.search(r"\b(poor|household|guardian|birth)\b", out, re.I)


def test_changes_show_as_a_dated_correction(session, admin, client):
    _year(session)
    first = admin.post("/api/v1/reports/public/2024/publish?unit=ST-TP").get_json()
    v1_pdf = client.get("/api/v1/public/statements/ST-TP/2024.pdf").data

    again = admin.post("/api/v1/reports/public/2024/publish?unit=ST-TP")
    assert again.status_code == 409  # nothing changed: no new version

    give(session, "ST-TP-P5", 4_000_000, on=date(2024, 11, 11), donor="Nhà sách Phương Nam", phone="0912000009")
    second = admin.post("/api/v1/reports/public/2024/publish?unit=ST-TP")
    assert second.status_code == 201
    v2 = second.get_json()
    assert v2["version"] == 2
    items = {c["item"]: (c["before"], c["after"]) for c in v2["changes"]}
    assert items["Tổng thu"] == (5_000_000, 9_000_000)  # the voided gift counts nowhere
    assert items["Đóng góp của Nhà sách Phương Nam"] == (None, 4_000_000)

    today = format_date(datetime.fromisoformat(v2["published_at"]))
    html = client.get("/api/v1/public/statements/ST-TP/2024.html").get_data(as_text=True)
    text = _pdf_text(client.get("/api/v1/public/statements/ST-TP/2024.pdf").data)
    for out in (html, text):
        assert "Đính chính ngày" in out
        assert "Nhà sách Phương Nam" in out and "9.000.000" in out and "5.000.000" in out
        assert f"Đính chính ngày {today}" in out

    # The first version stays as it was published.
    assert client.get("/api/v1/public/statements/ST-TP/2024.pdf?version=1").data == v1_pdf
    old = client.get("/api/v1/public/statements/ST-TP/2024.html?version=1").get_data(as_text=True)
    assert "Đính chính" not in old and "Nhà sách Phương Nam" not in old
    assert hashlib.sha256(v1_pdf).hexdigest() == first["pdf_sha256"]


def test_unpublished_and_bad_requests(session, admin, client):
    assert client.get("/api/v1/public/statements/ST/2024.html").status_code == 404
    assert client.get("/api/v1/public/statements/NOPE/2024.pdf").status_code == 404
    assert admin.post("/api/v1/reports/public/2999/publish?unit=ST").status_code == 422
    assert admin.post("/api/v1/reports/public/2024/publish?unit=NOPE").status_code == 422
    assert admin.post("/api/v1/reports/public/2024/publish").status_code == 422


def test_charts_escape_text_and_are_deterministic():
    svg = charts.hbar_chart([("<script>alert(1)</script>", 5), ('Xã "A" & B', 0)], title="T<i>", counts=[1, 0])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&quot;A&quot; &amp; B" in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    months = [{"month": m, "in": m * 1_000_000, "out": 0} for m in range(1, 13)]
    one = charts.monthly_chart(months, title="Thu", keys=[("in", "Tiền thu"), ("out", "Chi")])
    assert one == charts.monthly_chart(months, title="Thu", keys=[("in", "Tiền thu"), ("out", "Chi")])
    assert one.count("<rect") >= 24
    assert charts.money_short(1_250_000) == "1,25 triệu" and charts.money_short(3_500_000_000) == "3,5 tỷ"
    assert charts.money_short(500_000) == "500 nghìn" and charts.money_short(-2_000) == "-2 nghìn"
    assert charts.axis_step(0) == 1 and charts.axis_step(9_000_000) == 5_000_000


def test_a_year_not_closed_is_published_as_an_interim_statement(session, admin, client):
    _year(session)
    admin.post("/api/v1/reports/public/2024/publish?unit=ST")
    interim = _pdf_text(client.get("/api/v1/public/statements/ST/2024.pdf").data)
    assert "Số dư đến ngày 31/12/2024" in interim and "tạm tính" in interim and "Số dư cuối năm" not in interim
    # Once the province's December is closed the statement is final.
    month = date(2023, 1, 1)
    while month <= date(2024, 12, 1):
        assert admin.post(f"/api/v1/units/ST/periods/{month:%Y-%m}/close").status_code == 200
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    assert admin.post("/api/v1/reports/public/2024/publish?unit=ST").status_code in (201, 409)
    final = _pdf_text(client.get("/api/v1/public/statements/ST/2024.pdf").data)
    assert "Số dư cuối năm (31/12/2024)" in final


def test_a_gift_recorded_while_a_statement_is_computed_is_answered_without_waiting(session, admin, app, monkeypatch):
    """Publishing computes and renders outside the write transaction: a gift recorded meanwhile, by another
    request on its own connection, is answered while the render still runs (it would wait for the write lock
    until the render ended, had the render been inside the transaction)."""
    import threading

    from fundsvc.extensions import db
    from fundsvc.reports import service

    _year(session)
    render, outcome = service.render_pdf, {}

    def another_request():
        with app.app_context():
            try:
                outcome["gift"] = give(db.session, "ST-TP-P5", 300_000, on=date(2024, 6, 1)).receipt.code
            except Exception as error:  # the assertion below names it
                outcome["error"] = error
            finally:
                db.session.remove()

    def render_while_a_gift_is_recorded(template, context):
        gift = threading.Thread(target=another_request)
        gift.start()
        gift.join(timeout=10)
        outcome["answered_during_render"] = not gift.is_alive()
        pdf = render(template, context)
        gift.join()
        return pdf

    monkeypatch.setattr(service, "render_pdf", render_while_a_gift_is_recorded)
    response = admin.post("/api/v1/reports/public/2024/publish?unit=ST")
    assert response.status_code == 201, response.get_json()
    assert outcome.get("answered_during_render") and "error" not in outcome, outcome
    assert outcome["gift"].startswith("ST-TP-P5/2024/")
