"""The books model (docs/books.md): money accounts, goods apart from money, documents by kind, dates, periods, voids."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fundsvc.audit.models import AuditEvent
from fundsvc.extensions import db
from fundsvc.ledger.models import InKindEntry, LedgerEntry, MoneyAccount
from fundsvc.units.models import Unit


@pytest.fixture
def app(any_app):
    """Money moves in every test here: each runs on SQLite and on PostgreSQL."""
    return any_app


def gift(method: str = "cash", amount: int = 1_000_000, on: str = "2024-10-01", unit: str = "ST-TP-P2", **extra):
    body = {
        "donor": {"name": "Trần Thị Lan", "kind": "person", "phone": "0912345678"},
        "unit": unit,
        "fund": "KH-ST-TP-P2" if unit == "ST-TP-P2" else "KH",
        "amount": amount,
        "method": method,
        "received_on": on,
    }
    if method == "in_kind":
        body.update(in_kind_description="Sách giáo khoa lớp 6", quantity=200, unit_of_measure="bộ")
    return {**body, **extra}


def fund(api, code="KH-ST-TP-P2") -> dict:
    return next(f for f in api.get("/api/v1/funds").json if f["code"] == code)


def accounts(api, unit="ST-TP-P2") -> dict[str, dict]:
    return {a["kind"]: a for a in api.get(f"/api/v1/units/{unit}/accounts").json}


@pytest.fixture
def treasurer(app, tree, make_api):
    return make_api(app, "treasurer", "ST-TP-P2")


def test_each_way_of_giving_gets_its_own_document_and_place(treasurer):
    cash = treasurer.post("/api/v1/donations", gift("cash", 1_000_000))
    bank = treasurer.post("/api/v1/donations", gift("bank_transfer", 3_000_000, bank_reference="FT24275123456"))
    goods = treasurer.post("/api/v1/donations", gift("in_kind", 15_000_000))
    assert [r.status_code for r in (cash, bank, goods)] == [201, 201, 201], goods.json
    assert (cash.json["receipt"]["kind"], cash.json["receipt"]["code"]) == ("receipt", "ST-TP-P2/2024/00001")
    assert (bank.json["receipt"]["kind"], bank.json["receipt"]["code"]) == ("acknowledgement", "XN-ST-TP-P2/2024/00001")
    assert (goods.json["receipt"]["kind"], goods.json["receipt"]["code"]) == (
        "in_kind_record",
        "HV-ST-TP-P2/2024/00001",
    )
    assert bank.json["bank_reference"] == "FT24275123456"
    assert goods.json["quantity"] == 200 and goods.json["unit_of_measure"] == "bộ" and goods.json["account"] is None

    held = accounts(treasurer)
    assert held["cash"]["balance"] == 1_000_000 and held["cash"]["ledger_account"] == "111"
    assert held["bank"]["balance"] == 3_000_000 and held["bank"]["ledger_account"] == "112"
    # Goods are not money: the fund's money is the cash and the transfer; the goods' value is beside it.
    position = fund(treasurer)
    assert position["balance"] == position["available"] == 4_000_000
    assert position["in_kind_value"] == 15_000_000
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.method == "in_kind")) == 0
    (line,) = db.session.scalars(select(InKindEntry))
    assert (line.kind, line.value, line.quantity, line.document_code) == (
        "received",
        15_000_000,
        200,
        "HV-ST-TP-P2/2024/00001",
    )


def test_a_bank_transfer_needs_a_bank_account_of_its_unit(app, tree, admin):
    admin.post(
        "/api/v1/units",
        {
            "code": "ST-TP-P9",
            "name": "Phường 9",
            "level": "commune",
            "parent": "ST-TP",
            "books_opened_on": "2024-01-01",
        },
    )
    (cash,) = admin.get("/api/v1/units/ST-TP-P9/accounts").json
    assert cash["kind"] == "cash" and cash["balance"] == 0  # every unit has its cash account from its creation
    body = {**gift("bank_transfer", unit="ST-TP-P9"), "fund": "KH"}
    refused = admin.post("/api/v1/donations", body)
    assert refused.status_code == 422 and "account" in refused.json["errors"]
    first = admin.post(
        "/api/v1/units/ST-TP-P9/accounts",
        {
            "name": "Tiền gửi Agribank",
            "bank_name": "Agribank",
            "bank_bin": "970405",
            "account_number": "7700205123456",
            "account_holder": "HOI KHUYEN HOC PHUONG 9",
        },
    )
    assert first.status_code == 201 and first.json["ledger_account"] == "112"
    assert admin.post("/api/v1/donations", body).json["account"] == first.json["id"]
    second = admin.post(
        "/api/v1/units/ST-TP-P9/accounts",
        {
            **{k: first.json[k] for k in ("bank_name", "bank_bin", "account_holder")},
            "name": "Thứ hai",
            "account_number": "1234567",
        },
    )
    assert admin.post("/api/v1/donations", body).status_code == 422  # two accounts: which one must be said
    chosen = admin.post("/api/v1/donations", {**body, "account": second.json["id"]})
    assert chosen.status_code == 201 and chosen.json["account"] == second.json["id"]
    p2_bank = accounts(admin)["bank"]["id"]
    assert admin.post("/api/v1/donations", {**body, "account": p2_bank}).status_code == 422  # another unit's


def test_numbers_follow_dates_within_each_series(treasurer):
    assert treasurer.post("/api/v1/donations", gift("cash", on="2024-10-05")).status_code == 201
    earlier = treasurer.post("/api/v1/donations", gift("cash", on="2024-10-04"))
    assert earlier.status_code == 422
    assert "05/10/2024" in earlier.json["message"] and "2024-10-05" in earlier.json["errors"]["received_on"][0]
    # Another series has its own order; the same day is allowed.
    assert treasurer.post("/api/v1/donations", gift("bank_transfer", on="2024-10-01")).status_code == 201
    assert treasurer.post("/api/v1/donations", gift("cash", on="2024-10-05")).status_code == 201
    # A refused gift took no number.
    assert treasurer.post("/api/v1/donations", gift("cash", on="2024-10-06")).json["receipt"]["number"] == 3


def test_no_document_before_the_books_opened(app, tree, admin):
    admin.post(
        "/api/v1/units",
        {
            "code": "ST-TP-P9",
            "name": "Phường 9",
            "level": "commune",
            "parent": "ST-TP",
            "books_opened_on": "2024-03-01",
        },
    )
    before = admin.post("/api/v1/donations", {**gift(unit="ST-TP-P9", on="2024-02-29"), "fund": "KH"})
    assert before.status_code == 422 and "01/03/2024" in before.json["message"]
    assert admin.post("/api/v1/donations", {**gift(unit="ST-TP-P9", on="2024-03-01"), "fund": "KH"}).status_code == 201
    # The opening may move earlier, never after the first document.
    later = admin.patch("/api/v1/units/ST-TP-P9", {"books_opened_on": "2024-03-02"})
    assert later.status_code == 422
    assert (
        admin.patch("/api/v1/units/ST-TP-P9", {"books_opened_on": "2023-07-01"}).json["books_opened_on"] == "2023-07-01"
    )


def test_a_closed_month_takes_no_new_document_and_no_void(app, treasurer, make_api):
    kept = treasurer.post("/api/v1/donations", gift("cash", on="2023-02-10")).json
    out_of_order = treasurer.post("/api/v1/units/ST-TP-P2/periods/2023-02/close")
    assert out_of_order.status_code == 409 and "01/2023" in out_of_order.json["message"]
    assert treasurer.post("/api/v1/units/ST-TP-P2/periods/2023-01/close").status_code == 200
    closed = treasurer.post("/api/v1/units/ST-TP-P2/periods/2023-02/close")
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    months = {p["month"]: p["status"] for p in treasurer.get("/api/v1/units/ST-TP-P2/periods").json}
    assert months["2023-01"] == months["2023-02"] == "closed" and months["2023-03"] == "open"

    refused = treasurer.post("/api/v1/donations", gift("bank_transfer", on="2023-02-20"))
    assert refused.status_code == 409 and "khóa sổ" in refused.json["message"]
    void = treasurer.post(f"/api/v1/donations/{kept['id']}/void", {"reason": "Ghi nhầm"})
    assert void.status_code == 409 and "điều chỉnh" in void.json["message"]
    # A month that has not ended cannot be closed.
    this_month = date.today().strftime("%Y-%m")
    assert treasurer.post(f"/api/v1/units/ST-TP-P2/periods/{this_month}/close").status_code in (409, 422)

    # Reopening is for admins, with a reason; it reopens the month and every later one, and is audited.
    assert treasurer.post("/api/v1/units/ST-TP-P2/periods/2023-01/reopen", {"reason": "Sửa sai"}).status_code == 403
    admin = make_api(app, "admin")
    assert admin.post("/api/v1/units/ST-TP-P2/periods/2023-01/reopen", {}).status_code == 422
    reopened = admin.post("/api/v1/units/ST-TP-P2/periods/2023-01/reopen", {"reason": "Bổ sung chứng từ tháng 1"})
    assert reopened.status_code == 200 and reopened.json["reopened"] == ["2023-01", "2023-02"]
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "period.reopen"))
    assert event.after["reason"] == "Bổ sung chứng từ tháng 1"
    assert treasurer.post(f"/api/v1/donations/{kept['id']}/void", {"reason": "Ghi nhầm"}).status_code == 200


def test_a_void_annuls_in_its_own_period(treasurer):
    cash = treasurer.post("/api/v1/donations", gift("cash", 2_000_000, on="2024-03-01")).json
    goods = treasurer.post("/api/v1/donations", gift("in_kind", 9_000_000, on="2024-03-02")).json
    for donation in (cash, goods):
        assert treasurer.post(f"/api/v1/donations/{donation['id']}/void", {"reason": "Ghi nhầm"}).status_code == 200
    reversal = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "reversal"))
    assert reversal.entry_date == date(2024, 3, 1)  # the gift's own date, not the day of the void
    goods_reversal = db.session.scalar(select(InKindEntry).where(InKindEntry.kind == "reversal"))
    assert goods_reversal.entry_date == date(2024, 3, 2) and goods_reversal.value == -9_000_000
    position = fund(treasurer)
    assert position["balance"] == 0 and position["in_kind_value"] == 0
    assert accounts(treasurer)["cash"]["balance"] == 0


def _unit_sums(unit_id: int) -> tuple[dict, dict]:
    by_fund = dict(
        db.session.execute(
            select(LedgerEntry.fund_id, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.unit_id == unit_id)
            .group_by(LedgerEntry.fund_id)
        ).all()
    )
    by_account = dict(
        db.session.execute(
            select(MoneyAccount.id, func.coalesce(func.sum(LedgerEntry.amount), 0))
            .outerjoin(LedgerEntry, LedgerEntry.account_id == MoneyAccount.id)
            .where(MoneyAccount.unit_id == unit_id)
            .group_by(MoneyAccount.id)
        ).all()
    )
    return by_fund, by_account


STEP = st.one_of(
    st.tuples(
        st.just("gift"),
        st.sampled_from(["cash", "bank_transfer", "in_kind"]),
        st.integers(1, 50),
        st.sampled_from(["ST-TP-P2", "ST-TP-P5", "ST"]),
    ),
    st.tuples(st.just("void"), st.integers(0, 30)),
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(STEP, min_size=1, max_size=14))
def test_a_units_funds_always_hold_what_its_money_accounts_hold(app, tree, make_api, steps):
    """After any sequence of gifts of every kind and voids, for every unit: the sum over its funds equals the sum
    over its money accounts, no account is below zero, and goods never entered either."""
    admin = make_api(app, "admin")
    recorded, goods = [], 0
    for step in steps:
        if step[0] == "gift":
            _, method, thousands, unit = step
            body = {**gift(method, thousands * 100_000, on="2024-10-01", unit=unit), "fund": "KH"}
            answer = admin.post("/api/v1/donations", body)
            assert answer.status_code == 201, answer.json
            recorded.append(answer.json)
        elif recorded:
            target = recorded[step[1] % len(recorded)]
            answer = admin.post(f"/api/v1/donations/{target['id']}/void", {"reason": "Thử"})
            assert answer.status_code in (200, 409)
    for donation in recorded:
        state = admin.get(f"/api/v1/donations/{donation['id']}").json
        if donation["method"] == "in_kind" and state["status"] == "recorded":
            goods += donation["amount"]
    for unit_id in db.session.scalars(select(Unit.id)):
        by_fund, by_account = _unit_sums(unit_id)
        assert sum(by_fund.values()) == sum(by_account.values())
        assert all(balance >= 0 for balance in by_account.values())
    money = sum(
        d["amount"]
        for d in recorded
        if d["method"] != "in_kind" and admin.get(f"/api/v1/donations/{d['id']}").json["status"] == "recorded"
    )
    kh = fund(admin, "KH")
    assert kh["balance"] == money and kh["in_kind_value"] == goods
    db.session.execute(LedgerEntry.__table__.delete())
    db.session.execute(InKindEntry.__table__.delete())
    db.session.commit()
