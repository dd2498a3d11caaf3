"""The server-rendered web UI (Vietnamese)."""

from flask import Flask


def register_web(app: Flask) -> None:
    """Attach the web UI blueprint(s)."""
    from fundsvc.web.views import bp

    app.register_blueprint(bp)
