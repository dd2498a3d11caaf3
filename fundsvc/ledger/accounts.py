"""Money accounts: where a unit's money is (docs/books.md "Where money is").

Every unit has exactly one cash account from its creation and any number of bank accounts. Every ledger entry
names one, so each account has a balance, and a unit's funds and its money accounts hold the same total.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role, require_unit
from fundsvc.db import DriverStatement, write_transaction
from fundsvc.documents.words import format_vnd
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.ledger.models import BANK_LEDGER_ACCOUNT, LedgerEntry, MoneyAccount
from fundsvc.units.models import Unit, UnitRef
from fundsvc.units.service import visible_unit

BANK_FIELDS = ("name", "bank_name", "bank_bin", "account_number", "account_holder", "ledger_account")


_ACCOUNTS = MoneyAccount.__table__
_CASH_OF = DriverStatement(
    select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.unit_id == bindparam("unit_id"), _ACCOUNTS.c.kind == "cash")
)


def cash_account_id(connection: Connection, unit: Unit | UnitRef) -> int:
    """The id of the unit's cash account."""
    (account_id,) = _CASH_OF.first(connection, {"unit_id": unit.id})
    return account_id


def bank_account_id(
    connection: Connection, unit: Unit | UnitRef, requested: int | None, *, field: str = "account"
) -> int:
    """The bank account a transfer reached: the one requested (it must be a bank account of the unit), else the
    unit's only bank account; 422 when the unit has none, or several and none was named."""
    if requested is not None:
        row = connection.execute(
            select(_ACCOUNTS.c.unit_id, _ACCOUNTS.c.kind).where(_ACCOUNTS.c.id == requested)
        ).first()
        if row is None or row.unit_id != unit.id or row.kind != "bank":
            raise Invalid(
                f"Tài khoản {requested} không phải tài khoản ngân hàng của {unit.code} "
                "(not a bank account of the unit)",
                {field: [f"not a bank account of {unit.code}"]},
            )
        return requested
    banks = list(
        connection.execute(
            select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.unit_id == unit.id, _ACCOUNTS.c.kind == "bank")
        ).scalars()
    )
    if not banks:
        raise Invalid(
            f"{unit.code} chưa khai báo tài khoản ngân hàng nào (the unit has no bank account)",
            {field: ["the unit has no bank account: add one first"]},
        )
    if len(banks) > 1:
        raise Invalid(
            f"{unit.code} có nhiều tài khoản ngân hàng: cần chọn tài khoản nhận (several bank accounts)",
            {field: ["required: the unit has several bank accounts"]},
        )
    return banks[0]


def account_balance(session: Session | Connection, account_id: int) -> int:
    """The money in an account: the sum of its ledger entries."""
    return int(
        session.execute(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == account_id)
        ).scalar_one()
    )


def require_cover(session: Session | Connection, account_id: int, amount: int, what: str) -> None:
    """409 unless the account holds at least `amount`: a cash box never holds less than nothing."""
    held = account_balance(session, account_id)
    if held < amount:
        raise Conflict(
            f"Số dư tài khoản tiền không đủ để {what}: còn {format_vnd(held)} đồng, cần {format_vnd(amount)} đồng "
            "(the money account would go below zero)",
            {"account": [f"balance {held} is less than {amount}"]},
        )


@dataclass(frozen=True)
class AccountPosition:
    account: MoneyAccount
    balance: int


def accounts_of_units(session: Session, unit_ids: list[int]) -> list[MoneyAccount]:
    """The money accounts of these units (the caller has checked it may see them), cash first within a unit."""
    return list(
        session.scalars(
            select(MoneyAccount)
            .where(MoneyAccount.unit_id.in_(unit_ids))
            .order_by(MoneyAccount.unit_id, MoneyAccount.kind.desc(), MoneyAccount.id)
        )
    )


def list_accounts(session: Session, actor: Actor, unit_code: str) -> list[AccountPosition]:
    """A unit's money accounts (cash first) with their balances."""
    unit = visible_unit(session, actor, unit_code)
    accounts = list(
        session.scalars(
            select(MoneyAccount)
            .where(MoneyAccount.unit_id == unit.id)
            .order_by(MoneyAccount.kind.desc(), MoneyAccount.id)
        )
    )
    balances = dict(
        session.execute(
            select(LedgerEntry.account_id, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.account_id.in_([a.id for a in accounts]))
            .group_by(LedgerEntry.account_id)
        ).all()
    )
    return [AccountPosition(a, int(balances.get(a.id) or 0)) for a in accounts]


def add_bank_account(session: Session, actor: Actor, unit_code: str, data: dict) -> MoneyAccount:
    """Declare a bank account of a unit (treasurer or admin of the unit or above)."""
    require_role(actor, "treasurer")
    with write_transaction(session):
        unit = visible_unit(session, actor, unit_code)
        account = MoneyAccount(unit=unit, kind="bank", ledger_account=data.get("ledger_account") or BANK_LEDGER_ACCOUNT)
        for name in BANK_FIELDS[:-1]:
            setattr(account, name, data.get(name))
        session.add(account)
        session.flush()
        record(session, actor, "account.create", "money_account", account.id, None, _state(account), unit.id)
    return account


def get_account(session: Session, actor: Actor, account_id: int) -> MoneyAccount:
    """A money account of a unit in the actor's scope; 404 otherwise."""
    account = session.get(MoneyAccount, account_id)
    if account is None or not actor.sees(account.unit):
        raise NotFound(f"Không có tài khoản tiền {account_id} (unknown account)")
    return account


def update_account(session: Session, actor: Actor, account_id: int, data: dict) -> MoneyAccount:
    """Change a money account's details (its kind and unit never change)."""
    require_role(actor, "treasurer")
    with write_transaction(session):
        account = get_account(session, actor, account_id)
        require_unit(actor, account.unit)
        before = _state(account)
        for name in BANK_FIELDS:
            if name in data and (account.kind == "bank" or name in ("name", "ledger_account")):
                setattr(account, name, data[name])
        session.flush()
        record(session, actor, "account.update", "money_account", account.id, before, _state(account), account.unit_id)
    return account


def _state(account: MoneyAccount) -> dict:
    return {"kind": account.kind, **{name: getattr(account, name) for name in BANK_FIELDS}}
