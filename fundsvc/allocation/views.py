"""/api/v1/rounds, /api/v1/awards, /api/v1/rules/presets"""

from flask import Response

from fundsvc.allocation import service
from fundsvc.allocation.rules import PRESETS
from fundsvc.allocation.schemas import (
    AllocationOut,
    AwardArgs,
    AwardOut,
    CancelIn,
    CancelOut,
    DisbursedListOut,
    DisburseIn,
    DisburseListIn,
    RoundArgs,
    RoundIn,
    RoundOut,
    award_document,
)
from fundsvc.api import Blueprint, current_actor, json_answer, paginate
from fundsvc.extensions import db

# A page of awards unless asked for fewer: a commune's round whole, a province's in pages.
AWARDS_PAGE = 1000
blp = Blueprint("rounds", __name__, url_prefix="/api/v1", description="Scholarship rounds, allocation and awards")


@blp.post("/rounds")
@blp.arguments(RoundIn)
@blp.response(201, RoundOut)
def create_round(data):
    """Create a round (status draft) with its rules (docs/rules.md); bad rules → 422 naming the JSON path."""
    return service.create_round(db.session, current_actor(), data)


@blp.get("/rounds")
@blp.arguments(RoundArgs, location="query")
@blp.response(200, RoundOut(many=True))
@blp.paginate(max_page_size=1000)
def list_rounds(args, pagination_parameters):
    """Rounds of your scope, newest first."""
    return paginate(service.rounds_query(current_actor(), **args), pagination_parameters)


@blp.get("/rounds/<int:round_id>")
@blp.response(200, RoundOut)
def get_round(round_id):
    """One round."""
    return service.get_round(db.session, current_actor(), round_id)


@blp.post("/rounds/<int:round_id>/allocate")
@blp.response(200, AllocationOut)
def allocate(round_id):
    """Rank the nominations by the round's rules and allocate within budget and quotas (re-runnable until approved)."""
    return _allocation_response(service.allocate_json(db.session, current_actor(), round_id))


@blp.get("/rounds/<int:round_id>/allocation")
@blp.response(200, AllocationOut)
def allocation(round_id):
    """The round's last allocation result."""
    return _allocation_response(service.stored_result_json(db.session, current_actor(), round_id))


def _allocation_response(text: bytes) -> Response:
    # The service hands back the result already encoded as JSON (the text it stores): dumping a province's
    # 100,000 entries through AllocationOut again would cost more than the allocation. The schema stays
    # on the routes for the OpenAPI document.
    return Response(text, mimetype="application/json")


@blp.post("/rounds/<int:round_id>/approve")
@blp.response(200, RoundOut)
def approve(round_id):
    """Approve: awards created and their total reserved on the fund (409 if it no longer covers them)."""
    return service.approve(db.session, current_actor(), round_id)


@blp.get("/rounds/<int:round_id>/awards")
@blp.arguments(AwardArgs, location="query")
@blp.response(200, AwardOut(many=True))
@blp.paginate(page_size=AWARDS_PAGE, max_page_size=AWARDS_PAGE)
def list_awards(args, round_id, pagination_parameters):
    """The round's awards in rank order, by status; `q` finds a piece of the pupil's name, school or pupil code.
    1,000 a page (`page`, `page_size`; the `X-Pagination` header tells the total and the next page)."""
    query = service.awards_query(db.session, current_actor(), round_id, **args)
    page = paginate(query, pagination_parameters, rows=service.AWARD_ROWS)
    return json_answer([award_document(award) for award in page])


@blp.get("/rounds/<int:round_id>/explain/<int:nomination_id>")
@blp.response(200)
def explain(round_id, nomination_id):
    """Why this pupil was awarded, waitlisted or ineligible: conditions with values, score terms, rank, limits."""
    return service.explain(db.session, current_actor(), round_id, nomination_id)


@blp.get("/awards/<int:award_id>")
@blp.response(200, AwardOut)
def get_award(award_id):
    """One award."""
    return service.get_award(db.session, current_actor(), award_id)


@blp.post("/awards/<int:award_id>/disburse")
@blp.arguments(DisburseIn)
@blp.response(200, AwardOut)
def disburse(data, award_id):
    """Pay the award: a ledger debit and a payment voucher (Phiếu chi)."""
    return service.disburse(
        db.session,
        current_actor(),
        award_id,
        data["paid_on"],
        data["received_by"],
        method=data["method"],
        account=data.get("account"),
        bank_reference=data.get("bank_reference"),
    )


@blp.post("/rounds/<int:round_id>/disburse")
@blp.arguments(DisburseListIn)
@blp.response(200, DisbursedListOut)
def disburse_list(data, round_id):
    """Pay a whole list at once (the round, a unit's or a school's awards): one Phiếu chi for the total, with the
    signature sheet as its attachment."""
    awards = service.disburse_list(
        db.session,
        current_actor(),
        round_id,
        data["paid_on"],
        unit=data.get("unit"),
        school=data.get("school"),
        method=data["method"],
        account=data.get("account"),
    )
    return {
        "voucher_code": awards[0].voucher_code,
        "count": len(awards),
        "amount": sum(a.amount for a in awards),
        "awards": [a.id for a in awards],
    }


@blp.post("/awards/<int:award_id>/cancel")
@blp.arguments(CancelIn)
@blp.response(200, CancelOut)
def cancel(data, award_id):
    """Cancel an unpaid award; the waitlisted pupils that the money now fits are promoted in rank order, within
    the quotas (`promoted`, a list, empty when none fits)."""
    award, promoted = service.cancel(db.session, current_actor(), award_id, data["reason"])
    return {"award": award, "promoted": promoted}


@blp.get("/rules/presets")
@blp.response(200)
def presets():
    """Ready rule sets to start a round from: khuyen_hoc and khuyen_tai."""
    return PRESETS
