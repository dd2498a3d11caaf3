"""Factories for report tests: gifts through the donations service, paid awards through the allocation service."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from sqlalchemy import select

from fundsvc.allocation.models import Award, Round
from fundsvc.allocation.service import disburse
from fundsvc.auth.service import SYSTEM
from fundsvc.db import write_transaction
from fundsvc.donations.service import record_donation, void_donation
from fundsvc.ledger.models import Fund
from fundsvc.students.models import Nomination, Student
from fundsvc.units.models import Unit

_seq = itertools.count(1)

COMMUNES = ["ST-TP-P2", "ST-TP-P5", "ST-MX-DT", "ST-MX-TD", "ST-TD-LHT", "ST-VC-VH"]
DISTRICTS = ["ST-TP", "ST-MX", "ST-TD", "ST-VC"]
UNITS = ["ST", *DISTRICTS, *COMMUNES]


def fund_code(unit: str) -> str:
    return "KH" if unit == "ST" else f"KH-{unit}"


def give(
    session,
    unit: str,
    amount: int,
    *,
    fund: str | None = None,
    on: date = date(2024, 3, 1),
    method: str = "cash",
    donor: str | None = None,
    anonymous: bool = False,
    phone: str | None = None,
):
    """Record a gift through the service (as SYSTEM)."""
    data = {
        "donor": {"name": donor or f"Nhà hảo tâm {next(_seq)}", "kind": "person", "phone": phone},
        "unit": unit,
        "fund": fund or fund_code(unit),
        "amount": amount,
        "method": method,
        "received_on": on,
        "purpose": "Ủng hộ Quỹ Khuyến học",
        "anonymous": anonymous,
    }
    if method == "in_kind":
        data["in_kind_description"] = "Sách vở, đồ dùng học tập"
    donation, _ = record_donation(session, SYSTEM, data)
    return donation


def void(session, donation_id: int, reason: str = "Ghi nhầm số tiền"):
    return void_donation(session, SYSTEM, donation_id, reason)


def pay_award(
    session,
    fund: str,
    unit: str,
    amount: int,
    *,
    on: date = date(2024, 9, 5),
    level: str = "primary",
    tier: str | None = "Vượt khó",
    name: str | None = None,
    school: str = "Trường Tiểu học Phường 2",
    birth_date: date = date(2013, 4, 17),
    guardian: str = "Trần Thị Mẹ",
    household: str = "poor",
    note: str = "Gia đình khó khăn",
    **payment,
):
    """An approved award for a new pupil in `unit`, paid from `fund` through the allocation service (`payment`:
    method, account, bank_reference of a payment by bank)."""
    n = next(_seq)
    with write_transaction(session):
        the_fund = session.scalar(select(Fund).where(Fund.code == fund))
        the_unit = session.scalar(select(Unit).where(Unit.code == unit))
        student = Student(
            identity_key=f"code:HS{n:06d}",
            student_code=f"HS{n:06d}",
            full_name=name or f"Học Sinh {n}",
            birth_date=birth_date,
            school=school,
        )
        nomination = Nomination(
            student=student,
            academic_year="2024-2025",
            unit_id=the_unit.id,
            student_code=student.student_code,
            full_name=student.full_name,
            birth_date=birth_date,
            school=school,
            grade="5",
            grade_number=5,
            level=level,
            household=household,
            guardian=guardian,
            note=note,
        )
        round_ = Round(
            name=f"Đợt {n}",
            academic_year="2024-2025",
            fund_id=the_fund.id,
            unit_id=the_fund.unit_id,
            budget=amount,
            rules={},
            rules_hash="x",
            status="approved",
        )
        session.add_all([student, nomination, round_])
        session.flush()
        award = Award(
            round_id=round_.id,
            nomination_id=nomination.id,
            amount=amount,
            rank=1,
            score="1",
            tier=tier,
            status="approved",
        )
        session.add(award)
        session.flush()
        award_id = award.id
    return disburse(session, SYSTEM, award_id, on, "Người nhận", **payment)


@pytest.fixture
def session(app, tree):
    from fundsvc.extensions import db

    return db.session
