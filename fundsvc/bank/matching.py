"""Which pledge a statement line's memo names: pure, no database (docs/bank.md "Matching").

Banks rewrite memos: "KH P2 00123" arrives as "khp200123", "KH-P2-00123" or inside
"MBVCB.4525077405.KHP200123 NGUYEN VAN A chuyen tien". Both sides are compared with case, diacritics, spaces and
punctuation removed; the code must not be followed by another digit (00123 is not 001234).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Callable

from fundsvc.students.normalize import fold

_NOT_CODE = re.compile(r"[^A-Z0-9]")
_NOT_DIGIT = re.compile(r"\D")
# Stands for any one character in the Matcher's index of keys with a character blanked (never in a compacted key).
WILD = "*"


def compact(text: str) -> str:
    """Upper case letters and digits only, diacritics folded ("Khuyến học" → "KHUYENHOC")."""
    text = text or ""
    # Banks send memos in ASCII, where folding changes nothing that upper() and the filter leave: skipped.
    return _NOT_CODE.sub("", (text if text.isascii() else fold(text)).upper())


def find_code(memo: str, codes: list[str]) -> list[str]:
    """The codes (as stored) that `memo` carries exactly, in the given order."""
    memo_key = compact(memo)
    return [code for code in codes if carries(memo_key, compact(code))]


def carries(memo_key: str, key: str) -> bool:
    """The compacted memo holds the compacted code somewhere not followed by another digit."""
    start = memo_key.find(key) if key else -1
    while start >= 0:  # each occurrence, left to right, not overlapping the one before
        end = start + len(key)
        if not memo_key[end : end + 1].isdigit():
            return True
        start = memo_key.find(key, end)
    return False


def _within_one(a: str, b: str) -> bool:
    """Levenshtein distance at most 1."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def near_codes(memo: str, codes: list[str]) -> list[str]:
    """Codes one typing slip away from a piece of the memo that starts with KH (never matched automatically)."""
    memo_key = compact(memo)
    near = []
    for code in codes:
        key = compact(code)
        for start in _starts_of_kh(memo_key):
            if any(_within_one(memo_key[start : start + n], key) for n in (len(key) - 1, len(key), len(key) + 1)):
                near.append(code)
                break
    return near


def digits_in(memo: str) -> set[str]:
    """Runs of digits in the memo (a phone's 84 prefix read as 0), for a donor's phone, tax code or account."""
    runs = set(re.findall(r"\d{8,19}", re.sub(r"[\s.\-]", "", memo or "")))
    return runs | {"0" + r[2:] for r in runs if r.startswith("84")}


def decide(memo: str, amount: int, open_pledges: list[dict], donors: list[dict]) -> dict:
    """{"status": "matched"|"suggested"|"unmatched", "pledge"?, "donor"?, "why"?} for an incoming line.

    open_pledges: {"id", "code", "amount"} of the account's open pledges made within the days before the line;
    donors: {"id", "phone", "tax_code", "accounts"} of the unit's known donors.

    This is the rule as it reads, scanning every pledge and donor; `Matcher` finds the same things through indexes.
    """
    by_code = _by_code(open_pledges)
    return judge(
        amount,
        [by_code[code] for code in find_code(memo, list(by_code))],
        lambda: [by_code[code] for code in near_codes(memo, list(by_code))],
        lambda: first_donor(donors, digits_in(memo)),
        lambda: [p for p in open_pledges if p["amount"] == amount][:2],
    )


def _by_code(pledges) -> dict[str, dict]:
    """Pledges by code, in the order given (of two pledges with one code, the later one)."""
    return {p["code"]: p for p in pledges}


def donor_reason(donor: dict, runs: set[str]) -> str | None:
    """Why the memo's digit runs name this donor (its phone, else its tax code, else an account), or None."""
    for what, label in (("phone", "số điện thoại"), ("tax_code", "mã số thuế")):
        value = _NOT_DIGIT.sub("", donor.get(what) or "")
        if value and value in runs:
            return f"Nội dung có {label} của nhà tài trợ"
    if runs & set(donor.get("accounts") or ()):
        return "Nội dung có số tài khoản của nhà tài trợ"
    return None


def first_donor(donors: list[dict], runs: set[str]) -> tuple[dict, str] | None:
    """The first donor (in the order given) the memo's digit runs name, with the reason."""
    for donor in donors:
        if why := donor_reason(donor, runs):
            return donor, why
    return None


def judge(
    amount: int,
    exact: list[dict],
    near: Callable[[], list[dict]],
    donor: Callable[[], tuple[dict, str] | None],
    same_amount: Callable[[], list[dict]],
) -> dict:
    """The decision for a line of `amount` from what its memo and amount name, in the rule's order, each finding
    asked for only when the ones before it named nothing: the pledges whose code the memo carries (one per code,
    in pledge order); the pledges whose code is one slip from a piece of it (one per code; only whether there is
    exactly one matters); the first donor it names; the open pledges of exactly the amount (only whether there is
    exactly one matters: at most two are needed)."""
    if len(exact) == 1:
        (pledge,) = exact
        if pledge["amount"] is None or pledge["amount"] == amount:
            return {"status": "matched", "pledge": pledge["id"], "why": f"Nội dung chuyển khoản có mã {pledge['code']}"}
        return {
            "status": "suggested",
            "pledge": pledge["id"],
            "why": f"Có mã {pledge['code']} nhưng số tiền khác số đã hứa ({pledge['amount']:,} đồng)".replace(",", "."),
        }
    if len(exact) > 1:
        return {
            "status": "suggested",
            "pledge": exact[0]["id"],
            "why": "Nội dung có nhiều mã ủng hộ: " + ", ".join(p["code"] for p in exact),
        }
    slipped = near()
    if len(slipped) == 1:
        return {
            "status": "suggested",
            "pledge": slipped[0]["id"],
            "why": f"Nội dung gần giống mã {slipped[0]['code']} (có thể gõ nhầm)",
        }
    named = donor()
    if named is not None:
        return {"status": "suggested", "donor": named[0]["id"], "why": named[1]}
    same = same_amount()
    if len(same) == 1:
        return {
            "status": "suggested",
            "pledge": same[0]["id"],
            "why": f"Số tiền đúng bằng mã ủng hộ {same[0]['code']} đang mở",
        }
    # Two open pledges of that amount: naming one would be a guess.
    return {"status": "unmatched"}


class Matcher:
    """`decide` for many lines of one account at once, with the open pledges and the donors indexed once instead of
    scanned for every line: `Matcher(pledges, donors).decide(memo, amount, since)` is
    `decide(memo, amount, [p for p in pledges if p["created"] >= since], donors)` (tests/bank/test_matcher.py proves
    it on random statements). Both hand their findings to `judge`, so the rule's order and wording are written once.

    The indexes (codes compacted as `compact` does, the key of each pledge):
    * by key: the pledges of each key, for the codes a memo carries and for a piece equal to a key;
    * by blank: the key with its i-th character replaced by a blank (WILD, which no compacted text holds), for a
      piece one character short of a key (the piece with a blank inserted at some i) and for a piece of a key's
      length with one character different (the piece with its i-th character blanked, at the same i);
    * a piece one character longer than a key is looked up by key with each of its characters deleted.
    These find exactly the keys `_within_one` of a piece (a symmetric-delete index), so no candidate is re-checked;
    what a piece finds is kept (the same pieces, "KHUYENHOC" of "khuyen hoc" above all, recur on many lines).
    pledges: as `decide` wants them, with "created" (the date the pledge was made), in the order `decide` would get.
    """

    def __init__(self, pledges: list[dict], donors: list[dict]):
        self._pledge_order = {p["id"]: i for i, p in enumerate(pledges)}
        self._key = {p["id"]: compact(p["code"]) for p in pledges}
        self._by_key: dict[str, list[dict]] = defaultdict(list)
        self._by_blank: dict[str, list[dict]] = defaultdict(list)
        self._by_amount: dict[int | None, list[dict]] = defaultdict(list)
        for pledge in pledges:
            key = self._key[pledge["id"]]
            self._by_key[key].append(pledge)
            for i in range(len(key)):
                self._by_blank[key[:i] + WILD + key[i + 1 :]].append(pledge)
            self._by_amount[pledge["amount"]].append(pledge)
        for same in self._by_amount.values():
            same.sort(key=lambda p: p["created"])
        lengths = {len(key) for key in self._by_key}
        self._lengths = sorted(lengths)
        # A key can only start where its first character is ("K" for all the service's codes).
        self._heads = {key[0] for key in self._by_key if key}
        self._piece_lengths = sorted({n for length in lengths for n in (length - 1, length, length + 1)})
        self._slips: dict[str, tuple[dict, ...]] = {}
        self._donor_order = {d["id"]: i for i, d in enumerate(donors)}
        self._donors_by_digits: dict[str, list[dict]] = defaultdict(list)
        for donor in donors:
            for value in (
                *_digits_of(donor.get("phone")),
                *_digits_of(donor.get("tax_code")),
                *(donor.get("accounts") or ()),
            ):
                if value:
                    self._donors_by_digits[value].append(donor)  # twice when two are one: `_first_donor` keeps one

    def decide(self, memo: str, amount: int, since) -> dict:
        memo_key = compact(memo)
        carried = self._in_window(self._carried(memo_key), since)
        exact = [p for p in _by_code(carried).values() if carries(memo_key, self._key[p["id"]])]
        return judge(
            amount,
            exact,
            lambda: self._near(memo_key, since),
            lambda: self._first_donor(digits_in(memo)),
            lambda: self._same_amount(amount, since),
        )

    def _in_window(self, pledges, since) -> list[dict]:
        """The pledges made on or after `since`, each once, in the order they were given in."""
        unique = {p["id"]: p for p in pledges if p["created"] >= since}
        return sorted(unique.values(), key=lambda p: self._pledge_order[p["id"]])

    def _near(self, memo_key: str, since) -> list[dict]:
        """The window's pledges one slip from the memo, one per code (of a code's pledges the last, as `_by_code`
        keeps it), in no particular order and at most two codes: `judge` only asks whether there is exactly one,
        and dense codes give dozens, so the search stops at a second code."""
        by_code: dict[str, dict] = {}
        for pledge in self._one_slip_from(memo_key):
            if pledge["created"] >= since:
                kept = by_code.get(pledge["code"])
                if kept is None and len(by_code) == 2:
                    break
                if kept is None or self._pledge_order[pledge["id"]] > self._pledge_order[kept["id"]]:
                    by_code[pledge["code"]] = pledge
        return list(by_code.values())

    def _carried(self, memo_key: str):
        """Pledges whose key is somewhere in the memo (`carries` then looks at what follows it)."""
        for start in range(len(memo_key)):
            if memo_key[start] not in self._heads:
                continue
            for n in self._lengths:
                yield from self._by_key.get(memo_key[start : start + n], ())

    def _one_slip_from(self, memo_key: str):
        """Pledges whose key is `_within_one` of a piece of the memo that starts with KH, as `near_codes` cuts them."""
        pieces = {memo_key[start : start + n] for start in _starts_of_kh(memo_key) for n in self._piece_lengths}
        for piece in pieces:
            found = self._slips.get(piece)
            if found is None:
                found = self._slips[piece] = tuple({p["id"]: p for p in self._within_one_of(piece)}.values())
            yield from found

    def _within_one_of(self, piece: str):
        by_key, by_blank = self._by_key, self._by_blank
        yield from by_key.get(piece, ())
        for i in range(len(piece) + 1):
            yield from by_blank.get(piece[:i] + WILD + piece[i:], ())  # a key one character longer
        for i in range(len(piece)):
            yield from by_key.get(piece[:i] + piece[i + 1 :], ())  # a key one character shorter
            yield from by_blank.get(piece[:i] + WILD + piece[i + 1 :], ())  # a key of its length, one different

    def _first_donor(self, runs: set[str]) -> tuple[dict, str] | None:
        named = {d["id"]: d for run in runs for d in self._donors_by_digits.get(run, ())}
        return first_donor(sorted(named.values(), key=lambda d: self._donor_order[d["id"]]), runs)

    def _same_amount(self, amount: int, since) -> list[dict]:
        """Two of the window's pledges of the amount (by date, not pledge order: `judge` only tells one from more)."""
        same = self._by_amount.get(amount, [])
        first = bisect.bisect_left(same, since, key=lambda p: p["created"])
        return same[first : first + 2]


def _digits_of(value: str | None) -> tuple[str, ...]:
    """A stored phone or tax code as `donor_reason` compares it (its digits), as a 0- or 1-tuple."""
    if not value:
        return ()
    return (value if value.isdecimal() else _NOT_DIGIT.sub("", value),)


def _starts_of_kh(memo_key: str) -> list[int]:
    return [m.start() for m in re.finditer("KH", memo_key)]
