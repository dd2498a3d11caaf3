"""The lists taken away (issue 22): each list as .xlsx and .csv with the filters applied, its scope and what its
reader may see, in the award list's layout; big ones written by the job queue."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.rounds.test_worked_example import example_round  # noqa: F401  (the fixture)

GIFTS = [
    ("ST-TP-P2", "Nguyễn Văn An", "0912345678", 500_000, "2024-10-01"),
    ("ST-TP-P2", "Trần Thị Bình", "0913000111", 1_000_000, "2024-10-05"),
    ("ST-TP-P5", '=HYPERLINK("http://x")', "0914000222", 2_000_000, "2024-11-02"),
    ("ST-MX", "Lê Văn Cường", "0915000333", 300_000, "2024-10-03"),
]


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def treasurer(app, tree, make_api):
    return make_api(app, "treasurer", "ST-TP")


@pytest.fixture
def gifts(admin):
    ids = []
    for unit, name, phone, amount, day in GIFTS:
        body = {
            "unit": unit,
            "amount": amount,
            "method": "cash",
            "received_on": day,
            "donor": {"name": name, "kind": "person", "phone": phone},
        }
        response = admin.post("/api/v1/donations", body)
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    return ids


def sheet(response):
    """(the sheet, its header row number, the header's labels, the rows under it as values)."""
    assert response.status_code == 200, response.data[:300]
    ws = load_workbook(io.BytesIO(response.data)).active
    head = int(ws.freeze_panes[1:]) - 1
    header = [c.value for c in ws[head]]
    rows = [list(r) for r in ws.iter_rows(min_row=head + 1, values_only=True)]
    return ws, head, header, rows


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf") and response.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_the_donations_export_has_the_lists_filters_scope_and_totals(treasurer, gifts):
    response = treasurer.get("/api/v1/donations/export.xlsx?from=2024-10-01&to=2024-10-31")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and disposition.endswith('.xlsx"')
    ws, head, header, rows = sheet(response)
    assert ws["A1"].value == "DANH SÁCH KHOẢN THU" and ws["A1"].font.bold
    lines = [ws.cell(r, 1).value for r in range(2, head)]
    assert "Từ ngày 01/10/2024 đến ngày 31/10/2024" in lines
    assert all(c.font.bold for c in ws[head]) and header[:4] == ["STT", "Ngày", "Số chứng từ", "Nhà hảo tâm"]
    # The treasurer of ST-TP sees ST-TP's gifts of October only (not ST-MX's, not November's), her scope's list.
    names = [r[3] for r in rows if isinstance(r[0], int)]
    assert names == ["Trần Thị Bình", "Nguyễn Văn An"]
    listed = treasurer.get("/api/v1/donations?from=2024-10-01&to=2024-10-31").json
    assert [d["donor"]["name"] for d in listed] == names
    money = header.index("Số tiền (đồng)")
    assert ws.cell(head + 1, money + 1).number_format == "#,##0" and ws.cell(head + 1, 2).number_format == "DD/MM/YYYY"
    total = next(r for r in rows if str(r[3] or "").startswith("TỔNG CỘNG"))
    assert total[money] == 1_500_000 and "2 khoản" in total[3]
    assert rows[-1][3] == "Bằng chữ: Một triệu năm trăm nghìn đồng"
    assert header[header.index("Nhà hảo tâm") + 1] == "Điện thoại" and "0913000111" in [r[4] for r in rows]


def test_a_voided_gift_is_listed_and_not_counted(treasurer, gifts):
    assert treasurer.post(f"/api/v1/donations/{gifts[1]}/void", {"reason": "ghi nhầm"}).status_code == 200
    _ws, _head, header, rows = sheet(treasurer.get("/api/v1/donations/export.xlsx"))
    money = header.index("Số tiền (đồng)")
    assert "Đã hủy" in [r[-1] for r in rows]
    total = next(r for r in rows if str(r[3] or "").startswith("TỔNG CỘNG"))
    assert total[money] == 500_000 + 2_000_000 and "3 khoản" in total[3]
    only_void = sheet(treasurer.get("/api/v1/donations/export.xlsx?status=void"))
    assert [r[3] for r in only_void[3] if isinstance(r[0], int)] == ["Trần Thị Bình"]
    assert "Trạng thái: Đã hủy" in [only_void[0].cell(r, 1).value for r in range(2, only_void[1])]


def test_the_csv_is_the_same_rows_neutralised(treasurer, gifts):
    rows = csv_rows(treasurer.get("/api/v1/donations/export.csv"))
    assert rows[0][:4] == ["STT", "Ngày", "Số chứng từ", "Nhà hảo tâm"] and len(rows) == 4
    assert '\'=HYPERLINK("http://x")' in [r[3] for r in rows]
    assert not [f for r in rows for f in r if f.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert rows[1][1] == "02/11/2024"


def test_a_viewer_sees_no_contact_details(app, make_api, gifts):
    viewer = make_api(app, "viewer", "ST-TP")
    _ws, _head, header, rows = sheet(viewer.get("/api/v1/donations/export.xlsx"))
    assert "Điện thoại" not in header and "Mã số thuế" not in header
    assert not any("091" in str(v) for r in rows for v in r)
    _ws, _head, header, rows = sheet(viewer.get("/api/v1/donors/export.xlsx"))
    assert header == ["STT", "Tên", "Loại", "Đơn vị ghi nhận"]


def test_the_donors_export_searches_as_the_list_does(treasurer, gifts):
    _ws, _head, header, rows = sheet(treasurer.get("/api/v1/donors/export.xlsx?q=nguyen"))
    assert [r[1] for r in rows if isinstance(r[0], int)] == ["Nguyễn Văn An"]
    assert header[:4] == ["STT", "Tên", "Loại", "Điện thoại"] and rows[0][3] == "0912345678"
    assert rows[-1][1] == "TỔNG CỘNG (1 nhà hảo tâm)"
    everyone = csv_rows(treasurer.get("/api/v1/donors/export.csv"))
    assert len(everyone) == 1 + len(treasurer.get("/api/v1/donors").json) == 4


def test_bad_filters_answer_in_the_contract_shape(treasurer, gifts):
    for url, status in (
        ("/api/v1/donations/export.xlsx?from=yesterday", 422),
        ("/api/v1/donations/export.xlsx?status=lost", 422),
        ("/api/v1/donations/export.xlsx?unit=ST-MX", 403),
        ("/api/v1/donations/export.pdf", 404),
        ("/api/v1/rounds/999999/awards/export.xlsx", 404),
    ):
        response = treasurer.get(url)
        assert response.status_code == status, (url, response.status_code)
        assert set(response.json) == {"code", "status", "message", "errors"}


def test_nominations_and_awards_exports(admin, app, make_api, example_round):  # noqa: F811 — the fixture
    rid = example_round["id"]
    _ws, _head, header, rows = sheet(admin.get("/api/v1/nominations/export.xlsx?academic_year=2024-2025"))
    pupils = [r for r in rows if isinstance(r[0], int)]
    assert len(pupils) == 120 and "Ngày sinh" in header and "Hoàn cảnh gia đình" in header
    assert rows[-1][2] == "TỔNG CỘNG (120 học sinh)"
    school = pupils[0][header.index("Trường")]
    viewer = make_api(app, "viewer")
    _ws, _head, header, rows = sheet(viewer.get("/api/v1/nominations/export.xlsx?academic_year=2024-2025"))
    assert "Ngày sinh" not in header and "Hoàn cảnh gia đình" not in header and "Điểm TB" not in header
    narrowed = csv_rows(admin.get("/api/v1/nominations/export.csv", query_string={"school": school}))
    listed = admin.get("/api/v1/nominations", query_string={"school": school, "page_size": 500}).json
    assert sorted(r[2] for r in narrowed[1:]) == sorted(n["full_name"] for n in listed)

    assert admin.post(f"/api/v1/rounds/{rid}/allocate").status_code == 200
    assert admin.post(f"/api/v1/rounds/{rid}/approve").status_code == 200
    awards = admin.get(f"/api/v1/rounds/{rid}/awards").json
    ws, _head, header, rows = sheet(admin.get(f"/api/v1/rounds/{rid}/awards/export.xlsx"))
    assert ws["A1"].value == "DANH SÁCH SUẤT HỌC BỔNG" and ws["A2"].value.startswith("Học bổng Khuyến học")
    money = header.index("Số tiền (đồng)")
    held = [r for r in rows if isinstance(r[0], int)]
    assert [r[1] for r in held] == [a["rank"] for a in awards]
    assert next(r for r in rows if str(r[3] or "").startswith("TỔNG CỘNG"))[money] == sum(a["amount"] for a in awards)
    first = awards[0]["full_name"].split()[-1]
    found = csv_rows(admin.get(f"/api/v1/rounds/{rid}/awards/export.csv", query_string={"q": first}))
    listed = admin.get(f"/api/v1/rounds/{rid}/awards", query_string={"q": first}).json
    assert [r[3] for r in found[1:]] == [a["full_name"] for a in listed]


def test_an_anonymous_gift_is_named_only_to_whom_the_list_names_it(app, make_api, treasurer):
    body = {"unit": "ST-TP-P2", "amount": 700_000, "method": "cash", "received_on": "2024-10-02", "anonymous": True}
    body["donor"] = {"name": "Phạm Thị Kín", "kind": "person", "phone": "0916000444"}
    assert treasurer.post("/api/v1/donations", body).status_code == 201
    viewer = make_api(app, "viewer", "ST-TP")
    for reader, name in ((viewer, "Nhà hảo tâm ẩn danh"), (treasurer, "Phạm Thị Kín")):
        listed = [d["donor"]["name"] for d in reader.get("/api/v1/donations").json]
        exported = [r[3] for r in csv_rows(reader.get("/api/v1/donations/export.csv"))[1:]]
        assert listed == exported == [name]
    _ws, _head, _header, rows = sheet(viewer.get("/api/v1/donations/export.xlsx"))
    cells = [str(v) for r in rows for v in r if v is not None]
    assert "Nhà hảo tâm ẩn danh" in cells and not [c for c in cells if "Kín" in c or "0916000444" in c]


def test_an_admin_of_every_unit_gets_each_gift_once(admin, gifts):
    """Unscoped, the list joins no unit for the scope: each gift is still one row, with its own unit's name."""
    rows = csv_rows(admin.get("/api/v1/donations/export.csv"))
    header, lines = rows[0], rows[1:]
    assert len(lines) == len(GIFTS)
    unit = header.index("Đơn vị")
    assert sorted(line[unit] for line in lines).count("Phường 2") == 2
