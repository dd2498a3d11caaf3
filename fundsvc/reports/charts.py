"""Charts as hand-built SVG: pure functions of plain numbers, every text escaped.

The SVG is inlined in the public HTML page and in the PDFs (WeasyPrint draws inline SVG), so there is
no image file, no script and nothing fetched. Same input gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["axis_step", "bar_chart", "hbar_chart", "money_short", "monthly_chart"]

FONT = "Noto Sans, sans-serif"
COLORS = ("#1f5f99", "#c8553d", "#2e8b57", "#8e6c8a")
MONTHS = ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12")


def _t(value: object) -> str:
    """Text for SVG content or an attribute: escaped, quotes included."""
    return escape(str(value), quote=True)


def _n(x: float) -> str:
    """A coordinate with at most one decimal, so output is stable and short."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def money_short(amount: int) -> str:
    """An amount for an axis or bar label as Vietnamese readers say it: 500.000 → "500 nghìn", 1.250.000 →
    "1,25 triệu", 3.500.000.000 → "3,5 tỷ"."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    for size, unit in ((1_000_000_000, "tỷ"), (1_000_000, "triệu"), (1_000, "nghìn")):
        if amount >= size:
            value = f"{amount / size:.2f}".rstrip("0").rstrip(".").replace(".", ",")
            return f"{sign}{value} {unit}"
    return f"{sign}{amount}"


def axis_step(maximum: int, ticks: int = 4) -> int:
    """A round step (1, 2 or 5 × 10^k) so that `ticks` steps cover `maximum`."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return int(m * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def _frame(width: int, height: int, title: str, body: list[str], label: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_t(label or title)}" '
        f'font-family="{FONT}" font-size="10">'
    )
    parts = [head, f"<title>{_t(title)}</title>"]
    if title:
        parts.append(
            f'<text x="{_n(width / 2)}" y="14" text-anchor="middle" font-size="12" '
            f'font-weight="bold">{_t(title)}</text>'
        )
    parts += body
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    title: str = "",
    width: int = 640,
    height: int = 240,
) -> Markup:
    """Vertical grouped bars: one group per label, one bar per series (name, values); a legend when >1 series."""
    top, bottom, left, right = (30 if title else 12), 34, 62, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [max(0, int(v)) for _name, vals in series for v in vals]
    step = axis_step(max(values, default=0))
    top_value = step * max(1, math.ceil(max(values, default=0) / step))
    body: list[str] = []
    for i in range(0, top_value // step + 1):
        value = i * step
        y = top + plot_h - plot_h * value / top_value
        body.append(
            f'<line x1="{left}" y1="{_n(y)}" x2="{width - right}" y2="{_n(y)}" stroke="#ccc" stroke-width="0.5"/>'
        )
        body.append(f'<text x="{left - 4}" y="{_n(y + 3)}" text-anchor="end">{_t(money_short(value))}</text>')
    groups = max(1, len(labels))
    group_w = plot_w / groups
    bar_w = group_w * 0.75 / max(1, len(series))
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.125
        for s, (name, vals) in enumerate(series):
            value = max(0, int(vals[g])) if g < len(vals) else 0
            h = plot_h * value / top_value
            x = x0 + s * bar_w
            body.append(
                f'<rect x="{_n(x)}" y="{_n(top + plot_h - h)}" width="{_n(max(bar_w - 1, 1))}" '
                f'height="{_n(h)}" fill="{COLORS[s % len(COLORS)]}">'
                f"<title>{_t(label)} – {_t(name)}: {_t(money_short(value))}</title></rect>"
            )
        body.append(
            f'<text x="{_n(left + g * group_w + group_w / 2)}" y="{top + plot_h + 13}" '
            f'text-anchor="middle">{_t(label)}</text>'
        )
    body.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="#000" stroke-width="0.8"/>'
    )
    if len(series) > 1:
        x = left
        for s, (name, _vals) in enumerate(series):
            body.append(f'<rect x="{_n(x)}" y="{height - 11}" width="9" height="9" fill="{COLORS[s % len(COLORS)]}"/>')
            body.append(f'<text x="{_n(x + 13)}" y="{height - 3}">{_t(name)}</text>')
            x += 20 + 6.2 * len(name)
    return _frame(width, height, title, body, title)


def monthly_chart(
    months: Sequence[dict], *, title: str, keys: Sequence[tuple[str, str]], width: int = 640, height: int = 240
) -> Markup:
    """Bars per calendar month from rows {"month": 1..12, key: amount}; `keys` = [(key, legend name)]."""
    by_month = {int(m["month"]): m for m in months}
    series = [(name, [int(by_month.get(i, {}).get(key, 0)) for i in range(1, 13)]) for key, name in keys]
    return bar_chart(MONTHS, series, title=title, width=width, height=height)


def hbar_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str = "",
    width: int = 640,
    bar_height: int = 18,
    label_width: int = 190,
    counts: Sequence[int] | None = None,
) -> Markup:
    """Horizontal bars, one per (label, amount), with the amount (and a count, if given) printed after the bar."""
    top = 24 if title else 6
    height = top + max(1, len(items)) * (bar_height + 6) + 6
    plot_w = width - label_width - 120
    maximum = max((max(0, int(v)) for _l, v in items), default=0) or 1
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        value = max(0, int(value))
        y = top + i * (bar_height + 6)
        w = plot_w * value / maximum
        text = str(label)
        if len(text) > 34:
            text = text[:33] + "…"
        body.append(f'<text x="{label_width - 6}" y="{_n(y + bar_height * 0.7)}" text-anchor="end">{_t(text)}</text>')
        body.append(
            f'<rect x="{label_width}" y="{y}" width="{_n(max(w, 0.5))}" height="{bar_height}" '
            f'fill="{COLORS[0]}"><title>{_t(label)}: {_t(money_short(value))}</title></rect>'
        )
        note = money_short(value) + (f" · {counts[i]} suất" if counts is not None else "")
        body.append(f'<text x="{_n(label_width + w + 4)}" y="{_n(y + bar_height * 0.7)}">{_t(note)}</text>')
    if not items:
        body.append(
            f'<text x="{_n(width / 2)}" y="{top + 14}" text-anchor="middle" font-style="italic">Không có số liệu</text>'
        )
    return _frame(width, height, title, body, title)
