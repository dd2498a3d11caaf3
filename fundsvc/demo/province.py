"""The province-size data set (`flask demo load --scale province`): a year of a province at full size.

About 300,000 gifts over the year that ends yesterday, each with its numbered document, its ledger entry (money)
or in-kind line (goods) and its audit event, a few of them voided; 100,000 nominations imported from a schools'
file; one round of the province fund allocated and approved. The demo's unit tree, funds, accounts and users are
made first by load_demo, through the services.

The gifts are written as bulk INSERTs of exactly the rows record_donation and void_donation write (the same
column values, built by the same helpers: _audited, _in_kind_line, document_code, the audit's _event_values), each
series numbered gapless in date order with its receipt_books counter left at the last number, so the services
carry on from it. The nominations go through the import service itself, and the round through create_round,
allocate and approve: at that size they are fast enough as they are.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from fundsvc.allocation.models import Award
from fundsvc.allocation.rules import PRESETS
from fundsvc.allocation.service import allocate_json, approve, create_round
from fundsvc.audit.models import AuditEvent
from fundsvc.audit.service import _event_values
from fundsvc.auth.service import SYSTEM
from fundsvc.db import analyze, write_transaction
from fundsvc.demo.load import COMPANIES, GIVEN, GOODS, MIDDLE, PURPOSES, SURNAMES, load_demo
from fundsvc.documents.words import today_in_vietnam
from fundsvc.donations.identity import name_words
from fundsvc.donations.models import Donation, Donor, DonorNameWord, Receipt, ReceiptBook
from fundsvc.donations.service import DOCUMENT_OF_METHOD, _audited, _in_kind_line
from fundsvc.ledger.models import Fund, InKindEntry, LedgerEntry, MoneyAccount
from fundsvc.memory import gc_paused
from fundsvc.numbering import document_code
from fundsvc.students.normalize import fold
from fundsvc.students.service import import_nominations
from fundsvc.students.vocabulary import NOMINATION_COLUMNS, VIETNAMESE_WORDS
from fundsvc.units.identity import identity_chain, resolved_identity
from fundsvc.units.models import Unit

PROVINCE_GIFTS = 300_000
PROVINCE_NOMINATIONS = 100_000
# The share of the year's gifts each unit takes: the demo treasurer's ward is the busiest commune (about 72,000 of
# 300,000); the province itself collects few gifts, but large ones, from companies (scaled by PROVINCE_AMOUNT).
UNIT_SHARES = {
    "ST-TP-P2": 24,
    "ST-TP-P5": 17,
    "ST-MX-DT": 15,
    "ST-MX-TD": 13,
    "ST-TD-LHT": 11,
    "ST-VC-VH": 10,
    "ST-TP": 2,
    "ST-MX": 2,
    "ST-TD": 1.5,
    "ST-VC": 1.5,
    "ST": 3,
}
AMOUNTS = [50_000, 100_000, 200_000, 300_000, 500_000, 1_000_000, 2_000_000, 5_000_000]
AMOUNT_WEIGHTS = [20, 30, 22, 10, 10, 5, 2, 1]
PROVINCE_AMOUNT = 40  # a gift to the province is this many times a commune's
METHOD_WEIGHTS = {"cash": 62, "bank_transfer": 35, "in_kind": 3}
VOIDED = 0.004  # share of gifts voided the day they were recorded
VOID_REASON = "Ghi nhầm số tiền"
DONORS = 30_000
BATCH = 5_000
ROUND_BUDGET_SHARE = 0.8  # of the province fund's balance after the year's gifts


@dataclass
class ProvinceSummary:
    created: bool
    gifts: int = 0
    nominations: int = 0
    awards: int = 0

    def describe(self) -> str:
        if not self.created:
            return "Province data set already present; nothing added."
        return (
            f"Province data set loaded: {self.gifts:,} gifts, {self.nominations:,} nominations, "
            f"one round approved with {self.awards:,} awards."
        )


@dataclass(frozen=True)
class _Place:
    """A collecting unit as its gifts' rows name it."""

    unit: Unit
    fund_id: int
    fund_code: str
    cash_id: int
    bank_id: int
    issuer: dict


def load_province(
    session: Session, *, gifts: int = PROVINCE_GIFTS, nominations: int = PROVINCE_NOMINATIONS, seed: int = 2024
) -> ProvinceSummary:
    """Load the province data set into an empty database (the demo tree is created first); a database that
    already holds its gifts gets nothing more, one holding other gifts is refused (ValueError)."""
    present = session.scalar(select(func.count()).select_from(Donation))
    if present:
        if present >= gifts:
            return ProvinceSummary(created=False)
        raise ValueError(f"the database already holds {present} gifts: the province data set needs an empty one")
    load_demo(session, donations=0)
    rng = random.Random(seed)
    summary = ProvinceSummary(created=True)
    with gc_paused():
        summary.gifts = _write_gifts(session, rng, gifts)
        if nominations:
            summary.nominations, summary.awards = _nominations_and_round(session, rng, nominations)
    analyze(session)
    return summary


# --------------------------------------------------------------------------- gifts


def _places(session: Session) -> dict[str, _Place]:
    accounts: dict[tuple[int, str], int] = {}
    for unit_id, kind, account_id in session.execute(
        select(MoneyAccount.unit_id, MoneyAccount.kind, MoneyAccount.id).order_by(MoneyAccount.id)
    ):
        accounts.setdefault((unit_id, kind), account_id)
    places = {}
    for unit in session.scalars(select(Unit).where(Unit.code.in_(UNIT_SHARES))):
        fund = session.get(Fund, unit.default_fund_id)
        issuer = resolved_identity(identity_chain(session, unit))
        places[unit.code] = _Place(
            unit, fund.id, fund.code, accounts[unit.id, "cash"], accounts[unit.id, "bank"], issuer
        )
    return places


def _donor_rows(rng: random.Random, places: dict[str, _Place], created_at: datetime) -> list[dict]:
    """The donors, each first recorded at the unit its gifts go to; one in ten an organisation."""
    codes, weights = list(UNIT_SHARES), list(UNIT_SHARES.values())
    rows = []
    for i in range(DONORS):
        unit = places[rng.choices(codes, weights)[0]].unit
        if i % 10 == 0:
            name = f"{rng.choice(COMPANIES)} {i // 10 + 1}"
            row = {"name": name, "kind": "organization", "phone": None, "tax_code": f"22{i:08d}"}
        else:
            name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            row = {"name": name, "kind": "person", "phone": f"09{i:08d}", "tax_code": None}
        row |= {
            "email": None,
            "address": f"Số {i % 300 + 1} đường Lê Lợi",
            "unit_id": unit.id,
            "name_folded": fold(name),
        }
        rows.append(row | {"created_at": created_at})
    return rows


@dataclass
class _GiftWriter:
    """Rows of the gifts waiting for their INSERTs, and the counters of every series as numbers are taken."""

    connection: Connection
    places: dict[int, _Place]  # by unit id
    numbers: dict[tuple[int, str, int], tuple[int, date]]
    books: dict[tuple[int, str, int], int]  # the receipt_books id of each series
    donations: list[dict]
    dependants: list[tuple[dict, dict, str, bool]]  # (donation, receipt, donor name, voided)

    def add(self, place: _Place, donor: dict, data: dict, created_at: datetime, voided: bool) -> None:
        received_on = data["received_on"]
        document = DOCUMENT_OF_METHOD[data["method"]]
        key = (place.unit.id, document, received_on.year)
        if key not in self.books:  # a series' first document: its book, created as take_number does, at 0
            table = ReceiptBook.__table__
            values = {"unit_id": key[0], "kind": document, "year": key[2], "last_number": 0}
            self.books[key] = self.connection.execute(insert(table).values(values).returning(table.c.id)).scalar_one()
        number = self.numbers.get(key, (0, received_on))[0] + 1
        self.numbers[key] = (number, received_on)
        code = document_code(place.unit, received_on.year, number, document)
        account_id = {"cash": place.cash_id, "bank_transfer": place.bank_id}.get(data["method"])
        donation = {
            "donor_id": donor["id"],
            "fund_id": place.fund_id,
            "unit_id": place.unit.id,
            "amount": data["amount"],
            "method": data["method"],
            "in_kind_description": data.get("in_kind_description"),
            "quantity": data.get("quantity"),
            "unit_of_measure": data.get("unit_of_measure"),
            "account_id": account_id,
            "bank_reference": data.get("bank_reference"),
            "received_on": received_on,
            "purpose": data["purpose"],
            "anonymous": data["anonymous"],
            "status": "void" if voided else "recorded",
            "void_reason": VOID_REASON if voided else None,
            "voided_at": created_at if voided else None,
            "voided_by": None,
            "created_at": created_at,
            "created_by": None,
        }
        receipt = {
            "book_id": self.books[key],
            "unit_id": place.unit.id,
            "year": received_on.year,
            "number": number,
            "code": code,
            "kind": document,
            "issuer": place.issuer,
            "pdf_sha256": None,
            "void_pdf_sha256": None,
            "created_at": created_at,
        }
        self.donations.append(donation)
        self.dependants.append((donation, receipt, donor["name"], voided))
        if len(self.donations) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.donations:
            return
        table = Donation.__table__
        ids = self.connection.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), self.donations
        ).scalars()
        for donation, donation_id in zip(self.donations, ids, strict=True):
            donation["id"] = donation_id
        receipts, entries, goods, events = [], [], [], []
        for donation, receipt, donor_name, voided in self.dependants:
            receipts.append({**receipt, "donation_id": donation["id"]})
            self._lines(donation, receipt["code"], donor_name, voided, entries, goods, events)
        for model, rows in ((Receipt, receipts), (LedgerEntry, entries), (InKindEntry, goods), (AuditEvent, events)):
            if rows:
                self.connection.execute(insert(model.__table__), rows)
        self.donations, self.dependants = [], []

    def _lines(self, donation: dict, code: str, donor_name: str, voided: bool, entries, goods, events) -> None:
        """The ledger entries or in-kind lines, and the audit events, of one gift (and of its void)."""
        place = self.places[donation["unit_id"]]
        at = donation["created_at"]
        recorded = {**donation, "status": "recorded"}
        if donation["account_id"] is None:
            goods.append(_in_kind_line(SYSTEM, recorded, "received", code, at))
        else:
            entries.append(_entry(donation, "donation", donation["amount"], code, f"Thu {code}: {donor_name}"))
        after = _audited(recorded, place.fund_code, place.unit.code, code, None)
        events.append(_event(at, "donation.record", donation, None, after))
        if not voided:
            return
        if donation["account_id"] is None:
            goods.append(_in_kind_line(SYSTEM, recorded, "reversal", code, at))
        else:
            entries.append(_entry(donation, "reversal", -donation["amount"], code, f"Hủy {code}: {VOID_REASON}"))
        voided_state = _audited(donation, place.fund_code, place.unit.code, code, VOID_REASON)
        events.append(_event(at, "donation.void", donation, after, voided_state))

    def sync_counters(self) -> None:
        """Each series' counter at its last number and date, as take_number leaves it."""
        table = ReceiptBook.__table__
        for key, (last, on) in self.numbers.items():
            self.connection.execute(
                update(table).where(table.c.id == self.books[key]).values(last_number=last, last_date=on)
            )


def _entry(donation: dict, kind: str, amount: int, code: str, description: str) -> dict:
    """The ledger entry post_entry writes for a gift or its reversal."""
    return {
        "created_by": None,
        "created_at": donation["created_at"],
        "fund_id": donation["fund_id"],
        "unit_id": donation["unit_id"],
        "account_id": donation["account_id"],
        "entry_date": donation["received_on"],
        "kind": kind,
        "amount": amount,
        "method": donation["method"],
        "donation_id": donation["id"],
        "award_id": None,
        "movement_id": None,
        "document_code": code,
        "description": description[:500],
    }


def _event(at: datetime, action: str, donation: dict, before: dict | None, after: dict) -> dict:
    values = _event_values(SYSTEM, action, "donation", donation["id"], before, after, donation["unit_id"])
    return {**values, "at": at}


def _gift_data(rng: random.Random, place: _Place, received_on: date) -> dict:
    """What a treasurer would enter for one gift (the input of record_donation)."""
    method = rng.choices(list(METHOD_WEIGHTS), list(METHOD_WEIGHTS.values()))[0]
    amount = rng.choices(AMOUNTS, AMOUNT_WEIGHTS)[0]
    if place.unit.parent_id is None:
        amount *= PROVINCE_AMOUNT
    data = {
        "amount": amount,
        "method": method,
        "received_on": received_on,
        "purpose": rng.choice(PURPOSES).format(y=received_on.year),
        "anonymous": rng.random() < 0.05,
    }
    if method == "in_kind":
        description, quantity, measure = rng.choice(GOODS)
        data.update(in_kind_description=description, quantity=quantity, unit_of_measure=measure)
    elif method == "bank_transfer":
        data["bank_reference"] = f"FT{received_on:%y%m%d}{rng.randrange(10**6):06d}"
    return data


@dataclass(frozen=True)
class PlannedGift:
    """One gift of the plan: where, from whom (a donor row, with its id), what was entered, when, and whether it
    is voided the same day."""

    place: _Place
    donor: dict
    data: dict
    created_at: datetime
    voided: bool


def plan_gifts(session: Session, rng: random.Random, count: int) -> list[PlannedGift]:
    """The donors (inserted, in the caller's transaction: a donor is a plain row) and the year's gifts, in date
    order, as a treasurer enters them day by day."""
    places = _places(session)
    first_day = today_in_vietnam() - timedelta(days=365)
    connection = session.connection()
    donor_rows = _donor_rows(rng, places, datetime.combine(first_day, time(1)))
    table = Donor.__table__
    ids = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), donor_rows)
    for row, donor_id in zip(donor_rows, ids.scalars(), strict=True):
        row["id"] = donor_id
    # The words a donor is searched by, as the service stores them with a new donor.
    words = [{"word": w, "donor_id": row["id"]} for row in donor_rows for w in name_words(row["name"])]
    connection.execute(insert(DonorNameWord.__table__), words)
    by_unit: dict[int, list[dict]] = {}
    for row in donor_rows:
        by_unit.setdefault(row["unit_id"], []).append(row)
    days = sorted(first_day + timedelta(days=rng.randrange(365)) for _ in range(count))
    codes, weights = list(UNIT_SHARES), list(UNIT_SHARES.values())
    plan = []
    for n, received_on in enumerate(days):
        place = places[rng.choices(codes, weights)[0]]
        # Entered during the day the money came (Vietnam is UTC+7: 08:00 there is 01:00 UTC).
        created_at = datetime.combine(received_on, time(1)) + timedelta(seconds=n % 30_000)
        donor = rng.choice(by_unit[place.unit.id])
        plan.append(PlannedGift(place, donor, _gift_data(rng, place, received_on), created_at, rng.random() < VOIDED))
    return plan


def _write_gifts(session: Session, rng: random.Random, count: int) -> int:
    """The year's gifts by batches of INSERTs."""
    with write_transaction(session):
        plan = plan_gifts(session, rng, count)
        places = {gift.place.unit.id: gift.place for gift in plan}
        writer = _GiftWriter(session.connection(), places, {}, {}, [], [])
        for gift in plan:
            writer.add(gift.place, gift.donor, gift.data, gift.created_at, gift.voided)
        writer.flush()
        writer.sync_counters()
    return count


# --------------------------------------------------------------------------- nominations and the round


def _nominations_csv(rng: random.Random, count: int, communes: list[str], first_year: int) -> bytes:
    """A schools' nomination file of `count` pupils of the communes, as the import reads it."""
    keys = [c.key for c in NOMINATION_COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in NOMINATION_COLUMNS])
    levels = {"primary": (1, 5), "lower_secondary": (6, 9), "upper_secondary": (10, 12)}
    words = VIETNAMESE_WORDS
    for i in range(count):
        unit = communes[i % len(communes)]
        level = rng.choices(list(levels), [45, 35, 20])[0]
        grade = rng.randint(*levels[level])
        born = date(first_year - 6 - grade, 1, 1) + timedelta(days=rng.randrange(365))
        row = {
            "student_code": f"HS{i + 1:07d}",
            "full_name": f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "birth_date": born.strftime("%d/%m/%Y"),
            "gender": words["gender"][rng.choice(["male", "female"])],
            "ethnicity": rng.choice(["Kinh"] * 6 + ["Khmer"] * 3 + ["Hoa"]),
            "school": f"Trường {words['level'][level]} {unit}-{rng.randint(1, 4)}",
            "grade": f"{grade}{rng.choice('ABCD')}",
            "level": words["level"][level],
            "unit": unit,
            "household": words["household"][rng.choices(["poor", "near_poor", "hardship", "none"], [3, 2, 3, 2])[0]],
            "orphan": "x" if rng.random() < 0.05 else "",
            "disability": "x" if rng.random() < 0.03 else "",
            "gpa": f"{rng.randint(50, 100) / 10:.1f}",
            "academic_result": words["academic_result"][rng.choice(["excellent", "good", "pass"])],
            "conduct": words["conduct"][rng.choices(["excellent", "good", "pass"], [6, 3, 1])[0]],
        }
        writer.writerow([row.get(key, "") for key in keys])
    return out.getvalue().encode("utf-8")


def _nominations_and_round(session: Session, rng: random.Random, count: int) -> tuple[int, int]:
    """The year's nominations through the import, then the province round allocated and approved."""
    today = today_in_vietnam()
    first_year = today.year if today.month >= 9 else today.year - 1
    academic_year = f"{first_year}-{first_year + 1}"
    communes = sorted(session.scalars(select(Unit.code).where(Unit.level == "commune")))
    data = _nominations_csv(rng, count, communes, first_year)
    outcome = import_nominations(session, SYSTEM, data, "de-cu-toan-tinh.csv", academic_year)
    province = session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
    fund = session.get(Fund, province.default_fund_id)
    balance = session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.fund_id == fund.id)) or 0
    round_ = create_round(
        session,
        SYSTEM,
        {
            "name": f"Học bổng Khuyến học toàn tỉnh năm học {academic_year}",
            "academic_year": academic_year,
            "fund": fund.code,
            "unit": province.code,
            "budget": int(int(balance) * ROUND_BUDGET_SHARE) // 1_000_000 * 1_000_000,
            "rules": PRESETS["khuyen_hoc"],
        },
    )
    allocate_json(session, SYSTEM, round_.id)
    approve(session, SYSTEM, round_.id)
    awards = session.scalar(select(func.count()).select_from(Award).where(Award.round_id == round_.id))
    return outcome.created, int(awards)
