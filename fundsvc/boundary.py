"""The request boundary: text no part of the service can store or print is refused before any view reads it.

A NUL character or a lone UTF-16 surrogate in a string breaks the exports (openpyxl and XML refuse them) and
PostgreSQL's text type; JSON nested without limit makes the parser recurse until it fails. Each is refused
here, once, for every JSON body, form field and query argument: deep nesting with 400, bad characters with
422 naming the field's JSON path.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from fundsvc.errors import DomainError, Invalid

# Far deeper than any document of the contract (a rules document nests a few conditions), far below recursion.
MAX_JSON_DEPTH = 64
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_MESSAGE = "Chuỗi chứa ký tự không được phép (ký tự NUL hoặc surrogate UTF-16 đơn lẻ)"


class MalformedInput(DomainError):
    """The body cannot be read at all (too deep, not JSON): 400."""

    status = 400


def forbidden_characters(value: Any, path: str = "") -> dict[str, list[str]]:
    """JSON paths of every string (key or value) of `value` holding a NUL or a lone surrogate.

    Raises MalformedInput when `value` nests deeper than MAX_JSON_DEPTH. Iterative, so no depth can recurse.
    """
    errors: dict[str, list[str]] = {}
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        node, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise MalformedInput(f"Dữ liệu JSON lồng nhau quá {MAX_JSON_DEPTH} cấp")
        if isinstance(node, str):
            if not node.isascii() or "\x00" in node:
                if _FORBIDDEN.search(node):
                    errors.setdefault(where or "$", []).append(_MESSAGE)
        elif isinstance(node, dict):
            for key, item in node.items():
                child = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and _FORBIDDEN.search(key):
                    errors.setdefault(where or "$", []).append(_MESSAGE)
                    child = f"{where}.?" if where else "?"
                stack.append((item, child, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, f"{where}[{index}]", depth + 1) for index, item in enumerate(node))
    return errors


def parse_json_body(raw: bytes) -> Any:
    """The body's JSON, refused with 400 when too deep or unreadable, 422 when a string holds a forbidden character."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        if "surrogate" not in str(error):
            if "depth" in str(error):
                raise MalformedInput(f"Dữ liệu JSON lồng nhau quá {MAX_JSON_DEPTH} cấp") from None
            return None  # not JSON at all: the view's own parser answers its 400
        # orjson refuses lone surrogates outright; the standard parser keeps them so the path can be named.
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError):
            raise MalformedInput("Nội dung JSON không đọc được") from None
    errors = forbidden_characters(document)
    if errors:
        raise Invalid(_MESSAGE, errors)
    return document


def check_request(request) -> None:
    """Refuse the request before any view when its JSON, form or query text cannot be kept (see module doc)."""
    if request.is_json:
        raw = request.get_data(cache=True)
        if raw:
            parse_json_body(raw)
    for source in (request.args, request.form if request.mimetype in _FORM_TYPES else None):
        if source:
            errors = forbidden_characters({key: source.getlist(key) for key in source})
            if errors:
                raise Invalid(_MESSAGE, {path.split("[")[0]: messages for path, messages in errors.items()})


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def register_boundary(app) -> None:
    """Run `check_request` before every request, first of all (before the CSRF check and the login)."""
    from flask import request

    app.before_request_funcs.setdefault(None, []).insert(0, lambda: check_request(request))
