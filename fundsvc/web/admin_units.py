"""Administration pages of the organisation tree: the tree, a new unit, a unit's identity and signatories, its bank
accounts, moving it, retiring it, and merging units on a date. The rules are the units services'
(fundsvc.units.service, fundsvc.units.reorganisation) and the money accounts' (fundsvc.ledger.accounts); these
pages read forms into the API's input schemas and show what the services answer."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fundsvc.extensions import db
from fundsvc.ledger import accounts
from fundsvc.ledger.books_schemas import BankAccountIn
from fundsvc.organisation.service import current_config
from fundsvc.units import reorganisation, service
from fundsvc.units.identity import FIELDS, SIGNATORIES, identity_defaults, stored_identity
from fundsvc.units.models import LEVELS
from fundsvc.units.schemas import MoveIn, RetireIn, UnitIn, UnitMergeIn, UnitPatchIn
from fundsvc.web.admin import load_form
from fundsvc.web.auth import roles_required
from fundsvc.web.util import REFUSED
from fundsvc.web.views import bp

UNIT_FIELDS = ("code", "name", "level", "parent", "address", "books_opened_on")
BANK_FORM_FIELDS = ("name", "bank_name", "bank_bin", "account_number", "account_holder")


def _typed(form, names) -> dict:
    """The fields typed in a form, trimmed, the empty ones left out."""
    return {name: value for name in names if (value := (form.get(name) or "").strip())}


def refused_errors(error) -> dict[str, str]:
    """A service's field errors as one message per field, for the form."""
    return {field: "; ".join(map(str, messages)) for field, messages in (error.errors or {}).items()}


def tree(units: list) -> list[tuple]:
    """The units (in tree order) as nested (unit, children) pairs from the top ones of the list."""
    nodes = {u.id: (u, []) for u in units}
    roots = []
    for unit in units:
        parent = nodes.get(unit.parent_id)
        (parent[1] if parent else roots).append(nodes[unit.id])
    return roots


@bp.get("/admin/units")
@roles_required("admin")
def admin_units():
    """The tree of your units: each with its level and state (merged, retired)."""
    units = service.list_units(db.session, g.actor)
    return render_template("web/admin_units.html", tree=tree(units), count=len(units))


@bp.route("/admin/units/new", methods=["GET", "POST"])
@roles_required("admin")
def admin_unit_new():
    """A new unit below one of yours; its cash account comes with it."""
    values = _typed(request.form, UNIT_FIELDS) if request.method == "POST" else {"parent": request.args.get("parent")}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data, errors = load_form(UnitIn(), values)
        status = 422 if errors else status
        if not errors:
            try:
                unit = service.create_unit(db.session, g.actor, data)
            except REFUSED as error:
                flash(error.message, "error")
                errors, status = refused_errors(error), error.status
            else:
                flash(_("Đã tạo đơn vị %(name)s.", name=unit.name), "success")
                return redirect(url_for("web.admin_unit", code=unit.code))
    parents = [u for u in service.list_units(db.session, g.actor) if u.closed_on is None and u.level != "branch"]
    return render_template(
        "web/admin_unit_new.html", values=values, errors=errors, parents=parents, levels=LEVELS
    ), status


def _render_unit(code: str, *, values=None, errors=None, form=None, status=200):
    unit = service.unit_detail(db.session, g.actor, code, identity_defaults(current_config()))
    others = [u for u in service.list_units(db.session, g.actor) if u.closed_on is None and u.id != unit.id]
    return render_template(
        "web/admin_unit.html",
        unit=unit,
        stored=stored_identity(unit),
        positions=accounts.list_accounts(db.session, g.actor, code),
        parents=[u for u in others if LEVELS.index(u.level) < LEVELS.index(unit.level)],
        values=values or {},
        errors=errors or {},
        form=form,
        identity_fields=FIELDS,
        signatories=SIGNATORIES,
    ), status


@bp.get("/admin/units/<code>")
@roles_required("admin")
def admin_unit(code):
    """A unit: its name, identity and signatories; its bank accounts; move it; retire it."""
    return _render_unit(code)


def _identity_body(form) -> dict:
    """The identity form as PATCH /units/{code}'s body: every field sent, an empty one cleared (inherited again)."""
    body: dict = {"identity": {name: (form.get(name) or "").strip() for name in FIELDS}}
    body["identity"]["signatories"] = {name: (form.get(name) or "").strip() for name in SIGNATORIES}
    if (form.get("name") or "").strip():
        body["name"] = form["name"].strip()
    return body


@bp.post("/admin/units/<code>")
@roles_required("admin")
def admin_unit_edit(code):
    """Save the unit's name and identity; documents already issued keep theirs."""
    service.visible_unit(db.session, g.actor, code)  # outside the actor's subtree: the 403 page
    body = _identity_body(request.form)
    data, errors = load_form(UnitPatchIn(), body)
    values = {**body["identity"], **body["identity"]["signatories"], "name": body.get("name", "")}
    if errors:
        errors = {path.rpartition(".")[2]: message for path, message in errors.items()}
        return _render_unit(code, values=values, errors=errors, form="identity", status=422)
    try:
        service.update_unit(db.session, g.actor, code, data, identity_defaults(current_config()))
    except REFUSED as error:
        flash(error.message, "error")
        return _render_unit(code, values=values, errors=refused_errors(error), form="identity", status=error.status)
    flash(_("Đã lưu thông tin in trên chứng từ."), "success")
    return redirect(url_for("web.admin_unit", code=code))


def _unit_form_action(code: str, form: str, fields, schema, act, done: str, anchor: str | None = None):
    """One of the unit page's forms posted: read `fields` into `schema`, run `act(data)` (a service call that
    returns what `done` names), and come back to the unit page with the service's answer."""
    service.visible_unit(db.session, g.actor, code)  # outside the actor's subtree: the 403 page
    values = _typed(request.form, fields)
    data, errors = load_form(schema, values)
    if errors:
        return _render_unit(code, values=values, errors=errors, form=form, status=422)
    try:
        done_with = act(data)
    except REFUSED as error:
        flash(error.message, "error")
        return _render_unit(code, values=values, errors=refused_errors(error), form=form, status=error.status)
    flash(done(done_with), "success")
    return redirect(url_for("web.admin_unit", code=code, _anchor=anchor))


@bp.post("/admin/units/<code>/accounts")
@roles_required("admin")
def admin_unit_account(code):
    """Declare a bank account of the unit."""
    return _unit_form_action(
        code,
        "account",
        BANK_FORM_FIELDS,
        BankAccountIn(),
        lambda data: accounts.add_bank_account(db.session, g.actor, code, data),
        lambda account: _("Đã thêm tài khoản %(name)s.", name=account.name),
        anchor="accounts-h",
    )


@bp.post("/admin/units/<code>/move")
@roles_required("admin")
def admin_unit_move(code):
    """Put the unit under another parent from a date."""
    return _unit_form_action(
        code,
        "move",
        ("parent", "on"),
        MoveIn(),
        lambda data: reorganisation.move_unit(db.session, g.actor, code, data["parent"], data["on"]),
        lambda unit: _("Đã chuyển %(name)s về trực thuộc %(parent)s.", name=unit.name, parent=unit.parent.name),
    )


@bp.post("/admin/units/<code>/retire")
@roles_required("admin")
def admin_unit_retire(code):
    """Retire a unit holding no money: it takes no new document."""
    return _unit_form_action(
        code,
        "retire",
        ("on", "reason"),
        RetireIn(),
        lambda data: reorganisation.retire_unit(db.session, g.actor, code, data["on"], data["reason"]),
        lambda unit: _("Đã giải thể %(name)s.", name=unit.name),
    )


@bp.route("/admin/units/merge", methods=["GET", "POST"])
@roles_required("admin")
def admin_units_merge():
    """Merge units into another on a date: the answer lists the transfer documents that carried their money."""
    units = [u for u in service.list_units(db.session, g.actor) if u.closed_on is None]
    form = request.form
    values = {**_typed(form, ("into", "on", "reason")), "from": form.getlist("from")}
    errors: dict[str, str] = {}
    status, outcome = 200, None
    if request.method == "POST":
        data, errors = load_form(UnitMergeIn(), {k: v for k, v in values.items() if v})
        status = 422 if errors else status
        if not errors:
            try:
                outcome = reorganisation.merge_units(
                    db.session, g.actor, data["from_"], data["into"], data["on"], data["reason"]
                )
            except REFUSED as error:
                flash(error.message, "error")
                errors, status = refused_errors(error), error.status
            else:
                flash(
                    _("Đã sáp nhập %(n)s đơn vị vào %(into)s.", n=len(outcome.merged), into=outcome.into.name),
                    "success",
                )
    return render_template("web/admin_merge.html", units=units, values=values, errors=errors, outcome=outcome), status
