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


# Donors' contact details go to the roles that deal with donors; a viewer sees names and amounts only.
DONOR_CONTACT_FIELDS = ("phone", "email", "address", "tax_code")
ANONYMOUS_NAME = "Nhà hảo tâm ẩn danh"


def sees_donor_contact(role: str) -> bool:
    """Whether `role` sees donors' phones, e-mails, addresses and tax codes (and anonymous donors' names)."""
    return role in ("admin", "treasurer")


def redact_donor(donor: dict[str, Any], role: str, *, anonymous: bool = False) -> dict[str, Any]:
    """A dumped donor as `role` may see it: contact details dropped, and the name of an anonymous gift's donor."""
    if sees_donor_contact(role):
        return donor
    out = {key: value for key, value in donor.items() if key not in DONOR_CONTACT_FIELDS}
    if anonymous:
        out["name"] = ANONYMOUS_NAME
    return out
