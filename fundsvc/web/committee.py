"""Committee pages: nominations import and list, rounds (rules, allocation, explanation, approval), awards."""

from __future__ import annotations

import json

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from marshmallow import ValidationError

from fundsvc.allocation import decisions
from fundsvc.allocation import service as rounds
from fundsvc.allocation.models import AWARD_STATUSES
from fundsvc.allocation.schemas import CancelIn, DisburseIn, DisburseListIn
from fundsvc.documents.words import amount_in_words
from fundsvc.errors import Invalid
from fundsvc.extensions import db
from fundsvc.messages import said, say
from fundsvc.students import service as nominations
from fundsvc.students.models import NOMINATION_STATUSES, Nomination
from fundsvc.units.service import list_units
from fundsvc.web.auth import roles_required
from fundsvc.web.util import (
    REFUSED,
    Page,
    current_academic_year,
    export_links,
    flatten_errors,
    paginate,
    parse_date,
    parse_int,
    route_exists,
    today,
)
from fundsvc.web.views import bp

PRESET_NAMES = {"khuyen_hoc": _l("Học bổng Khuyến học"), "khuyen_tai": _l("Học bổng Khuyến tài")}
CEREMONY_DOCUMENTS = [  # (path suffix, label): served by the ceremony documents package when present
    ("award-list.pdf", _l("Danh sách khen thưởng (PDF)")),
    ("award-list.xlsx", _l("Danh sách khen thưởng (Excel)")),
    ("award-list.csv", _l("Danh sách khen thưởng (CSV)")),
    ("signature-sheet.pdf", _l("Danh sách ký nhận (PDF)")),
    ("certificates.pdf", _l("Giấy chứng nhận (PDF)")),
]


# Nominations


@bp.route("/nominations/import", methods=["GET", "POST"])
@roles_required("committee")
def nominations_import():
    """Upload a schools' spreadsheet; every bad row is listed and nothing is stored until the file is clean."""
    year = (request.form.get("academic_year") or current_academic_year()).strip()
    context = {
        "year": year,
        "rows": None,
        "warnings": [],
        "outcome": None,
        "filename": None,
        "template_url": url_for("nominations.nominations_template"),
    }
    if request.method == "GET":
        return render_template("web/nominations_import.html", **context)
    upload = request.files.get("file")
    dry_run = bool(request.form.get("dry_run"))
    from fundsvc.students.schemas import ACADEMIC_YEAR

    try:
        ACADEMIC_YEAR(year)
    except ValidationError:
        flash(_("Năm học viết dạng 2024-2025."), "error")
        return render_template("web/nominations_import.html", **context), 422
    if upload is None or not upload.filename:
        flash(_("Chọn tệp .xlsx hoặc .csv để nhập."), "error")
        return render_template("web/nominations_import.html", **context), 422
    context["filename"] = upload.filename
    try:
        outcome = nominations.import_nominations(
            db.session, g.actor, upload.read(), upload.filename, year, dry_run=dry_run
        )
    except Invalid as error:
        errors = said(error.errors)  # the parser's messages in the reader's language (fundsvc.messages)
        context["rows"] = errors.get("rows")
        context["warnings"] = errors.get("warnings") or []
        context["header_row"] = errors.get("header_row")
        context["other_errors"] = (
            []
            if context["rows"]
            else flatten_errors({k: v for k, v in errors.items() if k not in ("warnings", "header_row")})
        )
        flash(say(error.message), "error")
        return render_template("web/nominations_import.html", **context), 422
    context["outcome"] = outcome
    context["warnings"] = said(outcome.warnings)
    if dry_run:
        flash(
            _(
                "Kiểm tra xong, tệp hợp lệ: %(created)s hồ sơ mới, %(updated)s hồ sơ cập nhật. Chưa lưu gì.",
                created=outcome.created,
                updated=outcome.updated,
            ),
            "success",
        )
    else:
        flash(
            _(
                "Đã nhập %(created)s hồ sơ mới và cập nhật %(updated)s hồ sơ.",
                created=outcome.created,
                updated=outcome.updated,
            ),
            "success",
        )
    return render_template("web/nominations_import.html", **context)


@bp.get("/nominations")
def nominations_list():
    """Nominations of your units, by academic year, unit, school and status."""
    args = request.args
    year = args.get("academic_year", current_academic_year()).strip()
    status = args.get("status") if args.get("status") in NOMINATION_STATUSES else None
    unit = (args.get("unit") or "").strip() or None
    school = (args.get("school") or "").strip() or None
    q = (args.get("q") or "").strip()[:100] or None
    filters = {"academic_year": year or None, "unit": unit, "school": school, "status": status, "search": q}
    page = paginate(nominations.nominations_query(db.session, g.actor, **filters))
    schools = db.session.scalars(
        nominations.nominations_query(db.session, g.actor, academic_year=year or None)
        .with_only_columns(Nomination.school)
        .distinct()
        .order_by(None)
        .order_by(Nomination.school)
    ).all()
    return render_template(
        "web/nominations.html",
        page=page,
        args=args,
        year=year,
        schools=schools,
        units=list_units(db.session, g.actor),
        statuses=NOMINATION_STATUSES,
        exports=export_links("nominations", filters),
    )


# Rounds


@bp.get("/rounds")
def rounds_list():
    """Scholarship rounds of your units, newest first."""
    year = (request.args.get("academic_year") or "").strip() or None
    page = paginate(rounds.rounds_query(g.actor, academic_year=year))
    return render_template("web/rounds.html", page=page, presets=PRESET_NAMES, year=year)


def _names(round_, ids: list[int]) -> dict[int, Nomination]:
    if not ids:
        return {}
    query = nominations.nominations_query(db.session, g.actor, academic_year=round_.academic_year)
    return {n.id: n for n in db.session.scalars(query.where(Nomination.id.in_(ids))).unique()}


RESULT_TABS = ("awarded", "waitlisted", "ineligible", "cancelled")
RESULT_PAGE = 200


@bp.get("/rounds/<int:round_id>")
def round_detail(round_id):
    """A round: its rules, the ranked allocation with each pupil's explanation, approval, awards."""
    round_ = rounds.get_round(db.session, g.actor, round_id)
    tab = request.args.get("tab") if request.args.get("tab") in RESULT_TABS else "awarded"
    number = parse_int(request.args.get("page")) or 1
    personal = g.actor.sees_personal_data
    result = decisions.result_page(db.session, round_, tab, number, RESULT_PAGE, personal=personal)
    entries, page, names = [], None, {}
    if result:
        entries = result.entries
        page = Page(entries, result.number, result.pages, result.counts.get(tab, 0))
        names = _names(round_, [e["nomination_id"] for e in entries])
    totals = rounds.round_totals(db.session, round_.id) if round_.status == "approved" else {}
    documents = _ceremony_documents(round_.id) if round_.status == "approved" else []
    return render_template(
        "web/round.html",
        round=round_,
        result=result,
        tab=tab,
        entries=entries,
        page=page,
        names=names,
        totals=totals,
        documents=documents,
        rules_json=json.dumps(round_.rules, ensure_ascii=False, indent=2),
    )


def _ceremony_documents(round_id: int) -> list[tuple[str, str]]:
    out = []
    for suffix, label in CEREMONY_DOCUMENTS:
        path = f"/api/v1/rounds/{round_id}/{suffix}"
        if route_exists(path):
            out.append((path, label))
    return out


@bp.post("/rounds/<int:round_id>/allocate")
@roles_required("committee")
def round_allocate(round_id):
    """Run the round's rules (again) over the year's nominations."""
    try:
        result = rounds.allocate(db.session, g.actor, round_id)
    except REFUSED as error:
        flash(error.message, "error")
    else:
        flash(
            _(
                "Đã phân bổ: %(n)s em được nhận, tổng %(amount)s đồng; %(w)s em trong danh sách chờ.",
                n=len(result["awarded"]),
                amount=f"{result['allocated']:,}".replace(",", "."),
                w=len(result["waitlisted"]),
            ),
            "success",
        )
    return redirect(url_for("web.round_detail", round_id=round_id))


@bp.post("/rounds/<int:round_id>/approve")
@roles_required("committee")
def round_approve(round_id):
    """Approve the allocation: awards created, their total reserved on the fund."""
    try:
        rounds.approve(db.session, g.actor, round_id)
    except REFUSED as error:
        flash(error.message, "error")
        return redirect(url_for("web.round_detail", round_id=round_id))
    flash(_("Đã duyệt đợt xét. Các suất học bổng đã được tạo và số tiền đã được giữ trên quỹ."), "success")
    return redirect(url_for("web.round_awards", round_id=round_id))


@bp.get("/rounds/<int:round_id>/explain/<int:nomination_id>")
@roles_required("committee")
def round_explain(round_id, nomination_id):
    """Why this pupil was awarded, waitlisted or ineligible."""
    round_ = rounds.get_round(db.session, g.actor, round_id)
    explanation = rounds.explain(db.session, g.actor, round_id, nomination_id)
    nomination = nominations.get_nomination(db.session, g.actor, nomination_id)
    return render_template("web/explain.html", round=round_, x=explanation, nomination=nomination)


@bp.get("/rounds/<int:round_id>/awards")
def round_awards(round_id):
    """The round's awards: pay (treasurer), cancel (committee), documents."""
    round_ = rounds.get_round(db.session, g.actor, round_id)
    status = request.args.get("status") if request.args.get("status") in AWARD_STATUSES else None
    search = (request.args.get("q") or "").strip()[:100] or None
    query = rounds.awards_query(db.session, g.actor, round_id, status=status, search=search)
    page = paginate(query, size=100)
    return render_template(
        "web/awards.html",
        round=round_,
        page=page,
        args=request.args,
        statuses=AWARD_STATUSES,
        totals=rounds.round_totals(db.session, round_id),
        lists_to_pay=rounds.lists_to_pay(db.session, g.actor, round_id),
        today=today(),
        documents=_ceremony_documents(round_id),
        exports=export_links("awards", {"round_id": round_id, "status": status, "search": search}),
    )


@bp.get("/awards/<int:award_id>")
def award_detail(award_id):
    """One award: pay it with a voucher, or cancel it (the next pupil on the waitlist is promoted)."""
    award = rounds.get_award(db.session, g.actor, award_id)
    voucher = url_for("documents.voucher_pdf", award_id=award.id) if award.voucher_code else None
    words = amount_in_words(
        award.amount,
        style=current_app.config.get("WORDS_STYLE", "north"),
        chan=current_app.config.get("WORDS_CHAN", False),
    )
    return render_template(
        "web/award.html", award=award, voucher=voucher, words=words, today=today(), values=request.args, errors={}
    )


@bp.post("/awards/<int:award_id>/disburse")
@roles_required("treasurer")
def award_disburse(award_id):
    """Pay the award in cash: a numbered payment voucher (Phiếu chi) to print and sign."""
    paid_on = parse_date(request.form.get("paid_on"))
    body = {
        "paid_on": paid_on.isoformat() if paid_on else "",
        "received_by": (request.form.get("received_by") or "").strip(),
    }
    try:
        data = DisburseIn().load(body)
        award = rounds.disburse(db.session, g.actor, award_id, data["paid_on"], data["received_by"])
    except ValidationError as error:
        messages = error.messages
        flash(
            _("Chưa chi được: cần ngày chi và người nhận tiền.")
            + " "
            + "; ".join(f"{k}: {m}" for k, m in flatten_errors(messages)),
            "error",
        )
        return redirect(url_for("web.award_detail", award_id=award_id))
    except REFUSED as error:
        flash(error.message, "error")
        return redirect(url_for("web.award_detail", award_id=award_id))
    flash(
        _("Đã chi học bổng, phiếu chi số %(code)s. In phiếu chi để người nhận ký.", code=award.voucher_code), "success"
    )
    return redirect(url_for("web.award_detail", award_id=award_id))


@bp.post("/rounds/<int:round_id>/disburse")
@roles_required("treasurer")
def round_disburse_list(round_id):
    """Pay a school's whole list at the ceremony: one Phiếu chi for the total, the signature sheet its attachment."""
    paid_on = parse_date(request.form.get("paid_on"))
    body = {"paid_on": paid_on.isoformat() if paid_on else "", "school": (request.form.get("school") or "").strip()}
    try:
        data = DisburseListIn().load({key: value for key, value in body.items() if value})
        awards = rounds.disburse_list(db.session, g.actor, round_id, data["paid_on"], school=data.get("school"))
    except ValidationError:
        flash(_("Chưa chi được: cần ngày chi và trường."), "error")
    except REFUSED as error:
        flash(error.message, "error")
    else:
        flash(
            _(
                "Đã chi %(n)s suất, tổng %(amount)s đồng, theo phiếu chi số %(code)s. "
                "In phiếu chi và danh sách ký nhận.",
                n=len(awards),
                amount=f"{sum(a.amount for a in awards):,}".replace(",", "."),
                code=awards[0].voucher_code,
            ),
            "success",
        )
    return redirect(url_for("web.round_awards", round_id=round_id))


@bp.post("/awards/<int:award_id>/cancel")
@roles_required("committee")
def award_cancel(award_id):
    """Cancel an unpaid award with a reason; the waitlisted pupils the money now fits are promoted."""
    try:
        data = CancelIn().load({"reason": (request.form.get("reason") or "").strip()})
    except ValidationError:
        flash(_("Cần ghi lý do hủy."), "error")
        return redirect(url_for("web.award_detail", award_id=award_id))
    try:
        award, promoted = rounds.cancel(db.session, g.actor, award_id, data["reason"])
    except REFUSED as error:
        flash(error.message, "error")
        return redirect(url_for("web.award_detail", award_id=award_id))
    if promoted:
        flash(
            ngettext(
                "Đã hủy suất của %(name)s. Em %(next)s trong danh sách chờ được nhận thay.",
                "Đã hủy suất của %(name)s. %(num)d em trong danh sách chờ được nhận thay: %(next)s.",
                len(promoted),
                name=award.nomination.full_name,
                next=", ".join(
                    _("%(name)s (hạng %(rank)s)", name=a.nomination.full_name, rank=a.rank) for a in promoted
                ),
            ),
            "success",
        )
    else:
        flash(
            _(
                "Đã hủy suất của %(name)s. Không còn em nào trong danh sách chờ vừa với số tiền còn lại.",
                name=award.nomination.full_name,
            ),
            "success",
        )
    return redirect(url_for("web.round_awards", round_id=award.round_id))
