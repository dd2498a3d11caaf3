"""Property tests of the engine on random nominations and random (valid) rules."""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundsvc.allocation.engine import allocate, evaluate, explain, promote_after_cancel
from fundsvc.allocation.rules import FIELDS, LEVELS, validate_rules

YEAR = "2024-2025"
REF = dt.date(2024, 9, 1)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EMPTY = st.sampled_from([None, ""])
DOMAIN = {
    "gpa": st.one_of(EMPTY, st.integers(0, 100).map(lambda i: Decimal(i) / 10)),
    "household": st.one_of(EMPTY, st.sampled_from(["poor", "near_poor", "hardship", "none"])),
    "conduct": st.one_of(EMPTY, st.sampled_from(["excellent", "good", "pass", "fail"])),
    "academic_result": st.one_of(EMPTY, st.sampled_from(["excellent", "good", "pass", "fail"])),
    "achievement": st.one_of(EMPTY, st.sampled_from(["national", "province", "district", "school", "none"])),
    "level": st.one_of(EMPTY, st.sampled_from(LEVELS)),
    "gender": st.one_of(EMPTY, st.sampled_from(["male", "female"])),
    "unit": st.sampled_from(["A-1", "A-2", "B-1"]),
    "district": st.one_of(EMPTY, st.sampled_from(["A", "B"])),
    "school": st.one_of(EMPTY, st.sampled_from(["S1", "S2", "S3"])),
    "ethnicity": st.one_of(EMPTY, st.sampled_from(["Kinh", "Khmer", "Hoa"])),
    "orphan": st.one_of(st.none(), st.booleans()),
    "disability": st.one_of(st.none(), st.booleans()),
    "ethnic_minority": st.one_of(st.none(), st.booleans()),
    "birth_date": st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2020, 12, 31))),
    "full_name": st.sampled_from(["An", "Bình", "Chi", ""]),
}


@st.composite
def nominations(draw, min_size=0, max_size=30):
    size = draw(st.integers(min_size, max_size))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=size, max_size=size, unique=True))
    out = []
    for nid in ids:
        n = {k: draw(s) for k, s in DOMAIN.items()}
        n.update(
            id=nid,
            student_code=f"HS{nid}",
            grade="",
            grade_number=None,
            guardian=None,
            note=None,
            status=draw(st.sampled_from(["active"] * 9 + ["withdrawn"])),
            in_round_unit=draw(st.sampled_from([True] * 9 + [False])),
            awarded_elsewhere=draw(st.sampled_from([False] * 9 + [True])),
        )
        out.append(n)
    return out


# values a rule may compare each field with (valid for the schema: no empties)
RULE_VALUES = {
    "gpa": st.integers(0, 100).map(lambda i: i / 10),
    "age": st.integers(3, 25),
    "household": st.sampled_from(["poor", "near_poor", "hardship", "none"]),
    "conduct": st.sampled_from(["excellent", "good", "pass", "fail"]),
    "achievement": st.sampled_from(["national", "province", "district", "school", "none"]),
    "level": st.sampled_from(LEVELS),
    "unit": st.sampled_from(["A-1", "A-2", "B-1"]),
    "district": st.sampled_from(["A", "B"]),
    "school": st.sampled_from(["S1", "S2", "S3"]),
    "orphan": st.booleans(),
    "ethnic_minority": st.booleans(),
    "birth_date": st.dates(dt.date(2005, 1, 1), dt.date(2018, 1, 1)).map(dt.date.isoformat),
}


@st.composite
def leaves(draw):
    field = draw(st.sampled_from(sorted(RULE_VALUES)))
    kind = FIELDS[field][0]
    ops = ["eq", "ne", "in", "not_in"] + (["gt", "gte", "lt", "lte"] if kind in ("number", "date") else [])
    op = draw(st.sampled_from(ops))
    if op in ("in", "not_in"):
        value = draw(st.lists(RULE_VALUES[field], min_size=1, max_size=3))
    else:
        value = draw(RULE_VALUES[field])
    return {"field": field, "op": op, "value": value}


conditions = st.recursive(
    leaves(),
    lambda kids: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(kids, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(kids, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, kids),
    ),
    max_leaves=6,
)

amounts = st.integers(1, 40).map(lambda k: k * 100_000)
points = st.one_of(st.integers(-10, 40), st.sampled_from([0.5, 1.5, 2.25]))
TIE_FIELDS = ["gpa", "birth_date", "school", "full_name", "age", "household", "orphan"]


@st.composite
def rules_docs(draw):
    doc = {"version": 1}
    if draw(st.booleans()):
        doc["eligibility"] = draw(conditions)
    doc["score"] = draw(
        st.lists(
            st.one_of(
                st.builds(lambda c, p: {"when": c, "points": p}, conditions, points),
                st.builds(
                    lambda f, k: {"field": f, "points_per_unit": k},
                    st.sampled_from(["gpa", "age"]),
                    points,
                ),
            ),
            max_size=4,
        )
    )
    if draw(st.booleans()):
        doc["min_score"] = draw(st.integers(-5, 60))
    doc["tie_break"] = draw(
        st.lists(
            st.sampled_from(TIE_FIELDS).flatmap(lambda f: st.sampled_from([f, "-" + f])),
            max_size=3,
        )
    )
    doc["amounts"] = draw(st.dictionaries(st.sampled_from(LEVELS), amounts, min_size=1))
    doc["tiers"] = draw(
        st.lists(
            st.builds(
                lambda c, a, i: {"name": f"T{i}", "when": c, "amount": a},
                conditions,
                amounts,
                st.integers(0, 9),
            ),
            max_size=2,
        )
    )
    limits = st.one_of(
        st.fixed_dictionaries({"max_awards": st.integers(1, 5)}),
        st.fixed_dictionaries({"max_amount": amounts}),
        st.fixed_dictionaries({"max_awards": st.integers(1, 5), "max_amount": amounts}),
    )
    quota = st.builds(
        lambda g, lim: {"group": g, **lim},
        st.sampled_from(["unit", "school", "district", "level"]),
        limits,
    )
    doc["quotas"] = draw(st.lists(quota, max_size=3))
    for q in doc["quotas"]:
        if q["group"] == "level" and draw(st.booleans()):
            q["value"] = draw(st.sampled_from(LEVELS))
    if draw(st.booleans()):
        doc["one_award_per_year"] = draw(st.booleans())
    validate_rules(doc)
    return doc


money = st.integers(0, 60).map(lambda k: k * 100_000)


def _group(n, field):
    v = n.get(field)
    return None if v is None or v == "" else v


def _quota_applies(q, n):
    gv = _group(n, q["group"])
    return gv is not None and ("value" not in q or gv == q["value"])


@SETTINGS
@given(noms=nominations(), rules=rules_docs(), budget=money, available=money)
def test_invariants(noms, rules, budget, available):
    a = allocate(noms, rules, budget=budget, available=available, academic_year=YEAR)
    d = a.as_dict()
    by_id = {n["id"]: n for n in noms}
    start = min(budget, available)

    # never over budget or available; the totals add up
    assert d["allocated"] == sum(e["amount"] for e in d["awarded"]) <= start
    assert d["remaining"] == start - d["allocated"] >= 0

    # every nomination lands in exactly one list
    ids = [e["nomination_id"] for e in d["awarded"] + d["waitlisted"] + d["ineligible"]]
    assert sorted(ids) == sorted(by_id)

    # ranks run 1..k over awarded + waitlisted; each list is in rank order
    ranks = sorted(e["rank"] for e in d["awarded"] + d["waitlisted"])
    assert ranks == list(range(1, len(ranks) + 1))
    for lst in (d["awarded"], d["waitlisted"]):
        assert [e["rank"] for e in lst] == sorted(e["rank"] for e in lst)

    # no quota exceeded
    for q in rules.get("quotas", []):
        usage: dict = {}
        for e in d["awarded"]:
            n = by_id[e["nomination_id"]]
            if _quota_applies(q, n):
                cnt, tot = usage.get(_group(n, q["group"]), (0, 0))
                usage[_group(n, q["group"])] = (cnt + 1, tot + e["amount"])
        for cnt, tot in usage.values():
            assert cnt <= q.get("max_awards", cnt)
            assert tot <= q.get("max_amount", tot)

    # replay the walk: budget misses had amount > remaining at their turn, quota misses really hit the quota
    remaining = start
    usage = [{} for _ in rules.get("quotas", [])]
    for e in a.ranked:
        n = by_id[e["nomination_id"]]
        assert e["remaining_before"] == remaining
        if e["outcome"] == "waitlisted" and e["reason"] == "budget":
            assert e["amount"] > remaining
            continue
        assert e["amount"] <= remaining
        if e["outcome"] == "waitlisted":
            qi = e["quota"]["index"]
            q = rules["quotas"][qi]
            assert e["quota"]["group"] == q["group"] and _quota_applies(q, n)
            cnt, tot = usage[qi].get(_group(n, q["group"]), (0, 0))
            assert ("max_awards" in e["quota"] and cnt + 1 > q["max_awards"]) or (
                "max_amount" in e["quota"] and tot + e["amount"] > q["max_amount"]
            )
            continue
        for qi, q in enumerate(rules.get("quotas", [])):
            if _quota_applies(q, n):
                key = _group(n, q["group"])
                cnt, tot = usage[qi].get(key, (0, 0))
                usage[qi][key] = (cnt + 1, tot + e["amount"])
        remaining -= e["amount"]

    # ineligible ones always say why; eligible ones are active, inside the round, and so on
    assert all(e["reasons"] for e in d["ineligible"])
    for e in d["awarded"] + d["waitlisted"]:
        n = by_id[e["nomination_id"]]
        assert n["status"] == "active" and n["in_round_unit"]
        if rules.get("one_award_per_year", True):
            assert not n["awarded_elsewhere"]
        if "eligibility" in rules:
            assert evaluate(rules["eligibility"], n, academic_year=YEAR)[0]

    json.dumps(d)


def _ref_key(rules):
    """A comparator written straight from docs/rules.md "Order", to check the engine's sort."""

    def value(n, f):
        if f == "age":
            b = n["birth_date"]
            return None if b is None else REF.year - b.year - ((REF.month, REF.day) < (b.month, b.day))
        v = n.get(f)
        return None if v is None or v == "" else v

    def cmp(x, y):
        (sx, nx), (sy, ny) = x, y
        if sx != sy:
            return -1 if sx > sy else 1
        for key in rules.get("tie_break", []):
            desc = key.startswith("-")
            f = key.lstrip("-")
            a, b = value(nx, f), value(ny, f)
            if a is None and b is None:
                continue
            if a is None or b is None:
                return 1 if a is None else -1
            if a != b:
                return (-1 if a > b else 1) if desc else (-1 if a < b else 1)
        return -1 if nx["id"] < ny["id"] else (1 if nx["id"] > ny["id"] else 0)

    return functools.cmp_to_key(cmp)


@SETTINGS
@given(noms=nominations(), rules=rules_docs(), seed=st.integers(0, 2**32))
def test_order_is_the_rules_order_and_independent_of_input_order(noms, rules, seed):
    budget = 10**12
    a = allocate(noms, rules, budget=budget, available=budget, academic_year=YEAR)
    shuffled = list(noms)
    random.Random(seed).shuffle(shuffled)
    b = allocate(shuffled, rules, budget=budget, available=budget, academic_year=YEAR)
    assert json.dumps(a.as_dict()) == json.dumps(b.as_dict())
    by_id = {n["id"]: n for n in noms}
    ranked = [(Decimal(e["score"]), by_id[e["nomination_id"]]) for e in a.ranked]
    assert [n["id"] for _, n in sorted(ranked, key=_ref_key(rules))] == [n["id"] for _, n in ranked]


@SETTINGS
@given(cond=leaves(), n=nominations(min_size=1, max_size=1), empty=EMPTY)
def test_empty_field_comparisons_are_false(cond, n, empty):
    facts = dict(n[0])
    facts["birth_date" if cond["field"] == "age" else cond["field"]] = empty
    assert evaluate(cond, facts, academic_year=YEAR)[0] is False
    assert evaluate({"not": cond}, facts, academic_year=YEAR)[0] is True


@SETTINGS
@given(noms=nominations(), rules=rules_docs(), budget=money, seed=st.integers(0, 2**32))
def test_promotion_after_cancellations(noms, rules, budget, seed):
    """After any sequence of cancellations, each followed by its promotions: nothing over budget or a quota, and no
    nomination left waiting that would fit the money and every quota now (judged here from the nominations)."""
    a = allocate(noms, rules, budget=budget, available=budget, academic_year=YEAR)
    by_id = {n["id"]: n for n in noms}
    entries = {e["nomination_id"]: e for e in a.ranked}
    holding = {e["nomination_id"] for e in a.ranked if e["outcome"] == "awarded"}
    cancelled: set = set()
    rng = random.Random(seed)

    def remaining():
        return budget - sum(entries[i]["amount"] for i in holding)

    def quota_room(q, n, amount):
        same = [
            i for i in holding if _quota_applies(q, by_id[i]) and _group(by_id[i], q["group"]) == _group(n, q["group"])
        ]
        total = sum(entries[i]["amount"] for i in same)
        return len(same) + 1 <= q.get("max_awards", len(same) + 1) and total + amount <= q.get(
            "max_amount", total + amount
        )

    def fits(e):
        n = by_id[e["nomination_id"]]
        quotas = [q for q in rules.get("quotas", []) if _quota_applies(q, n)]
        return e["amount"] <= remaining() and all(quota_room(q, n, e["amount"]) for q in quotas)

    while holding and rng.random() < 0.8:
        gone = rng.choice(sorted(holding))
        holding.discard(gone)
        cancelled.add(gone)
        promoted = promote_after_cancel(
            a.ranked, rules, awarded_ids=holding, remaining=remaining(), exclude_ids=cancelled
        )
        ranks = [e["rank"] for e in promoted]
        assert ranks == sorted(ranks) and not {e["nomination_id"] for e in promoted} & (holding | cancelled)
        holding.update(e["nomination_id"] for e in promoted)
        assert remaining() >= 0
        for q in rules.get("quotas", []):
            for i in holding:  # every quota holds for what is held (one more would be judged by quota_room)
                n = by_id[i]
                if _quota_applies(q, n):
                    same = [
                        j
                        for j in holding
                        if _quota_applies(q, by_id[j]) and _group(by_id[j], q["group"]) == _group(n, q["group"])
                    ]
                    assert len(same) <= q.get("max_awards", len(same))
                    assert sum(entries[j]["amount"] for j in same) <= q.get("max_amount", 10**15)
        waiting = [e for e in a.ranked if e["nomination_id"] not in holding | cancelled]
        assert not [e["nomination_id"] for e in waiting if fits(e)]


@SETTINGS
@given(noms=nominations(min_size=1), rules=rules_docs(), budget=money, data=st.data())
def test_explain_agrees_with_the_allocation(noms, rules, budget, data):
    d = allocate(noms, rules, budget=budget, available=budget, academic_year=YEAR).as_dict()
    nid = data.draw(st.sampled_from([n["id"] for n in noms]))
    x = explain(
        noms,
        rules,
        budget=budget,
        available=budget,
        restriction=None,
        academic_year=YEAR,
        nomination_id=nid,
    )
    outcome = {e["nomination_id"]: ("awarded", e) for e in d["awarded"]}
    outcome.update({e["nomination_id"]: ("waitlisted", e) for e in d["waitlisted"]})
    outcome.update({e["nomination_id"]: ("ineligible", e) for e in d["ineligible"]})
    kind, entry = outcome[nid]
    assert x["outcome"] == kind
    if kind == "ineligible":
        assert x["reasons"] == entry["reasons"]
    else:
        assert (x["rank"], x["score"], x["amount"]) == (
            entry["rank"],
            entry["score"],
            entry["amount"],
        )
        assert x["reason"] == entry.get("reason")
    assert Decimal(x["score"]) == sum((Decimal(t["contribution"]) for t in x["score_terms"]), Decimal(0))
    json.dumps(x)
