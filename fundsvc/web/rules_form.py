"""The round form's rules editor: a rules document (docs/rules.md) as form fields, and the fields back as one.

Pure: no Flask. The form edits a *draft*, the rules document with every value kept as the text the committee
typed, so that a half-filled form can be shown again as it was:

- `draft_of(rules)`: a rules document (a preset, a round's rules, the JSON view) as a draft;
- `draft_from_form(form)`: the posted fields as a draft (names are paths: `eligibility.parts.0.field`,
  `score.2.points`, `quotas.1.max_awards`; see `templates/web/_rules_editor.html`);
- `edit(draft, action)`: a row added or removed (`add:score`, `remove:eligibility.parts.1`);
- `rules_of(draft)`: the rules document and the errors, keyed by the form field they belong to, with the
  messages of `MESSAGES` (the page words them in the reader's language), after `validate_rules` has had its say.

The form writes every part of the document (lists stay as lists, empty or not), so a document with all its
parts, as the presets and the worked example have them, comes back from the form exactly as it went in.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fundsvc.allocation.operators import OPERATORS
from fundsvc.allocation.rules import BOOL, DATE, FIELDS, LEVELS, NUMBER, RulesError, parse_date, validate_rules

GROUPS = ("all", "any")
CONDITION_KINDS = ("cmp", "all", "any", "not")
TERM_KINDS = ("when", "per_unit")
NUMBER_FIELDS = tuple(name for name, (kind, _) in FIELDS.items() if kind == NUMBER)

#: The error codes `rules_of` answers (the page has their words).
MESSAGES = (
    "required",
    "number",
    "whole_number",
    "amount",
    "date",
    "choose",
    "one_of",
    "ordered_op",
    "limit",
    "some_amount",
    "invalid",
)


def operators_for(field: str) -> tuple[str, ...]:
    """The operators a comparison on `field` may use (gt … lte only on numbers and dates)."""
    kind = FIELDS.get(field, (None, None))[0]
    return tuple(name for name, op in OPERATORS.items() if not op.ordered or kind in (NUMBER, DATE))


# --- a rules document as a draft ----------------------------------------------------------------------------


def number_text(value: Any, decimal_mark: str = ",") -> str:
    """A JSON number as typed in the form: 6.5 -> "6,5" (Vietnamese), 30 -> "30"."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return "" if value is None else str(value)
    text = format(Decimal(str(value)), "f")
    return text.replace(".", decimal_mark)


def _amount_text(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", ".")
    return "" if value is None else str(value)


def _value_text(field: str, value: Any, decimal_mark: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if FIELDS.get(field, (None,))[0] == NUMBER:
        return number_text(value, decimal_mark)
    return "" if value is None else str(value)


def empty_comparison(field: str = "gpa") -> dict:
    return {"kind": "cmp", "field": field, "op": operators_for(field)[0], "value": "", "values": []}


def condition_draft(cond: Any, decimal_mark: str = ",") -> dict:
    """A condition document as a draft node: {"kind", "parts"} or {"kind": "cmp", "field", "op", "value", "values"}."""
    if not isinstance(cond, Mapping):
        return empty_comparison()
    for group in GROUPS:
        if group in cond:
            parts = cond[group] if isinstance(cond[group], list) else []
            return {"kind": group, "parts": [condition_draft(c, decimal_mark) for c in parts]}
    if "not" in cond:
        return {"kind": "not", "parts": [condition_draft(cond["not"], decimal_mark)]}
    field = str(cond.get("field", ""))
    value = cond.get("value")
    listed = value if isinstance(value, list) else []
    return {
        "kind": "cmp",
        "field": field,
        "op": str(cond.get("op", "")),
        "value": "" if isinstance(value, list) else _value_text(field, value, decimal_mark),
        "values": [_value_text(field, v, decimal_mark) for v in listed],
    }


def _term_draft(term: Any, decimal_mark: str) -> dict:
    term = term if isinstance(term, Mapping) else {}
    if "when" in term:
        return {
            "kind": "when",
            "when": condition_draft(term["when"], decimal_mark),
            "points": number_text(term.get("points"), decimal_mark),
            "field": "gpa",
        }
    return {
        "kind": "per_unit",
        "when": empty_comparison(),
        "points": number_text(term.get("points_per_unit"), decimal_mark),
        "field": str(term.get("field", "gpa")),
    }


def _quota_draft(quota: Any) -> dict:
    quota = quota if isinstance(quota, Mapping) else {}
    group = str(quota.get("group", "unit"))
    return {
        "group": group,
        "value": _value_text(group, quota["value"], ",") if "value" in quota else "",
        "max_awards": "" if quota.get("max_awards") is None else str(quota["max_awards"]),
        "max_amount": _amount_text(quota.get("max_amount")),
    }


def draft_of(rules: Mapping, decimal_mark: str = ",") -> dict:
    """A rules document (valid or not, as long as it is an object) as the form's draft."""

    def items(key: str) -> list:
        value = rules.get(key)
        return value if isinstance(value, list) else []

    amounts = rules.get("amounts") if isinstance(rules.get("amounts"), Mapping) else {}
    eligibility = rules.get("eligibility")
    return {
        "version": str(rules.get("version", 1)),
        "eligibility": condition_draft(eligibility, decimal_mark) if eligibility else None,
        "score": [_term_draft(t, decimal_mark) for t in items("score")],
        "min_score": number_text(rules.get("min_score"), decimal_mark),
        "tie_break": [
            {"field": str(key).lstrip("-"), "order": "desc" if str(key).startswith("-") else "asc"}
            for key in items("tie_break")
        ],
        "amounts": {level: _amount_text(amounts.get(level)) for level in LEVELS},
        "tiers": [
            {
                "name": str(t.get("name", "")),
                "amount": _amount_text(t.get("amount")),
                "when": condition_draft(t.get("when"), decimal_mark),
            }
            for t in items("tiers")
            if isinstance(t, Mapping)
        ],
        "quotas": [_quota_draft(q) for q in items("quotas")],
        "one_award_per_year": rules.get("one_award_per_year", True) is not False,
    }


# --- the posted fields as a draft ------------------------------------------------------------------------------


def _indices(form: Mapping, prefix: str) -> list[int]:
    """The list indices posted under `prefix.` (`score.0.points`, `score.3.kind` -> [0, 3]), in order."""
    found = set()
    for name in form:
        if name.startswith(prefix + "."):
            head = name[len(prefix) + 1 :].split(".", 1)[0]
            if head.isdigit() and len(head) < 5:
                found.add(int(head))
    return sorted(found)


def _get(form: Any, name: str, default: str = "") -> str:
    value = form.get(name, default)
    return (value if isinstance(value, str) else default).strip()


def _getlist(form: Any, name: str) -> list[str]:
    """Every value posted as `name` (checkboxes), each split into lines (a textarea holds one value a line)."""
    raw = form.getlist(name) if hasattr(form, "getlist") else [form.get(name, "")]
    return [line.strip() for item in raw if isinstance(item, str) for line in item.splitlines() if line.strip()]


def condition_from_form(form: Any, prefix: str) -> dict:
    """The condition posted under `prefix`; a change of its kind keeps what was typed (a comparison becomes the
    first part of a group, a group turned into one comparison keeps its first comparison)."""
    kind = _get(form, f"{prefix}.kind", "cmp")
    kind = kind if kind in CONDITION_KINDS else "cmp"
    parts = [condition_from_form(form, f"{prefix}.parts.{i}") for i in _indices(form, f"{prefix}.parts")]
    comparison = None
    if f"{prefix}.field" in form:
        value, values = _get(form, f"{prefix}.value"), _getlist(form, f"{prefix}.values")
        comparison = {
            "kind": "cmp",
            "field": _get(form, f"{prefix}.field"),
            "op": _get(form, f"{prefix}.op"),
            "value": value or (values[0] if values else ""),
            "values": values or ([value] if value else []),
        }
        if comparison["op"] not in operators_for(comparison["field"]):
            comparison["op"] = operators_for(comparison["field"])[0]
    if kind == "cmp":
        return comparison or _first_comparison(parts) or empty_comparison()
    parts = parts or [comparison or empty_comparison()]
    if kind == "not" and len(parts) > 1:
        parts = [{"kind": "all", "parts": parts}]
    return {"kind": kind, "parts": parts}


def _first_comparison(parts: list[dict]) -> dict | None:
    for part in parts:
        if part["kind"] == "cmp":
            return part
        found = _first_comparison(part["parts"])
        if found:
            return found
    return None


def draft_from_form(form: Any) -> dict:
    """The rules editor's posted fields as a draft."""
    score = []
    for i in _indices(form, "score"):
        kind = _get(form, f"score.{i}.kind", "when")
        score.append(
            {
                "kind": kind if kind in TERM_KINDS else "when",
                "when": condition_from_form(form, f"score.{i}.when"),
                "points": _get(form, f"score.{i}.points"),
                "field": _get(form, f"score.{i}.field", "gpa"),
            }
        )
    return {
        "version": _get(form, "version", "1"),
        "eligibility": condition_from_form(form, "eligibility") if _get(form, "eligibility.kind") else None,
        "score": score,
        "min_score": _get(form, "min_score"),
        "tie_break": [
            {"field": _get(form, f"tie_break.{i}.field"), "order": _get(form, f"tie_break.{i}.order", "asc")}
            for i in _indices(form, "tie_break")
        ],
        "amounts": {level: _get(form, f"amounts.{level}") for level in LEVELS},
        "tiers": [
            {
                "name": _get(form, f"tiers.{i}.name"),
                "amount": _get(form, f"tiers.{i}.amount"),
                "when": condition_from_form(form, f"tiers.{i}.when"),
            }
            for i in _indices(form, "tiers")
        ],
        "quotas": [
            {
                "group": _get(form, f"quotas.{i}.group", "unit"),
                "value": _get(form, f"quotas.{i}.value"),
                "max_awards": _get(form, f"quotas.{i}.max_awards"),
                "max_amount": _get(form, f"quotas.{i}.max_amount"),
            }
            for i in _indices(form, "quotas")
        ],
        "one_award_per_year": bool(_get(form, "one_award_per_year")),
    }


# --- adding and removing rows ----------------------------------------------------------------------------------

_NEW_ITEMS = {
    "parts": empty_comparison,
    "score": lambda: {"kind": "when", "when": empty_comparison("household"), "points": "", "field": "gpa"},
    "tie_break": lambda: {"field": "gpa", "order": "desc"},
    "tiers": lambda: {"name": "", "amount": "", "when": empty_comparison("achievement")},
    "quotas": lambda: {"group": "unit", "value": "", "max_awards": "", "max_amount": ""},
}


def edit(draft: dict, action: str) -> dict:
    """The draft with one row added (`add:PATH`, PATH a list or `eligibility`) or removed (`remove:PATH.N`).

    An action that names nothing in the draft leaves it as it was.
    """
    draft = copy.deepcopy(draft)
    verb, _, path = action.partition(":")
    if path == "eligibility":
        draft["eligibility"] = empty_comparison("household") if verb == "add" else None
        if verb == "add":
            draft["eligibility"] = {"kind": "all", "parts": [draft["eligibility"]]}
        return draft
    *parents, last = path.split(".") if path else [""]
    node: Any = draft
    for key in parents:
        node = _step(node, key)
        if node is None:
            return draft
    if verb == "add" and last in _NEW_ITEMS:
        target = _step(node, last)
        if isinstance(target, list):
            target.append(_NEW_ITEMS[last]())
    elif verb == "remove" and last.isdigit() and isinstance(node, list) and int(last) < len(node):
        del node[int(last)]
    return draft


def _step(node: Any, key: str) -> Any:
    if isinstance(node, list):
        return node[int(key)] if key.isdigit() and int(key) < len(node) else None
    if isinstance(node, dict):
        return node.get(key)
    return None


# --- a draft as the rules document ---------------------------------------------------------------------------


class _Reader:
    """Reads the draft's texts into JSON values, noting an error code per form field name."""

    def __init__(self):
        self.errors: dict[str, str] = {}

    def fail(self, name: str, code: str) -> None:
        self.errors.setdefault(name, code)

    def number(self, name: str, text: str, *, required: bool = True) -> int | float | None:
        if not text:
            if required:
                self.fail(name, "required")
            return None
        try:
            value = Decimal(text.replace(",", "."))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or len(text) > 30:
            self.fail(name, "number")
            return None
        return (
            int(value) if value == value.to_integral_value() and "." not in text and "," not in text else float(value)
        )

    def whole(self, name: str, text: str, *, amount: bool = False) -> int | None:
        """A positive whole number (đồng when `amount`: dots between thousands allowed); None when empty."""
        if not text:
            return None
        digits = text
        if amount:
            for sep in (".", ",", " ", "\u00a0"):
                digits = digits.replace(sep, "")
            digits = digits.lower().removesuffix("đ").strip()
        if not digits.isdigit() or len(digits) > 16 or int(digits) <= 0:
            self.fail(name, "amount" if amount else "whole_number")
            return None
        return int(digits)

    def scalar(self, name: str, field: str, text: str) -> Any:
        kind, allowed = FIELDS[field]
        if not text:
            self.fail(name, "required")
            return None
        if kind == NUMBER:
            return self.number(name, text)
        if kind == BOOL:
            if text not in ("true", "false"):
                self.fail(name, "choose")
            return text == "true"
        if kind == DATE:
            try:
                parse_date(text)
            except ValueError:
                self.fail(name, "date")
            return text
        if allowed is not None and text not in allowed:
            self.fail(name, "one_of")
        return text

    def condition(self, node: dict, prefix: str) -> dict:
        if node["kind"] in GROUPS:
            return {node["kind"]: [self.condition(p, f"{prefix}.parts.{i}") for i, p in enumerate(node["parts"])]}
        if node["kind"] == "not":
            return {"not": self.condition(node["parts"][0], f"{prefix}.parts.0")}
        field, op = node["field"], node["op"]
        if field not in FIELDS:
            self.fail(f"{prefix}.field", "choose")
            return {"field": field, "op": op, "value": node["value"]}
        if op not in operators_for(field):
            self.fail(f"{prefix}.op", "ordered_op" if op in OPERATORS else "choose")
            return {"field": field, "op": op, "value": node["value"]}
        if OPERATORS[op].takes_list:
            if not node["values"]:
                self.fail(f"{prefix}.values", "required")
            value: Any = [self.scalar(f"{prefix}.values", field, v) for v in node["values"]]
        else:
            value = self.scalar(f"{prefix}.value", field, node["value"])
        return {"field": field, "op": op, "value": value}

    def term(self, term: dict, prefix: str) -> dict:
        if term["kind"] == "when":
            return {
                "when": self.condition(term["when"], f"{prefix}.when"),
                "points": self.number(f"{prefix}.points", term["points"]),
            }
        if term["field"] not in NUMBER_FIELDS:
            self.fail(f"{prefix}.field", "choose")
        return {"field": term["field"], "points_per_unit": self.number(f"{prefix}.points", term["points"])}

    def quota(self, quota: dict, prefix: str) -> dict:
        group = quota["group"]
        out: dict[str, Any] = {"group": group}
        if group not in FIELDS:
            self.fail(f"{prefix}.group", "choose")
        elif quota["value"]:
            out["value"] = self.scalar(f"{prefix}.value", group, quota["value"])
        for key, amount in (("max_awards", False), ("max_amount", True)):
            value = self.whole(f"{prefix}.{key}", quota[key], amount=amount)
            if value is not None:
                out[key] = value
        if not quota["max_awards"] and not quota["max_amount"]:
            self.fail(f"{prefix}.max_awards", "limit")
        return out

    def rules(self, draft: dict) -> dict:
        rules: dict[str, Any] = {"version": self.number("version", draft["version"]) or 1}
        if draft["eligibility"] is not None:
            rules["eligibility"] = self.condition(draft["eligibility"], "eligibility")
        rules["score"] = [self.term(t, f"score.{i}") for i, t in enumerate(draft["score"])]
        min_score = self.number("min_score", draft["min_score"], required=False)
        if min_score is not None:
            rules["min_score"] = min_score
        for i, key in enumerate(draft["tie_break"]):
            if key["field"] not in FIELDS:
                self.fail(f"tie_break.{i}.field", "choose")
        rules["tie_break"] = [("-" if k["order"] == "desc" else "") + k["field"] for k in draft["tie_break"]]
        amounts = {}
        for level, text in draft["amounts"].items():
            value = self.whole(f"amounts.{level}", text, amount=True)
            if value is not None:
                amounts[level] = value
        rules["amounts"] = amounts
        rules["tiers"] = []
        for i, tier in enumerate(draft["tiers"]):
            if not tier["name"]:
                self.fail(f"tiers.{i}.name", "required")
            amount = self.whole(f"tiers.{i}.amount", tier["amount"], amount=True)
            if not tier["amount"]:
                self.fail(f"tiers.{i}.amount", "required")
            rules["tiers"].append(
                {"name": tier["name"], "when": self.condition(tier["when"], f"tiers.{i}.when"), "amount": amount}
            )
        if not amounts and not draft["tiers"]:
            self.fail("amounts", "some_amount")
        rules["quotas"] = [self.quota(q, f"quotas.{i}") for i, q in enumerate(draft["quotas"])]
        rules["one_award_per_year"] = bool(draft["one_award_per_year"])
        return rules


def rules_of(draft: dict) -> tuple[dict, dict[str, str]]:
    """The draft as a rules document, and its errors by form field name (empty when the document is valid)."""
    reader = _Reader()
    rules = reader.rules(draft)
    if reader.errors:
        return rules, reader.errors
    try:
        validate_rules(rules)
    except RulesError as error:
        return rules, {field_name(path): "invalid" for path in error.errors}
    return rules, {}


def field_name(path: str) -> str:
    """A JSON path of `validate_rules` ("rules.eligibility.all[1].not.value[0]") as the form field's name
    ("eligibility.parts.1.parts.0.values")."""
    parts: list[str] = []
    for token in path.removeprefix("rules").replace("[", ".").replace("]", "").strip(".").split("."):
        if token in GROUPS:
            parts.append("parts")
        elif token == "not":
            parts += ["parts", "0"]
        elif token.isdigit() and parts and parts[-1] == "value":
            parts[-1] = "values"
        elif token == "points_per_unit":
            parts.append("points")
        elif token:
            parts.append(token)
    return ".".join(parts) or "rules"
