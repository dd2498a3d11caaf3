"""Organisation settings: the configuration a person changes, stored in the database over the environment's value.

Each setting names the configuration key it overrides (fundsvc.config). What the documents, the unit identities and
the pages read is `organisation_config`: the stored values over the Flask configuration, so a setting never changed
in the database keeps the environment's value (FUNDSVC_ORG_NAME …), and clearing it goes back to that value.
Documents already issued keep what they printed (stored receipts and the identity each document stores).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import utcnow, write_transaction
from fundsvc.errors import Forbidden, Invalid
from fundsvc.organisation.models import OrganisationSetting


@dataclass(frozen=True)
class Setting:
    """One setting: the configuration key it overrides, its kind ("text", "choice", "count") and its bounds."""

    key: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    max_length: int = 200
    low: int = 1
    high: int = 1

    def parse(self, value: Any) -> Any:
        """The value as stored, or Invalid naming the setting."""
        if self.kind == "count":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            if not isinstance(value, int) or isinstance(value, bool) or not self.low <= value <= self.high:
                raise _invalid(self.key, f"a whole number from {self.low} to {self.high}")
            return value
        if not isinstance(value, str):
            raise _invalid(self.key, "text")
        value = value.strip()
        if self.kind == "choice" and value not in self.choices:
            raise _invalid(self.key, f"one of {', '.join(self.choices)}")
        if len(value) > self.max_length:
            raise _invalid(self.key, f"at most {self.max_length} characters")
        return value


def _invalid(key: str, expected: str) -> Invalid:
    return Invalid(f"Giá trị không hợp lệ cho {key} (expected {expected})", {key: [f"expected {expected}"]})


# The settings a person changes, by their configuration key, in the order the settings page shows them.
SETTINGS = {
    s.key: s
    for s in (
        Setting("ORG_NAME"),
        Setting("ORG_PARENT_NAME"),
        Setting("ORG_ADDRESS", max_length=300),
        Setting("ORG_PHONE", max_length=40),
        Setting("SIGNATORY_HEAD"),
        Setting("SIGNATORY_ACCOUNTANT"),
        Setting("SIGNATORY_CASHIER"),
        Setting("WORDS_STYLE", kind="choice", choices=("north", "south")),
        Setting("RECEIPT_PAPER", kind="choice", choices=("A5", "A4")),
        Setting("RECEIPT_COPIES", kind="count", low=1, high=4),
    )
}


def stored_settings(session: Session) -> dict[str, Any]:
    """The settings changed in the database, by configuration key."""
    return {row.key: row.value for row in session.scalars(select(OrganisationSetting)) if row.key in SETTINGS}


def organisation_config(session: Session, config: Mapping) -> Mapping:
    """The configuration as the organisation set it: stored settings over `config` (the environment's)."""
    return ChainMap(stored_settings(session), config)


def settings_view(session: Session, config: Mapping) -> list[dict]:
    """Each setting with its value in force, the environment's default, and whether it was changed here."""
    stored = stored_settings(session)
    return [
        {"key": key, "value": stored.get(key, config.get(key)), "default": config.get(key), "changed": key in stored}
        for key in SETTINGS
    ]


def update_settings(session: Session, actor: Actor, values: Mapping[str, Any], config: Mapping) -> list[dict]:
    """Change settings (an admin of every unit: they are the whole organisation's); a value equal to the
    environment's default, or empty, goes back to the default. Audited with before and after."""
    require_role(actor)
    if actor.unit_path is not None:
        raise Forbidden("Chỉ quản trị viên toàn tổ chức được đổi cài đặt chung (organisation-wide admins only)")
    unknown = [key for key in values if key not in SETTINGS]
    if unknown:
        raise Invalid(f"Không có cài đặt {', '.join(unknown)} (unknown setting)", {key: ["unknown"] for key in unknown})
    parsed = {}
    for key, value in values.items():
        empty = value is None or (isinstance(value, str) and not value.strip())
        parsed[key] = None if empty else SETTINGS[key].parse(value)
    with write_transaction(session):
        rows = {row.key: row for row in session.scalars(select(OrganisationSetting))}
        before = {key: rows[key].value if key in rows else config.get(key) for key in parsed}
        for key, value in parsed.items():
            if value is None or value == config.get(key):
                if key in rows:
                    session.delete(rows[key])
                continue
            row = rows.get(key) or OrganisationSetting(key=key)
            row.value, row.updated_at, row.updated_by = value, utcnow(), actor.user_id
            session.add(row)
        session.flush()
        after = {key: config.get(key) if value is None else value for key, value in parsed.items()}
        changed = {key: before[key] for key in parsed if before[key] != after[key]}
        if changed:
            record(
                session,
                actor,
                "organisation.update",
                "organisation",
                "settings",
                changed,
                {k: after[k] for k in changed},
            )
    return settings_view(session, config)


def current_config() -> Mapping:
    """The organisation's configuration for this request (read once per request)."""
    from flask import current_app, g

    from fundsvc.extensions import db

    if "organisation_config" not in g:
        g.organisation_config = organisation_config(db.session, current_app.config)
    return g.organisation_config
