"""A unit's identity: what it prints on every document it issues (docs/books.md "Identity").

Each field a unit leaves unset is inherited from the unit above, then from the organisation's configuration.
A document stores the effective identity it was issued under, so a rename or a new head later changes nothing
already issued.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundsvc.units.models import Unit

# The stored columns, by the names the API and the documents use.
FIELDS = {
    "printed_name": "printed_name",
    "parent_printed_name": "parent_printed_name",
    "address": "address",
    "phone": "phone",
    "tax_code": "tax_code",
    "budget_code": "budget_code",
}
SIGNATORIES = {
    "head": "head_name",
    "accountant": "accountant_name",
    "cashier": "cashier_name",
    "preparer": "preparer_name",
}
# Fields that describe this unit alone and so are never inherited: a commune does not print the province's tax code.
OWN_ONLY = ("printed_name", "parent_printed_name", "tax_code", "budget_code")


def stored_identity(unit: Unit) -> dict:
    """The identity as stored on the unit (None where unset)."""
    identity = {name: getattr(unit, column) for name, column in FIELDS.items()}
    identity["signatories"] = {name: getattr(unit, column) for name, column in SIGNATORIES.items()}
    return identity


def resolved_identity(chain: Sequence[Unit]) -> dict:
    """The identity a unit prints as far as the tree gives it: `chain` is the unit and the units above it, nearest
    first. What no unit of the chain sets is None here and comes from the organisation's configuration
    (complete_identity). This is what a document stores when it is issued.

    A unit's printed name defaults to "Hội Khuyến học" + its place ("Phường 2" → "Hội Khuyến học phường 2") and the
    parent line to the printed name of the unit above: the issuer is the association's chapter, never the ward.
    The top unit is the organisation itself: its names come from the configuration unless stored.
    """
    unit, above = chain[0], chain[1:]

    def printed_name(candidate: Unit) -> str | None:
        if candidate.printed_name:
            return candidate.printed_name
        return None if candidate is chain[-1] else default_printed_name(candidate)

    def inherited(column: str):
        return next((getattr(c, column) for c in chain if getattr(c, column)), None)

    return {
        "printed_name": printed_name(unit),
        "parent_printed_name": unit.parent_printed_name or (printed_name(above[0]) if above else None),
        "address": inherited("address"),
        "phone": inherited("phone"),
        "tax_code": unit.tax_code,
        "budget_code": unit.budget_code,
        "signatories": {name: inherited(column) for name, column in SIGNATORIES.items()},
        "top": not above,
    }


def complete_identity(identity: Mapping, defaults: Mapping[str, str | None]) -> dict:
    """A resolved (or stored) identity with what it lacks taken from the organisation's configuration."""
    signatories = identity.get("signatories") or {}
    return {
        **identity,
        "printed_name": identity.get("printed_name") or defaults.get("org_name"),
        # Above the top unit: the body it belongs to; above any other: the organisation (the top unit) itself.
        "parent_printed_name": identity.get("parent_printed_name")
        or defaults.get("parent_printed_name" if identity.get("top") else "org_name"),
        "address": identity.get("address") or defaults.get("address"),
        "phone": identity.get("phone") or defaults.get("phone"),
        "signatories": {name: signatories.get(name) or defaults.get(name) for name in SIGNATORIES},
    }


def effective_identity(chain: Sequence[Unit], defaults: Mapping[str, str | None]) -> dict:
    """The identity a unit prints today: resolved along the tree, completed from the configuration."""
    return complete_identity(resolved_identity(chain), defaults)


def default_printed_name(unit: Unit) -> str:
    """ "Hội Khuyến học phường 2" for the unit "Phường 2": the chapter's name, its place in lower case."""
    name = unit.name.strip()
    for prefix in ("Hội Khuyến học ", "Hội khuyến học "):
        if name.startswith(prefix):
            return name
    first, _, rest = name.partition(" ")
    place = f"{first.lower()} {rest}" if rest and first.lower() in _PLACE_WORDS else name
    return f"Hội Khuyến học {place}"


_PLACE_WORDS = {"tỉnh", "thành", "phường", "xã", "thị", "đặc", "huyện", "quận", "tp.", "tx."}


def identity_chain(session: Session, unit) -> list:
    """The unit and every unit above it, nearest first, as plain rows of the units' columns (one query; every
    gift reads it, to store the identity its document is issued under)."""
    ids = [int(part) for part in unit.path.strip("/").split("/")]
    table = Unit.__table__
    by_id = {row.id: row for row in session.execute(select(table).where(table.c.id.in_(ids)))}
    return [by_id[i] for i in reversed(ids)]


def unit_identity(session: Session, unit: Unit, defaults: Mapping[str, str | None]) -> dict:
    """The effective identity of a unit."""
    return effective_identity(identity_chain(session, unit), defaults)


def apply_identity(unit: Unit, changes: Mapping) -> None:
    """Set the given identity fields on a unit (an empty string clears a field back to inherited)."""
    for name, column in FIELDS.items():
        if name in changes:
            setattr(unit, column, (changes[name] or "").strip() or None)
    for name, column in SIGNATORIES.items():
        if name in changes.get("signatories", {}):
            setattr(unit, column, (changes["signatories"][name] or "").strip() or None)


def identity_defaults(config: Mapping) -> dict:
    """The organisation's configured identity (FUNDSVC_ORG_*, FUNDSVC_SIGNATORY_*), the last step of inheritance."""
    return {
        "org_name": config.get("ORG_NAME"),
        "parent_printed_name": config.get("ORG_PARENT_NAME"),
        "address": config.get("ORG_ADDRESS"),
        "phone": config.get("ORG_PHONE"),
        "head": config.get("SIGNATORY_HEAD"),
        "accountant": config.get("SIGNATORY_ACCOUNTANT"),
        "cashier": config.get("SIGNATORY_CASHIER"),
        "preparer": None,
    }
