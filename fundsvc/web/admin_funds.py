"""Administration pages of the funds (create, rename, restriction, the unit's default fund) and of the
organisation's settings. The rules are the ledger's (fundsvc.ledger.service) and the settings' own
(fundsvc.organisation.service); a fund's restriction is a condition of the rules language, typed as JSON and shown
back as sentences (fundsvc.web.wording)."""

from __future__ import annotations

import json

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fundsvc.allocation.ruleset import condition
from fundsvc.extensions import db
from fundsvc.ledger import service
from fundsvc.ledger.schemas import FundIn, FundPatchIn
from fundsvc.organisation import service as organisation
from fundsvc.units.service import list_units
from fundsvc.web.admin import load_form
from fundsvc.web.admin_units import refused_errors
from fundsvc.web.auth import roles_required
from fundsvc.web.util import REFUSED
from fundsvc.web.views import bp
from fundsvc.web.wording import condition_sentence


def restriction_sentence(restriction) -> dict | None:
    """A fund's restriction as sentences (None: unrestricted)."""
    return condition_sentence(condition(restriction)) if restriction else None


def _restriction_body(form) -> tuple[dict, dict[str, str]]:
    """The restriction typed as JSON: {"restriction": …} (null when left empty) or the JSON error."""
    text = (form.get("restriction") or "").strip()
    if not text:
        return {"restriction": None}, {}
    try:
        return {"restriction": json.loads(text)}, {}
    except ValueError as error:
        return {}, {"restriction": _("JSON chưa hợp lệ: %(error)s", error=str(error))}


def _funds() -> list:
    """The funds of the admin's units (not those of the units above), by code."""
    scope = g.actor.unit_path
    positions = service.list_positions(db.session, g.actor)
    return [p for p in positions if scope is None or p.fund.unit.path.startswith(scope)]


@bp.route("/admin/funds", methods=["GET", "POST"])
@roles_required("admin")
def admin_funds():
    """The funds with their balance, restriction and whether each is its unit's default; a new fund."""
    values = {name: (request.form.get(name) or "").strip() for name in ("code", "name", "unit", "restriction")}
    values["default"] = bool(request.form.get("default"))
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        body, errors = _restriction_body(request.form)
        body.update({k: values[k] for k in ("code", "name", "unit") if values[k]}, default=values["default"])
        if not errors:
            data, errors = load_form(FundIn(), body)
        if not errors:
            try:
                fund = service.create_fund(db.session, g.actor, data)
            except REFUSED as error:
                flash(error.message, "error")
                errors, status = refused_errors(error), error.status
            else:
                flash(_("Đã tạo quỹ %(name)s.", name=fund.name), "success")
                return redirect(url_for("web.admin_fund", code=fund.code))
        status = status if status != 200 else 422
    units = [u for u in list_units(db.session, g.actor) if u.closed_on is None]
    return render_template(
        "web/admin_funds.html",
        positions=_funds(),
        units=units,
        values=values,
        errors=errors,
        sentence=restriction_sentence,
    ), status


@bp.route("/admin/funds/<code>", methods=["GET", "POST"])
@roles_required("admin")
def admin_fund(code):
    """A fund: rename it, change its restriction, make it its unit's default."""
    fund = service.get_fund(db.session, g.actor, code)
    errors: dict[str, str] = {}
    status = 200
    values = {
        "name": fund.name,
        "restriction": json.dumps(fund.restriction, ensure_ascii=False, indent=2) if fund.restriction else "",
    }
    if request.method == "POST":
        values = {name: (request.form.get(name) or "").strip() for name in ("name", "restriction")}
        body, errors = _restriction_body(request.form)
        body["name"] = values["name"]
        if request.form.get("default"):
            body["default"] = True
        if not errors:
            data, errors = load_form(FundPatchIn(), body)
        if not errors:
            try:
                service.update_fund(db.session, g.actor, code, data)
            except REFUSED as error:
                flash(error.message, "error")
                errors, status = refused_errors(error), error.status
            else:
                flash(_("Đã lưu quỹ %(name)s.", name=values["name"]), "success")
                return redirect(url_for("web.admin_fund", code=code))
        status = status if status != 200 else 422
    return render_template(
        "web/admin_fund.html",
        fund=fund,
        position=service.position(db.session, fund),
        values=values,
        errors=errors,
        sentence=restriction_sentence(fund.restriction),
    ), status


@bp.route("/admin/settings", methods=["GET", "POST"])
@roles_required("admin")
def admin_settings():
    """The organisation's settings: each with the environment's default beside it."""
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        typed = {key: request.form.get(key, "") for key in organisation.SETTINGS if key in request.form}
        try:
            organisation.update_settings(db.session, g.actor, typed, current_app.config)
        except REFUSED as error:
            flash(error.message, "error")
            errors, status = refused_errors(error), error.status
        else:
            flash(_("Đã lưu cài đặt. Chứng từ đã lập giữ nguyên nội dung đã in."), "success")
            return redirect(url_for("web.admin_settings"))
    return render_template(
        "web/admin_settings.html",
        settings=organisation.settings_view(db.session, current_app.config),
        definitions=organisation.SETTINGS,
        typed=request.form,
        errors=errors,
        editable=g.actor.unit_path is None,
    ), status
