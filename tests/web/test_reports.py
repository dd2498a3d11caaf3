"""The reports page over fundsvc.reports: the summary rolled up the tree, links to the fund book and statement."""

from __future__ import annotations

import re


def test_reports_page_shows_the_summary_and_links(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    b.get("/donations/new")
    key = re.search(r'name="form_key" value="([^"]+)"', b.get("/donations/new").get_data(as_text=True)).group(1)
    b.post(
        "/donations/new",
        {
            "donor_name": "Lê Văn Tám",
            "amount": "3.000.000",
            "method": "cash",
            "received_on": "2024-10-01",
            "form_key": key,
        },
    )
    page = b.get("/reports?unit=ST-TP-P2&from=2024-01-01&to=2024-12-31&year=2024").get_data(as_text=True)
    assert "Tổng hợp thu chi" in page and "3.000.000" in page and "Phường 2" in page
    assert "/api/v1/reports/fund-book.pdf?from=2024-01-01&amp;to=2024-12-31&amp;unit=ST-TP-P2" in page
    assert "/api/v1/public/statements/ST-TP-P2/2024.pdf" in page
    book = b.get("/api/v1/reports/fund-book.pdf?from=2024-01-01&to=2024-12-31&unit=ST-TP-P2")
    assert book.status_code == 200 and book.mimetype == "application/pdf"
    bad = b.get("/reports?unit=ST-TP-P2&from=2024-12-31&to=2024-01-01")
    assert bad.status_code == 200
