"""/api/v1/funds"""

from fundsvc.api import Blueprint, current_actor
from fundsvc.extensions import db
from fundsvc.ledger import service
from fundsvc.ledger.schemas import FundIn, FundOut, FundPatchIn, LedgerArgs, LedgerOut

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
    """The fund's entries in a period, oldest first, each with its running balance.

    For a fund owned above your unit, only the entries of your subtree.
    """
    actor = current_actor()
    fund = service.get_fund(db.session, actor, code)
    opening, lines = service.statement(
        db.session, fund, args.get("date_from"), args.get("date_to"), within=actor.unit_path
    )
    closing = lines[-1].running_balance if lines else opening
    return {"fund": fund.code, "opening_balance": opening, "closing_balance": closing, "entries": lines}
