"""/api/v1/donations and /api/v1/donors"""

from flask import request

from fundsvc.api import Blueprint, current_actor, json_answer, paginate
from fundsvc.donations import service
from fundsvc.donations.schemas import (
    DonationArgs,
    DonationIn,
    DonationOut,
    DonorMergeIn,
    DonorOut,
    DonorPatch,
    DonorSearchArgs,
    DuplicateArgs,
    VoidIn,
    donation_document,
)
from fundsvc.extensions import db
from fundsvc.idempotency import IDEMPOTENCY_HEADER_DOC, check_key, request_fingerprint
from fundsvc.privacy import donation_seen_by, donor_seen_by, sees_donor_contact

blp = Blueprint("donations", __name__, url_prefix="/api/v1", description="Donations, donors and receipts")


@blp.post("/donations")
@blp.arguments(DonationIn)
@blp.response(201, DonationOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER_DOC])
def record_donation(data):
    """Record a gift: the donation, its gapless receipt number and its ledger entry.

    With an `Idempotency-Key` header, repeating the same request returns the first answer and creates nothing.

    The donor is `donor_id`, or `donor`, matched to an existing donor by its phone or tax code (stored normalised:
    "0912 345 678", "+84 912 345 678" and "84912345678" are one number; a number not valid is a 422). When the
    matched donor's name is not the name given (ignoring case, spacing and diacritics), the answer is 409 with
    `errors.donor = {"id", "name"}` of that donor: send the gift again with its `donor_id`, or with
    `"new_donor": true` to record a new donor anyway.
    """
    key = check_key(request.headers.get("Idempotency-Key"))
    actor = current_actor()
    donation, _replayed = service.record_donation(
        db.session,
        actor,
        data,
        idempotency_key=key,
        fingerprint=request_fingerprint(request.get_json(silent=True)) if key is not None else None,
    )
    return donation_seen_by(actor.role, donation)


@blp.get("/donations")
@blp.arguments(DonationArgs, location="query")
@blp.response(200, DonationOut(many=True))
@blp.paginate(max_page_size=1000)
def list_donations(args, pagination_parameters):
    """Donations in your scope, newest first, filtered by period, donor, unit (subtree), fund, status and method;
    `q` finds a piece of the donor's name, phone or tax code, or of the receipt's code."""
    actor = current_actor()
    query = service.donations_query(db.session, actor, **args)
    page = paginate(query, pagination_parameters, rows=service.DONATION_ROWS)
    contact = sees_donor_contact(actor.role)
    return json_answer([donation_document(gift, contact=contact) for gift in page])


@blp.get("/donations/duplicates")
@blp.arguments(DuplicateArgs, location="query")
@blp.response(200, DonationOut(many=True))
def find_duplicates(args):
    """Recorded gifts of the same amount on the same day from the same donor (by id, else by phone or exact name),
    at most five: ask before recording what may be the same gift twice."""
    actor = current_actor()
    day = args.pop("received_on")
    return [donation_seen_by(actor.role, d) for d in service.find_duplicates(db.session, actor, day=day, **args)]


@blp.get("/donations/<int:donation_id>")
@blp.response(200, DonationOut)
def get_donation(donation_id):
    """One donation."""
    actor = current_actor()
    return donation_seen_by(actor.role, service.get_donation(db.session, actor, donation_id))


@blp.post("/donations/<int:donation_id>/void")
@blp.arguments(VoidIn)
@blp.response(200, DonationOut)
def void_donation(data, donation_id):
    """Void a donation: its receipt keeps its number, stamped void; a reversing ledger entry is written."""
    actor = current_actor()
    return donation_seen_by(actor.role, service.void_donation(db.session, actor, donation_id, data["reason"]))


@blp.get("/donors")
@blp.arguments(DonorSearchArgs, location="query")
@blp.response(200, DonorOut(many=True))
@blp.paginate(max_page_size=1000)
def list_donors(args, pagination_parameters):
    """Donors of your scope, by name (donors merged into another are left out); `q` finds the names in which each
    word typed starts a word, ignoring case and diacritics ("nguyen" finds "Nguyễn", "dang" "Đặng"), or phones and
    tax codes by their first digits."""
    actor = current_actor()
    page = paginate(service.donors_query(actor, search=args.get("q")), pagination_parameters)
    return [donor_seen_by(actor.role, donor) for donor in page]


@blp.get("/donors/<int:donor_id>")
@blp.response(200, DonorOut)
def get_donor(donor_id):
    """One donor; a donor merged into another answers with `merged_into`, the id of the donor holding its gifts."""
    actor = current_actor()
    return donor_seen_by(actor.role, service.get_donor(db.session, actor, donor_id))


@blp.patch("/donors/<int:donor_id>")
@blp.arguments(DonorPatch)
@blp.response(200, DonorOut)
def update_donor(data, donor_id):
    """Correct a donor's details (audited); a phone or tax code that is another donor's is a 409 (merge them)."""
    actor = current_actor()
    return donor_seen_by(actor.role, service.update_donor(db.session, actor, donor_id, data))


@blp.post("/donors/<int:donor_id>/merge")
@blp.arguments(DonorMergeIn)
@blp.response(200, DonorOut)
def merge_donor(data, donor_id):
    """Merge this donor into `into` (audited, one transaction): its gifts move there, stored receipts stay byte for
    byte as issued, and this donor's id then answers with `merged_into`. The answer is the surviving donor."""
    actor = current_actor()
    return donor_seen_by(actor.role, service.merge_donors(db.session, actor, donor_id, data["into"]))
