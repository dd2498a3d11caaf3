"""/api/v1/movements: opening balances, other income, expenses, transfers, adjustments."""

from flask import request

from fundsvc.api import Blueprint, current_actor, paginate
from fundsvc.documents import movement_documents
from fundsvc.documents.views import pdf_response
from fundsvc.documents.views import settings as document_settings
from fundsvc.extensions import db
from fundsvc.idempotency import IDEMPOTENCY_HEADER_DOC, check_key, request_fingerprint
from fundsvc.ledger import in_kind, movements
from fundsvc.ledger.movement_schemas import (
    CategoryIn,
    CategoryOut,
    HandOutIn,
    InKindEntryOut,
    MovementArgs,
    MovementIn,
    MovementOut,
    MovementsOut,
    MovementVoidIn,
)

blp = Blueprint(
    "movements", __name__, url_prefix="/api/v1/movements", description="Every movement besides gifts and awards"
)


@blp.post("")
@blp.arguments(MovementIn)
@blp.response(201, MovementsOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER_DOC])
def record_movement(data):
    """Record a movement with its document; a transfer answers both sides (the paying side first).

    With an `Idempotency-Key` header, repeating the same request returns the first answer and records nothing.
    """
    key = check_key(request.headers.get("Idempotency-Key"))
    fingerprint = request_fingerprint(request.get_json(silent=True)) if key is not None else None
    recorded, _replayed = movements.record_movement(
        db.session, current_actor(), data, idempotency_key=key, fingerprint=fingerprint
    )
    return {"movements": recorded}


@blp.get("")
@blp.arguments(MovementArgs, location="query")
@blp.response(200, MovementOut(many=True))
@blp.paginate(max_page_size=1000)
def list_movements(args, pagination_parameters):
    """Movements in your scope, oldest first."""
    query = movements.movements_query(
        db.session,
        current_actor(),
        unit=args.get("unit"),
        fund=args.get("fund"),
        account=args.get("account"),
        kind=args.get("kind"),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
    )
    return paginate(query, pagination_parameters)


@blp.get("/categories")
@blp.response(200, CategoryOut(many=True))
def list_categories():
    """The categories of other income and of expenses."""
    current_actor()
    return movements.list_categories(db.session)


@blp.post("/categories")
@blp.arguments(CategoryIn)
@blp.response(201, CategoryOut)
def add_category(data):
    """Add a category of income or expense (admin)."""
    return movements.add_category(db.session, current_actor(), data)


@blp.get("/<int:movement_id>")
@blp.response(200, MovementOut)
def get_movement(movement_id):
    return movements.get_movement(db.session, current_actor(), movement_id)


@blp.get("/<int:movement_id>/document.pdf")
@blp.response(200, content_type="application/pdf")
def movement_document(movement_id):
    """The movement's numbered document in the layout of its series: Phiếu thu (cash in), Phiếu chi (cash out),
    Ủy nhiệm chi (UNC-, bank out), Phiếu kế toán (BC- bank in, DK- opening balance, DC- adjustment)."""
    data = movement_documents.movement_pdf(db.session, current_actor(), movement_id, document_settings())
    return pdf_response(data, f"chung-tu-{movement_id}.pdf")


@blp.post("/<int:movement_id>/void")
@blp.arguments(MovementVoidIn)
@blp.response(200, MovementsOut)
def void_movement(data, movement_id):
    """Void a movement in its own period (both sides of a transfer)."""
    return {"movements": movements.void_movement(db.session, current_actor(), movement_id, data["reason"])}


in_kind_blp = Blueprint("in_kind", __name__, url_prefix="/api/v1/in-kind", description="Goods handed out")


@in_kind_blp.post("/<int:donation_id>/hand-out")
@in_kind_blp.arguments(HandOutIn)
@in_kind_blp.response(201, InKindEntryOut)
def hand_out(data, donation_id):
    """Hand out some or all of a gift of goods, with its numbered record (HVX- series)."""
    return in_kind.hand_out(db.session, current_actor(), donation_id, data)
