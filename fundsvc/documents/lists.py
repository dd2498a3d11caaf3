"""The lists people take away: the donations, donors, nominations and awards lists as .xlsx and .csv, with the
filters the user applied (docs/api.md "Lists to take away").

Each export runs its list's own query (donations_query, donors_query, nominations_query, awards_query: one
definition of each filter and of the user's scope), its columns replaced by the plain ones the file shows (rows,
not ORM objects: several times faster per row), and shows what the list shows to that user (fundsvc.privacy:
donors' contact details and anonymous donors' names, pupils' personal data). The layout is the award list's
(fundsvc.documents.sheets); rows are read from the database a batch at a time and written as they come, so a
300,000-row list is written in bounded memory. Over FUNDSVC_JOB_THRESHOLD rows the job queue writes it
(fundsvc.jobs.kinds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from marshmallow import Schema
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from fundsvc.auth.service import Actor
from fundsvc.db.pages import count_rows

from . import sheets
from .ceremony import LEVEL_LABELS
from .words import amount_in_words, format_date, today_in_vietnam

FORMATS = ("xlsx", "csv")
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}
BATCH = 1000  # rows fetched from the database at a time
READERS = ("treasurer", "committee", "viewer")  # whoever reads the lists (admins always)
MONEY = "Số tiền (đồng)"

DONATION_STATUS = {"recorded": "Đã ghi", "void": "Đã hủy"}
DONOR_KIND = {"person": "Cá nhân", "organization": "Tổ chức"}
NOMINATION_STATUS = {"active": "Đang xét", "withdrawn": "Đã rút"}
AWARD_STATUS = {"approved": "Chờ chi", "paid": "Đã chi", "cancelled": "Đã hủy"}


@dataclass(frozen=True)
class ListExport:
    """One list's export: its query arguments (the API's schema, read and written both ways), its list's query
    over those filters, its layout and its rows as the actor may see them."""

    name: str  # donations, donors, nominations, awards
    stem: str  # the download's name: stem-yyyy-mm-dd.xlsx
    args: type[Schema]
    query: Callable[[Session, Actor, dict], Any]
    layout: Callable[[Session, Actor, dict], sheets.Layout]
    rows: Callable[[Actor, sheets.Layout, Iterable[Any]], Iterator[sheets.Row]]


def _words(amount: int) -> str:
    return "Bằng chữ: " + amount_in_words(amount)


def _lines(actor_unit: str, *parts: str | None) -> tuple[str, ...]:
    """The lines under a list's title: the unit, what the filters chose, the day it was taken."""
    return (actor_unit, *(p for p in parts if p), f"Lập ngày {format_date(today_in_vietnam())}")


def _unit_line(session: Session, actor: Actor, code: str | None) -> str:
    from fundsvc.units.models import Unit
    from fundsvc.units.service import visible_unit

    if code:
        unit = visible_unit(session, actor, code)
        return f"Đơn vị: {unit.name} ({unit.code}) và các đơn vị trực thuộc"
    unit = session.get(Unit, actor.unit_id) if actor.unit_id else None
    return f"Đơn vị: {unit.name} và các đơn vị trực thuộc" if unit else "Đơn vị: tất cả"


def _period_line(filters: dict) -> str | None:
    start, end = filters.get("date_from"), filters.get("date_to")
    if start and end:
        return f"Từ ngày {format_date(start)} đến ngày {format_date(end)}"
    if start:
        return f"Từ ngày {format_date(start)}"
    return f"Đến ngày {format_date(end)}" if end else None


def _chosen(label: str, value: Any, words: dict | None = None) -> str | None:
    """The line naming a filter the user set, its value in words when it is a code ("Trạng thái: Đã hủy")."""
    if value in (None, ""):
        return None
    return f"{label}: {words.get(value, value) if words else value}"


# ---------------------------------------------------------------------------------------------------------
# Donations


def _donations_query(session: Session, actor: Actor, filters: dict):
    from fundsvc.donations.models import Donation, Donor, Receipt
    from fundsvc.donations.service import donations_query
    from fundsvc.ledger.models import Fund
    from fundsvc.units.models import Unit

    # The gift's own unit by an alias: donations_query joins Unit only to scope the actor, and an unscoped admin's
    # list would otherwise pair every gift with every unit.
    unit = aliased(Unit)
    return (
        donations_query(session, actor, **filters)
        .with_only_columns(
            Donation.received_on,
            Receipt.code.label("receipt"),
            Donor.name.label("donor"),
            Donor.phone,
            Donor.tax_code,
            Donation.anonymous,
            Donation.amount,
            Donation.method,
            Fund.code.label("fund_code"),
            Fund.name.label("fund_name"),
            unit.name.label("unit"),
            Donation.purpose,
            Donation.in_kind_description,
            Donation.status,
        )
        .join(Donor, Donor.id == Donation.donor_id)
        .join(Fund, Fund.id == Donation.fund_id)
        .join(Receipt, Receipt.donation_id == Donation.id)
        .join(unit, unit.id == Donation.unit_id)
    )


def _donations_layout(session: Session, actor: Actor, filters: dict) -> sheets.Layout:
    from fundsvc.documents.service import METHOD_LABELS
    from fundsvc.privacy import sees_donor_contact

    contact = sees_donor_contact(actor.role)
    columns = (
        sheets.Column("STT", 6, "number"),
        sheets.Column("Ngày", 12, "date"),
        sheets.Column("Số chứng từ", 22),
        sheets.Column("Nhà hảo tâm", 30),
        *((sheets.Column("Điện thoại", 14), sheets.Column("Mã số thuế", 14)) if contact else ()),
        sheets.Column(MONEY, 16, "money"),
        sheets.Column("Hình thức", 14),
        sheets.Column("Quỹ", 32),
        sheets.Column("Đơn vị", 24),
        sheets.Column("Nội dung", 34),
        sheets.Column("Trạng thái", 10),
    )
    fund = None
    if filters.get("fund"):
        from fundsvc.ledger.service import get_fund

        found = get_fund(session, actor, filters["fund"], field="fund")
        fund = f"{found.code} — {found.name}"
    lines = _lines(
        _unit_line(session, actor, filters.get("unit")),
        _period_line(filters),
        _chosen("Quỹ", fund),
        _chosen("Hình thức", filters.get("method"), METHOD_LABELS),
        _chosen("Trạng thái", filters.get("status"), DONATION_STATUS),
        _chosen("Tìm", filters.get("search")),
    )
    return sheets.Layout("DANH SÁCH KHOẢN THU", columns, lines)


def _donation_rows(actor: Actor, layout: sheets.Layout, donations: Iterable[Any]) -> Iterator[sheets.Row]:
    from fundsvc.documents.service import METHOD_LABELS
    from fundsvc.privacy import donor_name_seen_by, sees_donor_contact

    contact = sees_donor_contact(actor.role)
    count = total = 0
    # The columns of _donations_query, unpacked (faster than by name, at 300,000 rows).
    for count, gift in enumerate(donations, 1):
        (
            day,
            receipt,
            donor,
            phone,
            tax_code,
            anonymous,
            amount,
            method,
            fund,
            fund_name,
            unit,
            purpose,
            goods,
            status,
        ) = gift
        if status == "recorded":
            total += amount
        yield [
            count,
            day,
            receipt,
            donor_name_seen_by(actor.role, donor, anonymous=anonymous),
            *((phone, tax_code) if contact else ()),
            amount,
            METHOD_LABELS.get(method, method),
            f"{fund} — {fund_name}",
            unit,
            purpose or goods or "",
            DONATION_STATUS.get(status, status),
        ]
    label = f"TỔNG CỘNG ({count} khoản, không tính khoản đã hủy)"
    yield sheets.Total(layout.aligned({"Nhà hảo tâm": label, MONEY: total}))
    yield sheets.Note(layout.aligned({"Nhà hảo tâm": _words(total)}))


# ---------------------------------------------------------------------------------------------------------
# Donors


def _donors_query(session: Session, actor: Actor, filters: dict):
    from fundsvc.donations.models import Donor
    from fundsvc.donations.service import donors_query
    from fundsvc.units.models import Unit

    return donors_query(actor, search=filters.get("q")).with_only_columns(
        Donor.name, Donor.kind, Donor.phone, Donor.email, Donor.tax_code, Donor.address, Unit.name.label("unit")
    )


def _donors_layout(session: Session, actor: Actor, filters: dict) -> sheets.Layout:
    from fundsvc.privacy import sees_donor_contact

    contact = sees_donor_contact(actor.role)
    columns = (
        sheets.Column("STT", 6, "number"),
        sheets.Column("Tên", 32),
        sheets.Column("Loại", 10),
        *(
            (
                sheets.Column("Điện thoại", 14),
                sheets.Column("Thư điện tử", 24),
                sheets.Column("Mã số thuế", 14),
                sheets.Column("Địa chỉ", 36),
            )
            if contact
            else ()
        ),
        sheets.Column("Đơn vị ghi nhận", 24),
    )
    lines = _lines(_unit_line(session, actor, None), _chosen("Tìm", filters.get("q")))
    return sheets.Layout("DANH SÁCH NHÀ HẢO TÂM", columns, lines)


def _donor_rows(actor: Actor, layout: sheets.Layout, donors: Iterable[Any]) -> Iterator[sheets.Row]:
    from fundsvc.privacy import sees_donor_contact

    contact = sees_donor_contact(actor.role)
    count = 0
    for count, donor in enumerate(donors, 1):
        yield [
            count,
            donor.name,
            DONOR_KIND.get(donor.kind, donor.kind),
            *((donor.phone, donor.email, donor.tax_code, donor.address) if contact else ()),
            donor.unit,
        ]
    yield sheets.Total(layout.aligned({"Tên": f"TỔNG CỘNG ({count} nhà hảo tâm)"}))


# ---------------------------------------------------------------------------------------------------------
# Nominations


def _nominations_query(session: Session, actor: Actor, filters: dict):
    from fundsvc.students.models import Nomination
    from fundsvc.students.service import nominations_query
    from fundsvc.units.models import Unit

    shown = ("student_code", "full_name", "birth_date", "gender", "school", "grade", "level", "status")
    fields = (*shown, *(field for *_, field in _PERSONAL_NOMINATION_COLUMNS))
    return nominations_query(session, actor, **filters).with_only_columns(
        *(getattr(Nomination, field) for field in fields), Unit.name.label("unit")
    )


# (label, width, kind, field) of the columns only the roles that decide on pupils see (fundsvc.privacy).
_PERSONAL_NOMINATION_COLUMNS = (
    ("Hoàn cảnh gia đình", 18, "text", "household"),
    ("Mồ côi", 8, "text", "orphan"),
    ("Khuyết tật", 10, "text", "disability"),
    ("Điểm TB", 9, "decimal", "gpa"),
    ("Học lực", 9, "text", "academic_result"),
    ("Rèn luyện", 10, "text", "conduct"),
    ("Thành tích", 11, "text", "achievement"),
)


_PERSONAL_NOMINATION_SHEET_COLUMNS = tuple(sheets.Column(*column[:3]) for column in _PERSONAL_NOMINATION_COLUMNS)


def _nominations_layout(session: Session, actor: Actor, filters: dict) -> sheets.Layout:
    personal = actor.sees_personal_data
    columns = (
        sheets.Column("STT", 6, "number"),
        sheets.Column("Mã học sinh", 14),
        sheets.Column("Họ và tên", 28),
        *((sheets.Column("Ngày sinh", 12, "date"),) if personal else ()),
        sheets.Column("Giới tính", 8),
        sheets.Column("Trường", 32),
        sheets.Column("Lớp", 7),
        sheets.Column("Cấp học", 10),
        sheets.Column("Đơn vị", 24),
        *(_PERSONAL_NOMINATION_SHEET_COLUMNS if personal else ()),
        sheets.Column("Trạng thái", 10),
    )
    lines = _lines(
        _unit_line(session, actor, filters.get("unit")),
        _chosen("Năm học", (filters.get("academic_year") or "").replace("-", "–")),
        _chosen("Trường", filters.get("school")),
        _chosen("Trạng thái", filters.get("status"), NOMINATION_STATUS),
        _chosen("Tìm", filters.get("search")),
    )
    return sheets.Layout("DANH SÁCH HỒ SƠ ĐỀ CỬ HỌC BỔNG", columns, lines)


def _nomination_rows(actor: Actor, layout: sheets.Layout, nominations: Iterable[Any]) -> Iterator[sheets.Row]:
    from fundsvc.students.vocabulary import VIETNAMESE_WORDS

    personal = actor.sees_personal_data
    count = 0
    for count, n in enumerate(nominations, 1):
        details = [
            VIETNAMESE_WORDS[field].get(getattr(n, field), "") if field in VIETNAMESE_WORDS else getattr(n, field)
            for *_, field in _PERSONAL_NOMINATION_COLUMNS
        ]
        yield [
            count,
            n.student_code or "",
            n.full_name,
            *((n.birth_date,) if personal else ()),
            VIETNAMESE_WORDS["gender"].get(n.gender, ""),
            n.school,
            n.grade,
            LEVEL_LABELS.get(n.level or "", n.level or ""),
            n.unit,
            *(details if personal else ()),
            NOMINATION_STATUS.get(n.status, n.status),
        ]
    yield sheets.Total(layout.aligned({"Họ và tên": f"TỔNG CỘNG ({count} học sinh)"}))


# ---------------------------------------------------------------------------------------------------------
# A round's awards


def _awards_query(session: Session, actor: Actor, filters: dict):
    from fundsvc.allocation.models import Award
    from fundsvc.allocation.service import awards_query
    from fundsvc.students.models import Nomination
    from fundsvc.units.models import Unit

    return (
        awards_query(session, actor, **filters)
        .with_only_columns(
            Award.rank,
            Nomination.student_code,
            Nomination.full_name,
            Nomination.school,
            Nomination.grade,
            Unit.name.label("unit"),
            Award.tier,
            Award.amount,
            Award.status,
            Award.paid_on,
            Award.voucher_code,
        )
        .join(Nomination, Nomination.id == Award.nomination_id)
        .join(Unit, Unit.id == Nomination.unit_id)
    )


def _awards_layout(session: Session, actor: Actor, filters: dict) -> sheets.Layout:
    from fundsvc.allocation.service import get_round

    from .ceremony import round_title

    round_ = get_round(session, actor, filters["round_id"])
    tiers = actor.sees_personal_data
    columns = (
        sheets.Column("STT", 6, "number"),
        sheets.Column("Hạng", 6, "number"),
        sheets.Column("Mã học sinh", 14),
        sheets.Column("Họ và tên", 28),
        sheets.Column("Trường", 32),
        sheets.Column("Lớp", 7),
        sheets.Column("Đơn vị", 24),
        *((sheets.Column("Mức / diện", 16),) if tiers else ()),
        sheets.Column(MONEY, 16, "money"),
        sheets.Column("Trạng thái", 10),
        sheets.Column("Ngày chi", 12, "date"),
        sheets.Column("Số phiếu chi", 18),
    )
    lines = (
        round_title(round_.name, round_.academic_year),
        *_lines(
            f"Đơn vị xét: {round_.unit.name}",
            _chosen("Trạng thái", filters.get("status"), AWARD_STATUS),
            _chosen("Tìm", filters.get("search")),
        ),
    )
    return sheets.Layout("DANH SÁCH SUẤT HỌC BỔNG", columns, lines)


def _award_rows(actor: Actor, layout: sheets.Layout, awards: Iterable[Any]) -> Iterator[sheets.Row]:
    tiers = actor.sees_personal_data
    count = total = 0
    for count, award in enumerate(awards, 1):
        if award.status != "cancelled":
            total += award.amount
        yield [
            count,
            award.rank,
            award.student_code or "",
            award.full_name,
            award.school,
            award.grade,
            award.unit,
            *((award.tier or "",) if tiers else ()),
            award.amount,
            AWARD_STATUS.get(award.status, award.status),
            award.paid_on,
            award.voucher_code or "",
        ]
    label = f"TỔNG CỘNG ({count} suất, không tính suất đã hủy)"
    yield sheets.Total(layout.aligned({"Họ và tên": label, MONEY: total}))
    yield sheets.Note(layout.aligned({"Họ và tên": _words(total)}))


def _exports() -> dict[str, ListExport]:
    from fundsvc.allocation.schemas import AwardArgs
    from fundsvc.donations.schemas import DonationArgs, DonorSearchArgs
    from fundsvc.students.schemas import NominationArgs

    exports = (
        ListExport("donations", "khoan-thu", DonationArgs, _donations_query, _donations_layout, _donation_rows),
        ListExport("donors", "nha-hao-tam", DonorSearchArgs, _donors_query, _donors_layout, _donor_rows),
        ListExport(
            "nominations", "ho-so-de-cu", NominationArgs, _nominations_query, _nominations_layout, _nomination_rows
        ),
        ListExport("awards", "suat-hoc-bong", AwardArgs, _awards_query, _awards_layout, _award_rows),
    )
    return {export.name: export for export in exports}


LISTS = ("donations", "donors", "nominations", "awards")
# The lists whose rows carry donors' contact details for the roles that see them: their export by such a role is a
# kind of its own, whose job only those roles may see (fundsvc.jobs.service.may_see).
CONTACT_LISTS = ("donations", "donors")
CONTACT_READERS = ("treasurer",)  # as fundsvc.privacy.sees_donor_contact (admins always)


def kind_name(name: str, ext: str, *, contact: bool) -> str:
    """The job kind of a list's export: "donations.xlsx", or "donations-contact.xlsx" with contact details."""
    return f"{name}-contact.{ext}" if contact else f"{name}.{ext}"


def kind_for(actor: Actor, name: str, ext: str) -> str:
    """The kind of the export `actor` asks for: with contact details when the actor's list shows them."""
    from fundsvc.privacy import sees_donor_contact

    return kind_name(name, ext, contact=name in CONTACT_LISTS and sees_donor_contact(actor.role))


def list_export(name: str) -> ListExport:
    return _exports()[name]


# ---------------------------------------------------------------------------------------------------------
# What the views and the job queue call


def count(session: Session, actor: Actor, name: str, filters: dict) -> int:
    """How many rows the list has with these filters (404/403/422 as the list answers them)."""
    return count_rows(session, list_export(name).query(session, actor, filters))


def data_version(session: Session) -> int:
    """A number that grows with every change a list could show: every write of the service is audited, so the
    last audit event's id. Part of a big export's job key: the same request joins the same job until it changes."""
    from fundsvc.audit.models import AuditEvent

    return session.scalar(select(func.max(AuditEvent.id))) or 0


def filename(name: str, ext: str) -> str:
    return f"{list_export(name).stem}-{today_in_vietnam().isoformat()}.{ext}"


def write(session: Session, actor: Actor, name: str, ext: str, filters: dict, out: IO[bytes]) -> None:
    """The list `name` with `filters` (the list's query arguments, as its schema loads them) as `ext` into the
    binary file `out`."""
    export = list_export(name)
    layout = export.layout(session, actor, filters)
    query = export.query(session, actor, filters).execution_options(yield_per=BATCH)
    rows = export.rows(actor, layout, session.connection().execute(query))  # Core rows: no ORM work per row
    (sheets.write_xlsx if ext == "xlsx" else sheets.write_csv)(layout, rows, out)


def stored_filters(name: str, filters: dict) -> dict:
    """The filters as a job keeps them (the query's own names and text: dates ISO), through the list's schema."""
    export = list_export(name)
    extra = {k: v for k, v in filters.items() if k not in export.args().fields}
    dumped = export.args().dump({k: v for k, v in filters.items() if v is not None and k not in extra})
    return {**extra, **dumped}


def loaded_filters(name: str, params: dict) -> dict:
    """stored_filters read back (the awards' round id passes as it is)."""
    export = list_export(name)
    fields = export.args().fields
    data_keys = {field.data_key or key for key, field in fields.items()}
    extra = {k: v for k, v in params.items() if k not in data_keys}
    return {**extra, **export.args().load({k: v for k, v in params.items() if k in data_keys})}
