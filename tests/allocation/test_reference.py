"""The engine equals the reference (fundsvc/allocation/reference.py), byte for byte.

The reference is docs/rules.md written to be read; the engine is the same rule made fast. Every speed trick in
the engine must keep these passing.
"""

from __future__ import annotations

import json
import random

from hypothesis import given
from hypothesis import strategies as st

from fundsvc.allocation import engine, reference
from fundsvc.allocation.engine import NominationColumns, facts_read

from .test_properties import SETTINGS, YEAR, conditions, money, nominations, rules_docs


def _bytes(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False).encode()


def _both(noms, rules, **kwargs):
    fast = engine.allocate(noms, rules, academic_year=YEAR, **kwargs)
    slow = reference.allocate(noms, rules, academic_year=YEAR, **kwargs)
    ranked = slow.pop("ranked")
    return fast, slow, ranked


@SETTINGS
@given(
    noms=nominations(),
    rules=rules_docs(),
    budget=money,
    available=money,
    restriction=st.one_of(st.none(), conditions),
)
def test_engine_equals_reference(noms, rules, budget, available, restriction):
    fast, slow, ranked = _both(noms, rules, budget=budget, available=available, restriction=restriction)
    assert _bytes(fast.as_dict()) == _bytes(slow)
    assert _bytes(fast.ranked) == _bytes(ranked)


@SETTINGS
@given(noms=nominations(), rules=rules_docs(), budget=money, seed=st.integers(0, 2**32))
def test_engine_equals_reference_by_column_and_in_any_order(noms, rules, budget, seed):
    """The engine fed column by column (as the service loads nominations) and in any order is still the reference."""
    shuffled = list(noms)
    random.Random(seed).shuffle(shuffled)
    columns = NominationColumns.of(shuffled, facts_read(rules, academic_year=YEAR))
    fast = engine.allocate(columns, rules, budget=budget, available=budget, academic_year=YEAR)
    slow = reference.allocate(noms, rules, budget=budget, available=budget, academic_year=YEAR)
    ranked = slow.pop("ranked")
    assert _bytes(fast.as_dict()) == _bytes(slow)
    assert _bytes(fast.ranked) == _bytes(ranked)


@SETTINGS
@given(noms=nominations(min_size=1), rules=rules_docs(), budget=money, data=st.data())
def test_promotion_equals_reference(noms, rules, budget, data):
    fast, _slow, _ranked = _both(noms, rules, budget=budget, available=budget)
    ranked = fast.ranked
    awarded = [e["nomination_id"] for e in ranked if e["outcome"] == "awarded"]
    cancelled = set(data.draw(st.lists(st.sampled_from(awarded), unique=True)) if awarded else [])
    holding = set(awarded) - cancelled
    remaining = fast.remaining + sum(e["amount"] for e in ranked if e["nomination_id"] in cancelled)
    kwargs = {"awarded_ids": holding, "remaining": remaining, "exclude_ids": cancelled}
    got = engine.promote_after_cancel(ranked, rules, **kwargs)
    want = reference.promote_after_cancel(ranked, rules, **kwargs)
    assert [id(e) for e in got] == [id(e) for e in want]


def test_worked_example_equals_reference(sample_nominations, example_rules, expected_allocation):
    fast, slow, ranked = _both(sample_nominations, example_rules, budget=40_000_000, available=50_000_000)
    assert _bytes(fast.as_dict()) == _bytes(slow)
    assert _bytes(fast.ranked) == _bytes(ranked)
    assert slow["allocated"] == expected_allocation["allocated"]
