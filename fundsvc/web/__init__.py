"""The server-rendered web UI (Vietnamese by default, English on `?lang=en`)."""

from __future__ import annotations

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface

API_PATHS = ("/api/",)


class _LoginSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened without its signing machinery when the request has no cookie.

    Flask builds a serializer (and its key derivation) on every request before it looks for the cookie;
    API calls carry a bearer token and no cookie, so for them that was work for nothing.
    """

    def open_session(self, app: Flask, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


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
    app.session_interface = _LoginSessionInterface()
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
