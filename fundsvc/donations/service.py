"""Recording gifts: donor matching, gapless receipt numbers, voids, idempotent replays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import Connection, and_, bindparam, case, delete, false, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload, scoped_session

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.bank.models import StatementLine
from fundsvc.db import DriverStatement, utcnow, write_transaction
from fundsvc.donations.identity import (
    IdentityError,
    after_digits,
    after_prefix,
    name_words,
    normalize_phone,
    normalize_tax_code,
    same_name,
    search_digits,
    search_words,
    stored_or_typed,
)
from fundsvc.donations.models import Donation, Donor, DonorNameWord, IdempotencyRecord, Receipt
from fundsvc.errors import Conflict, Forbidden, Invalid, NotFound
from fundsvc.group_commit import grouped_write
from fundsvc.idempotency import once_per_key
from fundsvc.ledger.accounts import bank_account_id, cash_account_id, require_cover
from fundsvc.ledger.models import Fund, InKindEntry
from fundsvc.ledger.periods import check_books_opened, check_open
from fundsvc.ledger.service import (
    FundRef,
    default_fund_ref,
    get_fund,
    get_fund_ref,
    post_entry,
    require_available,
)
from fundsvc.numbering import document_code, take_number
from fundsvc.observability.metrics import gift_recorded
from fundsvc.students.normalize import fold
from fundsvc.units.identity import identity_chain, resolved_identity
from fundsvc.units.models import Unit, UnitRef
from fundsvc.units.service import unit_ref, visible_unit, visible_unit_ref

# The document each way of giving gets (docs/books.md "Documents and their series"): a cash receipt only for cash.
DOCUMENT_OF_METHOD = {"cash": "receipt", "bank_transfer": "acknowledgement", "in_kind": "in_kind_record"}

TREASURY_ROLES = ("treasurer",)

T = TypeVar("T")


def _root_path(unit: Unit | UnitRef) -> str:
    return "/" + unit.path.strip("/").split("/")[0] + "/"


_DONORS, _UNITS = Donor.__table__, Unit.__table__
# A donor's columns and its unit's code and path, as one plain row: built once, as every gift reads one.
_DONOR_FIELDS = ("name", "kind", "phone", "email", "address", "tax_code")  # what a donor's details are
_DONOR_ROW = select(
    *(_DONORS.c[name] for name in ("id", *_DONOR_FIELDS, "unit_id", "merged_into_id")),
    _UNITS.c.code.label("unit_code"),
    _UNITS.c.path.label("unit_path"),
).join(_UNITS, _UNITS.c.id == _DONORS.c.unit_id)
_DONOR_BY_ID = DriverStatement(_DONOR_ROW.where(_DONORS.c.id == bindparam("id")))
# The first donor (not merged into another) with the same phone or the same tax code in a unit tree (a missing
# key is bound as NULL, which equals nothing). This runs on every gift, once more inside the lock for a new donor.
_DONOR_MATCH = DriverStatement(
    _DONOR_ROW.where(
        or_(_DONORS.c.phone == bindparam("phone"), _DONORS.c.tax_code == bindparam("tax_code")),
        _UNITS.c.path.startswith(bindparam("root")),
        _DONORS.c.merged_into_id.is_(None),
    )
    .order_by(_DONORS.c.id)
    .limit(1)
)


def donor_scope(actor: Actor, unit: UnitRef) -> str:
    """The path under which a gift's donor is looked for: the caller's own subtree, never beyond it.

    A treasurer matching by phone must not be handed (and shown) another commune's donor; a user of every unit
    matches within the gift's province.
    """
    return actor.unit_path if actor.unit_path is not None else _root_path(unit)


class DonorNameDiffers(Conflict):
    """A gift's phone or tax code is an existing donor's, and the name typed is not that donor's: the caller is asked
    whether the gift is that donor's (give `donor_id`) or a new donor's (`new_donor`), never attached silently."""

    def __init__(self, donor_id: int, name: str):
        super().__init__(
            f"Số điện thoại hoặc mã số thuế này là của nhà tài trợ {name} (mã {donor_id}), khác tên đã nhập: "
            f"gửi donor_id {donor_id} nếu đúng là người này, hoặc new_donor để tạo nhà tài trợ mới "
            "(this phone or tax code is another donor's)",
            {"donor": {"id": donor_id, "name": name}},
        )
        self.donor_id, self.name = donor_id, name


def normalized_donor(donor: dict) -> dict:
    """A donor's details with the phone and tax code in their stored form (fundsvc.donations.identity), an empty one
    as None; 422 naming the field when one is not valid. Every write of a donor goes through it."""
    normalized = dict(donor)
    for field, normalize in (("phone", normalize_phone), ("tax_code", normalize_tax_code)):
        if field not in normalized:
            continue
        value = (normalized[field] or "").strip()
        try:
            normalized[field] = normalize(value) if value else None
        except IdentityError as error:
            raise Invalid(str(error), {"donor": {field: [str(error)]}}) from error
    return normalized


def _donor_keys(scope: str, data: dict) -> dict | None:
    """The parameters of _DONOR_MATCH for a donor's data; None when it has neither a phone nor a tax code."""
    if not data.get("phone") and not data.get("tax_code"):
        return None
    return {"phone": data.get("phone") or None, "tax_code": data.get("tax_code") or None, "root": scope}


@dataclass(frozen=True)
class _Gift:
    """A validated gift, resolved before the write transaction: what remains to do is writing it."""

    unit: UnitRef
    fund: FundRef
    # The money account the money went to (None for goods), and the issuer's identity as the tree gives it today.
    account_id: int | None
    issuer: dict
    donor_scope: str
    # A _DONOR_ROW (a named tuple); None: a new donor (`new_donor`), unless one with its phone or tax code appears.
    donor: tuple | None
    new_donor: dict
    data: dict


def _prepare(session: Session, actor: Actor, data: dict) -> _Gift:
    """Resolve and check the unit, fund and donor of a gift: reads only, before any lock is taken.

    Plain rows, not ORM objects: this is most of the work of a gift outside the lock.
    """
    if data.get("unit"):
        unit = visible_unit_ref(session, actor, data["unit"])
    elif actor.unit_id is not None:
        unit = unit_ref(session, actor.unit_id)
    else:
        raise Invalid("Cần chọn đơn vị nhận (unit required)", {"unit": ["required for users without a unit"]})
    if data.get("fund"):
        fund = get_fund_ref(session, actor, data["fund"], field="fund")
        if not unit.path.startswith(fund.unit_path):
            raise Invalid(
                f"Quỹ {fund.code} không thuộc đơn vị {unit.code} hoặc cấp trên (fund not available to unit)",
                {"fund": [f"fund {fund.code} does not belong to {unit.code} or a unit above it"]},
            )
    else:
        fund = default_fund_ref(session, unit)
        if fund is None:
            raise Invalid(f"Đơn vị {unit.code} chưa có quỹ mặc định (no default fund)", {"fund": ["required"]})
    check_books_opened(unit, data["received_on"], field="received_on")
    connection = session.connection()
    if data["method"] == "in_kind":
        if not (data.get("in_kind_description") or "").strip():
            raise Invalid(
                "Quà hiện vật cần mô tả (in-kind gifts need a description)",
                {"in_kind_description": ["required when method is in_kind"]},
            )
        account_id = None
    elif data["method"] == "bank_transfer":
        account_id = bank_account_id(connection, unit, data.get("account"))
    else:
        account_id = cash_account_id(connection, unit)
    issuer = resolved_identity(identity_chain(session, unit))

    scope = donor_scope(actor, unit)
    donor, new_donor = _gift_donor(connection, actor, scope, data)
    return _Gift(unit, fund, account_id, issuer, scope, donor, new_donor, data)


def _gift_donor(connection: Connection, actor: Actor, scope: str, data: dict) -> tuple[tuple | None, dict]:
    """The donor a gift is for: (the _DONOR_ROW of the one given or matched, {}) or (None, the new donor's details).

    A donor matched by phone or tax code under another name is not taken silently (DonorNameDiffers, 409), unless the
    gift says it is a new donor (`new_donor`)."""
    if data.get("donor_id") is not None:
        donor = _DONOR_BY_ID.first(connection, {"id": data["donor_id"]})
        if donor is None or not actor.sees(UnitRef(donor.unit_id, donor.unit_code, donor.unit_path)):
            raise Invalid("Không có nhà tài trợ này (unknown donor)", {"donor_id": ["unknown donor"]})
        if donor.merged_into_id is not None:
            raise Invalid(
                f"Nhà tài trợ {donor.id} đã được gộp vào nhà tài trợ {donor.merged_into_id} (donor merged)",
                {"donor_id": [f"merged into donor {donor.merged_into_id}"]},
            )
        return donor, {}
    typed = normalized_donor(data["donor"])
    keys = None if data.get("new_donor") else _donor_keys(scope, typed)
    donor = _DONOR_MATCH.first(connection, keys) if keys is not None else None
    if donor is None:
        return None, {k: typed.get(k) for k in _DONOR_FIELDS}
    if not same_name(donor.name, typed["name"]):
        raise DonorNameDiffers(donor.id, donor.name)
    return donor, {}


def record_donation(
    session: Session,
    actor: Actor,
    data: dict,
    *,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
) -> tuple[Donation, bool]:
    """Record a gift with its receipt number and ledger entry; returns (donation, replayed).

    A replay answers the stored Donation; a new gift a view of the values just written, with a Donation's
    attributes (see _answer).

    On SQLite every other writer waits while a write transaction runs, so the replay check, the lookups, the
    checks and the donor matching run before it, and the transaction itself is a handful of INSERTs and the
    counter's UPDATE: donor (if new), donation, receipt, ledger entry, audit event, idempotency record.
    """
    return _record(session, actor, data, idempotency_key, fingerprint, lambda work: grouped_write(session, work))


def record_donation_in_transaction(
    session: Session,
    actor: Actor,
    data: dict,
    *,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
) -> tuple[Donation, bool]:
    """record_donation inside the caller's open write transaction, for many gifts written together (the matched
    lines of a bank statement): the same checks, number, ledger entry, audit event and idempotency record, each
    gift in a SAVEPOINT of its own, so that a gift refused (a DomainError: a closed month…) leaves nothing of itself
    and the caller goes on with the next. Nothing is committed here: the caller's one COMMIT stores them all."""
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        raise RuntimeError("record_donation_in_transaction needs the caller's write transaction")
    return _record(session, actor, data, idempotency_key, fingerprint, lambda work: _in_savepoint(session, work))


def _in_savepoint(session: Session, work: Callable[[Connection], T]) -> T:
    with session.begin_nested():
        return work(session.connection())


def _record(
    session: Session,
    actor: Actor,
    data: dict,
    idempotency_key: str | None,
    fingerprint: str | None,
    write: Callable[[Callable[[Connection], _Written]], _Written],
) -> tuple[Donation, bool]:
    """A gift as record_donation defines it, its write transaction's statements run by `write`."""
    require_role(actor, *TREASURY_ROLES)

    def create() -> Donation:
        gift = _prepare(session, actor, data)
        written = write(lambda connection: _write(connection, actor, gift, idempotency_key, fingerprint or ""))
        gift_recorded(data["method"])
        return _answer(gift, written)

    return once_per_key(
        session,
        actor,
        idempotency_key,
        fingerprint or "",
        made="donation_id",
        load=lambda donation_id: _load(session, donation_id),
        create=create,
    )


# The write transaction's statements, built once (each one's cost inside it is paid by every waiting writer).
_INSERT_DONOR = DriverStatement(insert(Donor.__table__).returning(Donor.__table__.c.id))
_INSERT_DONATION = DriverStatement(insert(Donation.__table__).returning(Donation.__table__.c.id))
_INSERT_RECEIPT = DriverStatement(insert(Receipt.__table__).returning(Receipt.__table__.c.id))
_INSERT_NAME_WORD = DriverStatement(insert(DonorNameWord.__table__))
_INSERT_IDEMPOTENCY = DriverStatement(insert(IdempotencyRecord.__table__))
_INSERT_IN_KIND = DriverStatement(insert(InKindEntry.__table__))


def _in_kind_line(actor: Actor, donation: dict, kind: str, code: str, now: datetime) -> dict:
    """The in-kind register's line of a gift of goods ("received") or of its void ("reversal", negative)."""
    sign = -1 if kind == "reversal" else 1
    return {
        "unit_id": donation["unit_id"],
        "fund_id": donation["fund_id"],
        "donation_id": donation["id"],
        "entry_date": donation["received_on"],
        "kind": kind,
        "description": donation["in_kind_description"],
        "quantity": sign * donation["quantity"] if donation.get("quantity") is not None else None,
        "unit_of_measure": donation.get("unit_of_measure"),
        "value": sign * donation["amount"],
        "document_code": code,
        "created_at": now,
        "created_by": actor.user_id,
    }


@dataclass(frozen=True)
class _Written:
    """The column values of the rows a gift's write transaction inserted (the new donor's, if any), and the row of
    the donor it found instead of inserting one (a concurrent first gift of the same donor created it)."""

    donation: dict
    receipt: dict
    donor: dict | None
    found_donor: tuple | None = None


def _write(
    connection: Connection, actor: Actor, gift: _Gift, idempotency_key: str | None, fingerprint: str
) -> _Written:
    """The write transaction's statements: Core, no unit-of-work flush, no read that could have been done before."""
    unit, fund, data = gift.unit, gift.fund, gift.data
    now = utcnow()
    new_donor = found_donor = None
    if gift.donor is not None:
        donor_id, donor_name = gift.donor.id, gift.donor.name
    else:
        new_donor, found_donor = _new_donor(connection, gift, now)
        donor_id, donor_name = (
            (found_donor.id, found_donor.name) if found_donor else (new_donor["id"], new_donor["name"])
        )
    received_on: date = data["received_on"]
    year = received_on.year
    # Inside the lock, so that a month being closed at this moment either sees this gift or refuses it.
    check_open(connection, unit, received_on)
    document = DOCUMENT_OF_METHOD[data["method"]]
    book_id, number = take_number(connection, unit, received_on, document, field="received_on")
    code = document_code(unit, year, number, document)
    donation = {
        "donor_id": donor_id,
        "fund_id": fund.id,
        "unit_id": unit.id,
        "amount": data["amount"],
        "method": data["method"],
        "in_kind_description": data.get("in_kind_description"),
        "quantity": data.get("quantity"),
        "unit_of_measure": data.get("unit_of_measure"),
        "account_id": gift.account_id,
        "bank_reference": data.get("bank_reference"),
        "received_on": received_on,
        "purpose": data.get("purpose"),
        "anonymous": bool(data.get("anonymous")),
        "status": "recorded",
        "void_reason": None,
        "voided_at": None,
        "voided_by": None,
        "created_at": now,
        "created_by": actor.user_id,
    }
    (donation["id"],) = _INSERT_DONATION.execute(connection, donation)
    receipt = {
        "donation_id": donation["id"],
        "book_id": book_id,
        "unit_id": unit.id,
        "year": year,
        "number": number,
        "code": code,
        "kind": document,
        "issuer": gift.issuer,
        "pdf_sha256": None,
        "void_pdf_sha256": None,
        "created_at": now,
    }
    (receipt["id"],) = _INSERT_RECEIPT.execute(connection, receipt)
    if gift.account_id is None:
        # Goods are not money: the in-kind register, at the agreed value.
        _INSERT_IN_KIND.execute(connection, _in_kind_line(actor, donation, "received", code, now))
    else:
        post_entry(
            connection,
            actor,
            fund_id=fund.id,
            unit_id=unit.id,
            account_id=gift.account_id,
            entry_date=received_on,
            kind="donation",
            amount=donation["amount"],
            method=donation["method"],
            donation_id=donation["id"],
            document_code=code,
            description=f"Thu {code}: {donor_name}"[:500],
        )
    record(
        connection,
        actor,
        "donation.record",
        "donation",
        donation["id"],
        None,
        _audited(donation, fund.code, unit.code, code, None),
        unit.id,
    )
    if idempotency_key:
        # Last, with the donation it answers: a concurrent request under the same key either committed
        # first (this INSERT fails on the unique (user, key) and the caller replays its answer) or, on
        # PostgreSQL, waits here on the unique index until this transaction ends, and then fails.
        _INSERT_IDEMPOTENCY.execute(
            connection,
            {
                "user_id": actor.user_id,
                "key": idempotency_key,
                "request_hash": fingerprint,
                "donation_id": donation["id"],
                "created_at": now,
            },
        )
    return _Written(donation, receipt, new_donor, found_donor)


def _new_donor(connection: Connection, gift: _Gift, now: datetime) -> tuple[dict | None, tuple | None]:
    """The gift's new donor: (its inserted column values, None), or (None, its row) when a concurrent first gift of
    the same donor has created it since the gift was prepared."""
    keys = None if gift.data.get("new_donor") else _donor_keys(gift.donor_scope, gift.new_donor)
    if keys is not None:
        # Looked for again inside the transaction: on SQLite, where it holds the write lock, two
        # first gifts of one new donor at the same moment then still make one donor.
        found = _DONOR_MATCH.first(connection, keys)
        if found is not None and same_name(found.name, gift.new_donor["name"]):
            return None, found
    donor = {
        "unit_id": gift.unit.id,
        **gift.new_donor,
        "name_folded": fold(gift.new_donor["name"]),
        "merged_into_id": None,
        "created_at": now,
    }
    (donor["id"],) = _INSERT_DONOR.execute(connection, donor)
    _store_name_words(connection, donor["id"], donor["name"])
    return donor, None


def _store_name_words(connection: Connection, donor_id: int, name: str) -> None:
    """The words a search by the start of any word of the name finds the donor by."""
    for word in name_words(name):
        _INSERT_NAME_WORD.execute(connection, {"word": word, "donor_id": donor_id})


def _answer(gift: _Gift, written: _Written) -> Donation:
    """The recorded gift as the API and the web answer it, built from the values just written.

    Transient model objects (in no session): the rows were inserted with every column given, so nothing needs
    reading back or tracking, and a column added to a model is answered without a change here.
    """
    unit = Unit(id=gift.unit.id, code=gift.unit.code, path=gift.unit.path)
    if written.donor is not None:
        donor = Donor(**written.donor)
        donor.unit = unit
    else:
        row = (written.found_donor or gift.donor)._asdict()
        donor = Donor(**{k: v for k, v in row.items() if not k.startswith("unit_")}, unit_id=row["unit_id"])
        donor.unit = Unit(id=row["unit_id"], code=row["unit_code"], path=row["unit_path"])
    donation = Donation(**written.donation)
    donation.unit, donation.fund, donation.donor = unit, Fund(id=gift.fund.id, code=gift.fund.code), donor
    donation.receipt = Receipt(**written.receipt)
    return donation


def _load(session: Session, donation_id: int) -> Donation:
    """A donation with its unit, fund, donor and receipt (one query), as the API answers it."""
    return session.scalar(_with_relations(select(Donation).where(Donation.id == donation_id)))


def _with_relations(query):
    return query.options(
        joinedload(Donation.unit), joinedload(Donation.fund), joinedload(Donation.donor), joinedload(Donation.receipt)
    )


def _audited(values: dict, fund: str, unit: str, receipt: str | None, void_reason: str | None) -> dict:
    """The audited state of a donation, from its column values and codes."""
    return {
        "amount": values["amount"],
        "method": values["method"],
        "fund": fund,
        "unit": unit,
        "donor_id": values["donor_id"],
        "received_on": values["received_on"],
        "status": values["status"],
        "receipt": receipt,
        "void_reason": void_reason,
    }


def snapshot(donation: Donation) -> dict:
    """The audited state of a donation."""
    values = {name: getattr(donation, name) for name in ("amount", "method", "donor_id", "received_on", "status")}
    return _audited(
        values,
        donation.fund.code,
        donation.unit.code,
        donation.receipt.code if donation.receipt else None,
        donation.void_reason,
    )


def void_donation(session: Session, actor: Actor, donation_id: int, reason: str) -> Donation:
    """Void a donation in its own period (docs/books.md "Voids"): status void, the document keeps its number, and a
    reversal dated the gift's own date undoes it there, in the ledger (money) or the in-kind register (goods).

    409 the second time, when the gift's month is closed (the correction is an adjustment in the open period), and
    when the money is no longer there to take back (spent from its account, or held for approved awards).
    """
    require_role(actor, *TREASURY_ROLES)
    with write_transaction(session):
        donation = get_donation(session, actor, donation_id, lock=True)
        if donation.status == "void":
            raise Conflict(f"Khoản thu {donation.receipt.code} đã bị hủy trước đó (already void)")
        connection = session.connection()
        check_open(connection, donation.unit, donation.received_on, action="hủy")
        before = snapshot(donation)
        code = donation.receipt.code
        if donation.account_id is None:
            handed_out = session.scalar(
                select(InKindEntry.id).where(InKindEntry.donation_id == donation.id, InKindEntry.kind == "handed_out")
            )
            if handed_out is not None:
                raise Conflict(
                    f"Hàng của {code} đã được bàn giao một phần: không hủy được, hãy lập điều chỉnh "
                    "(goods already handed out; book an adjustment)"
                )
            values = {c.name: getattr(donation, c.name) for c in Donation.__table__.columns}
            _INSERT_IN_KIND.execute(connection, _in_kind_line(actor, values, "reversal", code, utcnow()))
        else:
            require_cover(session, donation.account_id, donation.amount, f"hủy {code}")
            require_available(session, donation.fund_id, donation.amount, f"hủy {code}")
            post_entry(
                session,
                actor,
                fund_id=donation.fund_id,
                unit_id=donation.unit_id,
                account_id=donation.account_id,
                entry_date=donation.received_on,
                kind="reversal",
                amount=-donation.amount,
                method=donation.method,
                donation_id=donation.id,
                document_code=code,
                description=f"Hủy {code}: {reason}"[:500],
            )
        donation.status = "void"
        donation.void_reason = reason
        donation.voided_at = utcnow()
        donation.voided_by = actor.user_id
        record(session, actor, "donation.void", "donation", donation.id, before, snapshot(donation), donation.unit_id)
    return donation


def get_donation(session: Session, actor: Actor, donation_id: int, *, lock: bool = False) -> Donation:
    """A donation inside the actor's scope; 404 otherwise (its existence is not disclosed)."""
    query = _with_relations(select(Donation).where(Donation.id == donation_id))
    if lock:
        query = query.with_for_update(of=Donation)
    donation = session.scalar(query)
    if donation is None or not actor.sees(donation.unit):
        raise NotFound(f"Không có khoản thu {donation_id} (unknown donation)")
    return donation


def donations_query(
    session: Session,
    actor: Actor,
    *,
    date_from=None,
    date_to=None,
    donor=None,
    unit=None,
    fund=None,
    status=None,
    method=None,
    search: str | None = None,
):
    """A select of the donations in the actor's scope, newest first, with the contract's filters; `search` finds the
    donors it finds (donor_found_by) and a piece of the receipt's code."""
    query = _with_relations(select(Donation)).order_by(Donation.received_on.desc(), Donation.id.desc())
    subtrees = [visible_unit(session, actor, unit).path] if unit else []
    if actor.unit_path is not None:
        subtrees.append(actor.unit_path)
    if subtrees:  # joined only then: counting a province's 300,000 gifts through the join took 25 times as long
        query = query.join(Unit, Unit.id == Donation.unit_id).where(*(Unit.path.startswith(p) for p in subtrees))
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
    if method:
        query = query.where(Donation.method == method)
    if search:
        query = query.where(
            or_(
                Donation.donor_id.in_(select(Donor.id).where(donor_found_by(search))),
                Donation.id.in_(select(Receipt.donation_id).where(Receipt.code.ilike(f"%{search}%"))),
            )
        )
    return query


_GIFT_UNIT, _DONOR_UNIT = aliased(Unit), aliased(Unit)
# A gift as its list shows it (DonationOut's attributes, its donor's and receipt's prefixed), read as a plain row
# for a page of donations_query: a page of 1,000 loaded as entities with four relations took longer than the query.
DONATION_ROWS = (
    select(
        Donation.id,
        Donation.amount,
        Donation.status,
        Donation.method,
        Donation.in_kind_description,
        Donation.quantity,
        Donation.unit_of_measure,
        Donation.account_id,
        Donation.bank_reference,
        Donation.received_on,
        Donation.purpose,
        Donation.anonymous,
        Donation.void_reason,
        Donation.voided_at,
        Donation.created_at,
        Fund.code.label("fund"),
        _GIFT_UNIT.code.label("unit"),
        Donor.id.label("donor_id"),
        Donor.name.label("donor_name"),
        Donor.kind.label("donor_kind"),
        Donor.phone.label("donor_phone"),
        Donor.email.label("donor_email"),
        Donor.address.label("donor_address"),
        Donor.tax_code.label("donor_tax_code"),
        _DONOR_UNIT.code.label("donor_unit"),
        Donor.merged_into_id.label("donor_merged_into"),
        Receipt.id.label("receipt_id"),
        Receipt.year.label("receipt_year"),
        Receipt.number.label("receipt_number"),
        Receipt.code.label("receipt_code"),
        Receipt.kind.label("receipt_kind"),
    )
    .join(Fund, Fund.id == Donation.fund_id)
    .join(_GIFT_UNIT, _GIFT_UNIT.id == Donation.unit_id)
    .join(Donor, Donor.id == Donation.donor_id)
    .join(_DONOR_UNIT, _DONOR_UNIT.id == Donor.unit_id)
    .outerjoin(Receipt, Receipt.donation_id == Donation.id)
)


def list_totals(session: Session, query) -> tuple[int, int]:
    """(how many gifts `query` (a donations_query) selects, their money with voided ones left out): one aggregate
    of the same select, its eager joins and order dropped."""
    recorded = case((Donation.status == "recorded", Donation.amount), else_=0)
    count, total = session.execute(
        query.with_only_columns(func.count(), func.coalesce(func.sum(recorded), 0)).order_by(None)
    ).one()
    return int(count), int(total)


def find_duplicates(
    session: Session,
    actor: Actor,
    *,
    amount: int,
    day: date,
    donor_id: int | None = None,
    name: str | None = None,
    phone: str | None = None,
    limit: int = 5,
) -> list[Donation]:
    """Recorded gifts of the same amount on the same day from the same donor (by id, else by phone or exact name):
    what the form asks about before recording what may be the same gift twice."""
    query = donations_query(session, actor, date_from=day, date_to=day, status="recorded")
    query = query.where(Donation.amount == amount)
    if donor_id:
        query = query.where(Donation.donor_id == donor_id)
    else:
        keys = []
        if name and name.strip():
            keys.append(Donor.name_folded == fold(name))
        if phone and phone.strip():
            keys.append(Donor.phone == stored_or_typed(normalize_phone, phone))
        if not keys:
            return []
        query = query.where(Donation.donor_id.in_(select(Donor.id).where(or_(*keys))))
    return list(session.scalars(query.limit(limit)).unique())


def _starts_with(column, prefix: str, after: str | None):
    """`column` starts with `prefix`, as a range an index on the column answers."""
    return column >= prefix if after is None else and_(column >= prefix, column < after)


def donor_found_by(search: str):
    """The condition of the donors a search finds, ignoring case and diacritics (docs/api.md "Donors").

    Digits (spaces, dots, "+84" allowed) find the phones and tax codes that start with them ("0912 345", "+84 912");
    words find the names in which each word typed starts a word ("nguyen", "tran hong", "dang" for "Đặng"), on the
    folded words of donor_name_words. Both are index ranges, never a scan of the donors."""
    digits = search_digits(search)
    if digits:
        after = after_digits(digits)
        return or_(_starts_with(Donor.phone, digits, after), _starts_with(Donor.tax_code, digits, after))
    words = search_words(search)
    if not words:
        return false()
    return and_(
        *(
            Donor.id.in_(select(DonorNameWord.donor_id).where(_starts_with(DonorNameWord.word, w, after_prefix(w))))
            for w in words
        )
    )


def donors_query(actor: Actor, *, search: str | None = None):
    """Donors first recorded inside the actor's scope (not merged into another), by name (folded, so that "Đặng"
    sorts among the D's)."""
    query = (
        select(Donor)
        .join(Unit, Unit.id == Donor.unit_id)
        .options(contains_eager(Donor.unit))  # the unit joined for the scope is the one answered
        .where(Donor.merged_into_id.is_(None))
        .order_by(Donor.name_folded, Donor.id)
    )
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    if search:
        query = query.where(donor_found_by(search))
    return query


def get_donor(session: Session, actor: Actor, donor_id: int) -> Donor:
    """A donor of the actor's scope (or one that gave to it), else 404."""
    donor = session.get(Donor, donor_id)
    if donor is None:
        raise NotFound(f"Không có nhà tài trợ {donor_id} (unknown donor)")
    if not actor.sees(donor.unit):
        gave_here = session.scalar(
            select(Donation.id)
            .join(Unit, Unit.id == Donation.unit_id)
            .where(Donation.donor_id == donor_id, Unit.path.startswith(actor.unit_path or "/"))
            .limit(1)
        )
        if gave_here is None:
            raise NotFound(f"Không có nhà tài trợ {donor_id} (unknown donor)")
    return donor


def _own_donor(session: Session, actor: Actor, donor_id: int) -> Donor:
    """A donor first recorded in the actor's scope, locked for a change, and not merged; else 404, 403 or 409."""
    donor = session.scalar(
        select(Donor).where(Donor.id == donor_id).options(joinedload(Donor.unit)).with_for_update(of=Donor)
    )
    if donor is None:
        raise NotFound(f"Không có nhà tài trợ {donor_id} (unknown donor)")
    if not actor.sees(donor.unit):
        get_donor(session, actor, donor_id)  # 404 unless it gave to the actor's scope
        raise Forbidden(
            f"Nhà tài trợ {donor_id} được ghi ở đơn vị {donor.unit.code}: chỉ đơn vị đó sửa được "
            "(donor of another unit)"
        )
    if donor.merged_into_id is not None:
        raise Conflict(
            f"Nhà tài trợ {donor_id} đã được gộp vào nhà tài trợ {donor.merged_into_id} (donor already merged)",
            {"merged_into": [str(donor.merged_into_id)]},
        )
    return donor


def donor_snapshot(donor: Donor) -> dict:
    """The audited state of a donor."""
    return {name: getattr(donor, name) for name in (*_DONOR_FIELDS, "merged_into_id")}


def _require_key_free(session: Session, donor: Donor) -> None:
    """409 when the donor's phone or tax code is another (unmerged) donor's of the same tree: that is a merge."""
    same = [
        column == value for column, value in ((Donor.phone, donor.phone), (Donor.tax_code, donor.tax_code)) if value
    ]
    if not same:
        return
    other = session.execute(
        select(Donor.id, Donor.name)
        .join(Unit, Unit.id == Donor.unit_id)
        .where(
            or_(*same),
            Unit.path.startswith(_root_path(donor.unit)),
            Donor.merged_into_id.is_(None),
            Donor.id != donor.id,
        )
        .limit(1)
    ).first()
    if other is not None:
        raise Conflict(
            f"Số điện thoại hoặc mã số thuế này là của nhà tài trợ {other.name} (mã {other.id}): nếu là một người, "
            "hãy gộp hai nhà tài trợ (phone or tax code of another donor; merge them)",
            {"donor": {"id": other.id, "name": other.name}},
        )


def update_donor(session: Session, actor: Actor, donor_id: int, changes: dict) -> Donor:
    """Correct a donor's details (name, kind, phone, e-mail, address, tax code), audited. The phone and tax code are
    stored normalised; one that is another donor's is refused (409: merge them instead). Documents already issued
    keep what they printed (they are stored)."""
    require_role(actor, *TREASURY_ROLES)
    with write_transaction(session):
        donor = _own_donor(session, actor, donor_id)
        before = donor_snapshot(donor)
        for name, value in normalized_donor({k: v for k, v in changes.items() if k in _DONOR_FIELDS}).items():
            setattr(donor, name, value)
        if not (donor.name or "").strip():
            raise Invalid("Cần tên nhà tài trợ (name required)", {"name": ["required"]})
        if "name" in changes:
            donor.name_folded = fold(donor.name)
            session.execute(delete(DonorNameWord).where(DonorNameWord.donor_id == donor.id))
            session.flush()
            _store_name_words(session.connection(), donor.id, donor.name)
        _require_key_free(session, donor)
        record(session, actor, "donor.update", "donor", donor.id, before, donor_snapshot(donor), donor.unit_id)
    return donor


def merge_donors(session: Session, actor: Actor, donor_id: int, into_id: int) -> Donor:
    """Merge a donor into another (the survivor, answered) in one transaction, audited: every gift of the donor
    moves to the survivor, and so do the bank statement lines suggested for it and the donors merged into it
    before; the donor is kept, marked merged (its id answers with `merged_into`) and found by no search. Receipts
    already issued are stored documents and stay byte for byte what they printed."""
    require_role(actor, *TREASURY_ROLES)
    if donor_id == into_id:
        raise Invalid("Không gộp một nhà tài trợ vào chính mình (same donor)", {"into": ["the same donor"]})
    with write_transaction(session):
        # Locked in id order, so that two merges of the same pair in opposite directions cannot deadlock.
        locked = {i: _own_donor(session, actor, i) for i in sorted((donor_id, into_id))}
        absorbed, survivor = locked[donor_id], locked[into_id]
        moved = list(session.scalars(select(Donation.id).where(Donation.donor_id == absorbed.id).order_by(Donation.id)))
        session.execute(update(Donation).where(Donation.donor_id == absorbed.id).values(donor_id=survivor.id))
        session.execute(
            update(StatementLine)
            .where(StatementLine.suggested_donor_id == absorbed.id)
            .values(suggested_donor_id=survivor.id)
        )
        session.execute(update(Donor).where(Donor.merged_into_id == absorbed.id).values(merged_into_id=survivor.id))
        session.execute(delete(DonorNameWord).where(DonorNameWord.donor_id == absorbed.id))
        before = donor_snapshot(absorbed)
        absorbed.merged_into_id = survivor.id
        after = {**donor_snapshot(absorbed), "survivor": survivor.name, "donations_moved": moved}
        record(session, actor, "donor.merge", "donor", absorbed.id, before, after, absorbed.unit_id)
    # The bulk UPDATEs changed donor_id under any gift this session holds, not the donor it had loaded with it.
    session.expire_all()
    session.refresh(survivor)
    return survivor


def get_receipt(session: Session, actor: Actor, receipt_id: int) -> Receipt:
    """A receipt inside the actor's scope, else 404."""
    receipt = session.scalar(
        select(Receipt).where(Receipt.id == receipt_id).options(joinedload(Receipt.donation).joinedload(Donation.unit))
    )
    if receipt is None or not actor.sees(receipt.donation.unit):
        raise NotFound(f"Không có phiếu thu {receipt_id} (unknown receipt)")
    return receipt
