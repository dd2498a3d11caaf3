"""The notification keys page of a bank account (set, replace, revoke; masked; the webhook URLs) and the balances a
statement file prints on the upload result and the reconciliation page, through the login session, on both engines
(the browser flow: tests/web/test_bank_browser.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fundsvc.audit.models import AuditEvent
from fundsvc.bank.models import NotificationSecret, StatementImport
from fundsvc.extensions import db
from tests.bank.statement_samples import LINES, workbook
from tests.web.test_bank_pages import UNIT, bank_account, text, upload

KEY = "sepay-web-key-0123456789WXYZ"


@pytest.fixture
def app(any_app):
    """Both engines (SQLite and PostgreSQL)."""
    return any_app


@pytest.fixture
def treasurer(app, tree, make_user, browser):
    return browser(make_user("thuquy.keys", "treasurer", UNIT))


def keys() -> dict[str, str]:
    db.session.rollback()
    return {row.provider: row.secret for row in db.session.scalars(select(NotificationSecret))}


def audit(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_key_is_set_shown_masked_replaced_and_revoked(app, treasurer):
    account = bank_account()
    path = f"/accounts/{account.id}/notification-keys"
    assert f'href="{path}"' in text(treasurer.get(f"/accounts/{account.id}"))
    page = text(treasurer.get(path))
    assert "http://localhost/api/v1/bank-notifications/sepay" in page
    assert "http://localhost/api/v1/bank-notifications/casso" in page
    assert page.count("Chưa đặt") == 2 and 'id="revoke-sepay"' not in page

    saved = treasurer.post(f"{path}/sepay", {"secret": f"  {KEY} "})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#key-sepay")
    assert keys() == {"sepay": KEY}
    page = text(treasurer.get(path))
    assert "…WXYZ" in page and KEY not in page and "Đã lưu khóa SePay (…WXYZ)" in page
    assert 'id="revoke-sepay"' in page and 'id="revoke-casso"' not in page

    replaced = treasurer.post(f"{path}/sepay", {"secret": "another-key-0123456789ABCD"})
    assert replaced.status_code == 302 and keys() == {"sepay": "another-key-0123456789ABCD"}
    assert [e.after for e in audit("notification_secret.set")] == [{"provider": "sepay"}] * 2

    revoked = treasurer.post(f"{path}/sepay/revoke")
    assert revoked.status_code == 302 and keys() == {}
    (event,) = audit("notification_secret.revoke")
    assert event.before == {"provider": "sepay", "hint": "…ABCD"} and event.unit_id == account.unit_id
    again = treasurer.post(f"{path}/sepay/revoke")  # revoked meanwhile in another tab: a message, not an error page
    assert again.status_code == 302 and "chưa có khóa" in text(treasurer.get(path))


def test_a_refused_key_is_answered_beside_its_field_and_not_typed_back(app, treasurer):
    path = f"/accounts/{bank_account().id}/notification-keys"
    for secret in ("short-9876", "has a space in it 0123456789", ""):
        answer = treasurer.post(f"{path}/casso", {"secret": secret})
        assert answer.status_code == 422
        page = text(answer)
        assert 'id="secret-casso-error"' in page and "16 đến 200 ký tự" in page
        assert not secret or secret not in page
    assert keys() == {}
    assert treasurer.post(f"{path}/paypal", {"secret": KEY}).status_code == 404


def test_the_keys_page_keeps_to_treasurers_and_admins_of_the_unit(app, tree, make_user, browser):
    account = bank_account()
    path = f"/accounts/{account.id}/notification-keys"
    viewer = browser(make_user("xem.keys", "viewer", UNIT))
    assert viewer.get(path).status_code == 403
    assert viewer.post(f"{path}/sepay", {"secret": KEY}).status_code == 403
    other = browser(make_user("thuquy.keys.p5", "treasurer", "ST-TP-P5"))
    assert other.get(path).status_code == 404
    assert other.post(f"{path}/sepay", {"secret": KEY}).status_code == 404
    admin = browser(make_user("quantri.keys", "admin"))
    assert admin.get(path).status_code == 200
    assert admin.post(f"{path}/casso", {"secret": KEY}).status_code == 302 and keys() == {"casso": KEY}


def test_the_balances_a_file_prints_are_shown_and_a_gap_is_a_warning(app, treasurer):
    account = bank_account()
    good = text(upload(treasurer, account.id, workbook("VCB")))
    assert 'id="import-balances"' in good and "10.000.000 đ" in good and "11.300.000 đ" in good
    assert "Khớp: số dư đầu kỳ" in good and 'id="balance-warning"' not in good
    extra = ("03/10/2026", "FT9", None, 50_000, "ung ho")
    short = upload(treasurer, account.id, workbook("VCB", [*LINES, extra]))
    assert short.status_code == 200
    assert 'id="balance-warning"' in text(short) and "Lệch -50.000 đ" in text(short)
    page = text(treasurer.get(f"/accounts/{account.id}/reconciliation"))
    assert page.count("Khớp: số dư đầu kỳ") == 1 and "Lệch -50.000 đ" in page and 'id="statement-imports"' in page
    db.session.rollback()
    assert [i.balance_gap for i in db.session.scalars(select(StatementImport).order_by(StatementImport.id))] == [
        0,
        -50_000,
    ]
