"""The server-rendered web UI (Vietnamese by default, English on `?lang=en`)."""

from __future__ import annotations

from flask import Flask, g, request

API_PATHS = ("/api/",)


def _protect_forms() -> None:
    """CSRF check on every unsafe request except the bearer-token API (which no browser form can reach)."""
    from fundsvc.extensions import csrf

    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or request.path.startswith(API_PATHS):
        return
    csrf.protect()


def register_web(app: Flask) -> None:
    """Attach the web UI: CSRF protection, languages, the login session, the pages."""
    from fundsvc.documents.words import format_date, format_vnd
    from fundsvc.extensions import csrf
    from fundsvc.web import filters
    from fundsvc.web.i18n import LANGUAGES, babel, remember_language, select_locale
    from fundsvc.web.views import bp

    # The check runs from _protect_forms so the API stays exempt, including blueprints added later.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    csrf.init_app(app)
    app.before_request(_protect_forms)
    babel.init_app(app, default_locale="vi", default_timezone="Asia/Ho_Chi_Minh", locale_selector=select_locale)
    app.after_request(remember_language)
    app.jinja_env.filters.update(vnd=format_vnd, vndate=format_date, **filters.FILTERS)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES)

    @app.context_processor
    def _web_context():
        from flask_babel import get_locale

        return {"actor": g.get("actor"), "lang": str(get_locale() or "vi")}

    app.register_blueprint(bp)
