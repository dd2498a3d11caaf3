"""The documents a job can render: for each kind, who may ask for it, what it is made from and how it is written.

Each kind has two functions over the same services the inline answers use (one definition of each document):
- `identify(session, actor, params)` → Identity: how many rows the document has (the request compares it with
  FUNDSVC_JOB_THRESHOLD) and the material its bytes come from (part of the dedupe key, so ten identical requests
  share one render and any change to the data gives a new document);
- `render(session, actor, params, out, progress)` writes the document into the binary file `out`, calling
  `progress(done, total)` as it goes where the renderer can tell.
They run in an application context (the request's, or the worker's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

import orjson
from flask import current_app
from sqlalchemy.orm import Session

from fundsvc.auth.service import Actor

Progress = Callable[[int, int], None]
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Identity:
    rows: int
    material: str  # a digest of everything the document's bytes are made from
    filename: str
    personal: bool = False  # whether it prints pupils' personal data


@dataclass(frozen=True)
class Kind:
    name: str
    roles: tuple[str, ...]  # who may ask for it and read its job (admins always)
    media_type: str
    identify: Callable[[Session, Actor, dict], Identity]
    render: Callable[[Session, Actor, dict, IO[bytes], Progress], None]


def digest(*parts: Any) -> str:
    """sha256 of JSON-able parts (dates and the like as orjson writes them)."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def _settings():
    from fundsvc.documents.service import DocumentSettings

    return DocumentSettings.from_config(current_app.config)


def _period(params: dict) -> dict:
    """The period of stored parameters (ISO dates, as a job keeps them) as dates."""
    return {key: date.fromisoformat(params[key]) if params.get(key) else None for key in ("date_from", "date_to")}


def _printed_today(session: Session, actor: Actor) -> list:
    """What a printed book takes from the moment and the person: the day and the preparer's name."""
    from fundsvc.documents.words import today_in_vietnam
    from fundsvc.reports.books import _preparer

    return [str(today_in_vietnam()), _preparer(session, actor)]


# ---------------------------------------------------------------------------------------------------------
# Ceremony documents of an approved round (the cache of fundsvc.documents.ceremony_service keeps their files too).


def _ceremony(kind: str) -> Kind:
    from fundsvc.documents import ceremony_service

    def identify(session: Session, actor: Actor, params: dict) -> Identity:
        loaded = ceremony_service.load_rows(
            session, actor, params["round_id"], unit=params.get("unit"), school=params.get("school")
        )
        settings = ceremony_service.settings_dict(_settings())
        personal = actor.sees_personal_data
        return Identity(
            rows=len(loaded.rows),
            material=ceremony_service.cache_key(loaded, kind, personal, settings),
            filename=ceremony_service.document_filename(params["round_id"], kind, loaded.scope),
            personal=personal,
        )

    def render(session: Session, actor: Actor, params: dict, out: IO[bytes], progress: Progress) -> None:
        from fundsvc.documents.ceremony_views import cache_dir

        ceremony_service.ceremony_document(
            session,
            actor,
            params["round_id"],
            kind,
            _settings(),
            cache_dir(),
            unit=params.get("unit"),
            school=params.get("school"),
            progress=progress,
            out=out,
            render_slots=None,  # the worker's own slots bound its renders
        )

    return Kind(kind, ceremony_service.READERS, PDF, identify, render)


# ---------------------------------------------------------------------------------------------------------
# The books: the cash book and bank book of fundsvc.reports.books, the fund book of fundsvc.reports.service.


def _account_book(kind: str, ext: str) -> Kind:
    from fundsvc.reports import books
    from fundsvc.reports.views import JOB_BOOKS, dated_name
    from fundsvc.units.identity import identity_defaults

    cash = kind.startswith("cash-book")
    key = "unit" if cash else "account"
    stem = next(stem for stem, book in JOB_BOOKS.items() if kind.startswith(book))
    load = books.cash_book if cash else books.bank_book
    if ext == "pdf":
        write = books.write_cash_book_pdf if cash else books.write_bank_book_pdf
    else:
        xlsx = books.cash_book_xlsx if cash else books.bank_book_xlsx
    label = "CASH_BOOK_FORM_LABEL" if cash else "BANK_BOOK_FORM_LABEL"

    def identify(session: Session, actor: Actor, params: dict) -> Identity:
        book = load(session, actor, params[key], **_period(params))
        material = digest(
            kind,
            hashlib.sha256(books.book_json(book)).hexdigest(),
            current_app.config[label],
            identity_defaults(current_app.config),
            _printed_today(session, actor),
        )
        return Identity(len(book["lines"]), material, dated_name(stem, params, ext, key))

    def render(session: Session, actor: Actor, params: dict, out: IO[bytes], progress: Progress) -> None:
        defaults, form_label = identity_defaults(current_app.config), current_app.config[label]
        if ext == "pdf":  # in chunks, with their progress
            write(out, session, actor, params[key], defaults, form_label, progress, **_period(params))
        else:
            out.write(xlsx(session, actor, params[key], defaults, form_label, **_period(params)))

    return Kind(kind, books.READERS, PDF if ext == "pdf" else XLSX, identify, render)


def _fund_book(ext: str) -> Kind:
    from fundsvc.reports import service
    from fundsvc.reports.views import book_name

    def args(params: dict) -> dict:
        return {"fund": params.get("fund"), "unit": params.get("unit"), **_period(params)}

    def identify(session: Session, actor: Actor, params: dict) -> Identity:
        book = service.fund_book(session, actor, **args(params))
        settings = _settings()
        material = digest(
            f"fund-book.{ext}",
            book,
            settings.org_name,
            settings.accountant,
            settings.head,
            _printed_today(session, actor),
        )
        return Identity(len(book["lines"]), material, book_name(params, ext))

    def render(session: Session, actor: Actor, params: dict, out: IO[bytes], progress: Progress) -> None:
        if ext == "pdf":  # in chunks, with their progress
            service.write_fund_book_pdf(out, session, actor, _settings(), progress, **args(params))
        else:
            out.write(service.fund_book_xlsx(session, actor, _settings(), **args(params)))

    return Kind(f"fund-book.{ext}", service.READERS, PDF if ext == "pdf" else XLSX, identify, render)


# ---------------------------------------------------------------------------------------------------------
# The period's receipts in one PDF, for the paper archive.


def _receipts_archive() -> Kind:
    from fundsvc.documents import service

    def args(params: dict) -> dict:
        return {"unit": params.get("unit"), **_period(params)}

    def identify(session: Session, actor: Actor, params: dict) -> Identity:
        receipts = service.archive_receipts(session, actor, **args(params))
        settings = _settings()
        # A receipt's bytes are fixed once stored; a voided one is served stamped: its status is all that changes.
        return Identity(len(receipts), digest("receipts.pdf", receipts, repr(settings)), "phieu-thu.pdf")

    def render(session: Session, actor: Actor, params: dict, out: IO[bytes], progress: Progress) -> None:
        receipts = service.archive_receipts(session, actor, **args(params))
        service.write_receipts_archive(session, actor, _settings(), [r for r, _ in receipts], out, progress)

    return Kind("receipts.pdf", service.ARCHIVE_READERS, PDF, identify, render)


# ---------------------------------------------------------------------------------------------------------
# The lists taken away (fundsvc.documents.lists): donations, donors, nominations, a round's awards.


def _list_export(name: str, ext: str, *, contact: bool = False) -> Kind:
    """A list's export; `contact`: the variant with donors' contact details, which only their readers may see."""
    from fundsvc.documents import lists
    from fundsvc.documents.words import today_in_vietnam

    def identify(session: Session, actor: Actor, params: dict) -> Identity:
        filters = lists.loaded_filters(name, params)
        rows = lists.count(session, actor, name, filters)
        # What the rows show changes only with a write, and every write is audited: the data's version, with the
        # day (printed under the title) and the requester's role (what the rows show), keys the document.
        material = digest(f"{name}.{ext}", rows, lists.data_version(session), str(today_in_vietnam()), actor.role)
        return Identity(rows, material, lists.filename(name, ext), personal=actor.sees_personal_data)

    def render(session: Session, actor: Actor, params: dict, out: IO[bytes], progress: Progress) -> None:
        lists.write(session, actor, name, ext, lists.loaded_filters(name, params), out)

    roles = lists.CONTACT_READERS if contact else lists.READERS
    return Kind(lists.kind_name(name, ext, contact=contact), roles, lists.MEDIA_TYPES[ext], identify, render)


def _all_kinds() -> dict[str, Kind]:
    from fundsvc.documents.lists import CONTACT_LISTS, FORMATS, LISTS

    kinds = [
        _ceremony("award-list"),
        _ceremony("signature-sheet"),
        _ceremony("certificates"),
        _account_book("cash-book.pdf", "pdf"),
        _account_book("cash-book.xlsx", "xlsx"),
        _account_book("bank-book.pdf", "pdf"),
        _account_book("bank-book.xlsx", "xlsx"),
        _fund_book("pdf"),
        _fund_book("xlsx"),
        _receipts_archive(),
        *(_list_export(name, ext) for name in LISTS for ext in FORMATS),
        *(_list_export(name, ext, contact=True) for name in CONTACT_LISTS for ext in FORMATS),
    ]
    return {kind.name: kind for kind in kinds}


_KINDS: dict[str, Kind] = {}


def kind_named(name: str) -> Kind:
    """The kind of that name (built on first use: the kinds import the document services)."""
    if not _KINDS:
        _KINDS.update(_all_kinds())
    return _KINDS[name]
