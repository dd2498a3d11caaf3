"""/api/v1/rounds/{id}/award-list.pdf|.xlsx|.csv, /signature-sheet.pdf, /certificates.pdf: the ceremony documents."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, make_response
from marshmallow import Schema, fields, validate

from fundsvc.api import Blueprint, current_actor
from fundsvc.documents import ceremony_service as service
from fundsvc.documents.views import settings
from fundsvc.extensions import db
from fundsvc.jobs.views import AS_A_JOB, deferred
from fundsvc.units.schemas import CODE

blp = Blueprint(
    "ceremony",
    __name__,
    url_prefix="/api/v1",
    description="Ceremony documents of an approved round: award list, signature sheet, certificates",
)


# Rendered by the job queue above FUNDSVC_JOB_THRESHOLD pupils (the lists in xlsx and csv stay quick).
JOB_KINDS = ("award-list", "signature-sheet", "certificates")


class ScopeArgs(Schema):
    unit = fields.String(validate=CODE, metadata={"description": "only this unit's subtree (unit code)"})
    school = fields.String(
        validate=validate.Length(min=1, max=200), metadata={"description": "only this school (its name as nominated)"}
    )


def cache_dir() -> Path:
    """Where rendered ceremony documents are kept: <instance>/documents."""
    return Path(current_app.config.get("DOCUMENTS_CACHE_DIR") or Path(current_app.instance_path) / "documents")


def _answer(round_id: int, kind: str, args: dict):
    if kind in JOB_KINDS and (job := deferred(kind, {"round_id": round_id, **args})) is not None:
        return job
    document = service.ceremony_document(
        db.session,
        current_actor(),
        round_id,
        kind,
        settings(),
        cache_dir(),
        unit=args.get("unit"),
        school=args.get("school"),
        render_slots=current_app.config["RENDER_CONCURRENCY"],
    )
    response = make_response(document.data)
    response.headers["Content-Type"] = document.media_type
    disposition = "inline" if document.media_type == "application/pdf" else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{document.filename}"'
    response.headers["X-Document-Cache"] = "hit" if document.cached else "miss"
    return response


@blp.get("/rounds/<int:round_id>/award-list.pdf")
@blp.arguments(ScopeArgs, location="query")
@blp.response(200, content_type="application/pdf")
@blp.alt_response(202, **AS_A_JOB)
def award_list_pdf(args, round_id):
    """The list of awarded pupils (approved or paid) grouped by unit, school and class, with subtotals, the total
    in figures and words and the signatures; `unit` and `school` narrow it. 409 before the round is approved.
    A viewer's copy carries no birth date and no tier."""
    return _answer(round_id, "award-list", args)


@blp.get("/rounds/<int:round_id>/award-list.xlsx")
@blp.arguments(ScopeArgs, location="query")
@blp.response(200, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
def award_list_xlsx(args, round_id):
    """The award list as a workbook: pupils in list order, school and unit subtotal rows, a totals row."""
    return _answer(round_id, "award-list-xlsx", args)


@blp.get("/rounds/<int:round_id>/award-list.csv")
@blp.arguments(ScopeArgs, location="query")
@blp.response(200, content_type="text/csv")
def award_list_csv(args, round_id):
    """The award list's pupils as csv (UTF-8 with BOM), in list order."""
    return _answer(round_id, "award-list-csv", args)


@blp.get("/rounds/<int:round_id>/signature-sheet.pdf")
@blp.arguments(ScopeArgs, location="query")
@blp.response(200, content_type="application/pdf")
@blp.alt_response(202, **AS_A_JOB)
def signature_sheet_pdf(args, round_id):
    """The sheet pupils or guardians sign when they receive the money: A4 landscape, a page group per school."""
    return _answer(round_id, "signature-sheet", args)


@blp.get("/rounds/<int:round_id>/certificates.pdf")
@blp.arguments(ScopeArgs, location="query")
@blp.response(200, content_type="application/pdf")
@blp.alt_response(202, **AS_A_JOB)
def certificates_pdf(args, round_id):
    """One scholarship certificate (giấy chứng nhận học bổng) per award, A5 landscape."""
    return _answer(round_id, "certificates", args)
