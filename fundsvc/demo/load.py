"""The demo data set: a province of Sóc Trăng with its districts and communes, funds, gifts and users."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundsvc.auth.models import User
from fundsvc.auth.service import SYSTEM, create_user, issue_token
from fundsvc.db import write_transaction
from fundsvc.demo.life import Event, publish_last_year, the_round, year_of_life
from fundsvc.documents.words import today_in_vietnam
from fundsvc.donations.service import record_donation
from fundsvc.ledger.accounts import add_bank_account
from fundsvc.ledger.periods import close_month
from fundsvc.ledger.service import create_fund
from fundsvc.units.identity import apply_identity, resolved_identity
from fundsvc.units.models import Unit
from fundsvc.units.service import create_unit

DEMO_PASSWORD = "khuyenhoc2024"
DEMO_USERS = [  # username, role, unit, full name (printed as the preparer of the documents they make)
    ("admin", "admin", None, "Nguyễn Quản Trị"),
    ("thuquy", "treasurer", "ST-TP-P2", "Lê Thị Thu"),
    ("thuquy.tinh", "treasurer", "ST", "Trần Thị Ngọc Hân"),
    ("hoidong", "committee", "ST", "Phạm Văn Hội"),
    ("xem", "viewer", "ST", "Võ Minh Khoa"),
]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Lâm", "Thạch"]
MIDDLE = ["Văn", "Thị", "Minh", "Hoàng", "Ngọc", "Thanh", "Đức", "Thu", "Quốc", "Kim"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hạnh",
    "Hòa",
    "Hùng",
    "Lan",
    "Linh",
    "Mai",
    "Nam",
    "Phúc",
    "Phương",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
    "Đạt",
    "Ánh",
]
COMPANIES = [
    "Công ty TNHH Minh Phát",
    "Công ty CP Thủy sản Sóc Trăng",
    "Ngân hàng TMCP Công Thương chi nhánh Sóc Trăng",
    "Công ty TNHH Lúa gạo Mỹ Xuyên",
    "Doanh nghiệp tư nhân Hưng Thịnh",
    "Hợp tác xã Nông nghiệp Vĩnh Hải",
    "Công ty CP Xây dựng Trần Đề",
    "Nhà sách Phương Nam Sóc Trăng",
]
PURPOSES = [
    "Ủng hộ Quỹ Khuyến học năm {y}",
    "Đóng góp học bổng cho học sinh nghèo vượt khó",
    "Ủng hộ khuyến học, khuyến tài",
    "Đóng góp nhân dịp khai giảng năm học mới",
]


@dataclass
class DemoSummary:
    created: bool
    tokens: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        lines = ["Demo data loaded." if self.created else "Demo data already present; nothing added."]
        if self.tokens:
            lines.append(f"Web login password for every demo user: {DEMO_PASSWORD}")
            lines += [f"  {name:12s} Authorization: Bearer {token}" for name, token in self.tokens.items()]
        return "\n".join(lines)


def _units() -> list[dict]:
    return json.loads((Path(__file__).parent / "units.json").read_text(encoding="utf-8"))


def load_demo(
    session: Session,
    *,
    issue_tokens: bool = False,
    donations: int = 300,
    seed: int = 2024,
    users: bool = True,
    life: bool = False,
) -> DemoSummary:
    """Create the demo data set unless it is already there; optionally issue fresh tokens for the demo users.
    With `life`, the year's other movements, the schools' lists, a round and a published statement too
    (fundsvc/demo/life.py): what `flask demo load` shows a newcomer; the tests build what they need themselves."""
    created = session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "ST")) == 0
    if created:
        _create(session, donations, seed, users, life)
    summary = DemoSummary(created)
    if issue_tokens:
        with write_transaction(session):
            for username, *_ in DEMO_USERS:
                user = session.scalar(select(User).where(User.username == username))
                if user is not None:
                    summary.tokens[username] = issue_token(session, user)
    return summary


# The demo's books open early enough for the examples of the documentation and the tests (2023 onwards).
BOOKS_OPENED_ON = date(2023, 1, 1)
# What the demo's province and one ward print on their documents; every other unit inherits or derives it.
IDENTITIES = {
    "ST": {
        "printed_name": "Hội Khuyến học tỉnh Sóc Trăng",
        "parent_printed_name": "Hội Khuyến học Việt Nam",
        "address": "Số 1 đường Trần Hưng Đạo, Phường 2, TP. Sóc Trăng",
        "phone": "0299 3822 123",
        "signatories": {"head": "Trần Văn Hùng", "accountant": "Lê Thị Hạnh", "cashier": "Phạm Thị Lan"},
    },
    "ST-TP-P2": {
        "printed_name": "Hội Khuyến học phường 2",
        "address": "Số 8 đường Hai Bà Trưng, Phường 2, TP. Sóc Trăng",
        "phone": "0299 3611 456",
        "signatories": {"head": "Nguyễn Văn Nam", "accountant": "Võ Thị Thu", "cashier": "Lâm Thị Mai"},
    },
}
# Vietcombank's NAPAS BIN; the account numbers are made up.
DEMO_BANK = {"bank_name": "Ngân hàng TMCP Ngoại thương Việt Nam (Vietcombank)", "bank_bin": "970436"}


def _create(session: Session, donations: int, seed: int, users: bool, life: bool) -> None:
    rng = random.Random(seed)
    for number, unit in enumerate(_units(), start=1):
        created = create_unit(session, SYSTEM, {**unit, "books_opened_on": BOOKS_OPENED_ON})
        if unit["code"] in IDENTITIES:
            with write_transaction(session):
                apply_identity(created, IDENTITIES[unit["code"]])
        fund_code = "KH" if unit["parent"] is None else f"KH-{unit['code']}"
        fund_name = f"Quỹ Khuyến học {unit['name']}"
        create_fund(session, SYSTEM, {"code": fund_code, "name": fund_name, "unit": unit["code"]})
        add_bank_account(
            session,
            SYSTEM,
            unit["code"],
            {
                **DEMO_BANK,
                "name": f"Tiền gửi Vietcombank — {unit['name']}",
                "account_number": f"10{number:02d}88{number * 7919 % 100000:05d}",
                "account_holder": (resolved_identity([created]).get("printed_name") or unit["name"]).upper(),
            },
        )
    for username, role, unit, full_name in DEMO_USERS if users else []:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, role, unit, password=DEMO_PASSWORD, full_name=full_name)
    collecting = [u["code"] for u in _units()]
    donors = _donors(rng)
    today = today_in_vietnam()
    start = date(today.year - 1, 1, 1)
    span = (today - start).days
    gifts = []
    for _ in range(donations):
        donor = rng.choice(donors)
        unit = rng.choice(collecting)
        method = rng.choices(["cash", "bank_transfer", "in_kind"], [6, 3, 1])[0]
        amount = rng.choice([100_000, 200_000, 300_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000])
        received = start + timedelta(days=rng.randrange(span + 1))
        data = {
            "donor": donor,
            "unit": unit,
            "amount": amount,
            "method": method,
            "received_on": received,
            "purpose": rng.choice(PURPOSES).format(y=received.year),
            "anonymous": rng.random() < 0.05,
        }
        if method == "in_kind":
            description, quantity, measure = rng.choice(GOODS)
            data.update(in_kind_description=description, quantity=quantity, unit_of_measure=measure)
        if method == "bank_transfer":
            data["bank_reference"] = f"FT{received:%y%m%d}{rng.randrange(10**6):06d}"
        gifts.append(data)
    events = [Event(data["received_on"], partial(record_donation, session, SYSTEM, data)) for data in gifts]
    if life:
        events += year_of_life(session, today, rng)
    # Each series numbers its documents in date order, as a treasurer enters them day by day.
    for event in sorted(events, key=lambda e: e.on):
        event.do()
    if donations:
        _close_months(session, "ST-TP-P2", until=date(today.year - 1, 12, 1))
    if life:
        the_round(session, today, rng, lambda: _person_name(rng))
        publish_last_year(session, today)


GOODS = [("Sách giáo khoa lớp 6", 50, "bộ"), ("Xe đạp", 20, "chiếc"), ("Vở học sinh 96 trang", 100, "cuốn")]


def _close_months(session: Session, unit: str, *, until: date) -> None:
    """Close a unit's months from the one its books opened in to `until`: the demo shows a closed year."""
    month = BOOKS_OPENED_ON
    while month <= until:
        close_month(session, SYSTEM, unit, f"{month:%Y-%m}")
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _person_name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _donors(rng: random.Random) -> list[dict]:
    people = []
    for i in range(60):
        name = _person_name(rng)
        people.append(
            {
                "name": name,
                "kind": "person",
                "phone": f"091{rng.randrange(10**7):07d}",
                "address": f"Số {i + 1} đường Lê Lợi, TP. Sóc Trăng",
            }
        )
    companies = [
        {"name": name, "kind": "organization", "tax_code": f"22{rng.randrange(10**8):08d}", "address": "TP. Sóc Trăng"}
        for name in COMPANIES
    ]
    return people + companies
