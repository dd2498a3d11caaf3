"""End-to-end, in headless Chromium: every administration page at phone (390×844) and desktop (1366×768) size. The
organisation's admin finds "Quản trị" in the menu, creates a user (its password shown once), gives it a token and
revokes it, deactivates it, reads the audit trail, creates a ward, merges two communes into it, edits a fund and
the settings; a treasurer sees no "Quản trị". Screenshots go to artifacts/screenshots/admin-*.png; no page may
scroll sideways on the phone."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest

from tests.web import test_browser
from tests.web.test_browser import (
    PASSWORD,
    PHONE,
    SIZES,
    browser_pages,
    full_page_shot,
    no_english,
    served,
    sync_api,
)

expect = sync_api.expect
chromium = test_browser.chromium  # the browser fixture the browser test files share
pytestmark = pytest.mark.slow
# Words of the English catalogue: on a page, a string left out of its Vietnamese.
ENGLISH_WORDS = ("None", "User", "Token", "Save", "Unit", "Fund")
# Each size merges its own two communes (the server is shared by the module's tests).
MERGED = {390: ("ST-TP-P2", "ST-TP-P5"), 1366: ("ST-MX-DT", "ST-MX-TD")}


@pytest.fixture(scope="module")
def admin_server(sqlite_template, tmp_path_factory):
    """The app on a copy of the template database: an admin of every unit, a treasurer, gifts in four communes."""
    from fundsvc import create_app
    from fundsvc.auth.service import SYSTEM, create_user
    from fundsvc.donations.service import record_donation
    from fundsvc.extensions import db

    path = tmp_path_factory.mktemp("admin") / "web.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "admin-browser-tests"})
    with app.app_context():
        create_user(db.session, "quantri", "admin", None, password=PASSWORD, full_name="Trần Văn Quản")
        create_user(db.session, "thuquy.p2", "treasurer", "ST-TP-P2", password=PASSWORD, full_name="Lâm Thị Mai")
        for number, unit in enumerate(("ST-TP-P2", "ST-TP-P5", "ST-MX-DT", "ST-MX-TD"), start=1):
            record_donation(
                db.session,
                SYSTEM,
                {
                    "donor": {"name": f"Nhà hảo tâm {number}", "kind": "person"},
                    "unit": unit,
                    "amount": 500_000 * number,
                    "method": "cash",
                    "received_on": date(2025, 3, number),
                },
            )
        for unit in ("ST-TP-P2", "ST-MX-DT"):  # goods in one commune of each merge
            record_donation(
                db.session,
                SYSTEM,
                {
                    "donor": {"name": "Nhà sách Phương Nam", "kind": "organization"},
                    "unit": unit,
                    "amount": 3_000_000,
                    "method": "in_kind",
                    "in_kind_description": "Sách giáo khoa lớp 6",
                    "quantity": 30,
                    "unit_of_measure": "bộ",
                    "received_on": date(2025, 3, 9),
                },
            )
        db.session.remove()
    yield from served(app)


@pytest.fixture
def open_page(chromium, admin_server):
    with browser_pages(chromium, admin_server) as make:
        yield make


def shot(page, name: str) -> None:
    full_page_shot(page, name, prefix="admin")


@SIZES
def test_users_tokens_and_the_audit_trail(open_page, size):
    page = open_page(size, "quantri")
    width = size["width"]
    page.locator("#nav-admin").click()
    expect(page.locator("h1")).to_have_text("Người dùng")
    expect(page.locator("#users")).to_contain_text("thuquy.p2")
    shot(page, "users")
    no_english(page, ENGLISH_WORDS)

    page.click("#new-user")
    page.fill("#username", f"lan.{width}")
    page.fill("#full_name", "Nguyễn Thị Lan")
    page.select_option("#role", "treasurer")
    page.select_option("#unit", "ST-TP-P2")
    page.fill("#phone", "0918 123 456")
    shot(page, "user-new")
    page.click("#create-user")
    expect(page.locator("#secret-value")).to_have_text(re.compile(r"^\S{12}$"))
    shot(page, "user-created")
    no_english(page, ENGLISH_WORDS)

    page.fill("#token_name", "Máy tính kế toán")
    page.click("#create-token")
    expect(page.locator("#secret-value")).to_have_text(re.compile(r"^fs_"))
    expect(page.locator("#tokens")).to_contain_text("Máy tính kế toán")
    shot(page, "user-token")
    page.locator("#tokens button", has_text="Thu hồi").first.click()
    expect(page.locator(".flash-success")).to_contain_text("Đã thu hồi")
    page.click("#deactivate")
    expect(page.locator(".flash-success")).to_contain_text("Đã khóa tài khoản")
    expect(page.locator("#reactivate")).to_be_visible()
    shot(page, "user")

    page.goto("/admin/audit?user=quantri&entity=user")
    expect(page.locator("#events")).to_contain_text("Người dùng: sửa")
    expect(page.locator("#events tr.changed").first).to_be_visible()
    shot(page, "audit")
    no_english(page, ENGLISH_WORDS)


@SIZES
def test_units_a_new_ward_and_a_merge(open_page, size):
    page = open_page(size, "quantri")
    width = size["width"]
    page.goto("/admin/units")
    expect(page.locator("#unit-tree")).to_contain_text("Phường 2")
    shot(page, "units")
    page.click("#new-unit")
    page.fill("#code", f"PST{width}")
    page.fill("#name", f"Phường Sóc Trăng {width}")
    page.select_option("#level", "commune")
    page.select_option("#parent", "ST")
    page.fill("#books_opened_on", "2025-01-01")
    shot(page, "unit-new")
    page.click("#create-unit")
    expect(page.locator("h1")).to_contain_text(f"Phường Sóc Trăng {width}")
    page.fill("#printed_name", f"HỘI KHUYẾN HỌC PHƯỜNG SÓC TRĂNG {width}")
    page.fill("#head", "Nguyễn Văn Hội")
    page.click("#save-identity")
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu")
    page.locator("details.more summary").click()
    page.fill("#account-form #name", "Tiền gửi Agribank")
    page.fill("#bank_name", "Agribank")
    page.fill("#bank_bin", "970405")
    page.fill("#account_number", f"77{width}001")
    page.fill("#account_holder", "HOI KHUYEN HOC PHUONG SOC TRANG")
    page.click("#add-account")
    expect(page.locator("#accounts")).to_contain_text("Tiền gửi Agribank")
    shot(page, "unit")
    no_english(page, ENGLISH_WORDS)

    page.goto("/admin/units/merge")
    for code in MERGED[width]:
        page.check(f"#from-{code}")
    page.select_option("#into", f"PST{width}")
    page.fill("#on", "2025-07-01")
    page.fill("#reason", "Nghị quyết sắp xếp đơn vị hành chính cấp xã năm 2025")
    shot(page, "merge")
    page.click("#merge")
    expect(page.locator("#merge-result")).to_contain_text("Đã sáp nhập")
    expect(page.locator("#merge-transfers tbody tr")).to_have_count(2)
    expect(page.locator("#merge-goods tbody tr")).to_have_count(1)
    expect(page.locator("#merge-goods")).to_contain_text("3.000.000")
    shot(page, "merged")
    page.goto("/admin/units")
    expect(page.locator("#unit-tree")).to_contain_text("Đã sáp nhập vào")
    no_english(page, ENGLISH_WORDS)


@SIZES
def test_funds_and_settings(open_page, size):
    page = open_page(size, "quantri")
    width = size["width"]
    page.goto("/admin/funds")
    page.fill("#code", f"HN{width}")
    page.fill("#name", "Quỹ học sinh hộ nghèo")
    page.select_option("#unit", "ST")
    page.fill("#restriction", '{"field": "household", "op": "in", "value": ["poor", "near_poor"]}')
    page.click("#create-fund")
    expect(page.locator(".rule-sentences")).to_contain_text("Hộ nghèo")
    shot(page, "fund")
    page.goto("/admin/funds")
    expect(page.locator("#funds")).to_contain_text("Quỹ học sinh hộ nghèo")
    shot(page, "funds")
    page.goto("/admin/settings")
    page.fill("#SIGNATORY_HEAD", "Nguyễn Văn Hội")
    page.click("#save-settings")
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu cài đặt")
    shot(page, "settings")
    no_english(page, ENGLISH_WORDS)


def test_a_treasurer_has_no_admin_menu(open_page):
    page = open_page(PHONE, "thuquy.p2")
    expect(page.locator("#nav-admin")).to_have_count(0)
    response = page.goto("/admin/users")
    assert response.status == 403


@SIZES
def test_an_invitation_link_lets_the_invitee_set_a_password(open_page, chromium, admin_server, size):
    page = open_page(size, "quantri")
    width = size["width"]
    page.goto("/admin/users")
    page.click("#invitations")
    expect(page.locator("h1")).to_have_text("Lời mời")
    page.click("#new-invitation")
    page.fill("#username", f"hoa.{width}")
    page.fill("#full_name", "Trần Thị Hoa")
    page.select_option("#role", "viewer")
    page.select_option("#unit", "ST")
    page.fill("#days", "3")
    shot(page, "invitation-new")
    no_english(page, ENGLISH_WORDS)
    # Enter in the last field sends the form (a click right after a full-page screenshot may miss the button).
    page.press("#days", "Enter")
    link = page.locator("#secret-value").inner_text()
    assert re.fullmatch(r"http://[^/]+/invitations/[\w-]{40,}", link), link
    expect(page.locator("#invitations")).to_contain_text(f"hoa.{width}")
    shot(page, "invitation-created")
    no_english(page, ENGLISH_WORDS)

    # The invitee opens the link in their own browser, not logged in, and sets a password.
    invitee = chromium.new_context(viewport=size, base_url=admin_server, locale="vi-VN")
    try:
        phone = invitee.new_page()
        phone.goto(link)
        expect(phone.locator("#invited-name")).to_have_text("Trần Thị Hoa")
        phone.fill("#password", "ngan")
        phone.fill("#password_again", "ngan")
        phone.locator("#password").evaluate("field => field.removeAttribute('minlength')")
        phone.click("#accept-invitation")
        expect(phone.locator("#password-error")).to_contain_text("Mật khẩu cần từ 10")
        shot(phone, "invitation")
        no_english(phone, ENGLISH_WORDS)
        phone.fill("#password", "sen-hong-mua-ha-25")
        phone.fill("#password_again", "sen-hong-mua-ha-25")
        phone.click("#accept-invitation")
        phone.wait_for_url(re.compile(r"/$"))
        expect(phone.locator(".flash-success")).to_contain_text("Chào mừng Trần Thị Hoa")
        phone.goto(link)
        expect(phone.locator("#invitation-refused")).to_contain_text("đã được dùng")
        shot(phone, "invitation-used")
    finally:
        invitee.close()

    page.goto("/admin/invitations")
    expect(page.locator("#invitations")).to_contain_text("Đã nhận lời")
    page.click("#new-invitation")
    page.fill("#username", f"binh.{width}")
    page.fill("#full_name", "Lê Văn Bình")
    page.select_option("#unit", "ST")
    page.click("#create-invitation")
    page.locator("#invitations button", has_text="Thu hồi").first.click()
    expect(page.locator(".flash-success")).to_contain_text("Đã thu hồi lời mời")
    expect(page.locator("#invitations")).to_contain_text("Đã thu hồi")
    shot(page, "invitations")
    no_english(page, ENGLISH_WORDS)
