"""Invitations in the web UI: an admin invites a new user (menu "Quản trị" → "Người dùng" → "Mời người dùng") and
hands over the one-time link shown once; the invitee opens it, without logging in, and sets their own password. The
rules are fundsvc.auth.invitations'; these pages read forms into the API's input schema and show what it answers."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fundsvc.auth import invitations
from fundsvc.auth.models import ROLES
from fundsvc.auth.schemas import InvitationIn
from fundsvc.auth.service import actor_for
from fundsvc.auth.throttle import TooManyRequests
from fundsvc.auth.views import invitation_link
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.extensions import db
from fundsvc.login_session import log_in
from fundsvc.web.admin import USER_FIELDS, _active_units, load_form
from fundsvc.web.admin_units import refused_errors
from fundsvc.web.auth import roles_required
from fundsvc.web.util import REFUSED, paginate
from fundsvc.web.views import PUBLIC_ENDPOINTS, bp

PUBLIC_ENDPOINTS.add("web.invitation")


def _invitations_page(*, link=None, invited=None, status=200):
    args = request.args
    wanted = args.get("status") if args.get("status") in invitations.STATUSES else None
    page = paginate(invitations.invitations_query(db.session, g.actor, status=wanted))
    return render_template(
        "web/admin_invitations.html",
        page=page,
        statuses=invitations.STATUSES,
        status_of=invitations.status_of,
        args=args,
        link=link,
        invited=invited,
    ), status


@bp.get("/admin/invitations")
@roles_required("admin")
def admin_invitations():
    """The invitations of your subtree, newest first, by status; revoke an open one."""
    return _invitations_page()


@bp.route("/admin/invitations/new", methods=["GET", "POST"])
@roles_required("admin")
def admin_invitation_new():
    """Invite a user; the answer shows the link once."""
    values = {name: (request.form.get(name) or "").strip() for name in (*USER_FIELDS, "days")}
    values["days"] = values["days"] or str(invitations.INVITATION_DAYS)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        body = {name: value for name, value in values.items() if value and name != "days"}
        body["days"] = int(values["days"]) if values["days"].isdigit() else values["days"]
        data, errors = load_form(InvitationIn(), body)
        status = 422 if errors else status
        if not errors:
            days = data.pop("days")
            try:
                invitation, token = invitations.create_invitation(db.session, g.actor, data, days)
            except REFUSED as error:
                flash(error.message, "error")
                errors, status = refused_errors(error), error.status
            else:
                flash(_("Đã tạo lời mời cho %(name)s.", name=invitation.username), "success")
                return _invitations_page(link=invitation_link(token), invited=invitation, status=201)
    return render_template(
        "web/admin_invitation_new.html",
        values=values,
        errors=errors,
        units=_active_units(),
        roles=ROLES,
        max_days=invitations.MAX_INVITATION_DAYS,
    ), status


@bp.post("/admin/invitations/<int:invitation_id>/revoke")
@roles_required("admin")
def admin_invitation_revoke(invitation_id):
    """Revoke an open invitation: its link stops working at once."""
    invitations.get_invitation(db.session, g.actor, invitation_id)  # outside the actor's subtree: the 403 page
    try:
        invitation = invitations.revoke_invitation(db.session, g.actor, invitation_id)
    except REFUSED as error:
        flash(error.message, "error")
    else:
        flash(_("Đã thu hồi lời mời của %(name)s.", name=invitation.username), "success")
    return redirect(url_for("web.admin_invitations"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token):
    """The invitee's page: who they are invited as, and their new password (twice). Done: logged in as the new user.

    Public, so an address that keeps trying links that do not exist is refused for a while, as failed logins are."""
    throttle = current_app.extensions["throttle"]
    try:
        throttle.refuse_if_blocked("invitation", request.remote_addr)
        invited = invitations.open_invitation(db.session, token)
    except TooManyRequests as refused:
        message = _("Đã thử quá nhiều liên kết không đúng. Xin thử lại sau ít phút.")
        headers = {"Retry-After": str(refused.retry_after)}
        return render_template("web/invitation.html", refused=message, invited=None, errors={}), 429, headers
    except (NotFound, Conflict) as error:
        if isinstance(error, NotFound):
            throttle.failed("invitation", request.remote_addr)
        return render_template("web/invitation.html", refused=error.message, invited=None, errors={}), error.status
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        password = request.form.get("password") or ""
        if password != (request.form.get("password_again") or ""):
            errors, status = {"password_again": _("Hai lần nhập mật khẩu không giống nhau.")}, 422
        else:
            try:
                user = invitations.accept_invitation(db.session, token, password)
            except Conflict as error:  # used, revoked or expired since the page was opened
                return render_template("web/invitation.html", refused=error.message, invited=None, errors={}), 409
            except Invalid as error:
                errors, status = {"password": error.message}, error.status
            else:
                log_in(actor_for(user))  # a fresh session: whoever was logged in in this browser is no more
                flash(_("Chào mừng %(name)s: tài khoản đã sẵn sàng.", name=user.full_name or user.username), "success")
                return redirect(url_for("web.index"))
    return render_template(
        "web/invitation.html",
        refused=None,
        invited=invited,
        errors=errors,
        min_length=invitations.PASSWORD_MIN_LENGTH,
    ), status
