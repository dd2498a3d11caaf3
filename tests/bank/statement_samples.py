"""Sample statement exports, one per bank, in the layouts fundsvc.bank.statements recognises (made here, not
downloaded from a bank). `python -m tests.bank.statement_samples` writes them to tests/data/statements/."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

OUT = Path(__file__).resolve().parents[1] / "data" / "statements"
HEADERS = {
    "VCB": ["STT", "Ngày giao dịch", "Số tham chiếu", "Số tiền ghi nợ", "Số tiền ghi có", "Số dư", "Mô tả"],
    "BIDV": ["STT", "Ngày hiệu lực", "Số CT", "Ghi nợ", "Ghi có", "Số dư", "Nội dung giao dịch"],
    "VIETINBANK": ["STT", "Ngày hạch toán", "Diễn giải", "Nợ", "Có", "Số dư", "Số giao dịch"],
    "AGRIBANK": ["Ngày GD", "Số chứng từ", "Diễn giải", "Phát sinh nợ", "Phát sinh có", "Số dư"],
    "TECHCOMBANK": [
        "Ngày giao dịch/Transaction Date",
        "Tài khoản đối tác/Remitter Account",
        "Diễn giải/Details",
        "Nợ/Debit",
        "Có/Credit",
        "Số dư/Balance",
        "Số bút toán/Transaction No",
    ],
    "MB": ["Mã giao dịch", "Ngày giao dịch", "Ghi nợ", "Ghi có", "Số dư", "Nội dung chi tiết"],
}
# (date or None = filled down, reference, debit, credit, description)
LINES = [
    ("01/10/2026", "FT26274001", None, 500000, "MBVCB.4525077405.KHP200123 NGUYEN VAN A chuyen tien"),
    (None, "FT26274002", 200000, None, "Chi thuong hoc sinh"),
    ("02/10/2026", "FT26275003", None, 1000000, "ung ho quy khuyen hoc"),
]


def _row(bank: str, n: int, line) -> list:
    day, ref, debit, credit, memo = line
    return {
        "VCB": [n, day, ref, debit, credit, None, memo],
        "BIDV": [n, day, ref, debit, credit, None, memo],
        "VIETINBANK": [n, day, memo, debit, credit, None, ref],
        "AGRIBANK": [day, ref, memo, debit, credit, None],
        "TECHCOMBANK": [day, "0071000123456", memo, debit, credit, None, ref],
        "MB": [ref, day, debit, credit, None, memo],
    }[bank]


def workbook(bank: str, lines=LINES, continuation: bool = True, balances=(10_000_000, 11_300_000)) -> bytes:
    """The bank's layout holding `lines`; `balances` are the opening and closing balance rows it prints (the
    defaults add up for LINES)."""
    opening, closing = balances
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([f"SAO KÊ TÀI KHOẢN - {bank}"])
    sheet.append(["Số tài khoản: 1012345678", None, "Từ ngày 01/10/2026 đến ngày 31/10/2026"])
    sheet.append(["Số dư đầu kỳ", opening])
    sheet.append(HEADERS[bank])
    for n, line in enumerate(lines, 1):
        sheet.append(_row(bank, n, line))
        if continuation and n == 1:
            # The memo's second line exported on a row of its own.
            sheet.append(_row(bank, None, (None, None, None, None, "UNG HO HOC BONG"))[:])
    sheet.append(["Số dư cuối kỳ", closing])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for bank in HEADERS:
        (OUT / f"{bank.lower()}.xlsx").write_bytes(workbook(bank))


if __name__ == "__main__":
    main()
