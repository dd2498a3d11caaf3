"""/api/v1/reports (summary, fund book, publishing) and /api/v1/public/statements (no login)."""

from flask import current_app, make_response

from fundsvc.api import Blueprint, current_actor
from fundsvc.documents.service import DocumentSettings
from fundsvc.extensions import db
from fundsvc.jobs.views import AS_A_JOB, deferred
from fundsvc.organisation.service import current_config
from fundsvc.reports import books, service
from fundsvc.reports.schemas import (
    BankBookArgs,
    BankBookOut,
    BookArgs,
    CashBookOut,
    FundBookArgs,
    FundBookOut,
    InKindRegisterOut,
    PublishArgs,
    PublishedOut,
    SummaryArgs,
    SummaryOut,
    VersionArgs,
    VersionsOut,
    VoidRegisterOut,
)
from fundsvc.units.identity import identity_defaults

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Reports and the public statements")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PUBLIC = {"security": []}


def _settings() -> DocumentSettings:
    return DocumentSettings.from_config(current_config())


def _file(data: bytes, content_type: str, filename: str, *, inline: bool = True):
    response = make_response(data)
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return response


# The books rendered by the job queue when long: stem of the file name -> the job's kind (without the extension).
JOB_BOOKS = {"so-quy-tien-mat": "cash-book", "so-tien-gui": "bank-book"}


def book_name(args: dict, ext: str) -> str:
    """The download name of a fund book (also its job's, from the job's stored parameters)."""
    parts = [
        "so-quy",
        args.get("fund") or args.get("unit") or "",
        str(args.get("date_from") or ""),
        str(args.get("date_to") or ""),
    ]
    return "-".join(p for p in parts if p) + "." + ext


@blp.get("/reports/summary")
@blp.arguments(SummaryArgs, location="query")
@blp.response(200, SummaryOut)
def summary(args):
    """Money in by method, reversals, awards paid, balances and counts, per fund and per unit rolled up the tree."""
    return service.summary(
        db.session, current_actor(), unit=args.get("unit"), date_from=args.get("date_from"), date_to=args.get("date_to")
    )


def _book_json(book: dict):
    """A money book as JSON, written by books.book_json (its shape: the response schema, which documents it)."""
    return current_app.response_class(books.book_json(book), mimetype="application/json")


def _book_args(args: dict) -> dict:
    return {"date_from": args.get("date_from"), "date_to": args.get("date_to")}


def dated_name(stem: str, args: dict, ext: str, key: str = "unit") -> str:
    """The download name of a unit's or an account's book (also its job's)."""
    parts = [stem, str(args[key]), str(args.get("date_from") or ""), str(args.get("date_to") or "")]
    return "-".join(p for p in parts if p) + "." + ext


@blp.get("/reports/cash-book")
@blp.arguments(BookArgs, location="query")
@blp.response(200, CashBookOut)
def cash_book(args):
    """The unit's cash book (sổ quỹ tiền mặt): its cash account only, voids in place with no amount."""
    return _book_json(books.cash_book(db.session, current_actor(), args["unit"], **_book_args(args)))


def _printed_book(build, stem: str, args: dict, ext: str, *extra, key: str = "unit"):
    """A book printed (PDF) or exported (XLSX) for the unit (or account) and period asked, in the unit's identity
    of today; the cash and bank books over FUNDSVC_JOB_THRESHOLD lines as a job (202)."""
    if stem in JOB_BOOKS and (job := deferred(f"{JOB_BOOKS[stem]}.{ext}", args)) is not None:
        return job
    data = build(
        db.session, current_actor(), args[key], identity_defaults(current_config()), *extra, **_book_args(args)
    )
    if ext == "pdf":
        return _file(data, "application/pdf", dated_name(stem, args, ext, key))
    return _file(data, XLSX, dated_name(stem, args, ext, key), inline=False)


@blp.get("/reports/cash-book.pdf")
@blp.arguments(BookArgs, location="query")
@blp.response(200, content_type="application/pdf")
@blp.alt_response(202, **AS_A_JOB)
def cash_book_pdf(args):
    """The cash book ready to sign."""
    return _printed_book(
        books.cash_book_pdf, "so-quy-tien-mat", args, "pdf", current_app.config["CASH_BOOK_FORM_LABEL"]
    )


@blp.get("/reports/cash-book.xlsx")
@blp.arguments(BookArgs, location="query")
@blp.response(200, content_type=XLSX)
@blp.alt_response(202, **AS_A_JOB)
def cash_book_xlsx(args):
    return _printed_book(
        books.cash_book_xlsx, "so-quy-tien-mat", args, "xlsx", current_app.config["CASH_BOOK_FORM_LABEL"]
    )


@blp.get("/reports/bank-book")
@blp.arguments(BankBookArgs, location="query")
@blp.response(200, BankBookOut)
def bank_book(args):
    """The bank book (sổ tiền gửi ngân hàng) of one bank account: its movements only, with the bank's references,
    voids in place with no amount."""
    return _book_json(books.bank_book(db.session, current_actor(), args["account"], **_book_args(args)))


@blp.get("/reports/bank-book.<any(pdf, xlsx):ext>")
@blp.arguments(BankBookArgs, location="query")
@blp.response(200, content_type="application/pdf")
@blp.alt_response(202, **AS_A_JOB)
def bank_book_file(args, ext):
    """The bank book ready to sign (PDF), or as a spreadsheet (XLSX)."""
    build = books.bank_book_pdf if ext == "pdf" else books.bank_book_xlsx
    label = current_app.config["BANK_BOOK_FORM_LABEL"]
    return _printed_book(build, "so-tien-gui", args, ext, label, key="account")


@blp.get("/reports/in-kind")
@blp.arguments(BookArgs, location="query")
@blp.response(200, InKindRegisterOut)
def in_kind_register(args):
    """The in-kind register (sổ theo dõi hiện vật): goods received and handed out, quantities and agreed values,
    what is left of each gift, what is still held."""
    return books.in_kind_register(db.session, current_actor(), args["unit"], **_book_args(args))


@blp.get("/reports/in-kind.<any(pdf, xlsx):ext>")
@blp.arguments(BookArgs, location="query")
@blp.response(200, content_type="application/pdf")
def in_kind_register_file(args, ext):
    """The in-kind register ready to sign (PDF), or as a spreadsheet (XLSX)."""
    build = books.in_kind_register_pdf if ext == "pdf" else books.in_kind_register_xlsx
    return _printed_book(build, "so-hien-vat", args, ext, current_app.config["IN_KIND_FORM_LABEL"])


@blp.get("/reports/voids")
@blp.arguments(BookArgs, location="query")
@blp.response(200, VoidRegisterOut)
def void_register(args):
    """The void register: every voided document of the unit's subtree dated in the period."""
    return books.void_register(db.session, current_actor(), args["unit"], **_book_args(args))


@blp.get("/reports/voids.pdf")
@blp.arguments(BookArgs, location="query")
@blp.response(200, content_type="application/pdf")
def void_register_pdf(args):
    return _printed_book(books.void_register_pdf, "chung-tu-huy", args, "pdf")


@blp.get("/reports/voids.xlsx")
@blp.arguments(BookArgs, location="query")
@blp.response(200, content_type=XLSX)
def void_register_xlsx(args):
    return _printed_book(books.void_register_xlsx, "chung-tu-huy", args, "xlsx")


@blp.get("/reports/fund-book")
@blp.arguments(FundBookArgs, location="query")
@blp.response(200, FundBookOut)
def fund_book(args):
    """The fund book (sổ quỹ) as JSON: opening balance, movements with running balance, closing balance."""
    return service.fund_book(db.session, current_actor(), **args)


@blp.get("/reports/fund-book.pdf")
@blp.arguments(FundBookArgs, location="query")
@blp.response(200, content_type="application/pdf")
@blp.alt_response(202, **AS_A_JOB)
def fund_book_pdf(args):
    """The fund book (sổ quỹ) as a PDF, ready to sign (over FUNDSVC_JOB_THRESHOLD lines: 202 with its job)."""
    if (job := deferred("fund-book.pdf", args)) is not None:
        return job
    data = service.fund_book_pdf(db.session, current_actor(), _settings(), **args)
    return _file(data, "application/pdf", book_name(args, "pdf"))


@blp.get("/reports/fund-book.xlsx")
@blp.arguments(FundBookArgs, location="query")
@blp.response(200, content_type=XLSX)
@blp.alt_response(202, **AS_A_JOB)
def fund_book_xlsx(args):
    """The fund book (sổ quỹ) as a spreadsheet (over FUNDSVC_JOB_THRESHOLD lines: 202 with its job)."""
    if (job := deferred("fund-book.xlsx", args)) is not None:
        return job
    data = service.fund_book_xlsx(db.session, current_actor(), _settings(), **args)
    return _file(data, XLSX, book_name(args, "xlsx"), inline=False)


@blp.post("/reports/public/<int:year>/publish")
@blp.arguments(PublishArgs, location="query")
@blp.response(201, PublishedOut)
def publish(args, year):
    """Publish a unit's yearly public statement (admin); after changes, publish again to add a dated correction."""
    return service.publish(db.session, current_actor(), args["unit"], year, _settings())


@blp.get("/public/statements/<unit>/<int:year>")
@blp.doc(**PUBLIC)
@blp.response(200, VersionsOut)
def public_versions(unit, year):
    """The published versions of a statement, with what each correction changed (no login)."""
    return service.public_versions(db.session, unit, year)


@blp.get("/public/statements/<unit>/<int:year>.html")
@blp.doc(**PUBLIC)
@blp.arguments(VersionArgs, location="query")
@blp.response(200, content_type="text/html")
def public_html(args, unit, year):
    """The published statement as a web page, with its correction history (no login)."""
    html = service.public_html(db.session, unit, year, args.get("version"))
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.get("/public/statements/<unit>/<int:year>.pdf")
@blp.doc(**PUBLIC)
@blp.arguments(VersionArgs, location="query")
@blp.response(200, content_type="application/pdf")
def public_pdf(args, unit, year):
    """The published statement as stored at publication (same bytes every time; no login)."""
    data, sha256 = service.public_pdf(db.session, unit, year, args.get("version"))
    response = _file(data, "application/pdf", f"cong-khai-{unit}-{year}.pdf")
    response.headers["ETag"] = f'"{sha256}"'
    return response
