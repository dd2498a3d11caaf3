"""SePay and Casso transfer notifications: authenticated by the account's key, recorded once however often (and however
concurrently) they are delivered, matched as statement lines; on both engines, through the API."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import select

from fundsvc.bank.models import StatementLine
from fundsvc.bank.notifications import casso_signature
from fundsvc.extensions import db
from tests.bank.test_statement_import import UNIT, bank_account, lines, pledge

SEPAY_KEY = "sepay-key-0123456789abcdef"
CASSO_SECRET = "casso-secret-0123456789abcdef"


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def treasurer(app, tree, make_api):
    return make_api(app, "treasurer", UNIT)


def set_key(api, account_id, provider, secret):
    return api.client.put(
        f"/api/v1/accounts/{account_id}/notification-keys/{provider}", json={"secret": secret}, headers=api._h(None)
    )


@pytest.fixture
def account(treasurer):
    account_id = bank_account(treasurer)
    for provider, secret in (("sepay", SEPAY_KEY), ("casso", CASSO_SECRET)):
        answer = set_key(treasurer, account_id, provider, secret)
        assert answer.status_code == 200, answer.json
        assert answer.json["hint"] == "…" + secret[-4:] and secret not in json.dumps(answer.json)
    detail = treasurer.get(f"/api/v1/units/{UNIT}/accounts").json
    return next(a for a in detail if a["id"] == account_id)


def sepay_body(account, transaction=92704, amount=500_000, content="ung ho quy", **extra):
    return {
        "id": transaction,
        "gateway": "Vietcombank",
        "transactionDate": "2026-10-01 14:02:37",
        "accountNumber": account["account_number"],
        "code": None,
        "content": content,
        "transferType": "in",
        "transferAmount": amount,
        "accumulated": 19_077_000,
        "subAccount": None,
        "referenceCode": f"MBVCB.{transaction}",
        "description": f"BankAPINotify {content}",
        **extra,
    }


def casso_body(account, transaction=1034, amount=300_000, description="ung ho"):
    return {
        "error": 0,
        "data": {
            "id": transaction,
            "reference": f"FT{transaction}",
            "description": description,
            "amount": amount,
            "runningBalance": 25_000_000,
            "transactionDateTime": "2026-10-02 09:00:00",
            "accountNumber": account["account_number"],
            "bankName": "Vietcombank",
            "bankAbbreviation": "VCB",
            "virtualAccountNumber": "",
            "virtualAccountName": "",
            "counterAccountName": "NGUYEN VAN A",
            "counterAccountNumber": "4525077405",
            "counterAccountBankId": "970415",
            "counterAccountBankName": "VietinBank",
        },
    }


def signed(body, secret=CASSO_SECRET, at_ms=None):
    at_ms = int(time.time() * 1000) if at_ms is None else at_ms
    return {"X-Casso-Signature": f"t={at_ms},v1={casso_signature(secret, at_ms, body)}"}


def post(client, provider, body, headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(
        f"/api/v1/bank-notifications/{provider}", data=data, headers=headers, content_type="application/json"
    )


def stored(app) -> int:
    with app.app_context():
        return db.session.query(StatementLine).count()


def test_a_sepay_notification_with_a_pledge_code_is_recorded_with_its_acknowledgement(app, account, treasurer):
    named = pledge(treasurer, 500_000, {"name": "Nguyễn Văn A"})
    body = sepay_body(account, content=f"MBVCB.123.{named['code'].replace(' ', '')} chuyen tien")
    answer = post(treasurer.client, "sepay", body, {"Authorization": f"Apikey {SEPAY_KEY}"})
    assert answer.status_code == 200 and answer.json["success"] is True and answer.json["recorded"] is True
    (line,) = lines(treasurer, account["id"], "matched")
    donation = treasurer.get(f"/api/v1/donations/{line['donation']}").json
    assert donation["amount"] == 500_000 and donation["method"] == "bank_transfer"
    assert treasurer.get("/api/v1/pledges?status=matched").json[0]["code"] == named["code"]
    again = post(treasurer.client, "sepay", body, {"Authorization": f"Apikey {SEPAY_KEY}"})
    assert again.status_code == 200 and again.json == {"success": True, "recorded": False}
    assert stored(app) == 1


def test_a_casso_notification_signed_is_a_line_and_a_later_statement_does_not_repeat_it(app, account, treasurer):
    body = casso_body(account)
    answer = post(treasurer.client, "casso", body, signed(body))
    assert answer.status_code == 200, answer.json
    (line,) = lines(treasurer, account["id"])
    assert line["status"] == "unmatched" and line["bank_reference"] == "FT1034" and line["amount"] == 300_000
    from tests.bank.statement_samples import workbook
    from tests.bank.test_statement_import import upload

    rows = [("02/10/2026", "FT1034", None, 300_000, "ung ho"), ("02/10/2026", "FT1035", None, 10_000, "x")]
    assert upload(treasurer, account["id"], workbook("VCB", rows, continuation=False)).json["duplicates"] == 1


def test_money_out_is_a_line_out(app, account, treasurer):
    body = casso_body(account, transaction=77, amount=-120_000, description="phi dich vu")
    assert post(treasurer.client, "casso", body, signed(body)).status_code == 200
    assert [(x["direction"], x["amount"]) for x in lines(treasurer, account["id"])] == [("out", 120_000)]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Apikey wrong-key-0123456789"},
        {"Authorization": f"Bearer {SEPAY_KEY}"},
    ],
)
def test_sepay_without_the_accounts_key_is_401_and_stores_nothing(app, account, treasurer, headers):
    answer = post(treasurer.client, "sepay", sepay_body(account), headers)
    assert answer.status_code == 401 and answer.json["code"] == 401
    assert stored(app) == 0


def test_casso_with_a_bad_signature_or_an_old_timestamp_is_401_and_stores_nothing(app, account, treasurer):
    body = casso_body(account)
    old = int(time.time() * 1000) - 10 * 60 * 1000
    tampered = {**body, "data": {**body["data"], "amount": 3_000_000}}
    for headers, sent in (
        (signed(body, secret="another-secret-0123456789"), body),
        (signed(body), tampered),
        (signed(body, at_ms=old), body),  # a replay of a genuine delivery, ten minutes later
        ({"X-Casso-Signature": "t=abc,v1=00"}, body),
        ({"Authorization": f"Apikey {CASSO_SECRET}"}, body),
    ):
        answer = post(treasurer.client, "casso", sent, headers)
        assert answer.status_code == 401, answer.json
    assert stored(app) == 0


def test_a_malformed_body_is_422_in_the_contracts_shape(app, account, treasurer):
    key = {"Authorization": f"Apikey {SEPAY_KEY}"}
    assert post(treasurer.client, "sepay", b"{not json", key).status_code == 422
    assert post(treasurer.client, "sepay", [1, 2], key).status_code == 422
    no_account = {k: v for k, v in sepay_body(account).items() if k != "accountNumber"}
    assert post(treasurer.client, "sepay", no_account, key).status_code == 422
    for wrong in ({"transferAmount": "500k"}, {"transferType": "sideways"}, {"transactionDate": "hôm qua"}):
        answer = post(treasurer.client, "sepay", sepay_body(account, **wrong), key)
        assert answer.status_code == 422 and set(answer.json) == {"code", "status", "message", "errors"}
        assert set(answer.json["errors"]) == set(wrong)
    v1 = {"error": 0, "data": [casso_body(account)["data"]]}
    assert post(treasurer.client, "casso", v1, signed(v1)).status_code == 422
    assert post(treasurer.client, "paypal", sepay_body(account), key).status_code == 404
    assert stored(app) == 0


def test_the_key_is_set_by_a_treasurer_or_admin_only(app, account, treasurer, make_api):
    viewer = make_api(app, "viewer", UNIT)
    assert set_key(viewer, account["id"], "sepay", "x" * 20).status_code == 403
    assert set_key(treasurer, account["id"], "sepay", "short").status_code == 422
    assert set_key(treasurer, account["id"], "paypal", "x" * 20).status_code == 404
    listed = treasurer.get(f"/api/v1/accounts/{account['id']}/notification-keys").json
    assert [k["provider"] for k in listed] == ["casso", "sepay"] and SEPAY_KEY not in json.dumps(listed)


def test_a_revoked_key_refuses_the_providers_notifications_and_is_audited(app, account, treasurer, make_api):
    key = {"Authorization": f"Apikey {SEPAY_KEY}"}
    path = f"/api/v1/accounts/{account['id']}/notification-keys/sepay"
    viewer = make_api(app, "viewer", UNIT)
    assert viewer.client.delete(path, headers=viewer._h(None)).status_code == 403
    assert treasurer.client.delete(path, headers=treasurer._h(None)).status_code == 204
    assert post(treasurer.client, "sepay", sepay_body(account), key).status_code == 401
    assert stored(app) == 0
    assert treasurer.client.delete(path, headers=treasurer._h(None)).status_code == 404  # nothing left to revoke
    listed = treasurer.get(f"/api/v1/accounts/{account['id']}/notification-keys").json
    assert [k["provider"] for k in listed] == ["casso"]
    with app.app_context():
        from fundsvc.audit.models import AuditEvent

        (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "notification_secret.revoke")).all()
        assert event.before == {"provider": "sepay", "hint": "…" + SEPAY_KEY[-4:]}
        assert SEPAY_KEY not in json.dumps(event.before)
        db.session.remove()


def test_five_concurrent_deliveries_record_once(app, account, treasurer):
    body = casso_body(account, transaction=555)
    headers = signed(body)
    answers = []
    start = threading.Barrier(5)

    def deliver():
        client = app.test_client()
        start.wait()
        answers.append(post(client, "casso", body, headers))

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200] * 5, [a.json for a in answers]
    assert sum(a.json["recorded"] for a in answers) == 1
    assert stored(app) == 1
