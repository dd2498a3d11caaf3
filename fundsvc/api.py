"""What every API blueprint shares: the Blueprint class, bearer-token authentication, the current actor, pagination."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

import flask_smorest
import marshmallow as ma
from flask import Flask, Response, current_app, g, request
from sqlalchemy import Select
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from fundsvc.auth.service import Actor, authenticate_token
from fundsvc.db.pages import count_rows, page_rows
from fundsvc.db.types import encode_json
from fundsvc.errors import Unauthorized
from fundsvc.extensions import db
from fundsvc.login_session import session_actor
from fundsvc.schemas import MAX_ID

API_PREFIX = "/api/v1"
# Reachable without a token: the health check and the API's own documentation.
PUBLIC_PATHS = {f"{API_PREFIX}/health", f"{API_PREFIX}/health/ready", f"{API_PREFIX}/openapi.json"}


@cache
def _schema_instance(schema_class: type[ma.Schema]) -> ma.Schema:
    return schema_class()


class _ArgumentsParser(FlaskParser):
    """webargs' parser, with one instance per argument schema class instead of one per request.

    Given a Schema class, webargs instantiates it on every request, deep-copying its fields and then
    its nested schemas' (about half a millisecond of each POST). `load` keeps no state on the schema,
    so one instance serves every request.
    """

    def _get_schema(self, argmap, req) -> ma.Schema:
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return _schema_instance(argmap)
        return super()._get_schema(argmap, req)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the arguments parser above: every API blueprint is one of these."""

    ARGUMENTS_PARSER = _ArgumentsParser()


def current_actor() -> Actor:
    """The authenticated caller of this request (set by the API's before_request hook or the web login)."""
    actor = g.get("actor")
    if actor is None:
        raise Unauthorized("Cần đăng nhập (missing or invalid token)")
    return actor


def authenticate_api_request() -> None:
    """Resolve `Authorization: Bearer TOKEN` for every /api/v1 call except the public ones."""
    path = request.path
    if request.url_rule is None:  # unknown route: let it be a 404, not a 401
        return
    if (
        not path.startswith(API_PREFIX + "/")
        or path in PUBLIC_PATHS
        or path.startswith(f"{API_PREFIX}/docs")
        or path.startswith(f"{API_PREFIX}/public/")
        # Transfer notifications authenticate with the provider's own key (fundsvc.bank.notification_service).
        or path.startswith(f"{API_PREFIX}/bank-notifications/")
    ):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    actor = authenticate_token(db.session, token.strip()) if scheme.lower() == "bearer" and token else None
    if actor is None and not header and request.method in ("GET", "HEAD"):
        # Documents linked from the web UI (PDF, xlsx, csv) open with its login; safe methods only, so no CSRF risk.
        actor = session_actor()
    if actor is None:
        if token:
            # A wrong token counts against its address; valid tokens never touch the counters.
            throttle = current_app.extensions["throttle"]
            throttle.refuse_if_blocked("token", request.remote_addr)
            throttle.failed("token", request.remote_addr)
        raise Unauthorized("Thiếu hoặc sai mã truy cập (missing or invalid bearer token)")
    g.actor = actor


def paginate(query, pagination_parameters, *, rows: Select | None = None) -> list:
    """Apply smorest's page/page_size to a select and record the total for the X-Pagination header; with `rows`,
    the page is read as those plain rows instead of entities (fundsvc.db.pages.page_rows)."""
    pagination_parameters.item_count = count_rows(db.session, query)
    page, size = pagination_parameters.page, pagination_parameters.page_size
    offset = (page - 1) * size
    if offset >= pagination_parameters.item_count:
        return []  # past the end; also never sends an OFFSET beyond the databases' integers
    return page_rows(db.session, query, offset, size, rows=rows)


def json_answer(document) -> Response:
    """A 200 of `document`, already in its response schema's shape (a hot list's plain serialiser, held to that
    schema by a test), written by orjson. smorest passes a Response through, its pagination header included."""
    return Response(encode_json(document), mimetype="application/json")


class IdConverter(IntegerConverter):
    """`<int:…>` bounded to the id columns' range: a larger id is an unknown URL (404), not a database overflow."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def _decimals_as_numbers(self, field, ret, **kwargs) -> dict:
    """apispec writes a Decimal field's bounds as Decimals, which JSON turns into strings; the spec wants numbers."""
    return {
        key: int(value) if value == value.to_integral_value() else float(value)
        for key, value in ret.items()
        if isinstance(value, Decimal)
    }


def _swagger_ui_asset(filename: str):
    """Swagger UI's files from the packaged copy (swagger-ui-bundle), so the docs page loads nothing from elsewhere."""
    from flask import send_from_directory
    from swagger_ui_bundle import swagger_ui_path

    return send_from_directory(swagger_ui_path, filename, max_age=24 * 3600)


def init_api_auth(app: Flask) -> None:
    """Install the token check in front of every request.

    Also what every blueprint's routes and documentation rely on, so before they are registered:
    the bounded `int` URL converter and the OpenAPI attribute fix for Decimal fields.
    """
    from fundsvc.extensions import api

    app.add_url_rule("/api/v1/docs/assets/<path:filename>", "swagger_ui_assets", _swagger_ui_asset)
    app.url_map.converters["int"] = IdConverter
    if getattr(api, "ma_plugin", None) is not None:
        api.ma_plugin.converter.add_attribute_function(_decimals_as_numbers)
    app.before_request(authenticate_api_request)
