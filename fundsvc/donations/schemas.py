from marshmallow import ValidationError, fields, validate, validates_schema

from fundsvc.donations.identity import IdentityError, normalize_phone, normalize_tax_code
from fundsvc.donations.models import DONATION_STATUSES, DONOR_KINDS, METHODS
from fundsvc.privacy import ANONYMOUS_NAME, DONOR_CONTACT_FIELDS
from fundsvc.schemas import (
    MAX_AMOUNT,
    MAX_ID,
    Amount,
    DateRangeArgs,
    DocumentDate,
    StrictSchema,
    Text,
)
from fundsvc.units.schemas import CODE

MAX_TYPED = 40  # characters of a phone number or tax code as typed, spaces and dots included


class _Normalized(fields.String):
    """A phone number or tax code, loaded in its stored form (fundsvc.donations.identity); an empty one is None."""

    def __init__(self, normalize, **kwargs):
        super().__init__(allow_none=True, **kwargs)
        self.normalize = normalize

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            return None
        if len(text) > MAX_TYPED:
            raise ValidationError(f"Longer than maximum length {MAX_TYPED}.")
        try:
            return self.normalize(text)
        except IdentityError as error:
            raise ValidationError(str(error)) from error


class DonorIn(StrictSchema):
    name = Text(200, required=True)
    kind = fields.String(load_default="person", validate=validate.OneOf(DONOR_KINDS))
    phone = _Normalized(normalize_phone)
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))
    address = Text(300)
    tax_code = _Normalized(normalize_tax_code)


class DonorPatch(DonorIn):
    """A donor's details corrected: any of them; the phone and tax code stored normalised, as on a gift."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.OneOf(DONOR_KINDS))

    @validates_schema
    def _something(self, data, **_):
        if not data:
            raise ValidationError("Give at least one field to change", "name")


class DonorMergeIn(StrictSchema):
    into = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))


class DonationIn(StrictSchema):
    donor = fields.Nested(DonorIn)
    donor_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID))
    fund = fields.String(validate=CODE)
    unit = fields.String(validate=CODE)
    amount = Amount(required=True)
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    in_kind_description = Text(1000)
    quantity = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=10**9))
    unit_of_measure = Text(40)
    # A bank transfer: the bank account it reached (optional when the unit has exactly one) and the bank's reference.
    account = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_ID))
    bank_reference = Text(100)
    received_on = DocumentDate(required=True)
    purpose = Text(500)
    anonymous = fields.Boolean(load_default=False)
    # A donor whose phone or tax code is an existing donor's, under another name: true records a new donor anyway
    # (without it the gift is refused with 409 naming the existing donor; docs/api.md "Donors").
    new_donor = fields.Boolean(load_default=False)

    @validates_schema
    def _one_donor(self, data, **_):
        if ("donor" in data) == ("donor_id" in data):
            raise ValidationError("Give exactly one of donor or donor_id", "donor")
        if data.get("new_donor") and "donor" not in data:
            raise ValidationError("Only with donor", "new_donor")
        if data.get("method") == "in_kind" and not (data.get("in_kind_description") or "").strip():
            raise ValidationError("Required when method is in_kind", "in_kind_description")
        if data.get("method") != "in_kind":
            for name in ("in_kind_description", "quantity", "unit_of_measure"):
                if data.get(name):
                    raise ValidationError("Only for method in_kind", name)
        if data.get("method") != "bank_transfer":
            for name in ("account", "bank_reference"):
                if data.get(name):
                    raise ValidationError("Only for method bank_transfer", name)


class VoidIn(StrictSchema):
    reason = Text(500, required=True)


class DonationArgs(DateRangeArgs):
    donor = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    unit = fields.String(validate=CODE)
    fund = fields.String(validate=CODE)
    status = fields.String(validate=validate.OneOf(DONATION_STATUSES))
    method = fields.String(validate=validate.OneOf(METHODS))
    search = fields.String(data_key="q", validate=validate.Length(min=1, max=100))


class DuplicateArgs(StrictSchema):
    """What the donation form knows before recording: the amount, the day, the donor (by id, or name and phone)."""

    amount = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_AMOUNT))
    received_on = fields.Date(required=True)
    donor_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    name = Text(200)
    phone = Text(30)


class DonorOut(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    phone = fields.String()
    email = fields.String()
    address = fields.String()
    tax_code = fields.String()
    unit = fields.Function(lambda d: d.unit.code)
    # The donor this one was merged into: its gifts are there now (docs/api.md "Donors").
    merged_into = fields.Integer(attribute="merged_into_id")


class ReceiptOut(StrictSchema):
    id = fields.Integer()
    book = fields.Function(lambda r: str(r.year))
    number = fields.Integer()
    code = fields.String()
    kind = fields.String()
    void = fields.Function(lambda r: r.donation.status == "void")
    pdf = fields.Function(lambda r: f"/api/v1/receipts/{r.id}.pdf")


class DonationOut(StrictSchema):
    id = fields.Integer()
    amount = fields.Integer()
    status = fields.String()
    method = fields.String()
    in_kind_description = fields.String()
    quantity = fields.Integer()
    unit_of_measure = fields.String()
    account = fields.Integer(attribute="account_id")
    bank_reference = fields.String()
    donor = fields.Nested(DonorOut)
    fund = fields.Function(lambda d: d.fund.code)
    unit = fields.Function(lambda d: d.unit.code)
    received_on = fields.Date()
    purpose = fields.String()
    anonymous = fields.Boolean()
    void_reason = fields.String()
    voided_at = fields.DateTime()
    created_at = fields.DateTime()
    receipt = fields.Nested(ReceiptOut)


def donation_document(gift, *, contact: bool) -> dict:
    """A gift (a row of service.DONATION_ROWS) as exactly what DonationOut dumps of it as privacy.donation_seen_by
    shows it to a role that sees donors' contact details (`contact`) or not (no phone, e-mail, address or tax code;
    an anonymous gift's donor named ANONYMOUS_NAME). A plain function: a page of 1,000 gifts through marshmallow
    took longer than reading them. DonationOut stays the shape's one definition: tests/spine/test_list_documents.py
    holds this to it."""
    donor = {
        "id": gift.donor_id,
        "name": gift.donor_name,
        "kind": gift.donor_kind,
        "phone": gift.donor_phone,
        "email": gift.donor_email,
        "address": gift.donor_address,
        "tax_code": gift.donor_tax_code,
        "unit": gift.donor_unit,
        "merged_into": gift.donor_merged_into,
    }
    if not contact:
        for name in DONOR_CONTACT_FIELDS:
            del donor[name]
        if gift.anonymous:
            donor["name"] = ANONYMOUS_NAME
    receipt = None
    if gift.receipt_id is not None:
        receipt = {
            "id": gift.receipt_id,
            "book": str(gift.receipt_year),
            "number": gift.receipt_number,
            "code": gift.receipt_code,
            "kind": gift.receipt_kind,
            "void": gift.status == "void",
            "pdf": f"/api/v1/receipts/{gift.receipt_id}.pdf",
        }
    return {
        "id": gift.id,
        "amount": gift.amount,
        "status": gift.status,
        "method": gift.method,
        "in_kind_description": gift.in_kind_description,
        "quantity": gift.quantity,
        "unit_of_measure": gift.unit_of_measure,
        "account": gift.account_id,
        "bank_reference": gift.bank_reference,
        "donor": donor,
        "fund": gift.fund,
        "unit": gift.unit,
        "received_on": gift.received_on.isoformat(),
        "purpose": gift.purpose,
        "anonymous": bool(gift.anonymous),
        "void_reason": gift.void_reason,
        "voided_at": gift.voided_at.isoformat() if gift.voided_at is not None else None,
        "created_at": gift.created_at.isoformat(),
        "receipt": receipt,
    }


class DonorSearchArgs(StrictSchema):
    q = fields.String(validate=validate.Length(max=100))


class StatementArgs(StrictSchema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
