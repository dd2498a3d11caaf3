"""/api/v1/donations/export.xlsx|.csv, /donors/export…, /nominations/export…, /rounds/{id}/awards/export…: each list
with the filters given, taken away (fundsvc.documents.lists)."""

from __future__ import annotations

from io import BytesIO

from flask import make_response

from fundsvc.allocation.schemas import AwardArgs
from fundsvc.api import Blueprint, current_actor
from fundsvc.auth.service import require_role
from fundsvc.documents import lists
from fundsvc.donations.schemas import DonationArgs, DonorSearchArgs
from fundsvc.extensions import db
from fundsvc.jobs.views import AS_A_JOB, deferred
from fundsvc.students.schemas import NominationArgs

blp = Blueprint(
    "lists",
    __name__,
    url_prefix="/api/v1",
    description="Lists taken away: each list's rows with the list's own filters, as .xlsx or .csv (UTF-8 with BOM)",
)
FORMAT = "<any(xlsx, csv):ext>"
ANSWER = {
    "content_type": lists.MEDIA_TYPES["xlsx"],
    "description": "The list as a workbook (export.xlsx) or as csv, UTF-8 with a BOM (export.csv)",
}


# The two files of the 200 answer, for the OpenAPI document (a content type without a schema shows none).
FILES = {
    "responses": {
        "200": {
            "description": ANSWER["description"],
            "content": {
                lists.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }
}


def _export(name: str, ext: str, filters: dict):
    """The list as a file; over FUNDSVC_JOB_THRESHOLD rows, 202 with the job writing it."""
    actor = current_actor()
    require_role(actor, *lists.READERS)
    if (job := deferred(lists.kind_for(actor, name, ext), lists.stored_filters(name, filters))) is not None:
        return job
    out = BytesIO()
    lists.write(db.session, actor, name, ext, filters, out)
    response = make_response(out.getvalue())
    response.headers["Content-Type"] = lists.MEDIA_TYPES[ext] + ("; charset=utf-8" if ext == "csv" else "")
    response.headers["Content-Disposition"] = f'attachment; filename="{lists.filename(name, ext)}"'
    return response


@blp.get(f"/donations/export.{FORMAT}")
@blp.arguments(DonationArgs, location="query")
@blp.response(200, **ANSWER)
@blp.alt_response(202, **AS_A_JOB)
@blp.doc(**FILES)
def export_donations(args, ext):
    """The donations list (GET /donations) with the same filters, every row, and the total of what was recorded
    (voided gifts listed, not counted). Donors' contact details and anonymous donors' names as the list shows them."""
    return _export("donations", ext, args)


@blp.get(f"/donors/export.{FORMAT}")
@blp.arguments(DonorSearchArgs, location="query")
@blp.response(200, **ANSWER)
@blp.alt_response(202, **AS_A_JOB)
@blp.doc(**FILES)
def export_donors(args, ext):
    """The donors list (GET /donors) with the same search, every row; contact details for the roles that see them."""
    return _export("donors", ext, args)


@blp.get(f"/nominations/export.{FORMAT}")
@blp.arguments(NominationArgs, location="query")
@blp.response(200, **ANSWER)
@blp.alt_response(202, **AS_A_JOB)
@blp.doc(**FILES)
def export_nominations(args, ext):
    """The nominations list (GET /nominations) with the same filters, every row; pupils' personal data only for
    the roles that decide on them. (GET /nominations.xlsx is the import format, to correct and send back.)"""
    return _export("nominations", ext, args)


@blp.get(f"/rounds/<int:round_id>/awards/export.{FORMAT}")
@blp.arguments(AwardArgs, location="query")
@blp.response(200, **ANSWER)
@blp.alt_response(202, **AS_A_JOB)
@blp.doc(**FILES)
def export_awards(args, round_id, ext):
    """The round's awards (GET /rounds/{id}/awards) with the same filters, in rank order, and the total of the
    awards held (cancelled ones listed, not counted)."""
    return _export("awards", ext, {"round_id": round_id, **args})
