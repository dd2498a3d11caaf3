"""The figures a backup's manifest states about the database it holds, read the same way from the live snapshot and
from a restored copy, so that comparing the two proves the copy: schema revision, row counts, ledger totals per fund
and money account, the last number of each document series, and whether every series is gapless.

`read_figures` queries; `differences` and `series_gaps` are pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import Connection, inspect, text

from fundsvc.numbering import PREFIXES, document_code

# Every column that holds the printed code of a numbered document (fundsvc.numbering.take_number's callers): a
# list payment gives one voucher code to several awards, and a merger's goods record one code to several gifts, so
# codes are counted once each.
_DOCUMENT_CODES = (
    "SELECT code FROM receipts",
    "SELECT document_code FROM movements",
    "SELECT DISTINCT voucher_code FROM awards WHERE voucher_code IS NOT NULL",
    "SELECT DISTINCT document_code FROM in_kind_entries WHERE kind IN ('handed_out', 'transfer_out', 'transfer_in')",
)


def read_figures(connection: Connection) -> dict:
    """The manifest's figures of the database `connection` reads, all in one transaction of the caller's."""
    tables = sorted(inspect(connection).get_table_names())
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    counts = {name: connection.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one() for name in tables}
    ledger = [
        {"fund": fund, "account_id": account_id, "entries": entries, "total": int(total)}
        for fund, account_id, entries, total in connection.execute(
            text(
                "SELECT f.code, e.account_id, COUNT(*), SUM(e.amount) FROM ledger_entries e "
                "JOIN funds f ON f.id = e.fund_id GROUP BY f.code, e.account_id ORDER BY f.code, e.account_id"
            )
        )
    ]
    series = [
        {"unit": unit, "kind": kind, "year": year, "last_number": last_number}
        for unit, kind, year, last_number in connection.execute(
            text(
                "SELECT u.code, b.kind, b.year, b.last_number FROM receipt_books b JOIN units u ON u.id = b.unit_id "
                "ORDER BY u.code, b.kind, b.year"
            )
        )
    ]
    codes = [code for query in _DOCUMENT_CODES for (code,) in connection.execute(text(query))]
    return {
        "schema_revision": revision,
        "row_counts": counts,
        "ledger": ledger,
        "series": series,
        "series_gaps": series_gaps(series, codes),
    }


class _UnitCode:
    """What document_code needs of a unit: its code."""

    def __init__(self, code: str) -> None:
        self.code = code


def series_gaps(series: Iterable[dict], codes: Iterable[str]) -> list[str]:
    """Every way the stored documents differ from gapless series: for each series (unit, kind, year, last_number),
    the documents numbered 1…last_number, each exactly once, and no document of a series beyond its counter.
    Empty when every series is gapless."""
    counted = Counter(codes)
    problems = [f"document code {code} stored more than once" for code, n in sorted(counted.items()) if n > 1]
    found = set(counted)
    expected: set[str] = set()
    for book in series:
        unit = _UnitCode(book["unit"])
        wanted = {document_code(unit, book["year"], n, book["kind"]) for n in range(1, book["last_number"] + 1)}
        missing = sorted(wanted - found)
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            problems.append(f"series {book['kind']} {book['unit']}/{book['year']}: {len(missing)} missing ({shown})")
        expected |= wanted
    stray = sorted(code for code in found - expected if _is_numbered(code))
    if stray:
        problems.append(f"{len(stray)} documents beyond their series' last number ({', '.join(stray[:5])})")
    return problems


def _is_numbered(code: str) -> bool:
    """Whether `code` has the shape document_code gives (PREFIX UNIT/YEAR/NNNNN)."""
    head, _, number = code.rpartition("/")
    return number.isdigit() and head.rpartition("/")[2].isdigit() and any(code.startswith(p) for p in PREFIXES.values())


def differences(stated: dict, found: dict) -> list[str]:
    """How the figures `found` in a restored copy differ from those its manifest `stated` (empty when equal)."""
    problems = []
    stated_counts, found_counts = stated.get("row_counts") or {}, found.get("row_counts") or {}
    for table in sorted(set(stated_counts) | set(found_counts)):
        if stated_counts.get(table) != found_counts.get(table):
            problems.append(
                f"rows of {table}: manifest says {stated_counts.get(table)}, the copy holds {found_counts.get(table)}"
            )
    for key in ("schema_revision", "ledger", "series"):
        if stated.get(key) != found.get(key):
            problems.append(f"{key}: manifest says {_short(stated.get(key))}, the copy holds {_short(found.get(key))}")
    return problems + [f"gap: {gap}" for gap in found.get("series_gaps", [])]


def _short(value) -> str:
    text_ = repr(value)
    return text_ if len(text_) <= 300 else text_[:300] + " …"
