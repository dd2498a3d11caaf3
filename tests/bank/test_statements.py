"""The statement parser and the memo matching (pure functions; the DB import is not built yet)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from fundsvc.bank import matching
from fundsvc.bank.statements import StatementRefused, balance_gap, dedupe_keys, parse, parse_amount
from tests.bank.statement_samples import HEADERS, LINES, OUT, workbook

TODAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize("bank", sorted(HEADERS))
def test_each_banks_sample_is_read(bank):
    parsed = parse((OUT / f"{bank.lower()}.xlsx").read_bytes(), f"{bank}.xlsx", TODAY)
    assert parsed.bank == bank and parsed.errors == []
    assert [(x.date.day, x.amount, x.direction) for x in parsed.lines] == [
        (1, 500000, "in"),
        (1, 200000, "out"),
        (2, 1000000, "in"),
    ]
    assert parsed.lines[0].description.endswith("chuyen tien UNG HO HOC BONG")  # continuation row joined
    assert parsed.lines[1].date == dt.date(2026, 10, 1)  # filled down
    assert (parsed.opening, parsed.closing, parsed.totals()) == (10_000_000, 11_300_000, (1_500_000, 200_000))
    assert balance_gap(parsed.opening, parsed.closing, *parsed.totals()) == 0


def _vcb(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


LINE_IN = [1, "01/10/2026", "FT1", None, 500_000, 10_500_000, "ung ho"]
LINE_OUT = [2, "01/10/2026", "FT2", 200_000, None, 10_300_000, "Tong cong ty Dien luc: tien dien"]


@pytest.mark.parametrize(
    "opening_row,closing_row",
    [
        (["Số dư đầu kỳ: 10.000.000 VND"], ["Số dư cuối kỳ:", "10.300.000"]),
        (
            [None, "Số dư đầu kỳ/Opening balance", None, None, None, 10_000_000],
            [None, "SỐ DƯ CUỐI KỲ", None, 10_300_000],
        ),
        (["Opening balance", "10,000,000"], ["Closing Balance", 10300000.0]),
    ],
)
def test_the_balance_rows_are_read_as_the_banks_print_them(opening_row, closing_row):
    rows = [["SAO KÊ TÀI KHOẢN"], opening_row, HEADERS["VCB"], LINE_IN, LINE_OUT, ["Tổng cộng", None, None, 200_000]]
    parsed = parse(_vcb([*rows, closing_row]), "a.xlsx", TODAY)
    assert parsed.errors == [] and (parsed.opening, parsed.closing) == (10_000_000, 10_300_000)
    # A memo that starts as a totals row does is a transfer all the same (it was once skipped as one).
    assert [line.description for line in parsed.lines] == ["ung ho", "Tong cong ty Dien luc: tien dien"]
    assert balance_gap(parsed.opening, parsed.closing, *parsed.totals()) == 0


def test_a_closing_balance_that_does_not_add_up_is_a_gap_and_a_bad_one_a_row_error():
    rows = [HEADERS["VCB"], LINE_IN, LINE_OUT]
    parsed = parse(_vcb([["Số dư đầu kỳ", 10_000_000], *rows, ["Số dư cuối kỳ", 10_250_000]]), "a.xlsx", TODAY)
    assert balance_gap(parsed.opening, parsed.closing, *parsed.totals()) == -50_000
    unprinted = parse(_vcb(rows), "a.xlsx", TODAY)
    assert (unprinted.opening, unprinted.closing) == (None, None)
    assert balance_gap(None, None, *unprinted.totals()) is None
    broken = parse(_vcb([*rows, ["Số dư cuối kỳ", "mười triệu"]]), "a.xlsx", TODAY)
    assert [e["row"] for e in broken.errors] == [4] and "số dư" in broken.errors[0]["message"]


def test_two_equal_same_day_transfers_keep_distinct_keys_and_a_reimport_the_same_ones():
    same = ("03/10/2026", None, None, 100000, "ung ho")
    first = parse(workbook("VCB", [*LINES, same, same], continuation=False), "a.xlsx", TODAY)
    keys = dedupe_keys(first.lines)
    assert len(set(keys)) == 5
    overlapping = parse(workbook("VCB", [LINES[2], same, same, ("04/10/2026", "FT9", None, 5, "x")]), "b.xlsx", TODAY)
    assert len(set(dedupe_keys(overlapping.lines)) - set(keys)) == 1


def test_bad_rows_are_all_listed():
    bad = [
        ("31/02/2026", "A", None, 1, "x"),
        ("01/01/1900", "B", None, 1, "y"),
        ("01/10/2026", "C", None, "abc", "z"),
        ("01/10/2026", "D", None, 10**14, "w"),
    ]
    parsed = parse(workbook("VCB", bad, continuation=False), "a.xlsx", TODAY)
    assert [e["row"] for e in parsed.errors] == [5, 6, 7, 8]


def test_hostile_files_are_refused():
    with pytest.raises(StatementRefused):
        parse(b"not a workbook", "sao-ke.xlsx", TODAY)
    with pytest.raises(StatementRefused):
        parse(b"x" * (11 * 1024 * 1024), "big.csv", TODAY)
    book = openpyxl.Workbook()
    book.active.append(HEADERS["VCB"])
    book.active.append([1, "01/10/2026", "R", None, 1, None, '=HYPERLINK("http://x","y")'])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(StatementRefused, match="công thức"):
        parse(out.getvalue(), "f.xlsx", TODAY)
    with pytest.raises(StatementRefused, match="Không nhận ra"):
        parse(b"a,b\n1,2\n", "x.csv", TODAY)


def test_a_generic_mapping_reads_a_csv():
    data = b'Ngay,So tien,Noi dung\n05/10/2026,"1.500.000",ung ho\n06/10/2026,-20000,phi\n'
    parsed = parse(data, "x.csv", TODAY, {"date": "Ngày", "amount": "Số tiền", "description": "Nội dung"})
    assert [(x.amount, x.direction) for x in parsed.lines] == [(1500000, "in"), (20000, "out")]


@pytest.mark.parametrize(
    "raw,value",
    [("1.000.000", 1000000), ("1,000,000.00", 1000000), (250000.0, 250000), ("2 000 000 VND", 2000000), ("", None)],
)
def test_amounts(raw, value):
    assert parse_amount(raw) == value


PLEDGES = [{"id": 123, "code": "KH P2 00123", "amount": 500000}, {"id": 124, "code": "KH P2 00124", "amount": None}]


@pytest.mark.parametrize(
    "memo",
    ["KH P2 00123", "khp200123", "MBVCB.4525077405.KHP200123 NGUYEN VAN A chuyen tien", "IBFT kh-p2-00123 ung ho"],
)
def test_pledge_code_variants_match(memo):
    assert matching.decide(memo, 500000, PLEDGES, []) == {
        "status": "matched",
        "pledge": 123,
        "why": "Nội dung chuyển khoản có mã KH P2 00123",
    }


def test_a_longer_number_is_not_the_code_and_a_near_miss_is_only_suggested():
    assert matching.find_code("KHP2001234", ["KH P2 00123"]) == []
    decision = matching.decide("ung ho KHP20013 ", 500000, PLEDGES[:1], [])
    assert decision["status"] == "suggested" and decision["pledge"] == 123


def test_an_ambiguous_amount_is_never_matched():
    two = [{"id": 1, "code": "KH P2 00001", "amount": 300000}, {"id": 2, "code": "KH P2 00002", "amount": 300000}]
    assert matching.decide("ung ho quy", 300000, two, []) == {"status": "unmatched"}
    assert matching.decide("ung ho quy", 300000, two[:1], [])["status"] == "suggested"


def test_a_donors_phone_is_suggested():
    donors = [{"id": 9, "phone": "0913555777", "tax_code": None}]
    assert matching.decide("CK tu 84913555777 ung ho", 1, [], donors)["donor"] == 9
