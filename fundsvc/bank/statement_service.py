"""A bank account's statement lines: stored once each, matched to pledges and donors, confirmed or ignored.

The parsing is fundsvc.bank.statements, the matching rules fundsvc.bank.matching (docs/bank.md); this module stores
their results and records the gifts through the one path every gift takes (fundsvc.donations.service).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, joinedload

from fundsvc.allocation.models import Award
from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.bank import matching, statements
from fundsvc.bank.models import Pledge, StatementImport, StatementLine, StatementMapping
from fundsvc.db import write_transaction
from fundsvc.documents.words import format_vnd, today_in_vietnam
from fundsvc.donations.models import Donor
from fundsvc.donations.service import record_donation, record_donation_in_transaction
from fundsvc.errors import Conflict, DomainError, Invalid, NotFound
from fundsvc.ledger.accounts import get_account
from fundsvc.ledger.models import Movement
from fundsvc.students.service import MAX_ERROR_ROWS

_LINES, _PLEDGES = StatementLine.__table__, Pledge.__table__
# An exact amount suggests a pledge only when the pledge was made at most this many days before the transfer.
PLEDGE_WINDOW_DAYS = 30


def import_statement(
    session: Session, actor: Actor, account_id: int, data: bytes, filename: str, mapping: dict | None = None
) -> dict:
    """Store the lines of a statement file that are new for the account and match them; all or nothing on a bad file.
    `mapping` (field → the file's column header) reads a file of a bank whose layout is not known; a mapping that
    read a file is remembered for the account and used when none is given (remembered_mapping)."""
    require_role(actor, "treasurer")
    account = get_account(session, actor, account_id)
    if account.kind != "bank":
        raise Invalid(
            "Chỉ nhập sao kê cho tài khoản ngân hàng (not a bank account)", {"account": ["not a bank account"]}
        )
    if mapping and (wrong := statements.mapping_errors(mapping)):
        raise Invalid("Cách đọc cột chưa đủ hoặc không hợp lệ (invalid column mapping)", {"mapping": wrong})
    mapping = mapping or _remembered(session, account.id)
    try:
        parsed = statements.parse(data, filename, today_in_vietnam(), mapping or None)
    except statements.StatementRefused as refused:
        raise Invalid(f"Không đọc được tệp sao kê: {refused}", {"file": [str(refused)]}) from None
    if parsed.errors:
        rows = sorted(parsed.errors, key=lambda e: e["row"])[:MAX_ERROR_ROWS]
        raise Invalid(
            f"Tệp có {len({e['row'] for e in parsed.errors})} dòng lỗi, chưa lưu gì (nothing was stored)",
            {"rows": rows},
        )
    keys = statements.dedupe_keys(parsed.lines)
    money_in, money_out = parsed.totals()
    with write_transaction(session):
        known = set(session.scalars(select(StatementLine.dedupe_key).where(StatementLine.account_id == account.id)))
        batch = StatementImport(
            account_id=account.id,
            bank=parsed.bank,
            filename=filename[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            opening_balance=parsed.opening,
            closing_balance=parsed.closing,
            money_in=money_in,
            money_out=money_out,
            created_by=actor.user_id,
        )
        session.add(batch)
        session.flush()
        new = []
        for line, key in zip(parsed.lines, keys, strict=True):
            if key in known:
                continue
            known.add(key)
            new.append(new_line(account.id, batch.id, line, key))
        # Matched before they are written, then written by one multi-row INSERT with their status: the ORM's unit of
        # work (an object, an INSERT and an UPDATE per line) was most of an import's time.
        match_lines(session, account, new)
        if new:  # Core's executemany (the ORM's bulk insert splits the rows into thousands of statements)
            session.connection().execute(insert(_LINES), new)
        if parsed.bank is None:
            _remember(session, actor, account.id, mapping)
        record(
            session,
            actor,
            "statement.import",
            "statement_import",
            batch.id,
            None,
            {"filename": batch.filename, "bank": parsed.bank, "new": len(new), "balance_gap": batch.balance_gap},
            account.unit_id,
        )
        refused = _record_matched_together(session, actor, batch.id)
    counts = {status: sum(row["status"] == status for row in new) for status in ("matched", "suggested", "unmatched")}
    counts["matched"], counts["suggested"] = counts["matched"] - refused, counts["suggested"] + refused
    return {
        "import_id": batch.id,
        "lines": len(parsed.lines),
        "new": len(new),
        "duplicates": len(parsed.lines) - len(new),
        **counts,
        "opening_balance": batch.opening_balance,
        "closing_balance": batch.closing_balance,
        "money_in": money_in,
        "money_out": money_out,
        "balance_gap": batch.balance_gap,
        "warnings": balance_warnings(batch),
    }


def balance_warnings(batch: StatementImport) -> list[str]:
    """What a person should know about the balances a file printed: its closing balance is not its opening balance
    plus its credits minus its debits (a line missing from the export, or a file of another period or account)."""
    gap = batch.balance_gap
    if not gap:
        return []
    return [
        f"Số dư cuối kỳ trong tệp ({format_vnd(batch.closing_balance)} đồng) khác số dư đầu kỳ "
        f"({format_vnd(batch.opening_balance)}) + ghi có ({format_vnd(batch.money_in)}) − ghi nợ "
        f"({format_vnd(batch.money_out)}): lệch {format_vnd(gap)} đồng. Tệp có thể thiếu dòng hoặc không đúng kỳ, "
        "tài khoản (closing balance does not add up)"
    ]


def recent_imports(session: Session, actor: Actor, account_id: int, limit: int = 10) -> list[StatementImport]:
    """The account's last statement imports, newest first (with the balances each file printed)."""
    account = get_account(session, actor, account_id)
    return list(
        session.scalars(
            select(StatementImport)
            .where(StatementImport.account_id == account.id)
            .order_by(StatementImport.id.desc())
            .limit(limit)
        )
    )


def _remembered(session: Session, account_id: int) -> dict | None:
    row = session.get(StatementMapping, account_id)
    return dict(row.mapping) if row is not None else None


def remembered_mapping(session: Session, actor: Actor, account_id: int) -> dict | None:
    """The columns the account's last file of an unknown layout was read by (the upload form offers them again)."""
    return _remembered(session, get_account(session, actor, account_id).id)


def _remember(session: Session, actor: Actor, account_id: int, mapping: dict) -> None:
    row = session.get(StatementMapping, account_id)
    if row is None:
        row = StatementMapping(account_id=account_id)
        session.add(row)
    row.mapping, row.updated_by = dict(mapping), actor.user_id


def new_line(account_id: int, import_id: int | None, line: statements.Line, key: str) -> dict:
    """A new statement line's column values (StatementLine), unmatched until match_lines judges it."""
    return {
        "account_id": account_id,
        "import_id": import_id,
        "dedupe_key": key,
        "line_date": line.date,
        "amount": line.amount,
        "direction": line.direction,
        "description": line.description[:1000],
        "bank_reference": line.reference,
        "counterparty_account": line.counterparty_account,
        "balance": line.balance,
        "provider": None,
        "provider_id": None,
        "status": "unmatched",
        # Every line with the same keys: the import writes them all by one executemany.
        **dict.fromkeys(("suggested_pledge_id", "suggested_donor_id", "why", "movement_id", "award_id")),
    }


def match_lines(session: Session, account, lines: list[dict]) -> None:
    """Set each new line's status and suggestion (its column values, as new_line makes them) by the matching rules
    (docs/bank.md), the account's open pledges, donors and recorded payments read once for all of them."""
    incoming = [line for line in lines if line["direction"] == "in"]
    if incoming:
        earliest = min(line["line_date"] for line in incoming) - dt.timedelta(days=PLEDGE_WINDOW_DAYS)
        pledges = _open_pledges(session, account.id, earliest)
        matcher = matching.Matcher(list(pledges.values()), _known_donors(session, account.unit_id))
        for line in incoming:
            _suggest(line, matcher.decide(line["description"], line["amount"], _window_start(line)), pledges)
    outgoing = [line for line in lines if line["direction"] != "in"]
    if outgoing:
        payments = _recorded_payments(session, account.id, {line["bank_reference"] for line in outgoing})
        for line in outgoing:
            _match_payment(line, payments.get((line["bank_reference"], line["amount"]), []))


def _window_start(line: dict) -> dt.date:
    """An exact amount or code names a pledge made at most PLEDGE_WINDOW_DAYS before the transfer."""
    return line["line_date"] - dt.timedelta(days=PLEDGE_WINDOW_DAYS)


def _open_pledges(session: Session, account_id: int, since: dt.date) -> dict[int, dict]:
    """The account's open pledges made on or after `since`, as matching.decide reads them, by id (in id order)."""
    rows = session.execute(
        select(Pledge.id, Pledge.code, Pledge.amount, Pledge.created_at, Pledge.donor)
        .where(
            Pledge.account_id == account_id,
            Pledge.status == "open",
            Pledge.created_at >= dt.datetime.combine(since, dt.time()),
        )
        .order_by(Pledge.id)
    )
    return {
        pledge_id: {"id": pledge_id, "code": code, "amount": amount, "created": created.date(), "named": bool(donor)}
        for pledge_id, code, amount, created, donor in rows
    }


def _known_donors(session: Session, unit_id: int) -> list[dict]:
    """The unit's donors a memo can name (by phone or tax code), in id order (plain rows: a province has many)."""
    rows = session.connection().execute(
        select(Donor.id, Donor.phone, Donor.tax_code)
        .where(Donor.unit_id == unit_id, (Donor.phone.is_not(None)) | (Donor.tax_code.is_not(None)))
        .order_by(Donor.id)
    )
    return [{"id": donor_id, "phone": phone, "tax_code": tax_code} for donor_id, phone, tax_code in rows]


def _suggest(line: dict, decision: dict, pledges: dict[int, dict]) -> None:
    line["status"] = decision["status"]
    line["suggested_pledge_id"] = decision.get("pledge")
    line["suggested_donor_id"] = decision.get("donor")
    line["why"] = decision.get("why")
    if line["status"] == "matched" and not pledges[line["suggested_pledge_id"]]["named"]:
        # The code names the pledge but not who gave: a person chooses the donor.
        line["status"] = "suggested"
        line["why"] = f"{line['why']}; mã ủng hộ chưa có tên nhà tài trợ, cần chọn"


def _recorded_payments(session: Session, account_id: int, references: set) -> dict[tuple, list]:
    """The expenses, transfers and awards paid from the account under these bank references, by (reference,
    amount): what an outgoing line may be."""
    references.discard(None)
    found: dict[tuple, list] = {}
    if not references:
        return found
    movements = session.scalars(
        select(Movement).where(
            Movement.account_id == account_id,
            Movement.direction == "out",
            Movement.status == "recorded",
            Movement.bank_reference.in_(references),
        )
    )
    awards = session.scalars(
        select(Award).where(
            Award.paid_from_account_id == account_id,
            Award.status == "paid",
            Award.bank_reference.in_(references),
        )
    )
    for payment in [*movements, *awards]:
        found.setdefault((payment.bank_reference, payment.amount), []).append(payment)
    return found


def _match_payment(line: dict, payments: list) -> None:
    """An outgoing line is a payment already in the books when exactly one expense, transfer or award paid from the
    account carries its bank reference and amount; nothing else is matched (a payment is never guessed)."""
    if not line["bank_reference"] or len(payments) != 1:
        return
    (payment,) = payments
    line["status"] = "matched"
    if isinstance(payment, Movement):
        line["movement_id"] = payment.id
        line["why"] = f"Khớp chứng từ {payment.document_code} (cùng số tham chiếu và số tiền)"
    else:
        line["award_id"] = payment.id
        line["why"] = f"Khớp chi học bổng #{payment.id} (cùng số tham chiếu và số tiền)"


def record_matched(session: Session, actor: Actor, lines: list[StatementLine]) -> None:
    """Every incoming line matched by its pledge code becomes a gift, each in a transaction of its own (a line a
    transfer notification brought); an import records its lines' gifts together (_record_matched_together)."""
    for line in [line for line in lines if line.status == "matched" and line.direction == "in"]:
        _record_matched(session, actor, line)


def _record_matched(session: Session, actor: Actor, line: StatementLine) -> None:
    """A line matched by its pledge code becomes a gift; if the gift is refused (a closed month…), a suggestion."""
    pledge = session.get(Pledge, line.suggested_pledge_id)
    try:
        _record_gift(session, actor, line, {"donor": pledge.donor}, pledge)
    except DomainError as refused:
        session.rollback()
        with write_transaction(session):
            _not_recorded(session.get(StatementLine, line.id), refused)


def _record_matched_together(session: Session, actor: Actor, import_id: int) -> int:
    """The gifts of an import's lines matched by their pledge code, recorded inside the import's own write
    transaction: each as record_donation records it (record_donation_in_transaction: its number, entries, audit and
    idempotency record, in a savepoint), then its line and pledge settled as _record_gift settles them, in the same
    order, so the import stores exactly what recording them one by one would (proved by
    tests/bank/test_statement_gifts_together.py) with one COMMIT instead of two per gift. A gift refused leaves its
    line a suggestion, as _record_matched does; returns how many were."""
    lines = list(
        session.scalars(
            select(StatementLine)
            .where(
                StatementLine.import_id == import_id,
                StatementLine.status == "matched",
                StatementLine.direction == "in",
            )
            .order_by(StatementLine.id)
        )
    )
    if not lines:
        return 0
    pledges = {
        pledge.id: pledge
        for pledge in session.scalars(
            select(Pledge)
            .where(Pledge.id.in_({line.suggested_pledge_id for line in lines}))
            .options(joinedload(Pledge.unit), joinedload(Pledge.fund))
        )
    }
    refused = 0
    for line in lines:
        pledge = pledges[line.suggested_pledge_id]
        data = _gift_data(line, {"donor": pledge.donor}, pledge, pledge.unit.code)
        key = _gift_key(actor, line)
        try:
            donation, _replayed = record_donation_in_transaction(
                session, actor, data, idempotency_key=key, fingerprint=key
            )
        except DomainError as error:
            _not_recorded(line, error)
            refused += 1
            continue
        _settle(session, actor, line.id, pledge.id, donation.id)
    return refused


def _not_recorded(line: StatementLine, refused: DomainError) -> None:
    """A line whose gift was refused stays for a person to judge, with the reason."""
    line.status = "suggested"
    line.why = f"{line.why}; chưa ghi được: {refused.message}"


def _gift_key(actor: Actor, line: StatementLine) -> str | None:
    """A person's confirmation is keyed (a second click records nothing); the system records a notified line once,
    from the one delivery that stored it (fundsvc.bank.notification_service), and idempotency keys are a user's."""
    return f"statement-line:{line.id}" if actor.user_id is not None else None


def _gift_data(
    line: StatementLine,
    donor: dict,
    pledge: Pledge | None,
    unit_code: str,
    *,
    fund: str | None = None,
    purpose: str | None = None,
) -> dict:
    """What record_donation is given for the gift a line is."""
    data = {
        **donor,
        "unit": unit_code,
        "amount": line.amount,
        "method": "bank_transfer",
        "account": line.account_id,
        "bank_reference": line.bank_reference,
        "received_on": line.line_date,
        "purpose": purpose or (pledge.purpose if pledge else None),
        "anonymous": False,
    }
    if fund or pledge is not None:
        data["fund"] = fund or pledge.fund.code
    return data


def _record_gift(
    session: Session,
    actor: Actor,
    line: StatementLine,
    donor: dict,
    pledge: Pledge | None,
    *,
    fund: str | None = None,
    purpose: str | None = None,
) -> None:
    unit_code = pledge.unit.code if pledge else get_account(session, actor, line.account_id).unit.code
    data = _gift_data(line, donor, pledge, unit_code, fund=fund, purpose=purpose)
    key = _gift_key(actor, line)
    donation, _replayed = record_donation(session, actor, data, idempotency_key=key, fingerprint=key)
    with write_transaction(session):
        _settle(session, actor, line.id, pledge.id if pledge is not None else None, donation.id)
    session.expire_all()  # the line and pledge objects are read again as _settle left them


def _settle(session: Session, actor: Actor, line_id: int, pledge_id: int | None, donation_id: int) -> None:
    """The line (and its pledge) is the gift `donation_id`; audited. Core UPDATEs by id, not the unit of work nor
    an ORM update (which looks through every object the session holds): an import settles its lines between gifts,
    and either would cost more than the gift. The session's own objects of them are stale afterwards."""
    connection = session.connection()
    connection.execute(update(_LINES).where(_LINES.c.id == line_id).values(status="matched", donation_id=donation_id))
    if pledge_id is not None:
        connection.execute(
            update(_PLEDGES).where(_PLEDGES.c.id == pledge_id).values(status="matched", donation_id=donation_id)
        )
    record(
        session,
        actor,
        "statement_line.match",
        "statement_line",
        line_id,
        None,
        {"donation": donation_id, "pledge": pledge_id},
        None,
    )


def statement_lines(session: Session, actor: Actor, account_id: int, status: str | None = None):
    """The account's statement lines, newest first, optionally of one status."""
    account = get_account(session, actor, account_id)
    query = select(StatementLine).where(StatementLine.account_id == account.id)
    if status:
        query = query.where(StatementLine.status == status)
    return query.order_by(StatementLine.line_date.desc(), StatementLine.id.desc())


def review_counts(session: Session, account_ids: list[int]) -> dict[int, dict[str, int]]:
    """How many lines of each account wait for a person: {account id: {"suggested": n, "unmatched": n}}."""
    counts = {account_id: {"suggested": 0, "unmatched": 0} for account_id in account_ids}
    rows = session.execute(
        select(StatementLine.account_id, StatementLine.status, func.count())
        .where(StatementLine.account_id.in_(account_ids), StatementLine.status.in_(("suggested", "unmatched")))
        .group_by(StatementLine.account_id, StatementLine.status)
    )
    for account_id, status, n in rows:
        counts[account_id][status] = n
    return counts


@dataclass(frozen=True)
class Suggestion:
    """What a line was suggested as, for a person to judge: the pledge and the donor (either may be None), and
    who the gift would be recorded for by a plain confirmation (None: a donor must be chosen)."""

    pledge: Pledge | None
    donor: Donor | None
    donor_name: str | None


def suggestions(session: Session, lines: list[StatementLine]) -> dict[int, Suggestion]:
    """The suggestion of each line, by line id (one query for the pledges and one for the donors)."""
    pledge_ids = {line.suggested_pledge_id for line in lines if line.suggested_pledge_id}
    donor_ids = {line.suggested_donor_id for line in lines if line.suggested_donor_id}
    pledges = {p.id: p for p in session.scalars(select(Pledge).where(Pledge.id.in_(pledge_ids)))} if pledge_ids else {}
    donors = {d.id: d for d in session.scalars(select(Donor).where(Donor.id.in_(donor_ids)))} if donor_ids else {}
    out = {}
    for line in lines:
        pledge, donor = pledges.get(line.suggested_pledge_id), donors.get(line.suggested_donor_id)
        gift_from = suggested_donor(line, pledge)
        name = None
        if gift_from is not None:
            name = donor.name if "donor_id" in gift_from and donor else (gift_from.get("donor") or {}).get("name")
        out[line.id] = Suggestion(pledge, donor, name)
    return out


def suggested_donor(line: StatementLine, pledge: Pledge | None) -> dict | None:
    """Who an incoming line's gift is from when the treasurer names nobody: the donor suggested, else the donor of
    the pledge suggested; None when a donor must be chosen (or the line is outgoing)."""
    if line.direction != "in":
        return None
    if line.suggested_donor_id:
        return {"donor_id": line.suggested_donor_id}
    if pledge is not None and pledge.donor:
        return {"donor": pledge.donor}
    return None


def get_line(session: Session, actor: Actor, line_id: int) -> StatementLine:
    """A statement line of an account of the actor's units; 404 otherwise."""
    line = session.get(StatementLine, line_id)
    if line is None:
        raise NotFound(f"Không có dòng sao kê {line_id} (unknown statement line)")
    get_account(session, actor, line.account_id)  # 404 outside the actor's units
    return line


def _open_line(session: Session, actor: Actor, line_id: int) -> StatementLine:
    require_role(actor, "treasurer")
    line = get_line(session, actor, line_id)
    if line.status in ("matched", "ignored"):
        raise Conflict(f"Dòng sao kê {line_id} đã xử lý ({line.status}) (already settled)")
    return line


def confirm_line(session: Session, actor: Actor, line_id: int, data: dict) -> StatementLine:
    """Record the gift an incoming line is: the donor chosen (or the one suggested, or the pledge's)."""
    line = _open_line(session, actor, line_id)
    if line.direction != "in":
        raise Invalid("Chỉ xác nhận được tiền vào (only incoming lines make a gift)", {"id": ["outgoing line"]})
    pledge = session.get(Pledge, line.suggested_pledge_id) if line.suggested_pledge_id else None
    donor = {"donor_id": data["donor"]} if data.get("donor") else suggested_donor(line, pledge)
    if donor is None:
        raise Invalid("Cần chọn nhà tài trợ (donor required)", {"donor": ["required: no donor is suggested"]})
    _record_gift(session, actor, line, donor, pledge, fund=data.get("fund"), purpose=data.get("purpose"))
    return session.get(StatementLine, line_id)


def ignore_line(session: Session, actor: Actor, line_id: int, reason: str) -> StatementLine:
    """Set a line aside with the reason (not a gift: an internal transfer, a refund…); audited."""
    line = _open_line(session, actor, line_id)
    if not reason.strip():
        raise Invalid("Cần ghi lý do bỏ qua (reason required)", {"reason": ["required"]})
    with write_transaction(session):
        line = session.get(StatementLine, line_id)
        before = {"status": line.status}
        line.status = "ignored"
        line.ignore_reason = reason.strip()
        record(
            session,
            actor,
            "statement_line.ignore",
            "statement_line",
            line.id,
            before,
            {"status": "ignored", "reason": line.ignore_reason},
        )
    return line
