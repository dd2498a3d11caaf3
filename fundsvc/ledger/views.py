"""/api/v1/funds"""

from flask import request, url_for

from fundsvc.api import Blueprint, current_actor, json_answer
from fundsvc.extensions import db
from fundsvc.ledger import service
from fundsvc.ledger.schemas import (
    FundIn,
    FundOut,
    FundPatchIn,
    LedgerArgs,
    LedgerOut,
    ledger_cursor,
    ledger_document,
)

blp = Blueprint("funds", __name__, url_prefix="/api/v1/funds", description="Funds and their ledgers")


@blp.get("")
@blp.response(200, FundOut(many=True))
def list_funds():
    """Funds visible to you, with balance, reserved and available."""
    return service.list_positions(db.session, current_actor())


@blp.post("")
@blp.arguments(FundIn)
@blp.response(201, FundOut)
def create_fund(data):
    """Create a fund owned by a unit, optionally restricted by a condition (docs/rules.md)."""
    fund = service.create_fund(db.session, current_actor(), data)
    return service.position(db.session, fund)


@blp.patch("/<code>")
@blp.arguments(FundPatchIn)
@blp.response(200, FundOut)
def update_fund(data, code):
    """Rename a fund, change its restriction or make it its unit's default fund (admin)."""
    fund = service.update_fund(db.session, current_actor(), code, data)
    return service.position(db.session, fund)


@blp.get("/<code>/ledger")
@blp.arguments(LedgerArgs, location="query")
@blp.response(200, LedgerOut)
def fund_ledger(args, code):
    """The fund's entries in a period, oldest first, each with its running balance, `limit` at a time (1,000
    unless asked, at most 5,000); `next` links the page after (keyset: `after` the last entry's DATE.ID). The
    period's balances, totals and count are the whole period's on every page.

    For a fund owned above your unit, only the entries of your subtree.
    """
    actor = current_actor()
    fund = service.get_fund(db.session, actor, code)
    page = service.ledger_page(
        db.session,
        fund,
        args.get("date_from"),
        args.get("date_to"),
        within=actor.unit_path,
        after=args.get("after"),
        limit=args["limit"],
    )
    following = None
    if page.next_after is not None:
        following = url_for(request.endpoint, code=code, **{**request.args, "after": ledger_cursor(page.next_after)})
    answer = {
        "fund": fund.code,
        "opening_balance": page.opening_balance,
        "closing_balance": page.closing_balance,
        "total_in": page.total_in,
        "total_out": page.total_out,
        "entry_count": page.entry_count,
        "entries": page.lines,
        "next": following,
    }
    return json_answer(ledger_document(answer))
