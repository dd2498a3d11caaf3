"""Text normalisation helpers for nomination spreadsheets (pure, no Flask).

* ``fold``: the matching key for headers and coded words -- NFD, combining marks
  stripped, đ→d, casefolded, ``_`` treated as a space, spaces collapsed.
  "  Họ và TÊN " and "ho_va_ten" both fold to "ho va ten".
* ``clean_text``: how free text is stored -- NFC, whitespace runs collapsed to one
  space, stripped, invisible control/format characters (zero-width space, NUL, …)
  removed.  ``clean_text_column`` does the same for a whole column using C-level
  ``map`` chains, which is what keeps a 100,000-row import fast.
* ``cell_text``: the text a spreadsheet shows for a non-text cell (123.0 → "123").
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import unicodedata

__all__ = [
    "cell_text",
    "clean_column",
    "clean_text",
    "clean_text_column",
    "fold",
    "is_blank",
]

_nfc = functools.partial(unicodedata.normalize, "NFC")
_space_join = " ".join


def _fold_uncached(s: str) -> str:
    s = unicodedata.normalize("NFD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("đ", "d").replace("Đ", "D").casefold()
    return " ".join(s.replace("_", " ").split())


@functools.lru_cache(maxsize=8192)
def fold(s: str) -> str:
    """Case-, diacritic- and spacing-insensitive key ("Hộ cận nghèo" → "ho can ngheo")."""
    return _fold_uncached(s)


_INVISIBLE = frozenset(("Cc", "Cf", "Cs", "Cn"))


def _strip_invisible(s: str) -> str:
    # Cc (control), Cf (format: zero-width space, BOM, soft hyphen…), Cs (lone surrogates)
    # and Cn (unassigned / non-characters such as U+FFFF) never belong in stored text and
    # some of them cannot be written to an .xlsx file at all.
    s = "".join(c for c in s if unicodedata.category(c) not in _INVISIBLE)
    return " ".join(s.split())


def clean_text(s: str) -> str:
    """NFC, whitespace collapsed and stripped, invisible characters removed."""
    t = _nfc(" ".join(s.split()))
    if not t.isprintable():
        t = _nfc(_strip_invisible(t))
    return t


def _column_is_clean(big: str) -> bool:
    return (
        big.isprintable()
        and "  " not in big
        and " |" not in big
        and "| " not in big
        and big[:1] != " "
        and big[-1:] != " "
        and unicodedata.is_normalized("NFC", big)
    )


def clean_column(col: list[str] | tuple[str, ...]) -> tuple[list[str], bool]:
    """``clean_text`` over a column of ``str``; also says whether an empty cell may be present.

    Fast path, checked on the column joined with "|": ``isprintable`` rules out every
    whitespace character but the ASCII space as well as invisible characters; double,
    leading and trailing spaces show up as "  ", " |", "| "; NFC is checked in one call.
    False positives (a cell containing "| ") only send the column down the slow path
    (a C-level map chain: split, join, NFC).
    """
    big = "|".join(col)
    if _column_is_clean(big):
        maybe_empty = not big or "||" in big or big[0] == "|" or big[-1] == "|"
        return list(col), maybe_empty
    out = list(map(_nfc, map(_space_join, map(str.split, col))))
    if not all(map(str.isprintable, out)):
        out = [t if t.isprintable() else _nfc(_strip_invisible(t)) for t in out]
    return out, True


def clean_text_column(col: list[str] | tuple[str, ...]) -> list[str]:
    """``clean_text`` over a column of ``str`` (C-level checks / map chain, no Python loop)."""
    return clean_column(col)[0]


def cell_text(v: object) -> str:  # noqa: C901 - one flat case per cell type calamine and csv return
    """The text a spreadsheet shows for a cell value read by python-calamine/csv."""
    if type(v) is str:
        return v
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.15g}"
    if isinstance(v, _dt.datetime):
        if v.time() == _dt.time(0, 0):
            return v.strftime("%d/%m/%Y")
        return v.strftime("%d/%m/%Y %H:%M")
    if isinstance(v, _dt.date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, _dt.time):
        return v.strftime("%H:%M")
    return str(v)


def is_blank(v: object) -> bool:
    """Empty cell: None, "" or only whitespace."""
    if v is None:
        return True
    if type(v) is str:
        return not v or v.isspace() or not clean_text(v)
    return False
