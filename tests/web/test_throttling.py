"""Finding 8: failed logins and failed tokens are throttled per account and per address, across workers."""

from __future__ import annotations

import re

import pytest
import requests

from fundsvc.auth.throttle import FAILURES_PER_ADDRESS, LOGIN_PER_ACCOUNT
from tests.web.conftest import PASSWORD

ACCOUNT_LIMIT = int(LOGIN_PER_ACCOUNT.split("/")[0])
ADDRESS_LIMIT = int(FAILURES_PER_ADDRESS.split("/")[0])


def test_guessing_one_password_is_stopped_and_the_right_one_waits(app, tree, make_user, browser):
    make_user("thuquy.x", "treasurer", "ST-TP-P2")
    web = browser()
    for _ in range(ACCOUNT_LIMIT):
        assert web.login("thuquy.x", "sai-mat-khau").status_code == 401
    blocked = web.login("thuquy.x", PASSWORD)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Quá nhiều lần thử sai" in blocked.get_data(as_text=True)
    # Another account from the same address is not locked by this one's failures.
    make_user("thuquy.y", "treasurer", "ST-TP-P2")
    assert web.login("thuquy.y", PASSWORD).status_code == 302


def test_a_correct_login_clears_the_accounts_count(app, tree, make_user, browser):
    make_user("thuquy.z", "treasurer", "ST-TP-P2")
    web = browser()
    for _ in range(ACCOUNT_LIMIT - 1):
        web.login("thuquy.z", "sai")
    assert web.login("thuquy.z", PASSWORD).status_code == 302
    web.get("/")  # the new session's CSRF token
    assert web.post("/logout").status_code == 302
    for _ in range(ACCOUNT_LIMIT - 1):
        assert web.login("thuquy.z", "sai").status_code == 401


def test_wrong_tokens_are_throttled_per_address_and_good_tokens_still_work(app, tree, admin):
    bad = {"Authorization": "Bearer fs_" + "x" * 40}
    client = app.test_client()
    answers = [client.get("/api/v1/funds", headers=bad).status_code for _ in range(ADDRESS_LIMIT + 1)]
    assert answers[:ADDRESS_LIMIT] == [401] * ADDRESS_LIMIT and answers[-1] == 429
    refused = client.get("/api/v1/funds", headers=bad)
    assert refused.status_code == 429 and refused.json["code"] == 429 and refused.headers["Retry-After"]
    assert admin.get("/api/v1/funds").status_code == 200


@pytest.mark.slow
def test_throttling_is_shared_by_every_gunicorn_worker(tmp_path):
    """Two worker processes, each request on a new connection: only a count shared through the database stops the
    guessing at the limit (a count per process would let about twice as many through)."""
    from fundsvc import create_app
    from fundsvc.auth.service import create_user
    from fundsvc.extensions import db
    from tests.conftest import migrate
    from tests.spine.gunicorn_helpers import Gunicorn

    url = f"sqlite:///{tmp_path / 'throttle.sqlite3'}"
    migrate(url, with_tree=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        create_user(db.session, "thuquy.w", "treasurer", "ST-TP-P2", password=PASSWORD)
        db.session.remove()
        db.engine.dispose()
    with Gunicorn(url, tmp_path / "gunicorn.log", workers=2) as server:

        def attempt(password: str) -> int:
            with requests.Session() as browser:
                page = browser.get(f"{server.base}/login", timeout=30).text
                token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
                form = {"username": "thuquy.w", "password": password, "csrf_token": token}
                return browser.post(f"{server.base}/login", data=form, allow_redirects=False, timeout=30).status_code

        failures = [attempt("sai-mat-khau") for _ in range(ACCOUNT_LIMIT)]
        assert failures == [401] * ACCOUNT_LIMIT
        assert attempt(PASSWORD) == 429
