"""/api/v1/users, /api/v1/tokens and /api/v1/invitations (admins; an admin of a unit manages the users of its
subtree)."""

from flask import url_for

from fundsvc.api import Blueprint, current_actor, paginate
from fundsvc.auth import invitations, users
from fundsvc.auth.schemas import (
    InvitationArgs,
    InvitationIn,
    InvitationOut,
    NewInvitationOut,
    NewTokenOut,
    TokenIn,
    TokenOut,
    UserArgs,
    UserIn,
    UserOut,
    UserPatchIn,
    UserWithPasswordOut,
)
from fundsvc.extensions import db

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="Users and their API tokens (admins)")


def _with_password(user, password):
    """The user with the password just set, for the one answer that shows it."""
    user.one_time_password = password
    return user


@blp.get("/users")
@blp.arguments(UserArgs, location="query")
@blp.response(200, UserOut(many=True))
@blp.paginate(max_page_size=1000)
def list_users(args, pagination_parameters):
    """The users you manage, by username; filter by unit (its subtree), role, active, or a part of the name."""
    search = args.pop("q", None)
    query = users.users_query(db.session, current_actor(), search=search, **args)
    return paginate(query, pagination_parameters)


@blp.post("/users")
@blp.arguments(UserIn)
@blp.response(201, UserWithPasswordOut)
def create_user(data):
    """A new user of your subtree; the answer holds its temporary password, shown this once."""
    return _with_password(*users.create_user(db.session, current_actor(), data))


@blp.get("/users/<int:user_id>")
@blp.response(200, UserOut)
def get_user(user_id):
    return users.get_user(db.session, current_actor(), user_id)


@blp.patch("/users/<int:user_id>")
@blp.arguments(UserPatchIn)
@blp.response(200, UserOut)
def update_user(data, user_id):
    """Change name, contact, role, unit, or `active` (false: its sessions and tokens stop at once)."""
    return users.update_user(db.session, current_actor(), user_id, data)


@blp.post("/users/<int:user_id>/password-reset")
@blp.response(200, UserWithPasswordOut)
def reset_password(user_id):
    """A new temporary password (shown this once); the user's web sessions end."""
    return _with_password(*users.reset_password(db.session, current_actor(), user_id))


@blp.get("/users/<int:user_id>/tokens")
@blp.response(200, TokenOut(many=True))
def list_tokens(user_id):
    """The user's API tokens, newest first, with their last use and expiry (revoked ones too)."""
    return users.list_tokens(db.session, current_actor(), user_id)


@blp.post("/users/<int:user_id>/tokens")
@blp.arguments(TokenIn)
@blp.response(201, NewTokenOut)
def create_token(data, user_id):
    """A new named token, valid through `expires_on` if given; the token itself is answered this once."""
    row, token = users.create_token(db.session, current_actor(), user_id, data["name"], data.get("expires_on"))
    row.issued_token = token
    return row


@blp.delete("/tokens/<int:token_id>")
@blp.response(200, TokenOut)
def revoke_token(token_id):
    """Revoke a token: refused from the next request."""
    return users.revoke_token(db.session, current_actor(), token_id)


def invitation_link(token: str) -> str:
    """The page where the invitee sets their password (fundsvc.web.admin), as an absolute link."""
    return url_for("web.invitation", token=token, _external=True)


@blp.post("/invitations")
@blp.arguments(InvitationIn)
@blp.response(201, NewInvitationOut)
def create_invitation(data):
    """Invite a new user of your subtree: the answer holds the one-time link (shown this once), valid `days` days
    (7 by default); the user is created when the invitee sets a password through it."""
    days = data.pop("days")
    invitation, token = invitations.create_invitation(db.session, current_actor(), data, days)
    invitation.link = invitation_link(token)
    return invitation


@blp.get("/invitations")
@blp.arguments(InvitationArgs, location="query")
@blp.response(200, InvitationOut(many=True))
@blp.paginate(max_page_size=1000)
def list_invitations(args, pagination_parameters):
    """The invitations of your subtree, newest first; filter by `status` (open, accepted, revoked, expired)."""
    return paginate(invitations.invitations_query(db.session, current_actor(), **args), pagination_parameters)


@blp.post("/invitations/<int:invitation_id>/revoke")
@blp.response(200, InvitationOut)
def revoke_invitation(invitation_id):
    """Revoke an open invitation: its link stops working at once."""
    return invitations.revoke_invitation(db.session, current_actor(), invitation_id)
