"""The round's award list through the API: by status, and found by a piece of a pupil's name, school or code."""

from __future__ import annotations

from tests.rounds.test_worked_example import example_round  # noqa: F401  (the fixture)


def test_awards_are_found_by_name_school_or_code_and_by_status(app, admin, example_round, make_api):  # noqa: F811
    round_id = example_round["id"]
    admin.post(f"/api/v1/rounds/{round_id}/allocate")
    admin.post(f"/api/v1/rounds/{round_id}/approve")
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards").json
    first = awards[0]
    word = first["full_name"].split()[-1]
    found = admin.get(f"/api/v1/rounds/{round_id}/awards", query_string={"q": word}).json
    assert first["id"] in [a["id"] for a in found]
    assert all(word.lower() in (a["full_name"] + " " + a.get("school", "")).lower() for a in found)
    assert admin.get(f"/api/v1/rounds/{round_id}/awards", query_string={"q": "không-có-ai"}).json == []
    treasurer = make_api(app, "treasurer", "ST")
    treasurer.post(f"/api/v1/awards/{first['id']}/disburse", {"paid_on": "2024-11-20", "received_by": "Phụ huynh"})
    paid = admin.get(f"/api/v1/rounds/{round_id}/awards?status=paid").json
    assert [a["id"] for a in paid] == [first["id"]]
    assert len(admin.get(f"/api/v1/rounds/{round_id}/awards?status=approved").json) == len(awards) - 1
    assert admin.get(f"/api/v1/rounds/{round_id}/awards?status=lost").status_code == 422
