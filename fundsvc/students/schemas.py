from marshmallow import ValidationError, fields, post_load, validate

from fundsvc.schemas import StrictSchema, Text
from fundsvc.students.models import NOMINATION_STATUSES
from fundsvc.students.normalize import clean_text
from fundsvc.students.spreadsheet import COLUMNS_BY_KEY, CellValueError, converter, missing_message
from fundsvc.students.vocabulary import (
    ACHIEVEMENT_VALUES,
    GENDER_VALUES,
    HOUSEHOLD_VALUES,
    LEVEL_VALUES,
    RESULT_VALUES,
)
from fundsvc.units.schemas import CODE

ACADEMIC_YEAR = validate.Regexp(r"^(19|20)\d\d-(19|20)\d\d$", error="Năm học dạng 2024-2025 (expected YYYY-YYYY)")


class ImportForm(StrictSchema):
    academic_year = fields.String(required=True, validate=ACADEMIC_YEAR)
    dry_run = fields.Boolean(load_default=False)


class ImportFile(StrictSchema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class ImportOut(StrictSchema):
    created = fields.Integer()
    updated = fields.Integer()
    dry_run = fields.Boolean()
    warnings = fields.List(fields.String())


class NominationArgs(StrictSchema):
    academic_year = fields.String(validate=ACADEMIC_YEAR)
    unit = fields.String(validate=CODE)
    school = fields.String(validate=validate.Length(max=200))
    status = fields.String(validate=validate.OneOf(NOMINATION_STATUSES))
    # The pupil's name by the start of its words, ignoring case and diacritics, or a piece of the pupil's code.
    search = fields.String(data_key="q", validate=validate.Length(min=1, max=100))


def as_in_the_import(key: str, written=None):
    """The import's rule for the cells of column ``key`` (``spreadsheet.converter``) as a validator: a correction is
    held to what a row of the file would be (a birth date from 1950 to today, a mark from 0 to 10 with one decimal),
    in the import's words; a required column's value must not be blank. ``written``: the value as a cell would hold
    it, when the field gives another type."""
    column = COLUMNS_BY_KEY[key]
    convert = converter(column)

    def check(value) -> None:
        if column.required and isinstance(value, str) and not clean_text(value):
            raise ValidationError(missing_message(column))
        try:
            convert(value if written is None else written(value))
        except CellValueError as error:
            raise ValidationError(str(error)) from None

    return check


def _required_text(max_length: int, key: str) -> fields.String:
    """A text the import requires: given, not blank, at most ``max_length`` characters."""
    return fields.String(validate=[validate.Length(max=max_length), as_in_the_import(key)])


class NominationPatch(StrictSchema):
    """A correction of a nomination (API and web form): the import's rules for each value (``as_in_the_import``,
    the vocabulary's codes, the columns' lengths), and in ``service.update_nomination`` its rule for the class."""

    student_code = Text(40)
    full_name = _required_text(200, "full_name")
    birth_date = fields.Date(validate=as_in_the_import("birth_date"))
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDER_VALUES))
    ethnicity = Text(60)
    school = _required_text(200, "school")
    grade = _required_text(20, "grade")
    grade_number = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=12))
    level = fields.String(allow_none=True, validate=validate.OneOf(LEVEL_VALUES))
    unit = fields.String(validate=CODE)
    household = fields.String(validate=validate.OneOf(HOUSEHOLD_VALUES))
    orphan = fields.Boolean()
    disability = fields.Boolean()
    # The mark as written (8.55 is refused, not rounded), checked as the import checks the text of a cell.
    gpa = fields.Decimal(allow_none=True, as_string=False, validate=as_in_the_import("gpa", written=str))
    academic_result = fields.String(allow_none=True, validate=validate.OneOf(RESULT_VALUES))
    conduct = fields.String(allow_none=True, validate=validate.OneOf(RESULT_VALUES))
    achievement = fields.String(validate=validate.OneOf(ACHIEVEMENT_VALUES))
    guardian = Text(200)
    note = Text(1000)

    @post_load
    def _cleaned(self, data: dict, **_kw) -> dict:
        """Text stored as the import stores a cell's (``normalize.clean_text``: NFC, spaces collapsed)."""
        return {name: clean_text(value) if isinstance(value, str) else value for name, value in data.items()}


class WithdrawIn(StrictSchema):
    reason = Text(500, required=True)


class NominationPublicOut(StrictSchema):
    """What every role may see: no birth date, household, guardian, disability, orphan or note."""

    id = fields.Integer()
    academic_year = fields.String()
    status = fields.String()
    student_code = fields.String()
    full_name = fields.String()
    gender = fields.String()
    school = fields.String()
    grade = fields.String()
    level = fields.String()
    unit = fields.Function(lambda n: n.unit.code)


class NominationOut(NominationPublicOut):
    """A nomination whole, for the roles that see pupils' personal data; the views give the others what
    fundsvc.privacy.nomination_seen_by leaves (NominationPublicOut's fields)."""

    birth_date = fields.Date()
    ethnicity = fields.String()
    ethnic_minority = fields.Boolean()
    grade_number = fields.Integer()
    household = fields.String()
    orphan = fields.Boolean()
    disability = fields.Boolean()
    gpa = fields.Decimal(as_string=True)
    academic_result = fields.String()
    conduct = fields.String()
    achievement = fields.String()
    guardian = fields.String()
    note = fields.String()
    source_file = fields.String()
    source_row = fields.Integer()
    withdrawal_reason = fields.String()
