"""One nomination's pages: everything on file about it and where it stands in the rounds, its correction, its
withdrawal. The rules are the services' (``students.service``, ``students.withdrawal``, ``allocation.service``); the
pages read the form into the API's own schemas and show what is refused beside the field or on top."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from marshmallow import ValidationError

from fundsvc.allocation import service as rounds
from fundsvc.allocation.models import HELD
from fundsvc.audit.service import events_of, readable_changes
from fundsvc.errors import Invalid
from fundsvc.extensions import db
from fundsvc.students import service as nominations
from fundsvc.students import withdrawal
from fundsvc.students.schemas import NominationPatch, WithdrawIn
from fundsvc.students.vocabulary import (
    ACHIEVEMENT_VALUES,
    GENDER_VALUES,
    HOUSEHOLD_VALUES,
    LEVEL_VALUES,
    RESULT_VALUES,
)
from fundsvc.units.service import list_units
from fundsvc.web.auth import roles_required
from fundsvc.web.util import REFUSED, flatten_errors, parse_date
from fundsvc.web.views import bp

# The form's fields by kind: typed text (empty → none), text that must be given, choices, boxes to tick.
OPTIONAL_TEXT = ("student_code", "ethnicity", "guardian", "note")
REQUIRED_TEXT = ("full_name", "school", "grade")
CHOICES = {
    "gender": GENDER_VALUES,
    "level": LEVEL_VALUES,
    "household": HOUSEHOLD_VALUES,
    "academic_result": RESULT_VALUES,
    "conduct": RESULT_VALUES,
    "achievement": ACHIEVEMENT_VALUES,
}
FLAGS = ("orphan", "disability")
# What a field needs, said beside it when the schema's own message is a generic one (English, for a value the form
# cannot send unless tampered with, or an empty required field).
FIELD_HINTS = {
    "full_name": _l("Cần ghi họ và tên (tối đa 200 ký tự)."),
    "school": _l("Cần ghi tên trường (tối đa 200 ký tự)."),
    "grade": _l("Cần ghi lớp, ví dụ 9A, 12A1 hoặc Năm 2 (tối đa 20 ký tự)."),
    "birth_date": _l("Ngày sinh dạng dd/mm/yyyy."),
    "gpa": _l("Điểm TB là một số từ 0 đến 10, ví dụ 8,5."),
    "unit": _l("Chọn một đơn vị trong danh sách."),
    "student_code": _l("Mã học sinh tối đa 40 ký tự."),
    "ethnicity": _l("Dân tộc tối đa 60 ký tự."),
    "guardian": _l("Người giám hộ tối đa 200 ký tự."),
    "note": _l("Ghi chú tối đa 1000 ký tự."),
}
CHOICE_HINT = _l("Chọn một giá trị trong danh sách.")


def _field_message(field: str, message: str) -> str:
    """The schema's or the import's message for a field; a generic English one replaced by what the field needs."""
    if not message.isascii():
        return message
    return str(FIELD_HINTS.get(field, CHOICE_HINT))


def _form_values(nomination) -> dict:
    """A nomination as the edit form shows it."""
    values = {name: getattr(nomination, name) or "" for name in (*OPTIONAL_TEXT, *REQUIRED_TEXT, *CHOICES)}
    values["birth_date"] = nomination.birth_date.isoformat() if nomination.birth_date else ""
    values["gpa"] = "" if nomination.gpa is None else str(nomination.gpa).replace(".", ",")
    values["unit"] = nomination.unit.code
    values.update({flag: bool(getattr(nomination, flag)) for flag in FLAGS})
    return values


def _posted_values(form) -> dict:
    values = {name: (form.get(name) or "").strip() for name in (*OPTIONAL_TEXT, *REQUIRED_TEXT, *CHOICES)}
    values.update(
        birth_date=(form.get("birth_date") or "").strip(),
        gpa=(form.get("gpa") or "").strip(),
        unit=(form.get("unit") or "").strip(),
    )
    values.update({flag: bool(form.get(flag)) for flag in FLAGS})
    return values


def _patch_body(values: dict) -> dict:
    """The form's values as the API's PATCH body: empty text and choices are none, an empty level is the one the
    class gives, a mark may be written 8,5, a date as the date box or dd/mm/yyyy sends it."""
    body: dict = {name: values[name] or None for name in (*OPTIONAL_TEXT, *CHOICES)}
    body.update({name: values[name] for name in (*REQUIRED_TEXT, *FLAGS, "unit")})
    for name in ("household", "achievement"):
        body[name] = values[name] or "none"
    if not values["level"]:
        del body["level"]
    born = parse_date(values["birth_date"])
    body["birth_date"] = born.isoformat() if born else values["birth_date"]
    body["gpa"] = values["gpa"].replace(",", ".") or None
    return body


def _edit_page(nomination, values: dict, errors: dict, status: int = 200):
    refused = nominations.correction_refused(nominations.held_awards(db.session, nomination.id))
    if nomination.status == "withdrawn":
        refused = _("Hồ sơ đã rút, không sửa được.")
    page = render_template(
        "web/nomination_edit.html",
        nomination=nomination,
        values=values,
        errors=errors,
        refused=refused,
        units=list_units(db.session, g.actor),
        choices=CHOICES,
    )
    return page, status


@bp.get("/nominations/<int:nomination_id>")
def nomination_detail(nomination_id):
    """A nomination whole: the pupil and the school's reference, the file it came from, where it stands in the
    year's rounds (with the explanation), its awards and payments, its history; correct and withdraw from here."""
    nomination = nominations.get_nomination(db.session, g.actor, nomination_id)
    standings = rounds.standings(db.session, g.actor, nomination)
    awards = rounds.nomination_awards(db.session, nomination.id)
    records = [("nomination", nomination.id), *(("award", a.id) for a in awards)]
    if nomination.source_sha256:
        records.append(("import", nomination.source_sha256[:16]))
    events = events_of(db.session, records)
    imported = next((e for e in reversed(events) if e.entity == "import"), None)
    history = [e for e in events if e.entity != "import"]
    return render_template(
        "web/nomination.html",
        nomination=nomination,
        standings=standings,
        awards=awards,
        imported=imported,
        history=history,
        changes={e.id: [c for c in readable_changes(e.before, e.after) if c.changed] for e in history},
        refused=nominations.correction_refused([a for a in awards if a.status in HELD]),
        paid=[a for a in awards if a.status == "paid"],
        to_cancel=[a for a in awards if a.status == "approved"],
    )


@bp.route("/nominations/<int:nomination_id>/edit", methods=["GET", "POST"])
@roles_required("committee")
def nomination_edit(nomination_id):
    """Correct a nomination (audited), each value checked as the import and the API check it."""
    nomination = nominations.get_nomination(db.session, g.actor, nomination_id)
    if request.method == "GET":
        return _edit_page(nomination, _form_values(nomination), {})
    values = _posted_values(request.form)
    try:
        changes = NominationPatch().load(_patch_body(values))
        nominations.update_nomination(db.session, g.actor, nomination_id, changes)
    except ValidationError as error:
        errors = {path: _field_message(path, message) for path, message in flatten_errors(error.messages)}
        flash(_("Chưa lưu được: xem các ô báo lỗi bên dưới."), "error")
        return _edit_page(nomination, values, errors, 422)
    except Invalid as error:  # the class the import's rule cannot read, an unknown unit: beside the field
        errors = {path: message for path, message in flatten_errors(error.errors)}
        flash(_("Chưa lưu được: xem các ô báo lỗi bên dưới."), "error")
        return _edit_page(nomination, values, errors, 422)
    except REFUSED as error:  # withdrawn meanwhile, an award held: said on top
        flash(error.message, "error")
        return _edit_page(nomination, values, {}, error.status)
    flash(_("Đã lưu thay đổi của hồ sơ. Nội dung trước và sau được ghi vào nhật ký."), "success")
    return redirect(url_for("web.nomination_detail", nomination_id=nomination_id))


@bp.post("/nominations/<int:nomination_id>/withdraw")
@roles_required("committee")
def nomination_withdraw(nomination_id):
    """Withdraw a nomination with a reason, once confirmed; an unpaid award it holds is cancelled and the waitlist
    promoted, a paid one refuses."""
    back = redirect(url_for("web.nomination_detail", nomination_id=nomination_id))
    try:
        data = WithdrawIn().load({"reason": (request.form.get("reason") or "").strip()})
    except ValidationError:
        flash(_("Cần ghi lý do rút hồ sơ."), "error")
        return back
    if not request.form.get("confirm"):
        flash(_("Đánh dấu ô xác nhận để rút hồ sơ."), "error")
        return back
    try:
        outcome = withdrawal.withdraw_nomination(db.session, g.actor, nomination_id, data["reason"])
    except REFUSED as error:
        flash(error.message, "error")
        return back
    flash(_withdrawn_message(outcome), "success")
    return back


def _withdrawn_message(outcome: withdrawal.Withdrawal) -> str:
    name, promoted = outcome.nomination.full_name, outcome.promoted
    if not outcome.cancelled:
        return _("Đã rút hồ sơ của %(name)s.", name=name)
    if not promoted:
        return _(
            "Đã rút hồ sơ của %(name)s và hủy suất học bổng của em. "
            "Không còn em nào trong danh sách chờ vừa với số tiền còn lại.",
            name=name,
        )
    return ngettext(
        "Đã rút hồ sơ của %(name)s và hủy suất học bổng của em. Em %(next)s trong danh sách chờ được nhận thay.",
        "Đã rút hồ sơ của %(name)s và hủy suất học bổng của em. "
        "%(num)d em trong danh sách chờ được nhận thay: %(next)s.",
        len(promoted),
        name=name,
        next=", ".join(_("%(name)s (hạng %(rank)s)", name=a.nomination.full_name, rank=a.rank) for a in promoted),
    )
