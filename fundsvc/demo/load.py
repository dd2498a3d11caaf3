"""The demo data set: a province of Sóc Trăng with its districts and communes, funds, gifts and users."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundsvc.auth.models import User
from fundsvc.auth.service import SYSTEM, create_user, issue_token
from fundsvc.db import write_transaction
from fundsvc.donations.service import record_donation
from fundsvc.ledger.service import create_fund
from fundsvc.units.models import Unit
from fundsvc.units.service import create_unit

DEMO_PASSWORD = "khuyenhoc2024"
DEMO_USERS = [  # username, role, unit
    ("admin", "admin", None),
    ("thuquy", "treasurer", "ST-TP-P2"),
    ("thuquy.tinh", "treasurer", "ST"),
    ("hoidong", "committee", "ST"),
    ("xem", "viewer", "ST"),
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
    session: Session, *, issue_tokens: bool = False, donations: int = 300, seed: int = 2024, users: bool = True
) -> DemoSummary:
    """Create the demo data set unless it is already there; optionally issue fresh tokens for the demo users."""
    created = session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "ST")) == 0
    if created:
        _create(session, donations, seed, users)
    summary = DemoSummary(created)
    if issue_tokens:
        with write_transaction(session):
            for username, *_ in DEMO_USERS:
                user = session.scalar(select(User).where(User.username == username))
                if user is not None:
                    summary.tokens[username] = issue_token(session, user)
    return summary


def _create(session: Session, donations: int, seed: int, users: bool) -> None:
    rng = random.Random(seed)
    for unit in _units():
        create_unit(session, SYSTEM, unit)
        fund_code = "KH" if unit["parent"] is None else f"KH-{unit['code']}"
        fund_name = f"Quỹ Khuyến học {unit['name']}"
        create_fund(session, SYSTEM, {"code": fund_code, "name": fund_name, "unit": unit["code"]})
    for username, role, unit in DEMO_USERS if users else []:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, role, unit, password=DEMO_PASSWORD, full_name=username)
    collecting = [u["code"] for u in _units()]
    donors = _donors(rng)
    start = date(date.today().year - 1, 1, 1)
    span = (date.today() - start).days
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
            data["in_kind_description"] = rng.choice(["50 bộ sách giáo khoa", "20 chiếc xe đạp", "100 cuốn vở, bút"])
        record_donation(session, SYSTEM, data)


def _donors(rng: random.Random) -> list[dict]:
    people = []
    for i in range(60):
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        people.append(
            {
                "name": name,
                "kind": "person",
                "phone": f"09{rng.randrange(10**8):08d}",
                "address": f"Số {i + 1} đường Lê Lợi, TP. Sóc Trăng",
            }
        )
    companies = [
        {"name": name, "kind": "organization", "tax_code": f"22{rng.randrange(10**8):08d}", "address": "TP. Sóc Trăng"}
        for name in COMPANIES
    ]
    return people + companies
