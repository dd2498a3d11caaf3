"""Invitation links (docs/admin.md "Invitations"): an admin invites a user; the one-time link (its token stored only
as a hash) lets the invitee set their own password, once, until it expires or is revoked; every step audited; an
admin of a unit invites and sees only within its subtree. On both engines."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from fundsvc.audit.models import AuditEvent
from fundsvc.auth.models import Invitation, User
from fundsvc.auth.service import authenticate_password, create_user
from fundsvc.db import utcnow
from fundsvc.extensions import db as _db
from tests.conftest import Api
from tests.web.conftest import PASSWORD, Browser

NEW_PASSWORD = "hoa-sen-mua-ha-2025"
LAN = {"username": "lan.p2", "full_name": "Lâm Thị Lan", "role": "treasurer", "unit": "ST-TP-P2"}


@pytest.fixture
def admin(any_app):
    _user, token = create_user(_db.session, "quantri", "admin", "ST", password=PASSWORD, full_name="Trần Văn Quản")
    return Api(any_app.test_client(), token)


def _invite(api, **change) -> dict:
    made = api.post("/api/v1/invitations", json={**LAN, **change})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def _token(link: str) -> str:
    return link.rsplit("/invitations/", 1)[1]


def _user(username: str) -> User | None:
    """The user as the requests left it (a fresh read: the test's session may hold an older snapshot)."""
    _db.session.rollback()
    return _db.session.scalar(select(User).where(User.username == username))


def _accept(app, link: str, password: str = NEW_PASSWORD, again: str | None = None):
    browser = Browser(app)
    page = browser.get(link)
    if page.status_code != 200:
        return page
    return browser.post(link, {"password": password, "password_again": again or password})


def test_an_invitee_sets_their_own_password_once(any_app, admin):
    invitation = _invite(admin, days=3)
    assert invitation["status"] == "open" and invitation["unit"] == "ST-TP-P2"
    assert invitation["link"].startswith("http://localhost/invitations/")
    token = _token(invitation["link"])
    stored = _db.session.get(Invitation, invitation["id"])
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
    assert timedelta(days=2, hours=23) < stored.expires_at - utcnow() <= timedelta(days=3)
    listed = admin.get("/api/v1/invitations?status=open").get_json()
    assert [i["username"] for i in listed] == ["lan.p2"] and "link" not in listed[0]

    page = Browser(any_app).get(invitation["link"])  # nobody logged in
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Lâm Thị Lan" in html and "lan.p2" in html and "Thủ quỹ" in html

    assert _accept(any_app, invitation["link"], again="khac-mat-khau-9").status_code == 422
    short = _accept(any_app, invitation["link"], password="ngan")
    assert short.status_code == 422 and "Mật khẩu cần từ 10" in short.get_data(as_text=True)
    assert _user("lan.p2") is None

    done = _accept(any_app, invitation["link"])
    assert done.status_code == 302 and done.headers["Location"].endswith("/")
    user = _user("lan.p2")
    assert (user.full_name, user.role, user.unit.code, user.active) == ("Lâm Thị Lan", "treasurer", "ST-TP-P2", True)
    assert authenticate_password(_db.session, "lan.p2", NEW_PASSWORD) is not None
    assert admin.get("/api/v1/invitations").get_json()[0]["status"] == "accepted"

    # The link is used up.
    again = Browser(any_app).get(invitation["link"])
    assert again.status_code == 409 and "đã được dùng" in again.get_data(as_text=True)
    actions = set(_db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity.in_(["invitation", "user"]))))
    assert {"invitation.create", "invitation.accept", "user.create"} <= actions


def test_an_expired_or_revoked_link_is_refused(any_app, admin):
    expired = _invite(admin)
    _db.session.get(Invitation, expired["id"]).expires_at = utcnow() - timedelta(minutes=1)
    _db.session.commit()
    page = _accept(any_app, expired["link"])
    assert page.status_code == 409 and "đã hết hạn" in page.get_data(as_text=True)
    assert admin.post(f"/api/v1/invitations/{expired['id']}/revoke").status_code == 409

    revoked = _invite(admin)  # the username is free again once the first invitation expired
    answer = admin.post(f"/api/v1/invitations/{revoked['id']}/revoke")
    assert answer.status_code == 200 and answer.get_json()["status"] == "revoked"
    page = _accept(any_app, revoked["link"])
    assert page.status_code == 409 and "đã bị thu hồi" in page.get_data(as_text=True)
    assert admin.post(f"/api/v1/invitations/{revoked['id']}/revoke").status_code == 409
    assert Browser(any_app).get("/invitations/khong-co-ma-nay").status_code == 404
    assert _user("lan.p2") is None
    statuses = {i["id"]: i["status"] for i in admin.get("/api/v1/invitations").get_json()}
    assert statuses == {expired["id"]: "expired", revoked["id"]: "revoked"}
    assert [i["id"] for i in admin.get("/api/v1/invitations?status=expired").get_json()] == [expired["id"]]


def test_the_password_is_not_the_username(any_app, admin):
    invitation = _invite(admin, username="nguyenthilan")
    refused = _accept(any_app, invitation["link"], password="NguyenThiLan")
    assert refused.status_code == 422 and "trùng tên đăng nhập" in refused.get_data(as_text=True)
    assert _accept(any_app, invitation["link"]).status_code == 302


def test_an_open_invitation_reserves_its_username(admin):
    _invite(admin)
    for body in (LAN, {**LAN, "username": "LAN.P2"}):
        assert admin.post("/api/v1/invitations", json=body).status_code == 422
        refused = admin.post("/api/v1/users", json=body)
        assert refused.status_code == 422 and "username" in refused.get_json()["errors"]
    assert admin.post("/api/v1/invitations", json={**LAN, "username": "quantri"}).status_code == 422


@pytest.mark.parametrize(
    "change, field",
    [({"days": 0}, "days"), ({"days": 31}, "days"), ({"role": "boss"}, "role"), ({"username": "x y"}, "username")],
)
def test_a_bad_invitation_says_why(admin, change, field):
    answer = admin.post("/api/v1/invitations", json={**LAN, **change})
    assert answer.status_code == 422 and field in answer.get_json()["errors"], answer.get_json()
    assert _db.session.scalar(select(Invitation)) is None


def test_an_admin_invites_and_sees_only_within_its_subtree(any_app, admin):
    province = _invite(admin, username="tinh", unit="ST")
    _user, token = create_user(_db.session, "quantri.p2", "admin", "ST-TP-P2")
    ward = Api(any_app.test_client(), token)
    assert ward.post("/api/v1/invitations", json={**LAN, "unit": "ST-TP-P5"}).status_code in (403, 404, 422)
    assert ward.post("/api/v1/invitations", json={**LAN, "unit": None}).status_code == 422
    own = ward.post("/api/v1/invitations", json=LAN)
    assert own.status_code == 201
    assert [i["username"] for i in ward.get("/api/v1/invitations").get_json()] == ["lan.p2"]
    assert ward.post(f"/api/v1/invitations/{province['id']}/revoke").status_code == 403
    _user, token = create_user(_db.session, "thuquy.tinh", "treasurer", "ST")
    treasurer = Api(any_app.test_client(), token)
    assert treasurer.get("/api/v1/invitations").status_code == 403
    assert treasurer.post("/api/v1/invitations", json={**LAN, "username": "khac"}).status_code == 403


def test_the_admin_pages_create_list_and_revoke(any_app, admin):
    browser = Browser(any_app)
    assert browser.login("quantri").status_code == 302
    browser.get("/admin/invitations/new")
    form = {**LAN, "days": "5"}
    created = browser.post("/admin/invitations/new", form)
    html = created.get_data(as_text=True)
    assert created.status_code == 201, html[:2000]
    link = html.split('id="secret-value">')[1].split("<")[0]
    assert "/invitations/" in link and "lan.p2" in html
    listed = browser.get("/admin/invitations").get_data(as_text=True)
    assert link not in listed and "Đang chờ" in listed
    again = browser.post("/admin/invitations/new", form)
    assert again.status_code == 422 and "lời mời chưa dùng" in again.get_data(as_text=True)
    bad = browser.post("/admin/invitations/new", {**form, "days": "99"})
    assert bad.status_code == 422
    invitation = _db.session.scalar(select(Invitation))
    assert browser.post(f"/admin/invitations/{invitation.id}/revoke").status_code == 302
    assert "Đã thu hồi" in browser.get("/admin/invitations?status=revoked").get_data(as_text=True)
    assert Browser(any_app).get(link).status_code == 409


def test_an_address_guessing_links_is_refused_for_a_while(any_app, admin):
    """The invitee's page is public: the links that do not exist count as failed attempts of the address, as failed
    logins do; once they are used up even a good link waits (429, Retry-After), and the page says so in Vietnamese."""
    invitation = _invite(admin)
    guesser = Browser(any_app)
    for attempt in range(50):
        assert guesser.get(f"/invitations/doan-bua-{attempt}").status_code == 404
    refused = guesser.get(f"/invitations/{_token(invitation['link'])}")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Đã thử quá nhiều liên kết không đúng" in refused.get_data(as_text=True)
    assert _user("lan.p2") is None
