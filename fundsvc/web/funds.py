"""The funds and accounts page: where a unit's money is on a chosen day, each line linked to its book for the period.
The figures are fundsvc.reports.positions' (the books' and the summary's); this reads the query and shows them."""

from __future__ import annotations

from flask import flash, g, render_template, request
from flask_babel import gettext as _

from fundsvc.extensions import db
from fundsvc.reports.positions import positions_on
from fundsvc.units.service import list_units
from fundsvc.web.auth import roles_required
from fundsvc.web.util import REFUSED, parse_date
from fundsvc.web.views import bp


def _date_arg(name: str):
    """The query's date `name` (ISO or dd/mm/yyyy); None when absent, and a message when it is not a date."""
    text = (request.args.get(name) or "").strip()
    day = parse_date(text)
    if text and day is None:
        flash(_("Ngày “%(text)s” không hợp lệ: dùng dạng ngày/tháng/năm.", text=text), "error")
    return day


@bp.get("/funds")
@roles_required("treasurer", "committee", "viewer")
def funds_page():
    """A unit's funds (with what the units below hold of them), its money accounts and its goods on a day (today
    unless chosen), and the units right below it; every line links its book from `from` (1 January) to that day."""
    units = list_units(db.session, g.actor)
    code = (request.args.get("unit") or "").strip() or (units[0].code if units else "")
    on, date_from = _date_arg("on"), _date_arg("from")
    positions = None
    try:
        positions = positions_on(db.session, g.actor, code, on, date_from)
    except REFUSED as error:
        flash(error.message, "error")
    period = {"from": positions.date_from.isoformat(), "to": positions.on.isoformat()} if positions else {}
    return render_template("web/funds.html", units=units, code=code, positions=positions, period=period)
