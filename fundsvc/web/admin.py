"""Administration pages (menu "Quản trị"): users and their API tokens, and the audit trail. The rules are the users
service's (fundsvc.auth.users) and the audit's; these pages read forms into the API's input schemas and show what the
services answer. A password or token is shown once, on the page the action answers, never in a flashed message
(the session cookie is signed, not encrypted)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from fundsvc.audit.service import entity_names, events_query, readable_changes
from fundsvc.auth import users
from fundsvc.auth.models import ROLES
from fundsvc.auth.schemas import TokenIn, UserIn, UserPatchIn
from fundsvc.extensions import db
from fundsvc.units.service import list_units
from fundsvc.web.auth import roles_required
from fundsvc.web.util import REFUSED, flatten_errors, paginate, parse_date
from fundsvc.web.views import bp

USER_FIELDS = ("username", "full_name", "role", "unit", "email", "phone")
ACTIVE_FILTERS = {"1": True, "0": False}


def load_form(schema, body: dict) -> tuple[dict, dict[str, str]]:
    """A form's body validated by the API's schema: (data, {field: message}); the first message of each field."""
    try:
        return schema.load(body), {}
    except ValidationError as error:
        errors: dict[str, str] = {}
        for path, message in flatten_errors(error.messages):
            errors.setdefault(path, message)
        return {}, errors


def _active_units() -> list:
    """The units a user may be given: the admin's subtree, not merged nor retired."""
    return [u for u in list_units(db.session, g.actor) if u.closed_on is None]


@bp.get("/admin/users")
@roles_required("admin")
def admin_users():
    """The users you manage, filtered by name, unit, role and whether active."""
    args = request.args
    filters = {
        "search": (args.get("q") or "").strip()[:100] or None,
        "unit": args.get("unit") or None,
        "role": args.get("role") if args.get("role") in ROLES else None,
        "active": ACTIVE_FILTERS.get(args.get("active", "")),
    }
    page = paginate(users.users_query(db.session, g.actor, **filters))
    return render_template(
        "web/admin_users.html", page=page, units=list_units(db.session, g.actor), roles=ROLES, args=args
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required("admin")
def admin_user_new():
    """Create a user; the answer shows its temporary password once."""
    values = {name: (request.form.get(name) or "").strip() for name in USER_FIELDS}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data, errors = load_form(UserIn(), {name: value for name, value in values.items() if value})
        status = 422 if errors else status
        if not errors:
            try:
                user, password = users.create_user(db.session, g.actor, data)
            except REFUSED as error:
                flash(error.message, "error")
                errors = {field: "; ".join(messages) for field, messages in error.errors.items()}
                status = error.status
            else:
                flash(_("Đã tạo người dùng %(name)s.", name=user.username), "success")
                return _render_user(user.id, password=password, status=201)
    return render_template(
        "web/admin_user_new.html", values=values, errors=errors, units=_active_units(), roles=ROLES
    ), status


def _render_user(user_id: int, *, password=None, token=None, values=None, errors=None, status=200):
    user = users.get_user(db.session, g.actor, user_id)
    return render_template(
        "web/admin_user.html",
        user=user,
        tokens=users.list_tokens(db.session, g.actor, user_id),
        units=_active_units(),
        roles=ROLES,
        password=password,
        token=token,
        values=values or {},
        errors=errors or {},
        events=db.session.scalars(events_query(db.session, g.actor, entity="user", entity_id=str(user_id)).limit(10)),
    ), status


@bp.get("/admin/users/<int:user_id>")
@roles_required("admin")
def admin_user(user_id):
    """A user: edit, deactivate, reset the password; its tokens (new, revoke)."""
    return _render_user(user_id)


@bp.post("/admin/users/<int:user_id>")
@roles_required("admin")
def admin_user_edit(user_id):
    """Change the user's name, contact, role and unit."""
    body = {name: (request.form.get(name) or "").strip() for name in USER_FIELDS if name != "username"}
    body = {name: value or None for name, value in body.items()}
    users.get_user(db.session, g.actor, user_id)  # outside the actor's subtree: the 403 page
    data, errors = load_form(UserPatchIn(), body)
    if errors:
        return _render_user(user_id, values=body, errors=errors, status=422)
    try:
        user = users.update_user(db.session, g.actor, user_id, data)
    except REFUSED as error:
        flash(error.message, "error")
        return _render_user(user_id, values=body, status=error.status)
    flash(_("Đã lưu thông tin của %(name)s.", name=user.username), "success")
    return redirect(url_for("web.admin_user", user_id=user_id))


@bp.post("/admin/users/<int:user_id>/active")
@roles_required("admin")
def admin_user_active(user_id):
    """Deactivate (its sessions and tokens stop at once) or reactivate a user."""
    active = request.form.get("active") == "1"
    users.get_user(db.session, g.actor, user_id)  # outside the actor's subtree: the 403 page
    try:
        user = users.update_user(db.session, g.actor, user_id, {"active": active})
    except REFUSED as error:
        flash(error.message, "error")
    else:
        if active:
            flash(_("Đã mở lại tài khoản %(name)s.", name=user.username), "success")
        else:
            flash(
                _("Đã khóa tài khoản %(name)s: phiên đăng nhập và mã truy cập đã dừng.", name=user.username), "success"
            )
    return redirect(url_for("web.admin_user", user_id=user_id))


@bp.post("/admin/users/<int:user_id>/password-reset")
@roles_required("admin")
def admin_user_password(user_id):
    """A new temporary password, shown once on the answer."""
    users.get_user(db.session, g.actor, user_id)  # outside the actor's subtree: the 403 page
    try:
        user, password = users.reset_password(db.session, g.actor, user_id)
    except REFUSED as error:
        flash(error.message, "error")
        return redirect(url_for("web.admin_user", user_id=user_id))
    flash(_("Đã đặt mật khẩu tạm mới cho %(name)s.", name=user.username), "success")
    return _render_user(user_id, password=password)


@bp.post("/admin/users/<int:user_id>/tokens")
@roles_required("admin")
def admin_token_new(user_id):
    """A new named API token, shown once on the answer."""
    body = {"name": (request.form.get("name") or "").strip()}
    if request.form.get("expires_on"):
        body["expires_on"] = str(parse_date(request.form["expires_on"]) or request.form["expires_on"])
    users.get_user(db.session, g.actor, user_id)  # outside the actor's subtree: the 403 page
    data, errors = load_form(TokenIn(), body)
    if errors:
        return _render_user(user_id, values={"token_" + k: v for k, v in body.items()}, errors=errors, status=422)
    try:
        _row, token = users.create_token(db.session, g.actor, user_id, data["name"], data.get("expires_on"))
    except REFUSED as error:
        flash(error.message, "error")
        errors = {field: "; ".join(messages) for field, messages in error.errors.items()}
        return _render_user(user_id, errors=errors, status=error.status)
    flash(_("Đã tạo mã truy cập “%(name)s”.", name=data["name"]), "success")
    return _render_user(user_id, token=token, status=201)


@bp.post("/admin/tokens/<int:token_id>/revoke")
@roles_required("admin")
def admin_token_revoke(token_id):
    """Revoke a token: refused from its next request."""
    token = users.get_token(db.session, g.actor, token_id)  # outside the actor's subtree: the 403 page
    try:
        users.revoke_token(db.session, g.actor, token_id)
    except REFUSED as error:
        flash(error.message, "error")
    else:
        flash(_("Đã thu hồi mã truy cập %(prefix)s….", prefix=token.prefix), "success")
    return redirect(url_for("web.admin_user", user_id=token.user_id))


@bp.get("/admin/audit")
@roles_required("admin")
def admin_audit():
    """The audit trail of your subtree, newest first: filter by user, unit, entity and date; each event with its
    before and after, field by field."""
    args = request.args
    entities = entity_names(db.session)
    filters = {
        "username": (args.get("user") or "").strip()[:80] or None,
        "unit": args.get("unit") or None,
        "entity": args.get("entity") if args.get("entity") in entities else None,
        "date_from": parse_date(args.get("from")),
        "date_to": parse_date(args.get("to")),
    }
    page = paginate(events_query(db.session, g.actor, **filters), size=25)
    return render_template(
        "web/admin_audit.html",
        page=page,
        changes={event.id: readable_changes(event.before, event.after) for event in page.items},
        units=list_units(db.session, g.actor),
        entities=entities,
        args=args,
    )
