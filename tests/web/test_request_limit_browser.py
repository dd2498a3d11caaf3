"""In headless Chromium, at phone (390×844) and desktop (1366×768) size: a page past FUNDSVC_REQUEST_TIMEOUT is
stopped and shows the error page, 504, in the reader's language, with the request id to report. The slow page
exists only in this test's app. Screenshots go to artifacts/screenshots/timeout-*.png."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.web import test_browser
from tests.web.test_browser import DESKTOP, PASSWORD, PHONE, SCREENSHOTS, login, served

chromium = test_browser.chromium  # the browser fixture the browser test files share
pytestmark = pytest.mark.slow


def _slow_page() -> str:
    ends = time.monotonic() + 30
    while time.monotonic() < ends:
        time.sleep(0.01)
    return "<p>never</p>"


@pytest.fixture(scope="module")
def slow_server(sqlite_template, tmp_path_factory):
    from fundsvc import create_app
    from fundsvc.auth.service import create_user
    from fundsvc.extensions import db

    folder = tmp_path_factory.mktemp("timeout-web")
    shutil.copyfile(sqlite_template, folder / "web.sqlite3")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'web.sqlite3'}",
            "SECRET_KEY": "timeout-browser-tests",
            "REQUEST_TIMEOUT": 5,  # the machine may be busy: the login page must get through
        }
    )
    app.add_url_rule("/thu-trang-cham", "slow_page", _slow_page)
    with app.app_context():
        create_user(db.session, "thuquy.cham", "treasurer", "ST", password=PASSWORD, full_name="Lê Thị Thu")
        db.session.remove()
    server = served(app)
    yield next(server)
    next(server, None)


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_page_past_its_limit_shows_the_504_page(chromium, slow_server, size):
    context = chromium.new_context(viewport=size, base_url=slow_server, locale="vi-VN")
    context.set_default_timeout(60_000)
    try:
        page = context.new_page()
        login(page, "thuquy.cham")
        started = time.monotonic()
        response = page.goto("/thu-trang-cham")
        assert response.status == 504 and time.monotonic() - started < 20
        assert page.get_by_role("heading", name="Lỗi 504").is_visible()
        assert page.get_by_text("chạy quá thời gian cho phép nên đã bị dừng").is_visible()
        assert page.locator("code").inner_text() == response.headers["x-request-id"]
        assert "request ran past" not in page.content()  # the API's English gloss is not on the page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width = size["width"]
        page.screenshot(path=str(SCREENSHOTS / f"timeout-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    finally:
        context.close()
