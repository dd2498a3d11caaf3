"""docs/rules.md worked example: rules_example.json on nominations_sample.csv must give the expected file exactly."""

from __future__ import annotations

import json
import random

import pytest

from fundsvc.allocation.engine import allocate, rules_hash

YEAR = "2024-2025"


@pytest.fixture(scope="module")
def result(sample_nominations, example_rules):
    return allocate(
        sample_nominations,
        example_rules,
        budget=40_000_000,
        available=50_000_000,
        academic_year=YEAR,
    ).as_dict()


def test_sample_has_120_rows(sample_nominations):
    assert len(sample_nominations) == 120
    assert [n["id"] for n in sample_nominations] == list(range(1, 121))


def test_totals(result, expected_allocation):
    for key in ("budget", "allocated", "remaining"):
        assert result[key] == expected_allocation[key]


def test_awarded_exactly(result, expected_allocation):
    keys = ("student_code", "rank", "score", "amount", "tier")
    assert [{k: e[k] for k in keys} for e in result["awarded"]] == [
        {k: e[k] for k in keys} for e in expected_allocation["awarded"]
    ]


def test_waitlisted_exactly(result, expected_allocation):
    got = [{k: e[k] for k in expected_allocation["waitlisted"][0]} for e in result["waitlisted"]]
    assert got == expected_allocation["waitlisted"]


def test_ineligible_set(result, expected_allocation):
    assert sorted(e["student_code"] for e in result["ineligible"]) == expected_allocation["ineligible"]
    assert all(e["reasons"] for e in result["ineligible"])


def test_ineligible_reasons_are_readable(result):
    by_code = {e["student_code"]: e["reasons"] for e in result["ineligible"]}
    assert by_code["HS0700003"] == ["gpa gte 6.5: 6.4"]
    assert by_code["HS0700013"] == ["household in [poor, near_poor, hardship]: none"]
    assert by_code["HS0700018"] == ["conduct in [excellent, good]: pass"]


def test_quota_waitlist_names_the_quota(result):
    first = result["waitlisted"][0]
    assert first["reason"] == "quota"
    assert first["quota"] == {
        "index": 0,
        "group": "unit",
        "value": "ST-VC-VH",
        "max_awards": 3,
    }


def test_result_shape(result, example_rules):
    assert list(result) == [
        "budget",
        "allocated",
        "remaining",
        "rules_hash",
        "awarded",
        "waitlisted",
        "ineligible",
    ]
    assert result["rules_hash"] == rules_hash(example_rules)
    assert result["rules_hash"].startswith("sha256:") and len(result["rules_hash"]) == 7 + 64
    assert set(result["awarded"][0]) == {
        "nomination_id",
        "student_code",
        "rank",
        "score",
        "amount",
        "tier",
    }
    assert set(result["waitlisted"][0]) >= {
        "nomination_id",
        "student_code",
        "rank",
        "score",
        "amount",
        "reason",
    }
    assert set(result["ineligible"][0]) == {"nomination_id", "student_code", "reasons"}
    json.dumps(result)


def test_byte_for_byte_whatever_the_input_order(sample_nominations, example_rules, result):
    rng = random.Random(7)
    for _ in range(5):
        noms = list(sample_nominations)
        rng.shuffle(noms)
        again = allocate(
            noms,
            example_rules,
            budget=40_000_000,
            available=50_000_000,
            academic_year=YEAR,
        )
        assert json.dumps(again.as_dict(), ensure_ascii=False) == json.dumps(result, ensure_ascii=False)


def test_available_smaller_than_budget_caps_the_walk(sample_nominations, example_rules):
    r = allocate(
        sample_nominations,
        example_rules,
        budget=40_000_000,
        available=5_000_000,
        academic_year=YEAR,
    )
    d = r.as_dict()
    assert d["budget"] == 40_000_000
    assert d["allocated"] <= 5_000_000
    assert d["remaining"] == 5_000_000 - d["allocated"]
    assert any(w["reason"] == "budget" for w in d["waitlisted"])
