"""End-to-end, in headless Chromium at phone (390×844) and desktop (1366×768) size: the pages made for the people
who use them (issue 22). A committee member writes a round's rules in the form (drop-downs re-drawn, rows added,
a bad value named as it is typed) and creates the round. Screenshots go to artifacts/screenshots/people-*.png;
no page may scroll sideways on the phone."""

from __future__ import annotations

import json
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
    served,
    sync_api,
)

expect = sync_api.expect
chromium = test_browser.chromium  # the browser fixture the browser test files share
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def people_server(sqlite_template, tmp_path_factory):
    """The app on a copy of the template database with a committee member, a treasurer and money in fund KH."""

    from fundsvc import create_app
    from fundsvc.auth.service import SYSTEM, create_user
    from fundsvc.donations.service import record_donation
    from fundsvc.extensions import db

    path = tmp_path_factory.mktemp("people") / "web.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "people-browser-tests"})
    with app.app_context():
        create_user(db.session, "hoidong.people", "committee", "ST", password=PASSWORD, full_name="Trần Văn Hội")
        create_user(db.session, "thuquy.people", "treasurer", "ST", password=PASSWORD, full_name="Lê Thị Quỹ")
        for received_on, amount, method in (
            (date(2024, 9, 1), 50_000_000, "bank_transfer"),
            (date(2024, 9, 2), 2_500_000, "cash"),
        ):
            record_donation(
                db.session,
                SYSTEM,
                {
                    "donor": {"name": "Quỹ từ thiện Ánh Dương", "kind": "organization"},
                    "unit": "ST",
                    "fund": "KH",
                    "amount": amount,
                    "method": method,
                    "received_on": received_on,
                },
            )
        db.session.remove()
    for url in served(app):
        yield url, app


@pytest.fixture
def open_page(chromium, people_server):
    with browser_pages(chromium, people_server[0]) as make:
        yield make


def shot(page, name: str) -> None:
    full_page_shot(page, name, prefix="people")


@SIZES
def test_a_committee_writes_the_rules_in_the_form(open_page, people_server, size):
    page = open_page(size, "hoidong.people")
    page.goto("/rounds/new?preset=khuyen_tai")
    shot(page, "round-form")
    first = page.locator("#f-eligibility-parts-0-field")
    expect(first).to_have_value("conduct")
    # A field changed: the row is re-drawn for it (the value becomes the household words, by checkbox for "in").
    first.select_option("household")
    expect(page.locator("#f-eligibility-parts-0-value option[value=poor]")).to_have_text("Hộ nghèo")
    page.select_option("#f-eligibility-parts-0-op", "in")
    expect(page.locator("#f-eligibility-parts-0-op")).to_be_focused()  # the row re-drawn, the focus kept
    page.locator("input[name='eligibility.parts.0.values'][value=poor]").check()
    page.locator("input[name='eligibility.parts.0.values'][value=near_poor]").check()
    # A row added without leaving the page; a bad number named as it is typed, then put right.
    page.get_by_role("button", name="+ Thêm hạn mức").click()
    expect(page.locator("#f-quotas-0-group")).to_have_value("unit")
    page.fill("#f-quotas-0-max_awards", "ba")
    expect(page.locator("#f-quotas-0-max_awards-error")).to_have_text("Cần một số nguyên dương.")
    expect(page.locator("#f-quotas-0-max_awards")).to_have_attribute("aria-invalid", "true")
    shot(page, "round-form-error")
    page.fill("#f-quotas-0-max_awards", "3")
    expect(page.locator("#f-quotas-0-max_awards-error")).to_be_hidden()
    page.fill("#budget", "30000000")
    page.select_option("#fund", "KH")
    page.click("#create-round")
    page.wait_for_url(re.compile(r"/rounds/\d+$"))
    round_id = int(page.url.rsplit("/", 1)[1])

    from fundsvc.allocation.models import Round
    from fundsvc.allocation.rules import PRESETS
    from fundsvc.extensions import db

    with people_server[1].app_context():
        rules = db.session.get(Round, round_id).rules
    expected = json.loads(json.dumps(PRESETS["khuyen_tai"]))
    expected["eligibility"]["all"][0] = {"field": "household", "op": "in", "value": ["poor", "near_poor"]}
    expected["quotas"] = [{"group": "unit", "max_awards": 3}]
    assert rules == expected
    page.locator("details.rules summary").first.click()
    expect(page.locator("details.rules")).to_contain_text("Hoàn cảnh gia đình là Hộ nghèo hoặc Hộ cận nghèo")
    shot(page, "round-created")


def first_donation_id(people_server) -> int:
    from sqlalchemy import select

    from fundsvc.donations.models import Donation
    from fundsvc.extensions import db

    with people_server[1].app_context():
        return db.session.scalars(select(Donation.id).order_by(Donation.id)).first()


@SIZES
def test_the_receipt_on_a_phone_is_a_file_to_open_not_a_frame(open_page, people_server, size):
    page = open_page(size, "thuquy.people")
    page.goto(f"/donations/{first_donation_id(people_server)}/receipt")
    phone = size == PHONE
    expected = {"#download-receipt": phone, "#receipt-frame": not phone, "#print-receipt": not phone}
    for selector, visible in expected.items():
        assert page.locator(selector).is_visible() is visible, selector
    href = page.get_attribute("#download-receipt", "href")
    assert page.evaluate("async (url) => (await fetch(url)).headers.get('content-type')", href) == "application/pdf"
    shot(page, "receipt")


@SIZES
def test_a_red_button_stays_readable_under_the_pointer(open_page, people_server, size):
    page = open_page(size, "thuquy.people")
    page.goto(f"/donations/{first_donation_id(people_server)}")
    button = page.locator("button.danger")
    button.hover()
    colours = button.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
    assert colours[0] == "rgb(255, 255, 255)" and colours[1] == "rgb(140, 29, 23)", colours
    shot(page, "donation-hover")


@SIZES
def test_the_donors_and_report_tables_scroll_inside_their_box_on_a_phone(open_page, people_server, size):
    page = open_page(size, "thuquy.people")
    for path, name in (("/donors", "donors"), ("/reports", "reports")):
        page.goto(path)
        for table in page.locator("main table").all():
            assert table.evaluate("t => getComputedStyle(t.parentElement).overflowX") == "auto"
        shot(page, name)  # the page itself never scrolls sideways
