"""A round's last allocation as its page reads it: a summary and one row per decision, not the whole result.

A province's result is 10.8 MB of JSON (100,000 entries); the round's page shows the figures and 200 entries of one
list. So each allocation also stores the result's summary (allocated, remaining, each list's count) on the round and
its entries one row each (RoundDecision: list, place, nomination, rank, amount, the entry's JSON), and the page reads
the summary and one page of rows. After approval the lists are those of `current_result`, the reference kept for
explanation and tests: an award cancelled is moved from `awarded` to `cancelled`, a pupil promoted from `waitlisted`
to `awarded` (marked `promoted`), and allocated and remaining follow the awards held; here from the round's awards
by status and one page of its awards (or of its waitlist less the awards) with their decisions.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, and_, delete, func, insert, select
from sqlalchemy.orm import Session

from fundsvc.allocation.models import AWARD_STATUSES, HELD, Award, Round, RoundDecision
from fundsvc.privacy import redact_entries

OUTCOMES = ("awarded", "waitlisted", "ineligible")


def summary_of(result: dict) -> dict:
    """What the round's page shows of a result besides its entries."""
    return {
        "allocated": result["allocated"],
        "remaining": result["remaining"],
        "counts": {outcome: len(result[outcome]) for outcome in OUTCOMES},
    }


def decision_rows(round_id: int, result: dict) -> list[dict]:
    """The result's entries as RoundDecision rows, each list in its order."""
    return [
        {
            "round_id": round_id,
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


def store(connection: Connection, round_id: int, rows: list[dict]) -> None:
    """Replace the round's decisions by `rows` (decision_rows, made before the caller's write transaction: on SQLite
    every other writer waits while it runs), in the caller's transaction."""
    connection.execute(delete(RoundDecision).where(RoundDecision.round_id == round_id))
    if rows:
        connection.execute(insert(RoundDecision), rows)


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


def _entries(session: Session, round_: Round, tab: str, offset: int, limit: int) -> list[dict]:
    """A page of one of the result's lists as stored."""
    rows = session.scalars(
        select(RoundDecision.entry)
        .where(RoundDecision.round_id == round_.id, RoundDecision.outcome == tab)
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
            .where(RoundDecision.round_id == round_.id, RoundDecision.outcome == "waitlisted", ~awarded.exists())
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
            .where(Award.round_id == round_.id, Award.status.in_(statuses))
            .order_by(Award.rank, Award.id)
        )
    entries = [orjson.loads(text) for text in session.scalars(query.offset(offset).limit(limit))]
    if tab == "awarded":  # as current_result marks them: taken from the waitlist, which gave the reason
        for entry in entries:
            entry["promoted"] = entry.get("reason") is not None
    return entries
