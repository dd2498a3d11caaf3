"""The documents of issue 18 through the API, from the demo tree: each gift's document of its kind in its issuer's
identity (stored when issued), the accounts from the money account and the fund, the blank hand-written lines,
the Phiếu chi of a paid award, and the donor's letter per issuing unit."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from fundsvc.auth.service import create_user
from fundsvc.db import write_transaction
from fundsvc.documents.words import date_parts, today_in_vietnam
from fundsvc.donations.models import Receipt
from fundsvc.extensions import db as _db
from fundsvc.ledger.models import Fund, MoneyAccount
from fundsvc.units.models import Unit
from tests.conftest import Api
from tests.reports.conftest import pay_award

# What the demo gives ST-TP-P2 (fundsvc/demo/load.py IDENTITIES).
P2 = {
    # The unit above ST-TP-P2 in the demo tree is the city chapter (ST-TP): its printed name heads the documents.
    "parent": "HỘI KHUYẾN HỌC THÀNH PHỐ SÓC TRĂNG",
    "name": "Hội Khuyến học phường 2",
    "address": "Số 8 đường Hai Bà Trưng, Phường 2, TP. Sóc Trăng",
    "head": "Nguyễn Văn Nam",
    "accountant": "Võ Thị Thu",
    "cashier": "Lâm Thị Mai",
}
GIFT = {
    "donor": {"name": "Trịnh Thị Ngọc Hường", "kind": "person", "phone": "0913555777", "address": "Ấp Hoà Đông"},
    "unit": "ST-TP-P2",
    "amount": 1_250_000,
    "method": "cash",
    "received_on": "2024-10-01",
    "purpose": "Ủng hộ Quỹ Khuyến học",
}
COMPANY = {"name": "Công ty TNHH Minh Phát", "kind": "organization", "tax_code": "2200654321", "address": "88 Lê Lợi"}


def text_of(pdf: bytes, pages_text) -> str:
    return " ".join(pages_text(pdf))


@pytest.fixture
def treasurer(app, tree) -> Api:
    """A treasurer of ST-TP-P2 with a full name (the preparer printed), whose login must never be printed."""
    _user, token = create_user(_db.session, "tq.p2.login", "treasurer", "ST-TP-P2", full_name="Trần Thị Bích Ngọc")
    return Api(app.test_client(), token)


def document(api: Api, body: dict) -> tuple[dict, bytes]:
    answer = api.post("/api/v1/donations", body)
    assert answer.status_code == 201, answer.json
    pdf = api.get(answer.json["receipt"]["pdf"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    return answer.json, pdf.data


def assert_issuer_p2(text: str, signers=("head", "accountant")) -> None:
    for key in ("parent", "name", "address", *signers):
        assert P2[key] in text, key
    assert text.index(P2["parent"]) < text.index(P2["name"])


def no_account(text: str, *numbers: str) -> bool:
    return not any(re.search(rf"\b{n}\b", text) for n in numbers)


def test_cash_gift_prints_a_phieu_thu_of_its_unit(treasurer, pages_text):
    answer, pdf = document(treasurer, {**GIFT, "donor": COMPANY})
    assert answer["receipt"]["kind"] == "receipt"
    text = text_of(pdf, pages_text)
    assert_issuer_p2(text)
    for s in [
        "PHIẾU THU",
        "Mẫu số C40-BB",
        "(Ban hành kèm theo Thông tư số 24/2024/TT-BTC",
        "Nợ: 111",
        "Có: 353",
        "Mã số thuế: 2200654321",  # an organisation's tax code
        "(Viết bằng chữ): Một triệu hai trăm năm mươi nghìn đồng",
        "Kèm theo: chứng từ gốc.",
        "THỦ TRƯỞNG ĐƠN VỊ (Ký, họ tên, đóng dấu) Nguyễn Văn Nam",
        "NGƯỜI LẬP PHIẾU (Ký, họ tên) Trần Thị Bích Ngọc",
        "THỦ QUỸ (Ký, họ tên) Lâm Thị Mai",
    ]:
        assert s in text, s
    assert no_account(text, "511") and "tq.p2.login" not in text
    for page in pages_text(pdf):
        assert page.rstrip().endswith("Đã nhận đủ số tiền (viết bằng chữ):")  # blank for the cashier
        assert page.count("Một triệu hai trăm năm mươi nghìn đồng") == 1


def test_bank_transfer_prints_an_acknowledgement(treasurer, pages_text):
    bank = _db.session.scalar(
        select(MoneyAccount).join(Unit).where(Unit.code == "ST-TP-P2", MoneyAccount.kind == "bank")
    )
    body = {**GIFT, "method": "bank_transfer", "amount": 5_000_000, "bank_reference": "FT24275999001"}
    answer, pdf = document(treasurer, body)
    assert answer["receipt"]["kind"] == "acknowledgement"
    text = text_of(pdf, pages_text)
    assert_issuer_p2(text)
    for s in [
        "GIẤY XÁC NHẬN TÀI TRỢ",
        f"Số: {answer['receipt']['code']}",
        "Nợ: 112",
        "Có: 353",
        f"Số {bank.account_number} tại {bank.bank_name}",
        "Mã giao dịch ngân hàng: FT24275999001",
        "Nhà tài trợ: Ông/Bà Trịnh Thị Ngọc Hường",
        "Số tiền: 5.000.000 đồng",
        "(Viết bằng chữ): Năm triệu đồng",
        "Mục đích: Ủng hộ Quỹ Khuyến học",
        "NGƯỜI LẬP (Ký, họ tên) Trần Thị Bích Ngọc",
    ]:
        assert s in text, s
    # Never a cash receipt for money that came by bank.
    assert "PHIẾU THU" not in text and "Đã nhận đủ" not in text and no_account(text, "111", "511")


def test_goods_print_a_goods_record(treasurer, pages_text):
    body = {
        **GIFT,
        "method": "in_kind",
        "amount": 2_400_000,
        "in_kind_description": "Xe đạp học sinh",
        "quantity": 2,
        "unit_of_measure": "chiếc",
    }
    answer, pdf = document(treasurer, body)
    assert answer["receipt"]["kind"] == "in_kind_record"
    text = text_of(pdf, pages_text)
    assert_issuer_p2(text, signers=("head",))
    for s in [
        "BIÊN BẢN TIẾP NHẬN HIỆN VẬT",
        f"Số: {answer['receipt']['code']}",
        "Bên giao (nhà tài trợ): Ông/Bà Trịnh Thị Ngọc Hường",
        f"Bên nhận: {P2['name']}",
        "1 Xe đạp học sinh chiếc 2 2.400.000",
        "Giá trị ước tính (viết bằng chữ): Hai triệu bốn trăm nghìn đồng",
        "ĐẠI DIỆN BÊN NHẬN (Ký, họ tên, đóng dấu) Nguyễn Văn Nam",
    ]:
        assert s in text, s
    assert "PHIẾU THU" not in text and "Đã nhận đủ" not in text and no_account(text, "111", "112", "511")


def test_renaming_the_unit_after_issuing_keeps_the_documents_name(admin, pages_text):
    answer = admin.post("/api/v1/donations", GIFT).json
    renamed = admin.patch(
        "/api/v1/units/ST-TP-P2",
        {"identity": {"printed_name": "Hội Khuyến học phường Hai", "signatories": {"head": "Đỗ Minh Quân"}}},
    )
    assert renamed.status_code == 200, renamed.json
    # Rendered for the first time after the rename: it still prints the identity it was issued under.
    text = text_of(admin.get(answer["receipt"]["pdf"]).data, pages_text)
    assert P2["name"] in text and P2["head"] in text
    assert "phường Hai" not in text and "Đỗ Minh Quân" not in text
    later = admin.post("/api/v1/donations", {**GIFT, "received_on": "2024-10-02"}).json
    text = text_of(admin.get(later["receipt"]["pdf"]).data, pages_text)
    assert "Hội Khuyến học phường Hai" in text and "Đỗ Minh Quân" in text


def test_the_funds_own_account_is_printed(admin, pages_text):
    with write_transaction(_db.session):
        _db.session.scalar(select(Fund).where(Fund.code == "KH-ST-TP-P2")).ledger_account = "3531"
    text = text_of(admin.get(admin.post("/api/v1/donations", GIFT).json["receipt"]["pdf"]).data, pages_text)
    assert "Có: 3531" in text and "Nợ: 111" in text


def test_configured_fund_account(app, admin, pages_text):
    app.config["ACCOUNT_FUND"] = "3538"
    text = text_of(admin.get(admin.post("/api/v1/donations", GIFT).json["receipt"]["pdf"]).data, pages_text)
    assert "Có: 3538" in text


def test_voucher_prints_the_paying_unit_and_swapped_accounts(app, admin, pages_text):
    admin.post("/api/v1/donations", {**GIFT, "amount": 3_000_000, "received_on": "2024-09-01"})
    award = pay_award(_db.session, "KH-ST-TP-P2", "ST-TP-P2", 1_500_000, on=date(2024, 9, 5), name="Lý Thị Hoa")
    text = text_of(admin.get(f"/api/v1/awards/{award.id}/voucher.pdf").data, pages_text)
    assert_issuer_p2(text)
    for s in [
        "PHIẾU CHI",
        "Mẫu số C41-BB",
        "(Ban hành kèm theo Thông tư số 24/2024/TT-BTC",
        "Nợ: 353",
        "Có: 111",
        "Lý Thị Hoa",
        "Số tiền: 1.500.000 đồng",
        "THỦ TRƯỞNG ĐƠN VỊ (Ký, họ tên, đóng dấu) Nguyễn Văn Nam",
        "THỦ QUỸ (Ký, họ tên) Lâm Thị Mai",
    ]:
        assert s in text, s
    assert text.rstrip().endswith("Đã nhận đủ số tiền (viết bằng chữ):") and no_account(text, "511")


def by_donor(donor_id: int, **over) -> dict:
    """Another gift of a known donor."""
    return {**{k: v for k, v in GIFT.items() if k != "donor"}, "donor_id": donor_id, **over}


def statement(api: Api, donor_id: int, year: int, unit: str | None = None):
    return api.get(f"/api/v1/donors/{donor_id}/statement.pdf?year={year}" + (f"&unit={unit}" if unit else ""))


def test_donor_letter_per_issuing_unit(app, admin, treasurer, pages_text):
    first = treasurer.post("/api/v1/donations", GIFT).json
    donor_id = first["donor"]["id"]
    assert treasurer.post("/api/v1/donations", by_donor(donor_id, amount=750_000)).status_code == 201
    assert (
        admin.post("/api/v1/donations", by_donor(donor_id, unit="ST", fund="KH", amount=9_900_000)).status_code == 201
    )
    goods = by_donor(
        donor_id,
        method="in_kind",
        amount=600_000,
        in_kind_description="Vở học sinh 96 trang",
        quantity=100,
        unit_of_measure="cuốn",
    )
    assert treasurer.post("/api/v1/donations", goods).status_code == 201
    voided = treasurer.post("/api/v1/donations", by_donor(donor_id, amount=444_000)).json
    assert admin.post(f"/api/v1/donations/{voided['id']}/void", {"reason": "Ghi trùng"}).status_code == 200

    # The treasurer's own unit: its gifts only, in its identity; goods apart; the void one nowhere.
    letter = statement(treasurer, donor_id, 2024)
    assert letter.status_code == 200
    text = text_of(letter.data, pages_text)
    assert_issuer_p2(text, signers=("head",))
    assert "Kính gửi: Ông/Bà Trịnh Thị Ngọc Hường" in text
    assert "Tổng cộng 2.000.000" in text and "Hai triệu đồng" in text
    assert "Vở học sinh 96 trang 100 cuốn 600.000" in text
    assert "9.900.000" not in text and "444.000" not in text
    day, month, year = date_parts(today_in_vietnam())
    assert f"Sóc Trăng, ngày {day} tháng {month} năm {year}" in text

    # The province's letter, asked for by unit: its gift only, in its identity.
    province = text_of(statement(admin, donor_id, 2024, "ST").data, pages_text)
    assert "HỘI KHUYẾN HỌC VIỆT NAM" in province and "HỘI KHUYẾN HỌC TỈNH SÓC TRĂNG" in province
    assert "Tổng cộng 9.900.000" in province and "1.250.000" not in province and "Vở học sinh" not in province


def test_donor_letter_not_found_without_a_counted_gift(admin, treasurer):
    donor_id = treasurer.post("/api/v1/donations", GIFT).json["donor"]["id"]
    for answer in (statement(treasurer, donor_id, 2023), statement(admin, donor_id, 2024, "ST")):
        assert answer.status_code == 404
        assert "không có khoản đóng góp nào" in answer.json["message"]
    # A unit outside the treasurer's scope is refused, not searched.
    assert statement(treasurer, donor_id, 2024, "ST-TP-P5").status_code in (403, 404)


def test_a_receipt_from_before_document_kinds_renders_as_issued(admin, pages_text):
    """A bank transfer receipted as a Phiếu thu before migration 0008 (kind "receipt", no stored identity) keeps
    rendering as that receipt, in the unit's identity of today."""
    answer = admin.post("/api/v1/donations", {**GIFT, "method": "bank_transfer"}).json
    with write_transaction(_db.session):
        receipt = _db.session.get(Receipt, answer["receipt"]["id"])
        receipt.kind, receipt.issuer = "receipt", None
    text = text_of(admin.get(answer["receipt"]["pdf"]).data, pages_text)
    assert_issuer_p2(text)
    assert "PHIẾU THU" in text and "Hình thức: Chuyển khoản" in text and "Nợ: 112" in text and "Có: 353" in text
    assert text.rstrip().endswith("Đã nhận đủ số tiền (viết bằng chữ):")


def test_void_acknowledgement_and_goods_record_stamped(admin, pages_text):
    goods = {**GIFT, "method": "in_kind", "in_kind_description": "Xe đạp", "quantity": 1, "unit_of_measure": "chiếc"}
    for body in ({**GIFT, "method": "bank_transfer"}, goods):
        answer = admin.post("/api/v1/donations", body).json
        original = admin.get(answer["receipt"]["pdf"]).data
        assert admin.post(f"/api/v1/donations/{answer['id']}/void", {"reason": "Ghi nhầm"}).status_code == 200
        voided = admin.get(answer["receipt"]["pdf"]).data
        assert voided != original
        for page in pages_text(voided):
            assert "ĐÃ HỦY" in page and "Lý do: Ghi nhầm" in page


def test_archive_holds_each_series_in_order(admin, pages_text):
    for body in (GIFT, {**GIFT, "method": "bank_transfer"}, {**GIFT, "amount": 300_000}):
        assert admin.post("/api/v1/donations", body).status_code == 201
    pages = pages_text(admin.get("/api/v1/receipts.pdf?unit=ST-TP-P2&from=2024-01-01&to=2024-12-31").data)
    titles = [("GIẤY XÁC NHẬN TÀI TRỢ" if "GIẤY XÁC NHẬN" in page else "PHIẾU THU") for page in pages]
    numbers = [re.search(r"Số: (\S+)", page).group(1) for page in pages]
    assert titles == ["PHIẾU THU"] * 4 + ["GIẤY XÁC NHẬN TÀI TRỢ"] * 2
    assert numbers[:4] == ["1", "1", "2", "2"] and numbers[4].startswith("XN-ST-TP-P2/2024/00001")
