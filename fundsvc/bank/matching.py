"""Which pledge a statement line's memo names: pure, no database (docs/bank.md "Matching").

Banks rewrite memos: "KH P2 00123" arrives as "khp200123", "KH-P2-00123" or inside
"MBVCB.4525077405.KHP200123 NGUYEN VAN A chuyen tien". Both sides are compared with case, diacritics, spaces and
punctuation removed; the code must not be followed by another digit (00123 is not 001234).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict

from fundsvc.students.normalize import fold


def compact(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", fold(text or "").upper())


def find_code(memo: str, codes: list[str]) -> list[str]:
    """The codes (as stored) that `memo` carries exactly, in the given order."""
    memo_key = compact(memo)
    found = []
    for code in codes:
        key = compact(code)
        start = memo_key.find(key) if key else -1
        while start >= 0:  # each occurrence, left to right, not overlapping the one before
            end = start + len(key)
            if not memo_key[end : end + 1].isdigit():
                found.append(code)
                break
            start = memo_key.find(key, end)
    return found


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
        for start in (m.start() for m in re.finditer("KH", memo_key)):
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
    """
    by_code = {p["code"]: p for p in open_pledges}
    exact = find_code(memo, list(by_code))
    if len(exact) == 1:
        pledge = by_code[exact[0]]
        if pledge["amount"] in (None, amount):
            return {"status": "matched", "pledge": pledge["id"], "why": f"Nội dung chuyển khoản có mã {pledge['code']}"}
        return {
            "status": "suggested",
            "pledge": pledge["id"],
            "why": f"Có mã {pledge['code']} nhưng số tiền khác số đã hứa ({pledge['amount']:,} đồng)".replace(",", "."),
        }
    if len(exact) > 1:
        return {
            "status": "suggested",
            "pledge": by_code[exact[0]]["id"],
            "why": "Nội dung có nhiều mã ủng hộ: " + ", ".join(exact),
        }
    near = near_codes(memo, list(by_code))
    if len(near) == 1:
        return {
            "status": "suggested",
            "pledge": by_code[near[0]]["id"],
            "why": f"Nội dung gần giống mã {near[0]} (có thể gõ nhầm)",
        }
    runs = digits_in(memo)
    for donor in donors:
        for what, label in (("phone", "số điện thoại"), ("tax_code", "mã số thuế")):
            value = re.sub(r"\D", "", donor.get(what) or "")
            if value and value in runs:
                return {"status": "suggested", "donor": donor["id"], "why": f"Nội dung có {label} của nhà tài trợ"}
        if runs & set(donor.get("accounts") or ()):
            return {"status": "suggested", "donor": donor["id"], "why": "Nội dung có số tài khoản của nhà tài trợ"}
    same_amount = [p for p in open_pledges if p["amount"] == amount]
    if len(same_amount) == 1:
        return {
            "status": "suggested",
            "pledge": same_amount[0]["id"],
            "why": f"Số tiền đúng bằng mã ủng hộ {same_amount[0]['code']} đang mở",
        }
    # Two open pledges of that amount: naming one would be a guess.
    return {"status": "unmatched"}


class Matcher:
    """`decide` for many lines of one account at once: the open pledges and the donors indexed once (pledge codes,
    their one-slip variants, amounts, phones, tax codes, accounts) instead of scanned for every line.

    It narrows the pledges and donors to those a line could name and lets `decide` judge them, so the rule is only
    ever `decide`'s: `Matcher(pledges, donors).decide(memo, amount, since)` is
    `decide(memo, amount, [p for p in pledges if p["created"] >= since], donors)` (tests/bank/test_matcher.py).
    pledges: as `decide` wants them, with "created" (the date the pledge was made), in the order `decide` would get.
    """

    def __init__(self, pledges: list[dict], donors: list[dict]):
        self._pledge_order = {p["id"]: i for i, p in enumerate(pledges)}
        self._by_key: dict[str, list[dict]] = defaultdict(list)
        self._by_deletion: dict[str, list[dict]] = defaultdict(list)
        self._by_amount: dict[int | None, list[dict]] = defaultdict(list)
        for pledge in pledges:
            key = compact(pledge["code"])
            self._by_key[key].append(pledge)
            for variant in _deletions(key):
                self._by_deletion[variant].append(pledge)
            self._by_amount[pledge["amount"]].append(pledge)
        for same in self._by_amount.values():
            same.sort(key=lambda p: p["created"])
        self._lengths = sorted({len(key) for key in self._by_key})
        self._donor_order = {d["id"]: i for i, d in enumerate(donors)}
        self._donors_by_digits: dict[str, list[dict]] = defaultdict(list)
        for donor in donors:
            values = {re.sub(r"\D", "", donor.get(what) or "") for what in ("phone", "tax_code")}
            for value in (values | set(donor.get("accounts") or ())) - {""}:
                self._donors_by_digits[value].append(donor)

    def decide(self, memo: str, amount: int, since) -> dict:
        memo_key = compact(memo)
        found = {**self._carried(memo_key), **self._one_slip_from(memo_key)}
        pledges = {i: p for i, p in found.items() if p["created"] >= since}
        # Two pledges of the amount are as ambiguous as two thousand: `decide` needs to see at most two.
        same_amount = self._by_amount.get(amount, [])
        first = bisect.bisect_left(same_amount, since, key=lambda p: p["created"])
        pledges.update((p["id"], p) for p in same_amount[first : first + 2])
        donors = {d["id"]: d for run in digits_in(memo) for d in self._donors_by_digits.get(run, ())}
        return decide(
            memo,
            amount,
            sorted(pledges.values(), key=lambda p: self._pledge_order[p["id"]]),
            sorted(donors.values(), key=lambda d: self._donor_order[d["id"]]),
        )

    def _carried(self, memo_key: str) -> dict[int, dict]:
        """Pledges whose whole code is somewhere in the memo, by id."""
        return {
            p["id"]: p
            for start in range(len(memo_key))
            for n in self._lengths
            for p in self._by_key.get(memo_key[start : start + n], ())
        }

    def _one_slip_from(self, memo_key: str) -> dict[int, dict]:
        """Pledges whose code may be one edit from a piece of the memo that starts with KH, by id: every such
        pledge, and some that are not (`decide` tells them apart)."""
        out: dict[int, dict] = {}
        for start in (m.start() for m in re.finditer("KH", memo_key)):
            for length in self._lengths:
                for n in (length - 1, length, length + 1):
                    piece = memo_key[start : start + n]
                    for variant in (piece, *_deletions(piece)):
                        for p in (*self._by_key.get(variant, ()), *self._by_deletion.get(variant, ())):
                            out[p["id"]] = p
        return out


def _deletions(key: str) -> set[str]:
    return {key[:i] + key[i + 1 :] for i in range(len(key))}
