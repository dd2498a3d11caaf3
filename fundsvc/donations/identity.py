"""Who a donor is: phone numbers and tax codes in one stored form, names compared and searched folded (pure, no Flask).

* Phones (docs/api.md "Donors"): parsed with `phonenumbers` for region VN and stored in the national form, digits
  only ("0912 345 678", "0912.345.678", "+84 912 345 678" and "84912345678" are all stored "0912345678"): the form
  Vietnamese treasurers type and read, and a prefix of it is what they search. A foreign number is stored in E.164
  ("+16502530000"). A number `phonenumbers` does not hold valid for its country is refused.
* Tax codes (*mã số thuế*): 10 digits for an organisation or a household business, "10 digits-3 digits" (13 in
  all) for a dependent unit or branch, 12 digits for a person (the personal identification number, which is the
  person's tax code since 1 July 2025, Thông tư 86/2024/TT-BTC). Spaces, dots and hyphens typed between the digits
  are dropped and the branch suffix is written after one hyphen: "0312 345 678 001" is stored "0312345678-001".
* Names: compared and searched folded (fundsvc.students.normalize.fold: no case, no diacritics, "đ" as "d").
"""

from __future__ import annotations

import re

import phonenumbers

from fundsvc.students.normalize import fold

REGION = "VN"
VN_COUNTRY_CODE = 84
_TAX_SEPARATORS = re.compile(r"[\s.\-]")
_SPACING = re.compile(r"[\s.]")
# The characters a folded name is cut into words at: everything but letters and digits.
_WORD_BREAK = re.compile(r"[^0-9a-z]+")
WORD_LENGTH = 60  # a word stored for search is cut to this many characters (donor_name_words.word)


class IdentityError(ValueError):
    """A phone number or tax code that cannot be stored: the message says why, in Vietnamese first."""


def normalize_phone(raw: str) -> str:
    """The stored form of a phone number typed in any usual way; IdentityError when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, REGION)
    except phonenumbers.NumberParseException as error:
        raise IdentityError(f"Số điện thoại không hợp lệ: {raw!r} (invalid phone number)") from error
    if not phonenumbers.is_valid_number(number):
        raise IdentityError(f"Số điện thoại không hợp lệ: {raw!r} (invalid phone number)")
    if number.country_code == VN_COUNTRY_CODE:
        return "0" + str(number.national_number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_tax_code(raw: str) -> str:
    """The stored form of a tax code: 10 digits, 12 digits, or 10 digits-3 digits; IdentityError otherwise."""
    compact = _SPACING.sub("", raw)
    # A hyphen is only ever the branch suffix's: "10 digits-3 digits".
    head, hyphen, suffix = compact.partition("-")
    digits = head + suffix
    if digits.isascii() and digits.isdigit() and (not hyphen or (len(head), len(suffix)) == (10, 3)):
        if len(digits) in (10, 12):
            return digits
        if len(digits) == 13:
            return f"{digits[:10]}-{digits[10:]}"
    raise IdentityError(
        f"Mã số thuế không hợp lệ: {raw!r}; gồm 10 chữ số, 10 chữ số-3 chữ số hoặc 12 chữ số (invalid tax code)"
    )


def stored_or_typed(normalize, raw: str | None) -> str | None:
    """`normalize(raw)`, or `raw` as typed when it cannot be normalised (what an old row or a search holds)."""
    if raw is None or not raw.strip():
        return None
    try:
        return normalize(raw)
    except IdentityError:
        return raw.strip()


def same_name(a: str, b: str) -> bool:
    """Whether two names are the same once case, spacing and diacritics are ignored ("Chị Nhung" is not
    "Trần Thị Hồng Nhung"; "TRAN THI HONG NHUNG" is)."""
    return fold(a) == fold(b)


def name_words(name: str) -> list[str]:
    """The distinct folded words of a name, as stored for search ("Đặng Văn-Út" → ["dang", "van", "ut"])."""
    return list(dict.fromkeys(word[:WORD_LENGTH] for word in _WORD_BREAK.split(fold(name)) if word))


def search_digits(query: str) -> str | None:
    """A query that is a phone or tax code being typed, as the digits its stored form starts with: "0912 345" →
    "0912345", "+84 912" → "0912"; None when the query holds letters."""
    compact = _TAX_SEPARATORS.sub("", query).replace("(", "").replace(")", "")
    if compact.startswith("+"):
        compact = compact[1:]
        if compact.startswith(str(VN_COUNTRY_CODE)):
            compact = "0" + compact[2:]
    if not (compact.isascii() and compact.isdigit()):
        return None
    return compact


def search_words(query: str) -> list[str]:
    """The folded words of a search, each looked for as the start of a word of the name ("Nguyễn Th" →
    ["nguyen", "th"]); at most five (a longer query is not a name)."""
    return name_words(query)[:5]


def after_prefix(prefix: str) -> str:
    """The smallest string above every string that starts with `prefix` (folded letters and digits, compared byte
    by byte): `word >= prefix AND word < after_prefix(prefix)` is a prefix search an index answers as a range."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def after_digits(prefix: str) -> str | None:
    """The same bound for a prefix of digits kept in a column of the database's own collation (phones, tax codes):
    the next number of the same length ("0919" → "0920"), which any collation orders after the prefix's digits;
    None when there is none ("999")."""
    if set(prefix) == {"9"}:
        return None
    return str(int(prefix) + 1).zfill(len(prefix))
