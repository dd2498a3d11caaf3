"""Documents from the database: receipts and vouchers rendered once and stored, donor statements, archives.

The templates and the renderer are pure (fundsvc.documents.render); this module gathers their
plain-dict contexts from the models and keeps the rendered bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from io import BytesIO

from pypdf import PdfWriter
from sqlalchemy import select, update
from sqlalchemy.orm import Session, contains_eager

from fundsvc.allocation.models import Award, Round
from fundsvc.allocation.service import get_award
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import write_transaction
from fundsvc.documents.render import render_pdf
from fundsvc.documents.words import today_in_vietnam
from fundsvc.donations.models import Donation, Receipt
from fundsvc.donations.service import donations_query, get_donor, get_receipt
from fundsvc.errors import NotFound
from fundsvc.students.models import Nomination
from fundsvc.units.models import Unit

METHOD_LABELS = {
    "cash": "Tiền mặt",
    "bank_transfer": "Chuyển khoản",
    "in_kind": "Hiện vật",
}


@dataclass(frozen=True)
class DocumentSettings:
    """What the association configures for its printed documents (FUNDSVC_* variables)."""

    org_name: str
    org_address: str
    receipt_form: str
    voucher_form: str
    debit_account: str
    credit_account: str
    copies: int
    paper: str
    words_style: str
    chan: bool
    head: str
    accountant: str
    cashier: str

    @classmethod
    def from_config(cls, config) -> DocumentSettings:
        """Read the settings from a Flask config mapping."""
        return cls(
            org_name=config["ORG_NAME"],
            org_address=config["ORG_ADDRESS"],
            receipt_form=config["RECEIPT_FORM_LABEL"],
            voucher_form=config["VOUCHER_FORM_LABEL"],
            debit_account="111",
            credit_account=config["ACCOUNT_FUND"],
            copies=config["RECEIPT_COPIES"],
            paper=config["RECEIPT_PAPER"],
            words_style=config["WORDS_STYLE"],
            chan=config["WORDS_CHAN"],
            head=config["SIGNATORY_HEAD"],
            accountant=config["SIGNATORY_ACCOUNTANT"],
            cashier=config["SIGNATORY_CASHIER"],
        )

    def copies_for(self, kept: str, given: str) -> list[str]:
        labels = [f"Liên 1: {kept}", f"Liên 2: {given}"] + [f"Liên {i}: Lưu chuyển" for i in range(3, 10)]
        return labels[: max(1, self.copies)]


def _unit_block(unit: Unit, settings: DocumentSettings) -> dict:
    return {"name": unit.name, "address": unit.address or settings.org_address}


def receipt_context(receipt: Receipt, settings: DocumentSettings, preparer: str | None = None) -> dict:
    """The plain-dict context of a Phiếu thu."""
    donation: Donation = receipt.donation
    donor = donation.donor
    context = {
        "org_name": settings.org_name,
        "unit": _unit_block(donation.unit, settings),
        "form": {"code": settings.receipt_form},
        "receipt": {
            "book": str(receipt.year),
            "number": receipt.number,
            "code": receipt.code,
            "date": donation.received_on,
            "debit": settings.debit_account,
            "credit": settings.credit_account,
        },
        "payer": {"name": donor.name, "address": donor.address or ""},
        "reason": donation.purpose or f"Ủng hộ {donation.fund.name}",
        "amount": donation.amount,
        "method": donation.method,
        "contribution": True,
        "signers": {
            "head": settings.head,
            "chief_accountant": settings.accountant,
            "cashier": settings.cashier,
            "preparer": preparer or "",
        },
        "copies": settings.copies_for("Lưu", "Giao người nộp tiền"),
        "paper": settings.paper,
        "words_style": settings.words_style,
        "chan": settings.chan,
        "document_date": receipt.created_at,
    }
    if donation.method == "in_kind":
        context["in_kind"] = {"description": donation.in_kind_description}
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
    """The receipt's PDF, rendered once and stored; a void receipt's stamped copy likewise."""
    receipt = get_receipt(session, actor, receipt_id)
    column = "void_pdf" if receipt.donation.status == "void" else "pdf"
    stored = session.scalar(select(getattr(Receipt, column)).where(Receipt.id == receipt_id))
    if stored is not None:
        return stored
    from fundsvc.auth.models import User

    # Everything the receipt prints, and who recorded it (the preparer), in one query.
    full, preparer = session.execute(
        select(Receipt, User.full_name)
        .join(Receipt.donation)
        .outerjoin(User, User.id == Donation.created_by)
        .where(Receipt.id == receipt_id)
        .options(
            contains_eager(Receipt.donation).joinedload(Donation.donor),
            contains_eager(Receipt.donation).joinedload(Donation.fund),
        )
    ).one()
    data = render_pdf("documents/receipt.html", receipt_context(full, settings, preparer))
    return _store(session, Receipt, receipt_id, column, data)


def voucher_context(award: Award, settings: DocumentSettings) -> dict:
    """The plain-dict context of the Phiếu chi of a paid award."""
    nomination: Nomination = award.nomination
    round_: Round = award.round
    return {
        "org_name": settings.org_name,
        "unit": _unit_block(round_.unit, settings),
        "form": {"code": settings.voucher_form},
        "voucher": {
            "book": str(award.paid_on.year),
            "number": award.voucher_number,
            "code": award.voucher_code,
            "date": award.paid_on,
            "debit": settings.credit_account,
            "credit": settings.debit_account,
        },
        "payee": {
            "name": award.received_by or nomination.full_name,
            "address": f"{nomination.school} — {nomination.unit.name}",
        },
        "reason": f"Chi học bổng {round_.name} cho học sinh {nomination.full_name}, lớp {nomination.grade}, "
        f"{nomination.school}" + (f" ({award.tier})" if award.tier else ""),
        "amount": award.amount,
        "method": "cash",
        "signers": {
            "head": settings.head,
            "chief_accountant": settings.accountant,
            "cashier": settings.cashier,
        },
        "copies": settings.copies_for("Lưu", "Giao người nhận tiền"),
        "paper": settings.paper,
        "words_style": settings.words_style,
        "chan": settings.chan,
        "document_date": award.paid_on,
    }


def voucher_pdf(session: Session, actor: Actor, award_id: int, settings: DocumentSettings) -> bytes:
    """The payment voucher of a paid award, rendered once and stored."""
    award = get_award(session, actor, award_id)
    if award.voucher_code is None:
        raise NotFound("Suất học bổng chưa được chi, chưa có phiếu chi (award not paid yet)")
    stored = session.scalar(select(Award.voucher_pdf).where(Award.id == award_id))
    if stored is not None:
        return stored
    return _store(
        session,
        Award,
        award_id,
        "voucher_pdf",
        render_pdf("documents/voucher.html", voucher_context(award, settings)),
    )


def donor_statement_pdf(session: Session, actor: Actor, donor_id: int, year: int, settings: DocumentSettings) -> bytes:
    """A letter of thanks listing the donor's gifts of `year` (void ones left out) with the total in words."""
    require_role(actor, "treasurer")
    donor = get_donor(session, actor, donor_id)
    query = donations_query(
        session,
        actor,
        donor=donor_id,
        status="recorded",
        date_from=date(year, 1, 1),
        date_to=date(year, 12, 31),
    )
    donations = sorted(session.scalars(query).unique(), key=lambda d: (d.received_on, d.id))
    unit = donations[0].unit if donations else donor.unit
    context = {
        "org_name": settings.org_name,
        "unit": _unit_block(unit, settings),
        "place": settings.org_address.split(",")[-1].strip() or "Sóc Trăng",
        "date": today_in_vietnam() if today_in_vietnam().year == year else date(year, 12, 31),
        "year": year,
        "donor": {"name": donor.name, "address": donor.address or ""},
        "gifts": [
            {
                "date": d.received_on,
                "code": d.receipt.code,
                "purpose": d.purpose or "",
                "amount": d.amount,
            }
            for d in donations
        ],
        "signer": {
            "on_behalf": "TM. BAN THƯỜNG VỤ",
            "title": "CHỦ TỊCH",
            "name": settings.head,
        },
        "words_style": settings.words_style,
        "chan": settings.chan,
    }
    return render_pdf("documents/donor_statement.html", context)


def receipts_archive_pdf(
    session: Session,
    actor: Actor,
    settings: DocumentSettings,
    *,
    unit: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> bytes:
    """Every receipt of a period in one PDF, in receipt-number order, for the paper archive."""
    require_role(actor, "treasurer")
    query = donations_query(session, actor, unit=unit, date_from=date_from, date_to=date_to)
    receipt_ids = [
        d.receipt.id
        for d in sorted(
            session.scalars(query).unique(),
            key=lambda d: (d.unit.code, d.receipt.year, d.receipt.number),
        )
    ]
    if not receipt_ids:
        raise NotFound("Không có phiếu thu nào trong khoảng này (no receipts in this period)")
    writer = PdfWriter()
    for receipt_id in receipt_ids:
        writer.append(BytesIO(receipt_pdf(session, actor, receipt_id, settings)))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
