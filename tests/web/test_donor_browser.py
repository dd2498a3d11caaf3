"""End-to-end, in headless Chromium at phone (390×844) and desktop (1366×768) size: the donation form asks whose gift
it is when the phone is a donor's of another name, the donors list finds a name typed without diacritics, a donor is
corrected and a duplicate merged. Screenshots go to artifacts/screenshots/donor-*.png; no page scrolls sideways."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest

from tests.web import test_browser
from tests.web.test_browser import (
    PASSWORD,
    SIZES,
    browser_pages,
    full_page_shot,
    record_by_keyboard,
    served,
    sync_api,
)

expect = sync_api.expect
chromium = test_browser.chromium  # the browser fixture the browser test files share
pytestmark = pytest.mark.slow
UNIT = "ST-TP-P2"


@pytest.fixture
def donor_server(sqlite_template, tmp_path):
    """The app on a copy of the template database with a treasurer and two donors, one a duplicate of the other."""
    from fundsvc import create_app
    from fundsvc.auth.service import SYSTEM, create_user
    from fundsvc.donations.service import record_donation
    from fundsvc.extensions import db

    path = tmp_path / "web.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "donor-browser-tests"})
    with app.app_context():
        create_user(db.session, "thuquy.donor", "treasurer", UNIT, password=PASSWORD, full_name="Lâm Thị Mai")
        for name, phone, amount in [
            ("Trần Thị Hồng Nhung", "0912 345 678", 500_000),
            ("Chị Nhung", "0987654321", 200_000),
        ]:
            gift = {"name": name, "kind": "person", "phone": phone, "address": "12 Lê Lợi, Phường 2, TP. Sóc Trăng"}
            record_donation(
                db.session,
                SYSTEM,
                {"donor": gift, "unit": UNIT, "amount": amount, "method": "cash", "received_on": date(2026, 9, 1)},
            )
        db.session.remove()
    yield from served(app)


@pytest.fixture
def open_page(chromium, donor_server):
    with browser_pages(chromium, donor_server, username="thuquy.donor") as make:
        yield make


def shot(page, name: str) -> None:
    full_page_shot(page, name, prefix="donor")


@SIZES
def test_the_form_asks_whose_gift_it_is(open_page, size):
    page = open_page(size)
    record_by_keyboard(page, "Chị Hồng Nhung", "0912345678", "300000")
    page.keyboard.press("Enter")
    question = page.locator("#donor-question")
    expect(question).to_be_visible()
    expect(question).to_contain_text("Trần Thị Hồng Nhung")
    shot(page, "question")
    page.get_by_role("button", name="Ghi cho Trần Thị Hồng Nhung").click()
    page.wait_for_url(re.compile(r"/donations/\d+/receipt$"))
    page.goto("/donors?q=tran+hong")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    shot(page, "search")
    page.get_by_role("link", name="Trần Thị Hồng Nhung").click()
    expect(page.locator("table.list tbody tr")).to_have_count(2)  # the gift went to her


@SIZES
def test_a_donor_is_corrected_and_a_duplicate_merged(open_page, size):
    page = open_page(size)
    page.goto("/donors?q=chi+nhung")
    page.get_by_role("link", name="Chị Nhung").click()
    page.locator("#edit-donor").click()
    page.fill("#phone", "+84 987 654 322")
    shot(page, "edit")
    page.locator("#save-donor").click()
    expect(page.locator(".facts")).to_contain_text("0987654322")
    page.locator("#merge-donor").click()
    expect(page.locator("#merge-candidates")).to_contain_text("Trần Thị Hồng Nhung")
    shot(page, "merge")
    page.get_by_role("button", name="Gộp vào người này").click()
    page.wait_for_url(re.compile(r"/donors/\d+$"))
    expect(page.locator("h1")).to_have_text("Trần Thị Hồng Nhung")
    expect(page.locator("table.list tbody tr")).to_have_count(2)
    shot(page, "merged")
