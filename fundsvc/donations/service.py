"""Recording gifts: donor matching, gapless receipt numbers, voids, idempotent replays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, bindparam, case, func, insert, or_, select
from sqlalchemy.orm import Session, joinedload

from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import DriverStatement, utcnow, write_transaction
from fundsvc.donations.models import Donation, Donor, IdempotencyRecord, Receipt
from fundsvc.errors import Conflict, Invalid, NotFound
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
from fundsvc.units.identity import identity_chain, resolved_identity
from fundsvc.units.models import Unit, UnitRef
from fundsvc.units.service import unit_ref, visible_unit, visible_unit_ref

# The document each way of giving gets (docs/books.md "Documents and their series"): a cash receipt only for cash.
DOCUMENT_OF_METHOD = {"cash": "receipt", "bank_transfer": "acknowledgement", "in_kind": "in_kind_record"}

TREASURY_ROLES = ("treasurer",)


def _root_path(unit: Unit | UnitRef) -> str:
    return "/" + unit.path.strip("/").split("/")[0] + "/"


_DONORS, _UNITS = Donor.__table__, Unit.__table__
# A donor's columns and its unit's code and path, as one plain row: built once, as every gift reads one.
_DONOR_ROW = select(
    *(_DONORS.c[name] for name in ("id", "name", "kind", "phone", "email", "address", "tax_code", "unit_id")),
    _UNITS.c.code.label("unit_code"),
    _UNITS.c.path.label("unit_path"),
).join(_UNITS, _UNITS.c.id == _DONORS.c.unit_id)
_DONOR_BY_ID = DriverStatement(_DONOR_ROW.where(_DONORS.c.id == bindparam("id")))
# The first donor with the same phone or the same tax code in a unit tree (a missing key is bound as NULL,
# which equals nothing). This runs on every gift, once more inside the lock for a new donor.
_DONOR_MATCH = DriverStatement(
    _DONOR_ROW.where(
        or_(_DONORS.c.phone == bindparam("phone"), _DONORS.c.tax_code == bindparam("tax_code")),
        _UNITS.c.path.startswith(bindparam("root")),
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


def _prepare(session: Session, actor: Actor, data: dict) -> _Gift:  # noqa: C901 — every check a gift passes before its write lock, in the order a treasurer reads the errors
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

    new_donor: dict = {}
    scope = donor_scope(actor, unit)
    if "donor_id" in data and data["donor_id"] is not None:
        donor = _DONOR_BY_ID.first(connection, {"id": data["donor_id"]})
        if donor is not None:
            donor_unit = UnitRef(donor.unit_id, donor.unit_code, donor.unit_path)
        if donor is None or not actor.sees(donor_unit):
            raise Invalid("Không có nhà tài trợ này (unknown donor)", {"donor_id": ["unknown donor"]})
    else:
        keys = _donor_keys(scope, data["donor"])
        donor = _DONOR_MATCH.first(connection, keys) if keys is not None else None
        if donor is None:
            new_donor = {k: data["donor"].get(k) for k in ("name", "kind", "phone", "email", "address", "tax_code")}
    return _Gift(unit, fund, account_id, issuer, scope, donor, new_donor, data)


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
    require_role(actor, *TREASURY_ROLES)

    def create() -> Donation:
        gift = _prepare(session, actor, data)
        written = grouped_write(
            session, lambda connection: _write(connection, actor, gift, idempotency_key, fingerprint or "")
        )
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
    keys = _donor_keys(gift.donor_scope, gift.new_donor)
    if keys is not None:
        # Looked for again inside the transaction: on SQLite, where it holds the write lock, two
        # first gifts of one new donor at the same moment then still make one donor.
        found = _DONOR_MATCH.first(connection, keys)
        if found is not None:
            return None, found
    donor = {"unit_id": gift.unit.id, **gift.new_donor, "created_at": now}
    (donor["id"],) = _INSERT_DONOR.execute(connection, donor)
    return donor, None


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
    """A select of the donations in the actor's scope, newest first, with the contract's filters; `search` finds a
    piece of the donor's name, phone or tax code, or of the receipt's code."""
    query = _with_relations(select(Donation).join(Unit, Unit.id == Donation.unit_id)).order_by(
        Donation.received_on.desc(), Donation.id.desc()
    )
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
    if method:
        query = query.where(Donation.method == method)
    if search:
        like = f"%{search}%"
        query = query.where(
            or_(
                Donation.donor_id.in_(select(Donor.id).where(_donor_matches(like))),
                Donation.id.in_(select(Receipt.donation_id).where(Receipt.code.ilike(like))),
            )
        )
    return query


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
            # Exact name too: SQLite's lower() leaves Vietnamese capitals (Đ, Ư, …) as they are.
            keys += [Donor.name == name.strip(), func.lower(Donor.name) == name.strip().lower()]
        if phone and phone.strip():
            keys.append(Donor.phone == phone.strip())
        if not keys:
            return []
        query = query.where(Donation.donor_id.in_(select(Donor.id).where(or_(*keys))))
    return list(session.scalars(query.limit(limit)).unique())


def _donor_matches(like: str):
    return or_(Donor.name.ilike(like), Donor.phone.ilike(like), Donor.tax_code.ilike(like))


def donors_query(actor: Actor, *, search: str | None = None):
    """Donors first recorded inside the actor's scope, by name."""
    query = select(Donor).join(Unit, Unit.id == Donor.unit_id).order_by(Donor.name, Donor.id)
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    if search:
        query = query.where(_donor_matches(f"%{search}%"))
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


def get_receipt(session: Session, actor: Actor, receipt_id: int) -> Receipt:
    """A receipt inside the actor's scope, else 404."""
    receipt = session.scalar(
        select(Receipt).where(Receipt.id == receipt_id).options(joinedload(Receipt.donation).joinedload(Donation.unit))
    )
    if receipt is None or not actor.sees(receipt.donation.unit):
        raise NotFound(f"Không có phiếu thu {receipt_id} (unknown receipt)")
    return receipt
