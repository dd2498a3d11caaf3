"""Role and unit scoping of every spine endpoint: who may read or change what, in which subtree.

One table row per (endpoint, situation) with the status expected for each actor. Where docs/api.md is
silent the table records the decision:

* every role reads units, funds, donations and donors of its own subtree; only admin reads /audit;
* funds are listed when owned by a unit of the subtree or by a unit above it (money collected at a
  commune may go to the provincial fund), but the ledger of a fund owned above the actor's unit only
  holds the entries of the actor's subtree;
* admin alone creates units; admin and treasurers create funds inside their subtree;
* recording for a unit outside the subtree is 403 (the unit was named by the caller); reading or voiding
  a donation or donor of another commune is 404 (its existence is not disclosed);
* committee and viewer never record nor void (403, checked before anything is looked up);
* nothing ever answers 500, and every error has the contract's shape.

Each test runs on its own copy of a database seeded once per module (users, tokens, five donations).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date

import pytest

from fundsvc import create_app
from fundsvc.auth.service import SYSTEM, create_user
from fundsvc.donations.service import record_donation
from fundsvc.extensions import db as _db
from tests.conftest import Api, new_sqlite_database

ACTORS = {  # name → (role, unit)
    "admin": ("admin", None),
    "treasurer_ST": ("treasurer", "ST"),
    "treasurer_P2": ("treasurer", "ST-TP-P2"),
    "treasurer_P5": ("treasurer", "ST-TP-P5"),
    "committee": ("committee", "ST"),
    "viewer": ("viewer", "ST"),
    "viewer_P2": ("viewer", "ST-TP-P2"),
}
ALL_UNITS = {
    "ST",
    "ST-TP",
    "ST-MX",
    "ST-TD",
    "ST-VC",
    "ST-TP-P2",
    "ST-TP-P5",
    "ST-MX-DT",
    "ST-MX-TD",
    "ST-TD-LHT",
    "ST-VC-VH",
}
ALL_FUNDS = {"KH"} | {f"KH-{code}" for code in ALL_UNITS - {"ST"}}

# The seeded donations: name → (unit, fund)
SEED = {
    "p2": ("ST-TP-P2", "KH-ST-TP-P2"),
    "p2_kh": ("ST-TP-P2", "KH"),
    "p5": ("ST-TP-P5", "KH-ST-TP-P5"),
    "p5_kh": ("ST-TP-P5", "KH"),
    "mx": ("ST-MX-DT", "KH-ST-MX"),
}


def gift(unit: str | None = "ST-TP-P2", fund: str | None = None, phone: str = "0912100100") -> dict:
    body = {
        "donor": {"name": "Trần Thị Lan", "kind": "person", "phone": phone},
        "amount": 1_000_000,
        "method": "cash",
        "received_on": "2024-10-01",
        "purpose": "Ủng hộ khuyến học",
    }
    if unit:
        body["unit"] = unit
    if fund:
        body["fund"] = fund
    return body


@dataclass
class Seeded:
    path: object
    tokens: dict[str, str]
    donations: dict[str, int]
    donors: dict[str, int]


@pytest.fixture(scope="module")
def seeded(sqlite_template, tmp_path_factory) -> Seeded:
    """A template database holding one user per actor and the SEED donations (each with its own donor)."""
    directory = tmp_path_factory.mktemp("scoping")
    url = new_sqlite_database(sqlite_template, directory)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test"})
    tokens, donations, donors = {}, {}, {}
    with app.app_context():
        for name, (role, unit) in ACTORS.items():
            tokens[name] = create_user(_db.session, name, role, unit)[1]
        for i, (name, (unit, fund)) in enumerate(SEED.items()):
            data = {**gift(unit, fund, phone=f"09000000{i:02d}"), "received_on": date(2024, 3, 1 + i)}
            donation, _ = record_donation(_db.session, SYSTEM, data)
            donations[name], donors[name] = donation.id, donation.donor_id
        _db.session.remove()
        _db.engine.dispose()
    return Seeded(url.removeprefix("sqlite:///"), tokens, donations, donors)


@pytest.fixture
def database_url(seeded, tmp_path) -> str:
    """Overrides conftest's: every test of this module starts from the seeded database."""
    path = tmp_path / "scoping.sqlite3"
    shutil.copyfile(seeded.path, path)
    return f"sqlite:///{path}"


def api_for(app, seeded: Seeded, actor: str) -> Api:
    return Api(app.test_client(), seeded.tokens[actor])


def expect(default: int, **overrides: int) -> dict[str, int]:
    """The status per actor: `default` for everyone except the named ones."""
    unknown = set(overrides) - set(ACTORS)
    assert not unknown, unknown
    return {actor: overrides.get(actor, default) for actor in ACTORS}


WRITERS_ONLY = dict(committee=403, viewer=403, viewer_P2=403)  # the roles that never change money

NEW_UNIT = {"code": "ST-TP-P9", "name": "Phường 9", "level": "commune", "parent": "ST-TP"}
BRANCH_UNDER_P2 = {"code": "ST-TP-P2-A", "name": "Chi hội ấp A", "level": "branch", "parent": "ST-TP-P2"}

# (id, method, path (formatted with the seeded donation ids as {d_*} and donor ids as {o_*}), body, statuses)
CASES = [
    ("units.list", "GET", "/api/v1/units", None, expect(200)),
    ("units.create", "POST", "/api/v1/units", NEW_UNIT, expect(403, admin=201)),
    ("units.create.inside_own_commune", "POST", "/api/v1/units", BRANCH_UNDER_P2, expect(403, admin=201)),
    (
        "units.create.root",
        "POST",
        "/api/v1/units",
        {"code": "BL", "name": "Tỉnh Bạc Liêu", "level": "province", "parent": None},
        expect(403, admin=201),
    ),
    ("funds.list", "GET", "/api/v1/funds", None, expect(200)),
    (
        "funds.create.P2",
        "POST",
        "/api/v1/funds",
        {"code": "HB-P2", "name": "Quỹ học bổng P2", "unit": "ST-TP-P2"},
        expect(201, treasurer_P5=403, **WRITERS_ONLY),
    ),
    (
        "funds.create.P5",
        "POST",
        "/api/v1/funds",
        {"code": "HB-P5", "name": "Quỹ học bổng P5", "unit": "ST-TP-P5"},
        expect(201, treasurer_P2=403, **WRITERS_ONLY),
    ),
    (
        "funds.create.province",
        "POST",
        "/api/v1/funds",
        {"code": "HB-ST", "name": "Quỹ học bổng tỉnh", "unit": "ST"},
        expect(201, treasurer_P2=403, treasurer_P5=403, **WRITERS_ONLY),
    ),
    ("funds.ledger.P2", "GET", "/api/v1/funds/KH-ST-TP-P2/ledger", None, expect(200, treasurer_P5=404)),
    ("funds.ledger.P5", "GET", "/api/v1/funds/KH-ST-TP-P5/ledger", None, expect(200, treasurer_P2=404, viewer_P2=404)),
    (
        "funds.ledger.other_district",
        "GET",
        "/api/v1/funds/KH-ST-MX/ledger?from=2024-01-01",
        None,
        expect(200, treasurer_P2=404, treasurer_P5=404, viewer_P2=404),
    ),
    ("funds.ledger.province", "GET", "/api/v1/funds/KH/ledger", None, expect(200)),
    ("funds.ledger.unknown", "GET", "/api/v1/funds/NOPE/ledger", None, expect(404)),
    (
        "donations.record.P2",
        "POST",
        "/api/v1/donations",
        gift("ST-TP-P2"),
        expect(201, treasurer_P5=403, **WRITERS_ONLY),
    ),
    (
        "donations.record.P2_to_province_fund",
        "POST",
        "/api/v1/donations",
        gift("ST-TP-P2", "KH"),
        expect(201, treasurer_P5=403, **WRITERS_ONLY),
    ),
    (
        "donations.record.P5",
        "POST",
        "/api/v1/donations",
        gift("ST-TP-P5"),
        expect(201, treasurer_P2=403, **WRITERS_ONLY),
    ),
    (
        "donations.record.district_above_P2",
        "POST",
        "/api/v1/donations",
        gift("ST-TP"),
        expect(201, treasurer_P2=403, treasurer_P5=403, **WRITERS_ONLY),
    ),
    # A fund of another commune is not disclosed: it is "unknown" (422 on the field), like a missing one.
    (
        "donations.record.P2_into_P5_fund",
        "POST",
        "/api/v1/donations",
        gift("ST-TP-P2", "KH-ST-TP-P5"),
        expect(422, treasurer_P5=403, **WRITERS_ONLY),
    ),
    # Without `unit`, the user's own unit; admin has none, so it must name one.
    ("donations.record.default_unit", "POST", "/api/v1/donations", gift(None), expect(201, admin=422, **WRITERS_ONLY)),
    ("donations.list", "GET", "/api/v1/donations", None, expect(200)),
    (
        "donations.list.unit_P5",
        "GET",
        "/api/v1/donations?unit=ST-TP-P5",
        None,
        expect(200, treasurer_P2=403, viewer_P2=403),
    ),
    ("donations.list.unit_P2", "GET", "/api/v1/donations?unit=ST-TP-P2", None, expect(200, treasurer_P5=403)),
    ("donations.get.P2", "GET", "/api/v1/donations/{d_p2}", None, expect(200, treasurer_P5=404)),
    ("donations.get.P5", "GET", "/api/v1/donations/{d_p5}", None, expect(200, treasurer_P2=404, viewer_P2=404)),
    (
        "donations.get.other_district",
        "GET",
        "/api/v1/donations/{d_mx}",
        None,
        expect(200, treasurer_P2=404, treasurer_P5=404, viewer_P2=404),
    ),
    ("donations.get.missing", "GET", "/api/v1/donations/987654", None, expect(404)),
    (
        "donations.void.P2",
        "POST",
        "/api/v1/donations/{d_p2}/void",
        {"reason": "Ghi nhầm"},
        expect(200, treasurer_P5=404, **WRITERS_ONLY),
    ),
    (
        "donations.void.P5",
        "POST",
        "/api/v1/donations/{d_p5}/void",
        {"reason": "Ghi nhầm"},
        expect(200, treasurer_P2=404, **WRITERS_ONLY),
    ),
    (
        "donations.void.missing",
        "POST",
        "/api/v1/donations/987654/void",
        {"reason": "Ghi nhầm"},
        expect(404, **WRITERS_ONLY),
    ),
    ("donors.list", "GET", "/api/v1/donors", None, expect(200)),
    ("donors.get.P2", "GET", "/api/v1/donors/{o_p2}", None, expect(200, treasurer_P5=404)),
    ("donors.get.P5", "GET", "/api/v1/donors/{o_p5}", None, expect(200, treasurer_P2=404, viewer_P2=404)),
    ("donors.get.missing", "GET", "/api/v1/donors/987654", None, expect(404)),
    ("audit.list", "GET", "/api/v1/audit", None, expect(403, admin=200)),
    (
        "audit.list.filtered",
        "GET",
        "/api/v1/audit?entity=donation&action=donation.record",
        None,
        expect(403, admin=200),
    ),
]
CASE_IDS = [case[0] for case in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS)


def url_of(template: str, seeded: Seeded) -> str:
    names = {f"d_{k}": v for k, v in seeded.donations.items()} | {f"o_{k}": v for k, v in seeded.donors.items()}
    return template.format(**names)


def assert_error_shape(response) -> None:
    assert response.is_json, response.data[:200]
    assert set(response.json) == {"code", "status", "message", "errors"}, response.json
    assert response.json["code"] == response.status_code


def reset_database(app, seeded: Seeded) -> None:
    """Back to the seeded state (between actors of a row that changes something)."""
    _db.session.remove()
    _db.engine.dispose()
    shutil.copyfile(seeded.path, app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_scoping_table(app, seeded, case):
    """One row of the table, every actor in turn (each from the seeded state); all mismatches reported at once."""
    _, method, path, body, statuses = case
    url = url_of(path, seeded)
    got = {}
    for actor in ACTORS:
        if method != "GET":
            reset_database(app, seeded)
        response = (
            api_for(app, seeded, actor).get(url) if method == "GET" else api_for(app, seeded, actor).post(url, body)
        )
        got[actor] = response.status_code
        if response.status_code >= 400:
            assert_error_shape(response)
    assert got == statuses, {a: (got[a], statuses[a]) for a in ACTORS if got[a] != statuses[a]}


def subtree_of(actor: str) -> set[str]:
    unit = ACTORS[actor][1]
    if unit in (None, "ST"):
        return ALL_UNITS
    return {code for code in ALL_UNITS if code == unit or code.startswith(unit + "-")}


@pytest.mark.parametrize("actor", list(ACTORS))
def test_lists_hold_only_the_subtree(app, seeded, actor):
    api = api_for(app, seeded, actor)
    subtree = subtree_of(actor)

    units = {u["code"] for u in api.get("/api/v1/units").json}
    assert units == subtree

    funds = {f["code"] for f in api.get("/api/v1/funds").json}
    own = {f"KH-{code}" if code != "ST" else "KH" for code in subtree}
    above = {"KH", "KH-ST-TP"} if subtree != ALL_UNITS else set()
    assert funds == own | above

    donations = api.get("/api/v1/donations?page_size=100").json
    expected = {name for name, (unit, _) in SEED.items() if unit in subtree}
    assert {d["id"] for d in donations} == {seeded.donations[name] for name in expected}
    assert {d["unit"] for d in donations} <= subtree

    donors = {d["id"] for d in api.get("/api/v1/donors?page_size=100").json}
    assert donors == {seeded.donors[name] for name in expected}
    # A search that would match every donor still stays inside the subtree.
    assert {d["id"] for d in api.get("/api/v1/donors?q=Lan&page_size=100").json} == donors


@pytest.mark.parametrize("actor", ["treasurer_P2", "viewer_P2", "treasurer_P5"])
def test_ledger_of_a_fund_above_shows_only_the_subtree(app, seeded, actor):
    """The provincial fund's ledger seen from a commune: only that commune's entries, no one else's donors."""
    api = api_for(app, seeded, actor)
    own = "p2_kh" if "P2" in actor else "p5_kh"
    other = "p5_kh" if own == "p2_kh" else "p2_kh"
    body = api.get("/api/v1/funds/KH/ledger").json
    assert [e["donation_id"] for e in body["entries"]] == [seeded.donations[own]]
    assert body["closing_balance"] == 1_000_000
    admin_view = api_for(app, seeded, "admin").get("/api/v1/funds/KH/ledger").json
    assert {e["donation_id"] for e in admin_view["entries"]} == {seeded.donations[own], seeded.donations[other]}
    # With a period too: the opening balance counts only the subtree's entries.
    later = api.get("/api/v1/funds/KH/ledger?from=2024-03-20").json
    assert later["opening_balance"] == 1_000_000 and later["entries"] == []


def test_voided_elsewhere_stays_hidden(app, seeded):
    """Voiding by the province treasurer does not make a commune's donation visible to the other commune."""
    province = api_for(app, seeded, "treasurer_ST")
    assert province.post(f"/api/v1/donations/{seeded.donations['p5']}/void", {"reason": "Trùng"}).status_code == 200
    p2 = api_for(app, seeded, "treasurer_P2")
    assert p2.get(f"/api/v1/donations/{seeded.donations['p5']}").status_code == 404
    assert seeded.donations["p5"] not in {d["id"] for d in p2.get("/api/v1/donations?status=void").json}
    again = p2.post(f"/api/v1/donations/{seeded.donations['p5']}/void", {"reason": "x"})
    assert again.status_code == 404  # not 409: that would disclose it exists


def test_recorded_by_commune_lands_in_its_own_unit(app, seeded):
    p2 = api_for(app, seeded, "treasurer_P2")
    created = p2.post("/api/v1/donations", gift(None))
    assert created.status_code == 201 and created.json["unit"] == "ST-TP-P2"
    assert created.json["fund"] == "KH-ST-TP-P2"
    p5 = api_for(app, seeded, "treasurer_P5")
    assert p5.get(f"/api/v1/donations/{created.json['id']}").status_code == 404
    assert p5.get(f"/api/v1/donations/{created.json['id']}/void").status_code == 405


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer fs_nope", "Basic YWRtaW46eA==", "Bearer " + "x" * 5000])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/units",
        "/api/v1/funds",
        "/api/v1/donations",
        "/api/v1/donors",
        "/api/v1/audit",
        "/api/v1/funds/KH/ledger",
        "/api/v1/donations/1",
        "/api/v1/donors/1",
    ],
)
def test_no_or_bad_token_is_401(client, path, header):
    response = client.get(path, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert_error_shape(response)
