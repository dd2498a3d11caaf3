"""A treasurer's gift is matched only to donors of her own subtree (issue 17, finding 5)."""

from __future__ import annotations

import pytest

DONOR = {"name": "Bà Trần Thị Hồng", "kind": "person", "phone": "0912345678", "address": "12 Lê Lợi, Phường 5"}


def gift(unit: str, **donor) -> dict:
    return {"unit": unit, "amount": 1, "method": "cash", "received_on": "2024-10-01", **donor}


@pytest.fixture
def communes(app, tree, make_api):
    p2 = make_api(app, "treasurer", "ST-TP-P2")
    p5 = make_api(app, "treasurer", "ST-TP-P5")
    first = p5.post("/api/v1/donations", json=gift("ST-TP-P5", donor=DONOR))
    assert first.status_code == 201, first.json
    return p2, p5, first.json["donor"]["id"]


def test_a_phone_of_another_communes_donor_makes_a_new_donor(communes):
    p2, _p5, other = communes
    response = p2.post(
        "/api/v1/donations",
        json=gift("ST-TP-P2", donor={"name": "Chị Hồng", **{"kind": "person"}, "phone": DONOR["phone"]}),
    )
    assert response.status_code == 201, response.json
    assert response.json["donor"]["id"] != other
    assert DONOR["address"] not in str(response.json) and DONOR["name"] not in str(response.json)
    assert p2.get(f"/api/v1/donors/{other}").status_code == 404


def test_another_communes_donor_id_is_refused(communes):
    p2, _p5, other = communes
    response = p2.post("/api/v1/donations", json=gift("ST-TP-P2", donor_id=other))
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["donor_id"]
    assert DONOR["name"] not in str(response.json)
    assert p2.get(f"/api/v1/donors/{other}").status_code == 404


def test_the_same_commune_still_matches_its_donor(communes):
    _p2, p5, other = communes
    response = p5.post("/api/v1/donations", json=gift("ST-TP-P5", donor={**DONOR, "phone": "0912345678"}))
    assert response.status_code == 201
    assert response.json["donor"]["id"] == other
    assert p5.post("/api/v1/donations", json=gift("ST-TP-P5", donor_id=other)).status_code == 201
