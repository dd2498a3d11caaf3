"""The awards page pays a school's list at the ceremony with one voucher, and offers only what is left to pay."""

from __future__ import annotations

from tests.rounds.test_worked_example import example_round  # noqa: F401  (the fixture)


def test_a_treasurer_pays_a_schools_list_from_the_awards_page(app, admin, example_round, make_user, browser):  # noqa: F811
    round_id = example_round["id"]
    admin.post(f"/api/v1/rounds/{round_id}/allocate")
    admin.post(f"/api/v1/rounds/{round_id}/approve")
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards").json
    school = awards[0]["school"]
    count = sum(1 for a in awards if a["school"] == school)
    b = browser(make_user("thuquy.list", "treasurer", "ST"))
    page = b.get(f"/rounds/{round_id}/awards").get_data(as_text=True)
    assert 'id="list-pay"' in page and f"{school} — {count} suất" in page
    paid = b.post(f"/rounds/{round_id}/disburse", {"school": school, "paid_on": "2024-11-21"})
    assert paid.status_code == 302
    after = b.get(f"/rounds/{round_id}/awards").get_data(as_text=True)
    assert f"Đã chi {count} suất" in after and "PC-ST/2024/00001" in after
    assert f"{school} — " not in after  # nothing of that school is left to pay
    again = b.post(f"/rounds/{round_id}/disburse", {"school": school, "paid_on": "2024-11-21"})
    assert again.status_code == 302 and "Không còn suất" in b.get(f"/rounds/{round_id}/awards").get_data(as_text=True)
    assert b.post(f"/rounds/{round_id}/disburse", {"school": school}).status_code == 302  # no date: told, not paid
    viewer = browser(make_user("xem.list", "viewer", "ST"))
    assert 'id="list-pay"' not in viewer.get(f"/rounds/{round_id}/awards").get_data(as_text=True)
    assert viewer.post(f"/rounds/{round_id}/disburse", {"school": school, "paid_on": "2024-11-21"}).status_code == 403
