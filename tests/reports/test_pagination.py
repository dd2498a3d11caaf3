"""Lists at size, on both databases: every page of a paginated list put together is the unpaginated truth, and the
totals the database computes for a list are those of its rows.

The data set is the province data set of `demo load --scale province` at a small size (its gifts, with voids, and a
round allocated and approved), walked page by page through the API: the fund's ledger by its `next` links (keyset),
the round's awards and the gifts by `page`, the web donations list's count and total.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from fundsvc.allocation.models import Award, Round
from fundsvc.allocation.schemas import AwardOut
from fundsvc.allocation.service import awards_query
from fundsvc.auth.service import SYSTEM, create_user
from fundsvc.db.pages import page_rows
from fundsvc.demo import province
from fundsvc.donations.models import Donation
from fundsvc.donations.schemas import DonationOut
from fundsvc.donations.service import donations_query, list_totals
from fundsvc.extensions import db
from fundsvc.ledger.models import Fund, LedgerEntry
from fundsvc.ledger.schemas import LedgerOut
from fundsvc.ledger.service import StatementLine
from fundsvc.privacy import donation_seen_by
from tests.conftest import Api
from tests.reports.test_reports_agree import _in_app


@pytest.fixture(params=["sqlite", "postgresql"])
def province_app(request, sqlite_template, tmp_path, monkeypatch):
    from tests.conftest import new_pg_database, new_sqlite_database

    monkeypatch.setattr(province, "DONORS", 150)
    monkeypatch.setattr(province, "VOIDED", 0.05)
    if request.param == "sqlite":
        url = new_sqlite_database(sqlite_template, tmp_path)
    else:
        url = new_pg_database(request.getfixturevalue("pg_server"))
    app = _in_app(url)
    with app.app_context():
        province.load_province(db.session, gifts=700, nominations=400, seed=11)
        _user, token = create_user(db.session, "admin-pages", "admin", None)
        yield app, Api(app.test_client(), token)
        db.session.remove()
        db.engine.dispose()


def _walk_ledger(api: Api, url: str) -> tuple[list[dict], list[dict]]:
    """Every page of a ledger from `url` by its `next` links: (the pages' bodies, their entries in order)."""
    bodies, entries = [], []
    while url:
        body = api.get(url).get_json()
        bodies.append(body)
        entries += body["entries"]
        url = body["next"]
    return bodies, entries


def test_the_ledger_in_pages_is_the_whole_ledger(province_app):
    _app, api = province_app
    fund = db.session.scalar(select(Fund).where(Fund.code == "KH-ST-TP-P2"))
    whole = api.get("/api/v1/funds/KH-ST-TP-P2/ledger?limit=5000").get_json()
    assert whole["next"] is None and whole["entry_count"] == len(whole["entries"]) > 100
    bodies, entries = _walk_ledger(api, "/api/v1/funds/KH-ST-TP-P2/ledger?limit=37")
    assert len(bodies) == -(-whole["entry_count"] // 37)
    assert entries == whole["entries"]
    truth = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.amount)
        .where(LedgerEntry.fund_id == fund.id)
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    ).all()
    assert [e["id"] for e in entries] == [row.id for row in truth]
    running = 0
    for entry, row in zip(entries, truth, strict=True):
        running += row.amount
        assert entry["running_balance"] == running
    for body in bodies:  # the period's figures on every page, whatever the page
        assert body["closing_balance"] == running == body["total_in"] - body["total_out"]
        assert body["total_in"] == sum(row.amount for row in truth if row.amount > 0)
    # A period: its opening balance, and pages that stay inside it.
    dates = sorted({e["date"] for e in entries})
    start, end = dates[len(dates) // 3], dates[2 * len(dates) // 3]
    inside = [e for e in entries if start <= e["date"] <= end]
    bodies, paged = _walk_ledger(api, f"/api/v1/funds/KH-ST-TP-P2/ledger?from={start}&to={end}&limit=50")
    assert paged == inside and bodies[0]["entry_count"] == len(inside)
    assert bodies[0]["opening_balance"] == sum(e["amount"] for e in entries if e["date"] < start)
    assert bodies[-1]["closing_balance"] == inside[-1]["running_balance"]


@pytest.mark.parametrize("cursor", ["yesterday", "2024-01-01", "2024-01-01.x", "2024-13-01.5", "2024-01-01.0"])
def test_a_bad_cursor_is_a_422(province_app, cursor):
    _app, api = province_app
    response = api.get(f"/api/v1/funds/KH/ledger?after={cursor}")
    assert response.status_code == 422 and "after" in json.dumps(response.get_json())


def test_the_awards_in_pages_are_all_the_awards(province_app):
    _app, api = province_app
    round_id = db.session.scalar(select(Round.id))
    truth = db.session.scalars(select(Award.id).where(Award.round_id == round_id).order_by(Award.rank, Award.id)).all()
    assert len(truth) > 30
    first = api.get(f"/api/v1/rounds/{round_id}/awards")  # an existing client: the whole round on one page
    assert [a["id"] for a in first.get_json()] == truth
    paged, page = [], 1
    while True:
        response = api.get(f"/api/v1/rounds/{round_id}/awards?page={page}&page_size=13")
        header = json.loads(response.headers["X-Pagination"])
        assert header["total"] == len(truth)
        paged += [a["id"] for a in response.get_json()]
        if "next_page" not in header:
            break
        page = header["next_page"]
    assert paged == truth


def test_the_gifts_in_pages_and_their_totals(province_app):
    _app, api = province_app
    truth = db.session.scalars(select(Donation.id).order_by(Donation.received_on.desc(), Donation.id.desc())).all()
    paged = []
    for page in range(1, -(-len(truth) // 100) + 1):
        response = api.get(f"/api/v1/donations?page={page}&page_size=100")
        assert json.loads(response.headers["X-Pagination"])["total"] == len(truth)
        paged += [d["id"] for d in response.get_json()]
    assert paged == truth
    for search in (None, "Nguyễn", "ST-TP-P2"):
        query = donations_query(db.session, SYSTEM, search=search)
        rows = db.session.scalars(query).unique().all()
        assert list_totals(db.session, query) == (
            len(rows),
            sum(d.amount for d in rows if d.status == "recorded"),
        )
    recorded = db.session.scalar(select(func.sum(Donation.amount)).where(Donation.status == "recorded"))
    assert list_totals(db.session, donations_query(db.session, SYSTEM))[1] == recorded


def _dumped(app, schema, value):
    """The reference answer: `value` dumped by its response schema and written by the app's JSON provider."""
    return json.loads(app.json.dumps(schema.dump(value)))


def test_the_lists_answer_what_their_schemas_dump(province_app):
    """Each hot list's page, written from plain rows, is what its schema dumps of the ORM objects it was read from
    (the readable path: entities with their relations loaded), for a role that sees donors' contact details and
    for one that does not."""
    app, api = province_app
    round_id = db.session.scalar(select(Round.id))
    page = api.get(f"/api/v1/rounds/{round_id}/awards?page=2&page_size=17").get_json()
    awards = page_rows(db.session, awards_query(db.session, SYSTEM, round_id), 17, 17)
    assert page == _dumped(app, AwardOut(many=True), awards) and len(page) == 17

    _user, token = create_user(db.session, "viewer-pages", "viewer", None)
    gifts = page_rows(db.session, donations_query(db.session, SYSTEM), 100, 50)
    for role, reader in (("admin", api), ("viewer", Api(app.test_client(), token))):
        page = reader.get("/api/v1/donations?page=3&page_size=50").get_json()
        assert page == _dumped(app, DonationOut(many=True), [donation_seen_by(role, gift) for gift in gifts])
        assert all(("phone" in gift["donor"]) == (role == "admin") for gift in page)

    fund = db.session.scalar(select(Fund).where(Fund.code == "KH-ST-TP-P2"))
    body = api.get("/api/v1/funds/KH-ST-TP-P2/ledger?limit=40").get_json()
    entries = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.fund_id == fund.id).order_by(LedgerEntry.entry_date, LedgerEntry.id)
    ).all()
    running, lines = 0, []
    for entry in entries[:40]:
        running += entry.amount
        lines.append(StatementLine(entry, running))
    assert body["entries"] == _dumped(app, LedgerOut(), {"entries": lines})["entries"]
