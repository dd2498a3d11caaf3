"""End-to-end, in headless Chromium at phone (390×844) and desktop (1366×768) size: a committee member opens a pupil's
nomination from the round, corrects it (a mark the import would refuse is named beside its field), and withdraws an
awarded pupil, whose award goes to the waiting list. Screenshots go to artifacts/screenshots/nomination-*.png; no
page scrolls sideways."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from tests.conftest import SHARED_DATA, WORKED_EXAMPLE_GIFT
from tests.web import test_browser
from tests.web.test_browser import DESKTOP, PASSWORD, PHONE, SCREENSHOTS, login, served, sync_api

expect = sync_api.expect
chromium = test_browser.chromium  # the browser fixture the browser test files share
pytestmark = pytest.mark.slow
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])


@pytest.fixture
def approved_server(sqlite_template, tmp_path):
    """The app on a copy of the template database holding the worked example, allocated and approved, and a
    committee member of the province: (base URL, round id, the allocation)."""
    from fundsvc import create_app
    from fundsvc.allocation import service as rounds
    from fundsvc.auth.service import SYSTEM, create_user
    from fundsvc.donations.service import record_donation
    from fundsvc.extensions import db
    from fundsvc.students.service import import_nominations

    path = tmp_path / "web.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "nomination-browser-tests"})
    with app.app_context():
        create_user(db.session, "hoidong.hs", "committee", "ST", password=PASSWORD, full_name="Lâm Thị Mai")
        gift = {**WORKED_EXAMPLE_GIFT, "amount": 50_000_000, "received_on": date(2024, 9, 1)}
        record_donation(db.session, SYSTEM, gift)
        sample = (SHARED_DATA / "nominations_sample.csv").read_bytes()
        import_nominations(db.session, SYSTEM, sample, "nominations_sample.csv", "2024-2025")
        rules = json.loads((SHARED_DATA / "rules_example.json").read_text())
        round_data = {"name": "Học bổng Khuyến học 2024–2025", "academic_year": "2024-2025", "fund": "KH"}
        round_ = rounds.create_round(
            db.session, SYSTEM, {**round_data, "unit": "ST", "budget": 40_000_000, "rules": rules}
        )
        round_id = round_.id
        allocation = rounds.allocate(db.session, SYSTEM, round_id)
        rounds.approve(db.session, SYSTEM, round_id)
        db.session.remove()
    for url in served(app):
        yield url, round_id, allocation


@pytest.fixture
def open_page(chromium, approved_server):
    contexts = []

    def make(size):
        context = chromium.new_context(viewport=size, base_url=approved_server[0], locale="vi-VN")
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        login(page, "hoidong.hs")
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SCREENSHOTS / f"nomination-{name}-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"


@SIZES
def test_a_pupil_opened_from_the_round_is_corrected(open_page, approved_server, size):
    _url, round_id, allocation = approved_server
    waiting = allocation["waitlisted"][0]["nomination_id"]
    page = open_page(size)
    page.goto(f"/rounds/{round_id}?tab=waitlisted")
    page.locator(f'a[href="/nominations/{waiting}"]').click()
    expect(page.locator("#standings")).to_contain_text("Danh sách chờ")
    expect(page.locator("#standings")).to_contain_text("Xếp hạng")
    shot(page, "detail-waitlisted")

    page.locator("#edit-nomination").click()
    page.fill("#gpa", "8,55")
    page.fill("#guardian", "Bà ngoại Lâm Thị Hoa")
    page.locator("#save-nomination").click()
    expect(page.locator("#gpa-error")).to_contain_text("quá một chữ số thập phân")
    expect(page.locator("#gpa")).to_have_attribute("aria-invalid", "true")
    shot(page, "edit-refused")

    page.fill("#gpa", "8,5")
    page.locator("#save-nomination").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu thay đổi của hồ sơ")
    expect(page.locator("#history")).to_contain_text("Bà ngoại Lâm Thị Hoa")
    expect(page.locator("#school-h + dl")).to_contain_text("8,5")
    # The round's decision stays as made; the explanation on the new mark is said to be one.
    expect(page.locator("#standings")).to_contain_text("Danh sách chờ")
    expect(page.locator("#standings .explanation")).to_contain_text("Hồ sơ đã thay đổi sau lần phân bổ này")
    shot(page, "detail-corrected")


@SIZES
def test_an_awarded_pupil_is_withdrawn_and_the_waiting_list_moves_up(open_page, approved_server, size):
    _url, _round_id, allocation = approved_server
    awarded = allocation["awarded"][0]["nomination_id"]
    page = open_page(size)
    page.goto(f"/nominations/{awarded}")
    expect(page.locator("#standings")).to_contain_text("Được nhận")
    expect(page.locator("#frozen-notice")).to_contain_text("không sửa được")
    expect(page.locator("#nomination-awards")).to_contain_text("Chờ chi")
    shot(page, "detail-awarded")

    page.fill("#reason", "Gia đình chuyển vào TP. Hồ Chí Minh")
    page.check("#confirm")
    page.locator("#withdraw-button").click()
    expect(page.locator(".flash-success")).to_contain_text("được nhận thay")
    expect(page.locator("#nomination-status")).to_have_text("Đã rút")
    expect(page.locator("#withdrawn-notice")).to_contain_text("Gia đình chuyển vào TP. Hồ Chí Minh")
    expect(page.locator("#nomination-awards")).to_contain_text("Đã hủy")
    expect(page.locator("#history")).to_contain_text("Hồ sơ đề cử: rút")
    expect(page.locator("#history")).to_contain_text("Đang xét")  # statuses in words, before and after
    expect(page.locator("#history")).to_contain_text("Chờ chi")
    shot(page, "withdrawn")
