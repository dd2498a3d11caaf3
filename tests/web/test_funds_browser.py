"""End-to-end, in headless Chromium: the funds and accounts page at phone (390×844) and desktop (1366×768) size on
the demo's year. A provincial treasurer opens it from the menu, reads her funds and accounts, goes down to a district,
picks another day and opens a book; a bad date gets a message. Screenshots go to
artifacts/screenshots/funds-*.png; no page may scroll sideways on the phone, no table is cut off."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.web import test_browser
from tests.web.test_browser import DESKTOP, PASSWORD, PHONE, SCREENSHOTS, login, served, sync_api

expect = sync_api.expect
chromium = test_browser.chromium  # the browser fixture the browser tests share
pytestmark = pytest.mark.slow
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])


@pytest.fixture(scope="module")
def funds_server(sqlite_empty_template, tmp_path_factory):
    """The app on the demo's year (fundsvc/demo/life.py) with a provincial treasurer."""
    from fundsvc import create_app
    from fundsvc.auth.service import create_user
    from fundsvc.demo.load import load_demo
    from fundsvc.extensions import db

    path = tmp_path_factory.mktemp("funds") / "web.sqlite3"
    shutil.copyfile(sqlite_empty_template, path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "funds-browser-tests"})
    with app.app_context():
        load_demo(db.session, donations=120, users=False, life=True)
        create_user(db.session, "thuquy.tinh", "treasurer", "ST", password=PASSWORD, full_name="Lâm Thị Mai")
        db.session.remove()
    yield from served(app)


@pytest.fixture
def open_page(chromium, funds_server):
    contexts = []

    def make(size):
        context = chromium.new_context(viewport=size, base_url=funds_server, locale="vi-VN")
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        login(page, "thuquy.tinh")
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str, *, tables_fit: bool = True) -> None:
    """A full-page screenshot named by the page and its width; the page is not cut off, nor (unless told) any of
    its tables (a table may otherwise scroll in its own box)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SCREENSHOTS / f"funds-{name}-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
    if not tables_fit:
        return
    # Each table fits its box (on a phone its rows become cards): nothing hidden to scroll to.
    hidden = page.evaluate(
        "Array.from(document.querySelectorAll('.table-wrap')).map(w => w.scrollWidth - w.clientWidth)"
    )
    assert all(extra <= 1 for extra in hidden), f"{name}: a table is wider than its box at {width}px: {hidden}"


def balance(row) -> int:
    return int(row.locator(".balance").inner_text().replace(".", "").replace(" đ", ""))


@SIZES
def test_the_funds_page_from_the_menu_down_to_a_district_and_a_book(open_page, size):
    page = open_page(size)
    page.locator("nav").get_by_role("link", name="Quỹ và tài khoản", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Quỹ và tài khoản")
    expect(page.locator("h1")).to_contain_text("Tỉnh Sóc Trăng")
    funds = page.locator("#funds tbody tr")
    expect(funds.first).to_contain_text("KH")
    expect(page.locator("#funds")).to_contain_text("Quỹ Khuyến học")
    # The funds' money is where the accounts and the units below say it is.
    expect(page.locator("#funds-total")).to_have_text(page.locator("#money-total").inner_text())
    assert sum(balance(funds.nth(i)) for i in range(funds.count())) > 0
    expect(page.locator("#accounts")).to_contain_text("Quỹ tiền mặt")
    shot(page, "province")

    district = page.locator("#accounts tr[data-unit='ST-TP']")
    district.get_by_role("link", name="Quỹ và tài khoản").click()
    expect(page.locator("h1")).to_contain_text("Thành phố Sóc Trăng")
    year = page.locator("#on").input_value()[:4]
    page.fill("#on", f"{int(year) - 1}-12-31")
    page.fill("#from", f"{int(year) - 1}-01-01")
    page.get_by_role("button", name="Xem").click()
    expect(page.locator(".hint").first).to_contain_text(f"31/12/{int(year) - 1}")
    expect(page.locator("#funds-total")).to_have_text(page.locator("#money-total").inner_text())
    shot(page, "district-last-year")

    cash = page.locator("#accounts tbody tr").first
    book = cash.get_by_role("link", name="Sổ quỹ tiền mặt (PDF)").get_attribute("href")
    assert f"from={int(year) - 1}-01-01" in book and f"to={int(year) - 1}-12-31" in book
    answer = page.request.get(book)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    fund_book = page.locator("#funds tbody tr").first.get_by_role("link", name="PDF").get_attribute("href")
    assert page.request.get(fund_book).status == 200

    page.goto("/funds?on=31/13/2025")
    expect(page.locator(".flash-error")).to_contain_text("không hợp lệ")
    shot(page, "bad-date")


NAMED = re.compile(r"^.+ (KH|ST)(-[A-Z0-9]+)*$")  # a name, then its code


@SIZES
def test_funds_and_units_by_name_on_the_pages_that_show_them(open_page, size):
    page = open_page(size)
    pages = {
        "dashboard": "/",
        "donations": "/donations",
        "rounds": "/rounds",
        "movements": "/units/ST-TP-P2/movements",
        "reports": "/reports?unit=ST-TP",
    }
    for name, url in pages.items():
        page.goto(url)
        named = page.locator("main .named")
        assert named.count(), name
        for i in range(min(named.count(), 5)):
            assert NAMED.match(named.nth(i).inner_text()), (name, named.nth(i).inner_text())
        shot(page, f"named-{name}", tables_fit=False)
    page.goto("/rounds")
    page.locator("main table a").first.click()
    expect(page.locator("main .named").first).to_be_visible()
    shot(page, "named-round", tables_fit=False)
    page.goto("/donations")
    page.locator("main table a").first.click()
    expect(page.locator("main dd .named")).to_have_count(2)  # its fund and its unit
    shot(page, "named-donation", tables_fit=False)
    page.goto("/units/ST-TP-P2/movements/new?kind=transfer")
    options = page.locator("#to_fund option").all_inner_texts()
    assert options[0] == "Cùng quỹ" and "KH-ST-TP-P2 — Quỹ Khuyến học Phường 2" in options
    assert "KH-ST-TP-P2 — Quỹ Khuyến học Phường 2" in page.locator("#fund option").all_inner_texts()
    shot(page, "named-movement-form", tables_fit=False)
