"""The in-kind register (BOOKS.md "Where money is", "Books"): goods received and handed out, quantities and values,
what is left of each gift and what is still held; never any money. On both engines."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from tests.reports.test_cash_book import pdf_text

URL = "/api/v1/reports/in-kind?unit=ST-TP-P2&from=2024-03-01&to=2024-12-31"


@pytest.fixture
def app(any_app):
    return any_app


def goods(api, description, value, quantity, measure, on, donor="Nhà sách Phương Nam"):
    body = {
        "donor": {"name": donor, "kind": "organization"},
        "unit": "ST-TP-P2",
        "fund": "KH-ST-TP-P2",
        "amount": value,
        "method": "in_kind",
        "in_kind_description": description,
        "quantity": quantity,
        "unit_of_measure": measure,
        "received_on": on,
    }
    answer = api.post("/api/v1/donations", body)
    assert answer.status_code == 201, answer.json
    return answer.json


def hand_out(api, gift, quantity, on, to="Trường THCS Lê Lợi"):
    body = {"to": to, "date": on, **({"quantity": quantity} if quantity else {})}
    answer = api.post(f"/api/v1/in-kind/{gift['id']}/hand-out", body)
    assert answer.status_code == 201, answer.json
    return answer.json


@pytest.fixture
def register(app, tree, make_api):
    """Books received before the period (some handed out then), bicycles and notebooks in it (the notebooks
    voided), bicycles handed out; and a cash gift that the register never shows."""
    api = make_api(app, "treasurer", "ST-TP-P2")
    books = goods(api, "Sách giáo khoa lớp 6", 15_000_000, 200, "bộ", "2024-02-01")
    hand_out(api, books, 40, "2024-02-10")
    bikes = goods(api, "Xe đạp", 12_000_000, 10, "chiếc", "2024-03-05", donor="Công ty Xe đạp Thống Nhất")
    notebooks = goods(api, "Vở học sinh", 3_000_000, 1000, "quyển", "2024-03-06")
    assert api.post(f"/api/v1/donations/{notebooks['id']}/void", {"reason": "Nhập trùng"}).status_code == 200
    hand_out(api, bikes, 4, "2024-03-10", to="Trường Tiểu học Phường 2")
    hand_out(api, books, 60, "2024-04-01")
    cash = {**notebooks, "method": "cash"}
    assert (
        api.post(
            "/api/v1/donations",
            {k: cash[k] for k in ("unit", "fund", "amount", "method")}
            | {
                "donor": {"name": "Bà Ba", "kind": "person"},
                "received_on": "2024-03-07",
            },
        ).status_code
        == 201
    )
    return api


def test_received_handed_out_and_held(register):
    book = register.get(URL).json
    assert book["opening_balance"] == 15_000_000 - 3_000_000  # 160 of the 200 sets held on 1 March
    rows = [
        (line["document_in"] or line["document_out"], line["quantity_in"], line["quantity_out"], line["void"])
        for line in book["lines"]
    ]
    assert rows == [
        ("HV-ST-TP-P2/2024/00002", 10, None, False),
        ("HV-ST-TP-P2/2024/00003", None, None, True),  # the voided notebooks: in place, nothing counted
        ("HVX-ST-TP-P2/2024/00002", None, 4, False),
        ("HVX-ST-TP-P2/2024/00003", None, 60, False),
    ]
    bikes_out, books_out = book["lines"][2], book["lines"][3]
    assert (bikes_out["held_quantity"], bikes_out["held_value"], bikes_out["out"]) == (6, 7_200_000, 4_800_000)
    assert (books_out["held_quantity"], books_out["held_value"]) == (100, 7_500_000)
    assert books_out["item"] == "HV-ST-TP-P2/2024/00001" and books_out["unit_of_measure"] == "bộ"
    assert "Nhập trùng" in book["lines"][1]["description"] and book["lines"][1]["in"] is None
    assert (book["total_in"], book["total_out"]) == (12_000_000, 4_800_000 + 4_500_000)
    assert book["closing_balance"] == book["opening_balance"] + book["total_in"] - book["total_out"]
    assert [(i["document"], i["quantity"], i["value"]) for i in book["held"]] == [
        ("HV-ST-TP-P2/2024/00001", 100, 7_500_000),
        ("HV-ST-TP-P2/2024/00002", 6, 7_200_000),
    ]
    assert sum(i["value"] for i in book["held"]) == book["closing_balance"]
    assert "Bà Ba" not in str(book)  # money is never in the register
    fund = next(f for f in register.get("/api/v1/funds").json if f["code"] == "KH-ST-TP-P2")
    assert fund["in_kind_value"] == book["closing_balance"]


def test_the_printed_register_and_its_spreadsheet(register):
    pdf = register.get(URL.replace("in-kind?", "in-kind.pdf?"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for expected in (
        "HỘI KHUYẾN HỌC PHƯỜNG 2",
        "SỔ THEO DÕI HIỆN VẬT",
        "Mẫu số S22-H",
        "Ngày mở sổ: 01/01/2023",
        "Nguyễn Văn Nam",
        "Võ Thị Thu",
        "Hủy: Nhập trùng",
        "Xe đạp",
        "14.700.000",  # still held at the end
    ):
        assert expected in text, expected
    assert re.search(r"Trang 1/\d", text) and "Bàn giao cho" not in text.split("còn giữ đến ngày")[-1]
    sheet = register.get(URL.replace("in-kind?", "in-kind.xlsx?"))
    ws = load_workbook(io.BytesIO(sheet.data)).active
    assert ws.freeze_panes == "A7"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=7)]
    assert rows[0][4] == "Giá trị hiện vật đầu kỳ" and rows[0][11] == 12_000_000
    assert rows[1][6] == 10 and rows[1][7] == 12_000_000 and ws.cell(8, 8).number_format == "#,##0"
    assert rows[2][7] is None  # the void
    assert rows[5][4] == "Cộng phát sinh trong kỳ" and rows[5][9] == 9_300_000
    assert rows[6][11] == 14_700_000 and ws.cell(13, 12).font.bold
    assert [r[3] for r in rows[9:11]] == ["HV-ST-TP-P2/2024/00001", "HV-ST-TP-P2/2024/00002"]


def test_the_register_is_the_units_own(app, tree, make_api):
    outsider = make_api(app, "treasurer", "ST-TP-P5")
    assert outsider.get(URL).status_code == 403
    assert outsider.get("/api/v1/reports/in-kind?unit=ST-TP-P5&from=2024-12-31&to=2024-01-01").status_code == 422
