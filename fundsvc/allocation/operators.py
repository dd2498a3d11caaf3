"""The comparison operators of the rules language (docs/rules.md, "Conditions") and what "empty" means.

This is the one table of operators: validation (rules.py) accepts exactly these names, and the ruleset's
comparisons (ruleset.py) and the engine's compiled ones compare with them. Adding an operator is one entry
here (plus its argument shape in rules.py when it takes a list, and its line in docs/rules.md).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


def is_empty(value: Any) -> bool:
    """A nomination leaves a field empty when it holds nothing or blank text; every comparison on it is false."""
    return value is None or value == ""


def _one(normalise: Callable[[Any], Any], raw: Any) -> Any:
    return normalise(raw)


def _set_of(normalise: Callable[[Any], Any], raw: Any) -> frozenset:
    return frozenset(normalise(x) for x in raw)


@dataclass(frozen=True)
class Operator:
    name: str
    compare: Callable[[Any, Any], bool]  # (the nomination's value, the rule's expected value) -> bool
    takes_list: bool = False  # the rule's value is a non-empty list
    ordered: bool = False  # needs a number or date field
    # (normalise one value of the field's kind, the rule's raw value) -> what `compare` gets as expected
    prepare: Callable[[Callable[[Any], Any], Any], Any] = _one

    def expected(self, normalise: Callable[[Any], Any], raw: Any) -> Any:
        return self.prepare(normalise, raw)

    def test(self, expected: Any) -> Callable[[Any], bool]:
        """value -> bool against `expected`, for a value already known not to be empty."""
        compare = self.compare
        return lambda value: compare(value, expected)

    def leaf(self, read: Callable[[Mapping], Any], expected: Any) -> Callable[[Mapping], bool]:
        """nomination -> bool; `read` gives the normalised value, None when empty (which makes it false)."""
        compare = self.compare
        return lambda n: (v := read(n)) is not None and compare(v, expected)


def _contains(value: Any, expected: Any) -> bool:
    return value in expected


def _not_contains(value: Any, expected: Any) -> bool:
    return value not in expected


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("eq", operator.eq),
        Operator("ne", operator.ne),
        Operator("in", _contains, takes_list=True, prepare=_set_of),
        Operator("not_in", _not_contains, takes_list=True, prepare=_set_of),
        Operator("gt", operator.gt, ordered=True),
        Operator("gte", operator.ge, ordered=True),
        Operator("lt", operator.lt, ordered=True),
        Operator("lte", operator.le, ordered=True),
    )
}
