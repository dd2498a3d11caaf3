"""Pure document layer: amounts in words, dates, and safe WeasyPrint rendering of the Jinja templates.

`words` has no heavy dependency; `render` and `parallel` import WeasyPrint lazily, on first render.
"""

from .words import amount_in_words, date_parts, format_date, format_vnd, number_in_words

__all__ = [
    "amount_in_words",
    "date_parts",
    "format_date",
    "format_vnd",
    "number_in_words",
]
