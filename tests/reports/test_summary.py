"""GET /reports/summary and the fund book: figures agree with the ledger; roles and unit scope."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from fundsvc.ledger.models import Fund
from fundsvc.ledger.service import balance, statement
from tests.reports.conftest import give, pay_award, void


def _sample(session):
    give(session, "ST-TP-P2", 5_000_000, method="cash", on=date(2024, 1, 10))
    give(session, "ST-TP-P2", 2_000_000, method="bank_transfer", on=date(2024, 2, 10))
    gone = give(session, "ST-TP-P5", 1_500_000, method="in_kind", on=date(2024, 3, 10))
    give(session, "ST-MX-DT", 3_000_000, on=date(2024, 4, 1))
    give(session, "ST-TP-P2", 10_000_000, fund="KH", on=date(2024, 5, 1), method="bank_transfer")
    give(session, "ST", 20_000_000, on=date(2024, 6, 1))
    void(session, gone.id)
    pay_award(session, "KH-ST-TP-P2", "ST-TP-P2", 1_000_000, on=date(2024, 9, 1), level="primary")
    pay_award(session, "KH", "ST-TP-P5", 2_000_000, on=date(2024, 9, 2), level="lower_secondary", tier="Khuyến tài")


def test_summary_rolls_up_and_matches_ledger(session, admin):
    _sample(session)
    body = admin.get("/api/v1/reports/summary?unit=ST").get_json()
    units = {u["code"]: u for u in body["units"]}
    # Money only; the voided gift (goods) counts nowhere, so nothing is added only to be subtracted again.
    assert units["ST-TP"]["in"]["total"] == 5_000_000 + 2_000_000 + 10_000_000
    assert units["ST-TP"]["reversals"] == 0
    assert units["ST-TP"]["in"]["in_kind"] == 0
    assert units["ST-TP-P2"]["own"]["donations"] == 3
    assert units["ST-TP"]["donations"] == 3 and units["ST-TP"]["donations_void"] == 1
    assert units["ST"]["awards"]["by_level"] == {
        "primary": {"count": 1, "amount": 1_000_000},
        "lower_secondary": {"count": 1, "amount": 2_000_000},
    }
    assert units["ST"]["awards"]["by_tier"]["Khuyến tài"] == {"count": 1, "amount": 2_000_000}
    assert body["totals"] == {
        k: v for k, v in units["ST"].items() if k not in ("code", "name", "level", "parent", "depth", "own")
    }
    for row in body["funds"]:
        fund = session.scalar(select(Fund).where(Fund.code == row["code"]))
        assert row["balance"] == balance(session, fund.id), row["code"]


def test_summary_period_and_scope(session, make_api, app):
    _sample(session)
    api = make_api(app, "viewer", "ST-TP")
    body = api.get("/api/v1/reports/summary?from=2024-02-01&to=2024-06-30").get_json()
    assert body["unit"] == "ST-TP"
    assert {u["code"] for u in body["units"]} == {"ST-TP", "ST-TP-P2", "ST-TP-P5"}
    t = body["totals"]
    assert t["opening_balance"] == 5_000_000
    assert t["in"]["total"] == 2_000_000 + 10_000_000
    assert t["closing_balance"] == t["opening_balance"] + t["net"]
    assert api.get("/api/v1/reports/summary?unit=ST-MX").status_code == 403
    assert api.get("/api/v1/reports/summary?from=2024-05-01&to=2024-01-01").status_code == 422


def test_fund_book_balances_match_ledger(session, admin):
    _sample(session)
    fund = session.scalar(select(Fund).where(Fund.code == "KH-ST-TP-P2"))
    opening, streamed = statement(session, fund, date(2024, 2, 1), date(2024, 12, 31))
    lines = list(streamed)
    book = admin.get("/api/v1/reports/fund-book?fund=KH-ST-TP-P2&from=2024-02-01&to=2024-12-31").get_json()
    assert book["opening_balance"] == opening == 5_000_000
    assert book["closing_balance"] == lines[-1].running_balance == balance(session, fund.id)
    assert [line["balance"] for line in book["lines"]] == [line.running_balance for line in lines]
    assert book["lines"][0]["document_code"]

    pdf = admin.get("/api/v1/reports/fund-book.pdf?fund=KH-ST-TP-P2&from=2024-02-01&to=2024-12-31")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    for words in (
        "SỔ QUỸ",
        "Số dư đầu kỳ",
        "Số dư cuối kỳ",
        "NGƯỜI GHI SỔ",
        "KẾ TOÁN TRƯỞNG",
        "THỦ TRƯỞNG ĐƠN VỊ",
        "5.000.000",
        "6.000.000",
        book["lines"][0]["document_code"],
    ):
        assert words in text, words

    xlsx = admin.get("/api/v1/reports/fund-book.xlsx?fund=KH-ST-TP-P2&from=2024-02-01&to=2024-12-31")
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    assert ws.freeze_panes == "A7"
    assert ws["A6"].value == "STT" and ws["A6"].font.b
    assert ws["G7"].value == 5_000_000 and ws["G7"].number_format == "#,##0"
    values = [row for row in ws.iter_rows(values_only=True)]
    closing = next(r for r in values if r[3] == "Số dư cuối kỳ")
    assert closing[6] == balance(session, fund.id)
    # Each line its own values and styles (the sheet reuses one styled cell per column and style).
    first, last = 8, 8 + len(book["lines"]) - 1
    for number, line in enumerate(book["lines"], 1):
        row = ws[first + number - 1]
        assert [c.value for c in row] == [
            number,
            datetime.fromisoformat(line["date"]),
            line["document_code"],
            line["description"],
            line["in"] or None,
            line["out"] or None,
            line["balance"],
        ]
        assert not any(c.font.b for c in row) and all(c.border.left.style == "thin" for c in row)
        assert (row[1].number_format, row[6].number_format) == ("dd/mm/yyyy", "#,##0")
    totals = ws[last + 1]
    assert totals[3].value == "Cộng phát sinh trong kỳ" and all(c.font.b for c in totals)
    assert totals[4].number_format == "#,##0" and totals[6].value is None


def test_fund_book_of_a_commune_in_the_provincial_fund(session, make_api, app):
    _sample(session)
    api = make_api(app, "treasurer", "ST-TP-P2")
    book = api.get("/api/v1/reports/fund-book?fund=KH").get_json()
    assert book["unit"]["code"] == "ST-TP-P2"
    assert [line["in"] for line in book["lines"]] == [10_000_000]
    assert api.get("/api/v1/reports/fund-book?fund=KH&unit=ST").status_code == 403


def test_roles(session, make_api, app):
    committee = make_api(app, "committee")
    assert committee.get("/api/v1/reports/summary").status_code == 200
    assert committee.post("/api/v1/reports/public/2024/publish?unit=ST").status_code == 403
    assert make_api(app, "treasurer").post("/api/v1/reports/public/2024/publish?unit=ST").status_code == 403
    assert app.test_client().get("/api/v1/reports/summary").status_code == 401
