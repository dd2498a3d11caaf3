"""The cash book and the void register (docs/books.md "Books", "Voids") on the books model."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from fundsvc.extensions import db
from tests.reports.conftest import give, void

URL = "/api/v1/reports/cash-book?unit=ST-TP-P2&from=2024-01-01&to=2024-12-31"


def pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def test_only_cash_and_voids_in_place_without_amounts(app, tree, make_api):
    session = db.session
    give(session, "ST-TP-P2", 1_000_000, on=date(2024, 3, 1))
    give(session, "ST-TP-P2", 3_000_000, on=date(2024, 3, 2), method="bank_transfer")
    give(session, "ST-TP-P2", 9_000_000, on=date(2024, 3, 3), method="in_kind")
    wrong = give(session, "ST-TP-P2", 500_000, on=date(2024, 3, 4))
    give(session, "ST-TP-P2", 200_000, on=date(2024, 3, 5))
    void(session, wrong.id, "Ghi nhầm số tiền")
    viewer = make_api(app, "viewer", "ST")
    book = viewer.get(URL).json
    assert book["opening_balance"] == 0
    assert [(line["document_in"], line["in"], line["void"]) for line in book["lines"]] == [
        ("ST-TP-P2/2024/00001", 1_000_000, False),
        ("ST-TP-P2/2024/00002", None, True),  # in its place, no amount
        ("ST-TP-P2/2024/00003", 200_000, False),
    ]
    assert "Ghi nhầm số tiền" in book["lines"][1]["description"] and book["lines"][1]["out"] is None
    assert [line["balance"] for line in book["lines"]] == [1_000_000, 1_000_000, 1_200_000]
    assert (book["total_in"], book["total_out"], book["closing_balance"]) == (1_200_000, 0, 1_200_000)
    cash = next(a for a in viewer.get("/api/v1/units/ST-TP-P2/accounts").json if a["kind"] == "cash")
    assert cash["balance"] == book["closing_balance"]

    register = viewer.get("/api/v1/reports/voids?unit=ST-TP-P2&from=2024-01-01&to=2024-12-31").json
    assert [(line["document"], line["amount"], line["reason"]) for line in register["lines"]] == [
        ("ST-TP-P2/2024/00002", 500_000, "Ghi nhầm số tiền")
    ]


def test_the_printed_cash_book_and_its_spreadsheet(app, tree, make_api):
    give(db.session, "ST-TP-P2", 1_000_000, on=date(2024, 3, 1))
    wrong = give(db.session, "ST-TP-P2", 500_000, on=date(2024, 3, 4))
    void(db.session, wrong.id)
    treasurer = make_api(app, "treasurer", "ST-TP-P2")
    pdf = treasurer.get(URL.replace("cash-book?", "cash-book.pdf?"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for expected in (
        "HỘI KHUYẾN HỌC PHƯỜNG 2",  # the unit's printed name (demo identity), not the ward's
        "HỘI KHUYẾN HỌC THÀNH PHỐ SÓC TRĂNG",  # the line above: the unit above it
        "SỔ QUỸ TIỀN MẶT",
        "Mẫu số S11-H",
        "Ngày mở sổ: 01/01/2023",
        "Nguyễn Văn Nam",  # the head
        "Võ Thị Thu",  # the chief accountant
        "Trang 1/1",
        "Hủy: Ghi nhầm số tiền",
    ):
        assert expected in text, expected
    sheet = treasurer.get(URL.replace("cash-book?", "cash-book.xlsx?"))
    ws = load_workbook(io.BytesIO(sheet.data)).active
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=7)]
    assert values[0][3] == "Số dư đầu kỳ" and values[-1][6] == 1_000_000
    assert values[1][1] == "ST-TP-P2/2024/00001" and values[1][4] == 1_000_000
    assert values[2][4] is None  # the void, no amount
    voids = treasurer.get("/api/v1/reports/voids.pdf?unit=ST-TP-P2&from=2024-01-01&to=2024-12-31")
    assert "SỔ THEO DÕI CHỨNG TỪ HỦY" in pdf_text(voids.data) and "ST-TP-P2/2024/00002" in pdf_text(voids.data)
    assert treasurer.get("/api/v1/reports/voids.xlsx?unit=ST-TP-P2").status_code == 200


def test_a_unit_outside_the_scope_has_no_book(app, tree, make_api):
    other = make_api(app, "treasurer", "ST-TP-P5")
    assert other.get("/api/v1/reports/cash-book?unit=ST-TP-P2").status_code == 403


GIFT = st.tuples(st.sampled_from(["cash", "bank_transfer", "in_kind"]), st.integers(1, 30), st.booleans())


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(GIFT, min_size=1, max_size=10), st.integers(1, 28))
def test_the_cash_book_agrees_with_the_cash_account(app, tree, make_api, gifts, split_day):
    """Whatever gifts and voids: closing = the cash account's balance, and total in - out = closing - opening,
    over any split of the period."""
    from sqlalchemy import delete

    from fundsvc.donations.models import Donation, Receipt, ReceiptBook
    from fundsvc.ledger.models import InKindEntry, LedgerEntry

    viewer = make_api(app, "viewer", "ST")
    for i, (method, hundreds, voided) in enumerate(gifts):
        donation = give(db.session, "ST-TP-P2", hundreds * 100_000, on=date(2024, 5, 1 + i), method=method)
        if voided:
            void(db.session, donation.id)
    cash = next(a for a in viewer.get("/api/v1/units/ST-TP-P2/accounts").json if a["kind"] == "cash")
    whole = viewer.get("/api/v1/reports/cash-book?unit=ST-TP-P2&from=2024-01-01&to=2024-12-31").json
    assert whole["closing_balance"] == cash["balance"]
    part = viewer.get(f"/api/v1/reports/cash-book?unit=ST-TP-P2&from=2024-05-{split_day:02d}&to=2024-12-31").json
    assert part["total_in"] - part["total_out"] == part["closing_balance"] - part["opening_balance"]
    assert part["closing_balance"] == whole["closing_balance"]
    for table in (LedgerEntry, InKindEntry, Receipt):
        db.session.execute(delete(table))
    db.session.execute(delete(Donation))
    db.session.execute(delete(ReceiptBook))
    db.session.commit()


def test_books_name_anonymous_donors_only_to_those_who_may_see_them(app, tree, make_api):
    give(db.session, "ST-TP-P2", 1_000_000, on=date(2024, 3, 1), donor="Ông Giấu Tên", anonymous=True)
    for role, sees in (("viewer", False), ("committee", False), ("treasurer", True)):
        api = make_api(app, role, "ST-TP-P2")
        for url in (URL, "/api/v1/reports/fund-book?fund=KH-ST-TP-P2&from=2024-01-01&to=2024-12-31"):
            text = str(api.get(url).json)
            assert ("Ông Giấu Tên" in text) is sees, (role, url)
            assert ("Nhà hảo tâm ẩn danh" in text) is not sees, (role, url)
        pdf = pdf_text(api.get("/api/v1/reports/fund-book.pdf?fund=KH-ST-TP-P2&from=2024-01-01&to=2024-12-31").data)
        assert ("Ông Giấu Tên" in pdf) is sees, role


def test_a_long_cash_book_is_printed_in_chunks_with_the_balance_brought_forward(app, tree, make_api, monkeypatch):
    from fundsvc.reports import books

    monkeypatch.setattr(books, "CHUNK_LINES", 2)  # 5 lines: three chunks
    for day in range(1, 6):
        give(db.session, "ST-TP-P2", 100_000 * day, on=date(2024, 3, day))
    treasurer = make_api(app, "treasurer", "ST-TP-P2")
    pdf = treasurer.get(URL.replace("cash-book?", "cash-book.pdf?"))
    assert pdf.status_code == 200
    reader = PdfReader(io.BytesIO(pdf.data))
    pages = len(reader.pages)
    assert pages >= 3  # each chunk starts a page
    text = pdf_text(pdf.data)
    assert text.count("SỔ QUỸ TIỀN MẶT") == 1 and text.count("Số dư đầu kỳ") == 1
    # Brought forward before the 3rd and 5th lines: 100k+200k, then 100k+…+400k.
    assert "Số dư mang sang 300.000" in text and "Số dư mang sang 1.000.000" in text
    # … and each chunk but the last ends its page on the balance it carries, the unit of amounts printed once.
    assert "Số dư chuyển sang trang sau 300.000" in text and "Số dư chuyển sang trang sau 1.000.000" in text
    assert text.count("Số dư chuyển sang trang sau") == 2 and text.count("Đơn vị tính: đồng") == 1
    assert text.count("Cộng phát sinh trong kỳ 1.500.000") == 1 and text.count("KẾ TOÁN TRƯỞNG") == 1
    for n in range(1, pages + 1):
        assert f"Trang {n}/{pages}" in text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("BC-ST-TP-P2/2025/00001: Lãi tiền gửi", "Lãi tiền gửi"),
        ("Thu BC-ST-TP-P2/2025/00001: Nguyễn Văn An", "Nguyễn Văn An"),
        ("Chi học bổng BC-ST-TP-P2/2025/00001: Lê Thị Bình", "Chi học bổng: Lê Thị Bình"),
        ("Hủy BC-ST-TP-P2/2025/00001: Ghi nhầm", "Hủy: Ghi nhầm"),
        ("Nộp tiền vào tài khoản", "Nộp tiền vào tài khoản"),
    ],
)
def test_a_line_shows_its_description_without_its_document_number(text, shown):
    """Every book prints the document number in its own column: the description does not repeat it."""
    from fundsvc.reports.books import without_code

    assert without_code("BC-ST-TP-P2/2025/00001", text) == shown
