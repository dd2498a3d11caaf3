"""A unit's other movements on the web: the list, the form for every kind (income, expense, transfer, adjustment,
opening balance), the void. The rules are the movements service's; this reads the form and shows the answer."""

from __future__ import annotations

import secrets

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from fundsvc.extensions import db
from fundsvc.idempotency import request_fingerprint
from fundsvc.ledger import accounts, movements
from fundsvc.ledger.movement_schemas import MovementIn, MovementVoidIn
from fundsvc.ledger.service import list_positions
from fundsvc.units.service import list_units, visible_unit
from fundsvc.web.auth import roles_required
from fundsvc.web.util import REFUSED, flatten_errors, paginate, parse_amount, parse_int, today
from fundsvc.web.views import bp

# What each kind of movement asks for beyond amount, date, fund, account and description.
KIND_FIELDS = {
    "income": ("category", "counterparty"),
    "expense": ("category", "counterparty"),
    "transfer": ("to",),
    "adjustment": ("direction", "corrects"),
    "opening_balance": (),
}


def _movement_data(form, unit_code: str) -> dict:
    """The form as the API's body for POST /movements (only what the chosen kind takes)."""
    kind = form.get("kind", "")
    body: dict = {
        "kind": kind,
        "unit": unit_code,
        "fund": form.get("fund", "").strip(),
        "account": parse_int(form.get("account")),
        "amount": parse_amount(form.get("amount")),
        "date": form.get("date", "").strip(),
        "description": form.get("description", "").strip(),
    }
    wanted = KIND_FIELDS.get(kind, ())
    if "category" in wanted and form.get(f"category_{kind}"):
        body["category"] = form[f"category_{kind}"]
    if "counterparty" in wanted and form.get("counterparty_name", "").strip():
        body["counterparty"] = {
            "name": form["counterparty_name"].strip(),
            "address": form.get("counterparty_address", "").strip() or None,
        }
    if "to" in wanted:
        # The receiving account's option names its unit too: "ST-TP-P2:12".
        to_unit, _, to_account = form.get("to_account", "").rpartition(":")
        body["to"] = {"unit": to_unit or unit_code, "account": parse_int(to_account)}
        if form.get("to_fund", "").strip():
            body["to"]["fund"] = form["to_fund"].strip()
    if "direction" in wanted:
        body["direction"] = form.get("direction", "")
        body["corrects"] = form.get("corrects", "").strip()
    if form.get("bank_reference", "").strip():
        body["bank_reference"] = form["bank_reference"].strip()
    return {key: value for key, value in body.items() if value not in (None, "")}


def _choices(unit_code: str) -> dict:
    unit = visible_unit(db.session, g.actor, unit_code)
    # The funds the unit may book in: its own first (the default one at the top), then those of the units above; a
    # transfer may reach any fund the reader sees.
    visible = [p.fund for p in list_positions(db.session, g.actor)]
    funds = [f for f in visible if unit.path.startswith(f.unit.path)]
    funds.sort(key=lambda f: (f.id != unit.default_fund_id, f.unit_id != unit.id, -len(f.unit.path), f.code))
    categories = movements.list_categories(db.session)
    units = list_units(db.session, g.actor)
    by_unit: dict[int, list] = {}
    for account in accounts.accounts_of_units(db.session, [u.id for u in units]):
        by_unit.setdefault(account.unit_id, []).append(account)
    return {
        "unit": unit,
        "funds": funds,
        "to_funds": visible,
        "accounts": by_unit.get(unit.id, []),
        "targets": [(u, by_unit[u.id]) for u in units if u.id in by_unit],
        "categories": {d: [c for c in categories if c.direction == d] for d in ("in", "out")},
    }


def _render_form(unit_code: str, values: dict, errors: list | None = None, status: int = 200):
    values.setdefault("form_key", secrets.token_urlsafe(16))
    return (
        render_template("web/movement_form.html", values=values, errors=errors or [], **_choices(unit_code)),
        status,
    )


@bp.get("/units/<code>/movements")
@roles_required("treasurer", "viewer", "committee")
def movements_list(code):
    """The unit's movements besides gifts and awards, newest first, with their documents."""
    unit = visible_unit(db.session, g.actor, code)
    query = movements.movements_query(db.session, g.actor, unit=code).order_by(None)
    query = query.order_by(movements.Movement.movement_date.desc(), movements.Movement.id.desc())
    return render_template("web/movements.html", unit=unit, page=paginate(query))


@bp.route("/units/<code>/movements/new", methods=["GET", "POST"])
@roles_required("treasurer")
def movement_new(code):
    """Record a movement; the page shows its document's number and links its list."""
    if request.method == "GET":
        kind = request.args.get("kind") if request.args.get("kind") in KIND_FIELDS else "expense"
        return _render_form(code, {"kind": kind, "date": today().isoformat()})
    form = request.form.to_dict()
    body = _movement_data(form, code)
    try:
        data = MovementIn().load(body)
    except ValidationError as error:
        return _render_form(code, form, flatten_errors(error.messages), 422)
    try:
        recorded, _replayed = movements.record_movement(
            db.session,
            g.actor,
            data,
            idempotency_key=f"web:{form.get('form_key') or secrets.token_urlsafe(16)}",
            fingerprint=request_fingerprint(body),
        )
    except REFUSED as error:
        return _render_form(code, form, [("", error.message)], 409)
    codes = ", ".join(m.document_code for m in recorded)
    flash(_("Đã ghi chứng từ %(codes)s.", codes=codes), "success")
    return redirect(url_for("web.movements_list", code=code))


@bp.post("/movements/<int:movement_id>/void")
@roles_required("treasurer")
def movement_void(movement_id):
    """Void a movement (both sides of a transfer) with a reason."""
    movement = movements.get_movement(db.session, g.actor, movement_id)
    try:
        data = MovementVoidIn().load({"reason": (request.form.get("reason") or "").strip()})
        voided = movements.void_movement(db.session, g.actor, movement_id, data["reason"])
    except ValidationError:
        flash(_("Cần ghi lý do hủy."), "error")
    except REFUSED as error:
        flash(error.message, "error")
    else:
        flash(_("Đã hủy chứng từ %(codes)s.", codes=", ".join(m.document_code for m in voided)), "success")
    return redirect(url_for("web.movements_list", code=movement.unit.code))
