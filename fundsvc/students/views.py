"""/api/v1/nominations"""

from io import BytesIO

from flask import send_file

from fundsvc.api import Blueprint, current_actor, paginate
from fundsvc.errors import Invalid
from fundsvc.extensions import db
from fundsvc.messages import said
from fundsvc.privacy import nomination_seen_by
from fundsvc.students import service, withdrawal
from fundsvc.students.schemas import (
    ImportFile,
    ImportForm,
    ImportOut,
    NominationArgs,
    NominationOut,
    NominationPatch,
    WithdrawIn,
)
from fundsvc.students.spreadsheet import write_template_xlsx

blp = Blueprint("nominations", __name__, url_prefix="/api/v1", description="Pupils' nominations")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.post("/nominations/import")
@blp.arguments(ImportForm, location="form")
@blp.arguments(ImportFile, location="files")
@blp.response(200, ImportOut)
def import_nominations(form, files):
    """Import a spreadsheet (.xlsx or .csv) of nominations: all rows or none.

    Any bad row → 422 with `errors.rows` listing every bad cell (row, column as written, message).
    """
    upload = files["file"]
    if not getattr(upload, "filename", None):
        raise Invalid("Cần tệp .xlsx hoặc .csv (file required)", {"file": ["required"]})
    outcome = service.import_nominations(
        db.session, current_actor(), upload.read(), upload.filename, form["academic_year"], dry_run=form["dry_run"]
    )
    outcome.warnings = said(outcome.warnings)  # in the reader's language (fundsvc.messages)
    return outcome


@blp.get("/nominations")
@blp.arguments(NominationArgs, location="query")
@blp.response(200, NominationOut(many=True))
@blp.paginate(max_page_size=1000)
def list_nominations(args, pagination_parameters):
    """Nominations of your scope, filtered by academic year, unit (subtree) and school."""
    actor = current_actor()
    page = paginate(service.nominations_query(db.session, actor, **args), pagination_parameters)
    return [nomination_seen_by(actor, nomination) for nomination in page]


@blp.get("/nominations/template.xlsx")
@blp.response(200, content_type=XLSX)
def nominations_template():
    """The import template: Vietnamese headers, drop-down lists, an example row, instructions."""
    return send_file(BytesIO(write_template_xlsx()), mimetype=XLSX, download_name="mau-de-cu-hoc-bong.xlsx")


@blp.get("/nominations.xlsx")
@blp.arguments(NominationArgs, location="query")
@blp.response(200, content_type=XLSX)
def export_nominations(args):
    """The nominations of your scope in the import format."""
    data = service.export_xlsx(db.session, current_actor(), **args)
    return send_file(BytesIO(data), mimetype=XLSX, download_name=f"de-cu-{args.get('academic_year', 'tat-ca')}.xlsx")


@blp.get("/nominations/<int:nomination_id>")
@blp.response(200, NominationOut)
def get_nomination(nomination_id):
    """One nomination (personal data only for committee and admin)."""
    actor = current_actor()
    return nomination_seen_by(actor, service.get_nomination(db.session, actor, nomination_id))


@blp.patch("/nominations/<int:nomination_id>")
@blp.arguments(NominationPatch)
@blp.response(200, NominationOut)
def patch_nomination(changes, nomination_id):
    """Correct a nomination's fields (audited), each value checked as the import checks its cell.

    409 when the nomination is withdrawn or holds an award of an approved round (approved or paid): withdraw it
    instead.
    """
    actor = current_actor()
    return nomination_seen_by(actor, service.update_nomination(db.session, actor, nomination_id, changes))


@blp.post("/nominations/<int:nomination_id>/withdraw")
@blp.arguments(WithdrawIn)
@blp.response(200, NominationOut)
def withdraw_nomination(data, nomination_id):
    """Withdraw a nomination with a reason (kept on file, audited; no round considers it again).

    An approved award it holds is cancelled as `POST /awards/{id}/cancel` does (the waitlisted pupils the money now
    fits are promoted); a paid award cannot be undone → 409, nothing changed.
    """
    actor = current_actor()
    outcome = withdrawal.withdraw_nomination(db.session, actor, nomination_id, data["reason"])
    return nomination_seen_by(actor, outcome.nomination)
