"""Managing users and their API tokens (CONTRACT "Users and tokens"; docs/admin.md "Users and tokens").

Admins only, and an admin of a unit manages only the users of its subtree: a user of every unit (no unit) is
managed only by an admin of every unit, and nobody gives a user a unit outside their own subtree. An admin does not
deactivate, demote or move out of reach their own account (they would lock themselves out). Every change is
audited; a password is shown once, to the admin who set it, and stored only as its hash.
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from fundsvc.audit.service import record
from fundsvc.auth.models import ApiToken, Invitation, User
from fundsvc.auth.passwords import hash_password
from fundsvc.auth.service import Actor, new_token, require_role
from fundsvc.db import utcnow, write_transaction
from fundsvc.documents.words import today_in_vietnam
from fundsvc.errors import Conflict, Forbidden, Invalid, NotFound
from fundsvc.units.models import Unit
from fundsvc.units.service import visible_unit

# A temporary password: easy to read aloud and to type on a phone (no 0/O, 1/l/I), 12 characters (~70 bits).
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 12
EDITABLE = ("full_name", "email", "phone", "role")  # besides the unit and whether it is active


def temporary_password() -> str:
    """A new random password, shown once to the admin who hands it over."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def manages(actor: Actor, user: User) -> bool:
    """Whether the actor may manage `user`: an admin whose subtree holds the user's unit."""
    if not actor.has_role():
        return False
    if actor.unit_path is None:
        return True
    return user.unit is not None and user.unit.path.startswith(actor.unit_path)


def _require_manages(actor: Actor, user: User) -> None:
    if not manages(actor, user):
        raise Forbidden(f"Không có quyền quản lý người dùng {user.username} (user outside your scope)")


def users_query(
    session: Session,
    actor: Actor,
    *,
    unit: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    search: str | None = None,
):
    """The users the actor manages, by username, filtered; `unit` keeps a unit's subtree."""
    require_role(actor)
    query = select(User).outerjoin(Unit, Unit.id == User.unit_id).options(joinedload(User.unit)).order_by(User.username)
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    if unit:
        query = query.where(Unit.path.startswith(visible_unit(session, actor, unit).path))
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    if search:
        like = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(User.username).like(like), func.lower(User.full_name).like(like)))
    return query


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """A user the actor manages (404 unknown, 403 outside the actor's subtree)."""
    require_role(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"Không có người dùng số {user_id} (unknown user)")
    _require_manages(actor, user)
    return user


def assignable_unit(session: Session, actor: Actor, code: str | None) -> Unit | None:
    """The unit a user is given: one of the actor's subtree and still active; None (every unit) only from an admin
    of every unit."""
    if not code:
        if actor.unit_path is not None:
            raise Invalid("Cần chọn đơn vị của người dùng (unit required)", {"unit": ["required"]})
        return None
    unit = visible_unit(session, actor, code)
    if unit.closed_on is not None:
        raise Invalid(
            f"Đơn vị {unit.code} đã sáp nhập hoặc giải thể (the unit is merged or retired)",
            {"unit": [f"{unit.code} is merged or retired"]},
        )
    return unit


def username_taken(session: Session, username: str) -> bool:
    """Whether a user has the username, whatever its case."""
    return session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None


def require_username_free(session: Session, username: str) -> None:
    """422 when a user has the username (whatever its case), or an invitation still open reserves it."""
    if username_taken(session, username):
        raise Invalid(f"Tên đăng nhập {username!r} đã có (username already exists)", {"username": ["already exists"]})
    invited = session.scalar(
        select(Invitation.id).where(
            func.lower(Invitation.username) == username.lower(),
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )
    if invited is not None:
        raise Invalid(
            f"Tên đăng nhập {username!r} đang dành cho một lời mời chưa dùng (username reserved by an open invitation)",
            {"username": ["reserved by an open invitation"]},
        )


def _state(user: User) -> dict:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role,
        "unit": user.unit.code if user.unit else None,
        "active": user.active,
    }


def _audit(session: Session, actor: Actor, action: str, user: User, before: dict | None, after: dict | None) -> None:
    session.flush()
    record(session, actor, action, "user", user.id, before, after, user.unit_id)


def create_user(session: Session, actor: Actor, data: dict) -> tuple[User, str]:
    """A new user with a temporary password; returns (user, the password, shown once)."""
    require_role(actor)
    password = temporary_password()
    with write_transaction(session):
        require_username_free(session, data["username"])
        user = User(
            username=data["username"],
            full_name=data["full_name"],
            email=data.get("email") or None,
            phone=data.get("phone") or None,
            role=data["role"],
            unit=assignable_unit(session, actor, data.get("unit")),
            password_hash=hash_password(password),
        )
        session.add(user)
        session.flush()
        _audit(session, actor, "user.create", user, None, _state(user))
    return user, password


def update_user(session: Session, actor: Actor, user_id: int, data: dict) -> User:
    """Change a user's name, contact, role, unit or whether it is active.

    Deactivating ends the user's web sessions (and its tokens are refused from the next request, fundsvc.auth.service).
    """
    with write_transaction(session):
        user = get_user(session, actor, user_id)
        before = _state(user)
        for name in EDITABLE:
            if name in data:
                setattr(user, name, data[name] or None)
        if "unit" in data:
            user.unit = assignable_unit(session, actor, data["unit"])
        if "active" in data and data["active"] != user.active:
            user.active = data["active"]
            user.session_version += 1
        session.flush()
        if user.id == actor.user_id:
            _refuse_self_lockout(actor, user)
        _audit(session, actor, "user.update", user, before, _state(user))
    return user


def _refuse_self_lockout(actor: Actor, user: User) -> None:
    if not user.active or user.role != "admin" or user.unit_id != actor.unit_id:
        raise Conflict(
            "Không thể tự khóa, tự hạ quyền hoặc tự chuyển đơn vị của chính mình; nhờ một quản trị viên khác "
            "(an admin does not deactivate, demote or move their own account)"
        )


def reset_password(session: Session, actor: Actor, user_id: int) -> tuple[User, str]:
    """Give a user a new temporary password (shown once); its open web sessions end. Its tokens keep working."""
    password = temporary_password()
    with write_transaction(session):
        user = get_user(session, actor, user_id)
        user.password_hash = hash_password(password)
        user.session_version += 1
        _audit(session, actor, "user.password_reset", user, None, {"username": user.username})
    return user, password


def list_tokens(session: Session, actor: Actor, user_id: int) -> list[ApiToken]:
    """A user's tokens, newest first, revoked ones included (their hash is never shown, only their prefix)."""
    user = get_user(session, actor, user_id)
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def create_token(
    session: Session, actor: Actor, user_id: int, name: str, expires_on: date | None
) -> tuple[ApiToken, str]:
    """A new named API token for the user, valid through `expires_on` (Vietnam's date) if given; (token row, the
    token itself, shown once)."""
    if expires_on is not None and expires_on < today_in_vietnam():
        raise Invalid("Ngày hết hạn đã qua (expiry in the past)", {"expires_on": ["must be today or later"]})
    with write_transaction(session):
        user = get_user(session, actor, user_id)
        if not user.active:
            raise Conflict(f"Người dùng {user.username} đã bị khóa (the user is deactivated)")
        row, token = new_token(session, user, name=name, expires_on=expires_on)
        session.flush()
        record(
            session,
            actor,
            "token.create",
            "token",
            row.id,
            None,
            {"user": user.username, "name": name, "prefix": row.prefix, "expires_on": expires_on},
            user.unit_id,
        )
    return row, token


def get_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """A token of a user the actor manages (404 unknown, 403 outside the actor's subtree)."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"Không có mã truy cập số {token_id} (unknown token)")
    get_user(session, actor, token.user_id)
    return token


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token (409 when it is revoked already); refused from the next request on."""
    with write_transaction(session):
        token = get_token(session, actor, token_id)
        user = token.user
        if token.revoked_at is not None:
            raise Conflict("Mã truy cập này đã bị thu hồi (token already revoked)")
        token.revoked_at = utcnow()
        session.flush()
        record(
            session,
            actor,
            "token.revoke",
            "token",
            token.id,
            {"user": user.username, "name": token.name, "prefix": token.prefix},
            {"revoked_at": token.revoked_at},
            user.unit_id,
        )
    return token
