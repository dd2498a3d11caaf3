"""A round's last allocation as its page reads it: a summary and one row per decision, not the whole result.

A province's result is 10.8 MB of JSON (100,000 entries); the round's page shows the figures and 200 entries of one
list. So each allocation also stores the result's summary (allocated, remaining, each list's count) on the round and
its entries one row each (RoundDecision: list, place, nomination, rank, amount, the entry's JSON), and the page reads
the summary and one page of rows. After approval the lists are those of `current_result`, the reference kept for
explanation and tests: an award cancelled is moved from `awarded` to `cancelled`, a pupil promoted from `waitlisted`
to `awarded` (marked `promoted`), and allocated and remaining follow the awards held; here by one aggregate and one
page of a join of the decisions with the round's awards.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, and_, case, delete, func, insert, select
from sqlalchemy.orm import Session

from fundsvc.allocation.models import HELD, Award, Round, RoundDecision
from fundsvc.privacy import redact_entries

OUTCOMES = ("awarded", "waitlisted", "ineligible")
# The lists of an approved round, as current_result makes them.
APPROVED_LISTS = ("awarded", "waitlisted", "ineligible", "cancelled")


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
        allocated, counts = _approved_figures(session, round_)
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
    rows = session.scalars(
        select(RoundDecision.entry)
        .where(RoundDecision.round_id == round_.id, RoundDecision.outcome == tab)
        .order_by(RoundDecision.position)
        .offset(offset)
        .limit(limit)
    )
    return [orjson.loads(text) for text in rows]


# An approved round's decisions with their awards, and the list each is in now.
_AWARDS = Award.__table__
_WITH_AWARDS = select(RoundDecision.entry).outerjoin(
    _AWARDS, and_(_AWARDS.c.round_id == RoundDecision.round_id, _AWARDS.c.nomination_id == RoundDecision.nomination_id)
)
_NOW_IN = case(
    (RoundDecision.outcome == "ineligible", "ineligible"),
    (_AWARDS.c.status.in_(HELD), "awarded"),
    (_AWARDS.c.status == "cancelled", "cancelled"),
    else_="waitlisted",
)


def _approved_figures(session: Session, round_: Round) -> tuple[int, dict[str, int]]:
    """(the money of the awards held, each list's count), in one aggregate."""
    counts, allocated = dict.fromkeys(APPROVED_LISTS, 0), 0
    query = _WITH_AWARDS.with_only_columns(_NOW_IN, func.count(), func.coalesce(func.sum(RoundDecision.amount), 0))
    for now_in, count, amount in session.execute(query.where(RoundDecision.round_id == round_.id).group_by(_NOW_IN)):
        counts[now_in] = int(count)
        if now_in == "awarded":
            allocated = int(amount)
    return allocated, counts


def _approved_entries(session: Session, round_: Round, tab: str, offset: int, limit: int) -> list[dict]:
    order = RoundDecision.position if tab == "ineligible" else RoundDecision.rank
    rows = session.scalars(
        _WITH_AWARDS.where(RoundDecision.round_id == round_.id, _NOW_IN == tab)
        .order_by(order)
        .offset(offset)
        .limit(limit)
    )
    entries = [orjson.loads(text) for text in rows]
    if tab == "awarded":  # as current_result marks them: taken from the waitlist, which gave the reason
        for entry in entries:
            entry["promoted"] = entry.get("reason") is not None
    return entries
