"""A copied session cookie stops working after logout and after a password change (issue 17, finding 7)."""

from __future__ import annotations

from fundsvc.auth.service import set_password
from fundsvc.extensions import db as _db
from tests.web.conftest import Browser


def _copy(app, source: Browser) -> Browser:
    """Another browser holding a copy of `source`'s session cookie (as a thief would)."""
    thief = Browser(app)
    cookie = source.client.get_cookie("session")
    thief.client.set_cookie("session", cookie.value)
    return thief


def test_a_cookie_copied_before_logout_is_refused_after(app, tree, make_user, browser):
    user = browser(make_user("lan", "treasurer", "ST-TP-P2"))
    thief = _copy(app, user)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    assert user.post("/logout").status_code == 302
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_cookie_copied_before_a_password_change_is_refused_after(app, tree, make_user, browser):
    user = browser(make_user("lan", "treasurer", "ST-TP-P2"))
    thief = _copy(app, user)
    assert thief.get("/").status_code == 200
    set_password(_db.session, "lan", "mật-khẩu-mới-2026")
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    fresh = Browser(app)
    assert fresh.login("lan", "mật-khẩu-mới-2026").status_code == 302
    assert fresh.get("/").status_code == 200


def test_logging_in_again_after_logout_works(app, tree, make_user, browser):
    user = browser(make_user("lan", "treasurer", "ST-TP-P2"))
    user.post("/logout")
    assert user.login("lan").status_code == 302
    assert user.get("/").status_code == 200
