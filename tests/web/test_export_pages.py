"""The lists' "Tải Excel" / "Tải CSV" buttons carry the filters the page applied (as the page read them), the
download through the login session holds the rows the page lists, and the donations list links the period's
receipts PDF for its unit and dates (issue 22)."""

from __future__ import annotations

import csv
import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from tests.web.test_pages import record


@pytest.fixture
def treasurer(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    return browser("thuquy")


def buttons(page: str) -> dict[str, str]:
    """The export buttons of a page: format → URL."""
    return {ext: html.unescape(href) for href, ext in re.findall(r'href="([^"]+)" data-export="(\w+)"', page)}


def test_the_buttons_carry_the_filters_the_list_applied(treasurer):
    for day, name, phone in (
        ("2024-10-01", "Nguyễn Thị Lan", "0912345678"),
        ("2024-11-05", "Lê Văn Hai", "0913111222"),
    ):
        assert record(treasurer, received_on=day, donor_name=name, donor_phone=phone).status_code == 302
    # A bad status and a bad date are ignored by the list, and so by its export: the buttons carry what was applied.
    page = treasurer.get("/donations?from=2024-10-01&to=31/10/2024&status=bogus&q=lan&page=2").get_data(as_text=True)
    links = buttons(page)
    assert set(links) == {"xlsx", "csv"}
    url = urlsplit(links["xlsx"])
    assert url.path == "/api/v1/donations/export.xlsx"
    assert parse_qs(url.query) == {"from": ["2024-10-01"], "to": ["2024-10-31"], "q": ["lan"]}
    ws = load_workbook(io.BytesIO(treasurer.get(links["xlsx"]).data)).active
    head = int(ws.freeze_panes[1:]) - 1
    names = [r[3] for r in ws.iter_rows(min_row=head + 1, values_only=True) if isinstance(r[0], int)]
    assert names == ["Nguyễn Thị Lan"]
    text = treasurer.get(links["csv"]).data.decode("utf-8-sig")
    assert [r[3] for r in list(csv.reader(io.StringIO(text)))[1:]] == ["Nguyễn Thị Lan"]
    # The period's receipts, for the list's unit and dates.
    receipts = html.unescape(re.search(r'id="receipts-pdf" href="([^"]+)"', page).group(1))
    assert urlsplit(receipts).path == "/api/v1/receipts.pdf"
    assert parse_qs(urlsplit(receipts).query) == {"from": ["2024-10-01"], "to": ["2024-10-31"]}
    pdf = treasurer.get(receipts)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_every_list_has_its_buttons(app, treasurer, make_user, browser):
    record(treasurer)
    make_user("xem", "viewer", "ST-TP")
    viewer = browser("xem")
    page = viewer.get("/donations?unit=ST-TP-P2").get_data(as_text=True)
    assert parse_qs(urlsplit(buttons(page)["csv"]).query) == {"unit": ["ST-TP-P2"]}
    assert 'id="receipts-pdf"' not in page  # the receipts archive is the treasurer's
    donors = buttons(viewer.get("/donors?q=nguyen").get_data(as_text=True))
    assert donors["xlsx"] == "/api/v1/donors/export.xlsx?q=nguyen"
    assert viewer.get(donors["xlsx"]).status_code == 200
    nominations = buttons(viewer.get("/nominations?academic_year=2024-2025&status=active").get_data(as_text=True))
    assert parse_qs(urlsplit(nominations["csv"]).query) == {"academic_year": ["2024-2025"], "status": ["active"]}
    assert viewer.get(nominations["csv"]).status_code == 200
    assert buttons(viewer.get("/nominations?academic_year=").get_data(as_text=True))["xlsx"] == (
        "/api/v1/nominations/export.xlsx"
    )


def test_no_receipts_link_on_an_empty_list(treasurer):
    assert 'id="receipts-pdf"' not in treasurer.get("/donations").get_data(as_text=True)


def test_a_big_export_from_the_page_leads_to_its_job(app, treasurer, tmp_path):
    from tests.jobs.conftest import THRESHOLD, job_config

    job_config(app, tmp_path)
    for i in range(THRESHOLD + 1):
        assert record(treasurer, donor_name=f"Nhà hảo tâm {i}", donor_phone=f"09130000{i:02d}").status_code == 302
    link = buttons(treasurer.get("/donations").get_data(as_text=True))["xlsx"]
    answer = treasurer.get(link)
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/jobs/")
    page = treasurer.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Danh sách khoản thu (Excel)" in page
