"""The notification keys of a bank account (SePay, Casso) as a page: set, replace or revoke each, the webhook URL to
paste into the provider. The rules (who may, what a key must be, the audit) are fundsvc.bank.notification_service's,
as for `PUT /api/v1/accounts/{id}/notification-keys/{provider}`; a key is never shown again after it is saved (only
its last four characters), and a refused one is not typed back into the form."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fundsvc.bank import notification_service, notifications
from fundsvc.errors import NotFound
from fundsvc.extensions import db
from fundsvc.web.auth import roles_required
from fundsvc.web.util import REFUSED
from fundsvc.web.views import bp

PROVIDER_NAMES = {"sepay": "SePay", "casso": "Casso"}


@bp.get("/accounts/<int:account_id>/notification-keys")
@roles_required("treasurer")
def notification_keys_page(account_id):
    """Each provider's key of the account (masked) and its webhook URL."""
    return _render(account_id, {})


def _render(account_id: int, errors: dict[str, str], status: int = 200):
    # The service checks the role and that the account is a bank account of the user's units (403/404/422).
    account = notification_service.bank_account(db.session, g.actor, account_id)
    keys = {row.provider: row for row in notification_service.secrets_of(db.session, g.actor, account.id)}
    providers = [
        {
            "code": provider,
            "name": PROVIDER_NAMES[provider],
            "key": keys.get(provider),
            "hint": notification_service.hint(keys[provider].secret) if provider in keys else None,
            "webhook": url_for("bank_notifications.receive", provider=provider, _external=True),
        }
        for provider in notifications.PROVIDERS
    ]
    context = {
        "account": account,
        "providers": providers,
        "errors": errors,
        "min_length": notification_service.MIN_SECRET,
    }
    return render_template("web/bank_keys.html", **context), status


@bp.post("/accounts/<int:account_id>/notification-keys/<provider>")
@roles_required("treasurer")
def notification_key_set(account_id, provider):
    """Set or replace the provider's key with the one typed (then shown only by its last characters)."""
    try:
        row = notification_service.set_secret(db.session, g.actor, account_id, provider, request.form.get("secret"))
    except REFUSED as error:
        flash(_("Chưa lưu khóa: %(message)s", message=error.message), "error")
        return _render(account_id, {provider: error.message}, error.status)
    flash(
        _(
            "Đã lưu khóa %(provider)s (%(hint)s). Khóa không hiện lại đầy đủ nữa.",
            provider=PROVIDER_NAMES[provider],
            hint=notification_service.hint(row.secret),
        ),
        "success",
    )
    return redirect(url_for("web.notification_keys_page", account_id=account_id, _anchor=f"key-{provider}"))


@bp.post("/accounts/<int:account_id>/notification-keys/<provider>/revoke")
@roles_required("treasurer")
def notification_key_revoke(account_id, provider):
    """Revoke the provider's key: its notifications for this account are refused from now on."""
    try:
        notification_service.revoke_secret(db.session, g.actor, account_id, provider)
    except (*REFUSED, NotFound) as error:  # no key to revoke (revoked meanwhile in another tab)
        flash(error.message, "error")
    else:
        flash(
            _(
                "Đã thu hồi khóa %(provider)s: thông báo từ %(provider)s cho tài khoản này sẽ bị từ chối.",
                provider=PROVIDER_NAMES[provider],
            ),
            "success",
        )
    return redirect(url_for("web.notification_keys_page", account_id=account_id, _anchor=f"key-{provider}"))
