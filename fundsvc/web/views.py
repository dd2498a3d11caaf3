"""Web UI pages."""

from flask import Blueprint, redirect, url_for

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    """The home page: the API docs until the web UI lands."""
    return redirect(url_for("api-docs.openapi_swagger_ui"))
