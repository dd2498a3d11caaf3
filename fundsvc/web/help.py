"""The project's own documentation (docs/*.md) as pages of the web UI, for the people who use and run it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import abort, render_template
from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt
from markupsafe import Markup

from fundsvc.web.views import bp

DOCS = Path(__file__).resolve().parents[2] / "docs"
# The pages offered, by their file name in docs/, with the title shown in the navigation of the help pages.
PAGES = {
    "rules": _l("Quy tắc xét học bổng"),
    "import": _l("Mẫu danh sách đề cử"),
    "books": _l("Sổ sách và chứng từ"),
    "bank": _l("Sao kê ngân hàng"),
    "api": _l("Kết nối hệ thống khác (API)"),
    "admin": _l("Quản trị"),
}


@cache
def _rendered(name: str) -> Markup | None:
    path = DOCS / f"{name}.md"
    if not path.is_file():
        return None
    # "commonmark" with tables; raw HTML in the text is shown as text, never run.
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    return Markup(markdown.render(path.read_text(encoding="utf-8")))


@bp.get("/help/<name>")
def help_page(name):
    """One page of the documentation."""
    if name not in PAGES:
        abort(404)
    body = _rendered(name)
    if body is None:
        abort(404)
    pages = [(key, title) for key, title in PAGES.items() if (DOCS / f"{key}.md").is_file()]
    return render_template("web/help.html", name=name, title=PAGES[name], body=body, pages=pages)
