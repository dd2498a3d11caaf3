"""The books benchmark's data: a province of `districts` × `communes` units whose first commune holds `movements`
movements of every kind over four years of books, and every other commune a few hundred.

Units, funds and bank accounts are made by the services (create_unit, create_fund, add_bank_account), and so is
every month's ceremony payment of a list of awards (disburse_list, one Phiếu chi for the list). The mass of the
movements (gifts in cash and by bank, their voids, other income, expenses, transfers between the unit's accounts
and to its district) is written as rows, exactly as the services write them: each document numbered in its
series in date order (the counters of receipt_books left at the last number, so the services carry on from it),
its ledger entry in its fund and money account, its audit event; no money account and no fund ever below zero.
`verify` then checks the result the way a service would use it: the next movement recorded through the service
takes the next number of its series, and every account's book closes at the sum of its entries.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace

from sqlalchemy import func, insert, select

from fundsvc.allocation.models import Award, Round
from fundsvc.allocation.service import disburse_list
from fundsvc.audit.models import AuditEvent
from fundsvc.audit.service import _event_values
from fundsvc.auth.service import SYSTEM
from fundsvc.db import utcnow, write_transaction
from fundsvc.donations.identity import name_words
from fundsvc.donations.models import Donation, Donor, DonorNameWord, Receipt, ReceiptBook
from fundsvc.donations.service import DOCUMENT_OF_METHOD
from fundsvc.ledger.accounts import add_bank_account
from fundsvc.ledger.models import Fund, LedgerEntry, MoneyAccount, Movement, MovementCategory
from fundsvc.ledger.movements import document_kind, record_movement
from fundsvc.ledger.service import create_fund
from fundsvc.numbering import document_code
from fundsvc.students.models import Nomination, Student
from fundsvc.students.normalize import fold
from fundsvc.units.identity import identity_chain, resolved_identity
from fundsvc.units.models import Unit
from fundsvc.units.service import create_unit

FIRST_YEAR, LAST_YEAR = 2021, 2024
BOOKS_OPENED_ON = date(FIRST_YEAR, 1, 1)
PROVINCE = "BT"
PAY_DAY = 28  # each month's list of awards is paid through the service on this day; rows fill days 1–27
PUPILS_PER_LIST = 20
AWARD = 500_000
BATCH = 5000
# The mix of a busy commune's movements (weights): gifts, other income, expenses, transfers.
KINDS = {
    "gift_cash": 30,
    "gift_bank": 18,
    "income_bank": 4,
    "expense_cash": 14,
    "expense_bank": 8,
    "cash_to_bank": 12,
    "bank_to_cash": 6,
    "to_district": 4,
    "void_expense": 1,
}
VOID_GIFT = 0.03  # share of gifts voided (the same day: the reversal is dated the gift's own date)
DONOR_NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Cường", "Phạm Thu Hà", "Thạch Thị Sa Ry", "Lâm Quốc Khánh"]
COMPANIES = ["Công ty TNHH Minh Phát", "Công ty CP Thủy sản Sóc Trăng", "Hợp tác xã Nông nghiệp Vĩnh Hải"]


def unit_codes(districts: int, communes: int) -> tuple[list[str], list[str]]:
    """(district codes, commune codes) of the generated province."""
    district_codes = [f"{PROVINCE}-{d:02d}" for d in range(1, districts + 1)]
    return district_codes, [f"{code}-{c:02d}" for code in district_codes for c in range(1, communes + 1)]


def fund_code(unit: str) -> str:
    return "KH" if unit == PROVINCE else f"KH-{unit}"


@dataclass
class Place:
    """What the rows of one unit need: ids, its fund, its two money accounts, the identity its documents print."""

    unit: Unit
    fund_id: int
    cash: int
    bank: int
    issuer: dict


@dataclass
class Writer:
    """Rows waiting to be inserted, numbers taken, balances kept (so that no money leaves what is not there)."""

    session: object
    next_id: dict[str, int]
    numbers: dict[tuple[int, str, int], tuple[int, date]] = field(default_factory=dict)
    books: dict[tuple[int, str, int], int] = field(default_factory=dict)  # (unit, series, year) -> receipt_books id
    rows: dict[object, list[dict]] = field(default_factory=lambda: defaultdict(list))
    balances: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # money account id -> balance
    fund_balances: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    now: datetime = field(default_factory=utcnow)

    def new_id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    @property
    def connection(self):
        return self.session.connection()

    def number(self, unit: Unit, on: date, series: str) -> tuple[int, str, int]:
        """(number, code, receipt_books id) of the next document of the unit's series in the year of `on`."""
        key = (unit.id, series, on.year)
        if key not in self.books:
            books = ReceiptBook.__table__
            values = {"unit_id": unit.id, "kind": series, "year": on.year, "last_number": 0}
            self.books[key] = self.connection.execute(books.insert().values(**values).returning(books.c.id)).scalar()
        last, _on = self.numbers.get(key, (0, on))
        self.numbers[key] = (last + 1, on)
        return last + 1, document_code(unit, on.year, last + 1, series), self.books[key]

    def add(self, table, **values) -> None:
        self.rows[table].append(values)
        if len(self.rows[table]) >= BATCH:
            self.flush()

    def flush(self) -> None:
        # Parents before children: donors, donations and movements before the entries and receipts naming them.
        order = [Donor, DonorNameWord, Donation, Receipt, Movement, LedgerEntry, AuditEvent]
        for model in order:
            rows = self.rows.pop(model, None)
            if rows:
                self.connection.execute(insert(model.__table__), rows)

    def entry(self, place: Place, on: date, kind: str, amount: int, account: int, code: str, text: str, **ids):
        self.balances[account] += amount
        self.fund_balances[place.fund_id] += amount
        method = "cash" if account == place.cash else "bank_transfer"
        self.add(
            LedgerEntry,
            id=self.new_id("ledger_entries"),
            fund_id=place.fund_id,
            unit_id=place.unit.id,
            entry_date=on,
            kind=kind,
            amount=amount,
            method=method,
            account_id=account,
            donation_id=ids.get("donation_id"),
            award_id=None,
            movement_id=ids.get("movement_id"),
            document_code=code,
            description=text[:500],
            created_at=self.now,
            created_by=None,
        )

    def audit(self, action: str, entity: str, entity_id: int, after: dict, unit_id: int) -> None:
        self.add(AuditEvent, **_event_values(SYSTEM, action, entity, entity_id, None, after, unit_id), at=self.now)

    def sync_counters(self) -> None:
        """The receipt_books rows at the numbers taken so far (the services carry on from them)."""
        self.flush()
        books = ReceiptBook.__table__
        for key, (last, on) in self.numbers.items():
            self.connection.execute(
                books.update().where(books.c.id == self.books[key]).values(last_number=last, last_date=on)
            )

    def reload_counters(self) -> None:
        """The counters after a service wrote documents (its numbers taken up again here)."""
        books = ReceiptBook.__table__
        for book_id, unit_id, series, year, last, on in self.connection.execute(
            select(books.c.id, books.c.unit_id, books.c.kind, books.c.year, books.c.last_number, books.c.last_date)
        ):
            self.books[unit_id, series, year] = book_id
            if last:
                self.numbers[unit_id, series, year] = (last, on)


def make_tree(session, districts: int, communes: int) -> None:
    """The province, its districts and communes, each with its fund and a bank account, through the services."""
    district_codes, commune_codes = unit_codes(districts, communes)
    units = [(PROVINCE, "Tỉnh Bến Tre (thử tải)", "province", None)]
    units += [(code, f"Huyện {code[-2:]}", "district", PROVINCE) for code in district_codes]
    units += [(code, f"Xã {code[-5:]}", "commune", code[:-3]) for code in commune_codes]
    for number, (code, name, level, parent) in enumerate(units, start=1):
        create_unit(
            session,
            SYSTEM,
            {"code": code, "name": name, "level": level, "parent": parent, "books_opened_on": BOOKS_OPENED_ON},
        )
        create_fund(session, SYSTEM, {"code": fund_code(code), "name": f"Quỹ Khuyến học {name}", "unit": code})
        add_bank_account(
            session,
            SYSTEM,
            code,
            {
                "name": f"Tiền gửi Vietcombank — {name}",
                "bank_name": "Ngân hàng TMCP Ngoại thương Việt Nam (Vietcombank)",
                "bank_bin": "970436",
                "account_number": f"9{number:06d}",
                "account_holder": f"HỘI KHUYẾN HỌC {name.upper()}",
            },
        )


def _place(session, code: str) -> Place:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    fund_id = session.scalar(select(Fund.id).where(Fund.code == fund_code(code)))
    accounts = dict(
        session.execute(select(MoneyAccount.kind, MoneyAccount.id).where(MoneyAccount.unit_id == unit.id)).all()
    )
    issuer = resolved_identity(identity_chain(session, unit))
    return Place(unit, fund_id, accounts["cash"], accounts["bank"], issuer)


def _max_ids(session) -> dict[str, int]:
    tables = {"donors": Donor, "donations": Donation, "receipts": Receipt, "movements": Movement}
    tables["ledger_entries"] = LedgerEntry
    return {name: int(session.scalar(select(func.coalesce(func.max(m.id), 0)))) for name, m in tables.items()}


class Generator:
    """Plays a random, seeded sequence of movements into a Writer, day by day."""

    def __init__(self, session, writer: Writer, rnd: random.Random, province: Place):
        self.session, self.w, self.rnd, self.province = session, writer, rnd, province
        categories = session.execute(select(MovementCategory.id, MovementCategory.direction)).all()
        self.income = [c for c, d in categories if d == "in"]
        self.expense = [c for c, d in categories if d == "out"]
        self.donors: list[tuple[int, str]] = []
        self.kinds, self.weights = list(KINDS), list(KINDS.values())

    def make_donors(self, count: int) -> None:
        for i in range(count):
            person = i % 5 != 0
            name = f"{self.rnd.choice(DONOR_NAMES)} {i}" if person else f"{self.rnd.choice(COMPANIES)} {i}"
            donor_id = self.w.new_id("donors")
            self.w.add(
                Donor,
                id=donor_id,
                name=name,
                kind="person" if person else "organization",
                unit_id=self.province.unit.id,
                created_at=self.w.now,
                name_folded=fold(name),
            )
            for word in name_words(name):  # what a search finds the donor by, as the service stores it
                self.w.add(DonorNameWord, word=word, donor_id=donor_id)
            self.donors.append((donor_id, name))

    def amount(self) -> int:
        return (
            self.rnd.choice([100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000])
            + self.rnd.randrange(10) * 50_000
        )

    def step(self, place: Place, district: Place, on: date) -> None:
        kind = self.rnd.choices(self.kinds, self.weights)[0]
        money = self.amount()
        if kind.startswith("gift"):
            self.gift(place, on, "cash" if kind == "gift_cash" else "bank_transfer", money)
        elif kind == "income_bank":
            self.movement(place, "income", "in", place.bank, on, money // 10, "Lãi tiền gửi ngân hàng")
        elif kind in ("expense_cash", "expense_bank", "void_expense"):
            account = place.bank if kind == "expense_bank" else place.cash
            if self._covered(place, account, money):
                void = kind == "void_expense"
                self.movement(place, "expense", "out", account, on, money, "Mua vở tặng học sinh", void=void)
            else:
                self.gift(place, on, "cash", money)
        else:
            self.transfer(place, district, kind, on, money)

    def _covered(self, place: Place, account: int, money: int) -> bool:
        return self.w.balances[account] >= money and self.w.fund_balances[place.fund_id] >= money

    def gift(self, place: Place, on: date, method: str, money: int) -> None:
        w = self.w
        donor_id, donor_name = self.rnd.choice(self.donors)
        series = DOCUMENT_OF_METHOD[method]
        number, code, book_id = w.number(place.unit, on, series)
        account = place.cash if method == "cash" else place.bank
        void = self.rnd.random() < VOID_GIFT
        donation_id = w.new_id("donations")
        w.add(
            Donation,
            id=donation_id,
            donor_id=donor_id,
            fund_id=place.fund_id,
            unit_id=place.unit.id,
            amount=money,
            method=method,
            account_id=account,
            bank_reference=f"FT{on:%y%m%d}{donation_id:07d}" if method == "bank_transfer" else None,
            received_on=on,
            purpose="Ủng hộ Quỹ Khuyến học",
            anonymous=donation_id % 40 == 0,
            status="void" if void else "recorded",
            void_reason="Ghi nhầm số tiền" if void else None,
            voided_at=w.now if void else None,
            created_at=w.now,
        )
        w.add(
            Receipt,
            id=w.new_id("receipts"),
            donation_id=donation_id,
            book_id=book_id,
            unit_id=place.unit.id,
            year=on.year,
            number=number,
            code=code,
            kind=series,
            issuer=place.issuer,
            created_at=w.now,
        )
        w.entry(place, on, "donation", money, account, code, f"Thu {code}: {donor_name}", donation_id=donation_id)
        w.audit("donation.record", "donation", donation_id, {"amount": money, "receipt": code}, place.unit.id)
        if void:
            w.entry(
                place, on, "reversal", -money, account, code, f"Hủy {code}: Ghi nhầm số tiền", donation_id=donation_id
            )
            w.audit("donation.void", "donation", donation_id, {"status": "void", "receipt": code}, place.unit.id)

    def movement(
        self, place: Place, kind: str, direction: str, account: int, on: date, money: int, text: str, **more
    ) -> int:
        """One movement (one side of a transfer) with its entry; `void`: voided at once, its reversal the same day."""
        w = self.w
        account_kind = "cash" if account == place.cash else "bank"
        series = document_kind(kind, direction, SimpleNamespace(kind=account_kind))  # all it reads of the account
        number, code, _book = w.number(place.unit, on, series)
        ident = w.new_id("movements")
        category = None
        if kind in ("income", "expense"):
            category = self.rnd.choice(self.income if direction == "in" else self.expense)
        w.add(
            Movement,
            id=ident,
            kind=kind,
            direction=direction,
            unit_id=place.unit.id,
            fund_id=place.fund_id,
            account_id=account,
            amount=money,
            movement_date=on,
            category_id=category,
            description=text,
            document_kind=series,
            document_number=number,
            document_code=code,
            transfer_id=more.get("transfer_id"),
            issuer=place.issuer,
            status="void" if more.get("void") else "recorded",
            void_reason="Ghi nhầm" if more.get("void") else None,
            voided_at=w.now if more.get("void") else None,
            created_at=w.now,
        )
        signed = money if direction == "in" else -money
        w.entry(place, on, "movement", signed, account, code, f"{code}: {text}", movement_id=ident)
        w.audit("movement.record", "movement", ident, {"kind": kind, "amount": money, "document": code}, place.unit.id)
        if more.get("void"):
            w.entry(place, on, "reversal", -signed, account, code, f"Hủy {code}: Ghi nhầm", movement_id=ident)
            w.audit("movement.void", "movement", ident, {"status": "void", "document": code}, place.unit.id)
        return ident

    def transfer(self, place: Place, district: Place, kind: str, on: date, money: int) -> None:
        source, target, to_place = {
            "cash_to_bank": (place.cash, place.bank, place),
            "bank_to_cash": (place.bank, place.cash, place),
            "to_district": (place.cash, district.cash, district),
        }[kind]
        if not self._covered(place, source, money):
            self.gift(place, on, "bank_transfer", money)
            return
        text = {
            "cash_to_bank": "Nộp tiền mặt vào ngân hàng",
            "bank_to_cash": "Rút tiền gửi ngân hàng nhập quỹ tiền mặt",
            "to_district": f"Nộp về {district.unit.name}",
        }[kind]
        first = self.w.next_id["movements"] + 1
        self.movement(place, "transfer", "out", source, on, money, text, transfer_id=first)
        self.movement(to_place, "transfer", "in", target, on, money, text, transfer_id=first)

    def pay_list(self, place: Place, on: date) -> None:
        """A list of awards of the commune paid at once through the service (one Phiếu chi)."""
        w = self.w
        total = PUPILS_PER_LIST * AWARD
        if not self._covered(place, place.cash, total):
            return
        w.sync_counters()
        with write_transaction(self.session):
            round_ = Round(
                name=f"Học bổng tháng {on:%m/%Y}",
                academic_year=f"{on.year}-{on.year + 1}",
                fund_id=place.fund_id,
                unit_id=place.unit.id,
                budget=total,
                rules={},
                rules_hash="bench",
                status="approved",
            )
            self.session.add(round_)
            for i in range(PUPILS_PER_LIST):
                key = f"{place.unit.code}-{on:%Y%m}-{i}"
                student = Student(
                    identity_key=f"bench:{key}",
                    full_name=f"Học Sinh {key}",
                    birth_date=date(2012, 5, 1),
                    school="Trường Tiểu học thử tải",
                )
                nomination = Nomination(
                    student=student,
                    academic_year=round_.academic_year,
                    unit_id=place.unit.id,
                    full_name=student.full_name,
                    birth_date=student.birth_date,
                    school=student.school,
                    grade="5",
                    grade_number=5,
                    level="primary",
                )
                self.session.add(
                    Award(round=round_, nomination=nomination, amount=AWARD, rank=i + 1, score="1", status="approved")
                )
        disburse_list(self.session, SYSTEM, round_.id, on)
        w.balances[place.cash] -= total
        w.fund_balances[place.fund_id] -= total
        w.reload_counters()
        w.next_id.update(_max_ids(self.session))


def generate(session, *, movements: int, districts: int, communes: int, others: int, seed: int = 20) -> dict:
    """The whole data set (see the module's docstring); returns the codes the bench measures."""
    make_tree(session, districts, communes)
    district_codes, commune_codes = unit_codes(districts, communes)
    busy_code = commune_codes[0]
    places = {code: _place(session, code) for code in [PROVINCE, *district_codes, *commune_codes]}
    writer = Writer(session, _max_ids(session))
    generator = Generator(session, writer, random.Random(seed), places[PROVINCE])
    generator.make_donors(3000)
    months = [(y, m) for y in range(FIRST_YEAR, LAST_YEAR + 1) for m in range(1, 13)]
    per_month = {busy_code: movements / len(months), **{c: others / len(months) for c in commune_codes[1:]}}
    carry = defaultdict(float)
    for year, month in months:
        for code, rate in per_month.items():
            carry[code] += rate
            count, carry[code] = int(carry[code]), carry[code] - int(carry[code])
            place, district = places[code], places[code[:-3]]
            days = sorted(generator.rnd.randint(1, PAY_DAY - 1) for _ in range(count))
            for day in days:
                generator.step(place, district, date(year, month, day))
        generator.pay_list(places[busy_code], date(year, month, PAY_DAY))
    writer.sync_counters()
    session.commit()
    return {"province": PROVINCE, "unit": busy_code, "year": LAST_YEAR, "cash_account": places[busy_code].cash}


def verify(session, info: dict) -> None:
    """The rows are books the services can carry on: the next movement takes the next number of its series; no
    money account below zero; each account's balance is the sum of its book."""
    from fundsvc.reports.books import cash_book

    unit_code = info["unit"]
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    last = session.scalar(
        select(ReceiptBook.last_number).where(
            ReceiptBook.unit_id == unit.id, ReceiptBook.kind == "receipt", ReceiptBook.year == info["year"]
        )
    )
    recorded, _ = record_movement(
        session,
        SYSTEM,
        {
            "kind": "income",
            "unit": unit_code,
            "fund": fund_code(unit_code),
            "account": info["cash_account"],
            "amount": 1_000_000,
            "date": date(info["year"], 12, 30),
            "description": "Thu hoàn ứng (kiểm tra số chứng từ)",
            "category": "thu-khac",
        },
    )
    expected = document_code(unit, info["year"], last + 1, "receipt")
    if recorded[0].document_code != expected:
        raise SystemExit(f"numbering: the service took {recorded[0].document_code}, expected {expected}")
    negative = session.execute(
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.account_id)
        .having(func.sum(LedgerEntry.amount) < 0)
    ).all()
    if negative:
        raise SystemExit(f"money accounts below zero: {negative[:5]}")
    book = cash_book(session, SYSTEM, unit_code, BOOKS_OPENED_ON, date(LAST_YEAR, 12, 31))
    balance = session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id == info["cash_account"]))
    if book["closing_balance"] != balance or book["closing_balance"] != (
        book["opening_balance"] + book["total_in"] - book["total_out"]
    ):
        raise SystemExit("the cash book does not close at its account's balance")
