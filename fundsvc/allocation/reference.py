"""The allocation of docs/rules.md, written to be read: one nomination at a time, a plain walk, promotion.

This is the rule. The engine (engine.py) is the same rule made fast for a province's 100,000 nominations, and
tests/allocation/test_reference.py proves the two give the same result byte for byte on random rules and
nominations; a change to either must keep that true. The service runs the engine; this runs in tests and in
bench/allocate_engine.py beside it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from .engine import rules_hash
from .rules import validate_condition, validate_rules
from .ruleset import Facts, Ruleset, format_score, jsonable, reference_date


def allocate(
    nominations: Iterable[Mapping],
    rules: Mapping,
    *,
    budget: int,
    available: int,
    restriction: Mapping | None = None,
    academic_year: str,
) -> dict:
    """docs/rules.md "Result" (without "round"), plus `ranked`: every ranked nomination as `Ranking.entry` gives it."""
    rules = validate_rules(rules)
    ruleset = Ruleset.of(rules, validate_condition(restriction) if restriction is not None else None)
    ref = reference_date(academic_year)
    eligible, ineligible = _judge(sorted(nominations, key=lambda n: n["id"]), ruleset, ref, academic_year)
    start = max(0, min(budget, available))
    awarded, waitlisted, ranked, remaining = _walk(_ranking(eligible, ruleset), ruleset, start)
    return {
        "budget": budget,
        "allocated": start - remaining,
        "remaining": remaining,
        "rules_hash": rules_hash(rules),
        "awarded": awarded,
        "waitlisted": waitlisted,
        "ineligible": ineligible,
        "ranked": ranked,
    }


class _Judged(NamedTuple):
    nomination: Mapping
    facts: Facts
    score: Decimal
    amount: int
    tier: str | None


def _judge(nominations: list[Mapping], ruleset: Ruleset, ref, academic_year: str) -> tuple[list[_Judged], list]:
    """1. Each nomination on its own: its score and amount, and whether it is ranked or why not."""
    eligible: list[_Judged] = []
    ineligible: list[dict] = []
    for n in nominations:
        facts = Facts(n, ref)
        score = ruleset.score(facts)
        amount, tier = ruleset.amount(facts)
        if ruleset.eligible(
            conditions_hold=ruleset.conditions_hold(facts),
            score=score,
            amount=amount,
            status=n.get("status"),
            in_round_unit=n.get("in_round_unit", True),
            awarded_elsewhere=n.get("awarded_elsewhere"),
        ):
            eligible.append(_Judged(n, facts, score, amount, tier))
            continue
        reasons = ruleset.reasons_for(
            n,
            eligibility_failures=ruleset.eligibility.failures(facts) if ruleset.eligibility else [],
            restriction_failures=ruleset.restriction.failures(facts) if ruleset.restriction else [],
            score=score,
            amount=amount,
            academic_year=academic_year,
        )
        ineligible.append({"nomination_id": n["id"], "student_code": n.get("student_code"), "reasons": reasons})
    return eligible, ineligible


def _ranking(eligible: list[_Judged], ruleset: Ruleset) -> list[_Judged]:
    """2. Score, highest first; then each tie-break key (empty values last either way); then nomination id."""

    def before(x: _Judged, y: _Judged) -> int:
        if x.score != y.score:
            return -1 if x.score > y.score else 1
        for field, descending in ruleset.tie_break:
            a, b = x.facts[field], y.facts[field]
            if a is None and b is None:
                continue
            if a is None or b is None:
                return 1 if a is None else -1
            if a != b:
                return (-1 if a > b else 1) if descending else (-1 if a < b else 1)
        return -1 if x.nomination["id"] < y.nomination["id"] else 1

    return sorted(eligible, key=functools.cmp_to_key(before))


def _walk(ranking: list[_Judged], ruleset: Ruleset, start: int) -> tuple[list, list, list, int]:
    """3. Once down the ranking: too dear for what remains → budget; a quota would pass a limit → quota;
    else awarded, and every quota that applies counts it. Returns awarded, waitlisted, ranked, remaining."""
    remaining = start
    usage: list[dict[Any, tuple[int, int]]] = [{} for _ in ruleset.quotas]
    awarded, waitlisted, ranked = [], [], []
    for rank, (n, facts, score, amount, tier) in enumerate(ranking, start=1):
        entry = {
            "nomination_id": n["id"],
            "student_code": n.get("student_code"),
            "rank": rank,
            "score": format_score(score),
            "amount": amount,
        }
        stored = {**entry, "tier": tier, "outcome": None, "reason": None, "quota": None, "remaining_before": remaining}
        if ruleset.quotas:
            stored["groups"] = {q.group: jsonable(facts[q.group]) for q in ruleset.quotas}
        applicable = [(q, facts[q.group]) for q in ruleset.quotas if q.applies_to(facts[q.group])]
        stop = None
        if amount <= remaining:
            for q, value in applicable:
                used_awards, used_amount = usage[q.index].get(value, (0, 0))
                over = q.exceeded(used_awards, used_amount, amount)
                if over:
                    stop = q.stop(value, over)
                    stored["quota_usage"] = {"awards": used_awards, "amount": used_amount}
                    break
        if amount > remaining:
            waitlisted.append({**entry, "reason": "budget"})
            stored.update(outcome="waitlisted", reason="budget")
        elif stop is not None:
            waitlisted.append({**entry, "reason": "quota", "quota": stop})
            stored.update(outcome="waitlisted", reason="quota", quota=dict(stop))
        else:
            remaining -= amount
            for q, value in applicable:
                used_awards, used_amount = usage[q.index].get(value, (0, 0))
                usage[q.index][value] = (used_awards + 1, used_amount + amount)
            awarded.append({**entry, "tier": tier})
            stored["outcome"] = "awarded"
        ranked.append(stored)
    return awarded, waitlisted, ranked, remaining


def promote_after_cancel(
    ranked: Iterable[Mapping],
    rules: Mapping,
    *,
    awarded_ids: Iterable[int],
    remaining: int,
    exclude_ids: Iterable[int] = (),
) -> list[Mapping]:
    """docs/rules.md "Promotion after a cancellation": the walk resumed with the money that came back. In rank
    order, each entry neither awarded nor excluded whose amount fits what remains and every quota (counting the
    awards held now and those promoted before it) is promoted."""
    ruleset = Ruleset.of(rules)
    holding, excluded = set(awarded_ids), set(exclude_ids)
    entries = sorted(ranked, key=lambda e: e["rank"])

    def group_values(e: Mapping) -> list:
        facts = Facts(e.get("groups") or e, None)
        return [(q, facts[q.group]) for q in ruleset.quotas if q.applies_to(facts[q.group])]

    def usage(q, value) -> tuple[int, int]:
        held = [e for e in entries if e["nomination_id"] in holding and (q, value) in group_values(e)]
        return len(held), sum(e["amount"] for e in held)

    promoted = []
    for e in entries:
        if e["nomination_id"] in holding or e["nomination_id"] in excluded or e["amount"] > remaining:
            continue
        if not any(q.exceeded(*usage(q, value), e["amount"]) for q, value in group_values(e)):
            promoted.append(e)
            holding.add(e["nomination_id"])
            remaining -= e["amount"]
    return promoted
