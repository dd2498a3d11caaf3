"""Funds administration (create, rename, restriction, the unit's default) and the organisation settings stored in
the database over the environment's values: through the API and the pages, with who may do what."""

from __future__ import annotations

import json

import pytest

from fundsvc.auth.service import create_user
from fundsvc.extensions import db as _db
from fundsvc.organisation.models import OrganisationSetting
from tests.conftest import Api
from tests.documents.conftest import pdf_pages_text
from tests.web.conftest import PASSWORD, Browser

POOR = {"field": "household", "op": "in", "value": ["poor", "near_poor"]}


def _api(app, role="admin", unit=None, name="quantri") -> Api:
    _user, token = create_user(_db.session, name, role, unit)
    return Api(app.test_client(), token)


def _browser(app, name, role="admin", unit=None) -> Browser:
    create_user(_db.session, name, role, unit, password=PASSWORD)
    browser = Browser(app)
    assert browser.login(name).status_code == 302
    browser.get("/")
    return browser


def test_a_fund_is_renamed_restricted_and_made_default(any_app):
    admin = _api(any_app)
    made = admin.post("/api/v1/funds", json={"code": "HN-P2", "name": "Quỹ hộ nghèo", "unit": "ST-TP-P2"})
    assert made.status_code == 201 and made.get_json()["default"] is False
    changed = admin.patch(
        "/api/v1/funds/HN-P2", json={"name": "Quỹ học sinh nghèo", "restriction": POOR, "default": True}
    )
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["name"] == "Quỹ học sinh nghèo" and body["restriction"] == POOR and body["default"] is True
    old = {f["code"]: f for f in admin.get("/api/v1/funds").get_json()}["KH-ST-TP-P2"]
    assert old["default"] is False
    cleared = admin.patch("/api/v1/funds/HN-P2", json={"restriction": None})
    assert cleared.get_json()["restriction"] is None
    bad = admin.patch("/api/v1/funds/HN-P2", json={"restriction": {"field": "nope", "op": "eq", "value": 1}})
    assert bad.status_code == 422 and "restriction" in bad.get_json()["errors"]
    audit = admin.get("/api/v1/audit?entity=fund&action=fund.update").get_json()
    assert audit[-1]["before"]["name"] == "Quỹ hộ nghèo" and audit[-1]["after"]["restriction"] == POOR


@pytest.mark.parametrize(
    "role, unit, fund, status",
    [
        ("admin", "ST-TP", "KH-ST-TP-P2", 200),
        ("admin", "ST-TP-P2", "KH-ST-TP-P2", 200),
        ("admin", "ST-TP-P2", "KH-ST-MX", 404),  # another district's fund is not visible at all
        ("admin", "ST-TP-P2", "KH", 403),  # the province's fund: seen from below, not changed
        ("treasurer", "ST", "KH-ST-TP-P2", 403),
        ("viewer", "ST", "KH", 403),
    ],
)
def test_who_changes_a_fund(app, tree, role, unit, fund, status):
    api = _api(app, role, unit, name=f"{role}.{unit}")
    answer = api.patch(f"/api/v1/funds/{fund}", json={"name": "Tên mới"})
    assert answer.status_code == status, answer.get_json()


def test_settings_default_to_the_environment_and_override_it(any_app):
    admin = _api(any_app)
    listed = {s["key"]: s for s in admin.get("/api/v1/organisation/settings").get_json()}
    assert listed["ORG_NAME"]["value"] == any_app.config["ORG_NAME"] and listed["ORG_NAME"]["changed"] is False
    changed = admin.patch(
        "/api/v1/organisation/settings",
        json={"ORG_NAME": "Hội Khuyến học thành phố Cần Thơ", "RECEIPT_COPIES": 3, "WORDS_STYLE": "south"},
    )
    assert changed.status_code == 200, changed.get_json()
    now = {s["key"]: s for s in changed.get_json()}
    assert now["ORG_NAME"]["value"] == "Hội Khuyến học thành phố Cần Thơ" and now["ORG_NAME"]["changed"]
    assert now["RECEIPT_COPIES"]["value"] == 3 and now["RECEIPT_COPIES"]["default"] == 2
    # A new receipt prints the new name, in the southern words, on three copies.
    gift = {
        "donor": {"name": "Nguyễn Văn An", "kind": "person"},
        "unit": "ST",
        "fund": "KH",
        "amount": 104_000,
        "method": "cash",
        "received_on": "2024-03-01",
    }
    donation = admin.post("/api/v1/donations", json=gift).get_json()
    text = " ".join(pdf_pages_text(admin.get(donation["receipt"]["pdf"]).data))
    assert "Liên 3" in text and "lẻ bốn" in text.lower()
    back = admin.patch("/api/v1/organisation/settings", json={"ORG_NAME": "", "RECEIPT_COPIES": None})
    assert {s["key"]: s for s in back.get_json()}["ORG_NAME"]["changed"] is False
    assert _db.session.query(OrganisationSetting).count() == 1  # WORDS_STYLE only
    events = admin.get("/api/v1/audit?entity=organisation").get_json()
    assert events[-1]["after"]["ORG_NAME"] == "Hội Khuyến học thành phố Cần Thơ"


@pytest.mark.parametrize(
    "body",
    [
        {"RECEIPT_COPIES": 9},
        {"RECEIPT_COPIES": "hai"},
        {"WORDS_STYLE": "central"},
        {"RECEIPT_PAPER": "A3"},
        {"ORG_NAME": "x" * 201},
        {"SECRET_KEY": "x"},
    ],
)
def test_bad_settings_are_a_422_and_change_nothing(app, tree, body):
    admin = _api(app)
    answer = admin.patch("/api/v1/organisation/settings", json=body)
    assert answer.status_code == 422
    assert _db.session.query(OrganisationSetting).count() == 0


def test_only_an_admin_of_every_unit_changes_the_settings(app, tree):
    province = _api(app, "admin", "ST", name="qt.tinh")
    assert province.get("/api/v1/organisation/settings").status_code == 200
    assert province.patch("/api/v1/organisation/settings", json={"ORG_NAME": "X"}).status_code == 403
    treasurer = _api(app, "treasurer", None, name="thuquy")
    assert treasurer.get("/api/v1/organisation/settings").status_code == 403


def test_the_fund_and_settings_pages(app, tree):
    browser = _browser(app, "quantri")
    assert browser.get("/admin/funds").status_code == 200
    made = browser.post(
        "/admin/funds",
        {"code": "HN-P2", "name": "Quỹ hộ nghèo", "unit": "ST-TP-P2", "restriction": json.dumps(POOR)},
    )
    assert made.status_code == 302
    page = browser.get("/admin/funds/HN-P2").get_data(as_text=True)
    assert "Hộ nghèo" in page  # the restriction read back as a sentence
    broken = browser.post("/admin/funds/HN-P2", {"name": "Quỹ hộ nghèo", "restriction": "{not json"})
    assert broken.status_code == 422 and 'id="restriction-error"' in broken.get_data(as_text=True)
    wrong = browser.post("/admin/funds/HN-P2", {"name": "Quỹ hộ nghèo", "restriction": '{"field": "nope"}'})
    assert wrong.status_code == 422
    saved = browser.post("/admin/funds/HN-P2", {"name": "Quỹ hộ nghèo P2", "restriction": "", "default": "1"})
    assert saved.status_code == 302
    assert "Không điều kiện" in browser.get("/admin/funds/HN-P2").get_data(as_text=True)
    assert browser.get("/admin/settings").status_code == 200
    assert (
        browser.post("/admin/settings", {"ORG_NAME": "Hội Khuyến học TP Cần Thơ", "RECEIPT_COPIES": "2"}).status_code
        == 302
    )
    assert "Hội Khuyến học TP Cần Thơ" in browser.get("/").get_data(as_text=True)  # the header shows it
    bad = browser.post("/admin/settings", {"RECEIPT_COPIES": "12"})
    assert bad.status_code == 422 and 'id="RECEIPT_COPIES-error"' in bad.get_data(as_text=True)


@pytest.mark.parametrize("role, unit", [("treasurer", "ST"), ("viewer", None), ("committee", "ST")])
def test_the_fund_and_settings_pages_are_for_admins(app, tree, role, unit):
    browser = _browser(app, f"{role}.x", role, unit)
    for url in ("/admin/funds", "/admin/funds/KH", "/admin/settings"):
        assert browser.get(url).status_code == 403
    assert browser.post("/admin/settings", {"ORG_NAME": "X"}).status_code == 403
    province = _browser(app, "qt.tinh", "admin", "ST")
    page = province.get("/admin/settings").get_data(as_text=True)
    assert 'id="save-settings"' not in page
    assert province.post("/admin/settings", {"ORG_NAME": "X"}).status_code == 403
