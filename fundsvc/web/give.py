"""The public giving page of a unit, `/give/<unit code>`: no login, rate limited, phone first. Its printed name, its
bank accounts and their VietQR for any amount or the amount typed (the QR is made on the server: no script needed), and
a personal memo code on request (a pledge without a donor, fundsvc.bank.service.public_pledge)."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from fundsvc.auth.throttle import TooManyRequests
from fundsvc.bank import service
from fundsvc.documents.words import format_vnd
from fundsvc.errors import DomainError, NotFound
from fundsvc.extensions import db
from fundsvc.units.identity import identity_defaults
from fundsvc.web.bank import typed_amount
from fundsvc.web.util import parse_int
from fundsvc.web.views import bp

TEMPLATE = "web/give.html"


def _count_request() -> None:
    current_app.extensions["throttle"].count_request("give", request.remote_addr, current_app.config["GIVE_RATE_LIMIT"])


def _page(code: str, amount_text: str | None, pledge=None, status: int = 200):
    amount, amount_error = typed_amount(amount_text)
    if pledge is not None:
        amount = pledge.amount
    giving = service.public_giving(
        db.session, code, identity_defaults(current_app.config), amount, pledge.code if pledge else None
    )
    qrs = {
        entry.account.id: Markup(service.qr_svg(entry.payload, _("Mã QR chuyển khoản"))) for entry in giving.accounts
    }
    return render_template(
        TEMPLATE,
        giving=giving,
        qrs=qrs,
        amount_text=format_vnd(giving.amount) if giving.amount else (amount_text or "").strip()[:40],
        amount_error=amount_error,
        pledge=pledge,
    ), (422 if amount_error else status)


def _refused(code: int, message: str, retry_after: int | None = None):
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return render_template(TEMPLATE, giving=None, refused=code, message=message), code, headers


def _guarded(make):
    """Count the request, then answer `make()`; the refusals as the page's own messages, never a bare error."""
    try:
        _count_request()
        return make()
    except TooManyRequests as refused:
        return _refused(429, _("Trang được mở quá nhiều lần. Xin thử lại sau ít phút."), refused.retry_after)
    except NotFound:
        return _refused(404, _("Không tìm thấy đơn vị nhận ủng hộ này. Xin kiểm tra lại đường dẫn."))
    except DomainError as error:
        return _refused(error.status, _("Chưa tạo được mã ủng hộ riêng: %(why)s", why=error.message))


@bp.get("/give/<code>")
def give_page(code):
    """The unit's public page: where to transfer, the QR, an optional amount."""
    return _guarded(lambda: _page(code, request.args.get("amount")))


@bp.post("/give/<code>")
def give_code(code):
    """A personal memo code for the giver (a pledge of the unit), and the QR carrying it."""
    typed = request.form.get("amount")

    def make():
        amount, amount_error = typed_amount(typed)
        if amount_error:
            return _page(code, typed)
        pledge = service.public_pledge(db.session, code, parse_int(request.form.get("account")), amount)
        return _page(code, typed, pledge, 201)

    return _guarded(make)
