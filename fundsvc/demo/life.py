"""A year in the life of the demo province, so that a newcomer sees every feature after `make run`: opening balances,
interest, bank fees, a cash deposit, a grant from the province to a ward, expenses, the schools' nomination
spreadsheets, a scholarship round allocated, approved and partly paid (a school's list at once, two pupils one by
one), a closed year and its published statement.

Everything goes through the services a treasurer's or a committee's request goes through, in date order (each
document series numbers in date order), so the demo holds nothing the service could not have written itself.
"""

from __future__ import annotations

import copy
import csv
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundsvc.allocation import service as rounds
from fundsvc.allocation.models import Award
from fundsvc.allocation.rules import PRESETS
from fundsvc.auth.service import SYSTEM
from fundsvc.documents.service import DocumentSettings
from fundsvc.ledger.models import MoneyAccount
from fundsvc.ledger.movements import record_movement
from fundsvc.reports.service import publish
from fundsvc.students.service import import_nominations
from fundsvc.students.vocabulary import NOMINATION_COLUMNS
from fundsvc.units.models import Unit

WARD = "ST-TP-P2"
PROVINCE = "ST"
# The schools that send their lists: (school, unit, level, grades); a school of a commune merged since sends its list
# to the unit the commune merged into.
SCHOOLS = [
    ("Trường TH Phường 2", "ST-TP-P2", "Tiểu học", range(1, 6)),
    ("Trường THCS Lê Lợi", "ST-TP-P2", "THCS", range(6, 10)),
    ("Trường THPT Hoàng Diệu", "ST-TP-P5", "THPT", range(10, 13)),
    ("Trường THCS Đại Tâm", "ST-MX-DT", "THCS", range(6, 10)),
    ("Trường TH Vĩnh Hải", "ST-VC-VH", "Tiểu học", range(1, 6)),
    ("Trường THCS Lịch Hội Thượng", "ST-TD-LHT", "THCS", range(6, 10)),
]
HEADERS = [c.header for c in NOMINATION_COLUMNS if c.key != "guardian"]
HOUSEHOLDS = (["Hộ nghèo"] * 3) + (["Hộ cận nghèo"] * 3) + (["Khó khăn"] * 2) + (["Không"] * 2)
ETHNICITIES = ["Kinh"] * 6 + ["Khmer", "Khmer", "Hoa"]
CONDUCT = ["Tốt", "Tốt", "Tốt", "Khá", "Đạt"]
PUPILS_PER_SCHOOL = 28


@dataclass(frozen=True)
class Event:
    """One thing a treasurer or a committee did, on its day."""

    on: date
    do: Callable[[], object]


def year_of_life(session: Session, today: date, rng: random.Random) -> list[Event]:
    """The year's movements as dated events, to be run in date order with the year's gifts."""
    last_year = today.year - 1
    accounts = _accounts(session)

    def move(kind: str, unit: str, account: str, amount: int, on: date, description: str, **extra) -> Event:
        data = {
            "kind": kind,
            "unit": unit,
            "fund": _fund(unit),
            "account": accounts[unit, account],
            "amount": amount,
            "date": on,
            "description": description,
            **extra,
        }
        return Event(on, lambda: record_movement(session, SYSTEM, data))

    # An opening balance is dated the day the unit's books open (BOOKS.md "Opening balances").
    opened = session.scalar(select(Unit.books_opened_on).where(Unit.code == PROVINCE))
    paper = "Số dư chuyển sang từ sổ giấy"
    events = [
        move("opening_balance", PROVINCE, "bank", 120_000_000, opened, paper),
        move("opening_balance", PROVINCE, "cash", 15_000_000, opened, paper),
        move("opening_balance", WARD, "cash", 8_500_000, opened, paper),
        move("opening_balance", WARD, "bank", 25_000_000, opened, paper),
    ]
    for month in range(1, 13):
        fee_day = date(last_year, month, 25)
        events.append(
            move("expense", PROVINCE, "bank", 11_000, fee_day, "Phí quản lý tài khoản", category="phi-ngan-hang")
        )
    for quarter_end in (
        date(last_year, 3, 31),
        date(last_year, 6, 30),
        date(last_year, 9, 30),
        date(last_year, 12, 31),
    ):
        for unit, interest in ((PROVINCE, 182_500), (WARD, 41_300)):
            events.append(
                move("income", unit, "bank", interest, quarter_end, "Lãi tiền gửi quý", category="lai-tien-gui")
            )
    events += [
        move(
            "transfer",
            WARD,
            "cash",
            5_000_000,
            date(last_year, 5, 15),
            "Nộp tiền mặt vào tài khoản",
            to={"unit": WARD, "account": accounts[WARD, "bank"]},
        ),
        move(
            "transfer",
            PROVINCE,
            "bank",
            20_000_000,
            date(last_year, 8, 20),
            "Hỗ trợ học bổng năm học mới cho Hội Khuyến học phường 2",
            to={"unit": WARD, "account": accounts[WARD, "bank"]},
        ),
        move(
            "expense",
            WARD,
            "cash",
            3_200_000,
            date(last_year, 9, 5),
            "Mua 320 quyển vở tặng học sinh khó khăn",
            category="mua-hien-vat",
            counterparty={"name": "Nhà sách Phương Nam Sóc Trăng", "address": "Số 2 Hùng Vương, TP. Sóc Trăng"},
        ),
        move(
            "expense",
            WARD,
            "cash",
            1_500_000,
            date(last_year, 11, 20),
            "Trang trí, âm thanh lễ trao học bổng",
            category="to-chuc-le",
            counterparty={"name": "Cơ sở âm thanh Hoàng Phát"},
        ),
    ]
    if today.month > 1:
        events.append(
            move(
                "expense",
                PROVINCE,
                "bank",
                11_000,
                date(today.year, 1, 25),
                "Phí quản lý tài khoản",
                category="phi-ngan-hang",
            )
        )
    return events


def the_round(session: Session, today: date, rng: random.Random, names: Callable[[], str]) -> None:
    """The schools' lists for this school year, and the province's round: allocated, approved, partly paid today."""
    start = today.year if today.month >= 9 else today.year - 1
    academic_year = f"{start}-{start + 1}"
    for number, (school, unit, level, grades) in enumerate(SCHOOLS, start=1):
        sheet = _school_sheet((school, _successor(session, unit), level, grades), number, start, rng, names)
        import_nominations(session, SYSTEM, sheet, f"danh-sach-de-cu-{number}.csv", academic_year)
    round_ = rounds.create_round(
        session,
        SYSTEM,
        {
            "name": f"Học bổng Khuyến học năm học {start}–{start + 1}",
            "academic_year": academic_year,
            "fund": "KH",
            "unit": PROVINCE,
            "budget": 40_000_000,
            "rules": copy.deepcopy(PRESETS["khuyen_hoc"]),
        },
    )
    rounds.allocate(session, SYSTEM, round_.id)
    rounds.approve(session, SYSTEM, round_.id)
    # A school's list paid in cash at its ceremony, against the signature sheet; two pupils of another by bank.
    rounds.disburse_list(session, SYSTEM, round_.id, today, school=SCHOOLS[0][0], method="cash")
    bank = _accounts(session)[PROVINCE, "bank"]
    awards = session.scalars(
        select(Award).where(Award.round_id == round_.id, Award.status == "approved").order_by(Award.rank).limit(2)
    ).all()
    for award in awards:
        rounds.disburse(
            session,
            SYSTEM,
            award.id,
            today,
            f"Phụ huynh em {award.nomination.full_name}",
            method="bank_transfer",
            account=bank,
            bank_reference=f"FT{today:%y%m%d}{rng.randrange(10**6):06d}",
        )


def publish_last_year(session: Session, today: date) -> None:
    """The ward's statement of the year it has closed."""
    publish(session, SYSTEM, WARD, today.year - 1, DocumentSettings.from_config(current_app.config))


def _school_sheet(school: tuple, number: int, start: int, rng: random.Random, names: Callable[[], str]) -> bytes:
    name, unit, level, grades = school
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for i in range(PUPILS_PER_SCHOOL):
        grade = rng.choice(list(grades))
        born = date(start - 6 - grade + 1, 1, 1) + timedelta(days=rng.randrange(365))
        gpa = round(rng.uniform(5.8, 9.6), 1)
        writer.writerow(
            [
                f"HS{start % 100:02d}{number:02d}{i + 1:04d}",
                names(),
                f"{born:%d/%m/%Y}",
                rng.choice(["Nam", "Nữ"]),
                rng.choice(ETHNICITIES),
                name,
                f"{grade}{rng.choice('ABCD')}",
                level,
                unit,
                rng.choice(HOUSEHOLDS),
                "x" if rng.random() < 0.06 else "",
                "x" if rng.random() < 0.04 else "",
                f"{gpa}".replace(".", ","),
                "Giỏi" if gpa >= 8 else "Khá" if gpa >= 6.5 else "Đạt",
                rng.choice(CONDUCT),
                "",
                "",
            ]
        )
    return out.getvalue().encode("utf-8")


def _successor(session: Session, code: str) -> str:
    """The unit that carries a unit on today: itself, or the one it merged into (and so on)."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    while unit.merged_into is not None:
        unit = unit.merged_into
    return unit.code


def _fund(unit: str) -> str:
    return "KH" if unit == PROVINCE else f"KH-{unit}"


def _accounts(session: Session) -> dict[tuple[str, str], int]:
    """(unit code, "cash" | "bank") -> the unit's first account of that kind."""
    rows = session.execute(
        select(Unit.code, MoneyAccount.kind, MoneyAccount.id)
        .join(MoneyAccount, MoneyAccount.unit_id == Unit.id)
        .order_by(MoneyAccount.id.desc())
    )
    return {(code, kind): account_id for code, kind, account_id in rows}
