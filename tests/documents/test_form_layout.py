"""Where the forms' "label: value" lines put their words, read back from the PDF (poppler's pdftotext -bbox): each
label fits its column, the values of a block start on one vertical, and a long value wraps under its value column,
never under its label."""

import html
import re
import subprocess

import pytest
from samples import (
    LONG_DONOR,
    accounting_record_context,
    acknowledgement_context,
    bank_payment_context,
    receipt_context,
    voucher_context,
)

from fundsvc.documents.render import render_pdf

WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>')
LONG_REASON = (
    "Tặng học bổng cho học sinh nghèo vượt khó các trường trung học cơ sở trên địa bàn phường năm học 2024-2025"
)


def first_page_words(pdf: bytes) -> list[tuple[str, float, float, float]]:
    """(text, x0, y0, x1) of every word of the first page, in reading order."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return [(html.unescape(t), float(x0), float(y0), float(x1)) for x0, y0, x1, t in WORD.findall(out)]


def value_after(words, label: str, start: int = 0) -> tuple[float, float, float, int]:
    """(right edge of the label, left edge and top of the first word after it, its index) for the label's words in
    a row, the first at or after words[start]."""
    parts = label.split()
    texts = [w[0] for w in words]
    for i in range(start, len(texts) - len(parts)):
        if texts[i : i + len(parts)] == parts:
            label_end = words[i + len(parts) - 1]
            # The value's first word: the leftmost right of the label on its line (pdftotext's reading order
            # may take a column apart).
            line = [w for w in words if abs(w[2] - label_end[2]) < 1 and w[1] > label_end[1]]
            assert line, f"{label!r}: no value on its line"
            value = min(line, key=lambda w: w[1])
            return label_end[3], value[1], value[2], i + len(parts)
    raise AssertionError(f"label {label!r} not on the page after word {start}")


def title_index(words) -> int:
    """Where the form's body starts: after its title (the issuer block above has an "Địa chỉ:" of its own)."""
    return next(i for i, w in enumerate(words) if w[0] in ("THU", "CHI", "TRỢ", "TOÁN"))


def words_starting_line_below(words, y: float) -> list[tuple[str, float, float, float]]:
    """The first word of each line below y."""
    firsts, last_y = [], y
    for word in words:
        if word[2] > last_y + 1:
            firsts.append(word)
            last_y = word[2]
    return firsts


FORMS = {
    "receipt": (
        "documents/receipt.html",
        receipt_context(payer=LONG_DONOR, reason=LONG_REASON),
        [["Họ và tên người nộp tiền:", "Địa chỉ:", "Mã số thuế:", "Lý do nộp:", "Hình thức:", "Khoản đóng góp:"]],
    ),
    "voucher": (
        "documents/voucher.html",
        voucher_context(),
        [["Họ và tên người nhận tiền:", "Địa chỉ:", "Lý do chi:", "Số tiền:"]],
    ),
    "acknowledgement": (
        "documents/acknowledgement.html",
        acknowledgement_context(payer=LONG_DONOR),
        [["Nhà tài trợ:", "Địa chỉ:", "Số tiền:", "Tài khoản nhận:", "Mã giao dịch ngân hàng:", "Mục đích:"]],
    ),
    "bank_payment": (
        "documents/bank_payment.html",
        bank_payment_context(),
        [["Tên tài khoản:", "Tại ngân hàng:"], ["Số tiền:", "Số tham chiếu ngân hàng:"]],
    ),
    "accounting_record": (
        "documents/accounting_record.html",
        accounting_record_context(),
        [["Căn cứ:", "Tài khoản:", "Đối tượng:"]],
    ),
    "adjustment": (
        "documents/accounting_record.html",
        accounting_record_context(kind="adjustment", bank=None),
        [["Điều chỉnh chứng từ số:", "Đối tượng:"]],
    ),
}


@pytest.mark.parametrize("form", FORMS)
def test_labels_fit_their_column_and_values_align(form):
    template, ctx, blocks = FORMS[form]
    words = first_page_words(render_pdf(template, ctx))
    at = title_index(words)
    for block in blocks:
        starts = set()
        for label in block:
            label_end, value_start, _y, at = value_after(words, label, at)
            assert label_end < value_start - 1, f"{form}: {label!r} runs into its value"
            starts.add(round(value_start, 1))
        assert len(starts) == 1, f"{form}: the values of {block} start at {sorted(starts)}"


@pytest.mark.parametrize("form", ["receipt", "acknowledgement"])
def test_a_long_name_and_address_wrap_under_their_value(form):
    template, ctx, _blocks = FORMS[form]
    words = first_page_words(render_pdf(template, ctx))
    label = "Họ và tên người nộp tiền:" if form == "receipt" else "Nhà tài trợ:"
    _end, value_x, y, at = value_after(words, label, title_index(words))
    _end, _x, address_y, at = value_after(words, "Địa chỉ:", at)
    # The lines between the name's and the address's, and the one under the address, are their continuations.
    below = [w for w in words_starting_line_below(words, y) if w[2] < address_y - 1]
    assert below, f"{form}: the long name did not wrap"
    _end, _x, next_y, _at = value_after(words, "Mã số thuế:" if form == "receipt" else "Số tiền:", at)
    below += [w for w in words_starting_line_below(words, address_y) if w[2] < next_y - 1]
    assert len(below) >= 2, f"{form}: the long address did not wrap"
    for word in below:
        assert abs(word[1] - value_x) < 0.5, f"{form}: {word[0]!r} wraps at x={word[1]}, its value at x={value_x}"
