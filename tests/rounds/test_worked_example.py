"""The worked example of docs/rules.md end to end through the API: import, round, allocate, compare."""

from __future__ import annotations

import hashlib
import json

import pytest
import zstandard
from sqlalchemy import LargeBinary, select, type_coerce, update

from fundsvc.allocation import engine
from fundsvc.allocation.engine import ranked_entries
from fundsvc.allocation.models import Round
from fundsvc.allocation.service import _engine_arguments, nomination_facts
from fundsvc.extensions import db
from tests.conftest import SHARED_DATA, WORKED_EXAMPLE_GIFT

GIFT = WORKED_EXAMPLE_GIFT


def import_sample(api):
    data = (SHARED_DATA / "nominations_sample.csv").read_bytes()
    from io import BytesIO

    return api.client.post(
        "/api/v1/nominations/import",
        data={"file": (BytesIO(data), "nominations_sample.csv"), "academic_year": "2024-2025"},
        headers={"Authorization": f"Bearer {api.token}"},
        content_type="multipart/form-data",
    )


@pytest.fixture
def example_round(admin):
    assert admin.post("/api/v1/donations", {**GIFT, "amount": 50_000_000}).status_code == 201
    response = import_sample(admin)
    assert response.status_code == 200, response.json
    assert response.json["created"] == 120
    rules = json.loads((SHARED_DATA / "rules_example.json").read_text())
    created = admin.post(
        "/api/v1/rounds",
        {
            "name": "Học bổng Khuyến học 2024–2025",
            "academic_year": "2024-2025",
            "fund": "KH",
            "unit": "ST",
            "budget": 40_000_000,
            "rules": rules,
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["status"] == "draft"
    return created.json


def _by_code(admin):
    return {n["id"]: n["student_code"] for n in admin.get("/api/v1/nominations?page_size=500").json}


def test_worked_example_through_the_api(admin, example_round):
    result = admin.post(f"/api/v1/rounds/{example_round['id']}/allocate")
    assert result.status_code == 200, result.json
    body = result.json
    expected = json.loads((SHARED_DATA / "allocation_example_expected.json").read_text())
    assert (body["budget"], body["allocated"], body["remaining"]) == (
        expected["budget"],
        expected["allocated"],
        expected["remaining"],
    )
    codes = _by_code(admin)
    for key in ("awarded", "waitlisted"):
        got = [{k: e[k] for k in expected[key][0]} for e in body[key]]
        assert got == expected[key]
        assert all(codes[e["nomination_id"]] == e["student_code"] for e in body[key])
    ineligible_codes = [codes[e["nomination_id"]] for e in body["ineligible"]]
    if expected["ineligible"] and isinstance(expected["ineligible"][0], str):
        assert sorted(ineligible_codes) == sorted(expected["ineligible"])
    again = admin.post(f"/api/v1/rounds/{example_round['id']}/allocate").json
    assert again == body  # the same data and rules give the same result, byte for byte


def test_the_stored_result_is_the_allocated_text(admin, example_round):
    """GET …/allocation answers the very bytes allocate answered (and hashed), which are stored compressed."""
    round_id = example_round["id"]
    assert admin.get(f"/api/v1/rounds/{round_id}/allocation").status_code == 404
    allocated = admin.post(f"/api/v1/rounds/{round_id}/allocate")
    assert allocated.status_code == 200 and allocated.mimetype == "application/json"
    stored = admin.get(f"/api/v1/rounds/{round_id}/allocation")
    assert stored.status_code == 200 and stored.mimetype == "application/json"
    assert stored.data == allocated.data
    round_ = admin.get(f"/api/v1/rounds/{round_id}").json
    assert round_["result_hash"] == "sha256:" + hashlib.sha256(allocated.data).hexdigest()

    raw = db.session.execute(
        select(type_coerce(Round.result, LargeBinary), type_coerce(Round.ranked, LargeBinary)).where(
            Round.id == round_id
        )
    ).one()
    assert zstandard.decompress(raw[0]) == allocated.data and len(raw[0]) < len(allocated.data)
    ranking = json.loads(zstandard.decompress(raw[1]))  # stored by column, in rank order
    assert set(ranking) == {"nomination_id", "score", "amount", "tier", "outcome", "groups"}  # it has quotas
    assert [nid for nid, o in zip(ranking["nomination_id"], ranking["outcome"], strict=True) if o == "awarded"] == [
        e["nomination_id"] for e in allocated.json["awarded"]
    ]
    same = ("nomination_id", "rank", "score", "amount")
    assert [[e[k] for k in same] for e in ranked_entries(ranking) if e["outcome"] == "waitlisted"] == [
        [e[k] for k in same] for e in allocated.json["waitlisted"]
    ]


def test_approve_reserves_and_lifecycle(app, admin, example_round, make_api):
    round_id = example_round["id"]
    result = admin.post(f"/api/v1/rounds/{round_id}/allocate").json
    approved = admin.post(f"/api/v1/rounds/{round_id}/approve")
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert admin.post(f"/api/v1/rounds/{round_id}/approve").status_code == 409
    assert admin.post(f"/api/v1/rounds/{round_id}/allocate").status_code == 409
    fund = next(f for f in admin.get("/api/v1/funds").json if f["code"] == "KH")
    assert fund["reserved"] == result["allocated"] and fund["available"] == fund["balance"] - fund["reserved"]
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards").json
    assert [a["nomination_id"] for a in awards] == [e["nomination_id"] for e in result["awarded"]]
    assert all(a["status"] == "approved" for a in awards)

    treasurer = make_api(app, "treasurer", "ST")
    paid = treasurer.post(
        f"/api/v1/awards/{awards[0]['id']}/disburse",
        {"paid_on": "2024-11-20", "received_by": "Phụ huynh em " + awards[0]["full_name"]},
    )
    assert paid.status_code == 200, paid.json
    assert paid.json["status"] == "paid" and paid.json["voucher_code"].startswith("PC-ST/2024/")
    voucher = treasurer.get(f"/api/v1/awards/{awards[0]['id']}/voucher.pdf")
    assert voucher.status_code == 200 and voucher.data.startswith(b"%PDF")
    assert treasurer.get(f"/api/v1/awards/{awards[0]['id']}/voucher.pdf").data == voucher.data
    fund_after = next(f for f in admin.get("/api/v1/funds").json if f["code"] == "KH")
    assert fund_after["balance"] == fund["balance"] - awards[0]["amount"]
    assert fund_after["reserved"] == fund["reserved"] - awards[0]["amount"]
    assert (
        treasurer.post(
            f"/api/v1/awards/{awards[0]['id']}/disburse", {"paid_on": "2024-11-20", "received_by": "x"}
        ).status_code
        == 409
    )
    committee = make_api(app, "committee", "ST")
    assert (
        committee.post(
            f"/api/v1/awards/{awards[1]['id']}/disburse", {"paid_on": "2024-11-20", "received_by": "x"}
        ).status_code
        == 403
    )

    # Cancel the dearest unpaid award: the waitlisted pupils that the money now fits are promoted.
    victim = max(awards[1:], key=lambda a: (a["amount"], -a["rank"]))
    cancelled = committee.post(f"/api/v1/awards/{victim['id']}/cancel", {"reason": "Gia đình chuyển đi nơi khác"})
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["award"]["status"] == "cancelled"
    waitlisted_ids = [e["nomination_id"] for e in result["waitlisted"]]
    for promoted in cancelled.json["promoted"]:
        assert promoted["nomination_id"] in waitlisted_ids and promoted["promoted"] is True
    assert treasurer.post(f"/api/v1/awards/{victim['id']}/cancel", {"reason": "x"}).status_code == 403


def test_approve_without_money_is_409_and_changes_nothing(admin, example_round):
    round_id = example_round["id"]
    admin.post(f"/api/v1/rounds/{round_id}/allocate")
    # Money leaves the fund after the allocation: the approval must refuse.
    donation = admin.get("/api/v1/donations").json[0]
    admin.post(f"/api/v1/donations/{donation['id']}/void", {"reason": "Chuyển khoản bị trả lại"})
    before = admin.get("/api/v1/funds").json
    response = admin.post(f"/api/v1/rounds/{round_id}/approve")
    assert response.status_code == 409
    assert admin.get(f"/api/v1/rounds/{round_id}").json["status"] == "allocated"
    assert admin.get(f"/api/v1/rounds/{round_id}/awards").json == []
    assert admin.get("/api/v1/funds").json == before


def test_second_round_skips_pupils_already_awarded(admin, example_round):
    first = admin.post(f"/api/v1/rounds/{example_round['id']}/allocate").json
    admin.post(f"/api/v1/rounds/{example_round['id']}/approve")
    admin.post("/api/v1/donations", {**GIFT, "amount": 100_000_000})
    rules = json.loads((SHARED_DATA / "rules_example.json").read_text())
    second = admin.post(
        "/api/v1/rounds",
        {
            "name": "Đợt 2",
            "academic_year": "2024-2025",
            "fund": "KH",
            "unit": "ST",
            "budget": 40_000_000,
            "rules": rules,
        },
    ).json
    result = admin.post(f"/api/v1/rounds/{second['id']}/allocate").json
    first_ids = {e["nomination_id"] for e in first["awarded"]}
    assert not first_ids & {e["nomination_id"] for e in result["awarded"]}
    held = [e for e in result["ineligible"] if e["nomination_id"] in first_ids]
    assert len(held) == len(first_ids)
    assert all(any("already holds an award" in r for r in e["reasons"]) for e in held)


def test_explain_and_presets(admin, example_round):
    round_id = example_round["id"]
    result = admin.post(f"/api/v1/rounds/{round_id}/allocate").json
    top = result["awarded"][0]["nomination_id"]
    explained = admin.get(f"/api/v1/rounds/{round_id}/explain/{top}")
    assert explained.status_code == 200 and explained.json["outcome"] == "awarded" and explained.json["rank"] == 1
    assert admin.get(f"/api/v1/rounds/{round_id}/explain/999999").status_code == 404
    presets = admin.get("/api/v1/rules/presets").json
    assert {"khuyen_hoc", "khuyen_tai"} <= set(presets)


def test_bad_rules_point_at_the_path(admin):
    rules = json.loads((SHARED_DATA / "rules_example.json").read_text())
    rules["quotas"][1]["max_awards"] = "many"
    response = admin.post(
        "/api/v1/rounds",
        {"name": "x", "academic_year": "2024-2025", "fund": "KH", "unit": "ST", "budget": 1000, "rules": rules},
    )
    assert response.status_code == 422
    assert any(key.startswith("rules.quotas[1]") for key in response.json["errors"]), response.json


def test_approve_refuses_a_stale_allocation(admin, example_round):
    """A nomination the rules read changed after the allocation: approve is 409 until it is run again."""
    round_id = example_round["id"]
    first = admin.post(f"/api/v1/rounds/{round_id}/allocate").json
    assert admin.get(f"/api/v1/rounds/{round_id}/allocation").json == first
    top = first["awarded"][0]["nomination_id"]
    assert admin.patch(f"/api/v1/nominations/{top}", {"gpa": 5.0}).status_code == 200
    response = admin.post(f"/api/v1/rounds/{round_id}/approve")
    assert response.status_code == 409 and "allocate again" in response.json["message"]
    assert admin.get(f"/api/v1/rounds/{round_id}").json["status"] == "allocated"
    again = admin.post(f"/api/v1/rounds/{round_id}/allocate").json
    assert top in {e["nomination_id"] for e in again["ineligible"]}
    assert admin.post(f"/api/v1/rounds/{round_id}/approve").status_code == 200


def test_explain_explains_every_pupil(admin, example_round):
    round_id = example_round["id"]
    result = admin.post(f"/api/v1/rounds/{round_id}/allocate").json
    for outcome in ("awarded", "waitlisted", "ineligible"):
        for entry in result[outcome]:
            explained = admin.get(f"/api/v1/rounds/{round_id}/explain/{entry['nomination_id']}").json
            assert explained["outcome"] == outcome
            if outcome == "ineligible":
                assert explained["reasons"] == entry["reasons"]
            else:
                assert (explained["rank"], explained["score"]) == (entry["rank"], entry["score"])


def _migration(name: str):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("stored_as", ["columns", "entries"])
def test_cancel_promotes_from_the_stored_ranking(app, admin, example_round, make_api, stored_as):
    """The ranking is stored by column; a round allocated before that kept a list of entries, which migration
    0014 rewrites by column, and promotes alike: the best-ranked waitlisted pupil that fits the money and quotas
    freed."""
    round_id = example_round["id"]
    result = admin.post(f"/api/v1/rounds/{round_id}/allocate").json
    round_ = db.session.get(Round, round_id)
    entries = engine.allocate(
        nomination_facts(db.session, round_), **_engine_arguments(db.session, round_)
    ).ranked  # what such a round stored
    assert admin.post(f"/api/v1/rounds/{round_id}/approve").status_code == 200
    if stored_as == "entries":
        rewritten = _migration("0014_ranked_by_column").by_column(entries)
        db.session.execute(update(Round).where(Round.id == round_id).values(ranked=rewritten))
        db.session.commit()
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards").json
    victim = max(awards, key=lambda a: (a["amount"], -a["rank"]))
    expected = engine.promote_after_cancel(
        entries,
        example_round["rules"],
        awarded_ids={a["nomination_id"] for a in awards} - {victim["nomination_id"]},
        remaining=result["remaining"] + victim["amount"],
        exclude_ids={victim["nomination_id"]},
    )
    assert expected and all(e["outcome"] == "waitlisted" for e in expected)
    committee = make_api(app, "committee", "ST")
    cancelled = committee.post(f"/api/v1/awards/{victim['id']}/cancel", {"reason": "Gia đình chuyển đi nơi khác"})
    assert cancelled.status_code == 200, cancelled.json
    promoted = cancelled.json["promoted"]
    assert [(p["nomination_id"], p["rank"], p["amount"]) for p in promoted] == [
        (e["nomination_id"], e["rank"], e["amount"]) for e in expected
    ]


def test_payments_leave_the_paying_units_cash_and_held_money_cannot_be_voided(app, admin, example_round, make_api):
    """docs/books.md: a payment counts for the unit whose fund and money account paid it; a void may not take back money
    that approved awards hold (nor money already paid out)."""
    from sqlalchemy import select

    from fundsvc.extensions import db
    from fundsvc.ledger.models import LedgerEntry, MoneyAccount
    from fundsvc.units.models import Unit

    round_id = example_round["id"]
    admin.post(f"/api/v1/rounds/{round_id}/allocate")
    admin.post(f"/api/v1/rounds/{round_id}/approve")
    (gift,) = admin.get("/api/v1/donations").json
    refused = admin.post(f"/api/v1/donations/{gift['id']}/void", {"reason": "Ghi nhầm"})
    assert refused.status_code == 409 and "khả dụng" in refused.json["message"]

    award = admin.get(f"/api/v1/rounds/{round_id}/awards").json[0]
    treasurer = make_api(app, "treasurer", "ST")
    paid = treasurer.post(f"/api/v1/awards/{award['id']}/disburse", {"paid_on": "2024-11-20", "received_by": "Mẹ em"})
    assert paid.status_code == 200, paid.json
    province = db.session.scalar(select(Unit).where(Unit.code == "ST"))
    cash = db.session.scalar(
        select(MoneyAccount).where(MoneyAccount.unit_id == province.id, MoneyAccount.kind == "cash")
    )
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "disbursement"))
    assert (entry.unit_id, entry.account_id, entry.amount) == (province.id, cash.id, -award["amount"])
    balances = {a["kind"]: a["balance"] for a in treasurer.get("/api/v1/units/ST/accounts").json}
    assert balances["cash"] == 50_000_000 - award["amount"]
    # A voucher dated before the series' last one is refused, as every document series is in date order.
    second = admin.get(f"/api/v1/rounds/{round_id}/awards").json[1]
    early = treasurer.post(f"/api/v1/awards/{second['id']}/disburse", {"paid_on": "2024-11-19", "received_by": "Bố em"})
    assert early.status_code == 422 and "20/11/2024" in early.json["message"]


def test_an_award_paid_by_bank_transfer_leaves_the_bank_account(app, admin, example_round, make_api):
    round_id = example_round["id"]
    admin.post(f"/api/v1/rounds/{round_id}/allocate")
    admin.post(f"/api/v1/rounds/{round_id}/approve")
    treasurer = make_api(app, "treasurer", "ST")
    bank_gift = {**GIFT, "method": "bank_transfer", "amount": 20_000_000, "received_on": "2024-09-02"}
    assert treasurer.post("/api/v1/donations", bank_gift).status_code == 201
    award = admin.get(f"/api/v1/rounds/{round_id}/awards").json[0]
    paid = treasurer.post(
        f"/api/v1/awards/{award['id']}/disburse",
        {"paid_on": "2024-11-20", "received_by": "Mẹ em", "method": "bank_transfer", "bank_reference": "FT2432512"},
    )
    assert paid.status_code == 200, paid.json
    assert paid.json["voucher_code"].startswith("UNC-ST/2024/") and paid.json["bank_reference"] == "FT2432512"
    balances = {a["kind"]: a["balance"] for a in treasurer.get("/api/v1/units/ST/accounts").json}
    assert balances == {"cash": 50_000_000, "bank": 20_000_000 - award["amount"]}


def test_a_whole_list_is_paid_with_one_voucher(app, admin, example_round, make_api):
    from sqlalchemy import select

    from fundsvc.extensions import db
    from fundsvc.ledger.models import LedgerEntry

    round_id = example_round["id"]
    admin.post(f"/api/v1/rounds/{round_id}/allocate")
    admin.post(f"/api/v1/rounds/{round_id}/approve")
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards").json
    treasurer = make_api(app, "treasurer", "ST")
    one = treasurer.post(
        f"/api/v1/awards/{awards[0]['id']}/disburse", {"paid_on": "2024-11-20", "received_by": "Mẹ em"}
    )
    assert one.status_code == 200
    paid = treasurer.post(f"/api/v1/rounds/{round_id}/disburse", {"paid_on": "2024-11-21"})
    assert paid.status_code == 200, paid.json
    rest = sum(a["amount"] for a in awards[1:])
    assert paid.json["count"] == len(awards) - 1 and paid.json["amount"] == rest
    assert paid.json["voucher_code"] == "PC-ST/2024/00002"
    after = admin.get(f"/api/v1/rounds/{round_id}/awards").json
    assert all(a["status"] == "paid" for a in after)
    assert {a["voucher_code"] for a in after[1:]} == {"PC-ST/2024/00002"}
    # One ledger entry for the total, as the cash book shows one Phiếu chi.
    entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.document_code == "PC-ST/2024/00002")))
    assert [e.amount for e in entries] == [-rest]
    assert treasurer.post(f"/api/v1/rounds/{round_id}/disburse", {"paid_on": "2024-11-21"}).status_code == 409
    # The signature sheet shows the award paid on its own voucher as paid, never as to be paid again.
    import io
    import re

    from pypdf import PdfReader

    sheet = treasurer.get(f"/api/v1/rounds/{round_id}/signature-sheet.pdf")
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(sheet.data)).pages))
    assert text.count("Đã nhận") == 1 and "PC-ST/2024/00001" in text.replace(" ", "")
