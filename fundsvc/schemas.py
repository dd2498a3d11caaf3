"""Marshmallow building blocks shared by every domain's schemas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from fundsvc.documents.words import today_in_vietnam

# Ten thousand billion đồng: far above any single gift, far below BIGINT's limit.
MAX_AMOUNT = 10_000_000_000_000
# Ids are INTEGER columns: 32-bit on PostgreSQL. A larger id can name nothing (and would overflow the query).
MAX_ID = 2**31 - 1


class StrictSchema(ma.Schema):
    """Input schemas reject unknown fields."""

    class Meta:
        unknown = ma.RAISE


def Text(max_length: int, *, required: bool = False, allow_none: bool = True, **kw) -> fields.String:
    """A trimmed text field with a length limit."""
    return fields.String(
        required=required,
        allow_none=allow_none and not required,
        validate=validate.Length(min=1 if required else 0, max=max_length),
        **kw,
    )


def _not_after_today(value) -> None:
    today = today_in_vietnam()
    if value > today:
        raise ma.ValidationError(f"Ngày không được sau hôm nay ({today:%d/%m/%Y}, giờ Việt Nam)")


def DocumentDate(**kw) -> fields.Date:
    """The date of a gift or payment: never after today in Asia/Ho_Chi_Minh (docs/books.md "Dates and periods")."""
    return fields.Date(validate=_not_after_today, **kw)


def Amount(**kw) -> fields.Integer:
    """Money: a strict positive integer number of đồng."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT), **kw)


class DateRangeArgs(StrictSchema):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
