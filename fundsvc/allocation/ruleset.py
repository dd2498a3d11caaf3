"""The rules document (docs/rules.md) as objects: what each part of the rules says, said once.

A validated document becomes a `Ruleset`: conditions that hold or not (`Condition.holds`) and say why not
(`Condition.failures`), score terms that give points, tiers that apply, quotas that a new award would exceed.
`Facts` is one nomination as the rules read it. The reference implementation (reference.py) reads the rules
through these classes one nomination at a time; the fast engine (engine.py) compiles the same conditions,
values and texts, and takes every other rule (eligibility, reasons, amounts, quotas) from here.

Pure: no Flask, no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from .operators import OPERATORS, Operator, is_empty
from .rules import DATE, FIELDS, NUMBER, parse_date, to_decimal

ZERO = Decimal(0)

# --- values ------------------------------------------------------------------------------------------


def reference_date(academic_year: str | None) -> dt.date | None:
    """The day ages are counted on: 1 September of the academic year's first year ("2024-2025" -> 2024-09-01)."""
    if academic_year is None:
        return None
    try:
        year = int(str(academic_year).split("-", 1)[0])
    except ValueError:
        raise ValueError(f"academic_year must look like 2024-2025, not {academic_year!r}") from None
    return dt.date(year, 9, 1)


def age_on(birth: Any, ref: dt.date) -> int | None:
    """Whole years on `ref`, None for an empty birth date."""
    if is_empty(birth):
        return None
    if isinstance(birth, dt.datetime):
        birth = birth.date()
    elif not isinstance(birth, dt.date):
        birth = parse_date(birth)
    return ref.year - birth.year - ((ref.month, ref.day) < (birth.month, birth.day))


def number(v: Any) -> Decimal | None:
    """A number fact as an exact decimal ("8,5" and 8.5 alike), None when empty."""
    if is_empty(v):
        return None
    if type(v) is Decimal:
        return v
    if isinstance(v, bool):
        return Decimal(int(v))
    if isinstance(v, int):
        return Decimal(v)
    return Decimal(str(v).strip().replace(",", "."))


def date(v: Any) -> dt.date | None:
    """A date fact, None when empty."""
    if is_empty(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return parse_date(v)


def rule_value(kind: str, raw: Any) -> Any:
    """A value written in the rules, of a field of `kind`, as the facts it is compared with."""
    if kind == NUMBER:
        return to_decimal(raw)
    if kind == DATE:
        return parse_date(raw)
    return raw


def fact(field: str, nomination: Mapping, ref: dt.date | None) -> Any:
    """The value the rules read for `field`: normalised for its kind, None when the nomination leaves it empty.

    `age` is counted from `birth_date` on `ref` when there is one, else read as a number from "age".
    """
    if field == "age":
        return number(nomination.get("age")) if ref is None else age_on(nomination.get("birth_date"), ref)
    kind = FIELDS[field][0]
    v = nomination.get(field)
    if kind == NUMBER:
        return number(v)
    if kind == DATE:
        return date(v)
    return None if is_empty(v) else v


def fact_key(field: str, ref: dt.date | None) -> str:
    """The nomination key `field` is read from (`age` comes from `birth_date` when a year is given)."""
    return "birth_date" if field == "age" and ref is not None else field


class Facts:
    """One nomination as the rules read it: `facts["gpa"]` is `fact("gpa", nomination, ref)`."""

    __slots__ = ("nomination", "ref")

    def __init__(self, nomination: Mapping, ref: dt.date | None):
        self.nomination = nomination
        self.ref = ref

    def __getitem__(self, field: str) -> Any:
        return fact(field, self.nomination, self.ref)


def jsonable(v: Any) -> Any:
    """A fact or rule value as plain JSON (Decimal -> str, date -> ISO)."""
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    return v


def shown(v: Any) -> str:
    """A value as it appears in a reason ("gpa gte 6.5: 5.9"); empty is "empty"."""
    if is_empty(v):
        return "empty"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float | int | Decimal):
        return format(to_decimal(v), "f")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return "[" + ", ".join(shown(x) for x in v) + "]"
    return str(v)


def format_score(d: Decimal) -> str:
    """A score as a decimal string with at least one decimal place: 101 -> "101.0", 86.50 -> "86.5"."""
    if d == d.to_integral_value():
        return f"{int(d)}.0"
    return format(d.normalize(), "f")


# --- reasons, read back ------------------------------------------------------------------------------
#
# The reasons are plain text in the result (docs/rules.md "Result"); a page that words them for people reads them
# back here, beside the code that writes them, so that the two cannot drift apart (tests/allocation/test_reasons.py).

_SIMPLE_REASONS = {"withdrawn": "withdrawn"}
_PREFIXED_REASONS = (
    ("no amount for level: ", "no_amount"),
    ("status: ", "status"),
    ("unit outside the round's units: ", "outside_unit"),
)


def read_reason(text: str) -> dict:
    """A reason written by this module as its parts: {"kind": …, …}; {"kind": "text"} when it is not one of ours.

    Kinds: comparison (negated, field, op, expected, actual: as shown), min_score (minimum, score), no_amount
    (value: the level), status (value), withdrawn, outside_unit (value), restriction (reason: read back too),
    awarded_elsewhere (year).
    """
    if text in _SIMPLE_REASONS:
        return {"kind": _SIMPLE_REASONS[text]}
    for prefix, kind in _PREFIXED_REASONS:
        if text.startswith(prefix):
            return {"kind": kind, "value": text[len(prefix) :]}
    if text.startswith("fund restriction: "):
        return {"kind": "restriction", "reason": read_reason(text[len("fund restriction: ") :])}
    if text.startswith("already holds an award in academic year"):
        return {"kind": "awarded_elsewhere", "year": text[len("already holds an award in academic year") :].strip()}
    if text.startswith("score gte min_score "):
        minimum, _, score = text[len("score gte min_score ") :].partition(": ")
        return {"kind": "min_score", "minimum": minimum, "score": score}
    return _read_comparison(text)


def _read_comparison(text: str) -> dict:
    negated = text.startswith("not ")
    rest = text[4:] if negated else text
    field, _, rest = rest.partition(" ")
    op, _, rest = rest.partition(" ")
    if field not in FIELDS or op not in OPERATORS:
        return {"kind": "text", "text": text}
    # The rule's side is one value, or a list in brackets (which may hold ": " no more than a value may).
    cut = rest.find("]: ") + 1 if rest.startswith("[") else rest.find(": ")
    if cut <= 0:
        return {"kind": "text", "text": text}
    return {
        "kind": "comparison",
        "negated": negated,
        "field": field,
        "op": op,
        "expected": rest[:cut],
        "actual": rest[cut + 2 :],
    }


# --- conditions --------------------------------------------------------------------------------------


class Condition:
    """A condition of the rules: a comparison, or all / any / not of conditions."""

    def holds(self, facts: Facts) -> bool:
        raise NotImplementedError

    def failures(self, facts: Facts, want: bool = True) -> list[str]:
        """The reasons why the condition is not `want` for these facts: every comparison responsible.

        None when it is `want`. "all" wanted true names its failing parts; "any" wanted true (none held) names
        all of them; under "not" the roles swap, and a comparison that holds where it should not is named as
        "not field op value: actual".
        """
        raise NotImplementedError


@dataclass(frozen=True)
class Comparison(Condition):
    """`{"field": F, "op": O, "value": V}`: the nomination's F compared with V by O; false when F is empty."""

    field: str
    op: str
    value: Any  # as written in the rules

    @cached_property
    def operator(self) -> Operator:
        return OPERATORS[self.op]

    @cached_property
    def expected(self) -> Any:
        """The rule's value as the operator compares it (normalised for the field's kind)."""
        kind = FIELDS[self.field][0]
        return self.operator.expected(lambda raw: rule_value(kind, raw), self.value)

    @property
    def prefix(self) -> str:
        """The rule's side of a reason: "gpa gte 6.5: "."""
        return f"{self.field} {self.op} {shown(self.value)}: "

    def holds(self, facts: Facts) -> bool:
        actual = facts[self.field]
        return actual is not None and self.operator.compare(actual, self.expected)

    def failures(self, facts: Facts, want: bool = True) -> list[str]:
        if self.holds(facts) == want:
            return []
        reason = self.prefix + shown(facts[self.field])
        return [reason if want else "not " + reason]


@dataclass(frozen=True)
class AllOf(Condition):
    parts: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return all(part.holds(facts) for part in self.parts)

    def failures(self, facts: Facts, want: bool = True) -> list[str]:
        if self.holds(facts) == want:
            return []
        return [reason for part in self.parts for reason in part.failures(facts, want)]


@dataclass(frozen=True)
class AnyOf(Condition):
    parts: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return any(part.holds(facts) for part in self.parts)

    def failures(self, facts: Facts, want: bool = True) -> list[str]:
        if self.holds(facts) == want:
            return []
        return [reason for part in self.parts for reason in part.failures(facts, want)]


@dataclass(frozen=True)
class Not(Condition):
    part: Condition

    def holds(self, facts: Facts) -> bool:
        return not self.part.holds(facts)

    def failures(self, facts: Facts, want: bool = True) -> list[str]:
        return self.part.failures(facts, not want)


def condition(doc: Mapping) -> Condition:
    """A (validated) condition document as a Condition."""
    if "all" in doc:
        return AllOf(tuple(condition(c) for c in doc["all"]))
    if "any" in doc:
        return AnyOf(tuple(condition(c) for c in doc["any"]))
    if "not" in doc:
        return Not(condition(doc["not"]))
    return Comparison(doc["field"], doc["op"], doc["value"])


def comparisons(cond: Condition) -> list[Comparison]:
    """Every comparison of a condition, in the order written."""
    if isinstance(cond, Comparison):
        return [cond]
    parts = (cond.part,) if isinstance(cond, Not) else cond.parts
    return [c for part in parts for c in comparisons(part)]


# --- score, amount and quotas ------------------------------------------------------------------------


@dataclass(frozen=True)
class WhenTerm:
    """`{"when": c, "points": p}`: p points when c holds."""

    index: int
    when: Condition
    points: Decimal

    def contribution(self, facts: Facts) -> Decimal:
        return self.points if self.when.holds(facts) else ZERO


@dataclass(frozen=True)
class PerUnitTerm:
    """`{"field": F, "points_per_unit": k}`: k × the nomination's F, nothing when F is empty."""

    index: int
    field: str
    points: Decimal

    def contribution(self, facts: Facts) -> Decimal:
        v = facts[self.field]
        return ZERO if v is None else self.points * v


@dataclass(frozen=True)
class Tier:
    """`{"name": N, "when": c, "amount": A}`: amount A (tier N) for a nomination for which c holds."""

    name: str
    when: Condition
    amount: int

    def applies(self, facts: Facts) -> bool:
        return self.when.holds(facts)


@dataclass(frozen=True)
class Quota:
    """`{"group": G, ["value": V,] "max_awards": n, "max_amount": m}`: the awards of one value of G are limited.

    With a value, it applies only to nominations whose G equals it; without, to each value of G on its own.
    """

    index: int
    group: str
    value: Any  # normalised; only when `has_value`
    has_value: bool
    max_awards: int | None
    max_amount: int | None

    def applies_to(self, group_value: Any) -> bool:
        """Whether a nomination whose group field reads `group_value` (None when empty) is counted by this quota."""
        return group_value is not None and (not self.has_value or group_value == self.value)

    def exceeded(self, used_awards: int, used_amount: int, amount: int) -> dict[str, int]:
        """The limits one more award of `amount` would pass, given its group's usage so far (empty: it fits)."""
        over = {}
        if self.max_awards is not None and used_awards + 1 > self.max_awards:
            over["max_awards"] = self.max_awards
        if self.max_amount is not None and used_amount + amount > self.max_amount:
            over["max_amount"] = self.max_amount
        return over

    def stop(self, group_value: Any, over: Mapping[str, int]) -> dict:
        """How a waitlisted entry names the quota that stopped it (docs/rules.md "Result")."""
        return {"index": self.index, "group": self.group, "value": jsonable(group_value), **over}


def quotas(docs: Sequence[Mapping]) -> list[Quota]:
    quotas = []
    for i, q in enumerate(docs):
        kind = FIELDS[q["group"]][0]
        has_value = "value" in q
        value = rule_value(kind, q["value"]) if has_value else None
        quotas.append(Quota(i, q["group"], value, has_value, q.get("max_awards"), q.get("max_amount")))
    return quotas


@dataclass(frozen=True)
class Ruleset:
    """A validated rules document (and a fund's restriction) as objects."""

    eligibility: Condition | None
    restriction: Condition | None
    terms: tuple[WhenTerm | PerUnitTerm, ...]
    min_score: Decimal | None
    min_score_text: Any  # as written, for the reason
    amounts: Mapping[str, int]
    tiers: tuple[Tier, ...]
    quotas: tuple[Quota, ...]
    tie_break: tuple[tuple[str, bool], ...]  # (field, descending)
    one_award_per_year: bool

    @classmethod
    def of(cls, rules: Mapping, restriction: Mapping | None = None) -> Ruleset:
        terms: list[WhenTerm | PerUnitTerm] = []
        for i, t in enumerate(rules.get("score") or ()):
            if "when" in t:
                terms.append(WhenTerm(i, condition(t["when"]), to_decimal(t["points"])))
            else:
                terms.append(PerUnitTerm(i, t["field"], to_decimal(t["points_per_unit"])))
        ms = rules.get("min_score")
        return cls(
            eligibility=condition(rules["eligibility"]) if rules.get("eligibility") else None,
            restriction=condition(restriction) if restriction else None,
            terms=tuple(terms),
            min_score=to_decimal(ms) if ms is not None else None,
            min_score_text=ms,
            amounts=dict(rules.get("amounts") or {}),
            tiers=tuple(Tier(t["name"], condition(t["when"]), int(t["amount"])) for t in rules.get("tiers") or ()),
            quotas=tuple(quotas(rules.get("quotas") or ())),
            tie_break=tuple((key.lstrip("-"), key.startswith("-")) for key in rules.get("tie_break") or ()),
            one_award_per_year=rules.get("one_award_per_year", True),
        )

    def score(self, facts: Facts) -> Decimal:
        total = ZERO
        for term in self.terms:
            total += term.contribution(facts)
        return total

    def amount(self, facts: Facts) -> tuple[int | None, str | None]:
        """(amount, tier name): the first tier that applies, else the amount of the nomination's level."""
        for tier in self.tiers:
            if tier.applies(facts):
                return tier.amount, tier.name
        return self.amount_for_level(facts["level"]), None

    def amount_for_level(self, level: Any) -> int | None:
        return None if is_empty(level) else self.amounts.get(level)

    def conditions_hold(self, facts: Facts) -> bool:
        return all(c.holds(facts) for c in (self.eligibility, self.restriction) if c is not None)

    def eligible(
        self,
        *,
        conditions_hold: bool,
        score: Decimal,
        amount: int | None,
        status: Any,
        in_round_unit: Any,
        awarded_elsewhere: Any,
    ) -> bool:
        """docs/rules.md "Eligibility": whether a nomination is ranked."""
        return (
            conditions_hold
            and amount is not None
            and (self.min_score is None or score >= self.min_score)
            and (status is None or status == "active")
            and in_round_unit is not False
            and not (self.one_award_per_year and awarded_elsewhere)
        )

    def ineligibility_reasons(
        self,
        *,
        eligibility_failures: Sequence[str],
        restriction_failures: Sequence[str],
        score: Decimal,
        amount: int | None,
        level: Any,
        status: Any,
        in_round_unit: Any,
        unit: Any,
        awarded_elsewhere: Any,
        academic_year: str | None,
    ) -> list[str]:
        """Every reason a nomination is not ranked, in the order docs/rules.md lists them (empty when it is)."""
        out = list(eligibility_failures)
        if self.min_score is not None and score < self.min_score:
            out.append(f"score gte min_score {shown(self.min_score_text)}: {format_score(score)}")
        if amount is None:
            out.append(f"no amount for level: {shown(level)}")
        if status not in (None, "", "active"):
            out.append("withdrawn" if status == "withdrawn" else f"status: {status}")
        if in_round_unit is False:
            out.append(f"unit outside the round's units: {shown(unit)}")
        out.extend(f"fund restriction: {r}" for r in restriction_failures)
        if self.one_award_per_year and awarded_elsewhere:
            year = f" {academic_year}" if academic_year else ""
            out.append(f"already holds an award in academic year{year}")
        return out

    def reasons_for(
        self,
        nomination: Mapping,
        *,
        eligibility_failures: Sequence[str],
        restriction_failures: Sequence[str],
        score: Decimal,
        amount: int | None,
        academic_year: str | None,
    ) -> list[str]:
        """`ineligibility_reasons` with the nomination's own level, status, unit and flags."""
        return self.ineligibility_reasons(
            eligibility_failures=eligibility_failures,
            restriction_failures=restriction_failures,
            score=score,
            amount=amount,
            level=nomination.get("level"),
            status=nomination.get("status"),
            in_round_unit=nomination.get("in_round_unit", True),
            unit=nomination.get("unit"),
            awarded_elsewhere=nomination.get("awarded_elsewhere"),
            academic_year=academic_year,
        )
