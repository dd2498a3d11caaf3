"""The printed pledge: a poster or letter asking for a gift by transfer, with the unit's identity, the account, the
amount if one was pledged, the memo code, and the VietQR that carries them (docs/bank.md "Mã ủng hộ")."""

from __future__ import annotations

from markupsafe import Markup
from sqlalchemy.orm import Session

from fundsvc.auth.service import Actor
from fundsvc.bank import service
from fundsvc.bank.models import Pledge
from fundsvc.documents.render import render_pdf
from fundsvc.documents.service import DocumentSettings, issuer_identity

TEMPLATE = "documents/pledge.html"


def pledge_context(session: Session, pledge: Pledge, payload: str, settings: DocumentSettings) -> dict:
    """The plain-dict context of documents/pledge.html."""
    account = pledge.account
    return {
        "title": f"Ủng hộ Quỹ Khuyến học — mã {pledge.code}",
        "issuer": issuer_identity(session, None, pledge.unit, settings),
        "pledge": {
            "code": pledge.code,
            "amount": pledge.amount,
            "purpose": pledge.purpose or "",
            "donor": (pledge.donor or {}).get("name") or "",
            "fund": pledge.fund.name,
        },
        "bank": {
            "bank_name": account.bank_name or "",
            "account_number": account.account_number or "",
            "account_holder": account.account_holder or "",
        },
        "qr": Markup(service.qr_svg(payload, f"VietQR {pledge.code}")),
        "document_date": pledge.created_at,
        "words_style": settings.words_style,
        "chan": settings.chan,
    }


def pledge_pdf(session: Session, actor: Actor, pledge_id: int, settings: DocumentSettings) -> tuple[str, bytes]:
    """(file name, PDF) of the pledge's poster/letter (A4), for any pledge the actor sees; 422 while its account
    has no BIN or number."""
    payload = service.pledge_payload(session, actor, pledge_id)
    pledge = service.get_pledge(session, actor, pledge_id)
    name = f"ung-ho-{pledge.code.replace(' ', '')}.pdf"
    return name, render_pdf(TEMPLATE, pledge_context(session, pledge, payload, settings))
