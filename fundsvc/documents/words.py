"""Vietnamese money in words, amounts and dates as printed on receipts and vouchers.

Pure functions, no dependencies outside the standard library.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

__all__ = ["VN_TZ", "amount_in_words", "date_parts", "format_date", "format_vnd", "today_in_vietnam"]

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

_STYLES = {
    # style: (thousand, "zero tens" word, 4 after a tens digit of 2+)
    "north": ("nghìn", "linh", "tư"),
    "south": ("ngàn", "lẻ", "bốn"),
}


def _vn_tz() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Ho_Chi_Minh")
    except (
        ImportError,
        KeyError,
    ):  # pragma: no cover - no tz database on the host (ZoneInfoNotFoundError)
        # Vietnam has kept UTC+7 without daylight saving since 1975.
        return timezone(timedelta(hours=7), "ICT")


VN_TZ = _vn_tz()


def today_in_vietnam() -> date:
    """Today's date in Asia/Ho_Chi_Minh: the service's "today" everywhere (the server may run in UTC)."""
    return datetime.now(VN_TZ).date()


def _read_group(n: int, *, full: bool, style: tuple[str, str, str]) -> list[str]:
    """Words for 0 < n < 1000; `full` reads the hundreds even when zero ("không trăm")."""
    _, zero_tens, four = style
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if full or hundreds:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append(zero_tens)
            words.append(_DIGITS[units])
        return words
    if tens == 1:
        words.append("mười")
    else:
        words += [_DIGITS[tens], "mươi"]
    if units == 1:
        words.append("mốt" if tens >= 2 else "một")
    elif units == 4:
        words.append(four if tens >= 2 else "bốn")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(_DIGITS[units])
    return words


def _scale(index: int, thousand: str) -> list[str]:
    """Scale words for the group `index` places of three from the right (0 = units)."""
    small = ("", thousand, "triệu")[index % 3]
    return ([small] if small else []) + ["tỷ"] * (index // 3)


def number_in_words(n: int, *, style: str = "north") -> str:
    """Lower-case Vietnamese words for a non-negative integer (no currency)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"amount must be an int, not {type(n).__name__}")
    if n < 0:
        raise ValueError("amount must not be negative")
    try:
        conv = _STYLES[style]
    except KeyError:
        raise ValueError(f"unknown style {style!r}; use 'north' or 'south'") from None
    if n == 0:
        return "không"
    groups: list[int] = []
    while n:
        n, g = divmod(n, 1000)
        groups.append(g)
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        g = groups[index]
        if g == 0:
            continue
        words += _read_group(g, full=bool(words), style=conv)
        words += _scale(index, conv[0])
    return " ".join(words)


def amount_in_words(amount: int, *, style: str = "north", chan: bool = False) -> str:
    """Money in words as Vietnamese accounts write it: "Một triệu hai trăm năm mươi nghìn đồng"."""
    text = number_in_words(amount, style=style)
    text = text[0].upper() + text[1:] + " đồng"
    return text + " chẵn" if chan else text


def format_vnd(amount: int) -> str:
    """An amount of đồng with dots between thousands: 1250000 -> "1.250.000"."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int, not {type(amount).__name__}")
    return f"{amount:,}".replace(",", ".")


def _to_local_date(d: date | datetime | str) -> date:
    if isinstance(d, str):
        d = datetime.fromisoformat(d) if "T" in d or " " in d.strip() else date.fromisoformat(d)
    if isinstance(d, datetime):
        # Timestamps are stored in UTC; a naive one is taken to be UTC too.
        if d.tzinfo is None:
            d = d.replace(tzinfo=UTC)
        return d.astimezone(VN_TZ).date()
    if isinstance(d, date):
        return d
    raise TypeError(f"expected a date or datetime, not {type(d).__name__}")


def format_date(d: date | datetime | str | None) -> str:
    """A date (or UTC datetime, shown in Asia/Ho_Chi_Minh) as "dd/mm/yyyy"; None gives ""."""
    if d is None:
        return ""
    local = _to_local_date(d)
    return f"{local.day:02d}/{local.month:02d}/{local.year:04d}"


def date_parts(d: date | datetime | str) -> tuple[str, str, str]:
    """("dd", "mm", "yyyy") for "Ngày … tháng … năm …"."""
    local = _to_local_date(d)
    return f"{local.day:02d}", f"{local.month:02d}", f"{local.year:04d}"
