"""/api/v1/accounts/{id}/statements and /api/v1/statement-lines: a bank statement imported, matched, confirmed."""

from marshmallow import fields, validate

from fundsvc.api import Blueprint, current_actor, paginate
from fundsvc.bank import reconciliation
from fundsvc.bank import statement_service as service
from fundsvc.bank.models import STATEMENT_LINE_STATUSES
from fundsvc.documents.words import today_in_vietnam
from fundsvc.errors import Invalid
from fundsvc.extensions import db
from fundsvc.schemas import MAX_ID, StrictSchema, Text
from fundsvc.students.schemas import ImportFile
from fundsvc.units.schemas import CODE

blp = Blueprint("statements", __name__, url_prefix="/api/v1", description="Bank statements and their matching")


class ImportedOut(StrictSchema):
    import_id = fields.Integer()
    lines = fields.Integer()
    new = fields.Integer()
    duplicates = fields.Integer()
    matched = fields.Integer()
    suggested = fields.Integer()
    unmatched = fields.Integer()
    # The balances the file printed (null when it printed none) and closing − (opening + in − out): 0 when it adds
    # up, null when it cannot be checked; a gap is explained in `warnings` (the import is stored all the same).
    opening_balance = fields.Integer(allow_none=True)
    closing_balance = fields.Integer(allow_none=True)
    money_in = fields.Integer()
    money_out = fields.Integer()
    balance_gap = fields.Integer(allow_none=True)
    warnings = fields.List(fields.String())


class LineArgs(StrictSchema):
    status = fields.String(validate=validate.OneOf(STATEMENT_LINE_STATUSES))


def _suggestion(line):
    if line.status != "suggested":
        return None
    for kind, value in (("pledge", line.suggested_pledge_id), ("donor", line.suggested_donor_id)):
        if value:
            return {kind: value, "why": line.why}
    return {"why": line.why}


class LineOut(StrictSchema):
    id = fields.Integer()
    date = fields.Date(attribute="line_date")
    amount = fields.Integer()
    direction = fields.String()
    description = fields.String()
    bank_reference = fields.String()
    status = fields.String()
    suggestion = fields.Function(_suggestion)
    donation = fields.Integer(attribute="donation_id")
    ignore_reason = fields.String()


class ConfirmIn(StrictSchema):
    donor = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID))
    fund = fields.String(validate=CODE)
    purpose = Text(500)


class IgnoreIn(StrictSchema):
    reason = Text(500, required=True)


@blp.post("/accounts/<int:account_id>/statements")
@blp.arguments(ImportFile, location="files")
@blp.response(200, ImportedOut)
def import_statement(files, account_id):
    """Import a bank's statement export (.xlsx or .csv): all lines or none; lines already imported are skipped."""
    upload = files["file"]
    if not getattr(upload, "filename", None):
        raise Invalid("Cần tệp .xlsx hoặc .csv (file required)", {"file": ["required"]})
    return service.import_statement(db.session, current_actor(), account_id, upload.read(), upload.filename)


@blp.get("/accounts/<int:account_id>/statement-lines")
@blp.arguments(LineArgs, location="query")
@blp.response(200, LineOut(many=True))
@blp.paginate(max_page_size=1000)
def list_lines(args, account_id, pagination_parameters):
    """The account's statement lines, newest first, with what each was matched to or the suggestion and its reason."""
    query = service.statement_lines(db.session, current_actor(), account_id, args.get("status"))
    return paginate(query, pagination_parameters)


@blp.post("/statement-lines/<int:line_id>/confirm")
@blp.arguments(ConfirmIn)
@blp.response(200, LineOut)
def confirm_line(data, line_id):
    """Record the gift the line is (the suggested donor or pledge, or the donor given)."""
    return service.confirm_line(db.session, current_actor(), line_id, data)


@blp.post("/statement-lines/<int:line_id>/ignore")
@blp.arguments(IgnoreIn)
@blp.response(200, LineOut)
def ignore_line(data, line_id):
    """Set the line aside, with the reason."""
    return service.ignore_line(db.session, current_actor(), line_id, data["reason"])


class ReconciliationArgs(StrictSchema):
    on = fields.Date()


class EntryOut(StrictSchema):
    id = fields.Integer()
    date = fields.Date(attribute="entry_date")
    amount = fields.Integer()
    document_code = fields.String()
    description = fields.String()
    donation = fields.Integer(attribute="donation_id")
    movement = fields.Integer(attribute="movement_id")


class UnmatchedLinesOut(StrictSchema):
    count = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(LineOut))


class UnbookedOut(StrictSchema):
    count = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(EntryOut))


class ReconciliationOut(StrictSchema):
    on = fields.Date()
    bank_balance = fields.Integer()
    bank_balance_on = fields.Date()
    book_balance = fields.Integer()
    difference = fields.Integer()
    unmatched_lines = fields.Nested(UnmatchedLinesOut)
    unbooked_movements = fields.Nested(UnbookedOut)
    unexplained = fields.Integer()


@blp.get("/accounts/<int:account_id>/reconciliation")
@blp.arguments(ReconciliationArgs, location="query")
@blp.response(200, ReconciliationOut)
def reconcile(args, account_id):
    """The bank's balance on its last statement line up to `on` (default today) against the books' balance, the
    difference explained by the lines not in the books and the book entries not on the statement."""
    on = args.get("on") or today_in_vietnam()
    return reconciliation.reconcile(db.session, current_actor(), account_id, on)
