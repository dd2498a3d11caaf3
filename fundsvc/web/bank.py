"""Bank pages for treasurers: the bank accounts, an account with its VietQR and pledges, the statement upload, the
matching queue and the reconciliation. The rules are the bank services' (fundsvc.bank.service, statement_service,
reconciliation); these pages read forms into their input and show what they answer."""

from __future__ import annotations

import datetime as dt
import re

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape
from marshmallow import ValidationError

from fundsvc.bank import reconciliation, service, statement_service
from fundsvc.bank.models import StatementLine
from fundsvc.bank.statements import MAPPED_FIELDS
from fundsvc.bank.views import PledgeIn
from fundsvc.documents.words import format_vnd, today_in_vietnam
from fundsvc.donations.models import Donation
from fundsvc.errors import DomainError, Invalid
from fundsvc.extensions import db
from fundsvc.ledger.accounts import account_balance, accounts_of_units, get_account
from fundsvc.schemas import MAX_AMOUNT
from fundsvc.units.service import list_units
from fundsvc.web.auth import roles_required
from fundsvc.web.util import REFUSED, flatten_errors, paginate, parse_amount, parse_int
from fundsvc.web.views import bp

# The queue's tabs: what waits for a person first, then what was settled (to find the donation made).
QUEUE_STATUSES = ("suggested", "unmatched", "matched", "ignored")
PLEDGE_DONOR_FIELDS = ("name", "phone")


def _bank_accounts() -> list:
    """The bank accounts of the user's units, in tree order."""
    units = list_units(db.session, g.actor)
    return [a for a in accounts_of_units(db.session, [u.id for u in units]) if a.kind == "bank"]


@bp.get("/bank")
@roles_required("treasurer")
def bank_accounts_page():
    """Every bank account of your units, with the statement lines waiting for you."""
    accounts = _bank_accounts()
    counts = statement_service.review_counts(db.session, [a.id for a in accounts])
    return render_template("web/bank_accounts.html", accounts=accounts, counts=counts)


@bp.get("/accounts/<int:account_id>")
@roles_required("treasurer")
def account_page(account_id):
    """A bank account: its details and VietQR, its pledges (create, cancel, print)."""
    return _render_account(account_id, {}, {})


def _render_account(account_id: int, values: dict, errors: dict, status: int = 200):
    account = get_account(db.session, g.actor, account_id)
    page = paginate(service.pledges_query(db.session, g.actor, account=account.id))
    counts = statement_service.review_counts(db.session, [account.id])[account.id]
    return render_template(
        "web/bank_account.html",
        account=account,
        balance=account_balance(db.session, account.id),
        has_qr=service.takes_vietqr(account),
        page=page,
        counts=counts,
        values=values,
        errors=errors,
    ), status


def typed_amount(text: str | None) -> tuple[int | None, str | None]:
    """An amount typed in a form (None when left empty) and what is wrong with it, in words a donor understands;
    the range is the bank service's (service.check_gift_amount)."""
    text = (text or "").strip()[:40]
    if not text:
        return None, None
    amount = parse_amount(text)
    if amount is None and not re.fullmatch(r"[0-9][0-9., \u00a0_]*", text):
        return None, _("Số tiền chỉ gồm chữ số, ví dụ 200.000.")
    try:
        service.check_gift_amount(amount if amount is not None else MAX_AMOUNT + 1)
    except Invalid:
        return None, _("Số tiền phải từ 1 đồng đến 10.000 tỉ đồng.")
    return amount, None


def _pledge_body(account, form) -> tuple[dict, dict]:
    """The API's PledgeIn body from the account page's form, validated by the same schema; (data, errors)."""
    body: dict = {"unit": account.unit.code, "account": account.id}
    errors: dict[str, str] = {}
    amount, wrong = typed_amount(form.get("amount"))
    if wrong:
        errors["amount"] = wrong
    elif amount is not None:
        body["amount"] = amount
    donor = {k: (form.get(f"donor_{k}") or "").strip() for k in PLEDGE_DONOR_FIELDS}
    if any(donor.values()):
        body["donor"] = {k: v for k, v in donor.items() if v} | {"name": donor["name"]}
    if (form.get("purpose") or "").strip():
        body["purpose"] = form["purpose"].strip()
    try:
        data = PledgeIn().load(body)
    except ValidationError as error:
        for path, message in flatten_errors(error.messages):
            field = path.replace("donor.", "donor_")
            errors.setdefault(field, _pledge_field_message(field, message))
    return (body if errors else data), errors


def _pledge_field_message(field: str, message: str) -> str:
    hints = {
        "donor_name": _("Cần tên nhà hảo tâm khi ghi số điện thoại"),
        "donor_phone": _("Số điện thoại không hợp lệ"),
        "purpose": _("Mục đích tối đa 500 ký tự"),
    }
    return f"{hints[field]} ({message})" if field in hints and message.isascii() else message


@bp.post("/accounts/<int:account_id>/pledges")
@roles_required("treasurer")
def pledge_create(account_id):
    """A new pledge of this account: its memo code and QR, optionally an amount and a donor."""
    account = get_account(db.session, g.actor, account_id)
    form = request.form.to_dict()
    data, errors = _pledge_body(account, request.form)
    if errors:
        flash(_("Chưa tạo được mã ủng hộ: xem các ô báo lỗi."), "error")
        return _render_account(account_id, form, errors, 422)
    try:
        pledge = service.create_pledge(db.session, g.actor, data)
    except REFUSED as error:
        flash(error.message, "error")
        return _render_account(account_id, form, {}, error.status)
    flash(
        _("Đã tạo mã ủng hộ %(code)s. In thư hoặc áp phích có mã QR để gửi nhà hảo tâm.", code=pledge.code), "success"
    )
    return redirect(url_for("web.account_page", account_id=account_id, _anchor=f"pledge-{pledge.id}"))


@bp.post("/pledges/<int:pledge_id>/cancel")
@roles_required("treasurer")
def pledge_cancel(pledge_id):
    """Cancel an open pledge (its code no longer matches a transfer)."""
    pledge = service.get_pledge(db.session, g.actor, pledge_id)
    try:
        service.cancel_pledge(db.session, g.actor, pledge_id)
    except REFUSED as error:
        flash(error.message, "error")
    else:
        flash(_("Đã hủy mã ủng hộ %(code)s.", code=pledge.code), "success")
    return redirect(url_for("web.account_page", account_id=pledge.account_id))


# Statement upload


def _mapping(form) -> dict[str, str]:
    """The generic column mapping typed in the upload form (field → the file's header text); empty when none."""
    return {name: form[f"col_{name}"].strip() for name in MAPPED_FIELDS if (form.get(f"col_{name}") or "").strip()}


@bp.route("/bank/statements", methods=["GET", "POST"])
@roles_required("treasurer")
def statement_upload():
    """Upload a bank's statement file into one account; the result, or every bad row of a malformed file."""
    accounts = _bank_accounts()
    form = request.form if request.method == "POST" else request.args
    values = {"account": form.get("account") or (str(accounts[0].id) if len(accounts) == 1 else ""), **_mapping(form)}
    if request.method == "GET" and (account_id := parse_int(values["account"])) and not _mapping(form):
        # The columns this account's last file of another bank was read by.
        values.update(statement_service.remembered_mapping(db.session, g.actor, account_id) or {})
    context = {"accounts": accounts, "values": values, "fields": MAPPED_FIELDS, "result": None, "error": None}
    if request.method == "GET":
        return render_template("web/bank_statements.html", **context)
    account_id, upload = parse_int(form.get("account")), request.files.get("file")
    status = 422
    if account_id is None:
        context["error"] = {"message": _("Chọn tài khoản ngân hàng của sao kê."), "errors": {}}
    elif upload is None or not upload.filename:
        context["error"] = {"message": _("Chọn tệp sao kê (.xlsx hoặc .csv) tải từ ngân hàng."), "errors": {}}
    else:
        try:
            result = statement_service.import_statement(
                db.session, g.actor, account_id, upload.read(), upload.filename, _mapping(form) or None
            )
        except DomainError as error:
            context["error"] = {"message": error.message, "errors": error.errors or {}}
            status = error.status
        else:
            context["result"], context["account"], status = result, get_account(db.session, g.actor, account_id), 200
    return render_template("web/bank_statements.html", **context), status


@bp.get("/accounts/<int:account_id>/reconciliation")
@roles_required("treasurer")
def reconciliation_page(account_id):
    """The account reconciled on a date (today unless chosen): bank balance, book balance, what explains them apart;
    the statement files imported, with whether the balances each printed add up."""
    account = get_account(db.session, g.actor, account_id)
    imports = statement_service.recent_imports(db.session, g.actor, account.id)
    on_text = request.args.get("on") or today_in_vietnam().isoformat()
    try:
        on = dt.date.fromisoformat(on_text)
    except ValueError:
        error = _("Ngày không hợp lệ, cần dạng ngày/tháng/năm.")
        context = {"account": account, "on_text": on_text[:10], "rec": None, "error": error, "imports": imports}
        return render_template("web/bank_reconciliation.html", **context), 422
    rec = reconciliation.reconcile(db.session, g.actor, account.id, on)
    context = {"account": account, "on_text": on_text, "rec": rec, "error": None, "imports": imports}
    return render_template("web/bank_reconciliation.html", **context)


# The matching queue


@bp.get("/accounts/<int:account_id>/matching")
@roles_required("treasurer")
def matching_queue(account_id):
    """The account's statement lines to settle: suggestions to confirm (Enter), lines to attach to a donor or set
    aside with a reason; the settled ones with what they became."""
    account = get_account(db.session, g.actor, account_id)
    counts = statement_service.review_counts(db.session, [account.id])[account.id]
    status = request.args.get("status")
    if status not in QUEUE_STATUSES:
        status = "suggested" if counts["suggested"] or not counts["unmatched"] else "unmatched"
    page = paginate(statement_service.statement_lines(db.session, g.actor, account.id, status))
    return render_template(
        "web/bank_matching.html",
        account=account,
        status=status,
        statuses=QUEUE_STATUSES,
        counts=counts,
        page=page,
        suggestions=statement_service.suggestions(db.session, page.items),
    )


def _back_to_queue(line: StatementLine):
    return redirect(url_for("web.matching_queue", account_id=line.account_id, status=request.form.get("status")))


@bp.post("/statement-lines/<int:line_id>/confirm")
@roles_required("treasurer")
def line_confirm(line_id):
    """Record the gift a line is: for the donor picked in the queue's search, else the one suggested."""
    line = statement_service.get_line(db.session, g.actor, line_id)
    donor_id = parse_int(request.form.get("donor_id"))
    try:
        confirmed = statement_service.confirm_line(
            db.session, g.actor, line_id, {"donor": donor_id} if donor_id else {}
        )
    except REFUSED as error:
        flash(error.message, "error")
        return _back_to_queue(line)
    donation = db.session.get(Donation, confirmed.donation_id)
    link = Markup('<a href="{}">{}</a>').format(url_for("web.donation_detail", donation_id=donation.id), _("Xem"))
    flash(
        escape(
            _(
                "Đã ghi khoản ủng hộ %(amount)s đồng của %(donor)s, giấy xác nhận tài trợ số %(code)s.",
                amount=format_vnd(donation.amount),
                donor=donation.donor.name,
                code=donation.receipt.code,
            )
        )
        + Markup(" ")
        + link,
        "success",
    )
    return _back_to_queue(line)


@bp.post("/statement-lines/<int:line_id>/ignore")
@roles_required("treasurer")
def line_ignore(line_id):
    """Set a line aside with the reason typed beside it."""
    line = statement_service.get_line(db.session, g.actor, line_id)
    try:
        statement_service.ignore_line(db.session, g.actor, line_id, (request.form.get("reason") or "")[:500])
    except REFUSED as error:
        flash(error.message, "error")
    else:
        flash(
            _(
                "Đã bỏ qua dòng ngày %(date)s, %(amount)s đồng.",
                date=line.line_date.strftime("%d/%m/%Y"),
                amount=format_vnd(line.amount),
            ),
            "success",
        )
    return _back_to_queue(line)
