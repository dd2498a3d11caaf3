from marshmallow import fields, validate

from fundsvc.allocation.models import AWARD_STATUSES
from fundsvc.schemas import Amount, DocumentDate, StrictSchema, Text
from fundsvc.students.schemas import ACADEMIC_YEAR
from fundsvc.units.schemas import CODE


class RoundIn(StrictSchema):
    name = Text(200, required=True)
    academic_year = fields.String(required=True, validate=ACADEMIC_YEAR)
    fund = fields.String(required=True, validate=CODE)
    unit = fields.String(required=True, validate=CODE)
    budget = Amount(required=True)
    # Validated by the rules schema in the service, so its errors can name full JSON paths (rules.quotas[1]…).
    rules = fields.Dict(required=True)


class AwardArgs(StrictSchema):
    status = fields.String(validate=validate.OneOf(AWARD_STATUSES))
    search = fields.String(data_key="q", validate=validate.Length(min=1, max=100))


class RoundArgs(StrictSchema):
    academic_year = fields.String(validate=ACADEMIC_YEAR)
    status = fields.String(validate=validate.OneOf(("draft", "allocated", "approved")))


class RoundOut(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    academic_year = fields.String()
    fund = fields.Function(lambda r: r.fund.code)
    unit = fields.Function(lambda r: r.unit.code)
    budget = fields.Integer()
    status = fields.String()
    rules = fields.Raw()
    rules_hash = fields.String()
    result_hash = fields.String()
    allocated_at = fields.DateTime()
    approved_at = fields.DateTime()


class AwardOut(StrictSchema):
    id = fields.Integer()
    round_id = fields.Integer()
    nomination_id = fields.Integer()
    student_code = fields.Function(lambda a: a.nomination.student_code)
    full_name = fields.Function(lambda a: a.nomination.full_name)
    school = fields.Function(lambda a: a.nomination.school)
    grade = fields.Function(lambda a: a.nomination.grade)
    unit = fields.Function(lambda a: a.nomination.unit.code)
    level = fields.Function(lambda a: a.nomination.level)
    amount = fields.Integer()
    rank = fields.Integer()
    score = fields.String()
    tier = fields.String()
    status = fields.String()
    promoted = fields.Boolean()
    paid_on = fields.Date()
    received_by = fields.String()
    voucher = fields.Function(lambda a: f"/api/v1/awards/{a.id}/voucher.pdf" if a.voucher_code else None)
    voucher_code = fields.String()
    bank_reference = fields.String()
    cancel_reason = fields.String()


def award_document(award) -> dict:
    """An award (AwardOut's attributes, flat: a row of service.AWARD_ROWS) as exactly what AwardOut dumps, by a plain
    function: a page of 1,000 awards through marshmallow took longer than reading them. AwardOut stays the shape's
    one definition: tests/spine/test_list_documents.py holds this to it."""
    return {
        "id": award.id,
        "round_id": award.round_id,
        "nomination_id": award.nomination_id,
        "student_code": award.student_code,
        "full_name": award.full_name,
        "school": award.school,
        "grade": award.grade,
        "unit": award.unit,
        "level": award.level,
        "amount": award.amount,
        "rank": award.rank,
        "score": award.score,
        "tier": award.tier,
        "status": award.status,
        "promoted": bool(award.promoted),
        "paid_on": award.paid_on.isoformat() if award.paid_on is not None else None,
        "received_by": award.received_by,
        "voucher": f"/api/v1/awards/{award.id}/voucher.pdf" if award.voucher_code else None,
        "voucher_code": award.voucher_code,
        "bank_reference": award.bank_reference,
        "cancel_reason": award.cancel_reason,
    }


class DisburseIn(StrictSchema):
    paid_on = DocumentDate(required=True)
    received_by = Text(200, required=True)
    # In cash from the paying unit's cash box (a Phiếu chi, PC-), or by bank transfer from one of its bank accounts
    # (a payment record, UNC-, with the bank's reference).
    method = fields.String(load_default="cash", validate=validate.OneOf(["cash", "bank_transfer"]))
    account = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    bank_reference = Text(100)


class DisburseListIn(StrictSchema):
    paid_on = DocumentDate(required=True)
    unit = fields.String(validate=CODE)
    school = Text(200)
    method = fields.String(load_default="cash", validate=validate.OneOf(["cash", "bank_transfer"]))
    account = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class DisbursedListOut(StrictSchema):
    voucher_code = fields.String()
    count = fields.Integer()
    amount = fields.Integer()
    awards = fields.List(fields.Integer())


class CancelIn(StrictSchema):
    reason = Text(500, required=True)


class CancelOut(StrictSchema):
    award = fields.Nested(AwardOut)
    promoted = fields.List(
        fields.Nested(AwardOut),
        metadata={"description": "The waitlisted awards promoted with the money that came back, in rank order"},
    )


class AwardedEntry(StrictSchema):
    nomination_id = fields.Integer()
    student_code = fields.String()
    rank = fields.Integer()
    score = fields.String(metadata={"description": "exact decimal, e.g. 72.5"})
    amount = fields.Integer()
    tier = fields.String(allow_none=True)


class WaitlistedEntry(AwardedEntry):
    reason = fields.String(metadata={"description": "budget or quota"})
    quota = fields.Raw(metadata={"description": "for reason quota: index, group, value and the limit"})


class IneligibleEntry(StrictSchema):
    nomination_id = fields.Integer()
    student_code = fields.String()
    reasons = fields.List(fields.String())


class AllocationOut(StrictSchema):
    """docs/rules.md "Result"."""

    round = fields.Integer()
    budget = fields.Integer()
    allocated = fields.Integer()
    remaining = fields.Integer()
    rules_hash = fields.String()
    awarded = fields.List(fields.Nested(AwardedEntry))
    waitlisted = fields.List(fields.Nested(WaitlistedEntry))
    ineligible = fields.List(fields.Nested(IneligibleEntry))
