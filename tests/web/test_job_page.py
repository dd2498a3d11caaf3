"""The web UI's document links to a big book lead to its job page (a logged-in browser, no token)."""

from __future__ import annotations

from datetime import date

from fundsvc.extensions import db
from tests.jobs.conftest import THRESHOLD, job_config
from tests.reports.conftest import give


def test_a_big_books_link_leads_to_its_job_page_in_vietnamese(app, tmp_path, make_user, browser):
    job_config(app, tmp_path)
    for day in range(THRESHOLD + 1):
        give(db.session, "ST-TP-P2", 50_000, on=date(2024, 5, 1 + day % 28))
    page = browser(make_user("thuquy.so", "treasurer", "ST-TP-P2"))
    answer = page.get("/api/v1/reports/cash-book.pdf?unit=ST-TP-P2&from=2024-05-01&to=2024-05-31")
    assert answer.status_code == 303 and answer.headers["Location"] == "/jobs/1"
    html = page.get("/jobs/1").get_data(as_text=True)
    for expected in ("Sổ quỹ tiền mặt (PDF)", "Đang chờ đến lượt dựng", 'max="100" value="0"', 'http-equiv="refresh"'):
        assert expected in html, expected
    # Another commune's treasurer is told there is no such job.
    other = browser(make_user("thuquy.p5", "treasurer", "ST-TP-P5"))
    assert other.get("/jobs/1").status_code == 404
    # Not logged in: to the login page.
    assert browser().get("/jobs/1").status_code == 302
