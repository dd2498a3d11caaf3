"""HTML error pages for the web UI."""

from flask import render_template


def render_error_page(code: int, message: str):
    """An error page in the site's layout."""
    return render_template("web/error.html", code=code, message=message), code
