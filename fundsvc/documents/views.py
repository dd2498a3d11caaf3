"""PDF documents: receipts, vouchers, donor statements, the receipts archive."""

from flask import make_response
from marshmallow import fields

from fundsvc.api import Blueprint, current_actor
from fundsvc.documents import service
from fundsvc.donations.schemas import StatementArgs
from fundsvc.extensions import db
from fundsvc.jobs.views import AS_A_JOB, deferred
from fundsvc.organisation.service import current_config
from fundsvc.schemas import DateRangeArgs
from fundsvc.units.schemas import CODE

blp = Blueprint("documents", __name__, url_prefix="/api/v1", description="Printed documents (PDF)")


def pdf_response(data: bytes, filename: str):
    """A PDF answer, shown inline by browsers."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def settings() -> service.DocumentSettings:
    return service.DocumentSettings.from_config(current_config())


class ArchiveArgs(DateRangeArgs):
    unit = fields.String(validate=CODE)


class DonorStatementArgs(StatementArgs):
    # The unit writing the letter (in the caller's scope); the caller's own unit when left out.
    unit = fields.String(validate=CODE)


@blp.get("/receipts/<int:receipt_id>.pdf")
@blp.response(200, content_type="application/pdf")
def receipt_pdf(receipt_id):
    """The gift's document of its kind (Phiếu thu for cash, Giấy xác nhận tài trợ for a bank transfer, Biên bản tiếp
    nhận hiện vật for goods): the same bytes at every fetch (a void one: stamped ĐÃ HỦY)."""
    return pdf_response(
        service.receipt_pdf(db.session, current_actor(), receipt_id, settings()),
        f"phieu-thu-{receipt_id}.pdf",
    )


@blp.get("/receipts.pdf")
@blp.arguments(ArchiveArgs, location="query")
@blp.response(200, content_type="application/pdf")
@blp.alt_response(202, **AS_A_JOB)
def receipts_archive(args):
    """All documents of gifts of a period in one PDF, for the paper archive; over FUNDSVC_JOB_THRESHOLD gifts,
    202 with the job rendering it (GET its Location)."""
    if (job := deferred("receipts.pdf", args)) is not None:
        return job
    return pdf_response(
        service.receipts_archive_pdf(db.session, current_actor(), settings(), **args),
        "phieu-thu.pdf",
    )


@blp.get("/donors/<int:donor_id>/statement.pdf")
@blp.arguments(DonorStatementArgs, location="query")
@blp.response(200, content_type="application/pdf")
def donor_statement(args, donor_id):
    """A unit's letter of thanks and the donor's counted gifts of the year at that unit (money, and goods apart),
    with the total in figures and words; 404 when the donor gave nothing counted there that year."""
    return pdf_response(
        service.donor_statement_pdf(db.session, current_actor(), donor_id, args["year"], settings(), args.get("unit")),
        f"thu-cam-on-{donor_id}-{args['year']}.pdf",
    )


@blp.get("/awards/<int:award_id>/voucher.pdf")
@blp.response(200, content_type="application/pdf")
def voucher_pdf(award_id):
    """The Phiếu chi of a paid award."""
    return pdf_response(
        service.voucher_pdf(db.session, current_actor(), award_id, settings()),
        f"phieu-chi-{award_id}.pdf",
    )
