"""The books a cash count and an inspector check (docs/books.md "Books"): the cash book of a unit and the void register.

`cash_book` is the rule: the unit's cash account's entries in date order, a voided document once in its place with
no amount (its entry and its reversal, which share its date, contribute nothing), the running balance. The PDF and
the spreadsheet print exactly its figures.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import IO, NamedTuple

import orjson
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from fundsvc.allocation.models import Award
from fundsvc.auth.models import User
from fundsvc.auth.service import Actor, require_role, require_unit
from fundsvc.documents.cells import sheet_text
from fundsvc.documents.parallel import write_long_pdf
from fundsvc.documents.words import format_date, today_in_vietnam
from fundsvc.donations.models import Donation, Donor, Receipt
from fundsvc.errors import Invalid, NotFound
from fundsvc.ledger.models import InKindEntry, LedgerEntry, MoneyAccount, Movement
from fundsvc.memory import gc_paused
from fundsvc.privacy import ANONYMOUS_NAME, sees_donor_contact
from fundsvc.units.identity import complete_identity, identity_chain, resolved_identity
from fundsvc.units.models import Unit
from fundsvc.units.service import visible_unit

READERS = ("treasurer", "committee", "viewer")
Progress = Callable[[int, int], None]
# Lines per chunk of a printed money book: a long book is laid out in parts by a process pool, never whole, since
# WeasyPrint keeps every page of a document in memory until it is written (a year of 200,000 lines would not fit).
CHUNK_LINES = 500
METHOD_WORDS = {"cash": "tiền mặt", "bank_transfer": "chuyển khoản", "in_kind": "hiện vật"}


def check_period(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise Invalid("Ngày bắt đầu sau ngày kết thúc (from is after to)", {"from": ["must not be after 'to'"]})


def _period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """The period asked for; by default the current year up to today (Asia/Ho_Chi_Minh)."""
    today = today_in_vietnam()
    date_from, date_to = date_from or date(today.year, 1, 1), date_to or today
    check_period(date_from, date_to)
    return date_from, date_to


def _donor_name(anonymous: bool, name: str, shows_names: bool) -> str:
    """A donor as the books name them: an anonymous donor's name only to those who may see it."""
    return name if shows_names or not anonymous else ANONYMOUS_NAME


def _describe_gift(method, anonymous, purpose, name, shows_names: bool) -> str:
    """What the books say of a gift: how it came and its donor."""
    who = _donor_name(anonymous, name, shows_names)
    return f"Thu {METHOD_WORDS.get(method, method)} của {who}" + (f" — {purpose}" if purpose else "")


def with_gifts(query: Select) -> Select:
    """A select of ledger entries with, beside each gift's entry, what the books say of the gift (gift_of)."""
    return (
        query.add_columns(
            Donation.method.label("gift_method"),
            Donation.anonymous.label("gift_anonymous"),
            Donation.purpose.label("gift_purpose"),
            Donor.name.label("gift_donor"),
        )
        .outerjoin(Donation, and_(LedgerEntry.kind == "donation", Donation.id == LedgerEntry.donation_id))
        .outerjoin(Donor, Donor.id == Donation.donor_id)
    )


def gift_of(entry, shows_names: bool) -> str | None:
    """What the books say of the gift of an entry read through with_gifts (None: not a gift's entry)."""
    if entry.gift_method is None:
        return None
    return _describe_gift(entry.gift_method, entry.gift_anonymous, entry.gift_purpose, entry.gift_donor, shows_names)


class BookEntry(NamedTuple):
    """One entry as a book reads it: a ledger entry (money) or a register entry (goods, its value as amount).
    A named tuple: a year of a busy unit makes tens of thousands of them."""

    entry_date: date
    kind: str
    amount: int
    document_code: str | None
    description: str
    extra: dict | None = None  # what a book adds to the line (the bank's reference, the goods' quantities)


def book_lines(entries: Iterable[BookEntry], opening: int) -> dict:
    """The rule of every book, pure: entries in date order, a voided document once in its place with no amount
    (its entry and its reversal, which share its date, contribute nothing), the running balance and the totals."""
    entries = list(entries)
    reasons = {e.document_code: e.description.split(": ", 1)[-1] for e in entries if e.kind == "reversal"}
    lines, running, total_in, total_out = [], opening, 0, 0
    for entry in entries:
        if entry.kind == "reversal":
            continue  # shown with the document it annuls
        incoming = entry.amount > 0
        line = {
            "date": entry.entry_date,
            "document_in": entry.document_code if incoming else None,
            "document_out": None if incoming else entry.document_code,
            "description": entry.description,
            "in": None,
            "out": None,
            "balance": running,
            "void": entry.document_code in reasons,
        }
        if line["void"]:
            line["description"] = f"Hủy: {reasons[entry.document_code]} ({entry.description})"
        else:
            running += entry.amount
            if incoming:
                line["in"] = entry.amount
                total_in += entry.amount
            else:
                line["out"] = -entry.amount
                total_out -= entry.amount
            line["balance"] = running
        if entry.extra:
            line.update(entry.extra)
        lines.append(line)
    return {
        "opening_balance": opening,
        "lines": lines,
        "total_in": total_in,
        "total_out": total_out,
        "closing_balance": running,
    }


def _account_entries(session: Session, actor: Actor, account: MoneyAccount, date_from: date, date_to: date):
    """The money account's ledger entries of the period in date then entry order, as the books read them (one
    query: the gift's donor joined, the bank's reference of a bank account's documents)."""
    shows_names = sees_donor_contact(actor.role)
    columns = [
        LedgerEntry.entry_date,
        LedgerEntry.kind,
        LedgerEntry.amount,
        LedgerEntry.document_code,
        LedgerEntry.description,
        Donation.method,
        Donation.anonymous,
        Donation.purpose,
        Donor.name,
    ]
    query = (
        select(*columns)
        .outerjoin(Donation, Donation.id == LedgerEntry.donation_id)
        .outerjoin(Donor, Donor.id == Donation.donor_id)
        .where(LedgerEntry.account_id == account.id, LedgerEntry.entry_date.between(date_from, date_to))
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    )
    bank = account.kind == "bank"
    if bank:
        query = query.add_columns(Donation.bank_reference, Movement.bank_reference).outerjoin(
            Movement, Movement.id == LedgerEntry.movement_id
        )
        # An award's payment by bank keeps its reference on the award (a list paid at once shares its document).
        award_refs = dict(
            session.execute(
                select(Award.voucher_code, func.max(Award.bank_reference))
                .where(Award.paid_from_account_id == account.id, Award.bank_reference.is_not(None))
                .group_by(Award.voucher_code)
            ).all()
        )
    # On the connection and fetched at once: plain rows, without the ORM's loading machinery or a fetch per row (a
    # year can be tens of thousands of rows).
    for row in session.connection().execute(query).all():
        on, kind, amount, code, text, method, anonymous, purpose, donor = row[:9]
        # A reversal keeps its own text: it carries the reason of the void.
        gift = method and kind != "reversal"
        description = _describe_gift(method, anonymous, purpose, donor, shows_names) if gift else None
        extra = None
        if bank:
            extra = {"bank_reference": row[9] or row[10] or award_refs.get(code)}
        yield BookEntry(on, kind, amount, code, description or without_code(code, text), extra)


def account_balances_on(session: Session, account_ids: Iterable[int], day: date) -> dict[int, int]:
    """What each money account holds at the end of `day`, summed by the database: its entries dated up to it (a
    voided document's entry and its reversal share its date, so they cancel). A book opens at this on the eve of its
    period and so closes at this on its last day; the funds and accounts page shows it."""
    account_ids = list(account_ids)
    totals = dict(
        session.execute(
            select(LedgerEntry.account_id, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.account_id.in_(account_ids), LedgerEntry.entry_date <= day)
            .group_by(LedgerEntry.account_id)
        ).all()
    )
    return {account_id: int(totals.get(account_id) or 0) for account_id in account_ids}


def _day_before(day: date) -> date:
    """The eve of a period's first day (the first day itself for the calendar's first, which has no eve and on which
    no book has an entry)."""
    return day - timedelta(days=1) if day > date.min else day


def _opening(session: Session, account_id: int, date_from: date) -> int:
    """The account's balance before the period: what it held at the end of the day before."""
    return account_balances_on(session, [account_id], _day_before(date_from))[account_id]


def in_kind_value_on(session: Session, unit_id: int, day: date) -> int:
    """The agreed value of the goods a unit holds at the end of `day`: its register's entries dated up to it (a
    voided gift's entry and its reversal cancel). The in-kind register opens at this on the eve of its period and
    closes at this on its last day."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(InKindEntry.value), 0)).where(
                InKindEntry.unit_id == unit_id, InKindEntry.entry_date <= day
            )
        )
    )


def account_book(
    session: Session, actor: Actor, unit: Unit, account: MoneyAccount, date_from: date | None, date_to: date | None
) -> dict:
    """The book of one money account: opening balance, every movement of the period, closing balance."""
    date_from, date_to = _period(date_from, date_to)
    with gc_paused():  # tens of thousands of small acyclic rows and lines, all kept: nothing for the collector
        lines = book_lines(
            _account_entries(session, actor, account, date_from, date_to), _opening(session, account.id, date_from)
        )
    return {
        "unit": {"code": unit.code, "name": unit.name, "books_opened_on": unit.books_opened_on},
        "account": {
            "id": account.id,
            "kind": account.kind,
            "name": account.name,
            "ledger_account": account.ledger_account,
            "bank_name": account.bank_name,
            "account_number": account.account_number,
            "account_holder": account.account_holder,
        },
        "from": date_from,
        "to": date_to,
        **lines,
    }


def cash_book(
    session: Session, actor: Actor, unit_code: str, date_from: date | None = None, date_to: date | None = None
) -> dict:
    """The sổ quỹ tiền mặt of one unit: its cash account's book."""
    require_role(actor, *READERS)
    unit = visible_unit(session, actor, unit_code)
    account = session.scalar(select(MoneyAccount).where(MoneyAccount.unit_id == unit.id, MoneyAccount.kind == "cash"))
    return account_book(session, actor, unit, account, date_from, date_to)


def bank_account_of(session: Session, actor: Actor, account_id: int) -> MoneyAccount:
    """A bank account of a unit in the actor's scope: 404 when there is none, 422 for a cash account."""
    account = session.get(MoneyAccount, account_id)
    if account is None or not actor.sees(account.unit):
        raise NotFound(f"Không có tài khoản {account_id} (unknown account)")
    if account.kind != "bank":
        raise Invalid(
            f"Tài khoản {account_id} là quỹ tiền mặt: xem sổ quỹ tiền mặt (a cash account has a cash book)",
            {"account": ["not a bank account; see /reports/cash-book"]},
        )
    return account


def bank_book(
    session: Session, actor: Actor, account_id: int, date_from: date | None = None, date_to: date | None = None
) -> dict:
    """The sổ tiền gửi ngân hàng of one bank account: the cash book's rule, with the bank's references."""
    require_role(actor, *READERS)
    account = bank_account_of(session, actor, account_id)
    require_unit(actor, account.unit)
    return account_book(session, actor, account.unit, account, date_from, date_to)


def in_kind_register(
    session: Session, actor: Actor, unit_code: str, date_from: date | None = None, date_to: date | None = None
) -> dict:
    """The sổ theo dõi hiện vật of one unit: goods received (HV-) and handed out (HVX-) in date order, with
    quantity, unit of measure and agreed value, what is left of each gift after each line, and what is still held
    at the end of the period. Values run like a book's balance (the same rule as the money books); a voided gift in
    its place with no amount. Goods are never money: no line here is in any money book."""
    require_role(actor, *READERS)
    unit = visible_unit(session, actor, unit_code)
    date_from, date_to = _period(date_from, date_to)
    shows_names = sees_donor_contact(actor.role)
    held_before = {
        gift: [int(value), quantity]
        for gift, value, quantity in session.execute(
            select(InKindEntry.donation_id, func.sum(InKindEntry.value), func.sum(InKindEntry.quantity))
            .where(InKindEntry.unit_id == unit.id, InKindEntry.entry_date < date_from)
            .group_by(InKindEntry.donation_id)
        )
    }
    rows = session.execute(
        select(
            InKindEntry.entry_date,
            InKindEntry.kind,
            InKindEntry.value,
            InKindEntry.quantity,
            InKindEntry.unit_of_measure,
            InKindEntry.document_code,
            InKindEntry.description,
            InKindEntry.donation_id,
            Receipt.code,
            Donation.in_kind_description,
            Donation.void_reason,
            Donation.anonymous,
            Donor.name,
        )
        .join(Donation, Donation.id == InKindEntry.donation_id)
        .join(Donor, Donor.id == Donation.donor_id)
        .join(Receipt, Receipt.donation_id == Donation.id)
        .where(InKindEntry.unit_id == unit.id, InKindEntry.entry_date.between(date_from, date_to))
        .order_by(InKindEntry.entry_date, InKindEntry.id)
    ).all()
    voided = {row.document_code for row in rows if row.kind == "reversal"}
    held = {gift: list(values) for gift, values in held_before.items()}
    items: dict[int, dict] = {}

    def entries():
        for on, kind, value, quantity, measure, code, text, gift, gift_code, goods, reason, anonymous, donor in rows:
            left = held.setdefault(gift, [0, None])
            left[0] += value
            if quantity is not None:
                left[1] = (left[1] or 0) + quantity
            item = {"document": gift_code, "description": goods, "unit_of_measure": measure}
            items.setdefault(gift, item)
            if kind == "reversal":
                yield BookEntry(on, kind, value, code, f"Hủy: {reason}")
                continue
            if kind == "received":
                text = f"Nhận của {_donor_name(anonymous, donor, shows_names)}: {text}"
            void = code in voided
            extra = {
                "item": gift_code,
                "unit_of_measure": measure,
                "quantity_in": None if void or quantity is None or quantity < 0 else quantity,
                "quantity_out": None if void or quantity is None or quantity > 0 else -quantity,
                "held_quantity": None if void else left[1],
                "held_value": None if void else left[0],
            }
            yield BookEntry(on, kind, value, code, text, extra)

    book = book_lines(entries(), in_kind_value_on(session, unit.id, _day_before(date_from)))
    # What is still held at the end of the period, gift by gift (a gift fully handed out or voided holds nothing).
    holding = {gift: left for gift, left in held.items() if gift is not None and left[0]}
    items.update(_gift_items(session, [gift for gift in holding if gift not in items]))
    still_held = sorted(
        ({**items[gift], "quantity": quantity, "value": value} for gift, (value, quantity) in holding.items()),
        key=lambda item: item["document"],
    )
    return {
        "unit": {"code": unit.code, "name": unit.name, "books_opened_on": unit.books_opened_on},
        "from": date_from,
        "to": date_to,
        **book,
        "held": still_held,
    }


def _gift_items(session: Session, gift_ids: list[int]) -> dict[int, dict]:
    """The register's item heading of gifts received before the period (still held, no line in it)."""
    if not gift_ids:
        return {}
    rows = session.execute(
        select(Donation.id, Receipt.code, Donation.in_kind_description, Donation.unit_of_measure)
        .join(Receipt, Receipt.donation_id == Donation.id)
        .where(Donation.id.in_(gift_ids))
    )
    return {
        gift: {"document": code, "description": text, "unit_of_measure": measure} for gift, code, text, measure in rows
    }


def without_code(code: str | None, text: str) -> str:
    """An entry's description without its document code, which a book prints in its own column: "{code}: …",
    "Thu {code}: …", and "Chi học bổng {code}: …" and "Hủy {code}: …" (which keep their "Chi học bổng: ", "Hủy: ")."""
    head, colon, rest = text.partition(": ")
    if not (code and colon and head.endswith(code)):
        return text
    before = head[: len(head) - len(code)]
    if before in ("", "Thu "):
        return rest
    return f"{before.rstrip()}: {rest}" if before in ("Chi học bổng ", "Hủy ") else text


def book_json(book: dict) -> bytes:
    """The JSON of a money account's book (cash_book, bank_book): exactly what CashBookOut / BankBookOut dump (the
    documented shape, and the reference a test holds this to), written by orjson in one pass: a year of a busy unit
    is tens of thousands of lines, which marshmallow takes longer to walk than the database takes to read them."""
    return orjson.dumps(book)


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


def _write_print(
    out: IO[bytes],
    session: Session,
    actor: Actor,
    template: str,
    book: dict,
    defaults: Mapping,
    chunk_lines: int | None = None,
    progress: Progress | None = None,
    **more,
) -> None:
    """A book as the accountant signs it, into the binary file `out`: the unit's identity, the period, "Ngày mở sổ",
    page numbers, and the signatures (the person printing it as Người ghi sổ) on the page that ends the table. With
    `chunk_lines`, a book longer than that is rendered in chunks of that many lines (the template's `chunk`), each
    in a child process, and joined; `progress(done, total)` as the chunks are rendered and joined."""
    identity = _identity(session, book["unit"]["code"], defaults)
    context = {
        **book,
        **more,
        "identity": identity,
        "period_text": _period_text(book),
        "today": today_in_vietnam(),
        "preparer": _preparer(session, actor) or identity["signatories"].get("preparer") or "",
    }
    size = chunk_lines or max(1, len(book["lines"]))
    write_long_pdf(out, template, context, rows_key="lines", chunk_size=size, progress=progress)


def _print(session: Session, actor: Actor, template: str, book: dict, defaults: Mapping, **more) -> bytes:
    out = io.BytesIO()
    _write_print(out, session, actor, template, book, defaults, **more)
    return out.getvalue()


def write_cash_book_pdf(
    out: IO[bytes],
    session: Session,
    actor: Actor,
    unit_code: str,
    defaults: Mapping,
    form_label: str,
    progress: Progress | None = None,
    **period,
) -> None:
    book = cash_book(session, actor, unit_code, **period)
    template = "documents/account_book.html"
    _write_print(out, session, actor, template, book, defaults, CHUNK_LINES, progress, form_label=form_label)


def write_bank_book_pdf(
    out: IO[bytes],
    session: Session,
    actor: Actor,
    account_id: int,
    defaults: Mapping,
    form_label: str,
    progress: Progress | None = None,
    **period,
) -> None:
    book = bank_book(session, actor, account_id, **period)
    template = "documents/account_book.html"
    _write_print(out, session, actor, template, book, defaults, CHUNK_LINES, progress, form_label=form_label)


def cash_book_pdf(
    session: Session, actor: Actor, unit_code: str, defaults: Mapping, form_label: str, **period
) -> bytes:
    out = io.BytesIO()
    write_cash_book_pdf(out, session, actor, unit_code, defaults, form_label, **period)
    return out.getvalue()


def bank_book_pdf(
    session: Session, actor: Actor, account_id: int, defaults: Mapping, form_label: str, **period
) -> bytes:
    out = io.BytesIO()
    write_bank_book_pdf(out, session, actor, account_id, defaults, form_label, **period)
    return out.getvalue()


def in_kind_register_pdf(
    session: Session, actor: Actor, unit_code: str, defaults: Mapping, form_label: str, **period
) -> bytes:
    register = in_kind_register(session, actor, unit_code, **period)
    return _print(session, actor, "documents/in_kind_register.html", register, defaults, form_label=form_label)


def void_register_pdf(session: Session, actor: Actor, unit_code: str, defaults: Mapping, **period) -> bytes:
    register = void_register(session, actor, unit_code, **period)
    return _print(session, actor, "documents/void_register.html", register, defaults)


def _sheet(
    title: str,
    identity: dict,
    period_text: str,
    headers: list[str],
    rows: list[list],
    widths: list[int],
    *,
    opened_on: date | None = None,
    form_label: str | None = None,
    strong: Iterable[int] = (),
):
    """A book as a spreadsheet: identity, form label, title, period and "Ngày mở sổ" on top, a bold frozen header,
    amounts as numbers (#,##0), dates as dates; the rows numbered in `strong` (opening, totals, closing) bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws["A1"] = sheet_text(identity.get("parent_printed_name") or "")
    ws["A2"] = sheet_text(identity.get("printed_name") or "")
    ws["A2"].font = Font(bold=True)
    if form_label:
        ws.cell(1, len(headers), sheet_text(form_label)).font = Font(bold=True)
    ws["A3"] = title.upper()
    ws["A3"].font = Font(bold=True, size=14)
    ws["A4"] = period_text
    if opened_on is not None:
        ws["A5"] = f"Ngày mở sổ: {format_date(opened_on)}"
    header_row = 6
    for col, text in enumerate(headers, 1):
        cell = ws.cell(header_row, col, text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    strong = set(strong)
    for index, values in enumerate(rows):
        r = header_row + 1 + index
        for col, value in enumerate(values, 1):
            cell = ws.cell(r, col, sheet_text(value) if isinstance(value, str) else value)
            if isinstance(value, int) and not isinstance(value, bool):
                cell.number_format = "#,##0"
            elif isinstance(value, date):
                cell.number_format = "dd/mm/yyyy"
            if index in strong:
                cell.font = Font(bold=True)
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _period_text(book: dict) -> str:
    return f"Từ ngày {format_date(book['from'])} đến ngày {format_date(book['to'])}"


def _account_book_xlsx(session: Session, book: dict, defaults: Mapping, form_label: str | None) -> bytes:
    """The book of a money account as a spreadsheet, the same figures as its PDF (a bank book adds the bank's
    reference column)."""
    bank = book["account"]["kind"] == "bank"
    identity = _identity(session, book["unit"]["code"], defaults)

    def row(day, doc_in, doc_out, reference, text, money_in, money_out, balance):
        return [day, doc_in, doc_out, *([reference] if bank else []), text, money_in, money_out, balance]

    rows = [row(book["from"], None, None, None, "Số dư đầu kỳ", None, None, book["opening_balance"])]
    rows += [
        row(
            line["date"],
            line["document_in"],
            line["document_out"],
            line.get("bank_reference"),
            line["description"],
            line["in"],
            line["out"],
            None if line["void"] else line["balance"],
        )
        for line in book["lines"]
    ]
    rows.append(row(None, None, None, None, "Cộng phát sinh trong kỳ", book["total_in"], book["total_out"], None))
    rows.append(row(book["to"], None, None, None, "Số dư cuối kỳ", None, None, book["closing_balance"]))
    if bank:
        title = "Sổ tiền gửi ngân hàng"
        headers = ["Ngày", "Số chứng từ gửi vào", "Số chứng từ rút ra", "Số tham chiếu ngân hàng", "Diễn giải"]
        headers += ["Gửi vào", "Rút ra", "Còn lại"]
        widths = [12, 24, 24, 22, 50, 16, 16, 18]
    else:
        title = "Sổ quỹ tiền mặt"
        headers = ["Ngày", "Số phiếu thu", "Số phiếu chi", "Diễn giải", "Thu", "Chi", "Tồn"]
        widths = [12, 22, 22, 50, 16, 16, 18]
    return _sheet(
        title,
        identity,
        _period_text(book),
        headers,
        rows,
        widths,
        opened_on=book["unit"]["books_opened_on"],
        form_label=form_label,
        strong=(0, len(rows) - 2, len(rows) - 1),
    )


def cash_book_xlsx(
    session: Session, actor: Actor, unit_code: str, defaults: Mapping, form_label: str | None = None, **period
) -> bytes:
    return _account_book_xlsx(session, cash_book(session, actor, unit_code, **period), defaults, form_label)


def bank_book_xlsx(
    session: Session, actor: Actor, account_id: int, defaults: Mapping, form_label: str | None = None, **period
) -> bytes:
    return _account_book_xlsx(session, bank_book(session, actor, account_id, **period), defaults, form_label)


# The columns of the in-kind register's spreadsheet: the keys of its lines.
IN_KIND_COLUMNS = (
    "date",
    "document_in",
    "document_out",
    "item",
    "description",
    "unit_of_measure",
    "quantity_in",
    "in",
    "quantity_out",
    "out",
    "held_quantity",
    "held_value",
)


def in_kind_register_xlsx(
    session: Session, actor: Actor, unit_code: str, defaults: Mapping, form_label: str | None = None, **period
) -> bytes:
    """The in-kind register as a spreadsheet: its lines, then what is still held, gift by gift."""
    register = in_kind_register(session, actor, unit_code, **period)
    identity = _identity(session, unit_code, defaults)

    def row(**values) -> list:
        return [values.get(column) for column in IN_KIND_COLUMNS]

    rows = [row(date=register["from"], description="Giá trị hiện vật đầu kỳ", held_value=register["opening_balance"])]
    rows += [row(**line) for line in register["lines"]]
    totals = len(rows)
    rows.append(
        row(description="Cộng phát sinh trong kỳ", **{"in": register["total_in"], "out": register["total_out"]})
    )
    rows.append(row(date=register["to"], description="Giá trị còn giữ cuối kỳ", held_value=register["closing_balance"]))
    rows += [[], row(description="Hiện vật còn giữ đến cuối kỳ")]
    rows += [
        row(
            item=item["document"],
            description=item["description"],
            unit_of_measure=item["unit_of_measure"],
            held_quantity=item["quantity"],
            held_value=item["value"],
        )
        for item in register["held"]
    ]
    headers = ["Ngày", "Số biên bản nhận", "Số biên bản giao", "Quà (biên bản nhận)", "Diễn giải", "Đơn vị tính"]
    headers += ["Nhập: số lượng", "Nhập: giá trị", "Xuất: số lượng", "Xuất: giá trị", "Còn lại: số lượng"]
    headers.append("Còn lại: giá trị")
    return _sheet(
        "Sổ theo dõi hiện vật",
        identity,
        _period_text(register),
        headers,
        rows,
        [12, 24, 24, 24, 44, 10, 11, 15, 11, 15, 11, 15],
        opened_on=register["unit"]["books_opened_on"],
        form_label=form_label,
        strong=(0, totals, totals + 1, totals + 3),
    )


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
    return _sheet(
        "Sổ theo dõi chứng từ hủy", identity, _period_text(register), headers, rows, [13, 24, 12, 15, 32, 36, 18, 20]
    )
