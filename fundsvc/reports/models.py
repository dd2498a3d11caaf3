"""Published yearly public statements (công khai): each publication is a frozen, versioned snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from fundsvc.db import Base, JSONType, utcnow
from fundsvc.units.models import Unit


class PublicStatement(Base):
    """One published version of a unit's statement for a calendar year. Never updated: a change is a new version."""

    __tablename__ = "public_statements"
    __table_args__ = (UniqueConstraint("unit_id", "year", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int]
    version: Mapped[int]
    # The figures exactly as published (the HTML page is rendered from them, so it never drifts).
    figures: Mapped[Any] = mapped_column(JSONType)
    figures_sha256: Mapped[str] = mapped_column(String(64))
    # What changed against the previous version ([] for the first): the dated correction.
    changes: Mapped[Any] = mapped_column(JSONType)
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit: Mapped[Unit] = relationship()
