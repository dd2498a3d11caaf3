"""One row per organisation setting changed from its environment default (fundsvc.organisation.service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fundsvc.db import Base, JSONType, utcnow


class OrganisationSetting(Base):
    __tablename__ = "organisation_settings"

    # The configuration key it overrides (ORG_NAME, SIGNATORY_HEAD, WORDS_STYLE, RECEIPT_PAPER, …).
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
