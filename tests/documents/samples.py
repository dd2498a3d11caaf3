"""Sample plain-dict contexts for the document templates (shared by the tests and the preview script)."""

from datetime import UTC, date, datetime

UNIT = {
    "name": "Hội Khuyến học Phường 2",
    "address": "Số 12 Trần Hưng Đạo, Phường 2, TP. Sóc Trăng, tỉnh Sóc Trăng",
}
ORG = "Hội Khuyến học tỉnh Sóc Trăng"
SIGNERS = {
    "head": "Lê Văn Thành",
    "chief_accountant": "Phạm Thị Thu Hà",
    "preparer": "Võ Ngọc Ánh",
    "cashier": "Đặng Thị Kiều Oanh",
}


def receipt_context(**over):
    ctx = {
        "org_name": ORG,
        "unit": UNIT,
        "receipt": {
            "book": "2024",
            "number": 15,
            "code": "ST-PH2/2024/15",
            "date": date(2024, 10, 1),
            "debit": "111",
            "credit": "511",
        },
        "payer": {
            "name": "Nguyễn Thị Hồng Nhung",
            "address": "Ấp Phước Thạnh, xã Mỹ Phước, huyện Mỹ Tú",
        },
        "reason": "Ủng hộ Quỹ Khuyến học năm 2024",
        "amount": 1_250_000,
        "method": "cash",
        "contribution": True,
        "attachments": "01",
        "signers": SIGNERS,
        "document_date": datetime(2024, 10, 1, 2, 30, tzinfo=UTC),
    }
    ctx.update(over)
    return ctx


def voucher_context(**over):
    ctx = {
        "org_name": ORG,
        "unit": UNIT,
        "voucher": {
            "book": "2024",
            "number": 7,
            "date": date(2024, 11, 20),
            "debit": "611",
            "credit": "111",
        },
        "payee": {"name": "Trần Đức Phước", "address": "Trường THCS Lê Lợi, Phường 2"},
        "reason": "Chi học bổng Khuyến học năm học 2024–2025 cho em Trần Ngọc Yến Nhi, lớp 8A1",
        "amount": 1_500_000,
        "attachments": "01",
        "signers": SIGNERS,
        "document_date": date(2024, 11, 20),
    }
    ctx.update(over)
    return ctx


def statement_context(**over):
    gifts = [
        {
            "date": date(2024, 1, 15),
            "code": "ST-PH2/2024/3",
            "purpose": "Ủng hộ Quỹ Khuyến học",
            "amount": 2_000_000,
        },
        {
            "date": date(2024, 5, 19),
            "code": "ST-PH2/2024/41",
            "purpose": "Học bổng cho học sinh nghèo vượt khó",
            "amount": 5_000_000,
        },
        {
            "date": date(2024, 9, 5),
            "code": "ST-PH2/2024/88",
            "purpose": "Hiện vật: 200 quyển vở (giá trị thỏa thuận)",
            "amount": 1_000_005,
        },
    ]
    ctx = {
        "org_name": ORG,
        "unit": UNIT,
        "place": "Sóc Trăng",
        "date": date(2025, 1, 10),
        "year": 2024,
        "donor": {
            "name": "Công ty TNHH Minh Phát",
            "address": "88 Lê Lợi, Phường 6, TP. Sóc Trăng",
        },
        "gifts": gifts,
        "signer": {
            "title": "CHỦ TỊCH",
            "on_behalf": "TM. BAN CHẤP HÀNH",
            "name": "Lê Văn Thành",
        },
        "document_date": date(2025, 1, 10),
    }
    ctx.update(over)
    return ctx
