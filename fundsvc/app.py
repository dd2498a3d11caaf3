"""The Flask application: configuration, extensions, blueprints, error handlers, commands."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from fundsvc import config as config_module


class ServiceFlask(Flask):
    """Flask whose requests are stopped past FUNDSVC_REQUEST_TIMEOUT, whatever the worker (fundsvc.request_limit)."""

    def full_dispatch_request(self):
        from fundsvc.request_limit import dispatch_within_limit

        return dispatch_within_limit(self, super().full_dispatch_request)

    def handle_user_exception(self, e):
        from fundsvc.request_limit import error_to_answer

        return super().handle_user_exception(error_to_answer(e))


def create_app(config: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, error handlers, commands."""
    app = ServiceFlask(__name__, template_folder="../templates", instance_path=str(config_module.INSTANCE_DIR))
    app.config.update(config_module.from_environment())
    for warning in config_module.deprecation_warnings():
        app.logger.warning(warning)
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.instance_secret_key(Path(app.instance_path))
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_observability(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from fundsvc import models  # noqa: F401  (every model registered on the metadata)
    from fundsvc.api import init_api_auth
    from fundsvc.db import configure_engine, keep_statistics
    from fundsvc.extensions import api, db, migrate
    from fundsvc.request_limit import watch_connections

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        config_module.INSTANCE_DIR.mkdir(exist_ok=True)
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(config_module.INSTANCE_DIR.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    with app.app_context():
        configure_engine(db.engine, app.config["WRITE_WAIT_SECONDS"])
        watch_connections(db.engine)
        keep_statistics(db.engine)
    api.init_app(app)
    init_api_auth(app)
    from fundsvc.auth.throttle import Throttle

    app.extensions["throttle"] = Throttle(app.config.get("RATELIMIT_STORAGE_URI"))
    if app.config.get("PROXY_HOPS"):
        # Behind nginx: the client's address is the one the proxy saw (throttling counts per address).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"], x_proto=app.config["PROXY_HOPS"])


def register_blueprints(app: Flask) -> None:
    from fundsvc.extensions import api
    from fundsvc.views import blueprints

    for blueprint in blueprints():
        api.register_blueprint(blueprint)
    from fundsvc.web import register_web

    register_web(app)


def register_errorhandlers(app: Flask) -> None:
    from fundsvc.boundary import register_boundary
    from fundsvc.http_errors import register_errorhandlers as register
    from fundsvc.web.errors import render_error_page

    register(app, html_page=render_error_page)
    register_boundary(app)


def register_observability(app: Flask) -> None:
    """After the boundary's check, so that the request log's hooks run before it (fundsvc.observability)."""
    from fundsvc.jobs import queue_depth
    from fundsvc.observability.exposition import metrics_view
    from fundsvc.observability.health import QUEUE_HOOK
    from fundsvc.observability.requests import init_request_log

    init_request_log(app)
    app.extensions[QUEUE_HOOK] = queue_depth  # the job queue's depth for /metrics and the health checks
    app.add_url_rule("/metrics", "metrics", metrics_view)


def register_commands(app: Flask) -> None:
    from fundsvc.cli import register

    register(app)
