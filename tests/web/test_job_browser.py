"""End-to-end, in headless Chromium: a big document's link leads to its job page, whose progress bar follows
the render and offers the document when done, at phone (390×844) and desktop (1366×768) size. Screenshots go to
artifacts/screenshots/job-*.png; no page may scroll sideways on the phone."""

from __future__ import annotations

import shutil
import threading

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
def job_server(sqlite_template, tmp_path_factory):
    """The app with an approved round of 400 awards (its documents are jobs: the threshold is 20 pupils)."""
    from fundsvc import create_app
    from fundsvc.auth.service import create_user
    from fundsvc.extensions import db
    from tests.ceremony.conftest import make_round
    from tests.jobs.conftest import pupils

    folder = tmp_path_factory.mktemp("jobs-web")
    shutil.copyfile(sqlite_template, folder / "web.sqlite3")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'web.sqlite3'}",
            "SECRET_KEY": "job-browser-tests",
            "JOB_THRESHOLD": 20,
            "DOCUMENTS_CACHE_DIR": str(folder / "documents"),
        }
    )
    with app.app_context():
        create_user(db.session, "hoidong.job", "committee", "ST", password=PASSWORD, full_name="Trần Văn Hội")
        make_round(db.session, pupils(400))
        db.session.remove()
    server = served(app)
    url = next(server)
    yield app, url
    next(server, None)


@pytest.fixture
def open_page(chromium, job_server):
    with browser_pages(chromium, job_server[1], username="hoidong.job", timeout_ms=60_000) as make:
        yield make


def shot(page, name: str) -> None:
    full_page_shot(page, name, prefix="job")


@SIZES
def test_a_big_documents_link_opens_its_job_page_that_follows_the_render(open_page, job_server, size):
    from fundsvc.jobs.worker import run_worker

    app, _ = job_server
    page = open_page(size)
    page.goto("/rounds/1")
    # A different document per size, so that each test sees its own job from the queue to the end.
    name = "Giấy chứng nhận (PDF)" if size == PHONE else "Danh sách ký nhận (PDF)"
    with page.context.expect_page() as opened:  # the documents open in a tab of their own
        page.get_by_role("link", name=name).click()
    page = opened.value
    page.wait_for_url("**/jobs/*")
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("#job-state")).to_have_text("Đang chờ đến lượt dựng")
    expect(page.locator("#job-download")).to_be_hidden()
    expect(page.locator("#job-note")).to_contain_text("trang này tự cập nhật")
    shot(page, "queued")

    worker = threading.Thread(target=run_worker, args=(app, 1), kwargs={"burst": True})
    worker.start()
    try:
        expect(page.locator("#job-state")).to_have_text("Đang dựng tài liệu")
        expect(page.locator("#job-percent")).not_to_have_text("0")  # the bar moves while it renders
        shot(page, "running")
        expect(page.locator("#job-state")).to_have_text("Đã dựng xong", timeout=120_000)
    finally:
        worker.join()
    expect(page.locator("#job-percent")).to_have_text("100")
    expect(page.locator("#job-note")).to_be_hidden()
    link = page.get_by_role("link", name="Mở tài liệu")
    expect(link).to_be_visible()
    shot(page, "done")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
