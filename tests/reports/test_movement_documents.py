"""Each movement's numbered document in the layout of its series (BOOKS.md "Documents"), in the issuing unit's
identity with its signatories; an award paid by bank gets an Ủy nhiệm chi, never the cash Phiếu chi."""

from __future__ import annotations

from datetime import date

import pytest

from fundsvc.extensions import db
from tests.reports.conftest import give, pay_award
from tests.reports.test_bank_book import UNIT, accounts, move
from tests.reports.test_cash_book import pdf_text


@pytest.fixture
def api(app, tree, make_api):
    return make_api(app, "treasurer", UNIT)


def document(api, side) -> str:
    answer = api.get(side["document"]["pdf"])
    assert answer.status_code == 200 and answer.mimetype == "application/pdf", side["document"]
    return pdf_text(answer.data)


def squeezed(text: str) -> str:
    """The text without spaces: a long document code may wrap at a line's end."""
    return text.replace(" ", "")


IDENTITY = ("HỘI KHUYẾN HỌC THÀNH PHỐ SÓC TRĂNG", "Hội Khuyến học phường 2", "Nguyễn Văn Nam", "Võ Thị Thu")


def test_each_series_has_its_own_layout(app, api, make_api):
    admin = make_api(app, "admin")
    ids = {a["kind"]: a["id"] for a in accounts(api)}
    (opening,) = move(admin, "opening_balance", 5_000_000, ids["bank"], "2023-01-01", description="Số dư sổ giấy")
    (income,) = move(
        api,
        "income",
        2_000_000,
        ids["cash"],
        "2024-03-01",
        category="hoan-tra",
        counterparty={"name": "Trường THCS Lê Lợi"},
    )
    (expense,) = move(
        api, "expense", 300_000, ids["cash"], "2024-03-02", category="to-chuc-le", description="Thuê âm thanh"
    )
    (paid,) = move(api, "expense", 450_000, ids["bank"], "2024-03-03", category="chi-khac", bank_reference="FT2403")
    (credit,) = move(
        api, "income", 120_000, ids["bank"], "2024-03-31", category="lai-tien-gui", bank_reference="LAI-Q1"
    )
    out, into = move(api, "transfer", 1_000_000, ids["cash"], "2024-04-01", to={"unit": UNIT, "account": ids["bank"]})
    (fix,) = move(
        api, "adjustment", 10_000, ids["cash"], "2024-04-02", direction="out", corrects=expense["document"]["code"]
    )
    assert api.post(f"/api/v1/movements/{fix['id']}/void", {"reason": "Ghi nhầm"}).status_code == 200

    text = document(api, income)
    assert "PHIẾU THU" in text and "Mẫu số C40-BB" in text and "Trường THCS Lê Lợi" in text and "Nợ: 111" in text
    assert "PHIẾU CHI" in document(api, expense) and "Thuê âm thanh" in document(api, expense)
    text = document(api, paid)
    assert "ỦY NHIỆM CHI" in text and "PHIẾU CHI" not in text and "FT2403" in text and "CHỦ TÀI KHOẢN" in text
    assert "THỦ QUỸ" not in text  # no cashier counts bank money
    text = document(api, credit)
    assert "PHIẾU KẾ TOÁN" in text and "Giấy báo Có" in text and "LAI-Q1" in text
    text = document(api, opening)
    assert "Ghi số dư đầu kỳ" in text and "5.000.000" in text and "01/01/2023" in text
    text = document(api, out)  # cash taken to the bank: a Phiếu chi naming the other side's document
    assert "PHIẾU CHI" in text and into["document"]["code"] in squeezed(text) and "Nợ: 112" in text
    assert out["document"]["code"] in squeezed(document(api, into))
    text = document(api, fix)
    assert "Bút toán điều chỉnh" in text and expense["document"]["code"] in squeezed(text) and "ĐÃ HỦY" in text
    for side in (income, paid, credit, opening):
        text = document(api, side)
        for expected in IDENTITY:
            assert expected.upper() in text.upper(), (side["document"]["code"], expected)


def test_a_movement_of_another_unit_has_no_document(app, api, make_api):
    ids = {a["kind"]: a["id"] for a in accounts(api)}
    (income,) = move(api, "income", 2_000_000, ids["cash"], "2024-03-01", category="hoan-tra")
    outsider = make_api(app, "treasurer", "ST-TP-P5")
    assert outsider.get(income["document"]["pdf"]).status_code == 404
    assert api.get("/api/v1/movements/999999/document.pdf").status_code == 404


def test_an_award_paid_by_bank_gets_a_payment_order(app, api):
    bank = next(a["id"] for a in accounts(api) if a["kind"] == "bank")
    give(db.session, UNIT, 3_000_000, on=date(2024, 9, 1), method="bank_transfer")
    give(db.session, UNIT, 1_000_000, on=date(2024, 9, 1))
    by_bank = pay_award(
        db.session, "KH-ST-TP-P2", UNIT, 1_500_000, method="bank_transfer", account=bank, bank_reference="FT24250"
    )
    in_cash = pay_award(db.session, "KH-ST-TP-P2", UNIT, 500_000)
    text = pdf_text(api.get(f"/api/v1/awards/{by_bank.id}/voucher.pdf").data)
    assert by_bank.voucher_code.startswith("UNC-") and by_bank.voucher_code in text
    assert "ỦY NHIỆM CHI" in text and "PHIẾU CHI" not in text and "FT24250" in text and "Nguyễn Văn Nam" in text
    assert "PHIẾU CHI" in pdf_text(api.get(f"/api/v1/awards/{in_cash.id}/voucher.pdf").data)
