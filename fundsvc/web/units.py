"""The unit page: what the unit prints, its money accounts, its months and closing them."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fundsvc.extensions import db
from fundsvc.ledger import accounts, periods
from fundsvc.ledger.service import list_positions
from fundsvc.organisation.service import current_config
from fundsvc.units.identity import identity_defaults
from fundsvc.units.service import list_units, unit_detail
from fundsvc.web import filters
from fundsvc.web.auth import roles_required
from fundsvc.web.util import REFUSED
from fundsvc.web.views import bp

# Months close in order, so the closed ones are one stretch summed up in a line; the open ones are listed newest first.
SHOWN_OPEN_MONTHS = 12


@bp.get("/units/<code>")
def unit_page(code):
    """A unit's identity as printed, its money accounts with balances, its periods."""
    if code == "-":
        code = _own_unit_code()
    unit = unit_detail(db.session, g.actor, code, identity_defaults(current_config()))
    months = periods.list_periods(db.session, g.actor, code)
    open_months = [m for m in months if m.status == "open"]
    closable = open_months[0].month if open_months and open_months[0] is not months[-1] else None
    last_closed = next((m.month for m in reversed(months) if m.status == "closed"), None)
    return render_template(
        "web/unit.html",
        unit=unit,
        positions=accounts.list_accounts(db.session, g.actor, code),
        open_months=list(reversed(open_months))[:SHOWN_OPEN_MONTHS],
        older_open=max(0, len(open_months) - SHOWN_OPEN_MONTHS),
        closable=closable,
        funds=[p.fund for p in list_positions(db.session, g.actor) if p.fund.unit_id == unit.id],
        last_closed=last_closed,
    )


def _own_unit_code() -> str:
    """The caller's unit, or for a user of every unit the top of the tree."""
    return list_units(db.session, g.actor)[0].code


@bp.post("/units/<code>/periods/<month>/close")
@roles_required("treasurer")
def period_close(code, month):
    try:
        periods.close_month(db.session, g.actor, code, month)
    except REFUSED as error:
        flash(error.message, "error")
    else:
        flash(_("Đã khóa sổ tháng %(month)s.", month=filters.month(month)), "success")
    return redirect(url_for("web.unit_page", code=code))


@bp.post("/units/<code>/periods/<month>/reopen")
@roles_required("admin")
def period_reopen(code, month):
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        flash(_("Cần ghi lý do mở lại sổ."), "error")
        return redirect(url_for("web.unit_page", code=code))
    try:
        reopened = periods.reopen_month(db.session, g.actor, code, month, reason[:500])
    except REFUSED as error:
        flash(error.message, "error")
    else:
        flash(_("Đã mở lại sổ các tháng %(months)s.", months=", ".join(map(filters.month, reopened))), "success")
    return redirect(url_for("web.unit_page", code=code))
