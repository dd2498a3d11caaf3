"""The books a cash count and an inspector check (docs/books.md "Books"): the cash book of a unit and the void register.

`cash_book` is the rule: the unit's cash account's entries in date order, a voided document once in its place with
no amount (its entry and its reversal, which share its date, contribute nothing), the running balance. The PDF and
the spreadsheet print exactly its figures.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundsvc.auth.models import User
from fundsvc.auth.service import Actor, require_role
from fundsvc.documents.cells import sheet_text
from fundsvc.documents.render import render_pdf
from fundsvc.documents.words import format_date, today_in_vietnam
from fundsvc.donations.models import Donation, Donor, Receipt
from fundsvc.ledger.models import LedgerEntry, MoneyAccount, Movement
from fundsvc.privacy import ANONYMOUS_NAME, sees_donor_contact
from fundsvc.units.identity import complete_identity, identity_chain, resolved_identity
from fundsvc.units.models import Unit
from fundsvc.units.service import visible_unit

READERS = ("treasurer", "committee", "viewer")
METHOD_WORDS = {"cash": "tiền mặt", "bank_transfer": "chuyển khoản", "in_kind": "hiện vật"}


def _period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """The period asked for; by default the current year up to today (Asia/Ho_Chi_Minh)."""
    today = today_in_vietnam()
    return date_from or date(today.year, 1, 1), date_to or today


def gift_descriptions(session: Session, actor: Actor, donation_ids: set[int]) -> dict[int, str]:
    """What the books say of each gift: its donor (an anonymous donor's name only to those who may see it)."""
    if not donation_ids:
        return {}
    shows_names = sees_donor_contact(actor.role)
    rows = session.execute(
        select(Donation.id, Donation.method, Donation.anonymous, Donation.purpose, Donor.name)
        .join(Donor, Donor.id == Donation.donor_id)
        .where(Donation.id.in_(donation_ids))
    )
    return {
        gid: f"Thu {METHOD_WORDS.get(method, method)} của {name if shows_names or not anonymous else ANONYMOUS_NAME}"
        + (f" — {purpose}" if purpose else "")
        for gid, method, anonymous, purpose, name in rows
    }


def cash_book(
    session: Session, actor: Actor, unit_code: str, date_from: date | None = None, date_to: date | None = None
) -> dict:
    """The sổ quỹ tiền mặt of one unit: opening balance, every cash movement of the period, closing balance."""
    require_role(actor, *READERS)
    unit = visible_unit(session, actor, unit_code)
    date_from, date_to = _period(date_from, date_to)
    account = session.scalar(select(MoneyAccount).where(MoneyAccount.unit_id == unit.id, MoneyAccount.kind == "cash"))
    opening = int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.account_id == account.id, LedgerEntry.entry_date < date_from
            )
        )
    )
    period = list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.account_id == account.id, LedgerEntry.entry_date.between(date_from, date_to))
            .order_by(LedgerEntry.entry_date, LedgerEntry.id)
        )
    )
    reversed_codes = {e.document_code: e for e in period if e.kind == "reversal"}
    gifts = gift_descriptions(session, actor, {e.donation_id for e in period if e.donation_id})
    lines, running, total_in, total_out = [], opening, 0, 0
    for entry in period:
        if entry.kind == "reversal":
            continue  # shown with the document it annuls
        void = reversed_codes.get(entry.document_code)
        description = gifts.get(entry.donation_id) or _without_code(entry)
        if void is not None:
            reason = void.description.split(": ", 1)[-1]
            lines.append(_line(entry, None, None, running, f"Hủy: {reason} ({description})", void=True))
            continue
        running += entry.amount
        money_in, money_out = max(0, entry.amount), max(0, -entry.amount)
        total_in += money_in
        total_out += money_out
        lines.append(_line(entry, money_in or None, money_out or None, running, description))
    return {
        "unit": {"code": unit.code, "name": unit.name, "books_opened_on": unit.books_opened_on},
        "account": {"id": account.id, "name": account.name, "ledger_account": account.ledger_account},
        "from": date_from,
        "to": date_to,
        "opening_balance": opening,
        "lines": lines,
        "total_in": total_in,
        "total_out": total_out,
        "closing_balance": running,
    }


def _without_code(entry: LedgerEntry) -> str:
    """The entry's description without its document code, which the book prints in its own column."""
    code = entry.document_code or ""
    text = entry.description
    for prefix in (f"{code}: ", f"Thu {code}: ", f"Chi học bổng {code}: "):
        if code and text.startswith(prefix):
            return ("Chi học bổng: " if prefix.startswith("Chi") else "") + text[len(prefix) :]
    return text


def _line(entry: LedgerEntry, money_in, money_out, balance: int, description: str, *, void: bool = False) -> dict:
    incoming = entry.amount > 0
    return {
        "date": entry.entry_date,
        "document_in": entry.document_code if incoming else None,
        "document_out": None if incoming else entry.document_code,
        "description": description,
        "in": money_in,
        "out": money_out,
        "balance": balance,
        "void": void,
    }


def void_register(
    session: Session, actor: Actor, unit_code: str, date_from: date | None = None, date_to: date | None = None
) -> dict:
    """Every voided document of the unit's subtree dated in the period: gifts and other movements, with who voided
    them, when and why."""
    require_role(actor, *READERS)
    unit = visible_unit(session, actor, unit_code)
    date_from, date_to = _period(date_from, date_to)
    voider = select(User.id, User.full_name, User.username).subquery()
    gifts = session.execute(
        select(Receipt.code, Receipt.kind, Donation, Donor.name, voider.c.full_name, voider.c.username)
        .join(Donation, Donation.id == Receipt.donation_id)
        .join(Donor, Donor.id == Donation.donor_id)
        .join(Unit, Unit.id == Donation.unit_id)
        .outerjoin(voider, voider.c.id == Donation.voided_by)
        .where(
            Donation.status == "void",
            Unit.path.startswith(unit.path),
            Donation.received_on.between(date_from, date_to),
        )
    ).all()
    shows_names = sees_donor_contact(actor.role)
    lines = [
        {
            "date": d.received_on,
            "document": code,
            "document_kind": kind,
            "unit": d.unit.code,
            "amount": d.amount,
            "counterparty": name if shows_names or not d.anonymous else ANONYMOUS_NAME,
            "reason": d.void_reason,
            "voided_at": d.voided_at,
            "voided_by": full or login,
        }
        for code, kind, d, name, full, login in gifts
    ]
    moved = session.execute(
        select(Movement, voider.c.full_name, voider.c.username)
        .join(Unit, Unit.id == Movement.unit_id)
        .outerjoin(voider, voider.c.id == Movement.voided_by)
        .where(
            Movement.status == "void",
            Unit.path.startswith(unit.path),
            Movement.movement_date.between(date_from, date_to),
        )
    ).all()
    lines += [
        {
            "date": m.movement_date,
            "document": m.document_code,
            "document_kind": m.document_kind,
            "unit": m.unit.code,
            "amount": m.amount,
            "counterparty": m.counterparty_name or m.description,
            "reason": m.void_reason,
            "voided_at": m.voided_at,
            "voided_by": full or login,
        }
        for m, full, login in moved
    ]
    lines.sort(key=lambda line: (line["date"], line["document"]))
    return {"unit": {"code": unit.code, "name": unit.name}, "from": date_from, "to": date_to, "lines": lines}


# -- printed books ------------------------------------------------------------------------------------------------


def _identity(session: Session, unit_code: str, defaults: Mapping) -> dict:
    """The identity the unit prints today (a book is printed now, not issued once)."""
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    return complete_identity(resolved_identity(identity_chain(session, unit)), defaults)


def _preparer(session: Session, actor: Actor) -> str:
    return (session.scalar(select(User.full_name).where(User.id == actor.user_id)) if actor.user_id else None) or ""


def _print(session: Session, actor: Actor, template: str, book: dict, defaults: Mapping, **more) -> bytes:
    """A book as the accountant signs it: the unit's identity, the period, "Ngày mở sổ", page numbers, and the
    signatures (the person printing it as Người ghi sổ) on the page that ends the table."""
    identity = _identity(session, book["unit"]["code"], defaults)
    context = {
        **book,
        **more,
        "identity": identity,
        "period_text": f"Từ ngày {format_date(book['from'])} đến ngày {format_date(book['to'])}",
        "today": today_in_vietnam(),
        "preparer": _preparer(session, actor) or identity["signatories"].get("preparer") or "",
    }
    return render_pdf(template, context)


def cash_book_pdf(
    session: Session, actor: Actor, unit_code: str, defaults: Mapping, form_label: str, **period
) -> bytes:
    book = cash_book(session, actor, unit_code, **period)
    return _print(session, actor, "documents/cash_book.html", book, defaults, form_label=form_label)


def void_register_pdf(session: Session, actor: Actor, unit_code: str, defaults: Mapping, **period) -> bytes:
    register = void_register(session, actor, unit_code, **period)
    return _print(session, actor, "documents/void_register.html", register, defaults)


def _sheet(title: str, identity: dict, period_text: str, headers: list[str], rows: list[list], widths: list[int]):
    """A book as a spreadsheet: identity, title and period on top, a bold frozen header, amounts as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws["A1"] = sheet_text(identity.get("parent_printed_name") or "")
    ws["A2"] = sheet_text(identity.get("printed_name") or "")
    ws["A2"].font = Font(bold=True)
    ws["A3"] = title.upper()
    ws["A3"].font = Font(bold=True, size=14)
    ws["A4"] = period_text
    header_row = 6
    for col, text in enumerate(headers, 1):
        cell = ws.cell(header_row, col, text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    for r, values in enumerate(rows, header_row + 1):
        for col, value in enumerate(values, 1):
            cell = ws.cell(r, col, sheet_text(value) if isinstance(value, str) else value)
            if isinstance(value, int) and not isinstance(value, bool):
                cell.number_format = "#,##0"
            elif isinstance(value, date):
                cell.number_format = "dd/mm/yyyy"
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def cash_book_xlsx(session: Session, actor: Actor, unit_code: str, defaults: Mapping, **period) -> bytes:
    book = cash_book(session, actor, unit_code, **period)
    identity = _identity(session, unit_code, defaults)
    rows = [[book["from"], None, None, "Số dư đầu kỳ", None, None, book["opening_balance"]]]
    rows += [
        [
            line["date"],
            line["document_in"],
            line["document_out"],
            line["description"],
            line["in"],
            line["out"],
            line["balance"],
        ]
        for line in book["lines"]
    ]
    rows.append([None, None, None, "Cộng phát sinh trong kỳ", book["total_in"], book["total_out"], None])
    rows.append([book["to"], None, None, "Số dư cuối kỳ", None, None, book["closing_balance"]])
    headers = ["Ngày", "Số phiếu thu", "Số phiếu chi", "Diễn giải", "Thu", "Chi", "Tồn"]
    period_text = f"Từ ngày {format_date(book['from'])} đến ngày {format_date(book['to'])}"
    return _sheet("Sổ quỹ tiền mặt", identity, period_text, headers, rows, [12, 22, 22, 50, 16, 16, 18])


def void_register_xlsx(session: Session, actor: Actor, unit_code: str, defaults: Mapping, **period) -> bytes:
    register = void_register(session, actor, unit_code, **period)
    identity = _identity(session, unit_code, defaults)
    rows = [
        [
            line["date"],
            line["document"],
            line["unit"],
            line["amount"],
            line["counterparty"],
            line["reason"],
            line["voided_at"].replace(tzinfo=None) if line["voided_at"] else None,
            line["voided_by"],
        ]
        for line in register["lines"]
    ]
    headers = [
        "Ngày chứng từ",
        "Số chứng từ",
        "Đơn vị",
        "Số tiền",
        "Người nộp / đối tượng",
        "Lý do hủy",
        "Hủy lúc",
        "Người hủy",
    ]
    period_text = f"Từ ngày {format_date(register['from'])} đến ngày {format_date(register['to'])}"
    return _sheet("Sổ theo dõi chứng từ hủy", identity, period_text, headers, rows, [13, 24, 12, 15, 32, 36, 18, 20])
