"""The demo data set: a province of Sóc Trăng with its districts and communes (fundsvc/demo/tree.py), funds, gifts
and users; with `life`, a year of its life (fundsvc/demo/life.py) across the 2025 reorganisation."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundsvc.auth.models import User
from fundsvc.auth.service import SYSTEM, create_user, issue_token
from fundsvc.db import write_transaction
from fundsvc.demo import tree
from fundsvc.demo.life import Event, publish_last_year, the_round, year_of_life
from fundsvc.documents.words import today_in_vietnam
from fundsvc.donations.service import record_donation
from fundsvc.ledger.periods import close_month
from fundsvc.units.models import Unit

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


def _create(session: Session, donations: int, seed: int, users: bool, life: bool) -> None:
    rng = random.Random(seed)
    for number, unit in enumerate(tree.units(), start=1):
        tree.add_demo_unit(session, unit, number)
    for username, role, unit, full_name in DEMO_USERS if users else []:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, role, unit, password=DEMO_PASSWORD, full_name=full_name)
    donors = _donors(rng)
    today = today_in_vietnam()
    # The whole demo plays the 2025 reorganisation (fundsvc/demo/tree.py) once it has happened; its gifts start in
    # the year of the merger at the latest, so that the old communes' books show their last half-year.
    reorganised = life and today > tree.MERGER_ON
    start = date(min(today.year - 1, tree.MERGER_ON.year) if reorganised else today.year - 1, 1, 1)
    span = (today - start).days
    gifts = []
    for _ in range(donations):
        donor = rng.choice(donors)
        received = start + timedelta(days=rng.randrange(span + 1))
        unit = rng.choice(tree.collecting_units(received, reorganised))
        method = rng.choices(["cash", "bank_transfer", "in_kind"], [6, 3, 1])[0]
        amount = rng.choice([100_000, 200_000, 300_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000])
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
    # The reorganisation first of its day: that day's gifts go to the new tree.
    events = [Event(tree.MERGER_ON, partial(tree.reorganise, session))] if reorganised else []
    events += [Event(data["received_on"], partial(record_donation, session, SYSTEM, data)) for data in gifts]
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
    month = tree.BOOKS_OPENED_ON
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
