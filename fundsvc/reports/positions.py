"""Where a unit's money is on a day (the web's "Quỹ và tài khoản" page), every figure a book's or the summary's:

- each fund's balance is the summary's closing balance of the fund for the unit's subtree (`service.summary`, rolled
  up as the reports are), which is what the fund book of that fund for that unit closes at;
- each money account's balance is what its book (cash book, bank book) closes at on that day
  (`books.account_balances_on`, the rule the books open by);
- the goods held are what the in-kind register closes at (`books.in_kind_value_on`), apart from the money;
- the units below hold the summary's rolled-up closing balance of each.

So the funds' total equals the unit's own accounts plus what the units below hold (docs/books.md "Where money is").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fundsvc.auth.service import Actor, require_role
from fundsvc.documents.words import today_in_vietnam
from fundsvc.ledger.accounts import accounts_of_units
from fundsvc.ledger.models import Fund, MoneyAccount
from fundsvc.reports.books import READERS, account_balances_on, check_period, in_kind_value_on
from fundsvc.reports.service import summary
from fundsvc.units.models import Unit
from fundsvc.units.service import visible_unit


@dataclass(frozen=True)
class FundBalance:
    fund: Fund  # with its unit (the owner, which may be above the unit of the page)
    balance: int


@dataclass(frozen=True)
class AccountBalance:
    account: MoneyAccount
    balance: int


@dataclass(frozen=True)
class UnitBalance:
    code: str
    name: str
    balance: int  # the unit's subtree's money, rolled up


@dataclass(frozen=True)
class Positions:
    """A unit's funds, money accounts, goods and units below on `on`; the books of the period `date_from`–`on`."""

    unit: Unit
    date_from: date
    on: date
    funds: list[FundBalance]
    accounts: list[AccountBalance]
    below: list[UnitBalance]
    in_kind: int

    @property
    def funds_total(self) -> int:
        return sum(line.balance for line in self.funds)

    @property
    def accounts_total(self) -> int:
        return sum(line.balance for line in self.accounts)

    @property
    def below_total(self) -> int:
        return sum(line.balance for line in self.below)

    @property
    def money_total(self) -> int:
        """Where the funds' money is: the unit's own accounts and the units below."""
        return self.accounts_total + self.below_total


def positions_on(
    session: Session, actor: Actor, unit_code: str, on: date | None = None, date_from: date | None = None
) -> Positions:
    """The unit's funds (its subtree's share of each), its money accounts and its goods on `on` (today in Vietnam by
    default), with the units right below it; the period of the books it links starts on `date_from` (by default
    the first of January of `on`'s year)."""
    require_role(actor, *READERS)
    unit = visible_unit(session, actor, unit_code)
    on = on or today_in_vietnam()
    date_from = date_from or date(on.year, 1, 1)
    check_period(date_from, on)
    report = summary(session, actor, unit=unit.code, date_from=date_from, date_to=on)
    funds = {
        fund.code: fund
        for fund in session.scalars(
            select(Fund).options(joinedload(Fund.unit)).where(Fund.code.in_([row["code"] for row in report["funds"]]))
        )
    }
    accounts = accounts_of_units(session, [unit.id])
    balances = account_balances_on(session, [account.id for account in accounts], on)
    return Positions(
        unit=unit,
        date_from=date_from,
        on=on,
        funds=[FundBalance(funds[row["code"]], row["closing_balance"]) for row in report["funds"]],
        accounts=[AccountBalance(account, balances[account.id]) for account in accounts],
        below=[
            UnitBalance(row["code"], row["name"], row["closing_balance"])
            for row in report["units"]
            if row["parent"] == unit.code
        ],
        in_kind=in_kind_value_on(session, unit.id, on),
    )
