"""The request boundary (issue 17, finding 12): NUL, lone surrogates and deep JSON are refused, never a 500."""

from __future__ import annotations

import pytest

from fundsvc.boundary import MAX_JSON_DEPTH, MalformedInput, forbidden_characters

GIFT = {"donor": {"name": "Nguyễn Văn A", "kind": "person"}, "unit": "ST-TP-P2", "amount": 100000, "method": "cash"}
GIFT["received_on"] = "2024-10-01"


@pytest.fixture
def treasurer(app, tree, make_api):
    return make_api(app, "treasurer", "ST-TP-P2")


def post_raw(api, url: str, body: str | bytes):
    return api.client.post(url, data=body, headers={**api._h(None), "Content-Type": "application/json"})


def test_nul_in_a_donor_name_is_refused_at_its_path(treasurer):
    gift = {**GIFT, "donor": {"name": "Nguyễn\x00Văn A", "kind": "person"}}
    response = treasurer.post("/api/v1/donations", json=gift)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["donor.name"]
    assert "NUL" in response.json["errors"]["donor.name"][0]
    assert treasurer.get("/api/v1/donations").json == []


def test_lone_surrogate_is_refused_at_its_path(treasurer):
    body = '{"donor": {"name": "A", "kind": "person"}, "unit": "ST-TP-P2", "amount": 1, "method": "cash",'
    body += ' "purpose": "x\\ud800y"}'
    response = post_raw(treasurer, "/api/v1/donations", body)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["purpose"]


def test_lone_surrogate_in_a_key_is_refused(treasurer):
    response = post_raw(treasurer, "/api/v1/donations", '{"\\udc00": 1}')
    assert response.status_code == 422


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 2, 2_000, 100_000])
def test_deep_json_is_a_400(treasurer, depth):
    response = post_raw(treasurer, "/api/v1/donations", "[" * depth + "]" * depth)
    assert response.status_code == 400
    assert set(response.json) == {"code", "status", "message", "errors"}


def test_deep_rules_are_refused_not_a_500(app, tree, make_api):
    committee = make_api(app, "committee")
    for op, depth in (("all", 300), ("not", 900)):
        condition: dict = {"field": "gpa", "op": "gte", "value": 5}
        for _ in range(depth):
            condition = {op: [condition]} if op == "all" else {"not": condition}
        rules = {"eligibility": condition, "score": [{"field": "gpa", "weight": 1}]}
        body = {"name": "R", "academic_year": "2024-2025", "fund": "KH", "unit": "ST", "budget": 1, "rules": rules}
        response = committee.post("/api/v1/rounds", json=body)
        assert response.status_code in (400, 422), response.json
        assert set(response.json) == {"code", "status", "message", "errors"}


def test_nul_in_a_query_argument_is_refused(treasurer):
    response = treasurer.get("/api/v1/donations?donor=a%00b")
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["donor"]


def test_nul_in_a_web_form_is_refused(client, app, tree):
    response = client.post("/login", data={"username": "a\x00", "password": "x"})
    assert response.status_code == 422


def test_ordinary_vietnamese_text_passes(treasurer):
    response = treasurer.post("/api/v1/donations", json={**GIFT, "purpose": "Ủng hộ quỹ — năm 2024 ✓"})
    assert response.status_code == 201, response.json


def test_the_walk_names_every_path_and_never_recurses():
    document = {"a": ["ok", "b\x00"], "c": {"d": "\ud800"}}
    assert set(forbidden_characters(document)) == {"a[1]", "c.d"}
    deep: list = []
    for _ in range(MAX_JSON_DEPTH + 1):
        deep = [deep]
    with pytest.raises(MalformedInput):
        forbidden_characters(deep)
    assert forbidden_characters([[[]]]) == {}
