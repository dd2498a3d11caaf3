"""Reports from the ledger: the summary rolled up the unit tree, the fund book (sổ quỹ), the yearly public statement.

Every money figure is a sum of ledger entries (a donation's gift, its reversal, an award's payment), so the
reports agree with the ledger to the đồng by construction; counts of donations come from the donations and
counts of awards from the disbursement entries joined to their awards.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, func, literal, not_, null, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from fundsvc.allocation.models import Award, Round
from fundsvc.audit.service import record
from fundsvc.auth.models import User
from fundsvc.auth.service import Actor, require_role, require_unit
from fundsvc.db import utcnow, write_transaction
from fundsvc.documents.cells import sheet_text
from fundsvc.documents.parallel import write_long_pdf
from fundsvc.documents.render import render_html, render_pdf
from fundsvc.documents.service import METHOD_LABELS, DocumentSettings
from fundsvc.documents.words import VN_TZ, format_date, format_vnd, today_in_vietnam
from fundsvc.donations.models import METHODS, Donation, Donor
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.ledger.models import Fund, InKindEntry, LedgerEntry, Movement, Period
from fundsvc.ledger.service import default_fund_for, get_fund, statement
from fundsvc.privacy import sees_donor_contact
from fundsvc.reports import books, charts
from fundsvc.reports.books import check_period as _check_period
from fundsvc.reports.models import PublicStatement
from fundsvc.students.models import Nomination
from fundsvc.units.models import Unit
from fundsvc.units.service import tree_paths_on, visible_unit

READERS = ("treasurer", "committee", "viewer")
LEVEL_LABELS = {
    "primary": "Tiểu học",
    "lower_secondary": "Trung học cơ sở",
    "upper_secondary": "Trung học phổ thông",
    "university": "Đại học, cao đẳng",
    None: "Chưa phân cấp",
}
NO_TIER = "Không phân mức"
ANONYMOUS = "Nhà hảo tâm ẩn danh"
# Public lists longer than this are summarised (a province hands out ~100,000 awards a year; the full
# list of pupils is posted by each commune, whose own statement stays under the limit).
PUBLIC_LIST_LIMIT = 2000


# ---------------------------------------------------------------------------------------------------------
# Figures


# Money in that is not a gift: other income, transfers received, opening balances booked in the period.
OTHER_IN = ("income", "transfer", "opening_balance")
# Money out: awards paid, expenses, transfers to other accounts, funds or units.
OUT = ("awards", "expense", "transfer")
OTHER_IN_LABELS = {
    "income": "Thu khác (lãi tiền gửi, hoàn trả…)",
    "transfer": "Nhận chuyển từ tài khoản, quỹ hoặc đơn vị khác",
    "opening_balance": "Số dư nhập sổ ban đầu",
}
OUT_LABELS = {
    "awards": "Chi học bổng",
    "expense": "Chi khác (tổ chức lễ, mua hiện vật, phí ngân hàng…)",
    "transfer": "Chuyển sang tài khoản, quỹ hoặc đơn vị khác",
}


@dataclass
class Figures:
    """The money and counts of one node (a unit, a fund, the whole scope) for a period."""

    opening: int = 0
    money_in: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METHODS, 0))  # gifts, by method
    other_in: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OTHER_IN, 0))  # positive
    out_by: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUT, 0))  # positive
    reversals: int = 0  # positive: money given back (voided documents count nowhere, so only legacy rows)
    in_kind: int = 0  # the agreed value of goods received: apart, never money
    adjustments: int = 0  # signed: corrections of closed periods
    donations: int = 0
    donations_void: int = 0
    donors: int = 0  # distinct donors of the node, counted by the database (not a sum over the parts)
    awards_by_level: dict[str | None, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    awards_by_tier: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def in_total(self) -> int:
        """Gifts of money: cash and bank transfers (goods are reported apart; other income too)."""
        return sum(v for k, v in self.money_in.items() if k != "in_kind")

    @property
    def out(self) -> int:
        """Money out: awards paid, expenses, transfers to other accounts, funds or units."""
        return sum(self.out_by.values())

    @property
    def net(self) -> int:
        """The period's sum of ledger entries."""
        return self.in_total + sum(self.other_in.values()) - self.reversals - self.out + self.adjustments

    @property
    def closing(self) -> int:
        return self.opening + self.net

    def add(self, other: Figures) -> None:
        """Fold another node's figures into this one (the roll-up)."""
        self.opening += other.opening
        pairs = ((self.money_in, other.money_in), (self.other_in, other.other_in), (self.out_by, other.out_by))
        for into, source in pairs:
            for key, amount in source.items():
                into[key] = into.get(key, 0) + amount
        self.reversals += other.reversals
        self.in_kind += other.in_kind
        self.adjustments += other.adjustments
        self.donations += other.donations
        self.donations_void += other.donations_void
        for key, (count, amount) in other.awards_by_level.items():
            self.awards_by_level[key][0] += count
            self.awards_by_level[key][1] += amount
        for key, (count, amount) in other.awards_by_tier.items():
            self.awards_by_tier[key][0] += count
            self.awards_by_tier[key][1] += amount

    def add_entry(self, kind: str, method: str | None, amount: int, movement_kind: str | None = None) -> None:
        """A (grouped) ledger amount on the line of the report its entry belongs to."""
        if kind == "donation":
            key = method or "cash"
            self.money_in[key] = self.money_in.get(key, 0) + amount
        elif kind == "reversal":
            self.reversals -= amount
        elif kind == "disbursement":
            self.out_by["awards"] -= amount
        elif kind == "movement" and movement_kind in ("income", "opening_balance"):
            self.other_in[movement_kind] += amount
        elif kind == "movement" and movement_kind == "expense":
            self.out_by["expense"] -= amount
        elif kind == "movement" and movement_kind == "transfer":
            if amount >= 0:
                self.other_in["transfer"] += amount
            else:
                self.out_by["transfer"] -= amount
        else:
            self.adjustments += amount

    def as_dict(self) -> dict:
        """The JSON shape of docs/api.md's summary figures."""
        levels = sorted(self.awards_by_level.items(), key=lambda kv: _level_order(kv[0]))
        return {
            "opening_balance": self.opening,
            "in": {
                **{m: self.money_in.get(m, 0) for m in METHODS if m != "in_kind"},
                "in_kind": self.in_kind,
                "total": self.in_total,
            },
            "other_in": dict(self.other_in),
            "reversals": self.reversals,
            "out": self.out,
            "out_by": dict(self.out_by),
            "adjustments": self.adjustments,
            "net": self.net,
            "closing_balance": self.closing,
            "balance": self.closing,
            "donations": self.donations,
            "donations_void": self.donations_void,
            "donors": self.donors,
            "awards": {
                "count": sum(c for c, _a in self.awards_by_level.values()),
                "amount": sum(a for _c, a in self.awards_by_level.values()),
                "by_level": {(k or "unknown"): {"count": c, "amount": a} for k, (c, a) in levels if c},
                "by_tier": {k: {"count": c, "amount": a} for k, (c, a) in sorted(self.awards_by_tier.items()) if c},
            },
        }


def _level_order(level: str | None) -> int:
    keys = list(LEVEL_LABELS)
    return keys.index(level) if level in keys else len(keys)


@dataclass
class DonorCounts:
    """Distinct donors of the period's standing gifts, counted by the database for each node of the report: a
    donor who gave to two communes counts once in their district."""

    own: dict[int, int] = field(default_factory=dict)  # unit id -> its own gifts' donors
    rolled: dict[int, int] = field(default_factory=dict)  # unit id -> its subtree's
    per_fund: dict[int, int] = field(default_factory=dict)
    total: int = 0


@dataclass
class Collected:
    """Per-(unit, fund) figures of a scope and period, before any roll-up, and the donors of each node."""

    scope: Unit | None
    units: list[Unit]
    cells: dict[tuple[int, int], Figures]
    funds: dict[int, Fund]
    # Each unit's path as the tree stood at the period's end (units moved since roll up where they were then).
    paths: dict[int, str]
    donors: DonorCounts = field(default_factory=DonorCounts)


def _scope_path(scope: Unit | None) -> str:
    return scope.path if scope is not None else "/"


def voided_entries():
    """The ledger entries of voided documents (docs/books.md "Voids"): a document's entry and its reversal, which
    share its date, are left out together, so no total includes it only to subtract it again."""
    # Each test guarded by IS NOT NULL: `NULL IN (…)` is NULL, and NOT NULL would drop every other entry.
    return or_(
        and_(
            LedgerEntry.donation_id.is_not(None),
            LedgerEntry.donation_id.in_(select(Donation.id).where(Donation.status == "void")),
        ),
        and_(
            LedgerEntry.movement_id.is_not(None),
            LedgerEntry.movement_id.in_(select(Movement.id).where(Movement.status == "void")),
        ),
    )


def _between(column, date_from: date | None, date_to: date | None) -> list:
    """The conditions of a period on a date column (none for an open end)."""
    return [
        *([column >= date_from] if date_from is not None else []),
        *([column <= date_to] if date_to is not None else []),
    ]


def _subtree_on(session: Session, scope: Unit | None, day: date | None) -> tuple[list[Unit], dict[int, str]]:
    """The scope's units as the tree stood at the end of `day`, in tree order, and their paths then."""
    moved = tree_paths_on(session, day)
    if moved is None:  # the tree as it is now: the subtree is one prefix match
        path = _scope_path(scope)
        units = list(session.scalars(select(Unit).where(Unit.path.startswith(path)).order_by(Unit.path)))
        return units, {u.id: u.path for u in units}
    path = moved[scope.id] if scope is not None else "/"
    paths = {unit_id: p for unit_id, p in moved.items() if p.startswith(path)}
    units = sorted(session.scalars(select(Unit).where(Unit.id.in_(list(paths)))), key=lambda u: paths[u.id])
    return units, paths


def collect(session: Session, scope: Unit | None, date_from: date | None, date_to: date | None) -> Collected:
    """Gather the figures of every (unit, fund) pair in the scope's subtree (the tree as it stood at the period's end,
    fundsvc.units.service.tree_paths_on), and its donors.

    Every aggregate filters on the scope's unit ids (one index range per unit and period, as the (unit, date)
    indexes are laid out) and is computed by the database: the ledger's opening and the period's lines in one
    pass, the goods, the gifts' counts, the donors per node, the awards paid.
    """
    units, paths = _subtree_on(session, scope, date_to)
    unit_ids = [u.id for u in units]
    cells: dict[tuple[int, int], Figures] = defaultdict(Figures)
    _ledger(session, cells, unit_ids, date_from, date_to)
    # Goods received (and still counted) in the period: their value apart, never money.
    for unit_id, fund_id, total in session.execute(
        select(InKindEntry.unit_id, InKindEntry.fund_id, func.sum(InKindEntry.value))
        .where(
            InKindEntry.unit_id.in_(unit_ids),
            *_between(InKindEntry.entry_date, date_from, date_to),
            InKindEntry.kind == "received",
            # The gifts still recorded, as those not voided: the few voided ones are the set to look up, not the
            # 300,000 others of a province's year.
            InKindEntry.donation_id.is_not(None),
            InKindEntry.donation_id.not_in(select(Donation.id).where(Donation.status == "void")),
        )
        .group_by(InKindEntry.unit_id, InKindEntry.fund_id)
    ):
        cells[unit_id, fund_id].in_kind += int(total)
    gifts = [Donation.unit_id.in_(unit_ids), *_between(Donation.received_on, date_from, date_to)]
    donors = _gifts_and_donors(session, cells, units, gifts)
    _awards(session, cells, unit_ids, date_from, date_to)
    fund_ids = {f for _u, f in cells} | set(session.scalars(select(Fund.id).where(Fund.unit_id.in_(unit_ids))))
    funds = {f.id: f for f in session.scalars(select(Fund).where(Fund.id.in_(fund_ids)))} if fund_ids else {}
    return Collected(scope, units, dict(cells), funds, paths, donors)


def _ledger(session: Session, cells: dict, unit_ids: list[int], date_from: date | None, date_to: date | None):
    """The ledger's figures per (unit, fund): the opening balance (every entry before the period, a void and its
    reversal netting to nothing) and the period's entries of standing documents on their lines.

    Two aggregates, not one pass up to the period's end: only the period's entries need their movement joined, and
    the opening is read from the (unit, date) index alone."""
    if date_from is not None:
        for unit_id, fund_id, opening in session.execute(
            select(LedgerEntry.unit_id, LedgerEntry.fund_id, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.unit_id.in_(unit_ids), LedgerEntry.entry_date < date_from)
            .group_by(LedgerEntry.unit_id, LedgerEntry.fund_id)
        ):
            cells[unit_id, fund_id].opening += int(opening)
    # Grouped by the movement's direction too: a unit's transfers one way and back must not net out.
    for unit_id, fund_id, kind, method, movement_kind, _direction, total in session.execute(
        select(
            LedgerEntry.unit_id,
            LedgerEntry.fund_id,
            LedgerEntry.kind,
            LedgerEntry.method,
            Movement.kind,
            Movement.direction,
            func.sum(case((voided_entries(), 0), else_=LedgerEntry.amount)),
        )
        .outerjoin(Movement, Movement.id == LedgerEntry.movement_id)
        .where(LedgerEntry.unit_id.in_(unit_ids), *_between(LedgerEntry.entry_date, date_from, date_to))
        .group_by(
            LedgerEntry.unit_id,
            LedgerEntry.fund_id,
            LedgerEntry.kind,
            LedgerEntry.method,
            Movement.kind,
            Movement.direction,
        )
    ):
        cell = cells[unit_id, fund_id]  # a pair with entries is listed even when they are all voided
        if total:
            cell.add_entry(kind, method, int(total), movement_kind)


def _awards(session: Session, cells: dict, unit_ids: list[int], date_from: date | None, date_to: date | None):
    """Awards paid in the period, counted for the unit that paid them (the round's), as their payment entries are."""
    for unit_id, fund_id, level, tier, count, total in session.execute(
        select(Round.unit_id, Round.fund_id, Nomination.level, Award.tier, func.count(), func.sum(Award.amount))
        .join(Round, Round.id == Award.round_id)
        .join(Nomination, Nomination.id == Award.nomination_id)
        .where(Round.unit_id.in_(unit_ids), Award.status == "paid", *_between(Award.paid_on, date_from, date_to))
        .group_by(Round.unit_id, Round.fund_id, Nomination.level, Award.tier)
    ):
        cell = cells[unit_id, fund_id]
        cell.awards_by_level[level][0] += count
        cell.awards_by_level[level][1] += int(total)
        cell.awards_by_tier[tier or NO_TIER][0] += count
        cell.awards_by_tier[tier or NO_TIER][1] += int(total)


def _gifts_and_donors(session: Session, cells: dict, units: list[Unit], gifts: list) -> DonorCounts:
    """The gifts that `gifts` selects counted per (unit, fund), voided ones apart, into `cells`; and the distinct
    donors of the standing ones per unit, per subtree, per fund and in all.

    One pass over the gifts: their counts per (unit, fund, donor, status), a few rows per donor, which every
    figure is then taken from in the same statement (a CTE read several times is computed once, on both
    databases)."""
    per_donor = (
        select(Donation.unit_id, Donation.fund_id, Donation.donor_id, Donation.status, func.count().label("gifts"))
        .where(*gifts)
        .group_by(Donation.unit_id, Donation.fund_id, Donation.donor_id, Donation.status)
        .cte("per_donor")
    )
    standing = per_donor.c.status != "void"
    donors = func.count(per_donor.c.donor_id.distinct())
    # Each row: (figure, key, fund, status, count), the columns a figure does not use null.
    figures = [
        select(
            literal("gifts"), per_donor.c.unit_id, per_donor.c.fund_id, per_donor.c.status, func.sum(per_donor.c.gifts)
        ).group_by(per_donor.c.unit_id, per_donor.c.fund_id, per_donor.c.status),
        select(literal("own"), per_donor.c.unit_id, null(), null(), donors)
        .where(standing)
        .group_by(per_donor.c.unit_id),
        select(literal("fund"), per_donor.c.fund_id, null(), null(), donors)
        .where(standing)
        .group_by(per_donor.c.fund_id),
        select(literal("total"), null(), null(), null(), donors).where(standing),
    ]
    # A unit with units below it: its subtree's gifts, each gift's unit found under it by its path.
    parents = {u.parent_id for u in units}
    inner = [u.id for u in units if u.id in parents]
    if inner:
        above, giver = aliased(Unit), aliased(Unit)
        figures.append(
            select(literal("rolled"), above.id, null(), null(), donors)
            .join(giver, giver.id == per_donor.c.unit_id)
            .join(above, giver.path.startswith(above.path))
            .where(standing, above.id.in_(inner))
            .group_by(above.id)
        )
    found = defaultdict(dict)
    for figure, key, fund_id, status, count in session.execute(union_all(*figures)):
        if figure == "gifts":
            cell = cells[key, fund_id]
            if status == "void":
                cell.donations_void += int(count)
            else:
                cell.donations += int(count)
        else:
            found[figure][key] = int(count)
    counts = DonorCounts(own=found["own"], per_fund=found["fund"], total=found["total"].get(None, 0))
    counts.rolled = {u.id: counts.own.get(u.id, 0) for u in units} | found["rolled"]
    return counts


def rollup(collected: Collected) -> tuple[dict[int, Figures], dict[int, Figures], dict[int, Figures], Figures]:
    """(own figures per unit, rolled-up figures per unit, figures per fund, the scope's total); the donors of each
    node as the database counted them."""
    own: dict[int, Figures] = {u.id: Figures() for u in collected.units}
    per_fund: dict[int, Figures] = {f: Figures() for f in collected.funds}
    total = Figures()
    for (unit_id, fund_id), cell in collected.cells.items():
        own[unit_id].add(cell)
        per_fund.setdefault(fund_id, Figures()).add(cell)
        total.add(cell)
    rolled: dict[int, Figures] = {u.id: Figures() for u in collected.units}
    for unit in collected.units:
        # A unit's figures go into itself and every ancestor inside the scope.
        for part in collected.paths[unit.id].strip("/").split("/"):
            ancestor = int(part)
            if ancestor in rolled:
                rolled[ancestor].add(own[unit.id])
    donors = collected.donors
    for nodes, counts in ((own, donors.own), (rolled, donors.rolled), (per_fund, donors.per_fund)):
        for key, figures in nodes.items():
            figures.donors = int(counts.get(key, 0))
    total.donors = donors.total
    return own, rolled, per_fund, total


def _parent_code(path: str, by_id: dict[int, Unit]) -> str | None:
    """The code of the unit above the one at `path`, when it is in the report."""
    parts = path.strip("/").split("/")
    parent = by_id.get(int(parts[-2])) if len(parts) > 1 else None
    return parent.code if parent is not None else None


def _resolve_scope(session: Session, actor: Actor, unit_code: str | None) -> Unit | None:
    if unit_code:
        return visible_unit(session, actor, unit_code)
    if actor.unit_id is not None:
        return session.get(Unit, actor.unit_id)
    return None


def summary(
    session: Session,
    actor: Actor,
    *,
    unit: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict:
    """Money in by method, out, reversals, balances and counts per fund and per unit, rolled up the tree."""
    require_role(actor, *READERS)
    _check_period(date_from, date_to)
    scope = _resolve_scope(session, actor, unit)
    collected = collect(session, scope, date_from, date_to)
    own, rolled, per_fund, total = rollup(collected)
    by_id = {u.id: u for u in collected.units}
    paths = collected.paths
    depth0 = paths[scope.id].count("/") if scope is not None else 2
    return {
        "unit": scope.code if scope is not None else None,
        "from": date_from,
        "to": date_to,
        "totals": total.as_dict(),
        "funds": [
            {
                "code": f.code,
                "name": f.name,
                "unit": by_id[f.unit_id].code if f.unit_id in by_id else f.unit.code,
                **per_fund[f.id].as_dict(),
            }
            for f in sorted(collected.funds.values(), key=lambda f: f.code)
        ],
        "units": [
            {
                "code": u.code,
                "name": u.name,
                "level": u.level,
                "parent": _parent_code(paths[u.id], by_id),
                "depth": paths[u.id].count("/") - depth0,
                **rolled[u.id].as_dict(),
                "own": own[u.id].as_dict(),
            }
            for u in collected.units
        ],
    }


# ---------------------------------------------------------------------------------------------------------
# Fund book (sổ quỹ)


def fund_book(
    session: Session,
    actor: Actor,
    *,
    fund: str | None = None,
    unit: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict:
    """Opening balance, every movement of the period in date order with its running balance, closing balance.

    The book is kept for one fund; with `unit` it holds the movements of that unit's subtree only
    (a commune's book of the provincial fund it collects for).
    """
    require_role(actor, *READERS)
    _check_period(date_from, date_to)
    scope = visible_unit(session, actor, unit) if unit else None
    if fund:
        the_fund = get_fund(session, actor, fund)
    else:
        base = scope or (session.get(Unit, actor.unit_id) if actor.unit_id is not None else None)
        if base is None:
            raise Invalid("Cần chọn quỹ hoặc đơn vị (fund or unit required)", {"fund": ["required"]})
        the_fund = default_fund_for(session, base)
        if the_fund is None:
            raise Invalid(f"Đơn vị {base.code} chưa có quỹ (no fund)", {"fund": ["required"]})
    if scope is None:
        scope = the_fund.unit if actor.sees(the_fund.unit) else session.get(Unit, actor.unit_id)
    # The tree as it stood at the book's end: a commune moved up since still belongs to its old district's books.
    paths_then = tree_paths_on(session, date_to)
    scope_path, fund_path = (
        (paths_then[scope.id], paths_then[the_fund.unit_id]) if paths_then else (scope.path, the_fund.unit.path)
    )
    if not (scope_path.startswith(fund_path) or fund_path.startswith(scope_path)):
        raise Invalid(
            f"Quỹ {the_fund.code} không dùng tại đơn vị {scope.code} (fund not used by unit)",
            {"unit": [f"fund {the_fund.code} is not used by {scope.code}"]},
        )
    require_unit(actor, scope)

    within = scope.path
    if paths_then:
        within = {unit_id for unit_id, path in paths_then.items() if path.startswith(scope_path)}
    opening, statement_lines = statement(session, the_fund, date_from, date_to, within=within, joined=books.with_gifts)
    # A gift's line names its donor as the reader may see it (an anonymous donor's name only to admins and treasurers).
    shows_names = sees_donor_contact(actor.role)
    lines, total_in, total_out = [], 0, 0
    for line in statement_lines:
        entry = line.entry
        if entry.kind == "donation":
            description = books.gift_of(entry, shows_names)
        else:
            description = books.without_code(entry.document_code, entry.description)
        money_in = max(0, entry.amount)
        money_out = max(0, -entry.amount)
        total_in += money_in
        total_out += money_out
        lines.append(
            {
                "date": entry.entry_date,
                "document_code": entry.document_code or "",
                "kind": entry.kind,
                "description": description,
                "in": money_in,
                "out": money_out,
                "balance": line.running_balance,
            }
        )
    closing = opening + total_in - total_out
    return {
        "fund": {"code": the_fund.code, "name": the_fund.name},
        "unit": {"code": scope.code, "name": scope.name, "address": scope.address},
        "from": date_from,
        "to": date_to,
        "opening_balance": opening,
        "total_in": total_in,
        "total_out": total_out,
        "closing_balance": closing,
        "lines": lines,
    }


def _period_text(date_from: date | None, date_to: date | None) -> str:
    if date_from and date_to:
        return f"Từ ngày {format_date(date_from)} đến ngày {format_date(date_to)}"
    if date_from:
        return f"Từ ngày {format_date(date_from)}"
    if date_to:
        return f"Đến ngày {format_date(date_to)}"
    return "Toàn bộ thời gian"


def write_fund_book_pdf(out, session: Session, actor: Actor, settings: DocumentSettings, progress=None, **args) -> None:
    """The sổ quỹ as a PDF into the binary file `out`, signed by Người ghi sổ, Kế toán trưởng and Thủ trưởng đơn vị;
    a long one in chunks of books.CHUNK_LINES lines, each rendered in a child process, `progress(done, total)` as
    they are rendered and joined."""
    book = fund_book(session, actor, **args)
    preparer = session.scalar(select(User.full_name).where(User.id == actor.user_id)) if actor.user_id else None
    context = {
        **book,
        "org_name": settings.org_name,
        "date_from": book["from"],
        "date_to": book["to"],
        "period": _period_text(book["from"], book["to"]),
        "today": datetime.now(VN_TZ).date(),
        "signers": {"preparer": preparer or "", "accountant": settings.accountant, "head": settings.head},
        "title": f"Sổ quỹ {book['fund']['name']}",
    }
    template = "documents/fund_book.html"
    write_long_pdf(out, template, context, rows_key="lines", chunk_size=books.CHUNK_LINES, progress=progress)


def fund_book_pdf(session: Session, actor: Actor, settings: DocumentSettings, **args) -> bytes:
    out = io.BytesIO()
    write_fund_book_pdf(out, session, actor, settings, **args)
    return out.getvalue()


def fund_book_xlsx(session: Session, actor: Actor, settings: DocumentSettings, **args) -> bytes:
    """The sổ quỹ as a spreadsheet: bold frozen header row, amounts as numbers formatted #,##0, the period's totals.

    Written in openpyxl's write-only mode, row by row: a year of a busy commune (70,000 lines) is streamed to the
    file as it is made instead of held as half a million cell objects.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    book = fund_book(session, actor, **args)
    wb = Workbook(write_only=True)
    header_row = 6
    ws = _fund_book_sheet(wb, header_row)
    bold, italic = Font(bold=True), Font(italic=True)
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_fill = PatternFill("solid", fgColor="DDDDDD")
    centered = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def cell(value, *, font=None, **style):
        made = WriteOnlyCell(ws, value)
        if font is not None:
            made.font = font
        for name, setting in style.items():
            setattr(made, name, setting)
        return made

    line = _BookLines(ws, bold, box).line

    ws.append([settings.org_name])
    ws.append([cell(book["unit"]["name"], font=bold)])
    ws.append([cell(f"SỔ QUỸ — {book['fund']['name']} ({book['fund']['code']})", font=Font(bold=True, size=14))])
    ws.append([_period_text(book["from"], book["to"])])
    ws.append([])
    headers = ["STT", "Ngày ghi sổ", "Số hiệu chứng từ", "Diễn giải", "Thu", "Chi", "Tồn"]
    ws.append([cell(text, font=bold, fill=header_fill, alignment=centered, border=box) for text in headers])
    ws.append(line([None, book["from"], None, "Số dư đầu kỳ", None, None, book["opening_balance"]], strong=True))
    for i, entry in enumerate(book["lines"], 1):
        values = [i, entry["date"], entry["document_code"], entry["description"]]
        ws.append(line([*values, entry["in"] or None, entry["out"] or None, entry["balance"]]))
    ws.append(
        line([None, None, None, "Cộng phát sinh trong kỳ", book["total_in"], book["total_out"], None], strong=True)
    )
    ws.append(line([None, book["to"], None, "Số dư cuối kỳ", None, None, book["closing_balance"]], strong=True))
    ws.append([])
    signers = (("Người ghi sổ", ""), ("Kế toán trưởng", settings.accountant), ("Thủ trưởng đơn vị", settings.head))
    # The three signatures in columns B, D and F: the role, how to sign, and four rows below, the name.
    roles, how, names = [None] * 6, [None] * 6, [None] * 6
    for col, (role, name) in zip((1, 3, 5), signers, strict=True):
        roles[col] = cell(role, font=bold)
        how[col] = cell("(Ký, họ tên)" if col < 5 else "(Ký, họ tên, đóng dấu)", font=italic)
        names[col] = cell(name, font=bold)
    for row in (roles, how, [], [], [], names):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class _BookLines:
    """The fund book's lines as cells of a write-only sheet, boxed, amounts as #,##0 and dates as dd/mm/yyyy.

    One styled cell per column and style, its value set for each line: a write-only sheet writes a row as it is
    appended, so the next line may reuse its cells, and openpyxl works out each style once instead of once for each
    of a year's 500,000 cells (which took twice as long as writing the values)."""

    def __init__(self, ws, bold, box) -> None:
        self.ws, self.bold, self.box = ws, bold, box
        self.stamps: dict[tuple, object] = {}

    def line(self, values: list, *, strong: bool = False) -> list:
        return [self._cell(col, value, strong) for col, value in enumerate(values, 1)]

    def _cell(self, col: int, value, strong: bool):
        from openpyxl.cell import WriteOnlyCell

        number_format = None
        if col >= 5 and isinstance(value, int):
            number_format = "#,##0"
        elif col == 2 and isinstance(value, date):
            number_format = "dd/mm/yyyy"
        key = (col, number_format, strong)
        stamp = self.stamps.get(key)
        if stamp is None:
            stamp = self.stamps[key] = WriteOnlyCell(self.ws)
            stamp.border = self.box
            if strong:
                stamp.font = self.bold
            if number_format:
                stamp.number_format = number_format
        stamp.value = sheet_text(value)
        return stamp


def _fund_book_sheet(wb, header_row: int):
    """The fund book's sheet of a write-only workbook, laid out before its first row: column widths, the panes
    frozen under the header row, which each printed page repeats, landscape, one page wide."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet("So quy")
    for col, width in enumerate((6, 13, 20, 48, 16, 16, 18), 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    return ws


# ---------------------------------------------------------------------------------------------------------
# The yearly public statement (công khai)


def statement_figures(session: Session, unit: Unit, year: int, org_name: str, signer: str = "") -> dict:
    """Everything the public statement prints, as plain JSON: money, honour roll, awards; no pupil data
    beyond name, school and amount.

    A year whose December the unit has closed is final ("số dư cuối năm"); before that the statement is an interim
    one, up to today (docs/books.md "Reports and the public statement")."""
    date_from, date_to = date(year, 1, 1), date(year, 12, 31)
    final = (
        session.scalar(
            select(Period.id).where(Period.unit_id == unit.id, Period.month == f"{year}-12", Period.status == "closed")
        )
        is not None
    )
    if not final:
        date_to = min(date_to, today_in_vietnam())
    collected = collect(session, unit, date_from, date_to)
    own, rolled, _per_fund, total = rollup(collected)
    figures = total.as_dict()
    by_id = {u.id: u for u in collected.units}
    paths = collected.paths  # the tree as it stood at the statement's end (units moved since stay where they were)
    subtree = list(paths)

    monthly: dict[int, dict[str, int]] = {m: {"month": m, "in": 0, "out": 0} for m in range(1, 13)}
    # The chart: gifts and other income in, awards and expenses out; transfers and voided documents nowhere.
    for entry_date, amount in session.execute(
        select(LedgerEntry.entry_date, LedgerEntry.amount)
        .outerjoin(Movement, Movement.id == LedgerEntry.movement_id)
        .where(
            LedgerEntry.unit_id.in_(subtree),
            LedgerEntry.entry_date >= date_from,
            LedgerEntry.entry_date <= date_to,
            or_(LedgerEntry.kind.in_(("donation", "disbursement")), Movement.kind.in_(("income", "expense"))),
            not_(voided_entries()),
        )
    ):
        monthly[entry_date.month]["in" if amount > 0 else "out"] += abs(int(amount))

    # The honour roll: gifts of the year that stand (not void); an anonymous gift never names its donor. Money and
    # goods apart, so the money column totals exactly the gifts counted as income.
    named: dict[int, dict] = {}
    anonymous = {"key": "anonymous", "name": ANONYMOUS, "gifts": 0, "amount": 0, "in_kind": 0}
    for donor_id, name, is_anonymous, method, amount in session.execute(
        select(Donation.donor_id, Donor.name, Donation.anonymous, Donation.method, Donation.amount)
        .join(Donor, Donor.id == Donation.donor_id)
        .where(
            Donation.unit_id.in_(subtree),
            Donation.status != "void",
            Donation.received_on >= date_from,
            Donation.received_on <= date_to,
        )
    ):
        row = (
            anonymous
            if is_anonymous
            else named.setdefault(
                donor_id, {"key": f"d{donor_id}", "name": name, "gifts": 0, "amount": 0, "in_kind": 0}
            )
        )
        row["gifts"] += 1
        row["in_kind" if method == "in_kind" else "amount"] += int(amount)
    roll = sorted(named.values(), key=lambda r: (-r["amount"], -r["in_kind"], r["name"], r["key"]))
    if len(roll) > PUBLIC_LIST_LIMIT:
        rest = roll[PUBLIC_LIST_LIMIT:]
        others = {
            "key": "others",
            "name": f"Các nhà hảo tâm khác ({len(rest)} nhà hảo tâm)",
            "gifts": sum(r["gifts"] for r in rest),
            "amount": sum(r["amount"] for r in rest),
            "in_kind": sum(r["in_kind"] for r in rest),
        }
        roll = [*roll[:PUBLIC_LIST_LIMIT], others]
    if anonymous["gifts"]:
        roll.append(anonymous)

    # Awards paid in the year, from their payment entries; of the pupil only name, school and amount.
    recipients = []
    for award_id, unit_id, full_name, school, amount in session.execute(
        select(Award.id, LedgerEntry.unit_id, Nomination.full_name, Nomination.school, LedgerEntry.amount)
        .join(Award, Award.id == LedgerEntry.award_id)
        .join(Nomination, Nomination.id == Award.nomination_id)
        .where(
            LedgerEntry.unit_id.in_(subtree),
            LedgerEntry.kind == "disbursement",
            LedgerEntry.entry_date >= date_from,
            LedgerEntry.entry_date <= date_to,
        )
    ):
        recipients.append(
            {
                "key": f"a{award_id}",
                "unit": by_id[unit_id].name,
                "path": paths[unit_id],
                "name": full_name,
                "school": school,
                "amount": -int(amount),
            }
        )
    recipients.sort(key=lambda r: (r["path"], r["school"], r["name"], r["key"]))
    listed = len(recipients) <= PUBLIC_LIST_LIMIT
    for r in recipients:
        del r["path"]

    # Awards by unit: the unit itself (its own payments) and each child's subtree.
    by_unit = []
    if own[unit.id].awards_by_level:
        mine = own[unit.id].as_dict()["awards"]
        by_unit.append({"code": unit.code, "name": unit.name, "count": mine["count"], "amount": mine["amount"]})
    for child in collected.units:
        if paths[child.id] == f"{paths[unit.id]}{child.id}/":
            theirs = rolled[child.id].as_dict()["awards"]
            by_unit.append(
                {"code": child.code, "name": child.name, "count": theirs["count"], "amount": theirs["amount"]}
            )

    awards = figures["awards"]
    return {
        "org_name": org_name,
        "signer": signer,
        "unit": {"code": unit.code, "name": unit.name},
        "year": year,
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "final": final,
        "money": {
            k: figures[k]
            for k in (
                "opening_balance",
                "in",
                "other_in",
                "reversals",
                "out",
                "out_by",
                "adjustments",
                "net",
                "closing_balance",
            )
        },
        "donations": figures["donations"],
        "donors": figures["donors"],
        "honour_roll": roll,
        "honour_roll_total": sum(r["amount"] for r in roll),
        "honour_roll_in_kind": sum(r.get("in_kind", 0) for r in roll),
        "awards": {
            "count": awards["count"],
            "amount": awards["amount"],
            "by_level": [
                {"level": k, "label": LEVEL_LABELS.get(None if k == "unknown" else k, k), **v}
                for k, v in awards["by_level"].items()
            ],
            "by_tier": [{"tier": k, **v} for k, v in awards["by_tier"].items()],
            "by_unit": by_unit,
        },
        "recipients": recipients if listed else [],
        "recipients_listed": listed,
        "monthly": [monthly[m] for m in range(1, 13)],
    }


# Printed on the statement but not figures of the year: a new name alone is no correction.
_NOT_FIGURES = ("org_name", "signer")


def _canonical(figures: dict) -> str:
    figures = {k: v for k, v in figures.items() if k not in _NOT_FIGURES}
    return json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _flatten(figures: dict) -> dict[str, tuple[str, int]]:
    """Every published figure under a stable key, with its printed label and kind ("money" or "count")."""
    out: dict[str, tuple[str, int, str]] = {}
    money = figures["money"]
    out["opening"] = ("Số dư đầu năm", money["opening_balance"], "money")
    for method in METHODS:
        out[f"in.{method}"] = (f"Thu bằng {METHOD_LABELS[method].lower()}", money["in"].get(method, 0), "money")
    out["in.total"] = ("Tổng thu", money["in"]["total"], "money")
    for key, label in OTHER_IN_LABELS.items():
        out[f"other_in.{key}"] = (label, money.get("other_in", {}).get(key, 0), "money")
    out["reversals"] = ("Giảm thu do hủy phiếu thu", money["reversals"], "money")
    # Statements published before expenses and transfers were books had only awards under "out".
    out_by = money.get("out_by", {"awards": money["out"]})
    for key, label in OUT_LABELS.items():
        out["out" if key == "awards" else f"out.{key}"] = (label, out_by.get(key, 0), "money")
    out["adjustments"] = ("Điều chỉnh", money["adjustments"], "money")
    out["closing"] = ("Số dư cuối năm", money["closing_balance"], "money")
    out["donations"] = ("Số lượt đóng góp", figures["donations"], "count")
    out["donors"] = ("Số nhà hảo tâm", figures["donors"], "count")
    out["awards.count"] = ("Số suất học bổng", figures["awards"]["count"], "count")
    out["awards.amount"] = ("Tổng tiền học bổng", figures["awards"]["amount"], "money")
    for row in figures["awards"]["by_level"]:
        out[f"level.{row['level']}.count"] = (f"Số suất cấp {row['label']}", row["count"], "count")
        out[f"level.{row['level']}.amount"] = (f"Tiền học bổng cấp {row['label']}", row["amount"], "money")
    for row in figures["awards"]["by_tier"]:
        out[f"tier.{row['tier']}.count"] = (f"Số suất mức “{row['tier']}”", row["count"], "count")
        out[f"tier.{row['tier']}.amount"] = (f"Tiền học bổng mức “{row['tier']}”", row["amount"], "money")
    for row in figures["awards"]["by_unit"]:
        out[f"unit.{row['code']}.amount"] = (f"Học bổng tại {row['name']}", row["amount"], "money")
    for row in figures["honour_roll"]:
        out[f"donor.{row['key']}"] = (f"Đóng góp của {row['name']}", row["amount"], "money")
    for row in figures["recipients"]:
        out[f"award.{row['key']}"] = (f"Học bổng của {row['name']} ({row['school']})", row["amount"], "money")
    return out


def changes_between(before: dict, after: dict) -> list[dict]:
    """What differs between two published figure sets, in print order: [{"item", "kind", "before", "after"}]."""
    old, new = _flatten(before), _flatten(after)
    changes = []
    for key in list(new) + [k for k in old if k not in new]:
        o, n = old.get(key), new.get(key)
        before_value = o[1] if o else None
        after_value = n[1] if n else None
        if (before_value or 0) != (after_value or 0):
            label, _v, kind = n or o
            changes.append({"item": label, "kind": kind, "before": before_value, "after": after_value})
    return changes


def _latest(session: Session, unit: Unit, year: int) -> PublicStatement | None:
    return session.scalar(
        select(PublicStatement)
        .where(PublicStatement.unit_id == unit.id, PublicStatement.year == year)
        .order_by(PublicStatement.version.desc())
        .limit(1)
    )


def _history(session: Session, unit: Unit, year: int, up_to: int) -> list[dict]:
    rows = session.execute(
        select(
            PublicStatement.version, PublicStatement.published_at, PublicStatement.changes, PublicStatement.pdf_sha256
        )
        .where(PublicStatement.unit_id == unit.id, PublicStatement.year == year, PublicStatement.version <= up_to)
        .order_by(PublicStatement.version)
    )
    return [
        {"version": v, "published_at": at, "changes": changes or [], "pdf_sha256": sha} for v, at, changes, sha in rows
    ]


def statement_context(figures: dict, history: list[dict]) -> dict:
    """The plain-dict context of the public statement (PDF and HTML): figures, charts, corrections."""
    monthly = figures["monthly"]
    awards = figures["awards"]
    return {
        **figures,
        "title": f"Công khai Quỹ Khuyến học năm {figures['year']} — {figures['unit']['name']}",
        "method_labels": METHOD_LABELS,
        "other_in_labels": OTHER_IN_LABELS,
        "out_labels": OUT_LABELS,
        "version": history[-1]["version"] if history else 1,
        "published_at": history[-1]["published_at"] if history else None,
        "first_published_at": history[0]["published_at"] if history else None,
        "corrections": [h for h in reversed(history) if h["version"] > 1],
        "document_date": history[-1]["published_at"] if history else None,
        "chart_months": charts.monthly_chart(
            monthly, title="Thu, chi theo tháng (đồng)", keys=[("in", "Tiền thu"), ("out", "Chi học bổng")]
        ),
        "chart_levels": charts.hbar_chart(
            [(r["label"], r["amount"]) for r in awards["by_level"]],
            title="Học bổng theo cấp học",
            counts=[r["count"] for r in awards["by_level"]],
        ),
        "chart_units": charts.hbar_chart(
            [(r["name"], r["amount"]) for r in awards["by_unit"]],
            title="Học bổng theo đơn vị",
            counts=[r["count"] for r in awards["by_unit"]],
        ),
    }


def publish(session: Session, actor: Actor, unit_code: str, year: int, settings: DocumentSettings) -> PublicStatement:
    """Publish (or correct) a unit's statement for a year: a new frozen version with figures, PDF and sha256.

    The first version is the statement; each later one carries a dated correction listing what changed
    against the previous version. Publishing unchanged figures again is refused (409).
    """
    require_role(actor)
    if year > datetime.now(VN_TZ).year or year < 2000:
        raise Invalid(f"Năm {year} không hợp lệ (year out of range)", {"year": ["must be a past or current year"]})
    # Computed and rendered first, outside the write transaction (a province's takes many seconds, and on SQLite
    # every gift would wait behind it); stored then in a short one, unless another version was published meanwhile.
    unit = visible_unit(session, actor, unit_code)
    previous = _latest(session, unit, year)
    figures = statement_figures(session, unit, year, settings.org_name, settings.head)
    digest = hashlib.sha256(_canonical(figures).encode()).hexdigest()
    if previous is not None and previous.figures_sha256 == digest:
        raise Conflict(
            f"Số liệu năm {year} của {unit.code} không thay đổi so với bản công bố lần "
            f"{previous.version} (nothing changed since version {previous.version})"
        )
    version = previous.version + 1 if previous else 1
    changes = changes_between(previous.figures, figures) if previous else []
    published_at = utcnow()
    history = [
        *_history(session, unit, year, version - 1),
        {"version": version, "published_at": published_at, "changes": changes},
    ]
    pdf = render_pdf("documents/public_statement.html", statement_context(figures, history))
    with write_transaction(session):
        latest = _latest(session, unit, year)
        if (latest.version if latest else 0) != version - 1:
            raise Conflict(
                f"Bản công bố lần {version} năm {year} của {unit.code} vừa được lập; hãy xem lại rồi công bố lại "
                f"(version {version} was published meanwhile)"
            )
        statement = PublicStatement(
            unit_id=unit.id,
            year=year,
            version=version,
            figures=figures,
            figures_sha256=digest,
            changes=changes,
            pdf=pdf,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            published_at=published_at,
            published_by=actor.user_id,
        )
        session.add(statement)
        session.flush()
        record(
            session,
            actor,
            "statement.publish",
            "public_statement",
            statement.id,
            None,
            {
                "unit": unit.code,
                "year": year,
                "version": version,
                "figures_sha256": digest,
                "pdf_sha256": statement.pdf_sha256,
                "changes": len(changes),
            },
            unit.id,
        )
    return statement


def published(session: Session, unit_code: str, year: int, version: int | None = None) -> PublicStatement:
    """A published version (the latest by default), readable by anyone; 404 when there is none."""
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    statement = None
    if unit is not None:
        query = select(PublicStatement).where(PublicStatement.unit_id == unit.id, PublicStatement.year == year)
        if version is not None:
            query = query.where(PublicStatement.version == version)
        statement = session.scalar(query.order_by(PublicStatement.version.desc()).limit(1))
    if statement is None:
        raise NotFound(f"Chưa có công khai năm {year} của đơn vị {unit_code} (no published statement)")
    return statement


def public_versions(session: Session, unit_code: str, year: int) -> dict:
    """The versions of a published statement: when, what changed, the PDF's sha256."""
    latest = published(session, unit_code, year)
    unit = latest.unit
    return {
        "unit": unit.code,
        "year": year,
        "latest": latest.version,
        "versions": _history(session, unit, year, latest.version),
    }


def public_html(session: Session, unit_code: str, year: int, version: int | None = None) -> str:
    """The public HTML page of a published version, rendered from its frozen figures with its correction history."""
    statement = published(session, unit_code, year, version)
    history = _history(session, statement.unit, year, statement.version)
    context = statement_context(statement.figures, history)
    context["pdf_url"] = f"/api/v1/public/statements/{statement.unit.code}/{year}.pdf" + (
        f"?version={statement.version}" if version is not None else ""
    )
    context["latest"] = _latest(session, statement.unit, year).version
    return render_html("public/statement.html", context)


def public_pdf(session: Session, unit_code: str, year: int, version: int | None = None) -> tuple[bytes, str]:
    """The stored PDF bytes of a published version and their sha256."""
    statement = published(session, unit_code, year, version)
    return statement.pdf, statement.pdf_sha256


def money_text(value: int | None) -> str:
    """For templates: an amount as 1.250.000, or a dash."""
    return "—" if value is None else format_vnd(int(value))
