"""Invitations: an admin invites a new user by a one-time link instead of handing over a temporary password
(docs/admin.md "Invitations").

The invitation holds who the user will be (username, full name, role, unit, contact: the rules of fundsvc.auth.users
for who may create whom) and the hash of a random token; the link carries the token, shown once to the admin. The
invitee opens the link and sets their own password: the user is created then, and the invitation is used up. A link
works once, only until it expires (INVITATION_DAYS by default), and not after the admin revoked it. Every step is
audited.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fundsvc.audit.service import record
from fundsvc.auth.models import Invitation, User
from fundsvc.auth.passwords import hash_password
from fundsvc.auth.service import Actor, actor_for, hash_token, require_role
from fundsvc.auth.users import assignable_unit, manages, require_username_free, username_taken
from fundsvc.db import utcnow, write_transaction
from fundsvc.errors import Conflict, Forbidden, Invalid, NotFound
from fundsvc.units.models import Unit

INVITATION_DAYS = 7  # how long a link works unless the admin says otherwise
MAX_INVITATION_DAYS = 30
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200
STATUSES = ("open", "accepted", "revoked", "expired")


def status_of(invitation: Invitation, now: datetime | None = None) -> str:
    """ "accepted", "revoked", "expired" or "open" (the link still works)."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or utcnow()):
        return "expired"
    return "open"


def _state(invitation: Invitation) -> dict:
    return {
        "username": invitation.username,
        "full_name": invitation.full_name,
        "role": invitation.role,
        "unit": invitation.unit.code if invitation.unit else None,
        "expires_at": invitation.expires_at,
        "status": status_of(invitation),
    }


def _audit(session: Session, actor: Actor, action: str, invitation: Invitation, before, after) -> None:
    session.flush()
    record(session, actor, action, "invitation", invitation.id, before, after, invitation.unit_id)


def create_invitation(
    session: Session, actor: Actor, data: dict, days: int = INVITATION_DAYS
) -> tuple[Invitation, str]:
    """An invitation for the user `data` describes (UserIn's fields), valid `days` days; (its row, the token of its
    link, shown once)."""
    require_role(actor)
    if not 1 <= days <= MAX_INVITATION_DAYS:
        raise Invalid(
            f"Thời hạn lời mời từ 1 đến {MAX_INVITATION_DAYS} ngày (days out of range)",
            {"days": [f"between 1 and {MAX_INVITATION_DAYS}"]},
        )
    token = secrets.token_urlsafe(32)
    with write_transaction(session):
        require_username_free(session, data["username"])
        invitation = Invitation(
            token_hash=hash_token(token),
            username=data["username"],
            full_name=data["full_name"],
            email=data.get("email") or None,
            phone=data.get("phone") or None,
            role=data["role"],
            unit=assignable_unit(session, actor, data.get("unit")),
            created_by=actor.user_id,
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(days=days),
        )
        session.add(invitation)
        _audit(session, actor, "invitation.create", invitation, None, _state(invitation))
    return invitation, token


def invitations_query(session: Session, actor: Actor, *, status: str | None = None):
    """The invitations of the users the actor manages, newest first; `status` keeps one of STATUSES."""
    require_role(actor)
    query = (
        select(Invitation)
        .outerjoin(Unit, Unit.id == Invitation.unit_id)
        .options(joinedload(Invitation.unit))
        .order_by(Invitation.id.desc())
    )
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    now = utcnow()
    pending = (Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
    if status == "accepted":
        query = query.where(Invitation.accepted_at.is_not(None))
    elif status == "revoked":
        query = query.where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_not(None))
    elif status == "expired":
        query = query.where(*pending, Invitation.expires_at <= now)
    elif status == "open":
        query = query.where(*pending, Invitation.expires_at > now)
    return query


def get_invitation(session: Session, actor: Actor, invitation_id: int) -> Invitation:
    """An invitation of a user the actor manages (404 unknown, 403 outside the actor's subtree)."""
    require_role(actor)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(f"Không có lời mời số {invitation_id} (unknown invitation)")
    if not manages(actor, invitation):
        raise Forbidden(f"Không có quyền với lời mời của {invitation.username} (invitation outside your scope)")
    return invitation


def revoke_invitation(session: Session, actor: Actor, invitation_id: int) -> Invitation:
    """Revoke an open invitation: its link stops working at once (409 once used, revoked or expired)."""
    with write_transaction(session):
        invitation = get_invitation(session, actor, invitation_id)
        status = status_of(invitation)
        if status != "open":
            raise Conflict(
                f"Lời mời của {invitation.username} {_STATUS_WORDS[status]}, không thể thu hồi (invitation not open)"
            )
        invitation.revoked_at = utcnow()
        _audit(session, actor, "invitation.revoke", invitation, {"status": "open"}, {"status": "revoked"})
    return invitation


_STATUS_WORDS = {"accepted": "đã được dùng", "revoked": "đã bị thu hồi", "expired": "đã hết hạn"}


def _usable(session: Session, token: str, *, lock: bool = False) -> Invitation:
    """The invitation of a link whose token is `token`, while the link works: 404 for an unknown token, 409 saying
    why for one used, revoked or expired."""
    query = select(Invitation).where(Invitation.token_hash == hash_token(token or ""))
    if lock:
        query = query.with_for_update()
    invitation = session.scalar(query)
    if invitation is None:
        raise NotFound("Liên kết mời không đúng (unknown invitation link)")
    status = status_of(invitation)
    if status != "open":
        raise Conflict(
            f"Liên kết mời này {_STATUS_WORDS[status]}: hãy nhờ quản trị viên gửi lời mời mới "
            f"(the invitation link was {'used' if status == 'accepted' else status})",
            {"invitation": [status]},
        )
    return invitation


def open_invitation(session: Session, token: str) -> Invitation:
    """What the link's page shows: the invitation, while its link works (see _usable)."""
    return _usable(session, token)


def check_password_choice(password: str, username: str) -> None:
    """A password the invitee chooses: PASSWORD_MIN_LENGTH to PASSWORD_MAX_LENGTH characters, not the username."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise Invalid(
            f"Mật khẩu cần từ {PASSWORD_MIN_LENGTH} đến {PASSWORD_MAX_LENGTH} ký tự (password length)",
            {"password": [f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters"]},
        )
    if password.strip().lower() == username.lower():
        raise Invalid(
            "Mật khẩu không được trùng tên đăng nhập (password equals the username)", {"password": ["username"]}
        )


def accept_invitation(session: Session, token: str, password: str) -> User:
    """The invitee sets their password: the user is created as invited and the link is used up, at once."""
    with write_transaction(session):
        invitation = _usable(session, token, lock=True)
        check_password_choice(password, invitation.username)
        if username_taken(session, invitation.username):
            raise Conflict(
                f"Tên đăng nhập {invitation.username!r} đã có người dùng: hãy nhờ quản trị viên mời lại "
                "(username taken)",
                {"invitation": ["username taken"]},
            )
        if invitation.unit is not None and invitation.unit.closed_on is not None:
            raise Conflict(
                f"Đơn vị {invitation.unit.code} đã sáp nhập hoặc giải thể: hãy nhờ quản trị viên mời lại "
                "(the invitation's unit is merged or retired)",
                {"invitation": ["unit closed"]},
            )
        user = User(
            username=invitation.username,
            full_name=invitation.full_name,
            email=invitation.email,
            phone=invitation.phone,
            role=invitation.role,
            unit=invitation.unit,
            password_hash=hash_password(password),
        )
        session.add(user)
        session.flush()
        invitation.accepted_at, invitation.user_id = utcnow(), user.id
        invitee = actor_for(user)
        _audit(session, invitee, "invitation.accept", invitation, {"status": "open"}, {"status": "accepted"})
        record(
            session,
            invitee,
            "user.create",
            "user",
            user.id,
            None,
            {"username": user.username, "role": user.role, "unit": invitation.unit.code if invitation.unit else None},
            user.unit_id,
        )
    return user
