"""Redirects, session cookie flags, the secret key and security headers (issue 17, findings 6, 7, 13)."""

from __future__ import annotations

import os
import stat

import pytest

from fundsvc import config as config_module
from fundsvc.web.views import safe_next


@pytest.mark.parametrize(
    "target",
    ["/%09/evil.example", "/\t/evil.example", "//evil.example", "/\\evil", "https://evil", "/\n/x", "/%0A/x", " /x"],
)
def test_language_switch_never_leaves_the_site(client, tree, target):
    from urllib.parse import unquote

    response = client.get("/language/en", query_string={"next": unquote(target)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_path_on_the_site_is_kept():
    assert safe_next("/donations?page=2") == "/donations?page=2"
    assert safe_next("/%2F%2Fevil") == "/%2F%2Fevil"  # stays a path: the browser never decodes it into a host


def test_login_next_is_validated(client, tree):
    response = client.get("/login?next=/%09/evil.example")
    assert response.status_code == 200
    assert b'name="next" value="/' not in response.data


def test_session_cookie_is_samesite_lax_and_httponly(app):
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert config_module.from_environment({"FUNDSVC_SECURE_COOKIES": "1"})["SECURE_COOKIES"] is True


def test_no_known_default_secret_key(tmp_path):
    assert config_module.from_environment({})["SECRET_KEY"] is None
    first = config_module.instance_secret_key(tmp_path)
    second = config_module.instance_secret_key(tmp_path)
    assert first == second and len(first) == 64 and first != "dev-only-change-me"
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_pages_carry_security_headers(client, tree):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_api_answers_carry_nosniff(client):
    response = client.get("/api/v1/health")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_api_docs_load_swagger_ui_from_the_service_itself(app):
    """Finding 13: no script from a public CDN on the service's origin; the packaged Swagger UI is served."""
    client = app.test_client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline'" in policy and "frame-ancestors 'none'" in policy
    bundle = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and b"SwaggerUIBundle" in bundle.data[:200_000] + bundle.data[-200_000:]
    assert client.get("/api/v1/docs/assets/../../../etc/passwd").status_code == 404
