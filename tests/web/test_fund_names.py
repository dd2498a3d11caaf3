"""Funds and units by name with their code beside them (the `named` filter), wherever the web UI shows one."""

from __future__ import annotations

import re
from datetime import date

import pytest
from markupsafe import Markup
from sqlalchemy import select

from fundsvc.allocation.models import Round
from fundsvc.auth.service import SYSTEM
from fundsvc.db import write_transaction
from fundsvc.donations.service import record_donation
from fundsvc.extensions import db
from fundsvc.ledger.models import Fund
from fundsvc.units.models import Unit
from fundsvc.web.filters import named

UNIT, FUND = "ST-TP-P2", "KH-ST-TP-P2"


class Record:
    def __init__(self, code, name):
        self.code, self.name = code, name


def test_named_puts_the_name_first_and_the_code_beside_it():
    fund = Record("HB-NGHEO", "Quỹ học bổng học sinh nghèo")
    assert named(fund) == Markup(
        '<span class="named">Quỹ học bổng học sinh nghèo <span class="code">HB-NGHEO</span></span>'
    )
    assert named(fund, plain=True) == "HB-NGHEO — Quỹ học bổng học sinh nghèo"
    assert named({"code": "ST", "name": "Tỉnh Sóc Trăng"}, plain=True) == "ST — Tỉnh Sóc Trăng"
    assert named(Record("KH", "")) == "KH" == named(Record("KH", "KH"))
    assert named(None) == ""
    # A name is text, never markup.
    assert named(Record("X", "<b>Quỹ</b>")) == Markup(
        '<span class="named">&lt;b&gt;Quỹ&lt;/b&gt; <span class="code">X</span></span>'
    )


@pytest.fixture
def pages(app, tree, make_user, browser):
    """A treasurer of the ward with one gift to its fund and one round of it."""
    make_user("thuquy", "treasurer", UNIT)
    donation, _ = record_donation(
        db.session,
        SYSTEM,
        {
            "donor": {"name": "Lê Văn Tám", "kind": "person"},
            "unit": UNIT,
            "amount": 2_000_000,
            "method": "cash",
            "received_on": date(2024, 10, 1),
        },
    )
    with write_transaction(db.session):
        fund = db.session.scalar(select(Fund).where(Fund.code == FUND))
        round_ = Round(
            name="Học bổng 2024–2025",
            academic_year="2024-2025",
            fund_id=fund.id,
            unit_id=fund.unit_id,
            budget=1_000_000,
            rules={},
            rules_hash="x",
            status="draft",
        )
        db.session.add(round_)
    unit_name = db.session.scalar(select(Unit.name).where(Unit.code == UNIT))
    return {
        "browser": browser("thuquy"),
        "donation": donation.id,
        "donor": donation.donor_id,
        "round": round_.id,
        "fund": f'<span class="named">{fund.name} <span class="code">{FUND}</span></span>',
        "fund_option": f"{FUND} — {fund.name}",
        "unit": f'<span class="named">{unit_name} <span class="code">{UNIT}</span></span>',
        "unit_option": f"{UNIT} — {unit_name}",
    }


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("/donations", ["unit", "unit_option", "fund_option"]),
        ("/donations/{donation}", ["unit", "fund"]),
        ("/donors/{donor}", ["fund"]),
        ("/rounds", ["unit", "fund"]),
        ("/rounds/{round}", ["unit", "fund"]),
        ("/donations/new", ["unit_option", "fund_option"]),
        (f"/units/{UNIT}/movements/new", ["fund_option"]),
        ("/", ["fund"]),
        (f"/reports?unit={UNIT}&from=2024-01-01&to=2024-12-31", ["unit", "fund", "unit_option"]),
    ],
)
def test_pages_name_funds_and_units(pages, url, shown):
    response = pages["browser"].get(url.format(**pages))
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    for what in shown:
        assert pages[what] in html, (url, what)
    # Never a bare code in a cell or a fact.
    assert not re.search(rf"<(td|dd)>({FUND}|{UNIT})</(td|dd)>", html), url


def test_the_api_lists_funds_with_their_names(app, tree, make_api):
    listed = make_api(app, "treasurer", UNIT).get("/api/v1/funds").get_json()
    by_code = {fund["code"]: fund for fund in listed}
    names = dict(db.session.execute(select(Fund.code, Fund.name)).all())
    assert FUND in by_code and "KH" in by_code  # its own, and the province's above it
    assert all(fund["name"] == names[fund["code"]] and fund["name"] for fund in listed)
