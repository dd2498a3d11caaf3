"""End-to-end: the web UI in a real browser (headless Chromium through Playwright) against a live server.

Skipped when Playwright or /usr/bin/chromium is missing (`make test` installs both). Screenshots of the main
pages, at 1366×768 and at phone size, go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "browser tests need Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (requirements.txt)")

from tests.conftest import SHARED_DATA  # noqa: E402

expect = sync_api.expect

PASSWORD = "khuyenhoc2024"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])  # every page at both sizes
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def live_server(sqlite_template, tmp_path_factory):
    """The app on a migrated copy of the template database, served by werkzeug in a thread."""

    from fundsvc import create_app
    from fundsvc.auth.service import SYSTEM, create_user
    from fundsvc.donations.service import record_donation
    from fundsvc.extensions import db

    path = tmp_path_factory.mktemp("live") / "web.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "browser-tests"})
    with app.app_context():
        for username, role, unit in [
            ("thuquy", "treasurer", "ST-TP-P2"),
            ("thuquy5", "treasurer", "ST-TP-P5"),
            ("thuquy.tinh", "treasurer", "ST"),
            ("hoidong", "committee", "ST"),
        ]:
            create_user(db.session, username, role, unit, password=PASSWORD, full_name=username)
        from datetime import date

        record_donation(
            db.session,
            SYSTEM,
            {  # the worked example's money, recorded first
                "donor": {"name": "Quỹ từ thiện Ánh Dương", "kind": "organization"},
                "unit": "ST",
                "fund": "KH",
                "amount": 50_000_000,
                "method": "bank_transfer",
                "received_on": date(2024, 9, 1),
            },
        )
        record_donation(
            db.session,
            SYSTEM,
            {  # awards are paid in cash: the province's cash box holds some (it never goes below nothing)
                "donor": {"name": "Hội Cựu giáo chức tỉnh", "kind": "organization"},
                "unit": "ST",
                "fund": "KH",
                "amount": 5_000_000,
                "method": "cash",
                "received_on": date(2024, 9, 2),
            },
        )
        db.session.remove()
    yield from served(app)


def served(app):
    """Serve `app` on a free loopback port in a thread: yields its base URL, stops it after."""
    from werkzeug.serving import make_server

    from fundsvc.extensions import db

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, live_server):
    """Factory: new_page(username=None, viewport=DESKTOP) → a page in a fresh browser context, logged in by keyboard."""
    with browser_pages(chromium, live_server) as make:
        yield lambda username=None, viewport=DESKTOP: make(viewport, username)


@contextmanager
def browser_pages(chromium, base_url: str, *, username: str | None = None, timeout_ms: int = 30_000):
    """Factory: make(size, username=…) → a page of a fresh context at that size, logged in when a name is given
    (`username` is the default); dialogs are accepted. Every context is closed at the end."""
    contexts = []

    def make(size, username: str | None = username):
        context = chromium.new_context(viewport=size, base_url=base_url, locale="vi-VN")
        context.set_default_timeout(timeout_ms)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        if username:
            login(page, username)
        return page

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


def full_page_shot(page, name: str, *, prefix: str) -> None:
    """A full-page screenshot named by its prefix, the page and its width; the page must not scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SCREENSHOTS / f"{prefix}-{name}-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"


def no_english(page, words) -> None:
    """None of `words` (of the English catalogue) on the page's main part: a string left out of the Vietnamese page."""
    body = page.locator("main").inner_text()
    for word in words:
        assert not re.search(rf"\b{word}\b", body), word


def login(page, username: str) -> None:
    page.goto("/login")
    focused(page, "username")  # autofocus: the keyboard starts in the username field
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/$"))


def focused(page, element_id: str) -> None:
    """Wait until the element with `element_id` has the keyboard focus."""
    # A locator assertion, not wait_for_function: the pages' CSP forbids the eval its polling uses.
    expect(page.locator(f"#{element_id}")).to_be_focused()


def shoot(page, name: str) -> None:
    """Save a full-page screenshot of the current page at desktop and phone size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def record_by_keyboard(page, name: str, phone: str, amount: str) -> None:
    page.goto("/donations/new")
    focused(page, "donor_name")
    page.keyboard.type(name)
    page.keyboard.press("Escape")  # close the donor suggestions, if any
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "donor_phone"
    page.keyboard.type(phone)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "amount"
    page.keyboard.type(amount)


def test_treasurer_records_a_gift_by_keyboard_and_gets_the_receipt(new_page):
    page = new_page("thuquy")
    shoot(page, "dashboard-treasurer")
    record_by_keyboard(page, "Trần Văn Nam", "0987654321", "2500000")
    expect(page.locator("#amount-words")).not_to_have_text("")
    assert page.input_value("#amount") == "2.500.000"
    assert page.text_content("#amount-words") == "Hai triệu năm trăm nghìn đồng"
    shoot(page, "donation-form")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/donations/\d+/receipt$"))
    assert "Đã ghi khoản thu 2.500.000 đồng" in page.text_content(".flash-success")
    assert page.evaluate("document.activeElement.id") == "print-receipt"
    pdf = page.get_attribute("#print-receipt", "data-pdf")
    status, kind, magic = page.evaluate(
        """async (url) => {
        const r = await fetch(url); const b = new Uint8Array(await r.arrayBuffer());
        return [r.status, r.headers.get('content-type'), String.fromCharCode(...b.slice(0, 4))]; }""",
        pdf,
    )
    assert (status, kind, magic) == (200, "application/pdf", "%PDF")
    shoot(page, "receipt")

    # The same donor and amount again the same day: the form asks first; Enter confirms.
    record_by_keyboard(page, "Trần Văn Nam", "0987654321", "2500000")
    page.keyboard.press("Enter")
    page.wait_for_selector("#duplicate-check:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "duplicate-confirm"
    shoot(page, "donation-duplicate-warning")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/donations/\d+/receipt$"))

    # A known donor is found as you type and picked with the arrow keys.
    page.goto("/donations/new")
    focused(page, "donor_name")
    page.keyboard.type("Trần V")
    page.wait_for_selector("#donor-results li")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "amount"
    assert page.input_value("#donor_phone") == "0987654321" and page.input_value("#donor_id")
    page.keyboard.type("300000")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/donations/\d+/receipt$"))

    page.goto("/donations")
    assert page.locator("table.list tbody tr").count() == 3
    shoot(page, "donations-list")
    page.click("table.list tbody tr:first-child td:nth-child(2) a")
    page.wait_for_url(re.compile(r"/donations/\d+$"))
    shoot(page, "donation-detail")
    page.click("table.list tbody tr:first-child td:nth-child(3) a") if page.locator("table.list").count() else None
    page.goto("/donors")
    page.click("text=Trần Văn Nam")
    shoot(page, "donor")


def test_other_commune_cannot_see_the_first_communes_gifts(new_page):
    first = new_page("thuquy")
    record_by_keyboard(first, "Lâm Thị Hoa", "0911000111", "700000")
    first.keyboard.press("Enter")
    first.wait_for_url(re.compile(r"/donations/\d+/receipt$"))
    detail = first.url.removesuffix("/receipt")
    code = first.text_content("h1").split()[2]
    other = new_page("thuquy5")
    other.goto("/donations")
    assert code not in other.content() and "Lâm Thị Hoa" not in other.content()
    assert other.goto(detail).status == 404
    shoot(other, "not-found")


def test_a_form_posted_without_its_csrf_token_is_refused(new_page):
    page = new_page("thuquy")
    page.goto("/donations/new")
    page.evaluate("document.querySelector('#donation-form input[name=csrf_token]').remove()")
    page.fill("#donor_name", "Không Có Mã")
    page.fill("#amount", "100000")
    with page.expect_navigation() as navigation:
        page.evaluate("document.getElementById('donation-form').submit()")
    assert navigation.value.status == 400
    assert "mã bảo vệ" in page.content()
    assert page.request.post("/logout", form={}).status == 400


def test_committee_imports_allocates_the_worked_example_and_approves(new_page):
    page = new_page("hoidong")
    shoot(page, "dashboard-committee")
    page.goto("/nominations/import")
    page.set_input_files("#file", str(SHARED_DATA / "nominations_sample.csv"))
    page.fill("#academic_year", "2024-2025")
    page.click("button[type=submit].primary")
    page.wait_for_selector(".success-box")
    assert "Đã nhập 120 hồ sơ mới" in page.text_content(".flash-success")
    shoot(page, "nominations-import")
    page.goto("/nominations?academic_year=2024-2025")
    shoot(page, "nominations")

    page.goto("/rounds/new?preset=khuyen_hoc")
    page.fill("#name", "Học bổng Khuyến học 2024–2025")
    page.fill("#academic_year", "2024-2025")
    page.fill("#budget", "40000000")
    page.select_option("#unit", "ST")
    page.select_option("#fund", "KH")
    page.click("details.more summary")
    page.fill("#rules", (SHARED_DATA / "rules_example.json").read_text(encoding="utf-8"))
    expect(page.locator("#rules-status")).not_to_have_text("")
    shoot(page, "round-form")
    page.click("#create-json")
    page.wait_for_url(re.compile(r"/rounds/\d+$"))
    round_url = page.url
    page.click("#allocate")
    page.wait_for_selector("#result-awarded")
    expected = json.loads((SHARED_DATA / "allocation_example_expected.json").read_text())
    rows = page.locator("#result-awarded tbody tr")
    shown = [
        (int(rows.nth(i).locator("td").nth(0).text_content()), rows.nth(i).locator("td").nth(1).text_content())
        for i in range(rows.count())
    ]
    assert shown == [(e["rank"], e["student_code"]) for e in expected["awarded"]]
    shoot(page, "round-allocated")
    page.click('#result-awarded tbody tr:first-child a[href*="/explain/"]')
    page.wait_for_url(re.compile(r"/explain/\d+$"))
    assert "hạng 1 /" in page.text_content("h2")
    shoot(page, "explain")
    page.goto(round_url)
    page.click("#approve")  # the confirm dialog is accepted
    page.wait_for_url(re.compile(r"/awards$"))
    assert page.locator("#awards tbody tr").count() == len(expected["awarded"])
    shoot(page, "awards")
    links = page.locator(".page-head .actions a")
    if links.count():  # the ceremony documents package serves the award list
        href = links.first.get_attribute("href")
        assert "award-list" in href
        status = page.evaluate("async (url) => (await fetch(url)).status", href)
        assert status == 200

    treasurer = new_page("thuquy.tinh")
    treasurer.goto(page.url)
    treasurer.click("#awards tbody tr:first-child a.primary")
    treasurer.wait_for_url(re.compile(r"/awards/\d+$"))
    assert treasurer.evaluate("document.activeElement.id") == "received_by"
    treasurer.keyboard.type("Phụ huynh em Nguyễn")
    treasurer.keyboard.press("Enter")
    treasurer.wait_for_selector("#voucher-frame")
    assert "phiếu chi số PC-ST/" in treasurer.text_content(".flash-success")
    shoot(treasurer, "award-paid")
    treasurer.goto("/reports")
    shoot(treasurer, "reports")
