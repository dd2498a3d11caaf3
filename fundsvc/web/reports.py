"""Reports: links to the summary, the fund book and the public statement (served by fundsvc.reports)."""

from __future__ import annotations

from flask import flash, g, render_template, request
from flask_babel import lazy_gettext as _l

from fundsvc.extensions import db
from fundsvc.reports import service as reports
from fundsvc.units.service import list_units
from fundsvc.web.util import REFUSED, parse_date, parse_int, route_exists, today
from fundsvc.web.views import bp

REPORT_LINKS = [  # (API path, label, kind); shown only when the app serves the path
    ("/api/v1/reports/summary", _l("Tổng hợp thu chi (JSON)"), "json"),
    ("/api/v1/reports/fund-book.pdf", _l("Sổ quỹ (PDF)"), "pdf"),
    ("/api/v1/reports/fund-book.xlsx", _l("Sổ quỹ (Excel)"), "xlsx"),
]


@bp.get("/reports")
def reports_page():
    """The period's reports for your units: summary, fund book, public statement."""
    from urllib.parse import urlencode

    args = request.args
    year = parse_int(args.get("year")) or today().year
    date_from = parse_date(args.get("from"))
    date_to = parse_date(args.get("to"))
    units = list_units(db.session, g.actor)
    unit = (args.get("unit") or "").strip() or (units[0].code if units else "")
    query = {
        k: v
        for k, v in {
            "from": date_from.isoformat() if date_from else "",
            "to": date_to.isoformat() if date_to else "",
            "unit": unit,
        }.items()
        if v
    }
    links = [
        (f"{path}?{urlencode(query)}" if query else path, label, kind)
        for path, label, kind in REPORT_LINKS
        if route_exists(path)
    ]
    public = f"/api/v1/public/statements/{unit}/{year}"
    public_links = [
        (p, label)
        for p, label in (
            (public + ".html", _l("Công khai tài chính (trang web)")),
            (public + ".pdf", _l("Công khai tài chính (PDF)")),
        )
        if unit and route_exists(p)
    ]
    summary = None
    try:
        summary = reports.summary(db.session, g.actor, unit=unit or None, date_from=date_from, date_to=date_to)
    except REFUSED as error:
        flash(error.message, "error")
    return render_template(
        "web/reports.html",
        links=links,
        public_links=public_links,
        units=units,
        unit=unit,
        year=year,
        date_from=date_from,
        date_to=date_to,
        summary=summary,
    )
