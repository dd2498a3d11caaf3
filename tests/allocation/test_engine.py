"""Conditions, score, amounts, ranking, the walk, explanations and promotion after a cancellation."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from fundsvc.allocation.engine import (
    NominationNotFound,
    allocate,
    amount_for,
    evaluate,
    explain,
    format_score,
    promote_after_cancel,
    rules_hash,
    score,
)
from fundsvc.allocation.operators import OPERATORS
from fundsvc.allocation.rules import PRESETS, RulesError

YEAR = "2024-2025"


def nom(id, **kw):
    base = {
        "id": id,
        "student_code": f"HS{id:04d}",
        "full_name": f"Học sinh {id}",
        "birth_date": dt.date(2012, 5, 1),
        "gender": "female",
        "ethnicity": "Kinh",
        "ethnic_minority": False,
        "school": "S1",
        "grade": "7A",
        "grade_number": 7,
        "level": "lower_secondary",
        "unit": "ST-MX-DT",
        "district": "ST-MX",
        "household": "poor",
        "orphan": False,
        "disability": False,
        "gpa": Decimal("8.0"),
        "academic_result": "good",
        "conduct": "good",
        "achievement": "none",
        "guardian": None,
        "note": None,
        "status": "active",
        "in_round_unit": True,
        "awarded_elsewhere": False,
    }
    base.update(kw)
    return base


SIMPLE = {
    "version": 1,
    "score": [{"field": "gpa", "points_per_unit": 10}],
    "amounts": {
        "primary": 500000,
        "lower_secondary": 1000000,
        "upper_secondary": 1500000,
        "university": 3000000,
    },
}


def run(noms, rules=SIMPLE, budget=10**9, available=10**9, **kw):
    return allocate(noms, rules, budget=budget, available=available, academic_year=YEAR, **kw).as_dict()


# --- conditions ---


@pytest.mark.parametrize("op", list(OPERATORS))
@pytest.mark.parametrize("empty", [None, ""])
def test_comparison_on_an_empty_field_is_false(op, empty):
    value = [Decimal(5)] if op in ("in", "not_in") else 5
    cond = {"field": "gpa", "op": op, "value": value}
    assert evaluate(cond, nom(1, gpa=empty))[0] is False
    assert evaluate({"not": cond}, nom(1, gpa=empty))[0] is True
    text_value = ["x"] if op in ("in", "not_in") else "x"
    if op in ("eq", "ne", "in", "not_in"):
        assert evaluate({"field": "note", "op": op, "value": text_value}, nom(1, note=empty))[0] is False
        assert (
            evaluate(
                {"field": "orphan", "op": op, "value": [True] if "in" in op else True},
                nom(1, orphan=empty),
            )[0]
            is False
        )


# What each operator answers for a value below, at and above 8 (or outside and inside the list [8]), as RULES
# are written by people: the table is the specification, kept apart from the operators' own definitions.
TRUTH = {
    "eq": (False, True, False),
    "ne": (True, False, True),
    "in": (False, True, False),
    "not_in": (True, False, True),
    "gt": (False, False, True),
    "gte": (False, True, True),
    "lt": (True, False, False),
    "lte": (True, True, False),
}


def test_every_operator_on_its_boundary():
    assert set(TRUTH) == set(OPERATORS)
    for op, expected in TRUTH.items():
        value = [8] if op in ("in", "not_in") else 8
        for gpa, answer in zip(("7.99", "8.00", "8.01"), expected, strict=True):
            cond = {"field": "gpa", "op": op, "value": value}
            assert evaluate(cond, nom(1, gpa=Decimal(gpa)))[0] is answer, (op, gpa)
        if op in ("in", "not_in"):
            continue  # lists of dates are not part of the language
        for birth, answer in zip(
            (dt.date(2012, 4, 30), dt.date(2012, 5, 1), dt.date(2012, 5, 2)), expected, strict=True
        ):
            cond = {"field": "birth_date", "op": op, "value": "2012-05-01"}
            assert evaluate(cond, nom(1, birth_date=birth))[0] is answer, (op, birth)


def test_exact_decimals():
    assert evaluate({"field": "gpa", "op": "gte", "value": 8.5}, nom(1, gpa=Decimal("8.5")))[0]
    assert not evaluate({"field": "gpa", "op": "gt", "value": 8.5}, nom(1, gpa=Decimal("8.5")))[0]
    assert evaluate({"field": "gpa", "op": "eq", "value": 0.1}, nom(1, gpa=Decimal("0.1")))[0]
    assert evaluate({"field": "gpa", "op": "in", "value": [7, 8.5]}, nom(1, gpa=Decimal("7.0")))[0]


def test_none_household_is_a_value_not_empty():
    assert evaluate({"field": "household", "op": "eq", "value": "none"}, nom(1, household="none"))[0]
    assert evaluate({"field": "household", "op": "ne", "value": "poor"}, nom(1, household="none"))[0]
    assert not evaluate({"field": "household", "op": "ne", "value": "poor"}, nom(1, household=None))[0]


def test_age_on_first_september():
    on_the_day = nom(1, birth_date=dt.date(2014, 9, 1))
    day_after = nom(2, birth_date=dt.date(2014, 9, 2))
    cond = {"field": "age", "op": "gte", "value": 10}
    assert evaluate(cond, on_the_day, academic_year=YEAR)[0]
    ok, checks = evaluate(cond, day_after, academic_year=YEAR)
    assert not ok and checks[0].actual == 9
    assert evaluate(cond, {"age": 10})[0]


def test_dates_compare_as_dates():
    cond = {"field": "birth_date", "op": "lt", "value": "2013-01-01"}
    assert evaluate(cond, nom(1))[0]
    assert not evaluate(cond, nom(1, birth_date=dt.date(2013, 1, 1)))[0]


def test_evaluate_reports_every_check():
    cond = {
        "any": [
            {"field": "gpa", "op": "gte", "value": 9},
            {"not": {"field": "orphan", "op": "eq", "value": True}},
        ]
    }
    ok, checks = evaluate(cond, nom(1, orphan=True))
    assert ok is False
    assert [(c.field, c.op, c.expected, c.actual, c.result, c.negated) for c in checks] == [
        ("gpa", "gte", 9, Decimal("8.0"), False, False),
        ("orphan", "eq", True, True, True, True),
    ]
    assert checks[0].as_dict() == {
        "field": "gpa",
        "op": "gte",
        "expected": 9,
        "actual": "8.0",
        "result": False,
        "negated": False,
    }


# --- score and amounts ---


def test_score_terms(example_rules):
    s, terms = score(example_rules, nom(1, household="near_poor", orphan=True, gpa=Decimal("7.3")))
    assert s == Decimal("71.5")
    assert [t.contribution for t in terms] == [0, 20, 15, 0, 0, Decimal("36.5")]
    assert terms[5].as_dict()["value"] == "7.3"
    s, terms = score(example_rules, nom(1, household="none", gpa=None))
    assert s == 0 and terms[5].applied is False


def test_format_score():
    assert format_score(Decimal(101)) == "101.0"
    assert format_score(Decimal("86.50")) == "86.5"
    assert format_score(Decimal("36.25")) == "36.25"
    assert format_score(Decimal("1E+2")) == "100.0"
    assert format_score(Decimal(0)) == "0.0"


def test_amount_for(example_rules):
    assert amount_for(example_rules, nom(1)) == (1000000, None)
    assert amount_for(example_rules, nom(1, achievement="province", level="primary")) == (3000000, "Khuyến tài")
    assert amount_for(example_rules, nom(1, level=None)) == (None, None)
    rules = dict(SIMPLE, amounts={"primary": 1})
    assert amount_for(rules, nom(1)) == (None, None)


# --- eligibility ---


def test_every_reason_is_listed(example_rules):
    n = nom(
        1,
        household="none",
        gpa=Decimal("5.9"),
        conduct=None,
        level=None,
        status="withdrawn",
        in_round_unit=False,
        awarded_elsewhere=True,
    )
    restriction = {"field": "district", "op": "eq", "value": "ST-TP"}
    d = run([n], dict(example_rules, min_score=40), restriction=restriction)
    assert d["awarded"] == d["waitlisted"] == []
    assert d["ineligible"] == [
        {
            "nomination_id": 1,
            "student_code": "HS0001",
            "reasons": [
                "household in [poor, near_poor, hardship]: none",
                "gpa gte 6.5: 5.9",
                "conduct in [excellent, good]: empty",
                "score gte min_score 40: 29.5",
                "no amount for level: empty",
                "withdrawn",
                "unit outside the round's units: ST-MX-DT",
                "fund restriction: district eq ST-TP: ST-MX",
                "already holds an award in academic year 2024-2025",
            ],
        }
    ]


def test_one_award_per_year_can_be_turned_off():
    n = nom(1, awarded_elsewhere=True)
    assert run([n])["ineligible"]
    assert run([n], dict(SIMPLE, one_award_per_year=False))["awarded"][0]["nomination_id"] == 1


def test_reasons_under_not_and_any():
    rules = dict(
        SIMPLE,
        eligibility={
            "all": [
                {"not": {"field": "achievement", "op": "eq", "value": "none"}},
                {
                    "any": [
                        {"field": "orphan", "op": "eq", "value": True},
                        {"field": "age", "op": "lt", "value": 6},
                    ]
                },
            ]
        },
    )
    d = run([nom(1)], rules)
    assert d["ineligible"][0]["reasons"] == [
        "not achievement eq none: none",
        "orphan eq true: false",
        "age lt 6: 12",
    ]


def test_restriction_is_validated():
    with pytest.raises(RulesError) as exc:
        run([nom(1)], restriction={"field": "nope", "op": "eq", "value": 1})
    assert list(exc.value.errors) == ["restriction.field"]


def test_bad_rules_are_rejected():
    with pytest.raises(RulesError):
        run([nom(1)], dict(SIMPLE, quotas=[{"group": "unit"}]))


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError):
        run([nom(1), nom(1)])


# --- ranking ---


def test_order_score_then_tie_breaks_then_id():
    rules = dict(
        SIMPLE,
        score=[{"when": {"field": "orphan", "op": "eq", "value": True}, "points": 10}],
        tie_break=["-gpa", "birth_date"],
    )
    noms = [
        nom(5, gpa=Decimal(9), birth_date=dt.date(2012, 1, 2)),
        nom(4, gpa=Decimal(9), birth_date=dt.date(2012, 1, 1)),
        nom(3, gpa=None),
        nom(2, gpa=Decimal("9.5")),
        nom(1, gpa=Decimal(9), birth_date=dt.date(2012, 1, 1)),
        nom(9, orphan=True, gpa=Decimal(1)),
        nom(8, gpa=Decimal(9), birth_date=None),
    ]
    d = run(noms, rules)
    assert [e["nomination_id"] for e in d["awarded"]] == [9, 2, 1, 4, 5, 8, 3]
    assert [e["rank"] for e in d["awarded"]] == list(range(1, 8))


def test_descending_text_tie_break_keeps_empties_last():
    rules = dict(SIMPLE, score=[], tie_break=["-school", "full_name"])
    noms = [
        nom(1, school="A"),
        nom(2, school=""),
        nom(3, school="C", full_name="b"),
        nom(4, school="C", full_name="a"),
        nom(5, school=None),
    ]
    assert [e["nomination_id"] for e in run(noms, rules)["awarded"]] == [4, 3, 1, 2, 5]


# --- the walk ---


def test_budget_miss_does_not_stop_the_walk():
    noms = [
        nom(1, gpa=Decimal(9), level="university"),
        nom(2, gpa=Decimal(8), level="primary"),
    ]
    d = run(noms, budget=1_000_000, available=10**9)
    assert [(e["nomination_id"], e["reason"]) for e in d["waitlisted"]] == [(1, "budget")]
    assert [e["nomination_id"] for e in d["awarded"]] == [2]
    assert (d["allocated"], d["remaining"]) == (500000, 500000)


def test_available_caps_the_budget():
    d = run([nom(1), nom(2)], budget=10**9, available=1_500_000)
    assert (d["budget"], d["allocated"], d["remaining"]) == (10**9, 1_000_000, 500_000)


def test_quotas_by_group_and_by_value():
    rules = dict(
        SIMPLE,
        quotas=[
            {"group": "school", "max_amount": 2_000_000},
            {"group": "level", "value": "primary", "max_awards": 1},
        ],
    )
    noms = [
        nom(1, gpa=Decimal("9.9"), school="A"),
        nom(2, gpa=Decimal("9.8"), school="A"),
        nom(3, gpa=Decimal("9.7"), school="A"),
        nom(4, gpa=Decimal("9.6"), school="B", level="primary"),
        nom(5, gpa=Decimal("9.5"), school="B", level="primary"),
        nom(6, gpa=Decimal("9.4"), school=None),
    ]
    d = run(noms, rules)
    assert [e["nomination_id"] for e in d["awarded"]] == [1, 2, 4, 6]
    assert [(e["nomination_id"], e["quota"]) for e in d["waitlisted"]] == [
        (3, {"index": 0, "group": "school", "value": "A", "max_amount": 2_000_000}),
        (5, {"index": 1, "group": "level", "value": "primary", "max_awards": 1}),
    ]


# --- explain ---


def test_explain_awarded(sample_nominations, example_rules):
    x = explain(
        sample_nominations,
        example_rules,
        budget=40_000_000,
        available=50_000_000,
        restriction=None,
        academic_year=YEAR,
        nomination_id=35,
    )
    assert (x["outcome"], x["rank"], x["score"], x["amount"], x["tier"]) == (
        "awarded",
        1,
        "101.0",
        1000000,
        None,
    )
    assert x["eligibility"]["result"] is True
    assert len(x["eligibility"]["checks"]) == 3
    assert sum(Decimal(t["contribution"]) for t in x["score_terms"]) == Decimal("101.0")
    assert x["remaining_before"] == 40_000_000
    assert "awarded" in x["summary"]
    json.dumps(x)


def test_explain_quota(sample_nominations, example_rules):
    x = explain(
        sample_nominations,
        example_rules,
        budget=40_000_000,
        available=50_000_000,
        restriction=None,
        academic_year=YEAR,
        nomination_id=6,
    )
    assert (x["outcome"], x["reason"], x["rank"]) == ("waitlisted", "quota", 11)
    assert x["quota"] == {
        "index": 0,
        "group": "unit",
        "value": "ST-VC-VH",
        "max_awards": 3,
        "used_awards": 3,
        "used_amount": x["quota"]["used_amount"],
    }
    assert "unit = ST-VC-VH" in x["summary"] and "max_awards 3" in x["summary"]


def test_explain_budget_and_ineligible():
    noms = [
        nom(1, gpa=Decimal(9), level="university"),
        nom(2, household="none", gpa=Decimal(4)),
    ]
    rules = dict(SIMPLE, eligibility={"field": "gpa", "op": "gte", "value": 5})
    x = explain(
        noms,
        rules,
        budget=1_000_000,
        available=10**9,
        restriction=None,
        academic_year=YEAR,
        nomination_id=1,
    )
    assert (x["outcome"], x["reason"], x["remaining_before"], x["amount"]) == (
        "waitlisted",
        "budget",
        1_000_000,
        3000000,
    )
    assert "only 1000000 remaining" in x["summary"]
    y = explain(
        noms,
        rules,
        budget=1_000_000,
        available=10**9,
        restriction=None,
        academic_year=YEAR,
        nomination_id=2,
    )
    assert y["outcome"] == "ineligible" and y["rank"] is None
    assert y["reasons"] == ["gpa gte 5: 4"]
    assert y["eligibility"]["checks"][0]["actual"] == "4"
    with pytest.raises(NominationNotFound):
        explain(
            noms,
            rules,
            budget=1,
            available=1,
            restriction=None,
            academic_year=YEAR,
            nomination_id=99,
        )


# --- promotion after a cancellation ---


def _ids(entries):
    return [e["nomination_id"] for e in entries]


def test_promote_after_cancel():
    rules = dict(SIMPLE, quotas=[{"group": "unit", "max_awards": 2}])
    noms = [
        nom(1, gpa=Decimal("9.9"), unit="U1"),
        nom(2, gpa=Decimal("9.8"), unit="U1"),
        nom(3, gpa=Decimal("9.7"), unit="U1"),  # quota
        nom(4, gpa=Decimal("9.6"), unit="U2", level="university"),  # budget
        nom(5, gpa=Decimal("9.5"), unit="U2"),
    ]
    a = allocate(noms, rules, budget=3_000_000, available=10**9, academic_year=YEAR)
    assert _ids(a.awarded) == [1, 2, 5]
    awarded = {1, 2, 5}
    # nothing fits now
    assert promote_after_cancel(a.ranked, rules, awarded_ids=awarded, remaining=a.remaining) == []
    # award 1 cancelled: its quota place and its 1,000,000 free up; 3 (same unit) is the best that fits
    got = promote_after_cancel(
        a.ranked, rules, awarded_ids=awarded - {1}, remaining=a.remaining + 1_000_000, exclude_ids={1}
    )
    assert _ids(got) == [3]
    # 3,000,000 back with 1 and 3 out of the race: the university pupil (rank 4) takes all of it
    got = promote_after_cancel(a.ranked, rules, awarded_ids={2, 5}, remaining=3_000_000, exclude_ids={1, 3})
    assert _ids(got) == [4]
    # rows from the database: group values at top level
    rows = [
        {"nomination_id": x["nomination_id"], "rank": x["rank"], "amount": x["amount"], "unit": x["groups"]["unit"]}
        for x in a.ranked
    ]
    assert _ids(promote_after_cancel(rows, rules, awarded_ids={2, 5}, remaining=1_000_000, exclude_ids={1})) == [3]


def test_promotion_uses_the_money_that_came_back():
    """A 3,000,000 award cancelled frees enough for the next three 1,000,000 pupils, in rank order."""
    noms = [nom(1, gpa=Decimal("9.9"), level="university")] + [
        nom(i, gpa=Decimal("9.0") - Decimal(i) / 10) for i in range(2, 7)
    ]
    a = allocate(noms, SIMPLE, budget=3_500_000, available=10**9, academic_year=YEAR)
    assert _ids(a.awarded) == [1] and a.remaining == 500_000
    got = promote_after_cancel(a.ranked, SIMPLE, awarded_ids=set(), remaining=3_500_000, exclude_ids={1})
    assert _ids(got) == [2, 3, 4]
    assert [e["rank"] for e in got] == [2, 3, 4]


# --- hashes ---


def test_hashes():
    assert rules_hash({"b": 1, "a": [1.5, "ư"]}) == rules_hash({"a": [1.5, "ư"], "b": 1})
    assert rules_hash(SIMPLE) != rules_hash(PRESETS["khuyen_hoc"])
