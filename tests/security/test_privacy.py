"""Pupils' values in allocation reasons are shown only to the roles that decide on them (issue 17, finding 3)."""

from __future__ import annotations

import json

import pytest

from fundsvc.privacy import redact_allocation, redact_reason
from tests.rounds.test_worked_example import example_round  # noqa: F401  (fixture)


def test_a_reason_keeps_its_field_and_comparison_only():
    assert redact_reason("household in [poor, near_poor, hardship]: none") == "household in …"
    assert redact_reason("gpa gte 6.5: 5.9") == "gpa gte …"
    assert redact_reason("note eq a: b: c") == "note eq …"
    result = {"budget": 1, "ineligible": [{"nomination_id": 1, "reasons": ["conduct eq good: fair"]}]}
    assert redact_allocation(result)["ineligible"][0]["reasons"] == ["conduct eq …"]
    assert result["ineligible"][0]["reasons"] == ["conduct eq good: fair"]  # the stored result is untouched


@pytest.fixture
def allocated(admin, example_round):  # noqa: F811
    response = admin.post(f"/api/v1/rounds/{example_round['id']}/allocate")
    assert response.status_code == 200, response.json
    return example_round["id"]


def _reasons(result: dict) -> list[str]:
    return [
        reason
        for name in ("awarded", "waitlisted", "ineligible")
        for e in result[name]
        for reason in e.get("reasons") or []
    ]


@pytest.mark.parametrize(
    ("role", "sees"), [("admin", True), ("committee", True), ("treasurer", False), ("viewer", False)]
)
def test_allocation_reasons_by_role(app, admin, allocated, make_api, role, sees):
    api = admin if role == "admin" else make_api(app, role)
    result = api.get(f"/api/v1/rounds/{allocated}/allocation").json
    reasons = _reasons(result)
    assert reasons
    assert all(reason.endswith("…") for reason in reasons) is not sees
    assert any(":" in reason for reason in reasons) is sees


DONOR = {"name": "Trần Thị Hồng Nhung", "kind": "person", "phone": "0912345678", "address": "12 Lê Lợi"}


@pytest.mark.parametrize(("role", "sees"), [("treasurer", True), ("viewer", False), ("committee", False)])
def test_donor_contact_and_anonymous_names_by_role(app, tree, make_api, role, sees):
    treasurer = make_api(app, "treasurer", "ST-TP-P2")
    gift = {"donor": DONOR, "unit": "ST-TP-P2", "amount": 1, "method": "cash", "received_on": "2024-10-01"}
    assert treasurer.post("/api/v1/donations", json={**gift, "anonymous": True}).status_code == 201
    api = treasurer if role == "treasurer" else make_api(app, role, "ST-TP-P2")
    listing = api.get("/api/v1/donations")
    assert listing.status_code == 200, listing.json
    donor = listing.json[0]["donor"]
    assert (donor.get("phone") == DONOR["phone"]) is sees
    assert ("address" in donor) is sees
    assert (donor["name"] == DONOR["name"]) is sees
    assert (DONOR["name"] in json.dumps(listing.json, ensure_ascii=False)) is sees


def test_the_public_nomination_schema_shows_exactly_what_the_privacy_rule_allows():
    from fundsvc.privacy import PUPIL_PUBLIC_FIELDS
    from fundsvc.students.schemas import NominationPublicOut

    assert set(NominationPublicOut._declared_fields) == PUPIL_PUBLIC_FIELDS


def test_a_seen_record_leaves_out_what_the_viewer_may_not_see():
    from types import SimpleNamespace

    from fundsvc.privacy import ANONYMOUS_NAME, donation_seen_by

    donor = SimpleNamespace(id=1, name="Trần Văn An", phone="0912345678", email="a@b.vn", address="x", tax_code="1")
    gift = SimpleNamespace(id=7, anonymous=True, donor=donor, amount=100)
    seen = donation_seen_by("viewer", gift)
    assert seen.amount == 100 and seen.donor.name == ANONYMOUS_NAME
    assert not any(hasattr(seen.donor, name) for name in ("phone", "email", "address", "tax_code"))
    assert donation_seen_by("treasurer", gift) is gift
