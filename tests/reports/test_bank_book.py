"""The bank book (BOOKS.md "Books"): one bank account's movements only, with the bank's references, voids in place
with no amount; on both engines (the money moves through the services)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from fundsvc.extensions import db
from tests.reports.conftest import give
from tests.reports.test_cash_book import pdf_text

UNIT = "ST-TP-P2"
FUND = "KH-ST-TP-P2"


@pytest.fixture
def app(any_app):
    return any_app


def accounts(api, unit=UNIT) -> list[dict]:
    return api.get(f"/api/v1/units/{unit}/accounts").json


def move(api, kind, amount, account, on, **extra):
    body = {"kind": kind, "unit": UNIT, "fund": FUND, "account": account, "amount": amount, "date": on}
    answer = api.post("/api/v1/movements", {"description": "Thử", **body, **extra})
    assert answer.status_code == 201, answer.json
    return answer.json["movements"]


@pytest.fixture
def booked(app, tree, make_api):
    """An opening balance, a gift by transfer, income, expenses (one voided), a deposit of cash, on bank account A;
    income on a second bank account B and cash gifts that A's book must not show."""
    admin = make_api(app, "admin")
    treasurer = make_api(app, "treasurer", UNIT)
    cash = next(a["id"] for a in accounts(admin) if a["kind"] == "cash")
    bank_a = next(a["id"] for a in accounts(admin) if a["kind"] == "bank")
    give(db.session, UNIT, 2_000_000, on=date(2024, 2, 1), method="bank_transfer")  # before B: the only account
    other = treasurer.post(
        f"/api/v1/units/{UNIT}/accounts",
        {
            "name": "Tài khoản Agribank",
            "bank_name": "Agribank Sóc Trăng",
            "bank_bin": "970405",
            "account_number": "7700123456",
            "account_holder": "Hội Khuyến học phường 2",
        },
    )
    assert other.status_code == 201, other.json
    bank_b = other.json["id"]
    move(admin, "opening_balance", 5_000_000, bank_a, "2023-01-01", description="Số dư sổ giấy")
    give(db.session, UNIT, 1_500_000, on=date(2024, 2, 2))  # cash: not in any bank book
    move(treasurer, "income", 120_000, bank_a, "2024-03-31", category="lai-tien-gui", bank_reference="FT24091001")
    move(treasurer, "expense", 300_000, bank_a, "2024-04-02", category="chi-khac", bank_reference="UNC-REF-7")
    wrong = move(treasurer, "expense", 999_000, bank_a, "2024-04-03", category="chi-khac")
    assert treasurer.post(f"/api/v1/movements/{wrong[0]['id']}/void", {"reason": "Chi nhầm"}).status_code == 200
    move(treasurer, "transfer", 1_000_000, cash, "2024-04-05", to={"unit": UNIT, "account": bank_a})
    move(treasurer, "income", 777_000, bank_b, "2024-04-06", category="thu-khac")
    return {"api": treasurer, "a": bank_a, "b": bank_b, "cash": cash}


def test_the_bank_book_of_one_account(booked):
    api, bank_a = booked["api"], booked["a"]
    book = api.get(f"/api/v1/reports/bank-book?account={bank_a}&from=2024-01-01&to=2024-12-31").json
    assert book["opening_balance"] == 5_000_000  # the opening record of the day the books opened
    codes = [(line["document_in"] or line["document_out"]) for line in book["lines"]]
    assert [c.split("/")[0] for c in codes] == [
        "XN-ST-TP-P2",
        "BC-ST-TP-P2",
        "UNC-ST-TP-P2",
        "UNC-ST-TP-P2",
        "BC-ST-TP-P2",
    ]
    assert not any("777" in str(line) for line in book["lines"])  # account B's income is B's
    void = book["lines"][3]
    assert void["void"] and void["in"] is None and void["out"] is None and "Chi nhầm" in void["description"]
    assert book["lines"][1]["bank_reference"] == "FT24091001" and book["lines"][2]["out"] == 300_000
    assert book["total_in"] == 2_000_000 + 120_000 + 1_000_000 and book["total_out"] == 300_000
    assert book["closing_balance"] == book["opening_balance"] + book["total_in"] - book["total_out"]
    assert [line["balance"] for line in book["lines"]] == [7_000_000, 7_120_000, 6_820_000, 6_820_000, 7_820_000]
    balances = {a["id"]: a["balance"] for a in accounts(api)}
    assert balances[bank_a] == book["closing_balance"]
    other = api.get(f"/api/v1/reports/bank-book?account={booked['b']}&from=2024-01-01&to=2024-12-31").json
    assert (other["opening_balance"], other["total_in"], other["closing_balance"]) == (0, 777_000, 777_000)
    later = api.get(f"/api/v1/reports/bank-book?account={bank_a}&from=2024-04-03&to=2024-12-31").json
    assert later["opening_balance"] == 6_820_000 and later["closing_balance"] == book["closing_balance"]


def test_bad_requests_answer_the_error_shape(booked, app, make_api):
    api = booked["api"]
    cash = api.get(f"/api/v1/reports/bank-book?account={booked['cash']}")
    assert cash.status_code == 422 and "account" in cash.json["errors"]
    assert api.get("/api/v1/reports/bank-book?account=999999").status_code == 404
    assert api.get("/api/v1/reports/bank-book?account=abc").status_code == 422
    assert api.get("/api/v1/reports/bank-book").status_code == 422
    outsider = make_api(app, "treasurer", "ST-TP-P5")
    assert outsider.get(f"/api/v1/reports/bank-book?account={booked['a']}").status_code == 404


def test_the_printed_bank_book_and_its_spreadsheet(booked):
    api, bank_a = booked["api"], booked["a"]
    url = f"/api/v1/reports/bank-book.pdf?account={bank_a}&from=2024-01-01&to=2024-12-31"
    pdf = api.get(url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for expected in (
        "HỘI KHUYẾN HỌC PHƯỜNG 2",
        "HỘI KHUYẾN HỌC THÀNH PHỐ SÓC TRĂNG",
        "SỔ TIỀN GỬI NGÂN HÀNG",
        "Mẫu số S12-H",
        "Ngày mở sổ: 01/01/2023",
        "Nguyễn Văn Nam",
        "Võ Thị Thu",
        "Trang 1/1",
        "FT24091001",
        "Hủy: Chi nhầm",
        "7.820.000",
    ):
        assert expected in text, expected
    assert "777.000" not in text
    sheet = api.get(url.replace(".pdf?", ".xlsx?"))
    assert sheet.status_code == 200
    ws = load_workbook(io.BytesIO(sheet.data)).active
    assert ws.freeze_panes == "A7" and ws["A5"].value == "Ngày mở sổ: 01/01/2023"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=7)]
    assert rows[0][4] == "Số dư đầu kỳ" and rows[0][7] == 5_000_000
    assert rows[2][3] == "FT24091001" and rows[2][5] == 120_000 and isinstance(rows[2][5], int)
    assert rows[4][5] is None and rows[4][6] is None  # the void
    assert rows[-2][4] == "Cộng phát sinh trong kỳ" and rows[-2][5:7] == [3_120_000, 300_000]
    assert rows[-1][7] == 7_820_000 and ws.cell(7 + len(rows) - 1, 8).number_format == "#,##0"
    assert ws.cell(7 + len(rows) - 1, 8).font.bold
