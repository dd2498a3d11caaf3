"""Users and tokens in and out of the API (CONTRACT "Users and tokens")."""

from marshmallow import fields, validate

from fundsvc.auth.invitations import INVITATION_DAYS, MAX_INVITATION_DAYS, STATUSES, status_of
from fundsvc.auth.models import ROLES
from fundsvc.schemas import StrictSchema, Text
from fundsvc.units.schemas import CODE, PHONE

USERNAME = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{1,79}$",
    error="Tên đăng nhập 2–80 ký tự: chữ không dấu, chữ số, '.', '_' hoặc '-' (invalid username)",
)
EMAIL = validate.Regexp(r"^([^@\s]{1,100}@[^@\s]{1,99}\.[^@\s]{1,20})?$", error="Email không hợp lệ (invalid email)")


class UserArgs(StrictSchema):
    unit = fields.String(validate=CODE)
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    q = Text(100)


class UserIn(StrictSchema):
    username = fields.String(required=True, validate=USERNAME)
    full_name = Text(200, required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    unit = fields.String(allow_none=True, validate=CODE)
    email = fields.String(allow_none=True, validate=[validate.Length(max=200), EMAIL])
    phone = fields.String(allow_none=True, validate=PHONE)


class UserPatchIn(StrictSchema):
    full_name = Text(200, allow_none=False)
    role = fields.String(validate=validate.OneOf(ROLES))
    unit = fields.String(allow_none=True, validate=CODE)
    email = fields.String(allow_none=True, validate=[validate.Length(max=200), EMAIL])
    phone = fields.String(allow_none=True, validate=PHONE)
    active = fields.Boolean()


class UserOut(StrictSchema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    email = fields.String()
    phone = fields.String()
    role = fields.String()
    unit = fields.Function(lambda u: u.unit.code if u.unit else None)
    active = fields.Boolean()
    created_at = fields.DateTime()


class UserWithPasswordOut(UserOut):
    """A user just created or given a new password: the password, once."""

    password = fields.String(attribute="one_time_password")


class TokenIn(StrictSchema):
    name = Text(100, required=True)
    expires_on = fields.Date(allow_none=True)


class TokenOut(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime()
    expires_on = fields.Date()
    revoked_at = fields.DateTime()


class NewTokenOut(TokenOut):
    """A token just issued: the token itself, once."""

    token = fields.String(attribute="issued_token")


class InvitationIn(UserIn):
    """Who the invited user will be (a user's fields) and how many days the link works."""

    days = fields.Integer(strict=True, load_default=INVITATION_DAYS, validate=validate.Range(1, MAX_INVITATION_DAYS))


class InvitationArgs(StrictSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))


class InvitationOut(StrictSchema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    email = fields.String()
    phone = fields.String()
    role = fields.String()
    unit = fields.Function(lambda i: i.unit.code if i.unit else None)
    status = fields.Function(status_of)
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    accepted_at = fields.DateTime()
    revoked_at = fields.DateTime()


class NewInvitationOut(InvitationOut):
    """An invitation just made: its link, once (only the token's hash is stored)."""

    link = fields.String(attribute="link")
