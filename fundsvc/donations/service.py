"""Recording gifts: donor matching, gapless receipt numbers, voids, idempotent replays."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import utcnow, write_transaction
from fundsvc.donations.models import Donation, Donor, IdempotencyRecord, Receipt
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.ledger.service import default_fund_for, get_fund, post_entry
from fundsvc.numbering import document_code, take_number
from fundsvc.units.models import Unit
from fundsvc.units.service import visible_unit

TREASURY_ROLES = ("treasurer",)


def request_fingerprint(body: object) -> str:
    """A stable hash of a request body, to tell a replay from a different request under the same key."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _root_path(unit: Unit) -> str:
    return "/" + unit.path.strip("/").split("/")[0] + "/"


def match_or_create_donor(session: Session, unit: Unit, data: dict) -> Donor:
    """The donor with the same phone or tax code in the unit's tree, else a new donor."""
    keys = []
    if data.get("phone"):
        keys.append(Donor.phone == data["phone"])
    if data.get("tax_code"):
        keys.append(Donor.tax_code == data["tax_code"])
    if keys:
        found = session.scalar(
            select(Donor).join(Unit, Unit.id == Donor.unit_id)
            .where(or_(*keys), Unit.path.startswith(_root_path(unit))).order_by(Donor.id).limit(1)
        )
        if found is not None:
            return found
    donor = Donor(unit_id=unit.id, **{k: data.get(k) for k in ("name", "kind", "phone", "email", "address", "tax_code")})
    session.add(donor)
    session.flush()
    return donor


def _claim_idempotency_key(session: Session, actor: Actor, key: str, fingerprint: str) -> IdempotencyRecord | Donation:
    """Either the earlier donation made under this key, or a fresh claim on the key for this request."""
    existing = session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == actor.user_id, IdempotencyRecord.key == key))
    if existing is None:
        claim = IdempotencyRecord(user_id=actor.user_id, key=key, request_hash=fingerprint)
        session.add(claim)
        # On PostgreSQL a concurrent claim of the same key blocks here on the unique index
        # until the first transaction ends, then fails: the caller replays the stored answer.
        session.flush()
        return claim
    if existing.request_hash != fingerprint:
        raise Invalid("Idempotency-Key đã dùng cho một yêu cầu khác (key reused with a different body)",
                      {"Idempotency-Key": ["already used with a different request body"]})
    if existing.donation_id is None:
        raise Conflict("Yêu cầu với Idempotency-Key này đang được xử lý (request in progress)")
    return session.get(Donation, existing.donation_id)


def record_donation(
    session: Session,
    actor: Actor,
    data: dict,
    *,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
) -> tuple[Donation, bool]:
    """Record a gift with its receipt number and ledger entry; returns (donation, replayed)."""
    require_role(actor, *TREASURY_ROLES)
    try:
        with write_transaction(session):
            claim = None
            if idempotency_key:
                claimed = _claim_idempotency_key(session, actor, idempotency_key, fingerprint or "")
                if isinstance(claimed, Donation):
                    return claimed, True
                claim = claimed
            donation = _record(session, actor, data)
            if claim is not None:
                claim.donation_id = donation.id
    except IntegrityError:
        if not idempotency_key:
            raise
        # A concurrent request with the same key won the race and has committed: answer as a replay.
        session.rollback()
        with write_transaction(session):
            claimed = _claim_idempotency_key(session, actor, idempotency_key, fingerprint or "")
            if isinstance(claimed, Donation):
                return claimed, True
            raise Conflict("Yêu cầu với Idempotency-Key này đang được xử lý (request in progress)")
    return donation, False


def _record(session: Session, actor: Actor, data: dict) -> Donation:
    if data.get("unit"):
        unit = visible_unit(session, actor, data["unit"])
    elif actor.unit_id is not None:
        unit = session.get(Unit, actor.unit_id)
    else:
        raise Invalid("Cần chọn đơn vị nhận (unit required)", {"unit": ["required for users without a unit"]})
    if data.get("fund"):
        fund = get_fund(session, actor, data["fund"], field="fund")
        if not unit.path.startswith(fund.unit.path):
            raise Invalid(f"Quỹ {fund.code} không thuộc đơn vị {unit.code} hoặc cấp trên (fund not available to unit)",
                          {"fund": [f"fund {fund.code} does not belong to {unit.code} or a unit above it"]})
    else:
        fund = default_fund_for(session, unit)
        if fund is None:
            raise Invalid(f"Đơn vị {unit.code} chưa có quỹ mặc định (no default fund)", {"fund": ["required"]})
    if data["method"] == "in_kind" and not (data.get("in_kind_description") or "").strip():
        raise Invalid("Quà hiện vật cần mô tả (in-kind gifts need a description)",
                      {"in_kind_description": ["required when method is in_kind"]})

    if "donor_id" in data and data["donor_id"] is not None:
        donor = session.get(Donor, data["donor_id"])
        if donor is None or not actor.sees(donor.unit) and not unit.path.startswith(_root_path(donor.unit)):
            raise Invalid("Không có nhà tài trợ này (unknown donor)", {"donor_id": ["unknown donor"]})
    else:
        donor = match_or_create_donor(session, unit, data["donor"])

    received_on: date = data["received_on"]
    book, number = take_number(session, unit, received_on.year, "receipt")
    donation = Donation(
        donor=donor, fund=fund, unit=unit, amount=data["amount"], method=data["method"],
        in_kind_description=data.get("in_kind_description"), received_on=received_on,
        purpose=data.get("purpose"), anonymous=bool(data.get("anonymous")), created_by=actor.user_id,
    )
    session.add(donation)
    session.flush()
    receipt = Receipt(donation=donation, book=book, unit_id=unit.id, year=received_on.year, number=number,
                      code=document_code(unit, received_on.year, number))
    session.add(receipt)
    post_entry(session, actor, fund_id=fund.id, unit_id=unit.id, entry_date=received_on, kind="donation",
               amount=donation.amount, method=donation.method, donation_id=donation.id, document_code=receipt.code,
               description=f"Thu {receipt.code}: {donor.name}"[:500])
    session.flush()
    record(session, actor, "donation.record", "donation", donation.id, None, snapshot(donation), unit.id)
    return donation


def snapshot(donation: Donation) -> dict:
    """The audited state of a donation."""
    return {
        "amount": donation.amount, "method": donation.method, "fund": donation.fund.code,
        "unit": donation.unit.code, "donor_id": donation.donor_id, "received_on": donation.received_on,
        "status": donation.status, "receipt": donation.receipt.code if donation.receipt else None,
        "void_reason": donation.void_reason,
    }


def void_donation(session: Session, actor: Actor, donation_id: int, reason: str) -> Donation:
    """Void a donation: status void, receipt keeps its number, a reversing ledger entry; 409 the second time."""
    require_role(actor, *TREASURY_ROLES)
    with write_transaction(session):
        donation = get_donation(session, actor, donation_id, lock=True)
        if donation.status == "void":
            raise Conflict(f"Khoản thu {donation.receipt.code} đã bị hủy trước đó (already void)")
        before = snapshot(donation)
        donation.status = "void"
        donation.void_reason = reason
        donation.voided_at = utcnow()
        donation.voided_by = actor.user_id
        post_entry(session, actor, fund_id=donation.fund_id, unit_id=donation.unit_id,
                   entry_date=max(date.today(), donation.received_on), kind="reversal", amount=-donation.amount,
                   method=donation.method, donation_id=donation.id, document_code=donation.receipt.code,
                   description=f"Hủy {donation.receipt.code}: {reason}"[:500])
        record(session, actor, "donation.void", "donation", donation.id, before, snapshot(donation), donation.unit_id)
    return donation


def get_donation(session: Session, actor: Actor, donation_id: int, *, lock: bool = False) -> Donation:
    """A donation inside the actor's scope; 404 otherwise (its existence is not disclosed)."""
    query = select(Donation).where(Donation.id == donation_id).options(
        joinedload(Donation.unit), joinedload(Donation.fund), joinedload(Donation.donor), joinedload(Donation.receipt))
    if lock:
        query = query.with_for_update(of=Donation)
    donation = session.scalar(query)
    if donation is None or not actor.sees(donation.unit):
        raise NotFound(f"Không có khoản thu {donation_id} (unknown donation)")
    return donation


def donations_query(session: Session, actor: Actor, *, date_from=None, date_to=None, donor=None,
                    unit=None, fund=None, status=None):
    """A select of the donations in the actor's scope, newest first, with the contract's filters."""
    query = (select(Donation).join(Unit, Unit.id == Donation.unit_id)
             .options(joinedload(Donation.unit), joinedload(Donation.fund), joinedload(Donation.donor),
                      joinedload(Donation.receipt))
             .order_by(Donation.received_on.desc(), Donation.id.desc()))
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    if unit:
        scope = visible_unit(session, actor, unit)
        query = query.where(Unit.path.startswith(scope.path))
    if fund:
        query = query.where(Donation.fund_id == get_fund(session, actor, fund, field="fund").id)
    if date_from:
        query = query.where(Donation.received_on >= date_from)
    if date_to:
        query = query.where(Donation.received_on <= date_to)
    if donor is not None:
        query = query.where(Donation.donor_id == donor)
    if status:
        query = query.where(Donation.status == status)
    return query


def donors_query(actor: Actor, *, search: str | None = None):
    """Donors first recorded inside the actor's scope, by name."""
    query = select(Donor).join(Unit, Unit.id == Donor.unit_id).order_by(Donor.name, Donor.id)
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    if search:
        like = f"%{search}%"
        query = query.where(or_(Donor.name.ilike(like), Donor.phone.ilike(like), Donor.tax_code.ilike(like)))
    return query


def get_donor(session: Session, actor: Actor, donor_id: int) -> Donor:
    """A donor of the actor's scope (or one that gave to it), else 404."""
    donor = session.get(Donor, donor_id)
    if donor is None:
        raise NotFound(f"Không có nhà tài trợ {donor_id} (unknown donor)")
    if not actor.sees(donor.unit):
        gave_here = session.scalar(select(Donation.id).join(Unit, Unit.id == Donation.unit_id).where(
            Donation.donor_id == donor_id, Unit.path.startswith(actor.unit_path or "/")).limit(1))
        if gave_here is None:
            raise NotFound(f"Không có nhà tài trợ {donor_id} (unknown donor)")
    return donor


def get_receipt(session: Session, actor: Actor, receipt_id: int) -> Receipt:
    """A receipt inside the actor's scope, else 404."""
    receipt = session.scalar(select(Receipt).where(Receipt.id == receipt_id).options(
        joinedload(Receipt.donation).joinedload(Donation.unit)))
    if receipt is None or not actor.sees(receipt.donation.unit):
        raise NotFound(f"Không có phiếu thu {receipt_id} (unknown receipt)")
    return receipt


