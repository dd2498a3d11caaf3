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
            out[name] = redact_entries(entries)
    return out


def redact_entries(entries: list) -> list:
    """Entries of an allocation result with their reasons redacted (new dicts where redacted)."""
    return [_redacted_entry(entry) for entry in entries]


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


# What every role may see of a nomination (the API's NominationPublicOut): no birth date, household, guardian, marks…
PUPIL_PUBLIC_FIELDS = frozenset(
    ("id", "academic_year", "status", "student_code", "full_name", "gender", "school", "grade", "level", "unit")
)


class Seen:
    """A record as one viewer may see it, for the API's schemas to dump: an attribute outside `shown` (when given) or
    in `hidden` is absent, and a schema leaves an absent attribute out; `replaced` ones read as given."""

    __slots__ = ("_hidden", "_record", "_replaced", "_shown")

    def __init__(self, record: Any, *, shown=None, hidden=(), replaced: dict | None = None):
        self._record = record
        self._shown = shown
        self._hidden = frozenset(hidden)
        self._replaced = replaced or {}

    def __getattr__(self, name: str) -> Any:
        if name in self._hidden or (self._shown is not None and name not in self._shown):
            raise AttributeError(name)
        if name in self._replaced:
            return self._replaced[name]
        return getattr(self._record, name)


def donor_name_seen_by(role: str, name: str, *, anonymous: bool = False) -> str:
    """A gift's donor's name as `role` may see it: an anonymous gift's donor is named only to some roles."""
    return ANONYMOUS_NAME if anonymous and not sees_donor_contact(role) else name


def donor_seen_by(role: str, donor: Any, *, anonymous: bool = False) -> Any:
    """A donor as `role` may see it: contact details absent, and the name of an anonymous gift's donor."""
    if sees_donor_contact(role):
        return donor
    name = donor_name_seen_by(role, donor.name, anonymous=anonymous)
    return Seen(donor, hidden=DONOR_CONTACT_FIELDS, replaced={"name": name} if anonymous else None)


def donation_seen_by(role: str, donation: Any) -> Any:
    """A gift as `role` may see it: its donor's contact details, and an anonymous donor's name, only for some roles."""
    if sees_donor_contact(role):
        return donation
    return Seen(donation, replaced={"donor": donor_seen_by(role, donation.donor, anonymous=donation.anonymous)})


def nomination_seen_by(actor: Any, nomination: Any) -> Any:
    """A nomination as `actor` may see it: pupils' personal data only for the roles that decide on them."""
    return nomination if actor.sees_personal_data else Seen(nomination, shown=PUPIL_PUBLIC_FIELDS)
