"""The CLI (`flask users create`, `flask demo load`), hashed tokens, and the audit trail behind GET /api/v1/audit."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundsvc.audit.models import AuditEvent
from fundsvc.auth.models import ApiToken, User
from fundsvc.documents.words import today_in_vietnam
from fundsvc.donations.models import Donation
from fundsvc.extensions import db as _db
from fundsvc.ledger.models import LedgerEntry
from fundsvc.units.models import Unit
from tests.conftest import Api

GIFT = {
    "donor": {"name": "Lâm Thị Mai", "kind": "person", "phone": "0912345678"},
    "unit": "ST-TP-P2",
    "amount": 2_000_000,
    "method": "cash",
    "received_on": "2024-10-01",
    "purpose": "Khuyến học",
}


def create_user_cli(runner, *args: str):
    return runner.invoke(args=["users", "create", *args])


def token_of(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


# ----------------------------------------------------------------------------------------------- users create


def test_users_create_prints_a_working_token_last(app, runner):
    result = create_user_cli(runner, "thuquy.p2", "--role", "treasurer", "--unit", "ST-TP-P2")
    token = token_of(result)
    assert token.startswith("fs_") and " " not in token
    assert len(result.output.strip().splitlines()) >= 1
    api = Api(app.test_client(), token)
    units = api.get("/api/v1/units")
    assert units.status_code == 200 and [u["code"] for u in units.json] == ["ST-TP-P2"]
    assert api.post("/api/v1/donations", GIFT).status_code == 201
    assert api.post("/api/v1/donations", {**GIFT, "unit": "ST-TP-P5"}).status_code == 403


def test_users_create_without_unit_acts_everywhere(app, runner):
    token = token_of(create_user_cli(runner, "xem.tinh", "--role", "viewer"))
    api = Api(app.test_client(), token)
    assert len(api.get("/api/v1/units").json) == 11
    assert api.post("/api/v1/donations", GIFT).status_code == 403  # still read-only


def test_users_create_on_an_empty_database(empty_app):
    runner = empty_app.test_cli_runner()
    token = token_of(create_user_cli(runner, "admin", "--role", "admin"))
    api = Api(empty_app.test_client(), token)
    assert api.get("/api/v1/units").json == []
    assert api.get("/api/v1/funds").json == []
    # The first admin builds the tree from nothing.
    created = api.post(
        "/api/v1/units", {"code": "ST", "name": "Tỉnh Sóc Trăng", "level": "province", "books_opened_on": "2024-01-01"}
    )
    assert created.status_code == 201, created.json
    assert api.post("/api/v1/funds", {"code": "KH", "name": "Quỹ Khuyến học", "unit": "ST"}).status_code == 201
    gift = {**GIFT, "unit": "ST"}
    assert api.post("/api/v1/donations", gift).status_code == 201


@pytest.mark.parametrize("fixture", ["app", "empty_app"])
def test_users_create_with_unknown_unit_is_a_clean_error(request, fixture):
    the_app = request.getfixturevalue(fixture)
    result = create_user_cli(the_app.test_cli_runner(), "ghost", "--role", "treasurer", "--unit", "NOPE")
    assert result.exit_code != 0
    assert "NOPE" in result.output and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # click's error exit, not a crash
    assert _db.session.scalar(select(User).where(User.username == "ghost")) is None
    assert count(ApiToken) == 0


@pytest.mark.parametrize(
    "args, text",
    [
        (["bad", "--role", "superuser"], "superuser"),
        (["--role", "admin"], "USERNAME"),
        (["bad"], "--role"),
    ],
)
def test_users_create_bad_arguments(runner, args, text):
    result = create_user_cli(runner, *args)
    assert result.exit_code == 2 and text in result.output
    assert count(User) == 0


def test_users_create_twice_is_a_clean_error(runner):
    token_of(create_user_cli(runner, "lan", "--role", "committee", "--unit", "ST"))
    again = create_user_cli(runner, "lan", "--role", "viewer")
    assert again.exit_code == 1 and "already exists" in again.output and "Traceback" not in again.output
    assert count(User) == 1


def test_tokens_are_stored_hashed(app, runner):
    token = token_of(create_user_cli(runner, "bao", "--role", "admin"))
    second = token_of(runner.invoke(args=["users", "token", "bao"]))
    assert second != token
    stored = list(_db.session.scalars(select(ApiToken.token_hash)))
    assert sorted(stored) == sorted(hashlib.sha256(t.encode()).hexdigest() for t in (token, second))
    # No column of any row of any table holds the token (nor its secret part after the stored prefix).
    with _db.engine.connect() as conn:
        for table in _db.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for value in row:
                    text = str(value)
                    for t in (token, second):
                        assert t not in text and t[10:] not in text, (table.name, value)
    assert Api(app.test_client(), second).get("/api/v1/units").status_code == 200
    assert Api(app.test_client(), token + "x").get("/api/v1/units").status_code == 401


# ----------------------------------------------------------------------------------------------- audit trail


def events(**where) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return list(_db.session.scalars(query))


def test_every_state_change_is_audited(app, runner, make_api):
    before = count(AuditEvent)
    token_of(create_user_cli(runner, "quantri", "--role", "admin"))
    (user_event,) = events(action="user.create", entity="user")[-1:]
    assert user_event.after == {"username": "quantri", "role": "admin", "unit": None} and user_event.before is None

    admin = Api(app.test_client(), token_of(create_user_cli(runner, "admin2", "--role", "admin")))
    unit = admin.post(
        "/api/v1/units",
        {
            "code": "ST-TP-P9",
            "name": "Phường 9",
            "level": "commune",
            "parent": "ST-TP",
            "books_opened_on": "2024-01-01",
        },
    ).json
    treasurer = make_api(app, "treasurer", "ST-TP", username="thuquy.tp")
    fund = treasurer.post("/api/v1/funds", {"code": "HB-P9", "name": "Quỹ học bổng P9", "unit": "ST-TP-P9"})
    assert fund.status_code == 201
    donation = treasurer.post("/api/v1/donations", {**GIFT, "unit": "ST-TP-P9", "fund": "HB-P9"}).json
    treasurer.post(f"/api/v1/donations/{donation['id']}/void", {"reason": "Ghi nhầm số tiền"})

    changes = events()[before:]
    assert [(e.action, e.entity) for e in changes] == [
        ("user.create", "user"),
        ("user.create", "user"),
        ("unit.create", "unit"),
        ("user.create", "user"),
        ("fund.create", "fund"),
        ("donation.record", "donation"),
        ("donation.void", "donation"),
    ]
    unit_event, fund_event, record_event, void_event = changes[2], changes[4], changes[5], changes[6]
    assert (unit_event.username, unit_event.entity_id) == ("admin2", str(unit["id"]))
    assert unit_event.before is None and unit_event.after["code"] == "ST-TP-P9"
    assert unit_event.after["parent"] == "ST-TP"
    assert fund_event.username == "thuquy.tp" and fund_event.after["unit"] == "ST-TP-P9"
    assert record_event.username == "thuquy.tp" and record_event.entity_id == str(donation["id"])
    assert record_event.before is None
    assert record_event.after["amount"] == 2_000_000 and record_event.after["status"] == "recorded"
    assert record_event.after["receipt"] == donation["receipt"]["code"]
    assert void_event.before["status"] == "recorded" and void_event.after["status"] == "void"
    assert void_event.after["void_reason"] == "Ghi nhầm số tiền"
    assert all(e.user_id is not None for e in changes if e.username != "system")
    # Refused and invalid requests change nothing and leave no event.
    n = count(AuditEvent)
    assert treasurer.post(f"/api/v1/donations/{donation['id']}/void", {"reason": "lần hai"}).status_code == 409
    assert (
        treasurer.post("/api/v1/units", {"code": "X1", "name": "X", "level": "commune", "parent": "ST-TP"}).status_code
        == 403
    )
    assert treasurer.post("/api/v1/donations", {**GIFT, "amount": -5}).status_code == 422
    assert count(AuditEvent) == n


@pytest.fixture
def trail(app, admin, make_api):
    """A small history: two users record gifts, one voids."""
    p2 = make_api(app, "treasurer", "ST-TP-P2", username="thuquy.p2")
    p5 = make_api(app, "treasurer", "ST-TP-P5", username="thuquy.p5")
    first = p2.post("/api/v1/donations", GIFT).json
    p2.post("/api/v1/donations", {**GIFT, "amount": 300_000})
    p5.post("/api/v1/donations", {**GIFT, "unit": "ST-TP-P5"})
    p2.post(f"/api/v1/donations/{first['id']}/void", {"reason": "Trùng"})
    return first


def audit(admin, query=""):
    response = admin.get(f"/api/v1/audit?page_size=1000{query}")
    assert response.status_code == 200, response.json
    return response.json


def test_audit_api_shape_and_order(admin, trail):
    listing = audit(admin)
    assert set(listing[0]) == {"id", "at", "username", "action", "entity", "entity_id", "before", "after"}
    assert [e["id"] for e in listing] == sorted((e["id"] for e in listing), reverse=True)  # newest first
    assert listing[0]["action"] == "donation.void" and listing[0]["username"] == "thuquy.p2"


def test_audit_filters(admin, trail):
    by_entity = audit(admin, "&entity=donation")
    assert len(by_entity) == 4 and {e["entity"] for e in by_entity} == {"donation"}
    assert [e["action"] for e in audit(admin, "&action=donation.void")] == ["donation.void"]
    assert len(audit(admin, "&action=donation.record")) == 3
    mine = audit(admin, "&username=thuquy.p2")
    assert [e["action"] for e in mine] == ["donation.void", "donation.record", "donation.record"]
    assert len(audit(admin, "&username=thuquy.p5&entity=donation")) == 1
    assert audit(admin, "&username=nobody") == []
    one = audit(admin, f"&entity=donation&entity_id={trail['id']}")
    assert [e["action"] for e in one] == ["donation.void", "donation.record"]
    assert {e["action"] for e in audit(admin, "&entity=user")} == {"user.create"}

    today = today_in_vietnam()  # the filter reads days as Vietnam counts them
    everything = audit(admin)
    around = audit(admin, f"&from={today - timedelta(days=1)}&to={today + timedelta(days=1)}")
    assert [e["id"] for e in around] == [e["id"] for e in everything]
    assert audit(admin, f"&from={today + timedelta(days=1)}") == []
    assert audit(admin, f"&to={today - timedelta(days=1)}") == []
    assert len(audit(admin, f"&from={today - timedelta(days=1)}&action=donation.void")) == 1


def test_audit_pagination(admin, trail):
    page = admin.get("/api/v1/audit?entity=donation&page=2&page_size=3")
    assert page.status_code == 200 and len(page.json) == 1
    assert '"total": 4' in page.headers["X-Pagination"]
    assert admin.get("/api/v1/audit?page=99999999999999999999").status_code in (200, 422)


@pytest.mark.parametrize("query", ["from=yesterday", "to=2024-02-30", "page=0", "page_size=100000"])
def test_audit_bad_filters_are_422(admin, query):
    response = admin.get(f"/api/v1/audit?{query}")
    assert response.status_code == 422
    assert set(response.json) == {"code", "status", "message", "errors"}


@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01", "from=9999-12-31&to=0001-01-01"])
def test_audit_extreme_dates_are_answered(admin, trail, query):
    response = admin.get(f"/api/v1/audit?{query}")
    assert response.status_code == 200


def test_audit_unknown_query_parameters_are_ignored(admin, trail):
    """As everywhere in the API (webargs ignores unknown query parameters, unlike unknown body fields)."""
    assert len(audit(admin, "&colour=red&entity=donation")) == 4


@pytest.mark.parametrize(
    "role, unit",
    [("treasurer", None), ("treasurer", "ST"), ("committee", "ST"), ("viewer", None), ("viewer", "ST-TP-P2")],
)
def test_audit_is_for_admins_only(app, tree, make_api, role, unit):
    response = make_api(app, role, unit).get("/api/v1/audit?entity=donation")
    assert response.status_code == 403 and response.json["code"] == 403


# ----------------------------------------------------------------------------------------------- demo load


def _a_year_of_life_is_there() -> None:
    """What a newcomer finds after `make run` (fundsvc/demo/life.py): every kind of movement, the schools' lists, a
    round approved and partly paid (a list at once and pupils one by one), a closed year, its published statement."""
    from fundsvc.allocation.models import Award, Round
    from fundsvc.ledger.models import Movement, Period
    from fundsvc.reports.models import PublicStatement
    from fundsvc.students.models import Nomination

    kinds = set(_db.session.scalars(select(Movement.document_kind)))
    # Cash passed at the merger makes a receipt of the new ward's (the only cash received by a movement).
    assert kinds == {"opening", "bank_credit", "bank_payment", "voucher", "receipt"}
    assert len(set(_db.session.scalars(select(Nomination.school)))) == 6
    (round_,) = _db.session.scalars(select(Round)).all()
    assert round_.status == "approved"
    paid = _db.session.scalars(select(Award).where(Award.status == "paid")).all()
    assert len({award.voucher_code for award in paid}) >= 3  # one list's Phiếu chi, two pupils' UNC
    assert _db.session.scalars(select(Award).where(Award.status == "approved")).first() is not None
    assert count(Period) >= 12 and count(PublicStatement) == 1


def _the_2025_reorganisation_is_there(api: Api) -> None:
    """The demo's tree after 1 July 2025 (fundsvc/demo/tree.py): two levels, three old communes merged into Phường Sóc
    Trăng, the districts merged into the province; the old communes' books readable and closed at nothing, their
    receipts still printing the commune they were issued by, and the new ward carrying on."""
    from tests.documents.conftest import pdf_pages_text

    units = {u.code: u for u in _db.session.scalars(select(Unit))}
    active = [u for u in units.values() if u.closed_on is None]
    assert sorted(u.code for u in active) == ["ST", "ST-PST", "ST-TD-LHT", "ST-TP-P2", "ST-VC-VH"]
    assert all(u.parent.code == "ST" and u.level == "commune" for u in active if u.code != "ST")
    merged = {code: (u.merged_into.code, u.merged_on.isoformat()) for code, u in units.items() if u.merged_into}
    assert merged == {
        **{code: ("ST-PST", "2025-07-01") for code in ("ST-TP-P5", "ST-MX-DT", "ST-MX-TD")},
        **{code: ("ST", "2025-07-01") for code in ("ST-TP", "ST-MX", "ST-TD", "ST-VC")},
    }
    span = {"from": "2025-01-01", "to": "2025-12-31"}
    old = api.get("/api/v1/reports/cash-book", query_string={"unit": "ST-TP-P5", **span}).get_json()
    assert old["lines"] and old["closing_balance"] == 0
    passed = old["lines"][-1]
    assert (passed["date"], passed["document_out"]) == ("2025-07-01", "PC-ST-TP-P5/2025/00001")
    new = api.get(
        "/api/v1/reports/cash-book", query_string={"unit": "ST-PST", "from": "2025-07-01", "to": "2025-12-31"}
    )
    new = new.get_json()
    assert new["opening_balance"] == 0 and {line["document_in"] for line in new["lines"][:3]} == {
        f"ST-PST/2025/{n:05d}" for n in (1, 2, 3)
    }
    assert [line["in"] for line in new["lines"][:3]] == [
        api.get("/api/v1/reports/cash-book", query_string={"unit": code, **span}).get_json()["lines"][-1]["out"]
        for code in ("ST-TP-P5", "ST-MX-DT", "ST-MX-TD")
    ]
    later = [line["date"] for line in new["lines"][3:]]
    assert later and min(later) > "2025-07-01"  # the ward's own gifts after the merger
    funds = {f["code"]: f for f in api.get("/api/v1/funds").get_json()}
    assert all(funds[f"KH-{code}"]["balance"] == 0 for code in merged)
    assert funds["KH-ST-PST"]["balance"] > 0
    registers = [api.get("/api/v1/reports/in-kind", query_string={"unit": code, **span}).get_json() for code in merged]
    assert all(register["closing_balance"] == 0 for register in registers)
    goods_held = sum(
        line["out"] or 0 for register in registers for line in register["lines"] if line["date"] == "2025-07-01"
    )
    ward_goods = api.get(
        "/api/v1/reports/in-kind", query_string={"unit": "ST-PST", "from": "2025-07-01", "to": "2025-07-01"}
    )
    province_goods = api.get(
        "/api/v1/reports/in-kind", query_string={"unit": "ST", "from": "2025-07-01", "to": "2025-07-01"}
    )
    passed_in = [
        line["in"]
        for answer in (ward_goods, province_goods)
        for line in answer.get_json()["lines"]
        if (line["document_in"] or "").startswith("HV-") and "sáp nhập" in line["description"]
    ]
    assert goods_held > 0 and sum(passed_in) == goods_held
    # A receipt of Phường 5 prints the commune and the district it was issued under.
    gift = _db.session.scalar(
        select(Donation).where(Donation.unit_id == units["ST-TP-P5"].id, Donation.method == "cash").limit(1)
    )
    text = " ".join(pdf_pages_text(api.get(f"/api/v1/receipts/{gift.receipt.id}.pdf").data))
    assert "Hội Khuyến học phường 5" in text and "THÀNH PHỐ SÓC TRĂNG" in text
    assert "phường sóc trăng" not in text.lower()


def test_demo_load_is_idempotent(empty_app):
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Demo data loaded." in first.output
    tables = (Unit, Donation, User, LedgerEntry, AuditEvent, ApiToken)
    counts = {model.__name__: count(model) for model in tables}
    assert counts["Unit"] == 12 and counts["Donation"] == 300 and counts["User"] == 5
    _a_year_of_life_is_there()

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "nothing added" in second.output
    assert {model.__name__: count(model) for model in tables} == counts

    # --print-tokens on a loaded database only issues tokens (one per demo user), and they work.
    third = runner.invoke(args=["demo", "load", "--print-tokens"])
    assert third.exit_code == 0 and "nothing added" in third.output
    tokens = [line.split("Bearer ")[1] for line in third.output.splitlines() if "Bearer " in line]
    assert len(tokens) == 5
    after = {model.__name__: count(model) for model in tables}
    assert after == {**counts, "ApiToken": counts["ApiToken"] + 5}
    assert Api(empty_app.test_client(), tokens[0]).get("/api/v1/donations?page_size=1").status_code == 200
    _the_2025_reorganisation_is_there(Api(empty_app.test_client(), tokens[0]))
