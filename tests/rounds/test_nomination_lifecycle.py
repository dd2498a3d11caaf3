"""A nomination after its round: corrected with the import's rules, frozen while it holds an award, withdrawn with a
reason (an unpaid award cancelled and the waitlist promoted as a cancellation does, a paid one refused), through
the API on both engines."""

from __future__ import annotations

import pytest

from fundsvc.allocation import engine
from fundsvc.allocation.models import Round
from fundsvc.extensions import db
from tests.rounds.test_worked_example import example_round  # noqa: F401  (fixture)


@pytest.fixture
def approved(admin, example_round):  # noqa: F811
    """The worked example allocated and approved: (round, its result, its awards)."""
    round_id = example_round["id"]
    result = admin.post(f"/api/v1/rounds/{round_id}/allocate").json
    assert admin.post(f"/api/v1/rounds/{round_id}/approve").status_code == 200
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards?page_size=500").json
    return example_round, result, awards


def _kh(admin) -> dict:
    return next(f for f in admin.get("/api/v1/funds").json if f["code"] == "KH")


def test_withdrawing_an_awarded_nomination_cancels_its_award_and_promotes_as_a_cancellation(app, admin, approved):
    round_, result, awards = approved
    victim = max(awards, key=lambda a: (a["amount"], -a["rank"]))
    stored = db.session.get(Round, round_["id"])
    expected = engine.promote_after_cancel(
        engine.ranked_entries(stored.ranked),
        round_["rules"],
        awarded_ids={a["nomination_id"] for a in awards} - {victim["nomination_id"]},
        remaining=result["remaining"] + victim["amount"],
        exclude_ids={victim["nomination_id"]},
    )
    assert expected  # the worked example has someone waiting whom the freed money fits
    reserved = _kh(admin)["reserved"]

    withdrawn = admin.post(f"/api/v1/nominations/{victim['nomination_id']}/withdraw", {"reason": "Gia đình chuyển đi"})

    assert withdrawn.status_code == 200, withdrawn.json
    assert withdrawn.json["status"] == "withdrawn" and withdrawn.json["withdrawal_reason"] == "Gia đình chuyển đi"
    after = {a["nomination_id"]: a for a in admin.get(f"/api/v1/rounds/{round_['id']}/awards?page_size=500").json}
    assert after[victim["nomination_id"]]["status"] == "cancelled"
    promoted = [a for a in after.values() if a["promoted"]]
    assert [(a["nomination_id"], a["rank"], a["amount"]) for a in promoted] == [
        (e["nomination_id"], e["rank"], e["amount"]) for e in expected
    ]
    assert _kh(admin)["reserved"] == reserved - victim["amount"] + sum(e["amount"] for e in expected)
    actions = [e["action"] for e in admin.get("/api/v1/audit?page_size=100").json]
    assert {"nomination.withdraw", "award.cancel", "award.promote"} <= set(actions)
    # The withdrawn pupil is never promoted back, and cannot be withdrawn twice.
    again = admin.post(f"/api/v1/nominations/{victim['nomination_id']}/withdraw", {"reason": "Lần nữa"})
    assert again.status_code == 409


def test_a_paid_award_cannot_be_withdrawn_and_nothing_changes(app, admin, approved, make_api):
    _round, _result, awards = approved
    award = awards[0]
    treasurer = make_api(app, "treasurer", "ST")
    paid = treasurer.post(f"/api/v1/awards/{award['id']}/disburse", {"paid_on": "2024-11-20", "received_by": "Mẹ em"})
    assert paid.status_code == 200, paid.json
    funds = admin.get("/api/v1/funds").json

    refused = admin.post(f"/api/v1/nominations/{award['nomination_id']}/withdraw", {"reason": "Chuyển trường"})

    assert refused.status_code == 409 and "đã chi" in refused.json["message"]
    assert admin.get(f"/api/v1/nominations/{award['nomination_id']}").json["status"] == "active"
    assert admin.get(f"/api/v1/awards/{award['id']}").json["status"] == "paid"
    assert admin.get("/api/v1/funds").json == funds


def test_a_nomination_holding_an_award_is_not_corrected_but_a_waitlisted_one_is(admin, approved):
    _round, result, awards = approved
    holder = awards[0]["nomination_id"]
    refused = admin.patch(f"/api/v1/nominations/{holder}", {"guardian": "Bà ngoại"})
    assert refused.status_code == 409 and "rút hồ sơ" in refused.json["message"]
    assert admin.get(f"/api/v1/nominations/{holder}").json["guardian"] != "Bà ngoại"
    waiting = result["waitlisted"][0]["nomination_id"]
    corrected = admin.patch(f"/api/v1/nominations/{waiting}", {"guardian": "Bà ngoại"})
    assert corrected.status_code == 200 and corrected.json["guardian"] == "Bà ngoại"
    update = admin.get("/api/v1/audit?entity=nomination&action=nomination.update").json[0]
    assert update["before"]["guardian"] != "Bà ngoại" and update["after"]["guardian"] == "Bà ngoại"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"birth_date": "1940-01-01"}, "birth_date", "Ngày sinh ngoài khoảng hợp lệ"),
        ({"gpa": 8.55}, "gpa", "quá một chữ số thập phân"),
        ({"gpa": 10.5}, "gpa", "Điểm TB ngoài khoảng"),
        ({"grade": "Khối chuyên"}, "grade", "Lớp không hợp lệ"),
        ({"full_name": ""}, "full_name", ""),
        ({"household": "rich"}, "household", ""),
    ],
)
def test_a_correction_is_held_to_the_import_rules(admin, example_round, change, field, words):  # noqa: F811
    nomination = admin.get("/api/v1/nominations").json[0]
    response = admin.patch(f"/api/v1/nominations/{nomination['id']}", change)
    assert response.status_code == 422, response.json
    messages = response.json["errors"].get(field) or response.json["errors"].get("json", {}).get(field)
    assert messages and words in messages[0]
    assert admin.get(f"/api/v1/nominations/{nomination['id']}").json == nomination


def test_a_university_year_may_be_named_freely(admin, example_round):  # noqa: F811
    nomination = admin.get("/api/v1/nominations").json[0]
    response = admin.patch(f"/api/v1/nominations/{nomination['id']}", {"grade": "K65 CNTT", "level": "university"})
    assert response.status_code == 200, response.json
    assert (response.json["grade"], response.json["level"], response.json["grade_number"]) == (
        "K65 CNTT",
        "university",
        None,
    )


def test_another_units_committee_finds_no_such_nomination(app, admin, example_round, make_api):  # noqa: F811
    everyone = admin.get("/api/v1/nominations?page_size=500").json
    outside = next(n for n in everyone if not n["unit"].startswith("ST-MX"))
    district = make_api(app, "committee", "ST-MX")
    assert district.get(f"/api/v1/nominations/{outside['id']}").status_code == 404
    assert district.patch(f"/api/v1/nominations/{outside['id']}", {"guardian": "x"}).status_code == 404
    assert district.post(f"/api/v1/nominations/{outside['id']}/withdraw", {"reason": "x"}).status_code == 404
    viewer = make_api(app, "viewer", "ST")
    assert viewer.post(f"/api/v1/nominations/{outside['id']}/withdraw", {"reason": "x"}).status_code == 403
    assert admin.get(f"/api/v1/nominations/{outside['id']}").json == outside
