"""VietQR: the NAPAS EMVCo payload of a transfer to a bank account, the string a banking app scans.

Each field is ID (2 digits), length (2 digits), value; templates nest the same way. The checksum (ID 63) is
CRC-16/CCITT-FALSE over the whole payload up to and including "6304".
"""

from __future__ import annotations

import binascii
import re
import unicodedata

NAPAS_GUID = "A000000727"
TO_ACCOUNT = "QRIBFTTA"  # the service code of a transfer to an account number (QRIBFTTC: to a card)
MEMO_LENGTH = 25


def field(field_id: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"field {field_id} longer than 99 characters")
    return f"{field_id}{len(value):02d}{value}"


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), as four upper-case hex digits."""
    return f"{binascii.crc_hqx(text.encode('ascii'), 0xFFFF):04X}"


def memo_text(memo: str | None) -> str:
    """A transfer memo as banks carry it: no diacritics (đ → d), letters, digits and spaces, at most 25 characters."""
    if not memo:
        return ""
    plain = unicodedata.normalize("NFKD", memo.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", re.sub(r"[^A-Za-z0-9 ]", " ", plain)).strip()[:MEMO_LENGTH].strip()


def payload(bank_bin: str, account_number: str, amount: int | None = None, memo: str | None = None) -> str:
    """The VietQR string of a transfer to `account_number` at the bank `bank_bin` (its 6-digit NAPAS BIN); with an
    amount it is a dynamic code (the app fills the amount in), without one a static code for any amount."""
    if not re.fullmatch(r"[0-9]{6}", bank_bin or ""):
        raise ValueError("bank_bin must be the bank's 6-digit NAPAS BIN")
    if not re.fullmatch(r"[0-9A-Za-z]{1,19}", account_number or ""):
        raise ValueError("account_number must be 1–19 letters or digits")
    beneficiary = field("00", bank_bin) + field("01", account_number)
    merchant = field("00", NAPAS_GUID) + field("01", beneficiary) + field("02", TO_ACCOUNT)
    parts = [field("00", "01"), field("01", "12" if amount else "11"), field("38", merchant), field("53", "704")]
    if amount:
        parts.append(field("54", str(int(amount))))
    parts.append(field("58", "VN"))
    memo = memo_text(memo)
    if memo:
        parts.append(field("62", field("08", memo)))
    body = "".join(parts) + "6304"
    return body + crc16(body)


def parse(text: str) -> dict[str, str]:
    """The top-level fields of a payload (ID → value), the checksum verified: the reading side of `payload`."""
    if len(text) < 8 or crc16(text[:-4]) != text[-4:]:
        raise ValueError("bad checksum")
    fields, i = {}, 0
    while i < len(text):
        field_id, length = text[i : i + 2], int(text[i + 2 : i + 4])
        fields[field_id] = text[i + 4 : i + 4 + length]
        i += 4 + length
    return fields
