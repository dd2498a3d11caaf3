"""The treasurer's pages for movements besides gifts and awards: record each kind, see it listed, void it."""

from __future__ import annotations

import re

from sqlalchemy import select

from fundsvc.extensions import db
from fundsvc.ledger.models import MoneyAccount
from fundsvc.units.models import Unit


def _form(b, code="ST-TP-P2", kind="income"):
    page = b.get(f"/units/{code}/movements/new?kind={kind}").get_data(as_text=True)
    return page, re.search(r'name="form_key" value="([^"]+)"', page).group(1)


def _account(code: str, kind: str) -> int:
    owner = db.session.scalar(select(Unit.id).where(Unit.code == code))
    return db.session.scalar(select(MoneyAccount.id).where(MoneyAccount.unit_id == owner, MoneyAccount.kind == kind))


def test_a_treasurer_records_income_an_expense_and_a_transfer_and_voids_one(app, tree, make_user, browser):
    b = browser(make_user("thuquy.mv", "treasurer", "ST-TP-P2"))
    page, key = _form(b)
    assert 'id="movement-form"' in page and "Loại thu" in page and 'value="opening_balance"' not in page  # admins only
    cash, bank = _account("ST-TP-P2", "cash"), _account("ST-TP-P2", "bank")
    base = {"fund": "KH-ST-TP-P2", "date": "2024-03-01"}
    income = b.post(
        "/units/ST-TP-P2/movements/new",
        {
            **base,
            "form_key": key,
            "kind": "income",
            "account": cash,
            "amount": "2.000.000",
            "category_income": "thu-khac",
            "counterparty_name": "Trường THCS Lê Lợi",
            "description": "Hoàn tiền",
        },
    )
    assert income.status_code == 302, income.get_data(as_text=True)[:2000]
    again = b.post(  # the same form sent twice (a double click) records it once
        "/units/ST-TP-P2/movements/new",
        {
            **base,
            "form_key": key,
            "kind": "income",
            "account": cash,
            "amount": "2.000.000",
            "category_income": "thu-khac",
            "counterparty_name": "Trường THCS Lê Lợi",
            "description": "Hoàn tiền",
        },
    )
    assert again.status_code == 302
    listed = b.get("/units/ST-TP-P2/movements").get_data(as_text=True)
    assert (
        listed.count('<span class="code">ST-TP-P2/2024/00001</span>') == 1
        and "Hoàn tiền" in listed
        and "2.000.000" in listed
    )

    _page, key = _form(b, kind="expense")
    too_much = b.post(
        "/units/ST-TP-P2/movements/new",
        {
            **base,
            "form_key": key,
            "kind": "expense",
            "account": cash,
            "amount": "9000000",
            "category_expense": "to-chuc-le",
            "description": "Thuê âm thanh",
        },
    )
    assert too_much.status_code == 409 and "không đủ" in too_much.get_data(as_text=True)

    _page, key = _form(b, kind="transfer")
    deposit = b.post(
        "/units/ST-TP-P2/movements/new",
        {
            **base,
            "form_key": key,
            "kind": "transfer",
            "account": cash,
            "amount": "1500000",
            "to_account": f"ST-TP-P2:{bank}",
            "description": "Nộp tiền mặt vào ngân hàng",
        },
    )
    assert deposit.status_code == 302, deposit.get_data(as_text=True)[:2000]
    listed = b.get("/units/ST-TP-P2/movements").get_data(as_text=True)
    assert "PC-ST-TP-P2/2024/00001" in listed and "BC-ST-TP-P2/2024/00001" in listed

    _page, key = _form(b, kind="income")
    missing = b.post("/units/ST-TP-P2/movements/new", {**base, "form_key": key, "kind": "income", "account": cash})
    assert missing.status_code == 422 and 'id="movement-errors"' in missing.get_data(as_text=True)

    movement_id = re.search(r"/movements/(\d+)/void", listed).group(1)
    assert b.post(f"/movements/{movement_id}/void", {"reason": ""}).status_code == 302  # asks for a reason
    voided = b.post(f"/movements/{movement_id}/void", {"reason": "Ghi nhầm"})
    assert voided.status_code == 302
    assert "Đã hủy" in b.get("/units/ST-TP-P2/movements").get_data(as_text=True)
    unit_page = b.get("/units/ST-TP-P2").get_data(as_text=True)
    assert 'id="movements-link"' in unit_page and "cash-book.pdf?unit=ST-TP-P2" in unit_page


def test_viewers_see_the_list_but_no_form(app, tree, make_user, browser):
    b = browser(make_user("xem.mv", "viewer", "ST-TP-P2"))
    assert b.get("/units/ST-TP-P2/movements").status_code == 200
    assert "new-movement" not in b.get("/units/ST-TP-P2/movements").get_data(as_text=True)
    assert b.get("/units/ST-TP-P2/movements/new").status_code == 403
