"""Pupils (identity across years) and their nominations (one per pupil per academic year)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundsvc.db import Base, utcnow
from fundsvc.students.normalize import fold
from fundsvc.students.vocabulary import ROW_KEYS
from fundsvc.units.models import Unit

NOMINATION_STATUSES = ("active", "withdrawn")
# The nomination's own fields, as docs/import.md names them: the parser's row keys but its row number and the unit
# (stored as unit_id).
FIELDS = tuple(key for key in ROW_KEYS if key not in ("row", "unit"))


class Student(Base):
    __tablename__ = "students"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "code:<student_code>" when the school gives a code, else "nbs:<name>|<birth date>|<school>" normalised:
    # the one key that identifies a pupil across years and files.
    identity_key: Mapped[str] = mapped_column(String(500), unique=True)
    student_code: Mapped[str | None] = mapped_column(String(40), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date]
    school: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    nominations: Mapped[list[Nomination]] = relationship(back_populates="student")


def _folded_name(context) -> str:
    """A nomination's name_folded when the INSERT does not give it."""
    return fold(context.get_current_parameters()["full_name"])


class Nomination(Base):
    __tablename__ = "nominations"
    __table_args__ = (
        UniqueConstraint("student_id", "academic_year"),
        CheckConstraint(f"status IN {NOMINATION_STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed as the leading column of the unique (student_id, academic_year) constraint above.
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    academic_year: Mapped[str] = mapped_column(String(9), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    student_code: Mapped[str | None] = mapped_column(String(40))
    full_name: Mapped[str] = mapped_column(String(200))
    # fold(full_name) (fundsvc.students.normalize): what a search by the start of a word of the name runs on; given
    # by the import and a correction of the name, else derived from the row's full_name.
    name_folded: Mapped[str] = mapped_column(String(200), default=_folded_name)
    birth_date: Mapped[date]
    gender: Mapped[str | None] = mapped_column(String(8))
    ethnicity: Mapped[str | None] = mapped_column(String(60))
    ethnic_minority: Mapped[bool] = mapped_column(default=False)
    school: Mapped[str] = mapped_column(String(200), index=True)
    grade: Mapped[str] = mapped_column(String(20))
    grade_number: Mapped[int | None]
    level: Mapped[str | None] = mapped_column(String(20))
    household: Mapped[str] = mapped_column(String(16), default="none")
    orphan: Mapped[bool] = mapped_column(default=False)
    disability: Mapped[bool] = mapped_column(default=False)
    gpa: Mapped[Decimal | None] = mapped_column(Numeric(3, 1))
    academic_result: Mapped[str | None] = mapped_column(String(16))
    conduct: Mapped[str | None] = mapped_column(String(16))
    achievement: Mapped[str] = mapped_column(String(16), default="none")
    guardian: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(1000))
    # Why the nomination was withdrawn (fundsvc.students.withdrawal): set with status "withdrawn".
    withdrawal_reason: Mapped[str | None] = mapped_column(String(500))
    source_file: Mapped[str | None] = mapped_column(String(255))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    source_row: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    student: Mapped[Student] = relationship(back_populates="nominations")
    unit: Mapped[Unit] = relationship()
