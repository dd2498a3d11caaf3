"""Text written into a spreadsheet cell (xlsx or csv) stays text.

A cell that begins with = + - @ (or a tab or carriage return before them) is read by spreadsheet programs as a
formula: a pupil named '=HYPERLINK(…)' would become a live link, '+cmd|…' a command. Such text is written with a
leading apostrophe (OWASP's advice for CSV injection), and the control characters that xlsx's XML cannot hold
(NUL and the like) are dropped, so a stored name can never stop an export.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def sheet_text(value: Any) -> Any:
    """`value` as safe for a cell: text neutralised (see the module doc), anything else unchanged."""
    if type(value) is str:  # the common case first, told at C speed: nothing to drop, nothing to neutralise
        if value.isprintable() and not value.startswith(FORMULA_LEADS):
            return value
    elif not isinstance(value, str):
        return value
    value = _ILLEGAL.sub("", value)
    return "'" + value if value.startswith(FORMULA_LEADS) else value
