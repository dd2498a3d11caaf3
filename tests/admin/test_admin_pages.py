"""The administration pages for users, tokens and the audit trail: the role × unit table of every page and action,
the password and token shown once, deactivation ending the web session, the audit trail's filters and readable
before/after."""

from __future__ import annotations

import pytest

from fundsvc.auth.models import ApiToken, User
from fundsvc.auth.service import create_user
from fundsvc.extensions import db as _db
from tests.web.conftest import PASSWORD, Browser

ACTORS = {  # name → (role, unit)
    "admin_all": ("admin", None),
    "admin_ST": ("admin", "ST"),
    "admin_P2": ("admin", "ST-TP-P2"),
    "treasurer_ST": ("treasurer", "ST"),
    "committee_ST": ("committee", "ST"),
    "viewer_ST": ("viewer", "ST"),
}
TARGETS = {"user_ST": "ST", "user_P2": "ST-TP-P2", "user_DT": "ST-MX-DT"}
MANAGES = {
    "admin_all": set(TARGETS),
    "admin_ST": set(TARGETS),
    "admin_P2": {"user_P2"},
    "treasurer_ST": set(),
    "committee_ST": set(),
    "viewer_ST": set(),
}
# (page or action) → (method, url pattern, form, status when allowed)
PER_USER = {
    "user page": ("get", "/admin/users/{uid}", None, 200),
    "edit": ("post", "/admin/users/{uid}", {"full_name": "Tên mới", "role": "treasurer", "unit": "{unit}"}, 302),
    "reset password": ("post", "/admin/users/{uid}/password-reset", {}, 200),
    "new token": ("post", "/admin/users/{uid}/tokens", {"name": "máy"}, 201),
    "revoke token": ("post", "/admin/tokens/{tid}/revoke", {}, 302),
    "deactivate": ("post", "/admin/users/{uid}/active", {"active": "0"}, 302),
}
LISTS = ("/admin/users", "/admin/users/new", "/admin/invitations", "/admin/invitations/new", "/admin/audit")


def _seed() -> dict[str, tuple[int, int]]:
    for name, (role, unit) in ACTORS.items():
        create_user(_db.session, name, role, unit, password=PASSWORD, full_name=name)
    targets = {}
    for name, unit in TARGETS.items():
        user, _token = create_user(_db.session, name, "treasurer", unit, full_name=name)
        targets[name] = (user.id, user.tokens[0].id)
    return targets


def _logged_in(app, username: str) -> Browser:
    browser = Browser(app)
    assert browser.login(username).status_code == 302
    browser.get("/")
    return browser


@pytest.mark.parametrize("actor", ACTORS)
def test_role_by_unit_table_of_every_admin_page_and_action(app, tree, actor):
    targets = _seed()
    browser = _logged_in(app, actor)
    is_admin = ACTORS[actor][0] == "admin"
    home = browser.get("/").get_data(as_text=True)
    assert ('id="nav-admin"' in home) == is_admin
    wrong = []
    for url in LISTS:
        status = browser.get(url).status_code
        if status != (200 if is_admin else 403):
            wrong.append((url, status))
    for target, (user_id, token_id) in targets.items():
        for what, (method, pattern, form, allowed) in PER_USER.items():
            url = pattern.format(uid=user_id, tid=token_id)
            data = {k: v.format(unit=TARGETS[target]) for k, v in (form or {}).items()}
            response = browser.get(url) if method == "get" else browser.post(url, data)
            expected = allowed if target in MANAGES[actor] else 403
            if response.status_code != expected:
                wrong.append((what, target, response.status_code, expected))
    assert not wrong
    for target, (user_id, token_id) in targets.items():
        user = _db.session.get(User, user_id)
        _db.session.refresh(user)
        changed = target in MANAGES[actor]
        assert (user.full_name == "Tên mới") == changed and user.active is not changed
        assert (_db.session.get(ApiToken, token_id).revoked_at is not None) == changed


def test_users_list_filters_and_shows_only_the_subtree(app, tree):
    _seed()
    browser = _logged_in(app, "admin_P2")
    html = browser.get("/admin/users").get_data(as_text=True)
    assert "user_P2" in html and "user_ST" not in html and "user_DT" not in html
    browser = _logged_in(app, "admin_ST")
    only = browser.get("/admin/users?unit=ST-MX-DT").get_data(as_text=True)
    assert "user_DT" in only and "user_P2" not in only
    admins = browser.get("/admin/users?role=admin").get_data(as_text=True)
    assert "admin_P2" in admins and "user_P2" not in admins
    found = browser.get("/admin/users?q=USER_d").get_data(as_text=True)
    assert "user_DT" in found and "user_ST" not in found


def test_creating_a_user_shows_its_password_once_and_it_logs_in(app, tree):
    _seed()
    browser = _logged_in(app, "admin_P2")
    form = {"username": "lan.p2", "full_name": "Lâm Thị Lan", "role": "treasurer", "unit": "ST-TP-P2"}
    created = browser.post("/admin/users/new", form)
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    password = html.split('id="secret-value">')[1].split("<")[0]
    assert len(password) == 12
    user = _db.session.query(User).filter_by(username="lan.p2").one()
    again = browser.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert password not in again and 'id="secret-value"' not in again
    assert Browser(app).login("lan.p2", password).status_code == 302


@pytest.mark.parametrize(
    "form, field",
    [
        ({"username": "có dấu", "full_name": "A", "role": "viewer", "unit": "ST-TP-P2"}, "username"),
        ({"username": "ok.user", "full_name": "", "role": "viewer", "unit": "ST-TP-P2"}, "full_name"),
        ({"username": "ok.user", "full_name": "A", "role": "viewer", "unit": "ST"}, None),
        ({"username": "admin_ST", "full_name": "A", "role": "viewer", "unit": "ST-TP-P2"}, "username"),
        ({"username": "ok.user", "full_name": "A", "role": "viewer", "unit": "ST-TP-P2", "email": "x@"}, "email"),
    ],
)
def test_a_bad_user_form_answers_beside_its_fields_and_stores_nothing(app, tree, form, field):
    _seed()
    browser = _logged_in(app, "admin_P2")
    before = _db.session.query(User).count()
    response = browser.post("/admin/users/new", form)
    assert response.status_code in (403, 422)
    if field:
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert _db.session.query(User).count() == before


def test_deactivating_on_the_page_ends_that_users_web_session(app, tree):
    targets = _seed()
    create_user(_db.session, "thuquy.p2", "treasurer", "ST-TP-P2", password=PASSWORD)
    treasurer = _logged_in(app, "thuquy.p2")
    assert treasurer.get("/donations").status_code == 200
    admin = _logged_in(app, "admin_P2")
    user_id = _db.session.query(User).filter_by(username="thuquy.p2").one().id
    assert admin.post(f"/admin/users/{user_id}/active", {"active": "0"}).status_code == 302
    assert treasurer.get("/donations").status_code == 302
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert 'id="reactivate"' in page
    assert targets  # the other users are untouched
    assert admin.post(f"/admin/users/{user_id}/active", {"active": "1"}).status_code == 302
    assert Browser(app).login("thuquy.p2").status_code == 302


def test_an_admin_cannot_lock_themselves_out_from_the_page(app, tree):
    _seed()
    browser = _logged_in(app, "admin_P2")
    own = _db.session.query(User).filter_by(username="admin_P2").one().id
    answer = browser.post(f"/admin/users/{own}/active", {"active": "0"})
    assert answer.status_code == 302
    assert "Không thể tự khóa" in browser.get(answer.headers["Location"]).get_data(as_text=True)
    assert browser.get("/admin/users").status_code == 200


def test_the_audit_trail_shows_before_and_after_and_filters(app, tree):
    targets = _seed()
    admin = _logged_in(app, "admin_ST")
    user_id = targets["user_P2"][0]
    admin.post(f"/admin/users/{user_id}", {"full_name": "Trần Văn Mới", "role": "committee", "unit": "ST-TP-P2"})
    page = admin.get("/admin/audit?entity=user&user=admin_ST").get_data(as_text=True)
    assert "Người dùng: sửa" in page
    changed = page.split('class="changed"')
    assert len(changed) == 3  # full name and role
    assert "Trần Văn Mới" in changed[1] and "Hội đồng xét chọn" in changed[2]  # the role by its name
    assert "user_P2" in page
    none_today = admin.get("/admin/audit?entity=user&to=2020-01-01").get_data(as_text=True)
    assert "Không có thao tác nào khớp." in none_today
    # An admin of the commune sees its own unit's events, not the province's.
    commune = _logged_in(app, "admin_P2")
    admin.post(
        f"/admin/users/{targets['user_DT'][0]}", {"full_name": "Ở Đại Tâm", "role": "treasurer", "unit": "ST-MX-DT"}
    )
    own = commune.get("/admin/audit?entity=user").get_data(as_text=True)
    assert "Trần Văn Mới" in own and "Ở Đại Tâm" not in own
    assert commune.get("/admin/audit?unit=ST").status_code == 403
