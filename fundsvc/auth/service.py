"""Users, tokens, passwords, and the role and unit checks every service applies."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from fundsvc.auth.models import ROLES, ApiToken, User
from fundsvc.auth.passwords import hash_password, verify_password
from fundsvc.db import DriverStatement, utcnow, write_transaction
from fundsvc.documents.words import today_in_vietnam
from fundsvc.errors import Forbidden, Invalid, NotFound
from fundsvc.units.models import Unit

TOKEN_PREFIX = "fs_"


@dataclass(frozen=True)
class Actor:
    """Who is acting: what services receive instead of a Flask request."""

    user_id: int | None
    username: str
    role: str
    unit_id: int | None = None
    unit_path: str | None = None  # None: every unit

    def has_role(self, *roles: str) -> bool:
        """Admins may do everything; others only what their role lists."""
        return self.role == "admin" or self.role in roles

    def sees(self, unit: Unit) -> bool:
        """True when `unit` lies inside the actor's subtree."""
        return self.unit_path is None or unit.path.startswith(self.unit_path)

    @property
    def sees_personal_data(self) -> bool:
        return self.role in ("admin", "committee")


SYSTEM = Actor(user_id=None, username="system", role="admin")


def require_role(actor: Actor, *roles: str) -> None:
    """Raise Forbidden unless the actor has one of `roles` (admins always pass)."""
    if not actor.has_role(*roles):
        raise Forbidden(f"Vai trò '{actor.role}' không được phép thực hiện thao tác này (role not allowed)")


def require_unit(actor: Actor, unit: Unit) -> None:
    """Raise Forbidden unless `unit` is inside the actor's subtree."""
    if not actor.sees(unit):
        raise Forbidden(f"Không có quyền với đơn vị {unit.code} (unit outside your scope)")


def actor_for(user: User) -> Actor:
    """The Actor of a stored user."""
    return Actor(
        user_id=user.id,
        username=user.username,
        role=user.role,
        unit_id=user.unit_id,
        unit_path=user.unit.path if user.unit is not None else None,
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(session: Session, user: User, *, name: str | None = None, expires_on: date | None = None):
    """Add a new API token for `user` (caller commits); (its row, the token itself). Only its hash is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, token_hash=hash_token(token), prefix=token[:10], name=name, expires_on=expires_on)
    session.add(row)
    return row, token


def issue_token(session: Session, user: User) -> str:
    """Create a new API token for `user` (caller commits); the token itself."""
    return new_token(session, user)[1]


def create_user(
    session: Session,
    username: str,
    role: str,
    unit_code: str | None = None,
    *,
    password: str | None = None,
    full_name: str | None = None,
) -> tuple[User, str]:
    """Create a user with a first API token; returns (user, token)."""
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}; expected one of {', '.join(ROLES)}", {"role": ["unknown role"]})
    with write_transaction(session):
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Invalid(f"User {username!r} already exists", {"username": ["already exists"]})
        unit = None
        if unit_code:
            unit = session.scalar(select(Unit).where(Unit.code == unit_code))
            if unit is None:
                raise NotFound(f"Unknown unit {unit_code!r}")
        user = User(
            username=username,
            role=role,
            unit=unit,
            full_name=full_name,
            password_hash=hash_password(password) if password else None,
        )
        session.add(user)
        token = issue_token(session, user)
        from fundsvc.audit.service import record

        session.flush()
        record(
            session,
            SYSTEM,
            "user.create",
            "user",
            user.id,
            None,
            {"username": username, "role": role, "unit": unit_code},
            unit.id if unit else None,
        )
    return user, token


def set_password(session: Session, username: str, password: str) -> None:
    """Set a user's web login password (hashed)."""
    with write_transaction(session):
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"Unknown user {username!r}")
        user.password_hash = hash_password(password)
        user.session_version += 1  # a session opened with the old password ends


# Built once, of plain columns (no ORM entity): it runs first in every API request.
_USERS, _TOKENS, _UNITS = User.__table__, ApiToken.__table__, Unit.__table__
_ACTOR_BY_TOKEN = DriverStatement(
    select(
        _USERS.c.id,
        _USERS.c.username,
        _USERS.c.role,
        _USERS.c.unit_id,
        _UNITS.c.path,
        _TOKENS.c.id.label("token_id"),
    )
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .outerjoin(_UNITS, _UNITS.c.id == _USERS.c.unit_id)
    .where(
        _TOKENS.c.token_hash == bindparam("token_hash"),
        _TOKENS.c.revoked_at.is_(None),
        or_(_TOKENS.c.expires_on.is_(None), _TOKENS.c.expires_on >= bindparam("today")),
        _USERS.c.active.is_(True),
    )
)
# A token's last use is kept to this resolution: each worker process writes it at most once per token and period
# (remembered in _USE_NOTED), so authenticating stays a read.
TOKEN_USE_RESOLUTION = 300.0  # seconds
_USE_NOTED: dict[tuple[int, str], float] = {}  # (the database's engine, the token's hash) → when noted


def authenticate_token(session: Session, token: str) -> Actor | None:
    """The actor holding `token`, or None when it is unknown, revoked, expired or its user inactive.

    Notes the token's use (last_used_at) when this process has not noted it for TOKEN_USE_RESOLUTION.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    connection, token_hash = session.connection(), hash_token(token)
    row = _ACTOR_BY_TOKEN.first(connection, {"token_hash": token_hash, "today": _today()})
    if row is None:
        return None
    noted, clock = (id(connection.engine), token_hash), time.monotonic()
    if clock - _USE_NOTED.get(noted, -TOKEN_USE_RESOLUTION) >= TOKEN_USE_RESOLUTION:
        _USE_NOTED[noted] = clock
        _note_token_use(session, row.token_id)
    return Actor(row.id, row.username, row.role, row.unit_id, row.path)


def _today() -> date:
    """Today in Vietnam, for a token's expiry: worked out once a minute, not on every request (so a token expiring
    today is refused at the latest a minute after midnight)."""
    minute = int(time.time() // 60)
    if _TODAY[0] != minute:
        _TODAY[:] = [minute, today_in_vietnam()]
    return _TODAY[1]


_TODAY: list = [None, None]


def _note_token_use(session: Session, token_id: int) -> None:
    """Write the token's last use in a transaction of its own (the request's own writes start after it)."""
    with write_transaction(session):
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def authenticate_password(session: Session, username: str, password: str) -> Actor | None:
    """The actor for a web login, or None."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    matches, rehash = verify_password(user.password_hash if user is not None else None, password)
    if not matches:
        return None
    if rehash:
        with write_transaction(session):
            user.password_hash = hash_password(password)
    return actor_for(user)


def load_actor(session: Session, user_id: int, session_version: int | None = None) -> Actor | None:
    """The actor of a logged-in web session opened under `session_version`; None once that session has ended."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != session_version:
        return None
    return actor_for(user)


def session_version(session: Session, user_id: int) -> int:
    """The version a web session opened now carries (see load_actor)."""
    return session.scalar(select(User.session_version).where(User.id == user_id))


def end_sessions(session: Session, user_id: int) -> None:
    """End every web session of the user, wherever its cookie is (logout)."""
    with write_transaction(session):
        user = session.get(User, user_id)
        if user is not None:
            user.session_version += 1
