"""A round's last allocation as its page reads it: a summary and one row per decision, not the whole result.

A province's result is 10.8 MB of JSON (100,000 entries); the round's page shows the figures and 200 entries of one
list. So each allocation also stores the result's summary (allocated, remaining, each list's count) on the round and
its entries one row each (RoundDecision: list, place, nomination, rank, amount, the entry's JSON), and the page reads
the summary and one page of rows. The rows are written before the round names them, a batch per write transaction,
and those it no longer names are deleted after, likewise: on SQLite no gift waits seconds behind them.

After approval the lists are those of `current_result`, the reference kept for explanation and tests: an award
cancelled is moved from `awarded` to `cancelled`, a pupil promoted from `waitlisted` to `awarded` (marked
`promoted`), and allocated and remaining follow the awards held; here from the round's awards by status and one
page of its awards (or of its waitlist less the awards) with their decisions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import orjson
from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.orm import Session

from fundsvc.allocation.models import AWARD_STATUSES, HELD, Award, Round, RoundDecision
from fundsvc.db import write_transaction
from fundsvc.errors import Conflict
from fundsvc.privacy import redact_entries

OUTCOMES = ("awarded", "waitlisted", "ineligible")


# Rows a write transaction writes or deletes: on SQLite every other writer (every gift) waits while one runs, and a
# province's 100,000 decisions in one would hold the lock for seconds.
BATCH = 5000


def summary_of(result: dict, allocation: int) -> dict:
    """What the round's page shows of a result besides its entries, and the key of its decisions."""
    return {
        "allocation": allocation,
        "allocated": result["allocated"],
        "remaining": result["remaining"],
        "counts": {outcome: len(result[outcome]) for outcome in OUTCOMES},
    }


def new_allocation() -> int:
    """A key for the decisions of an allocation about to be stored (random: two allocations of a round written at
    once must not share one; `check_complete` refuses the second if they ever did)."""
    return secrets.randbelow(2**31 - 2) + 1


def decision_rows(round_id: int, allocation: int, result: dict) -> list[dict]:
    """The result's entries as RoundDecision rows, each list in its order."""
    return [
        {
            "round_id": round_id,
            "allocation": allocation,
            "outcome": outcome,
            "position": position,
            "nomination_id": entry["nomination_id"],
            "rank": entry.get("rank"),
            "amount": entry.get("amount"),
            "entry": orjson.dumps(entry).decode(),
        }
        for outcome in OUTCOMES
        for position, entry in enumerate(result[outcome])
    ]


def write(session: Session, rows: list[dict]) -> None:
    """Store an allocation's decisions before the round names them, a batch per write transaction."""
    for start in range(0, len(rows), BATCH):
        with write_transaction(session):
            session.execute(insert(RoundDecision), rows[start : start + BATCH])


def check_complete(session: Session, round_id: int, allocation: int, rows: int) -> None:
    """In the transaction that makes `allocation` the round's: 409 unless all its decisions are there (another
    allocation of the round finishing meanwhile discards what is not its own)."""
    stored = session.scalar(
        select(func.count()).where(RoundDecision.round_id == round_id, RoundDecision.allocation == allocation)
    )
    if stored != rows:
        raise Conflict("Đợt xét vừa được phân bổ ở nơi khác; hãy chạy lại (round allocated twice at once; run again)")


def discard_others(session: Session, round_id: int) -> None:
    """Delete the decisions of the round's allocations other than the one it names (replaced, or never made
    current), a batch per write transaction."""
    summary = session.scalar(select(Round.result_summary).where(Round.id == round_id))
    current = summary["allocation"] if summary else None
    others = session.execute(
        select(RoundDecision.allocation, RoundDecision.outcome, func.max(RoundDecision.position))
        .where(RoundDecision.round_id == round_id, RoundDecision.allocation != current)
        .group_by(RoundDecision.allocation, RoundDecision.outcome)
    ).all()
    for allocation, outcome, last in others:
        for start in range(0, last + 1, BATCH):
            with write_transaction(session):
                session.execute(
                    delete(RoundDecision).where(
                        RoundDecision.round_id == round_id,
                        RoundDecision.allocation == allocation,
                        RoundDecision.outcome == outcome,
                        RoundDecision.position >= start,
                        RoundDecision.position < start + BATCH,
                    )
                )


@dataclass(frozen=True)
class ResultPage:
    """The round's result as its page shows it: the figures, each list's count, and one page of one list."""

    allocated: int
    remaining: int
    counts: dict[str, int]  # list -> entries, in the order the page shows the lists
    entries: list[dict]
    number: int  # the page's, from 1 (the last when asked past it)
    pages: int


def result_page(
    session: Session, round_: Round, tab: str, number: int, size: int, *, personal: bool
) -> ResultPage | None:
    """Page `number` (from 1) of list `tab`, `size` entries a page; None before the first allocation. An entry's
    reasons are redacted unless `personal` (privacy.redact_entries)."""
    summary = round_.result_summary
    if summary is None:
        return None
    approved = round_.status == "approved"
    if approved:
        allocated, counts = _approved_figures(session, round_, summary)
        remaining = summary["allocated"] + summary["remaining"] - allocated
    else:
        allocated, remaining, counts = summary["allocated"], summary["remaining"], dict(summary["counts"])
    pages = max(1, -(-counts.get(tab, 0) // size))
    number = min(max(1, number), pages)
    offset = (number - 1) * size
    entries = (
        _approved_entries(session, round_, tab, offset, size)
        if approved
        else _entries(session, round_, tab, offset, size)
    )
    return ResultPage(allocated, remaining, counts, entries if personal else redact_entries(entries), number, pages)


def _of(round_: Round):
    """The conditions of the round's current decisions."""
    return (RoundDecision.round_id == round_.id, RoundDecision.allocation == round_.result_summary["allocation"])


def _entries(session: Session, round_: Round, tab: str, offset: int, limit: int) -> list[dict]:
    """A page of one of the result's lists as stored."""
    rows = session.scalars(
        select(RoundDecision.entry)
        .where(*_of(round_), RoundDecision.outcome == tab)
        .order_by(RoundDecision.position)
        .offset(offset)
        .limit(limit)
    )
    return [orjson.loads(text) for text in rows]


def _approved_figures(session: Session, round_: Round, summary: dict) -> tuple[int, dict[str, int]]:
    """(the money of the awards held, each list's count) of an approved round, from its awards by status: every
    awarded entry got an award at approval and every promoted one since, each for its entry's amount, so the
    waitlist is the ranked entries less the awards."""
    by_status = dict.fromkeys(AWARD_STATUSES, (0, 0))
    query = select(Award.status, func.count(), func.coalesce(func.sum(Award.amount), 0))
    for status, count, amount in session.execute(query.where(Award.round_id == round_.id).group_by(Award.status)):
        by_status[status] = (int(count), int(amount))
    counts = summary["counts"]
    held = [by_status[status] for status in HELD]
    awards = sum(count for count, _amount in by_status.values())
    return sum(amount for _count, amount in held), {
        "awarded": sum(count for count, _amount in held),
        "waitlisted": counts["awarded"] + counts["waitlisted"] - awards,
        "ineligible": counts["ineligible"],
        "cancelled": by_status["cancelled"][0],
    }


def _approved_entries(session: Session, round_: Round, tab: str, offset: int, limit: int) -> list[dict]:
    """A page of an approved round's list as current_result makes it: the awards held (or cancelled) in rank order
    with their entries, the waitlisted entries without an award, the ineligible ones as stored."""
    if tab == "ineligible":
        return _entries(session, round_, tab, offset, limit)
    if tab == "waitlisted":
        awarded = select(Award.id).where(
            Award.round_id == RoundDecision.round_id, Award.nomination_id == RoundDecision.nomination_id
        )
        query = (
            select(RoundDecision.entry)
            .where(*_of(round_), RoundDecision.outcome == "waitlisted", ~awarded.exists())
            .order_by(RoundDecision.rank)
        )
    else:
        statuses = HELD if tab == "awarded" else ("cancelled",)
        query = (
            select(RoundDecision.entry)
            .join(
                Award,
                and_(Award.round_id == RoundDecision.round_id, Award.nomination_id == RoundDecision.nomination_id),
            )
            .where(*_of(round_), Award.status.in_(statuses))
            .order_by(Award.rank, Award.id)
        )
    entries = [orjson.loads(text) for text in session.scalars(query.offset(offset).limit(limit))]
    if tab == "awarded":  # as current_result marks them: taken from the waitlist, which gave the reason
        for entry in entries:
            entry["promoted"] = entry.get("reason") is not None
    return entries
