"""Every reason the rules write reads back to its parts (ruleset.read_reason), for the pages that word them."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from fundsvc.allocation.ruleset import Facts, Not, Ruleset, condition, read_reason, reference_date, shown

from .test_properties import SETTINGS, YEAR, leaves, nominations

REF = reference_date(YEAR)


@SETTINGS
@given(leaf=leaves(), noms=nominations(min_size=1, max_size=1), negate=st.booleans())
def test_a_failed_comparison_reads_back(leaf, noms, negate):
    cond = condition({"not": leaf} if negate else leaf)
    facts = Facts(noms[0], REF)
    comparison = cond.part if isinstance(cond, Not) else cond
    for text in cond.failures(facts):
        assert read_reason(text) == {
            "kind": "comparison",
            "negated": negate,
            "field": leaf["field"],
            "op": leaf["op"],
            "expected": shown(leaf["value"]),
            "actual": shown(facts[comparison.field]),
        }


def test_the_other_reasons_read_back():
    rules = Ruleset.of(
        {
            "version": 1,
            "min_score": 10,
            "amounts": {"primary": 500_000},
            "eligibility": {"field": "gpa", "op": "gte", "value": 6.5},
        },
        {"field": "unit", "op": "in", "value": ["A: 1", "B"]},
    )
    texts = rules.ineligibility_reasons(
        eligibility_failures=["gpa gte 6.5: 5.9"],
        restriction_failures=["unit in [A: 1, B]: C: 2"],
        score=Decimal(4),
        amount=None,
        level="university",
        status="moved",
        in_round_unit=False,
        unit="X-1",
        awarded_elsewhere=True,
        academic_year=YEAR,
    )
    assert [read_reason(t) for t in texts] == [
        {"kind": "comparison", "negated": False, "field": "gpa", "op": "gte", "expected": "6.5", "actual": "5.9"},
        {"kind": "min_score", "minimum": "10", "score": "4.0"},
        {"kind": "no_amount", "value": "university"},
        {"kind": "status", "value": "moved"},
        {"kind": "outside_unit", "value": "X-1"},
        {
            "kind": "restriction",
            "reason": {
                "kind": "comparison",
                "negated": False,
                "field": "unit",
                "op": "in",
                "expected": "[A: 1, B]",
                "actual": "C: 2",
            },
        },
        {"kind": "awarded_elsewhere", "year": YEAR},
    ]
    assert read_reason("withdrawn") == {"kind": "withdrawn"}
    assert read_reason("something else: 1") == {"kind": "text", "text": "something else: 1"}
