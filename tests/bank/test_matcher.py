"""The import's Matcher decides every line as matching.decide does over the pledges of its window (the readable rule
is the reference; the Matcher only narrows what it looks at)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from fundsvc.bank import matching

DAY = dt.date(2026, 10, 1)
AMOUNTS = st.sampled_from([None, 100_000, 200_000, 500_000])
PHONES = st.sampled_from([None, "0913555777", "0913 555 778", "84913555779"])
TAX_CODES = st.sampled_from([None, "0312345678", "0312345679-001"])


@st.composite
def pledges(draw) -> list[dict]:
    """Dense codes (numbers a digit apart), of one or several units (keys of different lengths), some written
    differently but the same once compacted ("KH P2 00007" and "KHP2-00007": duplicates to the matcher)."""
    numbers = draw(st.lists(st.integers(0, 40), unique=True, max_size=12))
    units = draw(st.lists(st.sampled_from(["P2", "P10", "X"]), min_size=1, max_size=3))
    codes = [f"KH {draw(st.sampled_from(units))} {n:05d}" for n in numbers]
    codes += [code.replace(" ", "", 1).replace(" ", "-") for code in draw(st.lists(st.sampled_from(codes or ["-"])))]
    codes = [code for code in dict.fromkeys(codes) if code != "-"]
    rows = [
        {
            "id": 100 + i,
            "code": code,
            "amount": draw(AMOUNTS),
            "created": DAY + dt.timedelta(days=draw(st.integers(-5, 5))),
        }
        for i, code in enumerate(codes)
    ]
    return draw(st.permutations(rows))


@st.composite
def donors(draw) -> list[dict]:
    return [{"id": i + 1, "phone": draw(PHONES), "tax_code": draw(TAX_CODES)} for i in range(draw(st.integers(0, 5)))]


def slip(draw, code: str) -> str:
    """The code as a bank or a donor may write it: spaced, cased, or with one character wrong, missing, extra or
    swapped with the next one, or typed twice."""
    text = draw(st.sampled_from([code, code.replace(" ", ""), code.lower(), code.replace(" ", "-")]))
    position = draw(st.integers(0, len(text)))
    change = draw(st.sampled_from(["none", "replace", "drop", "insert", "swap", "twice"]))
    letter = draw(st.sampled_from("0123456789AKH"))
    if change == "swap":
        return (
            text[:position] + text[position + 1 : position + 2] + text[position : position + 1] + text[position + 2 :]
        )
    if change == "twice":
        return text + draw(st.sampled_from(["", " ", "."])) + text
    if change == "replace":
        return text[:position] + letter + text[position + 1 :]
    if change == "drop":
        return text[:position] + text[position + 1 :]
    if change == "insert":
        return text[:position] + letter + text[position:]
    return text


@st.composite
def memos(draw, codes: list[str]) -> str:
    pieces = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["code", "digits", "words"]))
        if kind == "code" and codes:
            pieces.append(slip(draw, draw(st.sampled_from(codes))))
        elif kind == "digits":
            pieces.append(draw(st.sampled_from(["0913555777", "84913555778", "0312345679", "4525077405", "1"])))
        else:
            pieces.append(draw(st.sampled_from(["MBVCB.", "ung ho quy khuyen hoc", "KH", "chuyen tien", "NGUYEN A"])))
    return draw(st.sampled_from([" ", ".", ""])).join(pieces)


@settings(max_examples=1500, deadline=None)
@given(st.data())
def test_the_matcher_decides_as_the_rule_does(data):
    open_pledges, known = data.draw(pledges()), data.draw(donors())
    memo = data.draw(memos([p["code"] for p in open_pledges]))
    amount = data.draw(st.sampled_from([100_000, 200_000, 500_000, 700_000]))
    since = DAY + dt.timedelta(days=data.draw(st.integers(-6, 6)))
    in_window = [p for p in open_pledges if p["created"] >= since]
    expected = matching.decide(memo, amount, in_window, known)
    assert matching.Matcher(open_pledges, known).decide(memo, amount, since) == expected


def test_the_matcher_sees_an_ambiguous_amount_among_many_and_a_slip():
    many = [{"id": i, "code": f"KH P2 {i:05d}", "amount": 300_000, "created": DAY} for i in range(1, 500)]
    matcher = matching.Matcher(many, [])
    assert matcher.decide("ung ho", 300_000, DAY) == {"status": "unmatched"}
    assert matcher.decide("ung ho", 300_000, DAY + dt.timedelta(days=1)) == {"status": "unmatched"}  # none in window
    assert matcher.decide("ck KHP200042", 300_000, DAY)["status"] == "matched"
    # One slip from KH P2 00042 and from KH P2 00142, 00242…: no single code is suggested.
    assert matcher.decide("ck KHP20042 ", 300_000, DAY) == matching.decide("ck KHP20042 ", 300_000, many, [])
    assert matcher.decide("ck KHP20042 ", 300_000, DAY)["status"] == "unmatched"
    slipped = matching.Matcher([many[122], many[498]], []).decide("ck KHP2000499 ", 1, DAY)  # a 0 too many
    assert slipped["status"] == "suggested" and slipped["pledge"] == 499 and "gõ nhầm" in slipped["why"]


def test_the_matcher_sees_a_code_missing_its_last_digit_at_the_end_of_the_memo():
    pledges = [{"id": 7, "code": "KH P2 00123", "amount": None, "created": DAY}]
    for memo in ("ung ho KHP20012", "ung ho KHP2 0123", "ung ho KHP2001243"):
        expected = matching.decide(memo, 1, pledges, [])
        assert expected["status"] == "suggested" and "gõ nhầm" in expected["why"]
        assert matching.Matcher(pledges, []).decide(memo, 1, DAY) == expected
