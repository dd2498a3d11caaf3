"""The demo's unit tree (units.json: a province, its districts and communes as they were before July 2025), the
units' funds, bank accounts and identities, and the 2025 reorganisation that `flask demo load` plays on the tree.

Since 1 July 2025 local government has two levels (the National Assembly's resolution of 12 June 2025): districts
were dissolved and most communes merged. The demo shows it as a chapter lives it, through the real services
(fundsvc.units.reorganisation): on MERGER_ON three old communes merge into a new ward, the communes that carry on
move up under the province, and the dissolved districts' chapters merge into the province, each passing its money
and goods by paired documents. The communes and the ward are fictional in their details: the demo is an example,
not the official map.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from fundsvc.auth.service import SYSTEM
from fundsvc.db import write_transaction
from fundsvc.ledger.accounts import add_bank_account
from fundsvc.ledger.service import create_fund
from fundsvc.units.identity import apply_identity, resolved_identity
from fundsvc.units.models import Unit
from fundsvc.units.reorganisation import merge_units, move_unit
from fundsvc.units.service import create_unit

PROVINCE = "ST"
# The demo's books open early enough for the examples of the documentation and the tests (2023 onwards).
BOOKS_OPENED_ON = date(2023, 1, 1)
# What the demo's province and wards print on their documents; every other unit inherits or derives it.
IDENTITIES = {
    "ST": {
        "printed_name": "Hội Khuyến học tỉnh Sóc Trăng",
        "parent_printed_name": "Hội Khuyến học Việt Nam",
        "address": "Số 1 đường Trần Hưng Đạo, Phường 2, TP. Sóc Trăng",
        "phone": "0299 3822 123",
        "signatories": {"head": "Trần Văn Hùng", "accountant": "Lê Thị Hạnh", "cashier": "Phạm Thị Lan"},
    },
    "ST-TP-P2": {
        "printed_name": "Hội Khuyến học phường 2",
        "address": "Số 8 đường Hai Bà Trưng, Phường 2, TP. Sóc Trăng",
        "phone": "0299 3611 456",
        "signatories": {"head": "Nguyễn Văn Nam", "accountant": "Võ Thị Thu", "cashier": "Lâm Thị Mai"},
    },
    "ST-PST": {
        "printed_name": "Hội Khuyến học phường Sóc Trăng",
        "address": "Số 25 đường Lê Hồng Phong, phường Sóc Trăng",
        "phone": "0299 3625 789",
        "signatories": {"head": "Lâm Văn Tài", "accountant": "Trần Thị Ngọc", "cashier": "Huỳnh Thị Hoa"},
    },
}
# Vietcombank's NAPAS BIN; the account numbers are made up.
DEMO_BANK = {"bank_name": "Ngân hàng TMCP Ngoại thương Việt Nam (Vietcombank)", "bank_bin": "970436"}

# The 2025 reorganisation: the day, the new ward and the old communes merged into it, the communes that move up.
MERGER_ON = date(2025, 7, 1)
REASON = "sắp xếp đơn vị hành chính năm 2025"
NEW_WARD = {"code": "ST-PST", "name": "Phường Sóc Trăng", "level": "commune", "parent": PROVINCE}
MERGED_INTO_WARD = ["ST-TP-P5", "ST-MX-DT", "ST-MX-TD"]
MOVED_UP = ["ST-TP-P2", "ST-TD-LHT", "ST-VC-VH"]


def units() -> list[dict]:
    """The tree before the reorganisation, parents first."""
    return json.loads((Path(__file__).parent / "units.json").read_text(encoding="utf-8"))


def districts() -> list[str]:
    return [unit["code"] for unit in units() if unit["level"] == "district"]


def add_demo_unit(session: Session, unit: dict, number: int) -> Unit:
    """A unit of the demo with its identity, its fund (KH at the province, KH-{code} elsewhere) and its bank
    account (numbered `number`)."""
    created = create_unit(session, SYSTEM, {"books_opened_on": BOOKS_OPENED_ON, **unit})
    if unit["code"] in IDENTITIES:
        with write_transaction(session):
            apply_identity(created, IDENTITIES[unit["code"]])
    fund_code = "KH" if unit["parent"] is None else f"KH-{unit['code']}"
    create_fund(session, SYSTEM, {"code": fund_code, "name": f"Quỹ Khuyến học {unit['name']}", "unit": unit["code"]})
    add_bank_account(
        session,
        SYSTEM,
        unit["code"],
        {
            **DEMO_BANK,
            "name": f"Tiền gửi Vietcombank — {unit['name']}",
            "account_number": f"10{number:02d}88{number * 7919 % 100000:05d}",
            "account_holder": (resolved_identity([created]).get("printed_name") or unit["name"]).upper(),
        },
    )
    return created


def collecting_units(on: date, reorganised: bool) -> list[str]:
    """The units that take gifts on a day: the whole old tree, or from the merger day (when the demo plays the
    reorganisation) the two-level tree: the province, the new ward and the communes that carried on."""
    if reorganised and on >= MERGER_ON:
        return [PROVINCE, NEW_WARD["code"], *MOVED_UP]
    return [unit["code"] for unit in units()]


def reorganise(session: Session) -> None:
    """The 1 July 2025 reorganisation, through the services an admin's requests go through: the new ward (its books
    opening that day), the communes that carry on moved up under the province, three old communes merged into the
    ward, then the dissolved districts' chapters merged into the province."""
    add_demo_unit(session, {**NEW_WARD, "books_opened_on": MERGER_ON}, len(units()) + 1)
    for code in MOVED_UP:
        move_unit(session, SYSTEM, code, PROVINCE, MERGER_ON)
    merge_units(session, SYSTEM, MERGED_INTO_WARD, NEW_WARD["code"], MERGER_ON, REASON)
    merge_units(session, SYSTEM, districts(), PROVINCE, MERGER_ON, f"giải thể cấp huyện, {REASON}")
