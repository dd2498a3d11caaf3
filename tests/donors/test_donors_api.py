"""Donors through the API, on both engines: one donor per phone however it is typed, the question before a gift is
attached to a donor of another name, search ignoring case and diacritics, corrections and merges."""

from __future__ import annotations

import pytest

from tests.rounds.test_worked_example import example_round  # noqa: F401  (the fixture)


@pytest.fixture
def app(any_app):
    return any_app


NHUNG = {"name": "Trần Thị Hồng Nhung", "kind": "person", "phone": "0912 345 678", "address": "12 Lê Lợi"}


def gift(donor: dict | None = None, **extra) -> dict:
    body = {"unit": "ST-TP-P2", "amount": 500_000, "method": "cash", "received_on": "2024-10-01", **extra}
    if "donor_id" not in extra:
        body["donor"] = donor or NHUNG
    return body


def donor_of(response) -> dict:
    assert response.status_code == 201, response.json
    return response.json["donor"]


@pytest.fixture
def treasurer(app, tree, make_api):
    return make_api(app, "treasurer", "ST-TP-P2")


@pytest.mark.parametrize(
    "typed", ["0912345678", "0912 345 678", "0912.345.678", "+84 912 345 678", "+84912345678", "84912345678"]
)
def test_every_spelling_of_a_phone_is_one_donor(treasurer, typed):
    first = donor_of(treasurer.post("/api/v1/donations", gift()))
    assert first["phone"] == "0912345678"
    again = donor_of(treasurer.post("/api/v1/donations", gift({**NHUNG, "phone": typed})))
    assert again["id"] == first["id"]
    assert len(treasurer.get("/api/v1/donors").json) == 1


def test_an_invalid_phone_or_tax_code_is_a_422_naming_the_field(treasurer):
    response = treasurer.post("/api/v1/donations", gift({**NHUNG, "phone": "0299123456"}))
    assert response.status_code == 422
    assert set(response.json) == {"code", "status", "message", "errors"}
    assert "Số điện thoại không hợp lệ" in response.json["errors"]["donor"]["phone"][0]
    response = treasurer.post("/api/v1/donations", gift({**NHUNG, "tax_code": "12345"}))
    assert response.status_code == 422 and "Mã số thuế" in response.json["errors"]["donor"]["tax_code"][0]
    assert treasurer.get("/api/v1/donors").json == []


def test_a_gift_under_another_name_asks_which_donor_it_is(treasurer):
    nhung = donor_of(treasurer.post("/api/v1/donations", gift()))
    asked = treasurer.post("/api/v1/donations", gift({"name": "Chị Nhung", "phone": "0912345678"}))
    assert asked.status_code == 409
    assert asked.json["errors"]["donor"] == {"id": nhung["id"], "name": "Trần Thị Hồng Nhung"}
    assert "Trần Thị Hồng Nhung" in asked.json["message"] and str(nhung["id"]) in asked.json["message"]
    assert len(treasurer.get("/api/v1/donations").json) == 1  # nothing recorded
    # The same name typed without diacritics, in capitals, is the same donor: no question.
    same = treasurer.post("/api/v1/donations", gift({"name": "TRAN THI HONG  NHUNG", "phone": "0912345678"}))
    assert donor_of(same)["id"] == nhung["id"]
    # Answered: this donor (donor_id), or a new donor.
    assert donor_of(treasurer.post("/api/v1/donations", gift(donor_id=nhung["id"])))["id"] == nhung["id"]
    new = donor_of(
        treasurer.post("/api/v1/donations", gift({"name": "Chị Nhung", "phone": "0912345678"}, new_donor=True))
    )
    assert new["id"] != nhung["id"] and new["name"] == "Chị Nhung"
    assert treasurer.post("/api/v1/donations", gift(donor_id=nhung["id"], new_donor=True)).status_code == 422


PEOPLE = [
    ("Nguyễn Văn An", "0912000001"),
    ("Đặng Thị Hoa", "0912000002"),
    ("Trần Thị Hồng Nhung", "0912000003"),
    ("Công ty TNHH Minh Phát", None),
]


@pytest.fixture
def people(treasurer):
    for name, phone in PEOPLE:
        donor = {"name": name, "kind": "person", "phone": phone} if phone else {"name": name, "tax_code": "2200123456"}
        donor_of(treasurer.post("/api/v1/donations", gift(donor)))
    return treasurer


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("nguyen", ["Nguyễn Văn An"]),
        ("NGUYỄN", ["Nguyễn Văn An"]),
        ("dang", ["Đặng Thị Hoa"]),
        ("thi", ["Đặng Thị Hoa", "Trần Thị Hồng Nhung"]),
        ("tran hong", ["Trần Thị Hồng Nhung"]),
        ("hong tran", ["Trần Thị Hồng Nhung"]),
        ("ho", ["Đặng Thị Hoa", "Trần Thị Hồng Nhung"]),
        ("nhung an", []),
        ("guyen", []),  # the start of a word, not any piece of it
        ("minh p", ["Công ty TNHH Minh Phát"]),
        ("0912 000 00", ["Đặng Thị Hoa", "Nguyễn Văn An", "Trần Thị Hồng Nhung"]),
        ("+84 912000002", ["Đặng Thị Hoa"]),
        ("2200", ["Công ty TNHH Minh Phát"]),
    ],
)
def test_donors_are_found_ignoring_case_and_diacritics(people, q, names):
    found = [d["name"] for d in people.get("/api/v1/donors", query_string={"q": q}).json]
    assert found == names  # in folded name order: "Đặng" among the D's


def test_gifts_are_found_by_their_donors_folded_name(people):
    found = people.get("/api/v1/donations", query_string={"q": "dang hoa"}).json
    assert [d["donor"]["name"] for d in found] == ["Đặng Thị Hoa"]
    assert people.get("/api/v1/donations", query_string={"q": "nguyen"}).json[0]["donor"]["name"] == "Nguyễn Văn An"


def test_pupils_are_found_ignoring_case_and_diacritics(admin, example_round):  # noqa: F811
    names = {n["full_name"] for n in admin.get("/api/v1/nominations", query_string={"q": "dang"}).json}
    assert names and all(name.startswith("Đặng ") or " Đặng" in name for name in names)
    assert "Đặng Thu Giang" in names
    both = admin.get("/api/v1/nominations", query_string={"q": "DANG giang"}).json
    assert [n["full_name"] for n in both] == ["Đặng Thu Giang"]
    by_code = admin.get("/api/v1/nominations", query_string={"q": "HS0700003"}).json
    assert [n["full_name"] for n in by_code] == ["Đặng Thu Giang"]
    round_id = example_round["id"]
    admin.post(f"/api/v1/rounds/{round_id}/allocate")
    assert admin.post(f"/api/v1/rounds/{round_id}/approve").status_code == 200
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards", query_string={"q": "huynh", "page_size": 500}).json
    everyone = admin.get(f"/api/v1/rounds/{round_id}/awards", query_string={"page_size": 500}).json
    expected = [a["id"] for a in everyone if "Huỳnh" in a["full_name"].split()]
    assert expected and [a["id"] for a in awards] == expected


def test_a_donor_is_corrected_audited_and_its_phone_normalised(people, admin):
    nhung = people.get("/api/v1/donors", query_string={"q": "nhung"}).json[0]
    changed = people.patch(
        f"/api/v1/donors/{nhung['id']}", {"name": "Trần Thị Hồng Nhung (Chị Nhung)", "phone": "+84 913 555 777"}
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["phone"] == "0913555777" and changed.json["name"] == "Trần Thị Hồng Nhung (Chị Nhung)"
    assert [d["id"] for d in people.get("/api/v1/donors", query_string={"q": "chi nhung"}).json] == [nhung["id"]]
    event = admin.get("/api/v1/audit", query_string={"entity": "donor"}).json[0]
    assert event["action"] == "donor.update" and event["before"]["phone"] == "0912000003"
    assert event["after"]["phone"] == "0913555777"
    # Another donor's phone is refused: that is a merge.
    taken = people.patch(f"/api/v1/donors/{nhung['id']}", {"phone": "0912000001"})
    assert taken.status_code == 409 and "gộp" in taken.json["message"]
    assert people.patch(f"/api/v1/donors/{nhung['id']}", {"phone": "12"}).status_code == 422
    assert people.patch(f"/api/v1/donors/{nhung['id']}", {}).status_code == 422


def test_a_merge_moves_every_gift_and_keeps_every_stored_receipt(people, admin):
    duplicate = donor_of(people.post("/api/v1/donations", gift({"name": "Chị Nhung", "phone": "0987654321"})))
    donor_of(people.post("/api/v1/donations", gift(donor_id=duplicate["id"], amount=700_000)))
    nhung = people.get("/api/v1/donors", query_string={"q": "tran thi hong"}).json[0]
    gifts = people.get("/api/v1/donations", query_string={"donor": duplicate["id"]}).json
    assert len(gifts) == 2
    receipts = {}
    for donation in gifts:
        response = people.get(donation["receipt"]["pdf"])
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        receipts[donation["id"]] = response.data
    merged = people.post(f"/api/v1/donors/{duplicate['id']}/merge", {"into": nhung["id"]})
    assert merged.status_code == 200, merged.json
    assert merged.json["id"] == nhung["id"] and merged.json["merged_into"] is None
    moved = people.get("/api/v1/donations", query_string={"donor": nhung["id"]}).json
    assert {d["id"] for d in gifts} <= {d["id"] for d in moved}
    assert all(d["donor"]["id"] == nhung["id"] for d in moved)
    assert people.get("/api/v1/donations", query_string={"donor": duplicate["id"]}).json == []
    for donation_id, stored in receipts.items():
        receipt = next(d for d in moved if d["id"] == donation_id)["receipt"]
        assert people.get(receipt["pdf"]).data == stored  # byte for byte what it printed
    # The merged donor's id points at the survivor; it is listed and matched nowhere.
    assert people.get(f"/api/v1/donors/{duplicate['id']}").json["merged_into"] == nhung["id"]
    assert people.get("/api/v1/donors", query_string={"q": "chi"}).json == []
    again = donor_of(people.post("/api/v1/donations", gift({"name": "Chị Nhung", "phone": "0987654321"})))
    assert again["id"] not in (duplicate["id"], nhung["id"])
    event = admin.get("/api/v1/audit", query_string={"entity": "donor"}).json[0]
    assert event["action"] == "donor.merge" and event["after"]["merged_into_id"] == nhung["id"]
    assert sorted(event["after"]["donations_moved"]) == sorted(d["id"] for d in gifts)
    # Merging again, into itself, or a gift to the merged donor's id: refused, saying why.
    assert people.post(f"/api/v1/donors/{duplicate['id']}/merge", {"into": nhung["id"]}).status_code == 409
    assert people.post(f"/api/v1/donors/{nhung['id']}/merge", {"into": nhung["id"]}).status_code == 422
    refused = people.post("/api/v1/donations", gift(donor_id=duplicate["id"]))
    assert refused.status_code == 422 and str(nhung["id"]) in refused.json["message"]


def test_a_viewer_can_neither_correct_nor_merge(app, people, make_api):
    viewer = make_api(app, "viewer", "ST-TP-P2")
    donors = people.get("/api/v1/donors").json
    assert viewer.patch(f"/api/v1/donors/{donors[0]['id']}", {"name": "X"}).status_code == 403
    assert viewer.post(f"/api/v1/donors/{donors[0]['id']}/merge", {"into": donors[1]["id"]}).status_code == 403
