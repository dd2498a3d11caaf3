"""/api/v1/units/{code}/accounts, /api/v1/accounts/{id}, /api/v1/units/{code}/periods"""

from flask import Response

from fundsvc.api import Blueprint, current_actor
from fundsvc.bank import service as bank
from fundsvc.extensions import db
from fundsvc.ledger import accounts, periods
from fundsvc.ledger.books_schemas import (
    AccountOut,
    AccountPatchIn,
    BankAccountIn,
    PeriodOut,
    QrArgs,
    ReopenIn,
    ReopenOut,
)

blp = Blueprint("books", __name__, url_prefix="/api/v1", description="Money accounts and the periods of the books")


@blp.get("/units/<code>/accounts")
@blp.response(200, AccountOut(many=True))
def list_accounts(code):
    """The unit's money accounts, its cash account first, each with its balance."""
    return accounts.list_accounts(db.session, current_actor(), code)


@blp.post("/units/<code>/accounts")
@blp.arguments(BankAccountIn)
@blp.response(201, AccountOut)
def add_account(data, code):
    """Declare a bank account of the unit (treasurer or admin)."""
    return accounts.AccountPosition(accounts.add_bank_account(db.session, current_actor(), code, data), 0)


@blp.patch("/accounts/<int:account_id>")
@blp.arguments(AccountPatchIn)
@blp.response(200, AccountOut)
def update_account(data, account_id):
    """Change a money account's details."""
    account = accounts.update_account(db.session, current_actor(), account_id, data)
    return accounts.AccountPosition(account, accounts.account_balance(db.session, account.id))


@blp.get("/units/<code>/periods")
@blp.response(200, PeriodOut(many=True))
def list_periods(code):
    """Every month of the unit's books since they opened, open or closed."""
    return periods.list_periods(db.session, current_actor(), code)


@blp.post("/units/<code>/periods/<month>/close")
@blp.response(200, PeriodOut)
def close_period(code, month):
    """Close a month (khóa sổ): nothing dated in it can then be created, changed or voided."""
    return periods.close_month(db.session, current_actor(), code, month)


@blp.post("/units/<code>/periods/<month>/reopen")
@blp.arguments(ReopenIn)
@blp.response(200, ReopenOut)
def reopen_period(data, code, month):
    """Reopen a closed month and every later one (admin, with a reason; audited)."""
    return {"reopened": periods.reopen_month(db.session, current_actor(), code, month, data["reason"])}


QR_MEDIA = {"png": "image/png", "svg": "image/svg+xml", "txt": "text/plain; charset=utf-8"}


@blp.get("/accounts/<int:account_id>/qr.<any(png, svg, txt):ext>")
@blp.arguments(QrArgs, location="query")
@blp.response(200, content_type="image/png")
def account_qr(args, account_id, ext):
    """The VietQR of a bank account (PNG, SVG, or the payload string itself as .txt); amount and memo optional,
    the memo stripped of diacritics to at most 25 characters."""
    text = bank.account_payload(db.session, current_actor(), account_id, args.get("amount"), args.get("memo"))
    body = text.encode() if ext == "txt" else bank.qr_image(text, ext)
    return Response(body, mimetype=QR_MEDIA[ext].split(";")[0], content_type=QR_MEDIA[ext])
