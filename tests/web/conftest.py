"""Fixtures for the web UI: users with passwords, and test clients logged in through the login form."""

from __future__ import annotations

import re

import pytest

from fundsvc.auth.service import create_user
from fundsvc.extensions import db as _db

PASSWORD = "khuyenhoc2024"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Browser:
    """A test client with a login session; `post` sends the page's CSRF token unless told not to."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.token = None

    def get(self, url, **kw):
        # A fresh app context per request, as in production (the `app` fixture keeps one pushed, and Flask
        # would otherwise share `g`, with its cached CSRF token, between requests).
        with self.app.app_context():
            response = self.client.get(url, **kw)
        if response.mimetype == "text/html":
            match = TOKEN.search(response.get_data(as_text=True))
            if match:
                self.token = match.group(1)
        return response

    def post(self, url, data=None, *, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/login")
            data.setdefault("csrf_token", self.token)
        with self.app.app_context():
            return self.client.post(url, data=data, **kw)

    def login(self, username, password=PASSWORD):
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})


@pytest.fixture
def make_user(app):
    """Factory: make_user(username, role, unit=None) → the username, with the demo password."""

    def make(username: str, role: str, unit: str | None = None) -> str:
        create_user(_db.session, username, role, unit, password=PASSWORD, full_name=username)
        return username

    return make


@pytest.fixture
def browser(app):
    """Factory: browser(username) → a Browser logged in as that user."""

    def make(username: str | None = None) -> Browser:
        b = Browser(app)
        if username:
            response = b.login(username)
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
            b.get("/")  # the landing page: the new session's CSRF token, as a browser would have it
        return b

    return make
