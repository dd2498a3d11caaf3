"""End-to-end, in headless Chromium at phone (390×844) and desktop (1366×768) size (issue 22): the treasurer filters
the donations list and takes it away as Excel and CSV (the files hold what the page listed), the period's receipts
PDF is linked with the list's dates; the donors, nominations and awards lists have their buttons; the nomination
import speaks one language. Screenshots go to artifacts/screenshots/export-*.png; no page scrolls sideways."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date

import pytest
from openpyxl import load_workbook

from tests.web import test_browser
from tests.web.test_browser import DESKTOP, PASSWORD, PHONE, SCREENSHOTS, login, served, sync_api
from tests.web.test_import_language import ENGLISH_WARNINGS, VIETNAMESE_WARNINGS, school_file

expect = sync_api.expect
chromium = test_browser.chromium  # the browser fixture the browser test files share
pytestmark = pytest.mark.slow
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
GIFTS = [  # (day, donor, amount): two in October, one in November
    (date(2024, 10, 1), "Nguyễn Văn An", 500_000),
    (date(2024, 10, 5), "Trần Thị Bình", 1_000_000),
    (date(2024, 11, 2), "Lê Văn Cường", 2_000_000),
]


@pytest.fixture(scope="module")
def export_server(sqlite_template, tmp_path_factory):
    """The app with a treasurer and a committee member of the province, three gifts and an approved round."""
    from fundsvc import create_app
    from fundsvc.auth.service import SYSTEM, create_user
    from fundsvc.donations.service import record_donation
    from fundsvc.extensions import db
    from tests.ceremony.conftest import make_round

    path = tmp_path_factory.mktemp("exports") / "web.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "export-browser-tests"})
    with app.app_context():
        create_user(db.session, "thuquy.export", "treasurer", "ST", password=PASSWORD, full_name="Lê Thị Quỹ")
        create_user(db.session, "hoidong.export", "committee", "ST", password=PASSWORD, full_name="Trần Văn Hội")
        for day, name, amount in GIFTS:
            gift = {"donor": {"name": name, "kind": "person"}, "unit": "ST-TP-P2", "amount": amount}
            record_donation(db.session, SYSTEM, {**gift, "method": "cash", "received_on": day})
        round_id = make_round(db.session).id
        db.session.commit()
        db.session.remove()
    for url in served(app):
        yield url, round_id


@pytest.fixture
def open_page(chromium, export_server):
    contexts = []

    def make(size, username: str):
        context = chromium.new_context(viewport=size, base_url=export_server[0], locale="vi-VN", accept_downloads=True)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        login(page, username)
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SCREENSHOTS / f"export-{name}-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"


def download(page, name: str) -> tuple[str, bytes]:
    """Click the button named `name`; (the file's suggested name, its bytes)."""
    with page.expect_download() as info:
        page.get_by_role("link", name=name).click()
    file = info.value
    kept = SCREENSHOTS.parent / "exports" / f"{page.viewport_size['width']}-{file.suggested_filename}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    file.save_as(kept)  # kept to look at beside the screenshots
    return file.suggested_filename, kept.read_bytes()


@SIZES
def test_the_treasurer_takes_the_filtered_donations_away(open_page, size):
    page = open_page(size, "thuquy.export")
    page.goto("/donations")
    page.fill("#from", "2024-10-01")
    page.fill("#to", "2024-10-31")
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator("table.list tbody tr")).to_have_count(2)
    shot(page, "donations")
    name, data = download(page, "Tải Excel")
    assert name.startswith("khoan-thu-") and name.endswith(".xlsx")
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "DANH SÁCH KHOẢN THU"
    head = int(ws.freeze_panes[1:]) - 1
    assert "Từ ngày 01/10/2024 đến ngày 31/10/2024" in [ws.cell(r, 1).value for r in range(2, head)]
    rows = list(ws.iter_rows(min_row=head + 1, values_only=True))
    assert [r[3] for r in rows if isinstance(r[0], int)] == ["Trần Thị Bình", "Nguyễn Văn An"]
    assert next(r for r in rows if str(r[3] or "").startswith("TỔNG CỘNG"))[6] == 1_500_000
    name, data = download(page, "Tải CSV")
    assert name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [line[3] for line in lines[1:]] == ["Trần Thị Bình", "Nguyễn Văn An"]
    receipts = page.get_by_role("link", name="In phiếu thu của kỳ (PDF)")
    assert receipts.get_attribute("href") == "/api/v1/receipts.pdf?from=2024-10-01&to=2024-10-31"
    with page.context.expect_page() as opened:
        receipts.click()
    pdf = opened.value
    pdf.wait_for_load_state()
    response = page.request.get("/api/v1/receipts.pdf?from=2024-10-01&to=2024-10-31")
    assert response.ok and response.body().startswith(b"%PDF")


@SIZES
def test_every_list_has_its_buttons(open_page, export_server, size):
    page = open_page(size, "hoidong.export")
    round_id = export_server[1]
    for path, shot_name, stem in (
        ("/donors?q=nguyen", "donors", "nha-hao-tam-"),
        ("/nominations?academic_year=2024-2025", "nominations", "ho-so-de-cu-"),
        (f"/rounds/{round_id}/awards?status=approved", "awards", "suat-hoc-bong-"),
    ):
        page.goto(path)
        expect(page.get_by_role("link", name="Tải Excel")).to_be_visible()
        expect(page.get_by_role("link", name="Tải CSV")).to_be_visible()
        shot(page, shot_name)
        name, data = download(page, "Tải Excel")
        assert name.startswith(stem), name
        listed = page.locator("table.list tbody tr").count()
        ws = load_workbook(io.BytesIO(data)).active
        head = int(ws.freeze_panes[1:]) - 1
        assert sum(isinstance(r[0], int) for r in ws.iter_rows(min_row=head + 1, values_only=True)) == listed


@SIZES
def test_the_import_speaks_one_language(open_page, tmp_path, size):
    page = open_page(size, "hoidong.export")
    upload = tmp_path / "truong.csv"
    upload.write_bytes(school_file(bad=True))
    page.goto("/nominations/import")
    page.set_input_files("#file", str(upload))
    page.fill("#academic_year", "2024-2025")
    page.get_by_role("button", name="Nhập danh sách").click()
    expect(page.locator("#import-errors")).to_contain_text("ngày này không tồn tại")
    body = page.locator("main").inner_text()
    assert "Tệp có 1 dòng lỗi, chưa lưu gì" in body and "dòng tiêu đề là dòng 3" in body
    assert all(w in body for w in VIETNAMESE_WARNINGS) and "expected" not in body and "ignored" not in body
    shot(page, "import-vi")
    page.goto("/nominations/import?lang=en")
    page.set_input_files("#file", str(upload))
    page.fill("#academic_year", "2024-2025")
    page.get_by_role("button", name="Import a list").click()
    expect(page.locator("#import-errors")).to_contain_text("no such day")
    body = page.locator("main").inner_text()
    assert all(w.replace("&#39;", "'") in body for w in ENGLISH_WARNINGS) and "bỏ qua" not in body
    shot(page, "import-en")
