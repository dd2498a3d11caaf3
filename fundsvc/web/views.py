"""Web UI pages: login, the dashboard, and the blueprint every page module adds its routes to."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from fundsvc.auth.service import authenticate_password
from fundsvc.auth.throttle import TooManyRequests
from fundsvc.extensions import db
from fundsvc.login_session import log_in, log_out, session_actor

bp = Blueprint("web", __name__, static_folder="static", static_url_path="/static/web")

# Pages reachable without logging in.
PUBLIC_ENDPOINTS = {"web.login", "web.static", "web.language", "web.give_page", "web.give_code"}


def safe_next(target: str | None) -> str | None:
    """Only a path on this site is followed after login or a language switch (no open redirect).

    Checked on the decoded text: browsers drop tabs and newlines from a Location, so "/\t/evil.example"
    would become "//evil.example", another host; a newline would also break the header itself.
    """
    if not target or any(ord(char) < 33 or ord(char) == 127 for char in target):
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.before_request
def load_user():
    """Every page runs as the logged-in user: services get the same Actor as through the API."""
    g.actor = session_actor()
    if g.actor is None and request.endpoint not in PUBLIC_ENDPOINTS:
        if request.path.startswith("/ui/"):
            return jsonify({"code": 401, "status": "Unauthorized", "message": _("Cần đăng nhập"), "errors": {}}), 401
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Username and password; Vietnamese by default."""
    next_url = safe_next(request.values.get("next"))
    if g.actor is not None and request.method == "GET":
        return redirect(next_url or url_for("web.index"))
    error, status, headers = None, 200, {}
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        throttle = current_app.extensions["throttle"]
        try:
            throttle.refuse_if_blocked("login", request.remote_addr, username)
        except TooManyRequests as refused:
            error = _("Quá nhiều lần thử sai. Vui lòng thử lại sau khoảng %(minutes)s phút.", minutes=refused.minutes)
            status, headers = 429, {"Retry-After": str(refused.retry_after)}
        else:
            actor = authenticate_password(db.session, username, password) if username and password else None
            if actor is None:
                throttle.failed("login", request.remote_addr, username)
                error, status = _("Sai tên đăng nhập hoặc mật khẩu."), 401
            else:
                throttle.succeeded("login", username)
                log_in(actor)
                flash(_("Xin chào %(name)s.", name=actor.username), "success")
                return redirect(next_url or url_for("web.index"))
    page = render_template("web/login.html", error=error, username=username, next=next_url)
    return page, status, headers


@bp.post("/logout")
def logout():
    """End the session."""
    log_out()
    flash(_("Đã đăng xuất."), "success")
    return redirect(url_for("web.login"))


@bp.get("/language/<code>")
def language(code):
    """Switch the language and go back where the reader was."""
    from fundsvc.web.i18n import COOKIE, LANGUAGES

    target = safe_next(request.args.get("next")) or url_for("web.index")
    response = redirect(target)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.get("/")
def index():
    """The dashboard: fund balances, today's gifts, and what each role does next."""
    from fundsvc.allocation.service import rounds_query
    from fundsvc.donations.models import Donation
    from fundsvc.donations.service import donations_query
    from fundsvc.ledger.service import list_positions
    from fundsvc.students.service import nominations_query
    from fundsvc.web.util import current_academic_year, today

    actor = g.actor
    day = today()
    positions = list_positions(db.session, actor)
    todays = donations_query(db.session, actor, date_from=day, date_to=day)
    gifts = list(db.session.scalars(todays.limit(15)).unique())
    recorded = todays.where(Donation.status == "recorded").order_by(None).subquery()
    count, total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(recorded.c.amount), 0)).select_from(recorded)
    ).one()
    rounds = list(db.session.scalars(rounds_query(actor).limit(5)).unique())
    year = current_academic_year()
    nominations = None
    if actor.has_role("committee"):
        query = nominations_query(db.session, actor, academic_year=year).order_by(None).subquery()
        nominations = db.session.scalar(select(func.count()).select_from(query))
    return render_template(
        "web/dashboard.html",
        positions=positions,
        gifts=gifts,
        today_count=count,
        today_total=int(total),
        rounds=rounds,
        day=day,
        year=year,
        nominations=nominations,
    )


# The page modules add their routes to `bp`.
from fundsvc.web import (  # noqa: E402,F401
    admin,
    admin_funds,
    admin_invitations,
    admin_units,
    bank,
    bank_keys,
    committee,
    donations,
    funds,
    give,
    help,
    jobs,
    movements,
    nomination_pages,
    reports,
    round_form,
    units,
)
