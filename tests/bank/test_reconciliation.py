"""A bank account reconciled on a date: the bank's last printed balance against the books, the difference explained
by the lines not in the books and the book entries not on the statement; on both engines, through the API."""

from __future__ import annotations

import pytest

from fundsvc.bank.reconciliation import closing_balance
from tests.bank.test_statement_import import UNIT, bank_account, lines, upload

HEADER = "STT,Ngày giao dịch,Số tham chiếu,Số tiền ghi nợ,Số tiền ghi có,Số dư,Mô tả\n"


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def treasurer(app, tree, make_api):
    return make_api(app, "treasurer", UNIT)


def test_the_last_line_of_a_day_is_found_whichever_way_the_file_lists_it():
    ascending = [(1, 100, 1100), (2, -30, 1070), (3, 50, 1120)]
    assert closing_balance(ascending) == 1120
    assert closing_balance([(9 - i, s, b) for i, s, b in reversed(ascending)]) == 1120  # newest first
    assert closing_balance([(1, 100, 500), (2, -100, 400), (3, 100, 500)]) == 500  # the chain does not tell


def test_the_difference_is_explained_by_unmatched_lines_and_unbooked_movements(app, treasurer):
    account = bank_account(treasurer)
    gift = {"donor": {"name": "Ông Tư"}, "amount": 100_000, "unit": UNIT, "received_on": "2026-10-01"}
    booked = treasurer.post("/api/v1/donations", {**gift, "method": "bank_transfer", "account": account})
    assert booked.status_code == 201, booked.json
    statement = (
        HEADER + "1,01/10/2026,FT1,,250.000,250.000,ung ho hoc bong\n2,02/10/2026,FT2,20.000,,230.000,phi SMS\n"
    ).encode()
    assert upload(treasurer, account, statement, "vcb.csv").status_code == 200

    before = treasurer.get(f"/api/v1/accounts/{account}/reconciliation?on=2026-09-30").json
    assert before["bank_balance"] is None and before["difference"] is None

    seen = treasurer.get(f"/api/v1/accounts/{account}/reconciliation?on=2026-10-02").json
    assert (seen["bank_balance"], seen["bank_balance_on"], seen["book_balance"]) == (230_000, "2026-10-02", 100_000)
    assert seen["difference"] == 130_000
    assert (seen["unmatched_lines"]["count"], seen["unmatched_lines"]["total"]) == (2, 230_000)
    assert (seen["unbooked_movements"]["count"], seen["unbooked_movements"]["total"]) == (1, 100_000)
    assert seen["unexplained"] == 0

    first = next(x for x in lines(treasurer, account) if x["bank_reference"] == "FT1")
    donor = booked.json["donor"]["id"]
    assert treasurer.post(f"/api/v1/statement-lines/{first['id']}/confirm", {"donor": donor}).status_code == 200
    after = treasurer.get(f"/api/v1/accounts/{account}/reconciliation?on=2026-10-02").json
    assert (after["book_balance"], after["difference"], after["unmatched_lines"]["total"]) == (
        350_000,
        -120_000,
        -20_000,
    )
    assert after["unbooked_movements"]["total"] == 100_000 and after["unexplained"] == 0

    first_day = treasurer.get(f"/api/v1/accounts/{account}/reconciliation?on=2026-10-01").json
    assert first_day["bank_balance"] == 250_000 and first_day["unexplained"] == 0


def test_bad_dates_and_other_accounts_are_refused(app, treasurer, make_api):
    account = bank_account(treasurer)
    assert treasurer.get(f"/api/v1/accounts/{account}/reconciliation?on=hom-qua").status_code == 422
    cash = next(a["id"] for a in treasurer.get(f"/api/v1/units/{UNIT}/accounts").json if a["kind"] == "cash")
    assert treasurer.get(f"/api/v1/accounts/{cash}/reconciliation").status_code == 422
    outsider = make_api(app, "treasurer", "ST-VC")
    assert outsider.get(f"/api/v1/accounts/{account}/reconciliation").status_code == 404
