"""Scholarship rounds: create, allocate (the pure engine over the database's nominations), approve,
disburse, cancel with promotion, explain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from fundsvc.allocation import decisions, engine
from fundsvc.allocation.models import HELD, Award, Round
from fundsvc.allocation.rules import RulesError, validate_rules
from fundsvc.allocation.ruleset import reference_date
from fundsvc.audit.service import record
from fundsvc.auth.service import Actor, require_role
from fundsvc.db import CompressedJSON, encode_json, fetch_columns, utcnow, write_transaction
from fundsvc.errors import Conflict, Invalid, NotFound
from fundsvc.ledger.accounts import bank_account_id, cash_account_id, require_cover
from fundsvc.ledger.models import Fund, Reservation
from fundsvc.ledger.periods import check_books_opened, check_open
from fundsvc.ledger.service import balance, get_fund, post_entry, reserved
from fundsvc.numbering import document_code, take_number
from fundsvc.privacy import redact_allocation
from fundsvc.students.models import FIELDS, Nomination
from fundsvc.students.service import pupil_found_by
from fundsvc.units.identity import identity_chain, resolved_identity
from fundsvc.units.models import Unit
from fundsvc.units.service import district_of, tree_paths_on, visible_unit

COMMITTEE = ("committee",)
TREASURY = ("treasurer",)


def checked_rules(doc) -> dict:
    """The rules document validated, or a 422 whose errors point at the JSON paths."""
    try:
        return validate_rules(doc)
    except RulesError as error:
        raise Invalid("Quy tắc xét chọn không hợp lệ (invalid rules)", error.errors) from error


def create_round(session: Session, actor: Actor, data: dict) -> Round:
    """A new round in status draft."""
    require_role(actor, *COMMITTEE)
    rules = checked_rules(data["rules"])
    with write_transaction(session):
        unit = visible_unit(session, actor, data["unit"])
        fund = get_fund(session, actor, data["fund"], field="fund")
        require_district_level(RoundTree.of(session, data["academic_year"]), unit, rules, fund.restriction)
        round_ = Round(
            name=data["name"],
            academic_year=data["academic_year"],
            fund=fund,
            unit=unit,
            budget=data["budget"],
            rules=rules,
            rules_hash=engine.rules_hash(rules),
            status="draft",
            created_by=actor.user_id,
        )
        session.add(round_)
        session.flush()
        record(session, actor, "round.create", "round", round_.id, None, _round_state(round_), unit.id)
    return round_


def _round_state(round_: Round) -> dict:
    return {
        "name": round_.name,
        "academic_year": round_.academic_year,
        "fund": round_.fund.code,
        "unit": round_.unit.code,
        "budget": round_.budget,
        "status": round_.status,
        "rules_hash": round_.rules_hash,
        "result_hash": round_.result_hash,
    }


def get_round(session: Session, actor: Actor, round_id: int, *, lock: bool = False) -> Round:
    """A round whose unit is in the actor's scope, else 404."""
    query = select(Round).where(Round.id == round_id).options(joinedload(Round.unit), joinedload(Round.fund))
    if lock:
        # A locked read must see the row as it is now, also when this session loaded the round before.
        query = query.with_for_update(of=Round).execution_options(populate_existing=True)
    round_ = session.scalar(query)
    if round_ is None or not actor.sees(round_.unit):
        raise NotFound(f"Không có đợt xét {round_id} (unknown round)")
    return round_


def rounds_query(actor: Actor, *, academic_year: str | None = None, status: str | None = None):
    """Rounds inside the actor's scope, newest first."""
    query = (
        select(Round)
        .join(Unit, Unit.id == Round.unit_id)
        .options(joinedload(Round.unit), joinedload(Round.fund))
        .order_by(Round.id.desc())
    )
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    if academic_year:
        query = query.where(Round.academic_year == academic_year)
    if status:
        query = query.where(Round.status == status)
    return query


@dataclass(frozen=True)
class RoundTree:
    """The unit tree a round's rules read (docs/rules.md "Fields": `district`): as it stood on the academic year's
    reference day, 1 September of its first year, so that a round of 2024-2025 sees the districts that were dissolved
    on 1 July 2025, and a round of 2025-2026 the two-level tree."""

    day: date
    units: dict[int, Unit]
    paths: dict[int, str]  # unit id -> its path on `day`

    @classmethod
    def of(cls, session: Session, academic_year: str) -> RoundTree:
        day = reference_date(academic_year)
        units = {u.id: u for u in session.scalars(select(Unit))}
        paths = tree_paths_on(session, day) or {uid: u.path for uid, u in units.items()}
        return cls(day, units, paths)

    def district_of(self, unit_id: int) -> str | None:
        return district_of(self.paths[unit_id], self.units)

    def has_district_level(self, scope: Unit) -> bool:
        """Whether a district unit, still active on the day, lies in `scope`'s subtree (or above it)."""
        inside, above = self.paths[scope.id], self.paths[scope.id].strip("/").split("/")
        return any(
            unit.level == "district"
            and (unit.closed_on is None or unit.closed_on > self.day)
            and (self.paths[uid].startswith(inside) or str(uid) in above)
            for uid, unit in self.units.items()
        )


def require_district_level(tree: RoundTree, scope: Unit, rules: dict, restriction: dict | None) -> None:
    """422 when the rules (or the fund's restriction) read `district` but the round's tree has no district level in
    its unit's subtree: after districts were dissolved a quota or condition per district would silently apply to
    nobody, or to everybody at once (docs/rules.md "district on a two-level tree")."""
    if "district" not in engine.facts_read(rules, restriction):
        return
    if tree.has_district_level(scope):
        return
    message = (
        f"Quy tắc dùng trường 'district' (huyện) nhưng đơn vị không còn cấp huyện: cây đơn vị của {scope.name} "
        f"ngày {tree.day:%d/%m/%Y} không có huyện nào; hãy bỏ điều kiện hoặc hạn mức theo huyện, hoặc dùng 'unit' "
        "(the round's tree has no district level)"
    )
    # Under `district`, not `rules`: the round form shows it as it is, not as one of its rules fields' errors.
    raise Invalid(message, {"district": [message]})


def facts_columns(round_: Round) -> list:
    """The nomination columns the round's rules read (engine.facts_read), id, unit and status first.

    A round reads a handful of a nomination's fields; names, schools, guardians and notes are left in
    the database unless the rules compare them.
    """
    read = engine.facts_read(round_.rules, round_.fund.restriction, academic_year=round_.academic_year)
    return [
        Nomination.id,
        Nomination.unit_id,
        Nomination.status,
        *(getattr(Nomination, f) for f in FIELDS if f in read),
    ]


def _load_facts(session: Session, round_: Round) -> tuple[engine.NominationColumns, str]:
    """The year's nominations as the engine's columns of facts, in id order, and the hash of those inputs.

    One Core query of only the columns the rules read, run on the connection (no ORM rows) and taken
    column by column (no dict per nomination); what depends on the unit (code, district, inside the round's
    unit) is worked out once per unit. The hash is over the fetched values and the derived facts, so approve
    can tell whether anything the allocation read has changed since (a fact the rules do not read cannot
    change the result, and is not hashed).
    """
    tree = RoundTree.of(session, round_.academic_year)
    require_district_level(tree, round_.unit, round_.rules, round_.fund.restriction)
    scope = tree.paths[round_.unit_id]
    by_unit = {
        uid: {
            "unit": u.code,
            "district": tree.district_of(uid),
            "in_round_unit": tree.paths[uid].startswith(scope),
        }
        for uid, u in tree.units.items()
    }
    held_elsewhere = set(
        session.scalars(
            select(Award.nomination_id)
            .join(Round, Round.id == Award.round_id)
            .where(Round.academic_year == round_.academic_year, Round.id != round_.id, Award.status.in_(HELD))
        )
    )
    columns = facts_columns(round_)
    # In parallel on PostgreSQL (two backends at once): nothing the read must see is uncommitted here.
    fetched = fetch_columns(
        session.connection(),
        columns,
        where=Nomination.academic_year == round_.academic_year,
        order_by=Nomination.id,
        parallel=True,
    )
    keys = ["id", "unit_id", "status", *(c.key for c in columns[3:])]
    facts = dict(zip(keys, fetched.typed, strict=True))
    ids, unit_ids = facts["id"], facts.pop("unit_id")
    for name in ("unit", "district", "in_round_unit"):
        facts[name] = list(map({uid: unit[name] for uid, unit in by_unit.items()}.__getitem__, unit_ids))
    flagged = [nid for nid in ids if nid in held_elsewhere] if held_elsewhere else []
    facts["awarded_elsewhere"] = [nid in held_elsewhere for nid in ids] if flagged else [False] * len(ids)
    return engine.NominationColumns(facts, len(ids)), _inputs_hash(keys, fetched.texts, unit_ids, by_unit, flagged)


def _inputs_hash(keys: list[str], texts: list[str], unit_ids: list, by_unit: dict, flagged: list[int]) -> str:
    """The hash of an allocation's inputs: the fetched columns as the database sent them (their typed forms
    follow from them), the facts of the units they name and the nominations awarded elsewhere."""
    digest = hashlib.sha256(orjson.dumps(keys))
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\n")
    used_units = sorted(set(unit_ids))
    digest.update(orjson.dumps([[uid, *by_unit[uid].values()] for uid in used_units]))
    digest.update(orjson.dumps(flagged))
    return "sha256:" + digest.hexdigest()


def nomination_facts(session: Session, round_: Round) -> engine.NominationColumns:
    """Every nomination of the round's academic year as the engine's columns of facts (the keys it reads),
    in id order."""
    return _load_facts(session, round_)[0]


def _available(session: Session, fund: Fund) -> int:
    return balance(session, fund.id) - reserved(session, fund.id)


def _engine_arguments(session: Session, round_: Round) -> dict:
    """What the engine takes besides the facts, for a round: its rules, budget, money available and restriction."""
    return {
        "rules": round_.rules,
        "budget": round_.budget,
        "available": max(0, _available(session, round_.fund)),
        "restriction": round_.fund.restriction,
        "academic_year": round_.academic_year,
    }


def allocate_json(session: Session, actor: Actor, round_id: int) -> bytes:
    """Run the round's rules over the year's nominations and store the result (re-runnable until approved).

    Returns docs/rules.md "Result" as JSON text (UTF-8), the very text stored on the round and hashed as result_hash:
    a province's result holds every nomination (about 10 MB for 100,000), so it is encoded once.
    """
    require_role(actor, *COMMITTEE)
    # A run makes several hundred thousand small acyclic objects, all freed by reference counting when
    # it ends; the cyclic GC would only walk them over and over meanwhile.
    with engine.gc_paused():
        return _allocate(session, actor, round_id)


def _refuse_if_approved(round_: Round) -> None:
    if round_.status == "approved":
        raise Conflict("Đợt xét đã được duyệt, không chạy lại được (round already approved)")


def _allocate(session: Session, actor: Actor, round_id: int) -> bytes:
    # Reading and ranking write nothing, so they run before the write transaction: on SQLite its lock is
    # then held only to store the result, not for the seconds a province's allocation takes, during which
    # every gift would wait. Nothing is lost by it: approve stores nothing unless the inputs hash and the
    # fund's available money still hold, and a round approved meanwhile is refused below.
    round_ = get_round(session, actor, round_id)
    _refuse_if_approved(round_)
    facts, inputs_hash = _load_facts(session, round_)
    allocation = engine.allocate(facts, **_engine_arguments(session, round_))
    del facts
    # The engine's key order is fixed, so the same result gives the same text, and the same hash.
    document = {"round": round_.id, **allocation.as_dict()}
    text = encode_json(document)
    result_hash = "sha256:" + hashlib.sha256(text).hexdigest()
    # Compressed here, not as the UPDATE binds them: on SQLite every other writer would wait meanwhile.
    result = CompressedJSON.compress(text)
    ranked = CompressedJSON.compress(allocation.ranking.stored())
    # What the round's page reads instead of the whole result, its entries stored before the round names them.
    key = decisions.new_allocation()
    summary, decision_rows = decisions.summary_of(document, key), decisions.decision_rows(round_.id, key, document)
    counts = {"allocated": allocation.allocated, "awarded": len(allocation.awarded)}
    del allocation, document
    values = {
        "result": result,
        "ranked": ranked,
        "inputs_hash": inputs_hash,
        "result_hash": result_hash,
        "result_summary": summary,
    }
    try:
        decisions.write(session, decision_rows)
        _store_allocation(session, actor, round_id, values, (key, len(decision_rows)), counts)
    finally:
        decisions.discard_others(session, round_id)  # the allocation replaced, or this one if refused
    return text


def _store_allocation(
    session: Session, actor: Actor, round_id: int, values: dict, stored: tuple[int, int], counts: dict
) -> None:
    """Make the allocation the round's (`values`: its new columns; `stored`: its decisions' key and how many
    were written), in one short write transaction."""
    with write_transaction(session):
        round_ = get_round(session, actor, round_id, lock=True)
        _refuse_if_approved(round_)
        decisions.check_complete(session, round_id, *stored)
        session.execute(
            update(Round).where(Round.id == round_.id).values(**values, status="allocated", allocated_at=utcnow())
        )
        # The identity map's round must not keep its old (pre-update) values for the rest of the session.
        session.expire(round_)
        record(
            session,
            actor,
            "round.allocate",
            "round",
            round_.id,
            None,
            {"result_hash": values["result_hash"], "inputs_hash": values["inputs_hash"], **counts},
            round_.unit_id,
        )


def allocate(session: Session, actor: Actor, round_id: int) -> dict:
    """allocate_json, as a dict."""
    return orjson.loads(allocate_json(session, actor, round_id))


def stored_result_json(session: Session, actor: Actor, round_id: int) -> bytes:
    """The round's last allocation result as JSON text, byte for byte what allocate_json returned (404 before
    the first allocation).

    The stored text, only decompressed: decoding a province's 10 MB result to encode it again would cost
    several times as much.
    """
    round_ = get_round(session, actor, round_id)
    text = session.scalar(select(CompressedJSON.text(Round.result)).where(Round.id == round_.id))
    if text is None:
        raise NotFound("Đợt xét chưa được chạy phân bổ (round not allocated yet)")
    if not actor.sees_personal_data:  # the stored text names pupils' values: decoded and redacted for them
        return encode_json(redact_allocation(json.loads(text)))
    return text


def _lock_fund(session: Session, fund: Fund) -> None:
    # Serialises everything that spends or reserves this fund's money (PostgreSQL; SQLite holds the
    # database write lock already), so two approvals can never both see the same available balance.
    session.execute(select(Fund.id).where(Fund.id == fund.id).with_for_update())


def _reserve(session: Session, award: Award, fund: Fund) -> None:
    session.add(Reservation(fund_id=fund.id, award_id=award.id, amount=award.amount))


def _release(session: Session, award: Award) -> None:
    reservation = session.scalar(
        select(Reservation).where(Reservation.award_id == award.id, Reservation.released_at.is_(None))
    )
    if reservation is not None:
        reservation.released_at = utcnow()


def approve(session: Session, actor: Actor, round_id: int) -> Round:
    """Approve the allocation: awards created and their total reserved on the fund, atomically."""
    require_role(actor, *COMMITTEE)
    with write_transaction(session):
        round_ = get_round(session, actor, round_id, lock=True)
        if round_.status == "approved":
            raise Conflict("Đợt xét đã được duyệt trước đó (round already approved)")
        if round_.status != "allocated":
            raise Conflict("Cần chạy phân bổ trước khi duyệt (allocate before approving)")
        _lock_fund(session, round_.fund)
        if _load_facts(session, round_)[1] != round_.inputs_hash:
            raise Conflict(
                "Hồ sơ đề cử đã thay đổi từ lần phân bổ trước; hãy chạy lại phân bổ "
                "(nominations changed since the allocation; allocate again)"
            )
        result = round_.result
        available = _available(session, round_.fund)
        if result["allocated"] > available:
            raise Conflict(
                f"Quỹ {round_.fund.code} chỉ còn {available:,} đồng khả dụng, không đủ "
                f"{result['allocated']:,} đồng (fund no longer covers the allocation)".replace(",", ".")
            )
        # Added together and flushed once: SQLAlchemy batches the INSERTs (insertmanyvalues with RETURNING ids)
        # instead of a round trip per award, which for a province-wide round is the difference of minutes.
        awards = [
            Award(
                round=round_,
                nomination_id=entry["nomination_id"],
                amount=entry["amount"],
                rank=entry["rank"],
                score=entry["score"],
                tier=entry["tier"],
                status="approved",
            )
            for entry in result["awarded"]
        ]
        session.add_all(awards)
        session.flush()
        for award in awards:
            _reserve(session, award, round_.fund)
        before = _round_state(round_)
        round_.status = "approved"
        round_.approved_at = utcnow()
        round_.approved_by = actor.user_id
        record(
            session,
            actor,
            "round.approve",
            "round",
            round_.id,
            before,
            {**_round_state(round_), "awards": len(result["awarded"]), "reserved": result["allocated"]},
            round_.unit_id,
        )
    return round_


def awards_query(session: Session, actor: Actor, round_id: int, *, status=None, search: str | None = None):
    """The round's awards in rank order, with their nominations; `search` finds the pupils pupil_found_by finds and
    a piece of the school's name."""
    get_round(session, actor, round_id)
    query = (
        select(Award)
        .where(Award.round_id == round_id)
        .options(joinedload(Award.nomination).joinedload(Nomination.unit))
        .order_by(Award.rank, Award.id)
    )
    if status:
        query = query.where(Award.status == status)
    if search:
        pupils = select(Nomination.id).where(pupil_found_by(search) | Nomination.school.ilike(f"%{search.strip()}%"))
        query = query.where(Award.nomination_id.in_(pupils))
    return query


# An award as its list shows it (AwardOut's attributes, flat), read as a plain row for a page of awards_query:
# a page of 1,000 loaded as entities with their nominations and units took longer than the query.
AWARD_ROWS = (
    select(
        Award.id,
        Award.round_id,
        Award.nomination_id,
        Nomination.student_code,
        Nomination.full_name,
        Nomination.school,
        Nomination.grade,
        Unit.code.label("unit"),
        Nomination.level,
        Award.amount,
        Award.rank,
        Award.score,
        Award.tier,
        Award.status,
        Award.promoted,
        Award.paid_on,
        Award.received_by,
        Award.voucher_code,
        Award.bank_reference,
        Award.cancel_reason,
    )
    .join(Nomination, Nomination.id == Award.nomination_id)
    .join(Unit, Unit.id == Nomination.unit_id)
)


def get_award(session: Session, actor: Actor, award_id: int, *, lock: bool = False) -> Award:
    """An award of a round inside the actor's scope, else 404."""
    query = (
        select(Award)
        .where(Award.id == award_id)
        .options(
            joinedload(Award.round).joinedload(Round.unit),
            joinedload(Award.round).joinedload(Round.fund),
            joinedload(Award.nomination).joinedload(Nomination.unit),
        )
    )
    if lock:
        query = query.with_for_update(of=Award)
    award = session.scalar(query)
    if award is None or not actor.sees(award.round.unit):
        raise NotFound(f"Không có suất học bổng {award_id} (unknown award)")
    return award


def _award_state(award: Award) -> dict:
    return {
        "status": award.status,
        "amount": award.amount,
        "nomination_id": award.nomination_id,
        "paid_on": award.paid_on,
        "received_by": award.received_by,
        "voucher": award.voucher_code,
        "cancel_reason": award.cancel_reason,
    }


def disburse(
    session: Session,
    actor: Actor,
    award_id: int,
    paid_on: date,
    received_by: str,
    *,
    method: str = "cash",
    account: int | None = None,
    bank_reference: str | None = None,
) -> Award:
    """Pay an approved award: status paid, a ledger debit from the paying unit's money account, a numbered document
    (a Phiếu chi for cash, a payment record UNC- for a bank transfer); the hold released."""
    require_role(actor, *TREASURY)
    with write_transaction(session):
        award = get_award(session, actor, award_id, lock=True)
        if award.status != "approved":
            raise Conflict(f"Suất học bổng đang ở trạng thái '{award.status}', không chi được (award not payable)")
        _pay(
            session,
            actor,
            award.round,
            [award],
            paid_on,
            method,
            account,
            received_by=received_by,
            bank_reference=bank_reference,
            description=award.nomination.full_name,
            in_list=False,
        )
    return award


def disburse_list(
    session: Session,
    actor: Actor,
    round_id: int,
    paid_on: date,
    *,
    unit: str | None = None,
    school: str | None = None,
    method: str = "cash",
    account: int | None = None,
) -> list[Award]:
    """Pay every approved, unpaid award of a list (the round's, or a unit's subtree, or a school's) at once: one
    document for the total (a Phiếu chi with the signature sheet as its attachment, or a UNC- record), one ledger
    entry, every award paid under that document's code."""
    require_role(actor, *TREASURY)
    with write_transaction(session):
        round_ = get_round(session, actor, round_id, lock=True)
        query = (
            select(Award)
            .join(Nomination, Nomination.id == Award.nomination_id)
            .join(Unit, Unit.id == Nomination.unit_id)
            .where(Award.round_id == round_.id, Award.status == "approved")
            .order_by(Award.rank, Award.id)
            .with_for_update(of=Award)
        )
        if actor.unit_path is not None:
            query = query.where(Unit.path.startswith(actor.unit_path))
        if unit:
            query = query.where(Unit.path.startswith(visible_unit(session, actor, unit).path))
        awards = list(session.scalars(query))
        if school:
            wanted = " ".join(school.split()).casefold()
            awards = [a for a in awards if " ".join(a.nomination.school.split()).casefold() == wanted]
        if not awards:
            raise Conflict("Không còn suất học bổng nào chờ chi trong danh sách này (nothing left to pay)")
        _pay(
            session,
            actor,
            round_,
            awards,
            paid_on,
            method,
            account,
            received_by="Theo danh sách ký nhận",
            description=f"{round_.name}, {len(awards)} học sinh theo danh sách ký nhận",
            in_list=True,
        )
    return awards


def _pay(
    session: Session,
    actor: Actor,
    round_: Round,
    awards: list[Award],
    paid_on: date,
    method: str,
    account: int | None,
    *,
    received_by: str,
    description: str,
    in_list: bool,
    bank_reference: str | None = None,
) -> None:
    """The one way awards are paid, alone or as a list: the date's checks, the money there in the fund and in the
    paying unit's cash box or bank account, one numbered document and one ledger entry for the total, each award
    paid under that code and its hold released. The payment counts for the unit whose fund and account paid it
    (the round's), not for the pupils' communes."""
    payer = round_.unit
    total = sum(a.amount for a in awards)
    check_books_opened(payer, paid_on, field="paid_on")
    connection = session.connection()
    check_open(connection, payer, paid_on, action="chi")
    _lock_fund(session, round_.fund)
    if balance(session, round_.fund_id) < total:
        raise Conflict("Số dư quỹ không đủ để chi (fund balance too low)")
    if method == "cash":
        account_id, series = cash_account_id(connection, payer), "voucher"
    else:
        account_id, series = bank_account_id(connection, payer, account), "bank_payment"
    require_cover(session, account_id, total, "chi học bổng")
    _book, number = take_number(connection, payer, paid_on, series, field="paid_on")
    code = document_code(payer, paid_on.year, number, series)
    issuer = resolved_identity(identity_chain(session, payer))
    for award in awards:
        before = _award_state(award)
        award.voucher_number, award.voucher_code, award.voucher_issuer = number, code, issuer
        award.paid_from_account_id, award.paid_in_list = account_id, in_list
        award.bank_reference = bank_reference
        award.status, award.paid_on, award.received_by = "paid", paid_on, received_by
        _release(session, award)
        record(session, actor, "award.disburse", "award", award.id, before, _award_state(award), round_.unit_id)
    post_entry(
        session,
        actor,
        fund_id=round_.fund_id,
        unit_id=payer.id,
        account_id=account_id,
        entry_date=paid_on,
        kind="disbursement",
        amount=-total,
        method=method,
        award_id=None if in_list else awards[0].id,
        document_code=code,
        description=f"Chi học bổng {code}: {description}"[:500],
    )


def cancel(session: Session, actor: Actor, award_id: int, reason: str) -> tuple[Award, list[Award]]:
    """Cancel an unpaid award, release its hold and promote, in rank order, the waitlisted pupils that the money
    now fits (within the quotas): the allocation's walk resumed (docs/rules.md)."""
    require_role(actor, *COMMITTEE)
    with write_transaction(session):
        award = get_award(session, actor, award_id, lock=True)
        promoted = cancel_in_transaction(session, actor, award, reason)
    return award, promoted


def cancel_in_transaction(session: Session, actor: Actor, award: Award, reason: str) -> list[Award]:
    """``cancel`` inside the caller's write transaction, of an award it has locked: 409 unless the award is
    approved (a paid one cannot be cancelled); the awards promoted."""
    if award.status != "approved":
        raise Conflict(f"Suất học bổng đang ở trạng thái '{award.status}', không hủy được (award not cancellable)")
    round_ = award.round
    _lock_fund(session, round_.fund)
    before = _award_state(award)
    award.status = "cancelled"
    award.cancelled_at = utcnow()
    award.cancel_reason = reason
    _release(session, award)
    session.flush()
    record(session, actor, "award.cancel", "award", award.id, before, _award_state(award), round_.unit_id)
    return _promote(session, actor, round_)


def _promote(session: Session, actor: Actor, round_: Round) -> list[Award]:
    awards = list(session.scalars(select(Award).where(Award.round_id == round_.id)))
    holding = [a for a in awards if a.status in HELD]
    spent = sum(a.amount for a in holding)
    remaining = min(round_.budget - spent, _available(session, round_.fund))
    # Never promote a pupil twice, one who was withdrawn, or one who now holds an award elsewhere this year.
    excluded = {a.nomination_id for a in awards if a.status == "cancelled"}
    ranked = engine.ranked_entries(round_.ranked)
    candidates = [e["nomination_id"] for e in ranked if e["outcome"] == "waitlisted"]
    if candidates:
        inactive = session.scalars(
            select(Nomination.id).where(Nomination.id.in_(candidates), Nomination.status != "active")
        )
        excluded.update(inactive)
        excluded.update(
            session.scalars(
                select(Award.nomination_id)
                .join(Round, Round.id == Award.round_id)
                .where(
                    Award.nomination_id.in_(candidates),
                    Round.academic_year == round_.academic_year,
                    Round.id != round_.id,
                    Award.status.in_(HELD),
                )
            )
        )
    entries = engine.promote_after_cancel(
        ranked,
        round_.rules,
        awarded_ids=[a.nomination_id for a in holding],
        remaining=max(0, remaining),
        exclude_ids=excluded,
    )
    return [_award_promoted(session, actor, round_, entry) for entry in entries]


def _award_promoted(session: Session, actor: Actor, round_: Round, entry: dict) -> Award:
    award = Award(
        round=round_,
        nomination_id=entry["nomination_id"],
        amount=entry["amount"],
        rank=entry["rank"],
        score=entry["score"],
        tier=entry.get("tier"),
        status="approved",
        promoted=True,
    )
    session.add(award)
    session.flush()
    _reserve(session, award, round_.fund)
    record(
        session,
        actor,
        "award.promote",
        "award",
        award.id,
        None,
        {**_award_state(award), "rank": award.rank, "promoted": True},
        round_.unit_id,
    )
    return award


def current_result(session: Session, round_: Round) -> dict | None:
    """The round's result as it stands now: the stored allocation, with what happened to its awards since
    approval (cancelled ones moved to `cancelled`, promoted ones from `waitlisted` to `awarded`, `allocated`
    and `remaining` from the awards held). Before approval it is the stored allocation itself."""
    result = round_.result
    if not result or round_.status != "approved":
        return result
    status = dict(session.execute(select(Award.nomination_id, Award.status).where(Award.round_id == round_.id)).all())
    ranked = sorted(result["awarded"] + result["waitlisted"], key=lambda e: e["rank"])
    held = [e for e in ranked if status.get(e["nomination_id"]) in HELD]
    allocated = sum(e["amount"] for e in held)
    start = result["allocated"] + result["remaining"]
    return {
        **result,
        "allocated": allocated,
        "remaining": start - allocated,
        "awarded": [{**e, "promoted": e.get("reason") is not None} for e in held],
        "waitlisted": [e for e in ranked if e["nomination_id"] not in status],
        "cancelled": [e for e in ranked if status.get(e["nomination_id"]) == "cancelled"],
    }


RESULT_LISTS = ("awarded", "waitlisted", "cancelled", "ineligible")  # current_result's lists of entries
RANKED_LISTS = ("awarded", "waitlisted", "cancelled")  # those in rank order: together, the whole ranking


def standings(session: Session, actor: Actor, nomination: Nomination) -> list[dict]:
    """Where one nomination stands in the rounds of its academic year that have run (in the actor's scope, newest
    first), as their pages show it (``current_result``): {"round", "outcome" (the list it is in), "entry" (its entry
    there; reasons redacted for a reader who does not see pupils' data), "ranked_count"}; for the committee also
    "explanation" (``explain``'s, on the current data) and "as_decided" (whether that explanation is the one of the
    decision: same rank and score, or the same reasons; not when the nomination changed since the allocation)."""
    query = rounds_query(actor, academic_year=nomination.academic_year).where(Round.status != "draft")
    out = []
    for round_ in session.scalars(query).unique():
        result = current_result(session, round_)
        if not result:
            continue
        if not actor.sees_personal_data:
            result = redact_allocation(result)
        for outcome in RESULT_LISTS:
            entry = next((e for e in result.get(outcome) or [] if e["nomination_id"] == nomination.id), None)
            if entry is not None:
                ranked_count = sum(len(result.get(name) or []) for name in RANKED_LISTS)
                out.append({"round": round_, "outcome": outcome, "entry": entry, "ranked_count": ranked_count})
                break
    if actor.has_role(*COMMITTEE):
        for standing in out:
            x = explain(session, actor, standing["round"].id, nomination.id)
            standing["explanation"], standing["as_decided"] = x, _same_decision(standing["entry"], x)
    return out


def _same_decision(entry: dict, x: dict) -> bool:
    """Whether an explanation on the current data accounts for a stored entry of the result."""
    if "rank" in entry:
        return (x["rank"], x["score"]) == (entry["rank"], entry["score"])
    return x["outcome"] == "ineligible" and x["reasons"] == entry.get("reasons")


def nomination_awards(session: Session, nomination_id: int) -> list[Award]:
    """Every award of a nomination (any status), oldest first, with its round."""
    query = (
        select(Award)
        .where(Award.nomination_id == nomination_id)
        .options(joinedload(Award.round).joinedload(Round.unit))
        .order_by(Award.id)
    )
    return list(session.scalars(query))


def explain(session: Session, actor: Actor, round_id: int, nomination_id: int) -> dict:
    """Why one pupil got an award, was waitlisted or was ineligible, on the current data."""
    require_role(actor, *COMMITTEE)
    round_ = get_round(session, actor, round_id)
    facts = nomination_facts(session, round_)
    try:
        return engine.explain(facts, **_engine_arguments(session, round_), nomination_id=nomination_id)
    except engine.NominationNotFound as error:
        raise NotFound(
            f"Hồ sơ {nomination_id} không thuộc năm học của đợt xét (nomination not in this round)"
        ) from error


def lists_to_pay(session: Session, actor: Actor, round_id: int) -> list[dict]:
    """The round's schools with awards approved and not yet paid (in the actor's scope): what a ceremony can pay at
    once with POST /rounds/{id}/disburse, in the order of the names."""
    get_round(session, actor, round_id)
    query = (
        select(Nomination.school, func.count(), func.sum(Award.amount))
        .join(Nomination, Nomination.id == Award.nomination_id)
        .join(Unit, Unit.id == Nomination.unit_id)
        .where(Award.round_id == round_id, Award.status == "approved")
        .group_by(Nomination.school)
        .order_by(Nomination.school)
    )
    if actor.unit_path is not None:
        query = query.where(Unit.path.startswith(actor.unit_path))
    return [{"school": school, "count": count, "amount": int(total)} for school, count, total in session.execute(query)]


def round_totals(session: Session, round_id: int) -> dict:
    """Counts and sums of the round's awards by status."""
    rows = session.execute(
        select(Award.status, func.count(), func.sum(Award.amount))
        .where(Award.round_id == round_id)
        .group_by(Award.status)
    )
    return {status: {"count": count, "amount": int(total or 0)} for status, count, total in rows}
