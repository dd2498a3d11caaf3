"""Finding 11: rules documents are bounded in size, list lengths and nesting, refused with a 422 at the JSON path."""

from __future__ import annotations

import pytest

from fundsvc.allocation.rules import RulesError, validate_rules

LEAF = {"field": "gpa", "op": "gte", "value": 8}


def rules(**parts) -> dict:
    return {"version": 1, "amounts": {"primary": 1_000_000}, **parts}


def nested(combinator: str, depth: int) -> dict:
    cond = LEAF
    for _ in range(depth):
        cond = {combinator: cond} if combinator == "not" else {combinator: [cond]}
    return cond


def errors_of(doc: dict) -> dict:
    with pytest.raises(RulesError) as refused:
        validate_rules(doc)
    return refused.value.errors


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        (rules(score=[{"when": LEAF, "points": 1}] * 100_000), "rules.score"),
        (rules(tie_break=["gpa"] * 200_000), "rules.tie_break"),
        (rules(eligibility=nested("all", 40)), "rules.eligibility"),
        (rules(eligibility=nested("not", 40)), "rules.eligibility"),
        (rules(eligibility={"any": [LEAF] * 5_000}), "rules.eligibility"),
        (rules(eligibility={"field": "school", "op": "in", "value": ["THCS"] * 10_000}), "rules.eligibility"),
        (rules(eligibility={"field": "school", "op": "eq", "value": "x" * 10_000}), "rules.eligibility.value"),
        (rules(tiers=[{"name": "A", "when": LEAF, "amount": 1}] * 1_000), "rules.tiers"),
    ],
    ids=["score", "tie_break", "all-deep", "not-deep", "any-wide", "in-long", "long-text", "tiers"],
)
def test_oversized_rules_are_refused_at_their_path(doc, path):
    assert path in errors_of(doc)


def test_real_rules_stay_within_the_limits():
    within = rules(
        eligibility={"all": [nested("any", 8), {"field": "school", "op": "in", "value": ["THCS 1"] * 100}]},
        score=[{"when": LEAF, "points": 1}] * 50,
        tie_break=["-gpa", "birth_date"],
    )
    assert validate_rules(within) == within


def test_the_api_answers_422_with_the_path(app, tree, admin):
    response = admin.post(
        "/api/v1/rounds",
        {
            "name": "Đợt thử",
            "academic_year": "2024-2025",
            "fund": "KH",
            "unit": "ST",
            "budget": 1_000_000,
            "rules": rules(eligibility=nested("not", 30)),
        },
    )
    assert response.status_code == 422 and "rules.eligibility" in response.json["errors"]
