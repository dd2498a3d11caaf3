"""Receipts through the API: rendered once and stored with their SHA-256, the void copy stamped and stored once,
the period archive, the donor statement, and who may fetch them."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from fundsvc.donations.models import Receipt
from fundsvc.extensions import db as _db

GIFT = {
    "donor": {"name": "Trịnh Thị Ngọc Hường", "kind": "person", "phone": "0913555777", "address": "Ấp Hoà Đông"},
    "unit": "ST-TP-P2",
    "amount": 1_250_000,
    "method": "cash",
    "received_on": "2024-10-01",
    "purpose": "Ủng hộ Quỹ Khuyến học",
}


def stored(receipt_id: int) -> Receipt:
    _db.session.expire_all()
    return _db.session.scalar(select(Receipt).where(Receipt.id == receipt_id))


def test_receipt_rendered_once_and_served_as_stored(admin, pages_text):
    receipt = admin.post("/api/v1/donations", GIFT).json["receipt"]
    assert stored(receipt["id"]).pdf_sha256 is None  # rendered on first fetch, not when recorded
    first = admin.get(receipt["pdf"])
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    row = stored(receipt["id"])
    assert row.pdf == first.data and row.pdf_sha256 == hashlib.sha256(first.data).hexdigest()
    assert admin.get(receipt["pdf"]).data == first.data
    text = " ".join(pages_text(first.data))
    assert "PHIẾU THU" in text and "Trịnh Thị Ngọc Hường" in text
    assert "1.250.000" in text and "Một triệu hai trăm năm mươi nghìn đồng" in text


def test_void_receipt_stamped_once_original_kept(admin, pages_text):
    donation = admin.post("/api/v1/donations", GIFT).json
    url = donation["receipt"]["pdf"]
    original = admin.get(url).data
    assert admin.post(f"/api/v1/donations/{donation['id']}/void", {"reason": "Ghi nhầm người nộp"}).status_code == 200
    voided = admin.get(url)
    assert voided.status_code == 200 and voided.data != original
    assert "ĐÃ HỦY" in " ".join(pages_text(voided.data)) and "Ghi nhầm người nộp" in " ".join(pages_text(voided.data))
    row = stored(donation["receipt"]["id"])
    assert row.pdf == original  # the first rendering is never replaced
    assert row.void_pdf == voided.data and row.void_pdf_sha256 == hashlib.sha256(voided.data).hexdigest()
    assert admin.get(url).data == voided.data


def test_archive_of_a_period_holds_its_receipts(admin, pages_text):
    for i in range(3):
        admin.post("/api/v1/donations", {**GIFT, "amount": 100_000 * (i + 1)})
    admin.post("/api/v1/donations", {**GIFT, "received_on": "2025-02-01"})  # outside the period
    archive = admin.get("/api/v1/receipts.pdf?unit=ST-TP-P2&from=2024-01-01&to=2024-12-31")
    assert archive.status_code == 200 and archive.mimetype == "application/pdf"
    pages = pages_text(archive.data)
    assert len(pages) == 3 * 2  # a page per copy (liên), two copies each
    assert sorted(re.search(r"Số: (\d+)", page).group(1) for page in pages) == ["1", "1", "2", "2", "3", "3"]
    assert all("năm 2024" in page and "năm 2025" not in page for page in pages)
    bad = admin.get("/api/v1/receipts.pdf?unit=ST-TP-P2&from=2024-13-01&to=2024-12-31")
    assert bad.status_code == 422 and set(bad.json) == {"code", "status", "message", "errors"}


def test_donor_statement_lists_the_year(admin, pages_text):
    first = admin.post("/api/v1/donations", GIFT).json
    admin.post("/api/v1/donations", {**GIFT, "amount": 750_000})
    admin.post("/api/v1/donations", {**GIFT, "received_on": "2023-05-05", "amount": 999_000})
    statement = admin.get(f"/api/v1/donors/{first['donor']['id']}/statement.pdf?year=2024")
    assert statement.status_code == 200
    text = " ".join(pages_text(statement.data))
    assert "Trịnh Thị Ngọc Hường" in text and "2.000.000" in text
    assert "Hai triệu đồng" in text and "999.000" not in text


def test_receipt_of_another_commune_is_not_found(app, admin, make_api):
    receipt = admin.post("/api/v1/donations", GIFT).json["receipt"]
    other = make_api(app, "treasurer", "ST-TP-P5")
    own = make_api(app, "treasurer", "ST-TP-P2")
    assert other.get(receipt["pdf"]).status_code == 404
    assert own.get(receipt["pdf"]).status_code == 200
    assert admin.get("/api/v1/receipts/999999.pdf").status_code == 404
