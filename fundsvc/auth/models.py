"""Users, their roles and API tokens (stored hashed)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundsvc.db import Base, utcnow
from fundsvc.units.models import Unit

ROLES = ("admin", "treasurer", "committee", "viewer")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Incremented at logout and password change: a web session opened under an older version is over.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit | None] = relationship()
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # SHA-256 of the token: tokens are 256-bit random, so a fast hash is safe and keeps auth cheap.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    # What the token is for ("Máy tính kế toán", "script báo cáo"); the first token a user is created with has none.
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Written at most once per TOKEN_USE_RESOLUTION (fundsvc.auth.service): not a write on every request.
    last_used_at: Mapped[datetime | None]
    # The last day (in Vietnam) the token works; None: until revoked.
    expires_on: Mapped[date | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class ThrottleCounter(Base):
    """A rate limit's counter (fundsvc.auth.throttle): failures of one key in the current window, shared by every
    worker through the database."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    count: Mapped[int]
    # When the window ends, in seconds since the epoch.
    expires_at: Mapped[float]


class Invitation(Base):
    """An invitation to become a user (fundsvc.auth.invitations): who the user will be (username, full name, role,
    unit, contact) and the one-time link's token, stored as its SHA-256 like an API token's. The user is created
    when the invitee sets their password through the link; a link works once, until it expires or is revoked."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the user the invitation made
    revoked_at: Mapped[datetime | None]

    unit: Mapped[Unit | None] = relationship()
