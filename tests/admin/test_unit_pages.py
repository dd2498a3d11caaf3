"""The administration pages of the unit tree: who may open and use them (role × unit), and each action through its
form: a new unit, its identity and signatories, a bank account, a move, a retirement, a merge."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fundsvc.auth.service import create_user
from fundsvc.extensions import db as _db
from fundsvc.ledger.models import MoneyAccount
from fundsvc.units.models import Unit
from tests.web.conftest import PASSWORD, Browser

ACTORS = {
    "admin_all": ("admin", None),
    "admin_ST": ("admin", "ST"),
    "admin_TP": ("admin", "ST-TP"),
    "treasurer_ST": ("treasurer", "ST"),
    "committee_ST": ("committee", "ST"),
    "viewer_ST": ("viewer", "ST"),
}
# Each page or action, on the district of Mỹ Xuyên (outside Thành phố Sóc Trăng's subtree) and on Phường 2 (inside).
# The forms are left invalid on purpose where they would change something: an allowed admin gets its form back
# (422), anyone else the 403 page; nothing is changed either way.
PAGES = {
    "tree": ("get", "/admin/units", None, 200),
    "new unit": ("get", "/admin/units/new", None, 200),
    "merge": ("get", "/admin/units/merge", None, 200),
}
PER_UNIT = {
    "unit page": ("get", "/admin/units/{code}", None, 200),
    "identity": ("post", "/admin/units/{code}", {"name": "x", "tax_code": "12"}, 422),
    "bank account": ("post", "/admin/units/{code}/accounts", {"name": "x"}, 422),
    "move": ("post", "/admin/units/{code}/move", {"parent": "ST"}, 422),
    "retire": ("post", "/admin/units/{code}/retire", {"reason": "x"}, 422),
}
SEES = {"admin_all": {"ST-MX", "ST-TP-P2"}, "admin_ST": {"ST-MX", "ST-TP-P2"}, "admin_TP": {"ST-TP-P2"}}


def _browser(app, name: str) -> Browser:
    role, unit = ACTORS[name]
    create_user(_db.session, name, role, unit, password=PASSWORD)
    browser = Browser(app)
    assert browser.login(name).status_code == 302
    browser.get("/")
    return browser


@pytest.mark.parametrize("actor", ACTORS)
def test_role_by_unit_table_of_every_unit_page_and_action(app, tree, actor):
    browser = _browser(app, actor)
    is_admin = ACTORS[actor][0] == "admin"
    wrong = []
    for what, (_method, url, _form, allowed) in PAGES.items():
        status = browser.get(url).status_code
        if status != (allowed if is_admin else 403):
            wrong.append((what, status))
    for code in ("ST-MX", "ST-TP-P2"):
        for what, (method, pattern, form, allowed) in PER_UNIT.items():
            url = pattern.format(code=code)
            response = browser.get(url) if method == "get" else browser.post(url, form)
            expected = allowed if code in SEES.get(actor, set()) else 403
            if response.status_code != expected:
                wrong.append((what, code, response.status_code, expected))
    assert not wrong
    assert _db.session.scalar(select(Unit.name).where(Unit.code == "ST-MX")) == "Huyện Mỹ Xuyên"


def test_a_new_unit_its_identity_and_a_bank_account_through_the_forms(app, tree):
    browser = _browser(app, "admin_ST")
    made = browser.post(
        "/admin/units/new",
        {
            "code": "ST-PST",
            "name": "Phường Sóc Trăng",
            "level": "commune",
            "parent": "ST",
            "books_opened_on": "2025-07-01",
        },
    )
    assert made.status_code == 302 and made.headers["Location"].endswith("/admin/units/ST-PST")
    page = browser.get("/admin/units/ST-PST").get_data(as_text=True)
    assert "Phường Sóc Trăng" in page
    again = browser.post("/admin/units/new", {"code": "ST-PST", "name": "X", "level": "commune", "parent": "ST"})
    assert again.status_code == 422 and 'id="code-error"' in again.get_data(as_text=True)
    saved = browser.post(
        "/admin/units/ST-PST",
        {
            "name": "Phường Sóc Trăng",
            "printed_name": "HỘI KHUYẾN HỌC PHƯỜNG SÓC TRĂNG",
            "head": "Nguyễn Văn Hội",
            "tax_code": "",
            "address": "Số 2 Hùng Vương",
        },
    )
    assert saved.status_code == 302
    detail = browser.get("/api/v1/units/ST-PST").get_json()
    assert detail["identity"]["printed_name"] == "HỘI KHUYẾN HỌC PHƯỜNG SÓC TRĂNG"
    assert detail["identity"]["signatories"]["head"] == "Nguyễn Văn Hội"
    bad = browser.post("/admin/units/ST-PST", {"name": "Phường Sóc Trăng", "tax_code": "12"})
    assert bad.status_code == 422 and 'id="tax_code-error"' in bad.get_data(as_text=True)
    account = {
        "name": "Tiền gửi Agribank",
        "bank_name": "Agribank",
        "bank_bin": "970405",
        "account_number": "7700123456",
        "account_holder": "HOI KHUYEN HOC PHUONG SOC TRANG",
    }
    assert browser.post("/admin/units/ST-PST/accounts", account).status_code == 302
    unit_id = _db.session.scalar(select(Unit.id).where(Unit.code == "ST-PST"))
    kinds = set(_db.session.scalars(select(MoneyAccount.kind).where(MoneyAccount.unit_id == unit_id)))
    assert kinds == {"cash", "bank"}
    assert "7700123456" in browser.get("/admin/units/ST-PST").get_data(as_text=True)


def test_move_retire_and_merge_through_the_forms(app, tree):
    browser = _browser(app, "admin_ST")
    for code in ("ST-MX-DT", "ST-MX-TD"):
        moved = browser.post(f"/admin/units/{code}/move", {"parent": "ST", "on": "2025-07-01"})
        assert moved.status_code == 302, moved.get_data(as_text=True)[-2000:]
    retired = browser.post("/admin/units/ST-MX/retire", {"on": "2025-07-01", "reason": "Giải thể cấp huyện"})
    assert retired.status_code == 302
    tree_page = browser.get("/admin/units").get_data(as_text=True)
    assert "Đã giải thể từ 01/07/2025" in tree_page
    merged = browser.post(
        "/admin/units/merge",
        {"from": ["ST-MX-DT", "ST-MX-TD"], "into": "ST-TP-P2", "on": "2025-07-01", "reason": "Nghị quyết 2025"},
    )
    assert merged.status_code == 200, merged.get_data(as_text=True)[-2000:]
    assert 'id="merge-result"' in merged.get_data(as_text=True)
    assert "Đã sáp nhập vào Phường 2" in browser.get("/admin/units").get_data(as_text=True)
    twice = browser.post(
        "/admin/units/merge", {"from": ["ST-MX-DT"], "into": "ST-TP-P2", "on": "2025-07-01", "reason": "lại"}
    )
    assert twice.status_code == 409 and "đã sáp nhập" in twice.get_data(as_text=True)
    empty = browser.post("/admin/units/merge", {"into": "ST-TP-P2", "on": "2025-07-01", "reason": "x"})
    assert empty.status_code == 422 and 'id="from-error"' in empty.get_data(as_text=True)
