"""Users and tokens through the API (CONTRACT "Users and tokens"): the role × unit table of every endpoint, the
one-time password, deactivation stopping tokens and sessions at once, tokens' names, last use, expiry, revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundsvc.auth.models import ApiToken, User
from fundsvc.auth.service import create_user, new_token
from fundsvc.documents.words import today_in_vietnam
from fundsvc.extensions import db as _db
from tests.conftest import Api
from tests.web.conftest import PASSWORD, Browser

ACTORS = {  # name → (role, unit)
    "admin_all": ("admin", None),
    "admin_ST": ("admin", "ST"),
    "admin_TP": ("admin", "ST-TP"),
    "admin_P2": ("admin", "ST-TP-P2"),
    "treasurer_ST": ("treasurer", "ST"),
    "committee_ST": ("committee", "ST"),
    "viewer_ST": ("viewer", "ST"),
}
TARGETS = {  # name → unit
    "user_all": None,
    "user_ST": "ST",
    "user_P2": "ST-TP-P2",
    "user_DT": "ST-MX-DT",
}
# Which targets each actor manages: an admin, over the users of its subtree (a user of every unit: only by an admin
# of every unit); nobody else.
MANAGES = {
    "admin_all": {"user_all", "user_ST", "user_P2", "user_DT"},
    "admin_ST": {"user_ST", "user_P2", "user_DT"},
    "admin_TP": {"user_P2"},
    "admin_P2": {"user_P2"},
    "treasurer_ST": set(),
    "committee_ST": set(),
    "viewer_ST": set(),
}


def _seed(app) -> tuple[dict[str, Api], dict[str, User], dict[str, int]]:
    actors = {}
    for name, (role, unit) in ACTORS.items():
        _user, token = create_user(_db.session, name, role, unit)
        actors[name] = Api(app.test_client(), token)
    targets, tokens = {}, {}
    for name, unit in TARGETS.items():
        user, _token = create_user(_db.session, name, "treasurer", unit)
        targets[name] = user.id
        tokens[name] = user.tokens[0].id
    return actors, targets, tokens


# (what, call) → the status when allowed; each call gets the target's user id and its first token's id.
ENDPOINTS = {
    "read": (lambda api, uid, tid: api.get(f"/api/v1/users/{uid}"), 200),
    "edit": (lambda api, uid, tid: api.patch(f"/api/v1/users/{uid}", json={"full_name": "Tên mới"}), 200),
    "reset password": (lambda api, uid, tid: api.post(f"/api/v1/users/{uid}/password-reset"), 200),
    "list tokens": (lambda api, uid, tid: api.get(f"/api/v1/users/{uid}/tokens"), 200),
    "new token": (lambda api, uid, tid: api.post(f"/api/v1/users/{uid}/tokens", json={"name": "máy in"}), 201),
    "revoke token": (lambda api, uid, tid: api.client.delete(f"/api/v1/tokens/{tid}", headers=api._h(None)), 200),
}


@pytest.mark.parametrize("actor", ACTORS)
def test_role_by_unit_table_of_every_user_endpoint(app, tree, actor):
    actors, targets, tokens = _seed(app)
    api = actors[actor]
    wrong = []
    for target, user_id in targets.items():
        for what, (call, allowed) in ENDPOINTS.items():
            response = call(api, user_id, tokens[target])
            expected = allowed if target in MANAGES[actor] else 403
            if response.status_code != expected:
                wrong.append((what, target, response.status_code, expected))
            elif expected == 403:
                assert set(response.get_json()) == {"code", "status", "message", "errors"}
    assert not wrong
    listed = api.get("/api/v1/users?page_size=100")
    if ACTORS[actor][0] != "admin":
        assert listed.status_code == 403
    else:
        names = {u["username"] for u in listed.get_json()}
        assert names & set(TARGETS) == MANAGES[actor]


@pytest.mark.parametrize("actor", ["admin_TP", "admin_P2"])
def test_an_admin_below_the_province_cannot_give_a_user_a_unit_outside_its_subtree(app, tree, actor):
    actors, targets, _tokens = _seed(app)
    api = actors[actor]
    for unit in ("ST", "ST-MX-DT"):
        body = {"username": f"new.{unit.lower()}", "full_name": "Người mới", "role": "treasurer", "unit": unit}
        assert api.post("/api/v1/users", json=body).status_code == 403
        moved = api.patch(f"/api/v1/users/{targets['user_P2']}", json={"unit": unit})
        assert moved.status_code == 403
    no_unit = api.post("/api/v1/users", json={"username": "everywhere", "full_name": "Khắp nơi", "role": "viewer"})
    assert no_unit.status_code == 422 and "unit" in no_unit.get_json()["errors"]
    assert _db.session.get(User, targets["user_P2"]).unit.code == "ST-TP-P2"


def test_a_new_user_gets_a_password_shown_once_that_logs_in(any_app):
    admin = _admin(any_app)
    answer = admin.post(
        "/api/v1/users",
        json={"username": "lan.p2", "full_name": "Lâm Thị Lan", "role": "treasurer", "unit": "ST-TP-P2"},
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["unit"] == "ST-TP-P2" and body["active"] is True and len(body["password"]) == 12
    assert "password" not in admin.get(f"/api/v1/users/{body['id']}").get_json()
    browser = Browser(any_app)
    assert browser.login("lan.p2", body["password"]).status_code == 302
    again = admin.post("/api/v1/users", json={"username": "LAN.P2", "full_name": "X", "role": "viewer", "unit": "ST"})
    assert again.status_code == 422 and "username" in again.get_json()["errors"]
    audit = admin.get("/api/v1/audit?entity=user").get_json()
    assert audit[0]["action"] == "user.create" and audit[0]["after"]["unit"] == "ST-TP-P2"
    assert "password" not in str(audit[0])


def _admin(app) -> Api:
    _user, token = create_user(_db.session, "quantri", "admin", None)
    return Api(app.test_client(), token)


def _treasurer(app) -> tuple[int, str, Browser]:
    """A treasurer of P2 with a token and a logged-in web session."""
    user, token = create_user(_db.session, "thuquy.p2", "treasurer", "ST-TP-P2", password=PASSWORD)
    browser = Browser(app)
    assert browser.login("thuquy.p2").status_code == 302
    return user.id, token, browser


def test_deactivating_a_user_refuses_its_token_and_its_session_on_their_next_request(any_app):
    admin = _admin(any_app)
    user_id, token, browser = _treasurer(any_app)
    own = Api(any_app.test_client(), token)
    assert own.get("/api/v1/funds").status_code == 200
    assert browser.get("/donations").status_code == 200
    off = admin.patch(f"/api/v1/users/{user_id}", json={"active": False})
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert own.get("/api/v1/funds").status_code == 401
    page = browser.get("/donations")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert browser.login("thuquy.p2").status_code == 401
    assert admin.get("/api/v1/users?active=false").get_json()[0]["username"] == "thuquy.p2"
    # Reactivated: the token works again; the session ended for good (a new login is needed).
    admin.patch(f"/api/v1/users/{user_id}", json={"active": True})
    assert own.get("/api/v1/funds").status_code == 200
    assert browser.get("/donations").status_code == 302


def test_a_password_reset_ends_the_sessions_and_keeps_the_tokens(app, tree):
    admin = _admin(app)
    user_id, token, browser = _treasurer(app)
    reset = admin.post(f"/api/v1/users/{user_id}/password-reset")
    assert reset.status_code == 200
    assert browser.get("/donations").status_code == 302
    assert Browser(app).login("thuquy.p2").status_code == 401
    assert Browser(app).login("thuquy.p2", reset.get_json()["password"]).status_code == 302
    assert Api(app.test_client(), token).get("/api/v1/funds").status_code == 200


def test_an_admin_cannot_lock_themselves_out(app, tree):
    user, token = create_user(_db.session, "quantri.tinh", "admin", "ST")
    admin = Api(app.test_client(), token)
    for change in ({"active": False}, {"role": "viewer"}, {"unit": "ST-TP-P2"}):
        answer = admin.patch(f"/api/v1/users/{user.id}", json=change)
        assert answer.status_code == 409, change
    assert admin.patch(f"/api/v1/users/{user.id}", json={"full_name": "Quản trị tỉnh"}).status_code == 200


def test_tokens_are_named_show_their_last_use_expire_and_are_revoked(any_app):
    admin = _admin(any_app)
    user_id, _token, _browser = _treasurer(any_app)
    tomorrow = today_in_vietnam() + timedelta(days=1)
    made = admin.post(f"/api/v1/users/{user_id}/tokens", json={"name": "Máy kế toán", "expires_on": str(tomorrow)})
    assert made.status_code == 201
    body = made.get_json()
    assert body["token"].startswith("fs_") and body["name"] == "Máy kế toán" and body["last_used_at"] is None
    listed = admin.get(f"/api/v1/users/{user_id}/tokens").get_json()
    assert "token" not in listed[0] and listed[0]["expires_on"] == str(tomorrow)
    new = Api(any_app.test_client(), body["token"])
    assert new.get("/api/v1/funds").status_code == 200
    used = admin.get(f"/api/v1/users/{user_id}/tokens").get_json()[0]
    assert used["last_used_at"] is not None
    revoked = admin.client.delete(f"/api/v1/tokens/{body['id']}", headers=admin._h(None))
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert new.get("/api/v1/funds").status_code == 401
    twice = admin.client.delete(f"/api/v1/tokens/{body['id']}", headers=admin._h(None))
    assert twice.status_code == 409
    past = admin.post(f"/api/v1/users/{user_id}/tokens", json={"name": "cũ", "expires_on": "2020-01-01"})
    assert past.status_code == 422 and "expires_on" in past.get_json()["errors"]


def test_an_expired_token_is_refused(app, tree):
    user, _first = create_user(_db.session, "thuquy.het", "treasurer", "ST")
    row, token = new_token(_db.session, user, name="hết hạn", expires_on=today_in_vietnam())
    _db.session.commit()
    api = Api(app.test_client(), token)
    assert api.get("/api/v1/funds").status_code == 200
    row = _db.session.get(ApiToken, row.id)
    row.expires_on = today_in_vietnam() - timedelta(days=1)
    _db.session.commit()
    assert api.get("/api/v1/funds").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"username": "x", "full_name": "X", "role": "treasurer", "unit": "ST"},
        {"username": "có dấu", "full_name": "X", "role": "treasurer", "unit": "ST"},
        {"username": "ok.name", "full_name": "", "role": "treasurer", "unit": "ST"},
        {"username": "ok.name", "full_name": "X", "role": "chief", "unit": "ST"},
        {"username": "ok.name", "full_name": "X", "role": "viewer", "unit": "NOPE"},
        {"username": "ok.name", "full_name": "X", "role": "viewer", "unit": "ST", "email": "not-an-email"},
        {"username": "ok.name", "full_name": "X", "role": "viewer", "unit": "ST", "password": "chosen"},
    ],
)
def test_bad_user_input_is_a_422_and_stores_nothing(app, tree, body):
    admin = _admin(app)
    answer = admin.post("/api/v1/users", json=body)
    assert answer.status_code == 422, answer.get_json()
    assert set(answer.get_json()) == {"code", "status", "message", "errors"}
    assert _db.session.query(User).filter(User.username == body["username"]).count() == 0
