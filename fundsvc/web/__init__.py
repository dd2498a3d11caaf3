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


# No inline script anywhere in the UI: scripts come from our static files only; nothing may frame a page.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The API docs page runs Swagger UI from the packaged copy; its initialiser is an inline script.
DOCS_PATHS = ("/api/v1/docs",)
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


def security_headers(response):
    """Headers every answer carries; HTML pages also get the content policy and frame protection."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith(DOCS_PATHS):
            response.headers.setdefault("Content-Security-Policy", DOCS_CONTENT_SECURITY_POLICY)
        else:
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def register_web(app: Flask) -> None:
    """Attach the web UI: CSRF protection, languages, the login session, the pages."""
    from fundsvc.documents.words import format_date, format_vnd
    from fundsvc.extensions import csrf
    from fundsvc.web import filters, wording
    from fundsvc.web.i18n import LANGUAGES, babel, remember_language, select_locale
    from fundsvc.web.views import bp

    # The check runs from _protect_forms so the API stays exempt, including blueprints added later.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # Flask defines these keys already (SameSite as None), so they are set, not defaulted.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SECURE"] = app.config.get("SECURE_COOKIES", False)
    app.session_interface = _LoginSessionInterface()
    csrf.init_app(app)
    app.before_request(_protect_forms)
    babel.init_app(app, default_locale="vi", default_timezone="Asia/Ho_Chi_Minh", locale_selector=select_locale)
    app.after_request(remember_language)
    app.after_request(security_headers)
    app.jinja_env.filters.update(vnd=format_vnd, vndate=format_date, **filters.FILTERS, **wording.FILTERS)
    from fundsvc.privacy import sees_donor_contact

    app.jinja_env.globals["sees_donor_contact"] = sees_donor_contact
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES)

    @app.context_processor
    def _web_context():
        from flask_babel import get_locale

        return {"actor": g.get("actor"), "lang": str(get_locale() or "vi")}

    app.register_blueprint(bp)
