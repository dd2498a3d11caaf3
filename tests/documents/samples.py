"""Sample plain-dict contexts for the document templates (shared by the tests and the preview script)."""

from datetime import UTC, date, datetime

# A completed issuer identity (fundsvc.units.identity.complete_identity), as the service passes it.
ISSUER = {
    "printed_name": "Hội Khuyến học phường 2",
    "parent_printed_name": "Hội Khuyến học tỉnh Sóc Trăng",
    "address": "Số 12 Trần Hưng Đạo, Phường 2, TP. Sóc Trăng",
    "phone": "0299 3611 456",
    "tax_code": "2200123456",
    "budget_code": "1123456",
    "signatories": {"head": "Lê Văn Thành", "accountant": "Phạm Thị Thu Hà", "cashier": "Đặng Thị Kiều Oanh"},
}
SIGNERS = {
    "head": "Lê Văn Thành",
    "chief_accountant": "Phạm Thị Thu Hà",
    "preparer": "Võ Ngọc Ánh",
    "cashier": "Đặng Thị Kiều Oanh",
}


def receipt_context(**over):
    ctx = {
        "issuer": ISSUER,
        "receipt": {
            "book": "2024",
            "number": 15,
            "code": "ST-PH2/2024/15",
            "date": date(2024, 10, 1),
            "debit": "111",
            "credit": "353",
        },
        "payer": {
            "name": "Nguyễn Thị Hồng Nhung",
            "kind": "person",
            "address": "Ấp Phước Thạnh, xã Mỹ Phước, huyện Mỹ Tú",
        },
        "reason": "Ủng hộ Quỹ Khuyến học năm 2024",
        "amount": 1_250_000,
        "method": "cash",
        "contribution": True,
        "signers": SIGNERS,
        "document_date": datetime(2024, 10, 1, 2, 30, tzinfo=UTC),
    }
    ctx.update(over)
    return ctx


def voucher_context(**over):
    ctx = {
        "issuer": ISSUER,
        "voucher": {
            "book": "2024",
            "number": 7,
            "date": date(2024, 11, 20),
            "debit": "353",
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
            "method": "Tiền mặt",
            "amount": 2_000_000,
        },
        {
            "date": date(2024, 5, 19),
            "code": "ST-PH2/2024/41",
            "purpose": "Học bổng cho học sinh nghèo vượt khó",
            "method": "Chuyển khoản",
            "amount": 5_000_000,
        },
        {
            "date": date(2024, 9, 5),
            "code": "ST-PH2/2024/88",
            "purpose": "Ủng hộ Quỹ Khuyến học",
            "method": "Tiền mặt",
            "amount": 1_000_005,
        },
    ]
    goods = [
        {
            "date": date(2024, 8, 20),
            "code": "HV-ST-PH2/2024/00002",
            "description": "Vở học sinh 96 trang",
            "quantity": 200,
            "unit_of_measure": "cuốn",
            "value": 1_600_000,
        }
    ]
    ctx = {
        "issuer": ISSUER,
        "date": date(2025, 1, 10),
        "year": 2024,
        "donor": {
            "name": "Công ty TNHH Minh Phát",
            "kind": "organization",
            "address": "88 Lê Lợi, Phường 6, TP. Sóc Trăng",
        },
        "gifts": gifts,
        "goods": goods,
        "signer": {
            "title": "CHỦ TỊCH",
            "on_behalf": "TM. BAN CHẤP HÀNH",
            "name": "Lê Văn Thành",
        },
        "document_date": date(2025, 1, 10),
    }
    ctx.update(over)
    return ctx


def acknowledgement_context(**over):
    ctx = {
        **receipt_context(),
        "receipt": {
            "book": "2024",
            "number": 4,
            "code": "XN-ST-TP-P2/2024/00004",
            "date": date(2024, 10, 2),
            "debit": "112",
            "credit": "353",
        },
        "payer": {
            "name": "Công ty TNHH Minh Phát",
            "kind": "organization",
            "address": "88 Lê Lợi, Phường 6, TP. Sóc Trăng",
            "tax_code": "2200654321",
        },
        "bank": {
            "bank_name": "Ngân hàng TMCP Ngoại thương Việt Nam (Vietcombank)",
            "account_number": "1002880001",
            "account_holder": "HỘI KHUYẾN HỌC PHƯỜNG 2",
            "reference": "FT24276123456",
        },
        "fund": "Quỹ Khuyến học Phường 2",
        "method": "bank_transfer",
        "amount": 5_000_000,
        "copies": ["Liên 1: Lưu", "Liên 2: Giao nhà tài trợ"],
    }
    ctx.update(over)
    return ctx


def in_kind_context(**over):
    ctx = {
        **receipt_context(),
        "receipt": {"book": "2024", "number": 2, "code": "HV-ST-TP-P2/2024/00002", "date": date(2024, 8, 20)},
        "goods": {"description": "Vở học sinh 96 trang", "quantity": 200, "unit_of_measure": "cuốn"},
        "fund": "Quỹ Khuyến học Phường 2",
        "method": "in_kind",
        "amount": 1_600_000,
        "copies": ["Liên 1: Bên giao giữ", "Liên 2: Bên nhận giữ"],
    }
    ctx.update(over)
    return ctx


# A donor whose name and address take more than one line of a form.
LONG_DONOR = {
    "name": "Công ty Cổ phần Đầu tư Phát triển Nông nghiệp Công nghệ cao và Thương mại Dịch vụ Sóc Trăng Xanh",
    "kind": "organization",
    "tax_code": "2200654321",
    "address": "Lô B12, Khu công nghiệp An Nghiệp, ấp Phú Hữu, xã An Hiệp, huyện Châu Thành, tỉnh Sóc Trăng, Việt Nam",
}
BANK_ACCOUNT = {
    "bank_name": "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam (Agribank) chi nhánh Sóc Trăng",
    "account_number": "7700201001234",
    "account_holder": "HỘI KHUYẾN HỌC PHƯỜNG 2",
}


def bank_payment_context(**over):
    ctx = {
        **voucher_context(),
        "voucher": {
            "book": "2024",
            "number": 12,
            "code": "UNC-ST-TP-P2/2024/00012",
            "date": date(2024, 11, 2),
            "debit": "353",
            "credit": "112",
        },
        "bank": BANK_ACCOUNT,
        "bank_reference": "FT24307998877",
        "payee": {
            "name": "Trường THCS Lê Lợi",
            "address": "",
            "bank_name": "Vietcombank Sóc Trăng",
            "account_number": "0111000222333",
        },
        "copies": ["Liên 1: Lưu"],
    }
    ctx.update(over)
    return ctx


def accounting_record_context(kind="bank_credit", **over):
    ctx = {
        **receipt_context(),
        "record": {
            "book": "2024",
            "number": 3,
            "code": "BC-ST-TP-P2/2024/00003",
            "date": date(2024, 11, 2),
            "debit": "112",
            "credit": "353",
            "title": "Ghi thu tiền gửi ngân hàng",
            "kind": kind,
        },
        "bank": BANK_ACCOUNT,
        "bank_reference": "LAI-Q1",
        "counterparty": {"name": "Ngân hàng Agribank", "address": "Số 2 Trần Hưng Đạo, TP. Sóc Trăng"},
        "corrects": "PC-ST-TP-P2/2024/00007",
        "reason": "Lãi tiền gửi quý I năm 2024",
        "amount": 1_001_015_000,
    }
    ctx.update(over)
    return ctx
