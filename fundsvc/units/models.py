"""The organisation tree: province → district → commune → branch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundsvc.db import Base, utcnow

LEVELS = ("province", "district", "commune", "branch")


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (CheckConstraint(f"level IN {LEVELS!r}", name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Materialised path of ids ("/1/4/9/"): a subtree is one prefix match, no recursive query.
    path: Mapped[str] = mapped_column(String(400), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    # The identity printed on what the unit issues (docs/books.md "Identity"); a field left None is inherited from
    # the unit above, then from the organisation's configuration (fundsvc.units.identity).
    printed_name: Mapped[str | None] = mapped_column(String(200))
    parent_printed_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    tax_code: Mapped[str | None] = mapped_column(String(20))
    budget_code: Mapped[str | None] = mapped_column(String(20))
    head_name: Mapped[str | None] = mapped_column(String(200))
    accountant_name: Mapped[str | None] = mapped_column(String(200))
    cashier_name: Mapped[str | None] = mapped_column(String(200))
    preparer_name: Mapped[str | None] = mapped_column(String(200))
    # Ngày mở sổ: no document of the unit may be dated before it.
    books_opened_on: Mapped[date]
    default_fund_id: Mapped[int | None] = mapped_column(
        ForeignKey("funds.id", use_alter=True, name="fk_units_default_fund_id_funds")
    )
    # Lifecycle (docs/admin.md "Units and the 2025 reorganisation"): a unit merged into another keeps its books up to
    # `merged_on`, then accepts nothing more; a retired unit accepts nothing from `retired_on`. Neither is deleted.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    merged_on: Mapped[date | None]
    retired_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children", foreign_keys=[parent_id])
    children: Mapped[list[Unit]] = relationship(back_populates="parent", foreign_keys=[parent_id])
    merged_into: Mapped[Unit | None] = relationship(remote_side=[id], foreign_keys=[merged_into_id])

    @property
    def closed_on(self) -> date | None:
        """The day from which the unit takes no new document (merged or retired), if any."""
        return self.merged_on or self.retired_on

    def contains(self, other: Unit) -> bool:
        """True when `other` is this unit or lies below it."""
        return other.path.startswith(self.path)


@dataclass(frozen=True, slots=True)
class UnitRef:
    """What the scope checks and the documents' codes need of a unit, read as one plain row (no ORM object)."""

    id: int
    code: str
    path: str
    books_opened_on: date | None = None
    closed_on: date | None = None  # merged or retired (Unit.closed_on)


class UnitMove(Base):
    """A unit put under another parent (fundsvc.units.reorganisation.move_unit): the paths before and after, so that
    a report of a period that ended before `moved_on` rolls up along the tree as it was (tree_paths_on)."""

    __tablename__ = "unit_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    moved_on: Mapped[date]
    old_path: Mapped[str] = mapped_column(String(400))
    new_path: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
