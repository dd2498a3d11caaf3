"""A ceremony pays a whole school's list at once: 300 pupils, one Phiếu chi, and never a second time."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from fundsvc.extensions import db
from fundsvc.ledger.models import LedgerEntry

SCHOOL = "Trường THCS Lê Lợi"
HEADER = (
    "Mã học sinh,Họ và tên,Ngày sinh,Giới tính,Dân tộc,Trường,Lớp,Cấp học,"
    "Mã đơn vị,Hoàn cảnh gia đình,Điểm TB,Rèn luyện"
)
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Ngọc"]


def nomination_file(pupils: int) -> bytes:
    lines = [HEADER]
    for i in range(pupils):
        day, month = i % 28 + 1, i % 12 + 1
        lines.append(
            f"HS{i:07d},Nguyễn Văn {GIVEN[i % 10]} {i},{day:02d}/{month:02d}/2011,Nam,Kinh,{SCHOOL},8A,THCS,"
            f"ST-TP-P2,Hộ nghèo,{7 + (i % 30) / 10},Tốt"
        )
    return ("\n".join(lines) + "\n").encode()


def test_a_300_pupil_list_is_paid_with_one_voucher_once(app, tree, admin, make_api):
    pupils, amount = 300, 500_000
    gift = {"donor": {"name": "Công ty Minh Phát", "kind": "organization"}, "unit": "ST", "fund": "KH"}
    gift.update(amount=pupils * amount, method="cash", received_on="2024-10-01")
    assert admin.post("/api/v1/donations", gift).status_code == 201
    imported = admin.client.post(
        "/api/v1/nominations/import",
        data={"file": (io.BytesIO(nomination_file(pupils)), "le-loi.csv"), "academic_year": "2024-2025"},
        headers={"Authorization": f"Bearer {admin.token}"},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 200 and imported.json["created"] == pupils, imported.json
    rules = {"version": 1, "eligibility": {"field": "household", "op": "eq", "value": "poor"}}
    rules.update(score=[{"field": "gpa", "points_per_unit": 1}], amounts={"lower_secondary": amount})
    round_ = admin.post(
        "/api/v1/rounds",
        {
            "name": "Lễ trao học bổng",
            "academic_year": "2024-2025",
            "fund": "KH",
            "unit": "ST",
            "budget": pupils * amount,
        }
        | {"rules": rules},
    )
    assert round_.status_code == 201, round_.json
    round_id = round_.json["id"]
    assert len(admin.post(f"/api/v1/rounds/{round_id}/allocate").json["awarded"]) == pupils
    assert admin.post(f"/api/v1/rounds/{round_id}/approve").status_code == 200
    fund = next(f for f in admin.get("/api/v1/funds").json if f["code"] == "KH")
    assert fund["reserved"] == pupils * amount

    treasurer = make_api(app, "treasurer", "ST")
    paid = treasurer.post(f"/api/v1/rounds/{round_id}/disburse", {"paid_on": "2024-11-20", "school": SCHOOL})
    assert paid.status_code == 200, paid.json
    assert paid.json["count"] == pupils and paid.json["amount"] == pupils * amount
    code = paid.json["voucher_code"]
    awards = admin.get(f"/api/v1/rounds/{round_id}/awards", query_string={"page_size": 1000}).json
    assert len(awards) == pupils and all(a["status"] == "paid" and a["voucher_code"] == code for a in awards)
    entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.document_code == code)))
    assert [e.amount for e in entries] == [-pupils * amount]  # one Phiếu chi, one line in the cash book
    fund = next(f for f in admin.get("/api/v1/funds").json if f["code"] == "KH")
    assert fund["reserved"] == 0 and fund["balance"] == 0  # every reservation released as it was paid

    again = treasurer.post(f"/api/v1/rounds/{round_id}/disburse", {"paid_on": "2024-11-20", "school": SCHOOL})
    assert again.status_code == 409  # nothing left to pay: never a second time
    assert len(list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "disbursement")))) == 1

    sheet = treasurer.get(f"/api/v1/rounds/{round_id}/signature-sheet.pdf", query_string={"school": SCHOOL})
    assert sheet.status_code == 200
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(sheet.data)).pages))
    # The sheet is the list voucher's attachment: every pupil shown paid by it, each still signing for the money.
    assert f"Kèm theo phiếu chi số {code}" in text and text.count("Đã chi") == pupils and "Đã nhận" not in text
