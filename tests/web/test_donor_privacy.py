"""Donors' contact details and anonymous donors' names in the web pages, by role (issue 17, finding 3)."""

from __future__ import annotations

from datetime import date

import pytest

from fundsvc.auth.service import SYSTEM
from fundsvc.donations.service import record_donation
from fundsvc.extensions import db

PHONE, ADDRESS = "0912777888", "99 Nguyễn Huệ, Phường 2"


@pytest.fixture
def gifts(app, tree):
    donor = {"name": "Trần Văn Kín", "kind": "person", "phone": PHONE, "address": ADDRESS}
    body = {"donor": donor, "unit": "ST-TP-P2", "amount": 500_000, "method": "cash", "received_on": date(2024, 10, 1)}
    hidden, _ = record_donation(db.session, SYSTEM, {**body, "anonymous": True})
    return hidden.donor.id


@pytest.mark.parametrize(
    ("role", "sees"), [("treasurer", True), ("admin", True), ("viewer", False), ("committee", False)]
)
def test_contact_details_and_anonymous_names_by_role(app, gifts, make_user, browser, role, sees):
    web = browser(make_user(f"u-{role}", role, "ST-TP-P2" if role != "admin" else None))
    pages = [web.get("/donors"), web.get(f"/donors/{gifts}"), web.get("/ui/donors?q=Kín"), web.get("/donations")]
    for page in pages[:3]:
        if page.status_code in (302, 403):
            continue  # the role does not see the page at all
        text = page.get_data(as_text=True) if page.mimetype == "text/html" else str(page.json)
        assert (PHONE in text) is sees and (ADDRESS in text) is sees, page.request.path
    listing = pages[3]
    if listing.status_code == 200:
        assert ("Trần Văn Kín" in listing.get_data(as_text=True)) is sees
