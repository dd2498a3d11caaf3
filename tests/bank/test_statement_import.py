"""A statement imported into a bank account: lines stored once, matched to pledges, confirmed or ignored; on both
engines, through the API."""

from __future__ import annotations

import io

import pytest

from tests.bank.statement_samples import LINES, workbook

UNIT = "ST-TP-P2"


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def treasurer(app, tree, make_api):
    return make_api(app, "treasurer", UNIT)


def bank_account(api) -> int:
    return next(a["id"] for a in api.get(f"/api/v1/units/{UNIT}/accounts").json if a["kind"] == "bank")


def upload(api, account, data: bytes, name="sao-ke.xlsx"):
    return api.post(
        f"/api/v1/accounts/{account}/statements",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def pledge(api, amount, donor=None):
    body = {"unit": UNIT, "amount": amount, **({"donor": donor} if donor else {})}
    answer = api.post("/api/v1/pledges", body)
    assert answer.status_code == 201, answer.json
    return answer.json


def lines(api, account, status=None):
    return api.get(f"/api/v1/accounts/{account}/statement-lines" + (f"?status={status}" if status else "")).json


def test_a_statement_is_matched_by_pledge_code_and_a_reimport_adds_only_new_lines(app, treasurer):
    account = bank_account(treasurer)
    named = pledge(treasurer, 500_000, {"name": "Nguyễn Văn A"})
    unnamed = pledge(treasurer, 700_000)
    squeezed = named["code"].replace(" ", "").lower()
    rows = [
        ("01/10/2026", "FT1", None, 500_000, f"MBVCB.4525077405.{squeezed} NGUYEN VAN A chuyen tien"),
        ("01/10/2026", "FT2", None, 700_000, "ung ho quy khuyen hoc"),  # the amount of exactly one open pledge
        ("02/10/2026", None, None, 100_000, "ung ho"),
        ("02/10/2026", None, None, 100_000, "ung ho"),  # a second, genuine, equal transfer
        ("03/10/2026", "FT5", 200_000, None, "Chi thuong hoc sinh"),
    ]
    first = upload(treasurer, account, workbook("VCB", rows, continuation=False))
    assert first.status_code == 200, first.json
    counts = {"lines": 5, "new": 5, "duplicates": 0, "matched": 1, "suggested": 1, "unmatched": 3}
    assert {key: first.json[key] for key in counts} == counts
    matched = lines(treasurer, account, "matched")
    assert [line["amount"] for line in matched] == [500_000] and matched[0]["donation"]
    donation = treasurer.get(f"/api/v1/donations/{matched[0]['donation']}").json
    assert donation["method"] == "bank_transfer" and donation["amount"] == 500_000
    assert treasurer.get("/api/v1/pledges?status=matched").json[0]["code"] == named["code"]
    (suggested,) = lines(treasurer, account, "suggested")
    assert suggested["suggestion"]["pledge"] == unnamed["id"] and unnamed["code"] in suggested["suggestion"]["why"]

    again = upload(treasurer, account, workbook("VCB", [*rows, ("04/10/2026", "FT6", None, 50_000, "x")], False))
    assert again.json["new"] == 1 and again.json["duplicates"] == 5
    assert len(lines(treasurer, account)) == 6


def test_a_suggestion_is_confirmed_with_a_donor_or_ignored_with_a_reason(app, treasurer):
    account = bank_account(treasurer)
    rows = [("05/10/2026", "FT7", None, 300_000, "ung ho"), ("05/10/2026", "FT8", None, 40_000, "hoan tien")]
    assert upload(treasurer, account, workbook("BIDV", rows, continuation=False)).json["unmatched"] == 2
    first, second = sorted(lines(treasurer, account), key=lambda line: line["bank_reference"])
    refused = treasurer.post(f"/api/v1/statement-lines/{first['id']}/confirm", {})
    assert refused.status_code == 422 and "donor" in refused.json["errors"]
    donor = treasurer.post(
        "/api/v1/donations",
        {"donor": {"name": "Bà Lan"}, "amount": 1000, "method": "cash", "received_on": "2026-10-01", "unit": UNIT},
    ).json["donor"]["id"]
    confirmed = treasurer.post(f"/api/v1/statement-lines/{first['id']}/confirm", {"donor": donor})
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["status"] == "matched" and confirmed.json["donation"]
    assert treasurer.post(f"/api/v1/statement-lines/{first['id']}/confirm", {"donor": donor}).status_code == 409
    assert treasurer.post(f"/api/v1/statement-lines/{second['id']}/ignore", {"reason": " "}).status_code == 422
    ignored = treasurer.post(f"/api/v1/statement-lines/{second['id']}/ignore", {"reason": "Hoàn tiền phí"})
    assert ignored.json["status"] == "ignored" and ignored.json["ignore_reason"] == "Hoàn tiền phí"


def test_a_bad_file_stores_nothing_and_lists_its_rows(app, treasurer, make_api):
    account = bank_account(treasurer)
    bad = [
        ("01/10/2026", "A", None, 1000, "x"),
        ("31/02/2026", "B", None, 1000, "y"),
        ("01/10/2026", "C", None, "abc", "z"),
    ]
    answer = upload(treasurer, account, workbook("VCB", bad, continuation=False))
    assert answer.status_code == 422 and [row["row"] for row in answer.json["errors"]["rows"]] == [6, 7]
    assert lines(treasurer, account) == []
    for hostile, name in ((b"PK\x03\x04 not really", "sao-ke.xlsx"), (b"\x00" * 100, "x.csv")):
        refused = upload(treasurer, account, hostile, name)
        assert refused.status_code == 422, refused.json
    assert lines(treasurer, account) == []
    viewer = make_api(app, "viewer", UNIT)
    assert upload(viewer, account, workbook("VCB")).status_code == 403
    outsider = make_api(app, "treasurer", "ST-TP-P5")
    assert upload(outsider, account, workbook("VCB")).status_code == 404


def test_an_outgoing_line_matches_the_payment_with_its_reference_and_amount(app, treasurer):
    account = bank_account(treasurer)
    gift = {"donor": {"name": "Ông Tư"}, "amount": 1_000_000, "method": "bank_transfer", "account": account}
    assert treasurer.post("/api/v1/donations", {**gift, "received_on": "2026-10-01", "unit": UNIT}).status_code == 201
    expense = {"kind": "expense", "unit": UNIT, "fund": "KH-ST-TP-P2", "account": account, "amount": 200_000}
    paid = treasurer.post(
        "/api/v1/movements",
        {**expense, "date": "2026-10-02", "category": "chi-khac", "description": "Mua vở", "bank_reference": "UNC9"},
    )
    assert paid.status_code == 201, paid.json
    rows = [("02/10/2026", "UNC9", 200_000, None, "Chi mua vo"), ("02/10/2026", "UNC10", 200_000, None, "Chi khac")]
    assert upload(treasurer, account, workbook("MB", rows, continuation=False)).json["matched"] == 1
    (matched,) = lines(treasurer, account, "matched")
    assert matched["bank_reference"] == "UNC9" and matched["donation"] is None
    assert [line["bank_reference"] for line in lines(treasurer, account, "unmatched")] == ["UNC10"]


def test_the_balances_a_file_prints_are_kept_and_a_closing_balance_that_does_not_add_up_is_a_warning(app, treasurer):
    account = bank_account(treasurer)
    adds_up = upload(treasurer, account, workbook("AGRIBANK")).json
    assert {k: adds_up[k] for k in ("opening_balance", "closing_balance", "money_in", "money_out")} == {
        "opening_balance": 10_000_000,
        "closing_balance": 11_300_000,
        "money_in": 1_500_000,
        "money_out": 200_000,
    }
    assert adds_up["balance_gap"] == 0 and adds_up["warnings"] == []
    # The same lines again (all repeated, none new): the file's totals are its own, so it still adds up.
    assert upload(treasurer, account, workbook("AGRIBANK")).json["balance_gap"] == 0
    extra = ("03/10/2026", "FT9", None, 50_000, "ung ho")
    short = upload(treasurer, account, workbook("AGRIBANK", [*LINES, extra], balances=(10_000_000, 11_300_000)))
    assert short.status_code == 200 and short.json["new"] == 1  # stored all the same
    assert short.json["balance_gap"] == -50_000
    (warning,) = short.json["warnings"]
    assert "(11.300.000 đồng)" in warning and "lệch -50.000 đồng" in warning
    unprinted = upload(treasurer, account, workbook("AGRIBANK", [extra], False, balances=(None, None))).json
    assert unprinted["opening_balance"] is None and unprinted["balance_gap"] is None and unprinted["warnings"] == []
