"""A round with awards, built directly in the database (the unit tree ST → ST-TP → ST-TP-P2 … is there)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from fundsvc.allocation.models import Award, Round
from fundsvc.extensions import db as _db
from fundsvc.ledger.models import Fund
from fundsvc.students.models import Nomination, Student
from fundsvc.units.models import Unit

# (full name, birth date, class, school, unit, level, amount, tier, status)
PUPILS = [
    (
        "Dương Văn An",
        date(2012, 3, 4),
        "7A",
        "Trường THCS Lê Lợi",
        "ST-TP-P2",
        "lower_secondary",
        1_000_000,
        None,
        "approved",
    ),
    (
        "Đặng Văn An",
        date(2012, 5, 6),
        "7A",
        "Trường THCS Lê Lợi",
        "ST-TP-P2",
        "lower_secondary",
        1_000_000,
        None,
        "approved",
    ),
    (
        "Lê Thị Ánh",
        date(2012, 1, 2),
        "7A",
        "Trường THCS Lê Lợi",
        "ST-TP-P2",
        "lower_secondary",
        1_000_000,
        None,
        "paid",
    ),
    (
        "Lê Thị Anh",
        date(2012, 7, 8),
        "7A",
        "Trường THCS Lê Lợi",
        "ST-TP-P2",
        "lower_secondary",
        1_000_000,
        None,
        "approved",
    ),
    (
        "Trần Minh Ân",
        date(2011, 9, 9),
        "8B",
        "Trường THCS Lê Lợi",
        "ST-TP-P2",
        "lower_secondary",
        1_500_000,
        "Khuyến tài",
        "approved",
    ),
    (
        "Nguyễn Văn Bình",
        date(2012, 2, 2),
        "7A10",
        "Trường THCS Lê Lợi",
        "ST-TP-P2",
        "lower_secondary",
        1_000_000,
        None,
        "approved",
    ),
    (
        "Phạm Thị Bé",
        date(2012, 2, 3),
        "7A2",
        "Trường THCS Lê Lợi",
        "ST-TP-P2",
        "lower_secondary",
        1_000_000,
        None,
        "approved",
    ),
    ("Võ Ngọc Châu", date(2016, 4, 4), "3A", "Trường TH Phường 2", "ST-TP-P2", "primary", 500_000, None, "approved"),
    ("Huỳnh Thị Ơn", date(2016, 6, 1), "3A", "Trường TH Phường 2", "ST-TP-P2", "primary", 500_000, None, "approved"),
    ("Bùi Văn Tèo", date(2016, 6, 2), "3A", "Trường TH Phường 2", "ST-TP-P2", "primary", 500_000, None, "cancelled"),
    (
        "Thạch Thị Sa Ry",
        date(2008, 8, 8),
        "11A1",
        "Trường THPT Hoàng Diệu",
        "ST-TP-P5",
        "upper_secondary",
        1_500_000,
        None,
        "approved",
    ),
    (
        "Lâm Quốc Đạt",
        date(2008, 9, 9),
        "11A1",
        "Trường THPT Hoàng Diệu",
        "ST-TP-P5",
        "upper_secondary",
        1_500_000,
        None,
        "approved",
    ),
    (
        "Sơn Thị Mỹ Dung",
        date(2010, 10, 10),
        "9A",
        "Trường THCS Đại Tâm",
        "ST-MX-DT",
        "lower_secondary",
        1_000_000,
        None,
        "approved",
    ),
]


def held(pupils=PUPILS):
    return [p for p in pupils if p[8] != "cancelled"]


def make_round(session, pupils=PUPILS, *, status="approved", academic_year="2024-2025") -> Round:
    """Students, nominations, a round of the province and its awards, inserted directly."""
    units = {u.code: u for u in session.scalars(select(Unit))}
    fund = session.scalar(select(Fund).where(Fund.code == "KH"))
    round_ = Round(
        name="Học bổng Khuyến học 2024–2025",
        academic_year=academic_year,
        fund=fund,
        unit=units["ST"],
        budget=100_000_000,
        rules={},
        rules_hash="sha256:test",
        status=status,
        ranked={"nomination_id": [], "score": [], "amount": [], "tier": [], "outcome": []},  # nobody waitlisted
        result_hash="sha256:result",
        approved_at=datetime(2024, 11, 2, 3, 0, tzinfo=UTC),
    )
    session.add(round_)
    for rank, (name, born, grade, school, unit, level, amount, tier, award_status) in enumerate(pupils, 1):
        student = Student(
            identity_key=f"t:{academic_year}:{rank}:{name}", full_name=name, birth_date=born, school=school
        )
        nomination = Nomination(
            student=student,
            academic_year=academic_year,
            unit=units[unit],
            full_name=name,
            birth_date=born,
            school=school,
            grade=grade,
            grade_number=int(re.match(r"\d+", grade).group()),
            level=level,
        )
        session.add(nomination)
        session.flush()
        if status == "approved":
            session.add(
                Award(
                    round=round_,
                    nomination_id=nomination.id,
                    amount=amount,
                    rank=rank,
                    score="1",
                    tier=tier,
                    status=award_status,
                )
            )
    session.commit()
    return round_


@pytest.fixture
def round_id(app, tree):
    return make_round(_db.session).id


@pytest.fixture
def pdf_text():
    def text(pdf: bytes) -> list[str]:
        return [re.sub(r"\s+", " ", p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]

    return text


@pytest.fixture(autouse=True)
def _cache_dir(app, tmp_path):
    app.config["DOCUMENTS_CACHE_DIR"] = str(tmp_path / "documents")
    return tmp_path / "documents"
