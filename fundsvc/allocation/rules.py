"""The allocation rules document (docs/rules.md, version 1): validation, field catalogue and presets.

Pure: no Flask, no database. `validate_rules(doc)` is the one entry point the service needs; it raises
`RulesError` whose `errors` map JSON paths ("rules.quotas[1].max_awards") to messages.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from decimal import Decimal
from typing import Any

import marshmallow
from marshmallow import RAISE, ValidationError, fields, validates_schema

from .operators import OPERATORS

# --- the field catalogue (docs/rules.md "Fields") ---------------------------------------------------------

NUMBER = "number"
DATE = "date"
BOOL = "bool"
TEXT = "text"

LEVELS = ("primary", "lower_secondary", "upper_secondary", "university")
RESULTS = ("excellent", "good", "pass", "fail")

#: field name -> (kind, allowed values or None). Every IMPORT.md key plus ethnic_minority, district and age.
FIELDS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "student_code": (TEXT, None),
    "full_name": (TEXT, None),
    "birth_date": (DATE, None),
    "gender": (TEXT, ("male", "female")),
    "ethnicity": (TEXT, None),
    "school": (TEXT, None),
    "grade": (TEXT, None),
    "level": (TEXT, LEVELS),
    "unit": (TEXT, None),
    "household": (TEXT, ("poor", "near_poor", "hardship", "none")),
    "orphan": (BOOL, None),
    "disability": (BOOL, None),
    "gpa": (NUMBER, None),
    "academic_result": (TEXT, RESULTS),
    "conduct": (TEXT, RESULTS),
    "achievement": (TEXT, ("national", "province", "district", "school", "none")),
    "guardian": (TEXT, None),
    "note": (TEXT, None),
    "ethnic_minority": (BOOL, None),
    "district": (TEXT, None),
    "age": (NUMBER, None),
}

COMBINATORS = ("all", "any", "not")


class RulesError(ValueError):
    """The rules document (or a condition) is invalid; `errors` maps JSON paths to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first = next(iter(errors.items()), ("rules", ["invalid"]))
        super().__init__(f"invalid rules: {first[0]}: {'; '.join(first[1])}")


# --- helpers -----------------------------------------------------------------------------------------


def is_number(x: Any) -> bool:
    """A JSON number (bool excluded, finite)."""
    if isinstance(x, bool):
        return False
    if isinstance(x, int):
        return True
    if isinstance(x, float):
        return math.isfinite(x)
    if isinstance(x, Decimal):
        return x.is_finite()
    return False


def to_decimal(x: Any) -> Decimal:
    """Exact decimal of a JSON number: 6.5 -> Decimal('6.5'), never the binary float's expansion."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, int):
        return Decimal(x)
    return Decimal(str(x))


def parse_date(x: Any) -> dt.date:
    """An ISO `YYYY-MM-DD` string (or a date) to a date."""
    if isinstance(x, dt.datetime):
        return x.date()
    if isinstance(x, dt.date):
        return x
    if isinstance(x, str) and len(x) == 10:
        return dt.date.fromisoformat(x)
    raise ValueError(x)


def _scalar_error(field: str, value: Any) -> str | None:
    """Why `value` cannot be compared with `field`, or None when it fits."""
    kind, allowed = FIELDS[field]
    if value is None:
        return "Field may not be null."
    if kind == NUMBER:
        return None if is_number(value) else f"A number is expected for {field}."
    if kind == BOOL:
        return None if isinstance(value, bool) else f"true or false is expected for {field}."
    if kind == DATE:
        if not isinstance(value, str):
            return f"A date YYYY-MM-DD is expected for {field}."
        try:
            parse_date(value)
        except ValueError:
            return f"A date YYYY-MM-DD is expected for {field}."
        return None
    if not isinstance(value, str):
        return f"A string is expected for {field}."
    if value == "":
        return "Must not be empty (a comparison on an empty field is always false)."
    if len(value) > MAX_TEXT:
        return f"At most {MAX_TEXT} characters."
    if allowed is not None and value not in allowed:
        return f"Must be one of: {', '.join(allowed)}."
    return None


# Limits of a rules document: far above any real round's rules, low enough that no document can make allocating
# slow or the round's page huge (issue "Hostile input cannot hurt it", finding 11).
MAX_CONDITION_DEPTH = 12
MAX_CONDITION_NODES = 500
MAX_LIST_VALUES = 500
MAX_SCORE_TERMS = 100
MAX_TIE_BREAK = len(FIELDS)
MAX_TIERS = 50
MAX_QUOTAS = 500
MAX_TEXT = 200


def _condition_size_error(cond: Any) -> str | None:
    """Why a condition is too deep or too big, walked without recursion (so no depth can overflow the stack)."""
    pending, nodes = [(cond, 1)], 0
    while pending:
        node, depth = pending.pop()
        nodes += 1
        if depth > MAX_CONDITION_DEPTH:
            return f"Conditions may be nested at most {MAX_CONDITION_DEPTH} levels deep."
        if nodes > MAX_CONDITION_NODES:
            return f"A condition may have at most {MAX_CONDITION_NODES} parts."
        if isinstance(node, dict):
            for comb in COMBINATORS:
                sub = node.get(comb)
                if isinstance(sub, dict):
                    pending.append((sub, depth + 1))
                elif isinstance(sub, list):
                    pending.extend((c, depth + 1) for c in sub[: MAX_CONDITION_NODES + 1])
            if isinstance(node.get("value"), list) and len(node["value"]) > MAX_LIST_VALUES:
                return f"A list of values may hold at most {MAX_LIST_VALUES} items."
    return None


def condition_errors(cond: Any) -> dict | list | None:
    """Nested marshmallow-style errors of one condition (None when valid)."""
    too_big = _condition_size_error(cond)
    if too_big:
        return [too_big]
    return _condition_errors(cond)


def _condition_errors(cond: Any) -> dict | list | None:
    if not isinstance(cond, dict):
        return ["A condition must be an object."]
    if not cond:
        return ["A condition must not be empty."]
    for comb in COMBINATORS:
        if comb in cond:
            return _combination_errors(cond, comb)
    return _comparison_errors(cond)


def _combination_errors(cond: dict, comb: str) -> dict | None:
    """The errors of `{"all": [...]}`, `{"any": [...]}` or `{"not": c}`, by key."""
    errs: dict[Any, Any] = {k: ["Unknown field."] for k in cond if k != comb}
    sub = cond[comb]
    if comb == "not":
        e = _condition_errors(sub)
        if e:
            errs[comb] = e
    elif not isinstance(sub, list):
        errs[comb] = ["A list of conditions is expected."]
    elif not sub:
        errs[comb] = ["Must not be empty."]
    else:
        items = {i: e for i, c in enumerate(sub) if (e := _condition_errors(c))}
        if items:
            errs[comb] = items
    return errs or None


def _comparison_errors(cond: dict) -> dict | None:
    """The errors of `{"field": F, "op": OP, "value": V}`, by key."""
    errs: dict[Any, Any] = {k: ["Unknown field."] for k in cond if k not in ("field", "op", "value")}
    field, op = cond.get("field"), cond.get("op")
    if "field" not in cond:
        errs["field"] = ["Missing data for required field."]
    elif not isinstance(field, str) or field not in FIELDS:
        errs["field"] = [f"Unknown field: {field!r}."]
        field = None
    if "op" not in cond:
        errs["op"] = ["Missing data for required field."]
    elif not isinstance(op, str) or op not in OPERATORS:
        errs["op"] = [f"Unknown operator: {op!r}; one of {', '.join(OPERATORS)}."]
        op = None
    if "value" not in cond:
        errs["value"] = ["Missing data for required field."]
    elif field and op:
        errs.update(_operand_errors(field, op, cond["value"]))
    return errs or None


def _operand_errors(field: str, op: str, value: Any) -> dict[str, Any]:
    """The errors of an operator on a field with a value: the operator's field kind and argument shape."""
    operator = OPERATORS[op]
    if operator.ordered and FIELDS[field][0] not in (NUMBER, DATE):
        return {"op": [f"{op} needs a number or date field; {field} is not one."]}
    if operator.takes_list:
        if not isinstance(value, list):
            return {"value": [f"{op} needs a list."]}
        if not value:
            return {"value": ["Must not be empty."]}
        items = {i: [e] for i, v in enumerate(value) if (e := _scalar_error(field, v))}
        return {"value": items} if items else {}
    if isinstance(value, list | dict):
        return {"value": [f"{op} needs a single value, not a list."]}
    e = _scalar_error(field, value)
    return {"value": [e]} if e else {}


def flatten_errors(messages: Any, prefix: str = "rules") -> dict[str, list[str]]:
    """marshmallow's nested error dict -> {"rules.quotas[1].max_awards": [...], ...}."""
    out: dict[str, list[str]] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, sub in node.items():
                if isinstance(key, int):
                    walk(sub, f"{path}[{key}]")
                elif key == "_schema":
                    walk(sub, path)
                else:
                    walk(sub, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list | tuple):
            for item in node:
                if isinstance(item, dict | list | tuple):
                    walk(item, path)
                else:
                    out.setdefault(path, []).append(str(item))
        else:
            out.setdefault(path, []).append(str(node))

    walk(messages, prefix)
    return out


# --- marshmallow fields and schemas --------------------------------------------------------------------


class ConditionField(fields.Field):
    """A docs/rules.md condition (leaf, all, any, not), validated recursively."""

    def _deserialize(self, value, attr, data, **kwargs):
        errs = condition_errors(value)
        if errs:
            raise ValidationError(errs)
        return value


class NumberField(fields.Field):
    """A JSON number (int or float, never bool) kept as given."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not is_number(value):
            raise ValidationError("Not a valid number.")
        return value


class PositiveAmount(fields.Integer):
    """A positive whole number of đồng."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        num = super()._deserialize(value, attr, data, **kwargs)
        if num <= 0:
            raise ValidationError("Must be a positive integer.")
        return num


class StrictBool(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean.")
        return value


class ScoreTermField(fields.Field):
    """`{"when": c, "points": p}` or `{"field": F, "points_per_unit": k}`."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("A score term must be an object.")
        if "field" in value or "points_per_unit" in value:
            errs = _per_unit_term_errors(value)
        else:
            errs = _when_term_errors(value)
        if errs:
            raise ValidationError(errs)
        return value


def _per_unit_term_errors(value: dict) -> dict[str, Any]:
    """The errors of `{"field": F, "points_per_unit": k}`, by key."""
    errs: dict[str, Any] = {k: ["Unknown field."] for k in value if k not in ("field", "points_per_unit")}
    f = value.get("field")
    if "field" not in value:
        errs["field"] = ["Missing data for required field."]
    elif not isinstance(f, str) or f not in FIELDS:
        errs["field"] = [f"Unknown field: {f!r}."]
    elif FIELDS[f][0] != NUMBER:
        errs["field"] = [f"points_per_unit needs a number field; {f} is not one."]
    if "points_per_unit" not in value:
        errs["points_per_unit"] = ["Missing data for required field."]
    elif not is_number(value["points_per_unit"]):
        errs["points_per_unit"] = ["Not a valid number."]
    return errs


def _when_term_errors(value: dict) -> dict[str, Any]:
    """The errors of `{"when": c, "points": p}`, by key."""
    errs: dict[str, Any] = {k: ["Unknown field."] for k in value if k not in ("when", "points")}
    if "when" not in value:
        errs["when"] = ["Missing data for required field."]
    else:
        e = condition_errors(value["when"])
        if e:
            errs["when"] = e
    if "points" not in value:
        errs["points"] = ["Missing data for required field."]
    elif not is_number(value["points"]):
        errs["points"] = ["Not a valid number."]
    return errs


class AmountsField(fields.Field):
    """`{level: amount}` for the levels of IMPORT.md."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("An object {level: amount} is expected.")
        errs: dict[str, list[str]] = {}
        for k, v in value.items():
            if k not in LEVELS:
                errs[k] = [f"Unknown level; one of {', '.join(LEVELS)}."]
            elif isinstance(v, bool) or not isinstance(v, int):
                errs[k] = ["Not a valid integer."]
            elif v <= 0:
                errs[k] = ["Must be a positive integer."]
        if errs:
            raise ValidationError(errs)
        return value


def _valid_tie_break(key: Any) -> None:
    name = key[1:] if isinstance(key, str) and key.startswith("-") else key
    if name not in FIELDS:
        raise ValidationError(f"Unknown field: {key!r} (a field name, '-' in front for descending).")


class TierSchema(marshmallow.Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=marshmallow.validate.Length(min=1, max=MAX_TEXT))
    when = ConditionField(required=True)
    amount = PositiveAmount(required=True)


class QuotaSchema(marshmallow.Schema):
    class Meta:
        unknown = RAISE

    group = fields.String(required=True, validate=marshmallow.validate.OneOf(tuple(FIELDS)))
    value = fields.Raw()
    max_awards = PositiveAmount()
    max_amount = PositiveAmount()

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _check(self, data, original, **kwargs):
        if "max_awards" not in original and "max_amount" not in original:
            raise ValidationError("max_awards or max_amount is required.", "max_awards")
        if "value" in data and data.get("group") in FIELDS:
            e = _scalar_error(data["group"], data["value"])
            if e:
                raise ValidationError(e, "value")


class RulesSchema(marshmallow.Schema):
    """The whole rules document, version 1 (unknown keys rejected at every level)."""

    class Meta:
        unknown = RAISE

    version = fields.Integer(strict=True, required=True, validate=marshmallow.validate.Equal(1))
    eligibility = ConditionField()
    score = fields.List(ScoreTermField())
    min_score = NumberField()
    tie_break = fields.List(fields.Raw(validate=_valid_tie_break))
    amounts = AmountsField()
    tiers = fields.List(fields.Nested(TierSchema))
    quotas = fields.List(fields.Nested(QuotaSchema))
    one_award_per_year = StrictBool()

    @validates_schema
    def _something_to_give(self, data, **kwargs):
        if not data.get("amounts") and not data.get("tiers"):
            raise ValidationError("amounts (or tiers) must give at least one amount.", "amounts")


_SCHEMA = RulesSchema()
_LIST_LIMITS = {"score": MAX_SCORE_TERMS, "tie_break": MAX_TIE_BREAK, "tiers": MAX_TIERS, "quotas": MAX_QUOTAS}


def _list_length_errors(doc: dict) -> dict[str, list[str]]:
    """The document's lists longer than their limits, checked before any item is read."""
    return {
        f"rules.{name}": [f"At most {limit} items."]
        for name, limit in _LIST_LIMITS.items()
        if isinstance(doc.get(name), list) and len(doc[name]) > limit
    }


def validate_rules(doc: Any) -> dict:
    """Validate a rules document; return a deep copy of it, or raise RulesError with path-keyed errors."""
    if not isinstance(doc, dict):
        raise RulesError({"rules": ["The rules must be an object."]})
    too_long = _list_length_errors(doc)
    if too_long:
        raise RulesError(too_long)
    try:
        _SCHEMA.load(doc)
    except ValidationError as exc:
        raise RulesError(flatten_errors(exc.messages, "rules")) from None
    return copy.deepcopy(doc)


def validate_condition(cond: Any, path: str = "restriction") -> Any:
    """Validate one condition (e.g. a fund's restriction); raise RulesError keyed under `path`."""
    errs = condition_errors(cond)
    if errs:
        raise RulesError(flatten_errors(errs, path))
    return copy.deepcopy(cond)


# --- presets -----------------------------------------------------------------------------------------

PRESETS: dict[str, dict] = {
    # Học bổng khuyến học: poor and hard-working pupils (học sinh nghèo vượt khó).
    "khuyen_hoc": {
        "version": 1,
        "eligibility": {
            "all": [
                {
                    "field": "household",
                    "op": "in",
                    "value": ["poor", "near_poor", "hardship"],
                },
                {"field": "conduct", "op": "in", "value": ["excellent", "good"]},
                {"field": "gpa", "op": "gte", "value": 6.5},
            ]
        },
        "score": [
            {"when": {"field": "household", "op": "eq", "value": "poor"}, "points": 30},
            {
                "when": {"field": "household", "op": "eq", "value": "near_poor"},
                "points": 20,
            },
            {
                "when": {"field": "household", "op": "eq", "value": "hardship"},
                "points": 10,
            },
            {"when": {"field": "orphan", "op": "eq", "value": True}, "points": 15},
            {"when": {"field": "disability", "op": "eq", "value": True}, "points": 10},
            {
                "when": {"field": "ethnic_minority", "op": "eq", "value": True},
                "points": 10,
            },
            {"field": "gpa", "points_per_unit": 5},
        ],
        "min_score": 0,
        "tie_break": ["-gpa", "birth_date"],
        "amounts": {
            "primary": 500000,
            "lower_secondary": 1000000,
            "upper_secondary": 1500000,
            "university": 3000000,
        },
        "tiers": [],
        "quotas": [],
        "one_award_per_year": True,
    },
    # Học bổng khuyến tài: gifted pupils (provincial or national prizes, top marks).
    "khuyen_tai": {
        "version": 1,
        "eligibility": {
            "all": [
                {"field": "conduct", "op": "eq", "value": "excellent"},
                {
                    "any": [
                        {"field": "gpa", "op": "gte", "value": 8.5},
                        {
                            "field": "achievement",
                            "op": "in",
                            "value": ["province", "national"],
                        },
                    ]
                },
            ]
        },
        "score": [
            {
                "when": {"field": "achievement", "op": "eq", "value": "national"},
                "points": 50,
            },
            {
                "when": {"field": "achievement", "op": "eq", "value": "province"},
                "points": 30,
            },
            {
                "when": {"field": "achievement", "op": "eq", "value": "district"},
                "points": 10,
            },
            {
                "when": {"field": "academic_result", "op": "eq", "value": "excellent"},
                "points": 10,
            },
            {"field": "gpa", "points_per_unit": 10},
        ],
        "min_score": 0,
        "tie_break": ["-gpa", "birth_date"],
        "amounts": {
            "primary": 1000000,
            "lower_secondary": 1500000,
            "upper_secondary": 2000000,
            "university": 3000000,
        },
        "tiers": [
            {
                "name": "Giải quốc gia",
                "when": {"field": "achievement", "op": "eq", "value": "national"},
                "amount": 5000000,
            },
            {
                "name": "Giải tỉnh",
                "when": {"field": "achievement", "op": "eq", "value": "province"},
                "amount": 3000000,
            },
        ],
        "quotas": [],
        "one_award_per_year": True,
    },
}
