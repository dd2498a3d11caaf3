"""Treasurer pages: the fast donation form, receipts, the list of gifts, voids, donors."""

from __future__ import annotations

import secrets

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from fundsvc.documents.words import amount_in_words, format_vnd
from fundsvc.donations import service
from fundsvc.donations.models import DONATION_STATUSES, METHODS, Donation, Donor
from fundsvc.donations.schemas import DonationIn, DonorPatch, VoidIn
from fundsvc.errors import DomainError
from fundsvc.extensions import db
from fundsvc.idempotency import request_fingerprint
from fundsvc.ledger.accounts import list_accounts
from fundsvc.ledger.service import list_positions
from fundsvc.privacy import donor_seen_by
from fundsvc.units.service import list_units
from fundsvc.web.auth import roles_required
from fundsvc.web.util import (
    REFUSED,
    export_links,
    flatten_errors,
    paginate,
    parse_amount,
    parse_date,
    parse_int,
    today,
)
from fundsvc.web.views import bp

DONOR_FIELDS = ("name", "kind", "phone", "address", "tax_code")


def _words(amount: int) -> str:
    from flask import current_app

    return amount_in_words(
        amount, style=current_app.config.get("WORDS_STYLE", "north"), chan=current_app.config.get("WORDS_CHAN", False)
    )


def _form_choices():
    actor = g.actor
    units = list_units(db.session, actor)
    funds = [p.fund for p in list_positions(db.session, actor)]
    return units, funds


# Where the service names a field other than the form's: a closed month is the date's fault.
FIELD_OF_ERROR = {"date": "received_on"}
# What each form field asks for, shown in Vietnamese when the schema's own message is in English.
FIELD_HINTS = {
    "donor_name": _l("Cần tên nhà hảo tâm"),
    "donor_phone": _l("Số điện thoại không hợp lệ"),
    "donor_tax_code": _l("Mã số thuế gồm 10 chữ số, có thể thêm -NNN"),
    "amount": _l("Số tiền phải là số nguyên dương"),
    "received_on": _l("Nhập ngày nhận, không sau hôm nay"),
    "in_kind_description": _l("Cần mô tả hiện vật"),
    "quantity": _l("Số lượng là số nguyên dương"),
    "unit_of_measure": _l("Đơn vị tính tối đa 40 ký tự"),
    "account": _l("Chọn tài khoản ngân hàng nhận tiền"),
    "bank_reference": _l("Mã giao dịch tối đa 100 ký tự"),
}


def _form_field(path: str) -> str:
    """The form field a schema or service error names (donor.phone → donor_phone)."""
    path = FIELD_OF_ERROR.get(path, path)
    return path.replace("donor.", "donor_")


def _field_message(field: str, message: str) -> str:
    """A schema message for the page: Vietnamese first, the English one kept as its gloss."""
    if message.isascii() and field in FIELD_HINTS:
        return f"{FIELD_HINTS[field]} ({message})"
    return message


def _donation_data(form) -> tuple[dict, dict]:  # noqa: C901 — a form's fields read one by one into the service's input
    """The API's DonationIn body from the form, validated by the same schema; (data, errors by field)."""
    errors: dict[str, str] = {}
    body: dict = {"method": form.get("method") or "cash", "received_on": form.get("received_on") or ""}
    amount = parse_amount(form.get("amount"))
    if amount is None:
        errors["amount"] = _("Nhập số tiền bằng chữ số, ví dụ 1.000.000")
    else:
        body["amount"] = amount
    # The donor picked in the donor box, or the answer to "is it this donor?" (use_donor, new_donor).
    donor_id = parse_int(form.get("donor_id")) or parse_int(form.get("use_donor"))
    if donor_id:
        body["donor_id"] = donor_id
    else:
        donor = {k: (form.get(f"donor_{k}") or "").strip() for k in DONOR_FIELDS}
        body["donor"] = {k: v for k, v in donor.items() if v}
        body["donor"].setdefault("name", "")
        body["new_donor"] = bool(form.get("new_donor"))
    for key in ("fund", "unit", "purpose"):
        if (form.get(key) or "").strip():
            body[key] = form[key].strip()
    # Only the fields of the chosen method are sent: the others may still hold what was typed before a change.
    if body["method"] == "in_kind":
        for key in ("in_kind_description", "unit_of_measure"):
            body[key] = (form.get(key) or "").strip() or None
        quantity = (form.get("quantity") or "").strip()
        if quantity:
            body["quantity"] = parse_int(quantity)
            if body["quantity"] is None:
                errors["quantity"] = str(FIELD_HINTS["quantity"])
    elif body["method"] == "bank_transfer":
        body["account"] = parse_int(form.get("account"))
        body["bank_reference"] = (form.get("bank_reference") or "").strip() or None
    body["anonymous"] = bool(form.get("anonymous"))
    try:
        data = DonationIn().load(body)
    except ValidationError as error:
        for path, message in flatten_errors(error.messages):
            field = _form_field(path)
            errors.setdefault(field, _field_message(field, message))
        return body, errors
    if errors:
        return body, errors
    return data, {}


def _service_errors(error: DomainError) -> dict[str, str]:
    """A refusal of the service shown beside each field it names, in its own (Vietnamese) words."""
    return {_form_field(path): error.message for path, _message in flatten_errors(error.errors)}


def bank_accounts(unit_code: str | None) -> list:
    """The bank accounts a transfer to the unit may have reached (none when no unit is chosen)."""
    if not unit_code:
        return []
    try:
        return [p.account for p in list_accounts(db.session, g.actor, unit_code) if p.account.kind == "bank"]
    except DomainError:
        return []  # an unknown unit in the form: the schema or the service says so beside that field


def _form_unit(values: dict) -> str | None:
    """The unit the gift goes to: the one chosen in the form, else the user's own."""
    from fundsvc.units.models import Unit

    if values.get("unit"):
        return values["unit"]
    unit = db.session.get(Unit, g.actor.unit_id) if g.actor.unit_id else None
    return unit.code if unit else None


def _render_form(
    values: dict,
    errors: dict | None = None,
    duplicates=None,
    status: int = 200,
    donor_question: service.DonorNameDiffers | None = None,
):
    units, funds = _form_choices()
    accounts = bank_accounts(_form_unit(values))
    if len(accounts) == 1 and not values.get("account"):
        values = {**values, "account": str(accounts[0].id)}
    return render_template(
        "web/donation_form.html",
        values=values,
        errors=errors or {},
        duplicates=duplicates,
        donor_question=donor_question,
        units=units,
        funds=funds,
        accounts=accounts,
        methods=METHODS,
        form_key=values.get("form_key") or secrets.token_urlsafe(16),
    ), status


@bp.route("/donations/new", methods=["GET", "POST"])
@roles_required("treasurer")
def donation_new():
    """The fast donation form: keyboard only, ends on the receipt ready to print."""
    if request.method == "GET":
        year = today().year
        return _render_form(
            {
                "received_on": today().isoformat(),
                "method": "cash",
                "purpose": _("Ủng hộ Quỹ Khuyến học năm %(year)s", year=year),
            }
        )[0]
    form = request.form.to_dict()
    data, errors = _donation_data(request.form)
    if errors:
        flash(_("Chưa ghi được: xem các ô báo lỗi bên dưới."), "error")
        return _render_form(form, errors, status=422)
    if not form.get("confirm_duplicate"):
        donor = data.get("donor") or {}
        duplicates = service.find_duplicates(
            db.session,
            g.actor,
            donor_id=data.get("donor_id"),
            name=donor.get("name"),
            phone=donor.get("phone"),
            amount=data["amount"],
            day=data["received_on"],
        )
        if duplicates:
            return _render_form(form, {}, duplicates, status=409)
    key = form.get("form_key") or secrets.token_urlsafe(16)
    try:
        donation, replayed = service.record_donation(
            db.session, g.actor, data, idempotency_key=f"web:{key}", fingerprint=request_fingerprint(data)
        )
    except service.DonorNameDiffers as question:
        # The phone or tax code is a donor's of another name: the form asks whose gift it is.
        return _render_form(form, {}, donor_question=question, status=409)
    except DomainError as error:
        if "Idempotency-Key" in error.errors:
            # The same form was already recorded and then edited (browser Back): a fresh form, nothing lost.
            form["form_key"] = secrets.token_urlsafe(16)
            flash(
                _(
                    "Biểu mẫu này đã được ghi trước đó. Kiểm tra danh sách khoản thu rồi bấm Ghi lại nếu đây "
                    "là khoản mới."
                ),
                "error",
            )
            return _render_form(form, {}, status=409)
        return _refused(form, error)
    if not replayed:
        flash(_recorded_message(donation), "success")
    return redirect(url_for("web.receipt_page", donation_id=donation.id))


def _refused(form: dict, error: DomainError):
    """The form again with the service's refusal (422, 409) beside the fields it names, or on top."""
    errors = _service_errors(error)
    flash(_("Chưa ghi được: xem các ô báo lỗi bên dưới.") if errors else error.message, "error")
    return _render_form(form, errors, status=error.status)


def _recorded_message(donation: Donation) -> str:
    """What was recorded and the number of its document, named by its kind."""
    if donation.method == "in_kind":
        return _(
            "Đã ghi hiện vật trị giá %(amount)s đồng, biên bản tiếp nhận số %(code)s.",
            amount=format_vnd(donation.amount),
            code=donation.receipt.code,
        )
    if donation.method == "bank_transfer":
        return _(
            "Đã ghi khoản thu %(amount)s đồng chuyển khoản, giấy xác nhận tài trợ số %(code)s.",
            amount=format_vnd(donation.amount),
            code=donation.receipt.code,
        )
    return _(
        "Đã ghi khoản thu %(amount)s đồng, phiếu thu số %(code)s.",
        amount=format_vnd(donation.amount),
        code=donation.receipt.code,
    )


@bp.get("/donations/<int:donation_id>/receipt")
def receipt_page(donation_id):
    """The receipt ready to print: the PDF embedded, a Print button, and the next gift one key away."""
    donation = service.get_donation(db.session, g.actor, donation_id)
    pdf = url_for("documents.receipt_pdf", receipt_id=donation.receipt.id)
    return render_template("web/receipt.html", donation=donation, pdf=pdf, words=_words(donation.amount))


def _donation_filters():
    args = request.args
    unit = (args.get("unit") or "").strip() or None
    fund = (args.get("fund") or "").strip() or None
    status = args.get("status") if args.get("status") in DONATION_STATUSES else None
    return {
        "date_from": parse_date(args.get("from")),
        "date_to": parse_date(args.get("to")),
        "unit": unit,
        "fund": fund,
        "status": status,
        "donor": parse_int(args.get("donor")),
        "method": args.get("method") if args.get("method") in METHODS else None,
        "search": (args.get("q") or "").strip()[:100] or None,
    }


def _receipts_link(filters: dict) -> str | None:
    """The period's receipts in one PDF (GET /receipts.pdf) for the list's unit and dates, for those who print
    them."""
    from fundsvc.documents.service import ARCHIVE_READERS
    from fundsvc.documents.views import ArchiveArgs

    if not g.actor.has_role(*ARCHIVE_READERS):
        return None
    chosen = {key: filters[key] for key in ("unit", "date_from", "date_to") if filters[key] is not None}
    return url_for("documents.receipts_archive", **ArchiveArgs().dump(chosen))


@bp.get("/donations")
def donations_list():
    """Every gift of your units, newest first, with search and filters."""
    filters = _donation_filters()
    query = service.donations_query(db.session, g.actor, **filters)
    count, total = service.list_totals(db.session, query)
    page = paginate(query, total=count)
    units, funds = _form_choices()
    return render_template(
        "web/donations.html",
        page=page,
        total=total,
        exports=export_links("donations", filters),
        receipts=_receipts_link(filters) if count else None,
        units=units,
        funds=funds,
        statuses=DONATION_STATUSES,
        methods=METHODS,
        args=request.args,
    )


@bp.get("/donations/<int:donation_id>")
def donation_detail(donation_id):
    """One gift, its receipt, and the void form."""
    donation = service.get_donation(db.session, g.actor, donation_id)
    pdf = url_for("documents.receipt_pdf", receipt_id=donation.receipt.id)
    return render_template("web/donation.html", donation=donation, pdf=pdf, words=_words(donation.amount))


@bp.post("/donations/<int:donation_id>/void")
@roles_required("treasurer")
def donation_void(donation_id):
    """Void a gift with a reason: the receipt keeps its number, stamped void."""
    try:
        data = VoidIn().load({"reason": (request.form.get("reason") or "").strip()})
    except ValidationError:
        flash(_("Cần ghi lý do hủy."), "error")
        return redirect(url_for("web.donation_detail", donation_id=donation_id))
    try:
        donation = service.void_donation(db.session, g.actor, donation_id, data["reason"])
    except REFUSED as error:
        flash(error.message, "error")
        return redirect(url_for("web.donation_detail", donation_id=donation_id))
    flash(
        _("Đã hủy khoản thu %(code)s. Phiếu thu giữ nguyên số và được đóng dấu ĐÃ HỦY.", code=donation.receipt.code),
        "success",
    )
    return redirect(url_for("web.donation_detail", donation_id=donation_id))


@bp.get("/donors")
def donors_list():
    """Donors of your units, by name, with search."""
    q = (request.args.get("q") or "").strip()[:100]
    page = paginate(service.donors_query(g.actor, search=q or None))
    return render_template("web/donors.html", page=page, q=q, exports=export_links("donors", {"q": q or None}))


@bp.get("/donors/<int:donor_id>")
def donor_detail(donor_id):
    """A donor, their gifts, and their yearly statement (thank-you letter); a merged donor's page is its survivor's."""
    donor = service.get_donor(db.session, g.actor, donor_id)
    if donor.merged_into_id is not None:
        flash(_("Nhà hảo tâm %(name)s đã được gộp vào người này.", name=donor.name), "success")
        return redirect(url_for("web.donor_detail", donor_id=donor.merged_into_id))
    gifts = list(db.session.scalars(service.donations_query(db.session, g.actor, donor=donor_id).limit(500)).unique())
    years = sorted({d.received_on.year for d in gifts}, reverse=True)
    totals = {y: sum(d.amount for d in gifts if d.received_on.year == y and d.status == "recorded") for y in years}
    return render_template("web/donor.html", donor=donor, gifts=gifts, years=years, totals=totals)


def _donor_values(donor) -> dict:
    return {name: getattr(donor, name) or "" for name in (*DONOR_FIELDS, "email")}


@bp.route("/donors/<int:donor_id>/edit", methods=["GET", "POST"])
@roles_required("treasurer")
def donor_edit(donor_id):
    """Correct a donor's details (audited); the phone and tax code are stored as on a gift."""
    donor = service.get_donor(db.session, g.actor, donor_id)
    if request.method == "GET":
        return render_template("web/donor_edit.html", donor=donor, values=_donor_values(donor), errors={})
    values = {name: (request.form.get(name) or "").strip() for name in (*DONOR_FIELDS, "email")}
    try:
        changes = DonorPatch().load({name: value or None for name, value in values.items()} | {"name": values["name"]})
        service.update_donor(db.session, g.actor, donor_id, changes)
    except ValidationError as error:
        errors = {path: _field_message(f"donor_{path}", message) for path, message in flatten_errors(error.messages)}
        flash(_("Chưa sửa được: xem các ô báo lỗi bên dưới."), "error")
        return render_template("web/donor_edit.html", donor=donor, values=values, errors=errors), 422
    except REFUSED as error:
        # Another donor's phone (a merge, not an edit), a merged donor, a donor of another unit: said on top.
        flash(error.message, "error")
        return render_template("web/donor_edit.html", donor=donor, values=values, errors={}), error.status
    flash(_("Đã sửa thông tin nhà hảo tâm."), "success")
    return redirect(url_for("web.donor_detail", donor_id=donor_id))


@bp.route("/donors/<int:donor_id>/merge", methods=["GET", "POST"])
@roles_required("treasurer")
def donor_merge(donor_id):
    """Merge a duplicate donor into the one chosen: the donors found (by default those sharing the last word of
    its name) are offered; every gift moves, receipts keep what they printed."""
    donor = service.get_donor(db.session, g.actor, donor_id)
    if request.method == "POST":
        into = parse_int(request.form.get("into"))
        try:
            survivor = service.merge_donors(db.session, g.actor, donor_id, into or 0)
        except REFUSED as error:
            flash(error.message, "error")
            return redirect(url_for("web.donor_merge", donor_id=donor_id))
        flash(
            _("Đã gộp %(name)s vào %(into)s: mọi khoản thu đã chuyển sang.", name=donor.name, into=survivor.name),
            "success",
        )
        return redirect(url_for("web.donor_detail", donor_id=survivor.id))
    words = donor.name.split()
    q = (request.args.get("q") or (words[-1] if words else "")).strip()[:100]
    query = service.donors_query(g.actor, search=q).where(Donor.id != donor.id) if q else None
    candidates = db.session.scalars(query.limit(50)).all() if query is not None else []
    return render_template("web/donor_merge.html", donor=donor, q=q, candidates=candidates)


# Small JSON endpoints for the donation form's scripts (session login, read-only).


@bp.get("/ui/donors")
def donors_json():
    """Donor search as you type: name, phone or tax code."""
    q = (request.args.get("q") or "").strip()[:100]
    if len(q) < 2:
        return jsonify([])
    donors = db.session.scalars(service.donors_query(g.actor, search=q).limit(8)).all()
    fields = ("id", "name", "kind", "phone", "address", "tax_code")
    shown = [donor_seen_by(g.actor.role, donor) for donor in donors]
    return jsonify([{name: getattr(d, name) for name in fields if hasattr(d, name)} for d in shown])


@bp.get("/ui/amount")
def amount_json():
    """An amount with thousand separators and in words, as printed on the receipt."""
    amount = parse_amount(request.args.get("amount"))
    if amount is None or amount <= 0 or amount > 10**15:
        return jsonify({"amount": None, "formatted": "", "words": ""})
    return jsonify({"amount": amount, "formatted": format_vnd(amount), "words": _words(amount)})


@bp.get("/ui/duplicates")
def duplicates_json():
    """Gifts recorded today-or-that-day for the same donor and amount: the form asks before recording another."""
    amount = parse_amount(request.args.get("amount"))
    day = parse_date(request.args.get("received_on"))
    if amount is None or day is None:
        abort(400)
    found = service.find_duplicates(
        db.session,
        g.actor,
        donor_id=parse_int(request.args.get("donor_id")),
        name=request.args.get("name"),
        phone=request.args.get("phone"),
        amount=amount,
        day=day,
    )
    return jsonify(
        [
            {
                "id": d.id,
                "code": d.receipt.code,
                "amount": d.amount,
                "donor": d.donor.name,
                "received_on": d.received_on.isoformat(),
                "url": url_for("web.donation_detail", donation_id=d.id),
            }
            for d in found
        ]
    )


@bp.get("/ui/accounts")
def accounts_json():
    """The bank accounts of the unit chosen in the donation form, for its account select."""
    return jsonify(
        [
            {"id": a.id, "name": a.name, "account_number": a.account_number}
            for a in bank_accounts((request.args.get("unit") or "").strip()[:40] or _form_unit({}))
        ]
    )
