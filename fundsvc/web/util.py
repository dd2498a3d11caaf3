"""Small helpers the pages share: parsing form input, pagination, dates, links to documents."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from fundsvc.auth.throttle import TooManyRequests
from fundsvc.db.pages import count_rows, page_rows
from fundsvc.documents.words import today_in_vietnam
from fundsvc.errors import Conflict, Forbidden, Invalid, Unavailable
from fundsvc.extensions import db

PAGE_SIZE = 50

# What a page's action answers with a message beside its form; anything else a service raises (an unknown record,
# NotFound) becomes the error page.
REFUSED = (Conflict, Forbidden, Invalid, Unavailable, TooManyRequests)


def today() -> date:
    """Today in Vietnam (the server may run in UTC)."""
    return today_in_vietnam()


def current_academic_year(on: date | None = None) -> str:
    """The school year running on `on`: it starts in September (August counts as the new one)."""
    on = on or today()
    first = on.year if on.month >= 8 else on.year - 1
    return f"{first}-{first + 1}"


def parse_date(value: str | None) -> date | None:
    """An ISO date (as <input type=date> sends) or dd/mm/yyyy; None when empty or malformed."""
    value = (value or "").strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def parse_amount(value: str | None) -> int | None:
    """Đồng typed as 1.250.000, 1,250,000, 1 250 000 or 1250000; None when it is not a whole number."""
    text = (value or "").strip().lower().removesuffix("đ").removesuffix("vnd").strip()
    for sep in (".", ",", " ", "\u00a0", "_"):
        text = text.replace(sep, "")
    if not text.isdigit() or len(text) > 16:
        return None
    return int(text)


def parse_int(value: str | None) -> int | None:
    """A positive id from a query string, else None (never a 500 for bad input)."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 18 else None


@dataclass
class Page:
    items: list
    page: int
    pages: int
    total: int

    def url(self, page: int) -> str:
        """The current URL with another page number."""
        args = request.args.to_dict()
        args["page"] = str(page)
        from urllib.parse import urlencode

        return f"{request.path}?{urlencode(args)}"


def paginate(query, size: int = PAGE_SIZE, *, total: int | None = None) -> Page:
    """One page of a select (page number from ?page=), with the total count (counted here unless given)."""
    page = max(1, parse_int(request.args.get("page")) or 1)
    if total is None:
        total = count_rows(db.session, query)
    pages = max(1, math.ceil(total / size))
    page = min(page, pages)
    return Page(page_rows(db.session, query, (page - 1) * size, size), page, pages, total)


def route_exists(path: str) -> bool:
    """True when the app serves GET `path` (links to documents other packages may not serve yet)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    except Exception:  # a redirect: the route exists
        return True
    return True


def flatten_errors(errors, prefix: str = "") -> list[tuple[str, str]]:
    """Marshmallow/service error dicts as (path, message) pairs, in a stable order."""
    out: list[tuple[str, str]] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out += flatten_errors(value, path)
    elif isinstance(errors, list | tuple):
        if all(isinstance(e, str) for e in errors):
            out += [(prefix, e) for e in errors]
        else:
            for i, e in enumerate(errors):
                out += flatten_errors(e, f"{prefix}[{i}]")
    else:
        out.append((prefix, str(errors)))
    return out


def export_links(name: str, filters: dict) -> list[tuple[str, str, str]]:
    """(format, label, URL) of a list page's "Tải Excel" and "Tải CSV" buttons: the list's export in the API
    (fundsvc.documents.lists) with the filters the page applied, as the page read them, written back in the API's
    names by the list's own schema."""
    from flask import url_for
    from flask_babel import gettext as _

    from fundsvc.documents.lists import stored_filters

    args = stored_filters(name, filters)
    labels = (("xlsx", _("Tải Excel")), ("csv", _("Tải CSV")))
    return [(ext, label, url_for(f"lists.export_{name}", ext=ext, **args)) for ext, label in labels]
