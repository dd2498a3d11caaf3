"""Who sees pupils' personal data, and what the others see instead: one rule for every output.

Pupils are minors: their household status, conduct, marks, guardian, birth date, notes, disability and the like
are shown only to the roles that decide on them (Actor.sees_personal_data: committee and admin). An allocation's
reasons name such values ("household in [poor, near_poor]: none"); for every other role each reason keeps its
field and its comparison and loses the rule's value and the pupil's (household in …). Pure: no Flask.
"""

from __future__ import annotations

from typing import Any

HIDDEN = "…"
RESULT_LISTS = ("awarded", "waitlisted", "ineligible")


def redact_reason(reason: str) -> str:
    """A reason as "field op …", without the rule's value or the pupil's.

    Reasons read "field op rule-value: pupil's value"; the first ": " after the comparison is at or before the
    pupil's value, so cutting there never shows any of it.
    """
    field, _, rest = reason.partition(" ")
    op, _, _values = rest.partition(" ")
    return f"{field} {op} {HIDDEN}" if op else HIDDEN


def redact_allocation(result: dict[str, Any]) -> dict[str, Any]:
    """An allocation result with every entry's reasons redacted (a new dict; `result` is left as it is)."""
    out = dict(result)
    for name in RESULT_LISTS:
        entries = result.get(name)
        if isinstance(entries, list):
            out[name] = [_redacted_entry(entry) for entry in entries]
    return out


def _redacted_entry(entry: Any) -> Any:
    if not isinstance(entry, dict) or not entry.get("reasons"):
        return entry
    return {**entry, "reasons": [redact_reason(reason) for reason in entry["reasons"]]}
