"""Documents from the database: gifts' documents and vouchers rendered once and stored, donor letters, archives.

The templates and the renderer are pure (fundsvc.documents.render); this module gathers their
plain-dict contexts from the models and keeps the rendered bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from io import BytesIO

from sqlalchemy import select, update
from sqlalchemy.orm import Session, contains_eager, object_session

from fundsvc.allocation.models import Award, Round
from fundsvc.allocation.service import get_award
from fundsvc.auth.models import User
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import write_transaction
from fundsvc.documents.parallel import join_pdfs
from fundsvc.documents.render import render_pdf
from fundsvc.documents.words import today_in_vietnam
from fundsvc.donations.models import Donation, Receipt
from fundsvc.donations.service import donations_query, get_donor, get_receipt
from fundsvc.errors import NotFound
from fundsvc.ledger.models import CASH_LEDGER_ACCOUNT, Fund, LedgerEntry, MoneyAccount
from fundsvc.students.models import Nomination
from fundsvc.units.identity import complete_identity, identity_chain, identity_defaults, resolved_identity
from fundsvc.units.models import Unit
from fundsvc.units.service import visible_unit

METHOD_LABELS = {
    "cash": "Tiền mặt",
    "bank_transfer": "Chuyển khoản",
    "in_kind": "Hiện vật",
}
# The template of each document kind of a gift (docs/books.md "Documents and their series"): never a cash
# receipt for a transfer or goods.
RECEIPT_TEMPLATES = {
    "receipt": "documents/receipt.html",
    "acknowledgement": "documents/acknowledgement.html",
    "in_kind_record": "documents/in_kind_record.html",
}
SERIES_ORDER = ("receipt", "acknowledgement", "in_kind_record")


@dataclass(frozen=True)
class DocumentSettings:
    """What the association configures for its printed documents (FUNDSVC_* variables)."""

    org_name: str
    org_address: str
    receipt_form: str
    voucher_form: str
    regime: str
    account_fund: str
    copies: int
    paper: str
    words_style: str
    chan: bool
    head: str
    accountant: str
    cashier: str
    # The organisation's identity, the last step of a unit's identity (fundsvc.units.identity.identity_defaults).
    identity: dict

    @classmethod
    def from_config(cls, config) -> DocumentSettings:
        """Read the settings from a Flask config mapping."""
        return cls(
            org_name=config["ORG_NAME"],
            org_address=config["ORG_ADDRESS"],
            receipt_form=config["RECEIPT_FORM_LABEL"],
            voucher_form=config["VOUCHER_FORM_LABEL"],
            regime=config["FORMS_REGIME"],
            account_fund=config["ACCOUNT_FUND"],
            copies=config["RECEIPT_COPIES"],
            paper=config["RECEIPT_PAPER"],
            words_style=config["WORDS_STYLE"],
            chan=config["WORDS_CHAN"],
            head=config["SIGNATORY_HEAD"],
            accountant=config["SIGNATORY_ACCOUNTANT"],
            cashier=config["SIGNATORY_CASHIER"],
            identity=identity_defaults(config),
        )

    def copies_for(self, kept: str, given: str) -> list[str]:
        labels = [f"Liên 1: {kept}", f"Liên 2: {given}"] + [f"Liên {i}: Lưu chuyển" for i in range(3, 10)]
        return labels[: max(1, self.copies)]

    def form(self, label: str) -> dict:
        """A form's label and its "(Ban hành kèm theo …)" line."""
        return {"code": label, "note": f"({self.regime})" if self.regime else ""}


def issuer_identity(session: Session, stored: Mapping | None, unit: Unit, settings: DocumentSettings) -> dict:
    """What a document prints as its issuer: the identity stored when it was issued (so a later rename changes
    nothing), else the unit's identity today (documents from before identities were stored), completed from
    the configuration."""
    identity = stored or resolved_identity(identity_chain(session, unit))
    return complete_identity(identity, settings.identity)


def _signers(issuer: Mapping, preparer: str | None) -> dict:
    """Names under the signature blocks: the issuer's signatories; the preparer is whoever recorded the document
    (full name), else the unit's usual preparer, else a blank for a hand-written name (never a login)."""
    signatories = issuer.get("signatories") or {}
    return {
        "head": signatories.get("head") or "",
        "chief_accountant": signatories.get("accountant") or "",
        "cashier": signatories.get("cashier") or "",
        "preparer": preparer or signatories.get("preparer") or "",
    }


def fund_account(fund: Fund, settings: DocumentSettings) -> str:
    """The fund's own account in the chart: set per fund, else the configured default (FUNDSVC_ACCOUNT_FUND)."""
    return fund.ledger_account or settings.account_fund


def _person(donor) -> dict:
    """The donor as a document prints them; an organisation's tax code too (a person's stays private)."""
    return {
        "name": donor.name,
        "kind": donor.kind,
        "address": donor.address or "",
        "tax_code": (donor.tax_code or "") if donor.kind == "organization" else "",
    }


def receipt_context(
    receipt: Receipt, settings: DocumentSettings, preparer: str | None = None, account: MoneyAccount | None = None
) -> dict:
    """The plain-dict context of a gift's document, of the receipt's kind (Phiếu thu, acknowledgement, goods)."""
    session = object_session(receipt)
    donation: Donation = receipt.donation
    if account is None and donation.account_id is not None:
        account = session.get(MoneyAccount, donation.account_id)
    issuer = issuer_identity(session, receipt.issuer, donation.unit, settings)
    kind = receipt.kind or "receipt"
    context = {
        "kind": kind,
        "issuer": issuer,
        "receipt": {
            "book": str(receipt.year),
            "number": receipt.number,
            "code": receipt.code,
            "date": donation.received_on,
            # Goods move no money: a goods record names no money account (the in-kind register keeps it).
            "debit": account.ledger_account if account is not None else "",
            "credit": fund_account(donation.fund, settings),
        },
        "payer": _person(donation.donor),
        "reason": donation.purpose or f"Ủng hộ {donation.fund.name}",
        "fund": donation.fund.name,
        "amount": donation.amount,
        "method": donation.method,
        "contribution": True,
        "signers": _signers(issuer, preparer),
        "paper": settings.paper,
        "words_style": settings.words_style,
        "chan": settings.chan,
        "document_date": receipt.created_at,
    }
    if kind == "receipt":
        context["form"] = settings.form(settings.receipt_form)
        context["copies"] = settings.copies_for("Lưu", "Giao người nộp tiền")
        if donation.method == "in_kind":  # a goods gift receipted before goods records existed
            context["in_kind"] = {"description": donation.in_kind_description}
    elif kind == "acknowledgement":
        context["copies"] = settings.copies_for("Lưu", "Giao nhà tài trợ")
        context["bank"] = {
            "bank_name": account.bank_name or "",
            "account_number": account.account_number or "",
            "account_holder": account.account_holder or "",
            "reference": donation.bank_reference or "",
        }
    else:
        context["copies"] = settings.copies_for("Bên giao giữ", "Bên nhận giữ")
        context["goods"] = {
            "description": donation.in_kind_description or "",
            "quantity": donation.quantity,
            "unit_of_measure": donation.unit_of_measure or "",
        }
    if donation.status == "void":
        context["void"] = {"on": donation.voided_at, "reason": donation.void_reason}
    return context


def _store(session: Session, model, row_id: int, column: str, data: bytes) -> bytes:
    """Keep the first rendering: concurrent first fetches render the same bytes, only one is written."""
    with write_transaction(session):
        table = model.__table__
        written = session.execute(
            update(table)
            .where(table.c.id == row_id, table.c[column].is_(None))
            .values({column: data, f"{column}_sha256": hashlib.sha256(data).hexdigest()})
        ).rowcount
        # Another request stored its copy first: answer with that one, so every fetch gets the same bytes.
        stored = data if written else session.execute(select(table.c[column]).where(table.c.id == row_id)).scalar_one()
    return stored


def receipt_pdf(session: Session, actor: Actor, receipt_id: int, settings: DocumentSettings) -> bytes:
    """A gift's document (of its kind), rendered once and stored; a void one's stamped copy likewise."""
    receipt = get_receipt(session, actor, receipt_id)
    column = "void_pdf" if receipt.donation.status == "void" else "pdf"
    stored = session.scalar(select(getattr(Receipt, column)).where(Receipt.id == receipt_id))
    if stored is not None:
        return stored
    # Everything the document prints, its money account, and who recorded it (the preparer), in one query.
    full, preparer, account = session.execute(
        select(Receipt, User.full_name, MoneyAccount)
        .join(Receipt.donation)
        .outerjoin(User, User.id == Donation.created_by)
        .outerjoin(MoneyAccount, MoneyAccount.id == Donation.account_id)
        .where(Receipt.id == receipt_id)
        .options(
            contains_eager(Receipt.donation).joinedload(Donation.donor),
            contains_eager(Receipt.donation).joinedload(Donation.fund),
        )
    ).one()
    template = RECEIPT_TEMPLATES[full.kind or "receipt"]
    data = render_pdf(template, receipt_context(full, settings, preparer, account))
    return _store(session, Receipt, receipt_id, column, data)


def voucher_context(award: Award, settings: DocumentSettings, preparer: str | None = None) -> dict:
    """The plain-dict context of the Phiếu chi of a paid award, in the paying unit's identity when it paid."""
    session = object_session(award)
    nomination: Nomination = award.nomination
    round_: Round = award.round
    issuer = issuer_identity(session, award.voucher_issuer, round_.unit, settings)
    account = session.get(MoneyAccount, award.paid_from_account_id) if award.paid_from_account_id else None
    return {
        "issuer": issuer,
        "form": settings.form(settings.voucher_form),
        "voucher": {
            "book": str(award.paid_on.year),
            "number": award.voucher_number,
            "code": award.voucher_code,
            "date": award.paid_on,
            # A payment swaps the receipt's sides: the fund is debited, the money account credited.
            "debit": fund_account(round_.fund, settings),
            "credit": account.ledger_account if account is not None else CASH_LEDGER_ACCOUNT,
        },
        "payee": {
            "name": award.received_by or nomination.full_name,
            "address": f"{nomination.school} — {nomination.unit.name}",
        },
        "reason": f"Chi học bổng {round_.name} cho học sinh {nomination.full_name}, lớp {nomination.grade}, "
        f"{nomination.school}" + (f" ({award.tier})" if award.tier else ""),
        "amount": award.amount,
        "method": "cash",
        "signers": _signers(issuer, preparer),
        "copies": settings.copies_for("Lưu", "Giao người nhận tiền"),
        "paper": settings.paper,
        "words_style": settings.words_style,
        "chan": settings.chan,
        "document_date": award.paid_on,
    }


def award_payment_document(context: dict, account: MoneyAccount | None, bank_reference: str | None):
    """The template and context of a paid award's document: a Phiếu chi when paid in cash, an Ủy nhiệm chi
    (UNC-, the bank account paid from and the bank's reference, no cashier) when paid by bank."""
    if account is None or account.kind != "bank":
        return "documents/voucher.html", context
    bank = {
        "bank_name": account.bank_name or "",
        "account_number": account.account_number or "",
        "account_holder": account.account_holder or "",
    }
    return "documents/bank_payment.html", {
        **context,
        "method": "bank_transfer",
        "bank": bank,
        "bank_reference": bank_reference or "",
        "copies": ["Liên 1: Lưu"],
    }


def voucher_pdf(session: Session, actor: Actor, award_id: int, settings: DocumentSettings) -> bytes:
    """The payment document of a paid award (Phiếu chi, or Ủy nhiệm chi when paid by bank), rendered once and
    stored."""
    award = get_award(session, actor, award_id)
    if award.voucher_code is None:
        raise NotFound("Suất học bổng chưa được chi, chưa có phiếu chi (award not paid yet)")
    stored = session.scalar(select(Award.voucher_pdf).where(Award.id == award_id))
    if stored is not None:
        return stored
    # Who paid it out prepared the voucher: the user who booked the payment.
    preparer = session.scalar(
        select(User.full_name)
        .join(LedgerEntry, LedgerEntry.created_by == User.id)
        .where(LedgerEntry.award_id == award_id, LedgerEntry.kind == "disbursement")
        .limit(1)
    )
    account = session.get(MoneyAccount, award.paid_from_account_id) if award.paid_from_account_id else None
    template, context = award_payment_document(
        voucher_context(award, settings, preparer), account, award.bank_reference
    )
    return _store(session, Award, award_id, "voucher_pdf", render_pdf(template, context))


def _statement_unit(session: Session, actor: Actor, donor, unit_code: str | None) -> Unit:
    """The unit writing a donor's letter: the one asked for (in the caller's scope), else the caller's own unit,
    else (a caller over every unit) the unit where the donor was first recorded."""
    if unit_code:
        return visible_unit(session, actor, unit_code)
    if actor.unit_id is not None:
        return session.get(Unit, actor.unit_id)
    return donor.unit


def donor_statement_context(
    session: Session, actor: Actor, donor_id: int, year: int, settings: DocumentSettings, unit_code: str | None = None
) -> dict:
    """The letter of thanks of one issuing unit: that unit's counted gifts of the donor in `year`, money and
    goods apart, in that unit's identity, dated today (Asia/Ho_Chi_Minh)."""
    require_role(actor, "treasurer")
    donor = get_donor(session, actor, donor_id)
    unit = _statement_unit(session, actor, donor, unit_code)
    # Only the issuing unit's own gifts: a province does not thank for what a commune received, nor the reverse.
    query = donations_query(
        session,
        actor,
        donor=donor_id,
        status="recorded",
        date_from=date(year, 1, 1),
        date_to=date(year, 12, 31),
    ).where(Donation.unit_id == unit.id)
    donations = sorted(session.scalars(query).unique(), key=lambda d: (d.received_on, d.id))
    if not donations:
        raise NotFound(
            f"{donor.name} không có khoản đóng góp nào được ghi nhận tại {unit.code} trong năm {year} "
            f"(no counted gift of this donor at this unit in {year})"
        )
    issuer = issuer_identity(session, None, unit, settings)  # a letter is written in the identity of today
    today = today_in_vietnam()
    gifts = [
        {
            "date": d.received_on,
            "code": d.receipt.code,
            "purpose": d.purpose or "",
            "method": METHOD_LABELS[d.method],
            "amount": d.amount,
        }
        for d in donations
        if d.method != "in_kind"
    ]
    goods = [
        {
            "date": d.received_on,
            "code": d.receipt.code,
            "description": d.in_kind_description or "",
            "quantity": d.quantity,
            "unit_of_measure": d.unit_of_measure or "",
            "value": d.amount,
        }
        for d in donations
        if d.method == "in_kind"
    ]
    return {
        "issuer": issuer,
        "date": today,
        "year": year,
        "donor": _person(donor),
        "gifts": gifts,
        "goods": goods,
        "signer": {
            "on_behalf": "TM. BAN THƯỜNG VỤ",
            "title": "CHỦ TỊCH",
            "name": (issuer.get("signatories") or {}).get("head") or "",
        },
        "words_style": settings.words_style,
        "chan": settings.chan,
        "document_date": today,
    }


def donor_statement_pdf(
    session: Session, actor: Actor, donor_id: int, year: int, settings: DocumentSettings, unit_code: str | None = None
) -> bytes:
    """A letter of thanks listing the donor's counted gifts of `year` at one issuing unit, with the total in words."""
    context = donor_statement_context(session, actor, donor_id, year, settings, unit_code)
    return render_pdf("documents/donor_statement.html", context)


ARCHIVE_READERS = ("treasurer",)  # who may print the period's receipts (admins always)


def archive_receipts(
    session: Session,
    actor: Actor,
    *,
    unit: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[tuple[int, str]]:
    """(receipt id, gift status) of every gift of a period in the archive's order: by unit, year and number, each
    series on its own (receipts, then acknowledgements, then goods records). 404 when there is none."""
    require_role(actor, *ARCHIVE_READERS)
    query = donations_query(session, actor, unit=unit, date_from=date_from, date_to=date_to)
    receipts = [
        (d.receipt.id, d.status)
        for d in sorted(
            session.scalars(query).unique(),
            key=lambda d: (d.unit.code, d.receipt.year, SERIES_ORDER.index(d.receipt.kind), d.receipt.number),
        )
    ]
    if not receipts:
        raise NotFound("Không có phiếu thu nào trong khoảng này (no receipts in this period)")
    return receipts


def write_receipts_archive(
    session: Session,
    actor: Actor,
    settings: DocumentSettings,
    receipt_ids: list[int],
    out,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """The documents of `receipt_ids` one after the other into the binary file `out` (each rendered and stored
    when it is not yet), written as each comes so that memory stays that of one receipt; `progress(done, total)`
    after each."""
    joined = 0

    def done() -> None:
        nonlocal joined
        joined += 1
        if progress:
            progress(joined, len(receipt_ids))

    join_pdfs(out, (receipt_pdf(session, actor, receipt_id, settings) for receipt_id in receipt_ids), done=done)


def receipts_archive_pdf(
    session: Session,
    actor: Actor,
    settings: DocumentSettings,
    *,
    unit: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> bytes:
    """Every gift's document of a period (receipts, acknowledgements, goods records) in one PDF, by unit, year and
    number, for the paper archive."""
    receipts = archive_receipts(session, actor, unit=unit, date_from=date_from, date_to=date_to)
    out = BytesIO()
    write_receipts_archive(session, actor, settings, [receipt_id for receipt_id, _ in receipts], out)
    return out.getvalue()
