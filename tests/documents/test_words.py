"""Amounts in words, amount and date formatting."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundsvc.documents.words import (
    amount_in_words,
    date_parts,
    format_date,
    format_vnd,
    number_in_words,
)

NORTH = [
    (0, "Không đồng"),
    (5, "Năm đồng"),
    (10, "Mười đồng"),
    (11, "Mười một đồng"),
    (14, "Mười bốn đồng"),
    (15, "Mười lăm đồng"),
    (20, "Hai mươi đồng"),
    (21, "Hai mươi mốt đồng"),
    (24, "Hai mươi tư đồng"),
    (25, "Hai mươi lăm đồng"),
    (55, "Năm mươi lăm đồng"),
    (100, "Một trăm đồng"),
    (101, "Một trăm linh một đồng"),
    (104, "Một trăm linh bốn đồng"),
    (105, "Một trăm linh năm đồng"),
    (110, "Một trăm mười đồng"),
    (115, "Một trăm mười lăm đồng"),
    (1_000, "Một nghìn đồng"),
    (1_005, "Một nghìn không trăm linh năm đồng"),
    (1_015, "Một nghìn không trăm mười lăm đồng"),
    (1_021, "Một nghìn không trăm hai mươi mốt đồng"),
    (10_000, "Mười nghìn đồng"),
    (15_000, "Mười lăm nghìn đồng"),
    (500_000, "Năm trăm nghìn đồng"),
    (1_000_005, "Một triệu không trăm linh năm đồng"),
    (1_250_000, "Một triệu hai trăm năm mươi nghìn đồng"),
    (1_500_000, "Một triệu năm trăm nghìn đồng"),
    (24_034_000, "Hai mươi tư triệu không trăm ba mươi tư nghìn đồng"),
    (1_000_000_000, "Một tỷ đồng"),
    (40_000_000_000, "Bốn mươi tỷ đồng"),
    (61_600_000_000, "Sáu mươi mốt tỷ sáu trăm triệu đồng"),
    (1_000_000_000_000, "Một nghìn tỷ đồng"),
    (5_000_000_000_000_000, "Năm triệu tỷ đồng"),
    (10**18, "Một tỷ tỷ đồng"),
    (
        1_001_001_001,
        "Một tỷ không trăm linh một triệu không trăm linh một nghìn không trăm linh một đồng",
    ),
]

SOUTH = [
    (0, "Không đồng"),
    (24, "Hai mươi bốn đồng"),
    (21, "Hai mươi mốt đồng"),
    (105, "Một trăm lẻ năm đồng"),
    (1_005, "Một ngàn không trăm lẻ năm đồng"),
    (1_250_000, "Một triệu hai trăm năm mươi ngàn đồng"),
    (1_000_000_000_000, "Một ngàn tỷ đồng"),
    (34_000, "Ba mươi bốn ngàn đồng"),
]


@pytest.mark.parametrize(("amount", "text"), NORTH)
def test_north(amount, text):
    assert amount_in_words(amount) == text


@pytest.mark.parametrize(("amount", "text"), SOUTH)
def test_south(amount, text):
    assert amount_in_words(amount, style="south") == text


def test_chan_and_lowercase_words():
    assert amount_in_words(5_000_000, chan=True) == "Năm triệu đồng chẵn"
    assert number_in_words(15) == "mười lăm"
    assert number_in_words(105) == "một trăm linh năm"
    assert number_in_words(1_000_000_000) == "một tỷ"


@pytest.mark.parametrize("bad", [-1, -1_000_000])
def test_negative_refused(bad):
    with pytest.raises(ValueError):
        amount_in_words(bad)


@pytest.mark.parametrize("bad", [1.5, "100", True, None])
def test_non_int_refused(bad):
    with pytest.raises(TypeError):
        amount_in_words(bad)


def test_unknown_style():
    with pytest.raises(ValueError):
        amount_in_words(1, style="central")


# --- a parser of the words, independent of the writer, for the round trip ---------------------------------

_DIGIT = {
    "không": 0,
    "một": 1,
    "mốt": 1,
    "hai": 2,
    "ba": 3,
    "bốn": 4,
    "tư": 4,
    "năm": 5,
    "lăm": 5,
    "sáu": 6,
    "bảy": 7,
    "tám": 8,
    "chín": 9,
}
_SMALL_SCALE = {"nghìn": 1_000, "ngàn": 1_000, "triệu": 1_000_000}


def parse_words(text: str) -> int:
    """Parse "Một nghìn không trăm linh năm đồng" back to 1005 (strict enough to catch malformed output)."""
    words = text.split()
    assert words[-1] == "đồng", text
    words = [w.lower() for w in words[:-1]]
    if words == ["không"]:
        return 0
    total = 0  # completed tỷ-level amounts
    below_ty = 0  # amount below a tỷ multiplier, built of groups
    group = 0  # the group being read (< 1000)
    i = 0
    while i < len(words):
        w = words[i]
        if w in _DIGIT and i + 1 < len(words) and words[i + 1] == "trăm":
            assert group == 0, text
            group = _DIGIT[w] * 100
            i += 2
        elif w in ("linh", "lẻ"):
            assert group % 100 == 0 and words[i + 1] in _DIGIT, text
            group += _DIGIT[words[i + 1]]
            i += 2
        elif w == "mười":
            group += 10
            i += 1
            if i < len(words) and words[i] in _DIGIT and words[i] not in ("mốt", "tư"):
                group += _DIGIT[words[i]]
                i += 1
        elif w in _DIGIT and i + 1 < len(words) and words[i + 1] == "mươi":
            group += _DIGIT[w] * 10
            i += 2
            if i < len(words) and words[i] in _DIGIT:
                assert words[i] != "một", text  # 21 is "hai mươi mốt"
                group += _DIGIT[words[i]]
                i += 1
        elif w in _DIGIT:
            assert w not in ("mốt", "lăm", "tư"), text
            group += _DIGIT[w]
            i += 1
        elif w in _SMALL_SCALE:
            below_ty += group * _SMALL_SCALE[w]
            group = 0
            i += 1
        elif w == "tỷ":
            k = 0
            while i < len(words) and words[i] == "tỷ":
                k += 1
                i += 1
            total += (below_ty + group) * 10 ** (9 * k)
            below_ty = group = 0
        else:
            raise AssertionError(f"unexpected word {w!r} in {text!r}")
    return total + below_ty + group


@settings(max_examples=600, deadline=None)
@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["north", "south"]))
def test_round_trip(amount, style):
    text = amount_in_words(amount, style=style)
    assert parse_words(text) == amount
    assert text[0].isupper() and text.endswith(" đồng")
    assert "  " not in text
    if style == "south":
        assert "nghìn" not in text and "linh" not in text and " tư" not in text
    else:
        assert "ngàn" not in text and "lẻ" not in text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**18))
def test_round_trip_large(amount):
    assert parse_words(amount_in_words(amount)) == amount


def test_format_vnd():
    assert format_vnd(1_250_000) == "1.250.000"
    assert format_vnd(0) == "0"
    assert format_vnd(999) == "999"
    assert format_vnd(1_000) == "1.000"


def test_format_date():
    assert format_date(date(2024, 10, 1)) == "01/10/2024"
    # 20:00 UTC on 30 Sep is 03:00 on 1 Oct in Hồ Chí Minh City.
    assert format_date(datetime(2024, 9, 30, 20, 0, tzinfo=UTC)) == "01/10/2024"
    assert format_date(datetime(2024, 9, 30, 20, 0)) == "01/10/2024"  # naive = UTC
    assert format_date("2024-10-01") == "01/10/2024"
    assert format_date(None) == ""
    assert date_parts(date(2024, 3, 9)) == ("09", "03", "2024")
    assert date_parts(datetime(2023, 12, 31, 18, 0, tzinfo=UTC)) == ("01", "01", "2024")
