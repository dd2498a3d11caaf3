"""Movements besides gifts and awards (docs/books.md): opening balances, other income, expenses, transfers, voids."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fundsvc.extensions import db
from fundsvc.ledger.models import LedgerEntry, MoneyAccount
from fundsvc.units.models import Unit


@pytest.fixture
def app(any_app):
    """Money moves in every test here: each runs on SQLite and on PostgreSQL."""
    return any_app


@pytest.fixture
def treasurer(app, tree, make_api):
    return make_api(app, "treasurer", "ST-TP-P2")


def accounts(api, unit="ST-TP-P2") -> dict[str, dict]:
    return {a["kind"]: a for a in api.get(f"/api/v1/units/{unit}/accounts").json}


def movement(api, kind, amount, on="2024-03-01", unit="ST-TP-P2", fund="KH-ST-TP-P2", account="cash", **extra):
    body = {
        "kind": kind,
        "unit": unit,
        "fund": fund,
        "account": accounts(api, unit)[account]["id"],
        "amount": amount,
        "date": on,
        "description": extra.pop("description", "Thử"),
        **extra,
    }
    return api.post("/api/v1/movements", body)


def balances(api, unit="ST-TP-P2") -> dict[str, int]:
    return {kind: a["balance"] for kind, a in accounts(api, unit).items()}


def test_opening_balances_are_for_admins_on_the_day_the_books_opened(app, tree, treasurer, make_api):
    admin = make_api(app, "admin")
    assert movement(treasurer, "opening_balance", 5_000_000, on="2023-01-01").status_code == 403
    wrong_day = movement(admin, "opening_balance", 5_000_000, on="2023-01-02")
    assert wrong_day.status_code == 422 and "01/01/2023" in wrong_day.json["message"]
    opened = movement(admin, "opening_balance", 5_000_000, on="2023-01-01", description="Số dư sổ giấy")
    assert opened.status_code == 201, opened.json
    (side,) = opened.json["movements"]
    assert side["document"]["code"] == "DK-ST-TP-P2/2023/00001" and side["direction"] == "in"
    assert movement(admin, "opening_balance", 1, on="2023-01-01").status_code == 409  # once per fund and account
    assert balances(admin)["cash"] == 5_000_000


def test_income_and_expenses_take_their_documents_and_categories(treasurer):
    interest = movement(treasurer, "income", 120_000, account="bank", category="lai-tien-gui", description="Lãi quý I")
    assert interest.status_code == 201, interest.json
    assert interest.json["movements"][0]["document"]["code"] == "BC-ST-TP-P2/2024/00001"
    income = movement(treasurer, "income", 2_000_000, category="hoan-tra", counterparty={"name": "Trường THCS Lê Lợi"})
    (cash_in,) = income.json["movements"]
    assert cash_in["document"]["code"] == "ST-TP-P2/2024/00001"  # a Phiếu thu: the cash receipts' series
    assert cash_in["counterparty"] == {"name": "Trường THCS Lê Lợi", "address": None}
    wrong = movement(treasurer, "expense", 100, category="lai-tien-gui")
    assert wrong.status_code == 422 and "category" in wrong.json["errors"]
    spent = movement(treasurer, "expense", 500_000, on="2024-03-02", category="to-chuc-le", description="Thuê âm thanh")
    assert spent.json["movements"][0]["document"]["code"] == "PC-ST-TP-P2/2024/00001"
    assert balances(treasurer) == {"cash": 1_500_000, "bank": 120_000}
    too_much = movement(treasurer, "expense", 1_500_001, on="2024-03-02", category="chi-khac")
    assert too_much.status_code == 409  # a cash box never holds less than nothing
    categories = {c["code"]: c["direction"] for c in treasurer.get("/api/v1/movements/categories").json}
    assert categories["lai-tien-gui"] == "in" and categories["to-chuc-le"] == "out"


def test_a_transfer_is_two_documents_one_per_side(app, treasurer, make_api):
    movement(treasurer, "income", 3_000_000, category="thu-khac")
    deposit = movement(
        treasurer,
        "transfer",
        2_000_000,
        on="2024-03-05",
        description="Nộp tiền mặt vào tài khoản",
        to={"unit": "ST-TP-P2", "account": accounts(treasurer)["bank"]["id"]},
    )
    assert deposit.status_code == 201, deposit.json
    paying, receiving = deposit.json["movements"]
    assert (paying["direction"], paying["document"]["code"]) == ("out", "PC-ST-TP-P2/2024/00001")
    assert (receiving["direction"], receiving["document"]["code"]) == ("in", "BC-ST-TP-P2/2024/00001")
    assert paying["transfer_id"] == receiving["transfer_id"] == paying["id"]
    assert balances(treasurer) == {"cash": 1_000_000, "bank": 2_000_000}

    # Between units: the province grants money to the ward's fund, each side in its own books.
    province = make_api(app, "treasurer", "ST")
    movement(province, "income", 10_000_000, unit="ST", fund="KH", category="thu-khac")
    grant = movement(
        province,
        "transfer",
        4_000_000,
        unit="ST",
        fund="KH",
        on="2024-03-06",
        to={"unit": "ST-TP-P2", "fund": "KH-ST-TP-P2", "account": accounts(province, "ST-TP-P2")["cash"]["id"]},
    )
    assert grant.status_code == 201, grant.json
    assert [m["unit"] for m in grant.json["movements"]] == ["ST", "ST-TP-P2"]
    assert balances(province, "ST")["cash"] == 6_000_000 and balances(treasurer)["cash"] == 5_000_000
    # A ward's treasurer cannot take money out of the province's box.
    body = {
        "kind": "transfer",
        "unit": "ST",
        "fund": "KH",
        "account": accounts(province, "ST")["cash"]["id"],
        "amount": 1,
        "date": "2024-03-07",
        "description": "Rút",
        "to": {"unit": "ST-TP-P2", "account": accounts(treasurer)["cash"]["id"]},
    }
    assert treasurer.post("/api/v1/movements", body).status_code == 403


def test_a_void_annuls_both_sides_in_their_period(treasurer):
    movement(treasurer, "income", 3_000_000, category="thu-khac")
    deposit = movement(
        treasurer,
        "transfer",
        2_000_000,
        on="2024-03-05",
        to={"unit": "ST-TP-P2", "account": accounts(treasurer)["bank"]["id"]},
    ).json["movements"]
    voided = treasurer.post(f"/api/v1/movements/{deposit[1]['id']}/void", {"reason": "Nhầm số tiền"})
    assert voided.status_code == 200 and [m["status"] for m in voided.json["movements"]] == ["void", "void"]
    assert balances(treasurer) == {"cash": 3_000_000, "bank": 0}
    assert treasurer.post(f"/api/v1/movements/{deposit[0]['id']}/void", {"reason": "Lần nữa"}).status_code == 409
    # The reversals carry the movement's own date.
    dates = {str(d) for d in db.session.scalars(select(LedgerEntry.entry_date).where(LedgerEntry.kind == "reversal"))}
    assert dates == {"2024-03-05"}


def test_a_closed_month_takes_no_movement(treasurer):
    for month in ("2023-01", "2023-02"):
        assert treasurer.post(f"/api/v1/units/ST-TP-P2/periods/{month}/close").status_code == 200
    refused = movement(treasurer, "income", 1_000, on="2023-02-15", category="thu-khac")
    assert refused.status_code == 409
    adjustment = movement(
        treasurer, "adjustment", 1_000, on="2023-03-01", direction="in", corrects="ST-TP-P2/2023/00001"
    )
    assert adjustment.status_code == 201 and adjustment.json["movements"][0]["document"]["code"].startswith("DC-")
    assert movement(treasurer, "adjustment", 1_000, on="2023-03-01", direction="in").status_code == 422


def test_funds_equal_money_accounts_after_movements(treasurer):
    movement(treasurer, "income", 3_000_000, category="thu-khac")
    movement(treasurer, "expense", 700_000, category="chi-khac")
    movement(treasurer, "transfer", 1_000_000, to={"unit": "ST-TP-P2", "account": accounts(treasurer)["bank"]["id"]})
    unit_id = db.session.scalar(select(Unit.id).where(Unit.code == "ST-TP-P2"))
    in_funds = db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.unit_id == unit_id))
    in_accounts = db.session.scalar(
        select(func.sum(LedgerEntry.amount))
        .join(MoneyAccount, MoneyAccount.id == LedgerEntry.account_id)
        .where(MoneyAccount.unit_id == unit_id)
    )
    assert in_funds == in_accounts == 2_300_000


def test_goods_are_handed_out_from_the_register_never_from_money(treasurer):
    gift = {
        "donor": {"name": "Nhà sách Phương Nam", "kind": "organization"},
        "unit": "ST-TP-P2",
        "fund": "KH-ST-TP-P2",
        "amount": 15_000_000,
        "method": "in_kind",
        "in_kind_description": "Sách giáo khoa lớp 6",
        "quantity": 200,
        "unit_of_measure": "bộ",
        "received_on": "2024-03-01",
    }
    donation = treasurer.post("/api/v1/donations", gift).json
    first = treasurer.post(
        f"/api/v1/in-kind/{donation['id']}/hand-out", {"to": "Trường THCS Lê Lợi", "quantity": 30, "date": "2024-03-04"}
    )
    assert first.status_code == 201, first.json
    assert first.json["document"] == "HVX-ST-TP-P2/2024/00001" and first.json["value"] == -2_250_000
    assert first.json["quantity"] == -30
    too_many = treasurer.post(
        f"/api/v1/in-kind/{donation['id']}/hand-out", {"to": "Trường X", "quantity": 171, "date": "2024-03-05"}
    )
    assert too_many.status_code == 409 and "170" in too_many.json["message"]
    rest = treasurer.post(f"/api/v1/in-kind/{donation['id']}/hand-out", {"to": "Trường Y", "date": "2024-03-05"})
    assert rest.status_code == 201 and rest.json["quantity"] == -170 and rest.json["value"] == -12_750_000
    fund = next(f for f in treasurer.get("/api/v1/funds").json if f["code"] == "KH-ST-TP-P2")
    assert fund["in_kind_value"] == 0 and fund["balance"] == 0
    assert (
        treasurer.post(f"/api/v1/in-kind/{donation['id']}/hand-out", {"to": "Z", "date": "2024-03-06"}).status_code
        == 409
    )
    assert treasurer.post(f"/api/v1/donations/{donation['id']}/void", {"reason": "Nhầm"}).status_code == 409


def test_the_same_movement_sent_again_under_its_key_is_recorded_once(treasurer):
    movement(treasurer, "income", 3_000_000, category="thu-khac")
    body = {
        "kind": "transfer",
        "unit": "ST-TP-P2",
        "fund": "KH-ST-TP-P2",
        "account": accounts(treasurer)["cash"]["id"],
        "amount": 1_000_000,
        "date": "2024-03-05",
        "description": "Nộp tiền mặt vào tài khoản",
        "to": {"unit": "ST-TP-P2", "account": accounts(treasurer)["bank"]["id"]},
    }
    key = {"Idempotency-Key": "nop-tien-2024-03-05"}
    first = treasurer.post("/api/v1/movements", body, headers=key)
    again = treasurer.post("/api/v1/movements", body, headers=key)
    assert first.status_code == again.status_code == 201
    assert [m["id"] for m in again.json["movements"]] == [m["id"] for m in first.json["movements"]]
    assert balances(treasurer) == {"cash": 2_000_000, "bank": 1_000_000}
    other = treasurer.post("/api/v1/movements", {**body, "amount": 5}, headers=key)
    assert other.status_code == 422 and "Idempotency-Key" in other.json["errors"]
    assert treasurer.post("/api/v1/movements", body, headers={"Idempotency-Key": ""}).status_code == 422
    assert treasurer.post("/api/v1/movements", body, headers={"Idempotency-Key": "k" * 201}).status_code == 422
    # A gift's key is not a movement's: one table of keys, each for what it recorded.
    gift = {"donor": {"name": "Lê Văn Tám"}, "amount": 100_000, "method": "cash", "received_on": "2024-03-05"}
    assert treasurer.post("/api/v1/donations", gift, headers=key).status_code == 422


def test_a_transfer_whose_second_side_fails_leaves_neither(app, treasurer, monkeypatch):
    from fundsvc.ledger import movements as movements_module

    movement(treasurer, "income", 3_000_000, category="thu-khac")
    before_balances = balances(treasurer)
    before_count = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    real = movements_module._write_side
    written = []

    def second_side_fails(session, actor, kind, side, category, data):
        if written:
            raise RuntimeError("the disk failed between the two sides")
        written.append(real(session, actor, kind, side, category, data))
        return written[-1]

    monkeypatch.setattr(movements_module, "_write_side", second_side_fails)
    body = {
        "kind": "transfer",
        "unit": "ST-TP-P2",
        "fund": "KH-ST-TP-P2",
        "account": accounts(treasurer)["cash"]["id"],
        "amount": 1_000_000,
        "date": "2024-03-05",
        "description": "Nộp tiền",
        "to": {"unit": "ST-TP-P2", "account": accounts(treasurer)["bank"]["id"]},
    }
    failed = treasurer.post("/api/v1/movements", body)
    assert failed.status_code == 500 and written  # the first side was written, then the transaction failed
    db.session.rollback()
    assert balances(treasurer) == before_balances
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == before_count
    monkeypatch.setattr(movements_module, "_write_side", real)
    retried = treasurer.post("/api/v1/movements", body)
    # Nothing of the failed attempt is left, not even its document numbers.
    codes = [m["document"]["code"] for m in retried.json["movements"]]
    assert codes == ["PC-ST-TP-P2/2024/00001", "BC-ST-TP-P2/2024/00001"]
