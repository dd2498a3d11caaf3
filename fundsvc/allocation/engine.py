"""The allocation engine (docs/rules.md): pure functions over plain nomination dicts (or the same
facts column by column, see NominationColumns).

No Flask, no database. Conditions are compiled once per run into closures, and each part of the rules is
judged once per distinct combination of the facts it reads; scores are exact decimals; the result depends
only on the nominations (as a set, keyed by id) and the rules, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal
from functools import cached_property
from itertools import compress, count
from operator import attrgetter, itemgetter, not_
from typing import Any, NamedTuple

from ..memory import gc_paused
from . import ruleset
from .rules import RulesError, validate_condition, validate_rules
from .ruleset import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    Not,
    PerUnitTerm,
    Ruleset,
    WhenTerm,
    age_on,
    fact,
    fact_key,
    format_score,
    jsonable,
    reference_date,
    shown,
)

__all__ = [
    "Allocation",
    "Check",
    "NominationColumns",
    "NominationNotFound",
    "Ranking",
    "RulesError",
    "ScoreTerm",
    "allocate",
    "amount_for",
    "evaluate",
    "explain",
    "facts_read",
    "format_score",
    "gc_paused",
    "promote_after_cancel",
    "ranked_entries",
    "rules_hash",
    "score",
]

ZERO = Decimal(0)


class NominationNotFound(LookupError):
    """explain() was asked about a nomination that is not in the input."""


def _getter(name: str, ref: dt.date | None) -> Callable[[Mapping], Any]:
    """nomination -> the value the rules read for `name` (ruleset.fact), None when empty."""
    return lambda n: fact(name, n, ref)


# --- nominations by column ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NominationColumns:
    """Nominations column by column: one sequence per fact key, each `count` long; row i is one nomination.

    What a loader that reads the database column-wise hands `allocate` and `explain`, so that no dict is
    built per nomination. A key that is not there reads as empty (None) for every nomination, as a key
    missing from a nomination dict does.
    """

    columns: Mapping[str, Sequence]
    count: int

    @classmethod
    def of(cls, nominations: Iterable[Mapping], keys: Iterable[str]) -> NominationColumns:
        """The `keys` (and "id", which every nomination must have) of plain nomination dicts, by column."""
        rows = nominations if isinstance(nominations, list | tuple) else list(nominations)
        columns = {key: [n.get(key) for n in rows] for key in keys}
        columns["id"] = [n["id"] for n in rows]
        return cls(columns, len(rows))

    def column(self, key: str) -> Sequence:
        values = self.columns.get(key)
        return values if values is not None else (None,) * self.count

    def row(self, i: int) -> dict:
        """Nomination i as a plain dict."""
        return {key: values[i] for key, values in self.columns.items()}


# --- conditions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One comparison of a condition, as evaluated for a nomination (for explanations)."""

    field: str
    op: str
    expected: Any
    actual: Any
    result: bool
    negated: bool = False

    def reason(self) -> str:
        text = f"{self.field} {self.op} {shown(self.expected)}: {shown(self.actual)}"
        return f"not {text}" if self.negated else text

    def as_dict(self) -> dict:
        with gc_paused():
            return self._as_dict()

    def _as_dict(self) -> dict:
        return {
            "field": self.field,
            "op": self.op,
            "expected": jsonable(self.expected),
            "actual": jsonable(self.actual),
            "result": self.result,
            "negated": self.negated,
        }


class _Node:
    """A compiled condition: `fn(n) -> bool` plus what explanations need."""

    __slots__ = (
        "_shown",
        "children",
        "fail",
        "field",
        "fn",
        "get",
        "kind",
        "op",
        "prefix",
        "raw",
        "test",
    )

    def __init__(self, kind, fn, children=(), field=None, op=None, raw=None, get=None, test=None, prefix=""):
        self.kind = kind
        self.fn = fn
        self.children = children
        self.field = field
        self.op = op
        self.raw = raw
        self.get = get
        # reasons are made for every ineligible nomination: format the rule's side once,
        # and each distinct actual value once
        self.prefix = prefix
        self._shown: dict = {}
        self.test = test
        self._make_failers()

    def checks(self, n: Mapping, negated: bool, out: list[Check]) -> bool:
        """Evaluate every leaf (no short cut), appending a Check for each; return the node's value."""
        if self.kind == "leaf":
            r = self.fn(n)
            out.append(Check(self.field, self.op, self.raw, self.get(n), r, negated))
            return r
        if self.kind == "not":
            return not self.children[0].checks(n, not negated, out)
        results = [c.checks(n, negated, out) for c in self.children]
        return all(results) if self.kind == "all" else any(results)

    def failing(self, n: Mapping, want: bool, out: list[str]) -> None:
        """Append the reasons why this node is not `want` for `n`: every leaf responsible.

        Nothing is appended when the node is `want`. "all" wanted true lists its failing children;
        "any" wanted true (none held) lists all of them; under "not" the roles swap, and a leaf that
        holds where it should not is shown as "not field op value: actual".
        """
        self.fail[want](n, out)

    def _make_failers(self) -> None:  # noqa: C901 — one failer per kind of condition, each the compiled twin of ruleset's Condition.failures
        if self.kind == "leaf":
            get, test, prefix, texts = self.get, self.test, self.prefix, self._shown

            def show(v):
                try:
                    return texts[v]
                except (KeyError, TypeError):
                    text = shown(v)
                    try:
                        texts[v] = text
                    except TypeError:
                        pass
                    return text

            def fail_true(n, out):
                v = get(n)
                if v is None or not test(v):
                    out.append(prefix + show(v))

            def fail_false(n, out):
                v = get(n)
                if v is not None and test(v):
                    out.append("not " + prefix + show(v))

            self.fail = (fail_false, fail_true)
            return
        if self.kind == "not":
            kid = self.children[0]
            self.fail = (
                lambda n, out: kid.fail[True](n, out),
                lambda n, out: kid.fail[False](n, out),
            )
            return
        kids_true = tuple(c.fail[True] for c in self.children)
        kids_false = tuple(c.fail[False] for c in self.children)
        fn = self.fn

        def each_true(n, out):
            for f in kids_true:
                f(n, out)

        def each_false(n, out):
            for f in kids_false:
                f(n, out)

        if self.kind == "all":
            # children that hold add nothing, so no guard is needed when all are wanted true
            self.fail = (
                lambda n, out: each_false(n, out) if fn(n) else None,
                each_true,
            )
        else:
            self.fail = (
                each_false,
                lambda n, out: None if fn(n) else each_true(n, out),
            )


def _compile(cond: Condition, ref: dt.date | None) -> _Node:
    """A condition of the ruleset as closures: the same comparisons (its operators, values and texts), made fast."""
    if isinstance(cond, AllOf | AnyOf):
        kind = "all" if isinstance(cond, AllOf) else "any"
        kids = tuple(_compile(c, ref) for c in cond.parts)
        fns = tuple(k.fn for k in kids)
        if len(fns) == 1:
            fn = fns[0]
        elif kind == "all":

            def fn(n, _fns=fns):
                for f in _fns:
                    if not f(n):
                        return False
                return True

        else:

            def fn(n, _fns=fns):
                for f in _fns:
                    if f(n):
                        return True
                return False

        return _Node(kind, fn, kids)
    if isinstance(cond, Not):
        kid = _compile(cond.part, ref)
        inner = kid.fn
        return _Node("not", lambda n: not inner(n), (kid,))
    assert isinstance(cond, Comparison)
    get = _getter(cond.field, ref)
    exp = cond.expected
    return _Node(
        "leaf",
        cond.operator.leaf(get, exp),
        (),
        cond.field,
        cond.op,
        cond.value,
        get,
        cond.operator.test(exp),
        cond.prefix,
    )


def _facts_of(
    ref: dt.date | None, conditions: Iterable[Condition | None], fields: Iterable[str] = ()
) -> tuple[str, ...]:
    """The nomination keys that conditions and plain rule fields read, sorted."""
    names = set(fields)
    for cond in conditions:
        if cond is not None:
            names.update(c.field for c in ruleset.comparisons(cond))
    return tuple(sorted(fact_key(name, ref) for name in names))


def evaluate(condition: Mapping, facts: Mapping, *, academic_year: str | None = None) -> tuple[bool, list[Check]]:
    """Whether `condition` holds for `facts`, with every comparison made (for explanations).

    `age` is derived from `birth_date` when `academic_year` is given, else read from `facts["age"]`.
    """
    node = _compile(ruleset.condition(condition), reference_date(academic_year))
    out: list[Check] = []
    result = node.checks(facts, False, out)
    return result, out


# --- score and amount --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreTerm:
    """One term of the score, as applied to a nomination."""

    index: int
    kind: str  # "when" or "per_unit"
    points: Decimal  # points when the condition holds, or points per unit
    contribution: Decimal
    applied: bool
    field: str | None = None  # per_unit: the field multiplied
    value: Any = None  # per_unit: the nomination's value (None when empty)
    checks: list[Check] = dc_field(default_factory=list)  # when: the condition's comparisons

    def as_dict(self) -> dict:
        d: dict[str, Any] = {
            "index": self.index,
            "kind": self.kind,
            "points": format(self.points, "f"),
            "applied": self.applied,
            "contribution": format_score(self.contribution),
        }
        if self.kind == "per_unit":
            d["field"] = self.field
            d["value"] = jsonable(self.value)
        else:
            d["checks"] = [c.as_dict() for c in self.checks]
        return d


# Read for every nomination whatever the rules: identity, output, eligibility flags, and explain's facts.
_ALWAYS_READ = frozenset(
    ("id", "student_code", "status", "unit", "in_round_unit", "awarded_elsewhere", "level", "birth_date")
)


class _Compiled:
    """A validated rules document compiled for one academic year."""

    def __init__(self, rules: Mapping, ref: dt.date | None, restriction: Mapping | None = None):
        self.ref = ref
        self.rules = r = Ruleset.of(rules, restriction)
        self.eligibility = _compile(r.eligibility, ref) if r.eligibility else None
        self.restriction = _compile(r.restriction, ref) if r.restriction else None
        self.when_terms = [(t.index, _compile(t.when, ref), t.points) for t in r.terms if isinstance(t, WhenTerm)]
        self.unit_terms = [
            (t.index, t.field, _getter(t.field, ref), t.points) for t in r.terms if isinstance(t, PerUnitTerm)
        ]
        self.min_score = r.min_score
        self.tiers = [(_compile(t.when, ref), t.amount, t.name) for t in r.tiers]
        self.quotas = r.quotas
        self.tie_break = [(name, desc, _getter(name, ref)) for name, desc in r.tie_break]
        self.one_award = r.one_award_per_year
        self.score_fn = self._make_score_fn()
        # The facts each part of the rules reads: nominations that agree on them are judged alike by that
        # part (see _judge_rows), and a loader may leave out every other fact (see facts_read).
        self.score_facts = _facts_of(
            ref, (t.when for t in r.terms if isinstance(t, WhenTerm)), (name for _, name, _, _ in self.unit_terms)
        )
        self.amount_facts = _facts_of(ref, (t.when for t in r.tiers), ("level",))
        self.condition_facts = _facts_of(ref, (r.eligibility, r.restriction))
        # Everything a nomination's verdict depends on: the facts the rules read and the flags the loader
        # derives (see _verdicts).
        self.verdict_facts = tuple(
            sorted(
                {
                    *self.score_facts,
                    *self.amount_facts,
                    *self.condition_facts,
                    "status",
                    "in_round_unit",
                    "awarded_elsewhere",
                }
            )
        )
        self.read_facts = frozenset(
            (
                *_ALWAYS_READ,
                *self.verdict_facts,
                *(fact_key(name, ref) for name, _, _ in self.tie_break),
                *(fact_key(q.group, ref) for q in self.quotas),
            )
        )

    def conditions(self, n: Mapping) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
        """Whether `n` meets the eligibility condition and the fund's restriction (where there are any),
        and the reasons why not: the eligibility's and the restriction's, which reasons() lists apart."""
        eligibility: list[str] = []
        restriction: list[str] = []
        if self.eligibility is not None:
            self.eligibility.failing(n, True, eligibility)
        if self.restriction is not None:
            self.restriction.failing(n, True, restriction)
        held = (self.eligibility is None or self.eligibility.fn(n)) and (
            self.restriction is None or self.restriction.fn(n)
        )
        return held, tuple(eligibility), tuple(restriction)

    def reasons(
        self, n: Mapping, s: Decimal, amt: int | None, conditions: tuple, academic_year: str | None
    ) -> list[str]:
        """Every reason why `n` is ineligible (ruleset's); `conditions` is self.conditions(n)."""
        _held, eligibility, restriction = conditions
        return self.rules.reasons_for(
            n,
            eligibility_failures=eligibility,
            restriction_failures=restriction,
            score=s,
            amount=amt,
            academic_year=academic_year,
        )

    def _make_score_fn(self) -> Callable[[Mapping], Decimal]:
        whens = tuple((node.fn, pts) for _, node, pts in self.when_terms)
        units = tuple((get, k) for _, _, get, k in self.unit_terms)

        def score_fn(n):
            s = ZERO
            for fn, pts in whens:
                if fn(n):
                    s += pts
            for get, k in units:
                v = get(n)
                if v is not None:
                    s += k * v
            return s

        return score_fn

    def score_terms(self, n: Mapping) -> tuple[Decimal, list[ScoreTerm]]:
        terms: list[ScoreTerm] = []
        for i, node, pts in self.when_terms:
            checks: list[Check] = []
            held = node.checks(n, False, checks)
            terms.append(ScoreTerm(i, "when", pts, pts if held else ZERO, held, checks=checks))
        for i, name, get, k in self.unit_terms:
            v = get(n)
            terms.append(
                ScoreTerm(
                    i,
                    "per_unit",
                    k,
                    k * v if v is not None else ZERO,
                    v is not None,
                    name,
                    v,
                )
            )
        terms.sort(key=lambda t: t.index)
        total = ZERO
        for t in terms:
            total += t.contribution
        return total, terms

    def amount(self, n: Mapping) -> tuple[int | None, str | None]:
        for node, amt, name in self.tiers:
            if node.fn(n):
                return amt, name
        return self.rules.amount_for_level(n.get("level")), None


def _compiled(rules: Mapping, academic_year: str | None, restriction: Mapping | None = None) -> _Compiled:
    return _Compiled(rules, reference_date(academic_year), restriction)


def score(rules: Mapping, facts: Mapping, *, academic_year: str | None = None) -> tuple[Decimal, list[ScoreTerm]]:
    """The nomination's score under `rules` and the terms that make it up."""
    return _compiled(rules, academic_year).score_terms(facts)


def amount_for(rules: Mapping, facts: Mapping, *, academic_year: str | None = None) -> tuple[int | None, str | None]:
    """(amount, tier name): the first tier whose `when` holds, else amounts[level] with tier None."""
    return _compiled(rules, academic_year).amount(facts)


def facts_read(
    rules: Mapping, restriction: Mapping | None = None, *, academic_year: str | None = None
) -> frozenset[str]:
    """The nomination keys `allocate` and `explain` read under these rules (a loader may leave out the rest)."""
    c = _compiled(validate_rules(rules), academic_year, validate_condition(restriction) if restriction else None)
    return c.read_facts


# --- hashes ------------------------------------------------------------------------------------------


def _json_default(v: Any) -> Any:
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, set | frozenset):
        return sorted(v)
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def _canonical(obj: Any) -> bytes:
    return json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_json_default,
    ).encode("utf-8")


def rules_hash(rules: Mapping) -> str:
    """ "sha256:" + hex digest of the canonical JSON (sorted keys, no spaces, UTF-8) of the rules."""
    return "sha256:" + hashlib.sha256(_canonical(rules)).hexdigest()


# --- allocation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranking:
    """The eligible nominations in rank order, column by column: rank i + 1 is at index i.

    What the walk decided for each (outcome, reason, the money remaining before its turn) beside what the
    verdicts gave (score, amount, tier) and each quota's group value. A province ranks tens of thousands,
    so no dict is made per entry unless asked for (`entry`, `entries`); a service stores `stored()`.
    """

    nomination_id: list[int]
    student_code: list
    score: list[str]  # format_score
    amount: list[int]
    tier: list[str | None]
    outcome: list[str]  # awarded | waitlisted
    reason: list[str | None]  # why waitlisted: budget | quota
    remaining_before: list[int]
    groups: dict[str, list] | None  # each quota group's value (as JSON), when there are quotas
    # The waitlisted by a quota, by index: the quota that stopped them, and its usage at their turn.
    by_quota: dict[int, tuple[dict, dict]]

    def __len__(self) -> int:
        return len(self.nomination_id)

    def index(self, nomination_id: int) -> int | None:
        """Where a nomination is in the ranking, or None when it is not ranked."""
        try:
            return self.nomination_id.index(nomination_id)
        except ValueError:
            return None

    def entry(self, i: int) -> dict:
        """Rank i + 1 as one dict: nomination_id, student_code, rank, score, amount, tier, outcome, reason,
        quota, remaining_before, and `groups` (with quotas) and `quota_usage` (waitlisted by a quota)."""
        e = {
            "nomination_id": self.nomination_id[i],
            "student_code": self.student_code[i],
            "rank": i + 1,
            "score": self.score[i],
            "amount": self.amount[i],
            "tier": self.tier[i],
            "outcome": self.outcome[i],
            "reason": self.reason[i],
            "quota": None,
            "remaining_before": self.remaining_before[i],
        }
        if self.groups is not None:
            e["groups"] = {g: values[i] for g, values in self.groups.items()}
        if i in self.by_quota:
            quota, usage = self.by_quota[i]
            e["quota"] = dict(quota)
            e["quota_usage"] = dict(usage)
        return e

    def entries(self) -> list[dict]:
        return [self.entry(i) for i in range(len(self))]

    def stored(self) -> dict:
        """What a service keeps to promote after a cancellation (see `ranked_entries`): lists of plain
        values, which encode several times faster, and smaller, than one object per entry."""
        doc = {
            "nomination_id": self.nomination_id,
            "score": self.score,
            "amount": self.amount,
            "tier": self.tier,
            "outcome": self.outcome,
        }
        if self.groups is not None:
            doc["groups"] = self.groups
        return doc


def ranked_entries(stored: Mapping) -> list[dict]:
    """`Ranking.stored()` as entries for `promote_after_cancel`: nomination_id, rank, score, amount, tier,
    outcome and, with quotas, groups (rankings stored one dict per entry were rewritten by migration 0014)."""
    groups = stored.get("groups")
    columns = (stored["nomination_id"], stored["score"], stored["amount"], stored["tier"], stored["outcome"])
    entries = []
    for i, (nomination_id, score_text, amount, tier, outcome) in enumerate(zip(*columns, strict=True)):
        e = {
            "nomination_id": nomination_id,
            "rank": i + 1,
            "score": score_text,
            "amount": amount,
            "tier": tier,
            "outcome": outcome,
        }
        if groups is not None:
            e["groups"] = {g: values[i] for g, values in groups.items()}
        entries.append(e)
    return entries


@dataclass
class Allocation:
    """The outcome of one allocation run. `as_dict()` is docs/rules.md "Result" (without "round").

    `ranking` holds every eligible nomination in rank order with what the service stores for later
    (amount, tier, outcome, the quota group values, `remaining_before` its turn); `ranked` is the same as
    one dict per entry. `awarded` and `waitlisted` are docs/rules.md's entries of the same nominations, made by
    the walk itself.
    """

    budget: int
    available: int
    allocated: int
    remaining: int
    rules_hash: str
    ranking: Ranking
    awarded: list[dict]
    waitlisted: list[dict]
    ineligible: list[dict]

    @cached_property
    def ranked(self) -> list[dict]:
        """The ranking, one dict per entry (see Ranking.entry), made when first asked for."""
        return self.ranking.entries()

    def as_dict(self) -> dict:
        """docs/rules.md "Result" (without "round"): new lists of the allocation's own entry dicts, which are not
        copied (a province's result holds 100,000 of them, and is encoded right away)."""
        return {
            "budget": self.budget,
            "allocated": self.allocated,
            "remaining": self.remaining,
            "rules_hash": self.rules_hash,
            "awarded": list(self.awarded),
            "waitlisted": list(self.waitlisted),
            "ineligible": list(self.ineligible),
        }


def _places(values: list, desc: bool) -> tuple[list[int], int]:
    """Each value's place among the distinct values (ascending, or descending when `desc`), empty
    (None) values after all others either way; and the number of places."""
    present = set(values)
    present.discard(None)
    distinct = sorted(present)
    last = len(distinct)
    place = {v: (last - 1 - i if desc else i) for i, v in enumerate(distinct)}
    place[None] = last
    return list(map(place.__getitem__, values)), last + 1


def _rank_order(rows: list[int], keys: list[tuple[Sequence, bool]]) -> list[int]:
    """The eligible rows (in nomination id order) in rank order.

    `keys`: (each row's value, descending?) for the score and then each tie-break key. Every value is
    replaced by its place among the distinct values of its key, and the places are packed into one int per
    row, so the sort compares ints instead of tuples of Decimals and dates (which cost most of a
    100,000-nomination run). Ties left after every key keep nomination id order (a stable sort).
    """
    packed = [0] * len(rows)
    for values, desc in keys:
        places, size = _places(list(map(values.__getitem__, rows)), desc)
        packed = [k * size + p for k, p in zip(packed, places, strict=True)]
    order = sorted(range(len(rows)), key=packed.__getitem__)
    return [rows[i] for i in order]


def _judge_rows(noms: NominationColumns, fn: Callable[[Mapping], Any], facts: tuple[str, ...]) -> list:
    """fn(nomination) for every nomination, fn reading only the keys `facts`.

    A province's nominations share few combinations of the handful of facts the rules read, so fn runs
    once per distinct combination, on a dict of just those facts, and each nomination gets its
    combination's result. Values equal under == share a result, as they compare alike in every rule (the
    first nomination's values are the ones shown in reasons); an unhashable value makes every nomination
    judged on its own.
    """
    columns = [noms.column(fact) for fact in facts]
    # A fact every nomination shares (no one awarded elsewhere, every unit inside the round) is left out of
    # the combinations, which are then shorter to build and to hash.
    same = {fact: column[0] for fact, column in zip(facts, columns, strict=True) if _constant(column)}
    if same:
        facts = tuple(fact for fact in facts if fact not in same)
        columns = [noms.column(fact) for fact in facts]
    if not facts:
        return [fn(same)] * noms.count

    def combinations():
        # One column's values are its combinations.
        return columns[0] if len(columns) == 1 else zip(*columns, strict=True)

    def judge(combination):
        if len(columns) == 1:
            return fn({facts[0]: combination, **same})
        return fn(dict(zip(facts, combination, strict=True), **same))

    first_rows: dict = {}
    try:
        # One pass in C gives every nomination the first row that has its combination (setdefault keeps
        # the first); what follows is list indexing, without hashing the combinations again.
        firsts = list(map(first_rows.setdefault, combinations(), count()))
    except TypeError:  # an unhashable value
        return [judge(combination) for combination in combinations()]
    results: list = [None] * noms.count
    for combination, first in first_rows.items():
        results[first] = judge(combination)
    return list(map(results.__getitem__, firsts))


def _constant(column: Sequence) -> bool:
    """Whether every value of a non-empty column is its first (compared by identity first, in C)."""
    return len(column) > 0 and column.count(column[0]) == len(column)


class _Verdict(NamedTuple):
    """What the rules make of one combination of facts, shared by every nomination that has it (a tuple:
    one is made per combination, thousands per run, and a frozen dataclass is much slower to make)."""

    eligible: bool
    score: Decimal
    score_text: str | None  # format_score(score), for the eligible
    amount: int | None
    tier: str | None
    # For the ineligible; None when they name the nomination's own unit. One list shared by every nomination
    # with this verdict, in each of their result entries: it is read and encoded, never changed.
    reasons: list[str] | None


def _coded(noms: NominationColumns, fn: Callable[[Mapping], Any], facts: tuple[str, ...]) -> tuple[list[int], list]:
    """fn(nomination) for every nomination as _judge_rows runs it, with equal results made one: each
    nomination's code (its result's index) and the distinct results. fn's results must be hashable."""
    results: list = []
    codes: dict = {}

    def code(n: Mapping) -> int:
        result = fn(n)
        at = codes.get(result)
        if at is None:
            at = codes[result] = len(results)
            results.append(result)
        return at

    return _judge_rows(noms, code, facts), results


def _verdicts(noms: NominationColumns, c: _Compiled, academic_year: str | None) -> list[_Verdict]:
    """Each nomination's verdict, made once per distinct combination of what it depends on.

    The score, the amount and the conditions are each judged once per combination of the few facts they
    read. The verdict then depends only on their results and the nomination's status and unit flags: far
    fewer combinations than those of every fact together (the eligible mostly share one conditions
    result), so far fewer verdicts are made.
    """

    def amount(n: Mapping) -> tuple[int | None, str | None, Any]:
        amt, tier = c.amount(n)
        # The reason for no amount names the level, so the levels without one are kept apart.
        return amt, tier, n.get("level") if amt is None else None

    score_codes, scores = _coded(noms, c.score_fn, c.score_facts)
    amount_codes, amounts = _coded(noms, amount, c.amount_facts)
    condition_codes, conditions = _coded(noms, c.conditions, c.condition_facts)
    flags = ("status", "in_round_unit", "awarded_elsewhere")
    parts = NominationColumns(
        {
            "score": score_codes,
            "amount": amount_codes,
            "conditions": condition_codes,
            **{flag: noms.column(flag) for flag in flags},
        },
        noms.count,
    )
    texts: dict = {}  # format_score per distinct score (it normalises, so equal scores print alike)

    def verdict(part: Mapping) -> _Verdict:
        s = scores[part["score"]]
        amt, tier, level = amounts[part["amount"]]
        held = conditions[part["conditions"]]
        status, in_round_unit, awarded_elsewhere = (part[flag] for flag in flags)
        if c.rules.eligible(
            conditions_hold=held[0],
            score=s,
            amount=amt,
            status=status,
            in_round_unit=in_round_unit,
            awarded_elsewhere=awarded_elsewhere,
        ):
            text = texts.get(s)
            if text is None:
                text = texts[s] = format_score(s)
            return _Verdict(True, s, text, amt, tier, None)
        if in_round_unit is False:
            # The reason for a unit outside the round names the unit, which is not among the facts judged:
            # those reasons are made per nomination (see _run_paused).
            return _Verdict(False, s, None, amt, tier, None)
        reasons = c.rules.ineligibility_reasons(
            eligibility_failures=held[1],
            restriction_failures=held[2],
            score=s,
            amount=amt,
            level=level,
            status=status,
            in_round_unit=in_round_unit,
            unit=None,
            awarded_elsewhere=awarded_elsewhere,
            academic_year=academic_year,
        )
        return _Verdict(False, s, None, amt, tier, reasons)

    return _judge_rows(parts, verdict, tuple(parts.columns))


def _refuse_duplicate_ids(ids: Sequence) -> None:
    if len(set(ids)) == len(ids):
        return
    seen: set = set()
    for nid in ids:
        if nid in seen:
            raise ValueError(f"duplicate nomination id {nid}")
        seen.add(nid)


def _run(*args, **kwargs):
    """`_run_paused` (same arguments) with the cyclic garbage collector paused (see memory.gc_paused)."""
    with gc_paused():
        return _run_paused(*args, **kwargs)


def _run_paused(  # noqa: C901, PLR0915 — the whole walk in one frame for speed, until the reference walk proves a split equal
    nominations: Iterable[Mapping] | NominationColumns,
    rules: Mapping,
    *,
    budget: int,
    available: int,
    restriction: Mapping | None,
    academic_year: str,
    keep: int | None = None,
):
    rules = validate_rules(rules)
    if restriction is not None:
        restriction = validate_condition(restriction)
    for name, v in (("budget", budget), ("available", available)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name} must be an int number of đồng")
    c = _compiled(rules, academic_year, restriction)
    noms = (
        nominations if isinstance(nominations, NominationColumns) else NominationColumns.of(nominations, c.read_facts)
    )
    ids, codes = noms.column("id"), noms.column("student_code")
    _refuse_duplicate_ids(ids)

    verdicts = _verdicts(noms, c, academic_year)
    is_eligible = list(map(attrgetter("eligible"), verdicts))
    # Ranking ties keep nomination id order, and the ineligible are listed by id, whatever the input order.
    eligible = sorted(compress(range(noms.count), is_eligible), key=ids.__getitem__)
    rejected = sorted(compress(range(noms.count), map(not_, is_eligible)), key=ids.__getitem__)
    kept = {}
    if keep is not None and keep in ids:
        row = ids.index(keep)
        kept = {"n": noms.row(row), "score": verdicts[row].score}

    rank_keys = [(list(map(attrgetter("score"), verdicts)), True)]
    rank_keys += [(_judge_rows(noms, get, (fact_key(name, c.ref),)), desc) for name, desc, get in c.tie_break]
    ranked_rows = _rank_order(eligible, rank_keys)

    start = max(0, min(budget, available))
    remaining = start
    quotas = c.quotas
    group_values = [_judge_rows(noms, _getter(q.group, c.ref), (fact_key(q.group, c.ref),)) for q in quotas]
    usage: list[dict] = [{} for _ in quotas]
    ranked_verdicts = list(map(verdicts.__getitem__, ranked_rows))
    ranked_ids = list(map(ids.__getitem__, ranked_rows))
    ranked_codes = list(map(codes.__getitem__, ranked_rows))
    # What the walk decides, rank by rank; the rest of the ranking is the verdicts' (see Ranking).
    why: list[str | None] = []
    remaining_before: list[int] = []
    by_quota: dict[int, tuple[dict, dict]] = {}
    awarded: list[dict] = []
    waitlisted: list[dict] = []
    for i, row in enumerate(ranked_rows):
        verdict = ranked_verdicts[i]
        amt = verdict.amount
        remaining_before.append(remaining)
        blocked = None
        if amt > remaining:
            reason = "budget"
        else:
            reason = None
            if quotas:
                hits = []
                for q in quotas:
                    gv = group_values[q.index][row]
                    if not q.applies_to(gv):
                        continue
                    u = usage[q.index].get(gv)
                    cnt, tot = u if u is not None else (0, 0)
                    if blocked is None:
                        over = q.exceeded(cnt, tot, amt)
                        if over:
                            blocked = q.stop(gv, over)
                            by_quota[i] = (blocked, {"awards": cnt, "amount": tot})
                    hits.append((q.index, gv, cnt, tot))
                if blocked is not None:
                    reason = "quota"
                else:
                    for qi, gv, cnt, tot in hits:
                        usage[qi][gv] = (cnt + 1, tot + amt)
        # docs/rules.md's awarded and waitlisted entries, made here from the walk's own values: tens of thousands.
        entry = {
            "nomination_id": ranked_ids[i],
            "student_code": ranked_codes[i],
            "rank": i + 1,
            "score": verdict.score_text,
            "amount": amt,
        }
        why.append(reason)
        if reason is None:
            remaining -= amt
            entry["tier"] = verdict.tier
            awarded.append(entry)
        else:
            entry["reason"] = reason
            if blocked is not None:
                entry["quota"] = dict(blocked)
            waitlisted.append(entry)
    ranked_groups = zip((q.group for q in quotas), group_values, strict=True)
    ranking = Ranking(
        nomination_id=ranked_ids,
        student_code=ranked_codes,
        score=list(map(attrgetter("score_text"), ranked_verdicts)),
        amount=list(map(attrgetter("amount"), ranked_verdicts)),
        tier=list(map(attrgetter("tier"), ranked_verdicts)),
        outcome=["awarded" if reason is None else "waitlisted" for reason in why],
        reason=why,
        remaining_before=remaining_before,
        groups={g: [jsonable(values[row]) for row in ranked_rows] for g, values in ranked_groups} if quotas else None,
        by_quota=by_quota,
    )

    # Each verdict's reasons, but for the units outside the round, whose reasons name the unit (see _verdicts).
    rejected_reasons = [verdicts[row].reasons for row in rejected]
    for i in (i for i, reasons in enumerate(rejected_reasons) if reasons is None):
        n = noms.row(rejected[i])
        verdict = verdicts[rejected[i]]
        rejected_reasons[i] = c.reasons(n, verdict.score, verdict.amount, c.conditions(n), academic_year)
    ineligible = [
        {"nomination_id": nomination_id, "student_code": code, "reasons": reasons}
        for nomination_id, code, reasons in zip(
            map(ids.__getitem__, rejected), map(codes.__getitem__, rejected), rejected_reasons, strict=True
        )
    ]
    alloc = Allocation(
        budget=budget,
        available=available,
        allocated=start - remaining,
        remaining=remaining,
        rules_hash=rules_hash(rules),
        ranking=ranking,
        awarded=awarded,
        waitlisted=waitlisted,
        ineligible=ineligible,
    )
    return alloc, c, kept


def allocate(
    nominations: Iterable[Mapping] | NominationColumns,
    rules: Mapping,
    *,
    budget: int,
    available: int,
    restriction: Mapping | None = None,
    academic_year: str,
) -> Allocation:
    """Rank the nominations by `rules` and award them within min(budget, available) and the quotas (docs/rules.md)."""
    return _run(
        nominations,
        rules,
        budget=budget,
        available=available,
        restriction=restriction,
        academic_year=academic_year,
    )[0]


def explain(
    nominations: Iterable[Mapping] | NominationColumns,
    rules: Mapping,
    *,
    budget: int,
    available: int,
    restriction: Mapping | None = None,
    academic_year: str,
    nomination_id: int,
) -> dict:
    """The full reasoning for one nomination: conditions with values, score terms, amount, rank and outcome."""
    alloc, c, kept = _run(
        nominations,
        rules,
        budget=budget,
        available=available,
        restriction=restriction,
        academic_year=academic_year,
        keep=nomination_id,
    )
    if not kept:
        raise NominationNotFound(nomination_id)
    n = kept["n"]
    total, terms = c.score_terms(n)
    amt, tier = c.amount(n)
    tier_checks = []
    for node, t_amt, name in c.tiers:
        checks: list[Check] = []
        held = node.checks(n, False, checks)
        tier_checks.append(
            {
                "name": name,
                "amount": t_amt,
                "held": held,
                "checks": [x.as_dict() for x in checks],
            }
        )

    def cond(node):
        if node is None:
            return None
        checks: list[Check] = []
        held = node.checks(n, False, checks)
        return {"result": held, "checks": [x.as_dict() for x in checks]}

    out: dict[str, Any] = {
        "nomination_id": nomination_id,
        "student_code": n.get("student_code"),
        "academic_year": academic_year,
        "rules_hash": alloc.rules_hash,
        "eligibility": cond(c.eligibility),
        "restriction": cond(c.restriction),
        "facts": {
            "status": n.get("status") or "active",
            "in_round_unit": n.get("in_round_unit", True) is not False,
            "awarded_elsewhere": bool(n.get("awarded_elsewhere")),
            "one_award_per_year": c.one_award,
            "level": n.get("level"),
            "age": age_on(n.get("birth_date"), c.ref) if c.ref else None,
        },
        "score": format_score(total),
        "score_terms": [t.as_dict() for t in terms],
        "min_score": jsonable(c.min_score) if c.min_score is not None else None,
        "tiers": tier_checks,
        "amount": amt,
        "tier": tier,
        "amount_source": "tier" if tier is not None else ("level" if amt is not None else None),
        "start_remaining": max(0, min(budget, available)),
        "rank": None,
        "ranked_count": len(alloc.ranking),
        "outcome": None,
        "reason": None,
        "quota": None,
        "remaining_before": None,
        "reasons": [],
    }
    at = alloc.ranking.index(nomination_id)
    if at is not None:
        e = alloc.ranking.entry(at)
        out["rank"] = e["rank"]
        out["outcome"] = e["outcome"]
        out["reason"] = e["reason"]
        out["remaining_before"] = e["remaining_before"]
        if e["reason"] == "quota":
            q = dict(e["quota"])
            q["used_awards"] = e["quota_usage"]["awards"]
            q["used_amount"] = e["quota_usage"]["amount"]
            out["quota"] = q
    else:
        out["outcome"] = "ineligible"
        out["reasons"] = next(x["reasons"] for x in alloc.ineligible if x["nomination_id"] == nomination_id)
    out["summary"] = _summary(out)
    return out


def _summary(x: dict) -> str:
    if x["outcome"] == "ineligible":
        return "Ineligible: " + "; ".join(x["reasons"]) + "."
    head = f"Rank {x['rank']} of {x['ranked_count']} with score {x['score']}, amount {x['amount']}"
    if x["tier"]:
        head += f" (tier {x['tier']})"
    if x["outcome"] == "awarded":
        return head + f": awarded ({x['remaining_before']} remaining before its turn)."
    if x["reason"] == "budget":
        return head + f": waitlisted, only {x['remaining_before']} remaining at its turn."
    q = x["quota"]
    limits = []
    if "max_awards" in q:
        limits.append(f"max_awards {q['max_awards']} ({q['used_awards']} already awarded)")
    if "max_amount" in q:
        limits.append(f"max_amount {q['max_amount']} ({q['used_amount']} already awarded)")
    return head + (f": waitlisted by quota #{q['index']} ({q['group']} = {q['value']}): " + ", ".join(limits) + ".")


# --- after a cancellation ----------------------------------------------------------------------------


def promote_after_cancel(
    ranked: Iterable[Mapping],
    rules: Mapping,
    *,
    awarded_ids: Iterable[int],
    remaining: int,
    exclude_ids: Iterable[int] = (),
) -> list[Mapping]:
    """The entries promoted when money comes back: the walk resumed, in rank order, over the entries neither
    awarded nor excluded, each promoted while its amount fits what remains and every quota (docs/rules.md).

    `ranked`: the stored ranked entries (`Allocation.ranked` or rows with `nomination_id`, `rank`, `amount`
    and the quota group values, under `groups` or at top level). `awarded_ids`: the nominations holding an
    award now (after the cancellation). `exclude_ids`: never promote these (e.g. cancelled awards).
    Quota usage is counted from the awards held and those promoted, as the allocation walk does
    (reference.py says it plainly).
    """
    awarded = set(awarded_ids)
    excluded = set(exclude_ids)
    quotas = Ruleset.of(rules).quotas

    def group_values(e: Mapping) -> list:
        src = e.get("groups") or e
        return [(q, gv) for q in quotas if q.applies_to(gv := fact(q.group, src, None))]

    entries = sorted(ranked, key=itemgetter("rank"))
    usage: list[dict] = [{} for _ in quotas]

    def count(e: Mapping, groups: list) -> None:
        for q, gv in groups:
            cnt, tot = usage[q.index].get(gv, (0, 0))
            usage[q.index][gv] = (cnt + 1, tot + e["amount"])

    for e in entries:
        if e["nomination_id"] in awarded:
            count(e, group_values(e))
    promoted = []
    for e in entries:
        nid = e["nomination_id"]
        if nid in awarded or nid in excluded or e["amount"] > remaining:
            continue
        groups = group_values(e)
        if not any(q.exceeded(*usage[q.index].get(gv, (0, 0)), e["amount"]) for q, gv in groups):
            promoted.append(e)
            count(e, groups)
            remaining -= e["amount"]
    return promoted
