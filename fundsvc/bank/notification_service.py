"""Transfer notifications (SePay, Casso): authenticated by the key set for the bank account, stored once per provider
transaction id as a statement line of that account, matched as an imported line is (docs/bank.md).

The parsing and the signatures are fundsvc.bank.notifications; the storing and matching fundsvc.bank.statement_service.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fundsvc.audit.service import record
from fundsvc.auth.service import SYSTEM, Actor, require_role
from fundsvc.bank import notifications, statement_service, statements
from fundsvc.bank.models import NotificationSecret, StatementLine
from fundsvc.db import write_transaction
from fundsvc.errors import Invalid, NotFound, Unauthorized
from fundsvc.ledger.accounts import get_account
from fundsvc.ledger.models import MoneyAccount

MIN_SECRET = 16


def receive(session: Session, provider: str, headers, body, max_age_seconds: int) -> dict:
    """Record the transfer a provider notifies: {"recorded": True} the first time, {"recorded": False} for any
    retry. 401 unless the request carries the key of the account it names; 422 for a body that is not one."""
    if provider not in notifications.PROVIDERS:
        raise NotFound(f"Không có nhà cung cấp thông báo '{provider}' (unknown provider)")
    if not isinstance(body, dict):
        raise Invalid("Nội dung thông báo phải là một đối tượng JSON", {"json": ["an object"]})
    account = _authenticated_account(session, provider, headers, body, max_age_seconds)
    try:
        notice = notifications.READERS[provider](body)
    except notifications.NotificationRefused as refused:
        raise Invalid(str(refused), refused.errors) from None
    (key,) = statements.dedupe_keys([notice.line]) if notice.line.reference else [f"{provider}|{notice.transaction_id}"]
    if _already_there(session, account.id, provider, notice.transaction_id, key):
        return {"recorded": False}
    values = statement_service.new_line(account.id, None, notice.line, key)
    values.update(provider=provider, provider_id=notice.transaction_id)
    try:
        with write_transaction(session):
            statement_service.match_lines(session, account, [values])
            line = StatementLine(**values)
            session.add(line)
            session.flush()
            record(
                session,
                SYSTEM,
                "statement_line.notify",
                "statement_line",
                line.id,
                None,
                {"provider": provider, "transaction": notice.transaction_id, "amount": line.amount},
                account.unit_id,
            )
    except IntegrityError:
        # The same notification, delivered again at the same moment, was stored by the other delivery.
        session.rollback()
        return {"recorded": False}
    statement_service.record_matched(session, SYSTEM, [line])
    return {"recorded": True, "line": line.id}


def _authenticated_account(session: Session, provider: str, headers, body, max_age_seconds: int) -> MoneyAccount:
    """The bank account the notification names whose key it carries; 401 otherwise (nothing says which failed)."""
    number = notifications.account_number_of(provider, body)
    if not number:
        raise Invalid("Thông báo thiếu số tài khoản", {"accountNumber": ["required"]})
    now_ms = int(time.time() * 1000)
    keys = session.execute(
        select(MoneyAccount, NotificationSecret.secret)
        .join(NotificationSecret, NotificationSecret.account_id == MoneyAccount.id)
        .where(NotificationSecret.provider == provider, MoneyAccount.kind == "bank")
    )
    for account, secret in keys:
        if notifications.digits(account.account_number) == number and notifications.key_valid(
            provider, headers, body, secret, now_ms, max_age_seconds * 1000
        ):
            return account
    raise Unauthorized("Thông báo không xác thực được (bad or missing key or signature, or an old timestamp)")


def _already_there(session: Session, account_id: int, provider: str, transaction_id: str, key: str) -> bool:
    """The notification was stored before, or the bank line it reports came in an imported statement."""
    return (
        session.scalar(
            select(StatementLine.id).where(
                ((StatementLine.provider == provider) & (StatementLine.provider_id == transaction_id))
                | ((StatementLine.account_id == account_id) & (StatementLine.dedupe_key == key))
            )
        )
        is not None
    )


def bank_account(session: Session, actor: Actor, account_id: int) -> MoneyAccount:
    """A bank account of the actor's units whose keys the actor may see and set (a treasurer's, or an admin's)."""
    require_role(actor, "treasurer")
    account = get_account(session, actor, account_id)
    if account.kind != "bank":
        raise Invalid("Chỉ tài khoản ngân hàng nhận thông báo chuyển khoản", {"account": ["not a bank account"]})
    return account


def set_secret(session: Session, actor: Actor, account_id: int, provider: str, secret: str) -> NotificationSecret:
    """Set (or replace) the key a provider authenticates its notifications for the account with; audited without
    the key itself."""
    account = bank_account(session, actor, account_id)
    if provider not in notifications.PROVIDERS:
        raise NotFound(f"Không có nhà cung cấp thông báo '{provider}' (unknown provider)")
    secret = (secret or "").strip()
    if not MIN_SECRET <= len(secret) <= 200 or any(c.isspace() for c in secret):
        raise Invalid(
            f"Khóa phải dài {MIN_SECRET} đến 200 ký tự, không có khoảng trắng",
            {"secret": [f"{MIN_SECRET} to 200 characters, no spaces"]},
        )
    with write_transaction(session):
        row = session.scalar(
            select(NotificationSecret).where(
                NotificationSecret.account_id == account.id, NotificationSecret.provider == provider
            )
        )
        if row is None:
            row = NotificationSecret(account_id=account.id, provider=provider)
            session.add(row)
        row.secret, row.updated_by = secret, actor.user_id
        session.flush()
        record(session, actor, "notification_secret.set", "money_account", account.id, None, {"provider": provider})
    return row


def revoke_secret(session: Session, actor: Actor, account_id: int, provider: str) -> None:
    """Remove the provider's key for the account: its notifications are refused (401) from now on; audited. 404
    when the account has no key of that provider."""
    account = bank_account(session, actor, account_id)
    with write_transaction(session):
        row = session.scalar(
            select(NotificationSecret).where(
                NotificationSecret.account_id == account.id, NotificationSecret.provider == provider
            )
        )
        if row is None:
            raise NotFound(f"Tài khoản chưa có khóa thông báo của '{provider}' (no key to revoke)")
        session.delete(row)
        record(
            session,
            actor,
            "notification_secret.revoke",
            "money_account",
            account.id,
            {"provider": provider, "hint": hint(row.secret)},
            None,
            account.unit_id,
        )


def secrets_of(session: Session, actor: Actor, account_id: int) -> list[NotificationSecret]:
    account = bank_account(session, actor, account_id)
    return list(
        session.scalars(
            select(NotificationSecret)
            .where(NotificationSecret.account_id == account.id)
            .order_by(NotificationSecret.provider)
        )
    )


def hint(secret: str) -> str:
    """What is shown of a key: its last four characters."""
    return "…" + secret[-4:]
