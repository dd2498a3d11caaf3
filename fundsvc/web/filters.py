"""Jinja filters and labels of the web UI: the codes services use, shown in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS: dict[str, dict] = {
    "role": {
        "admin": _l("Quản trị"),
        "treasurer": _l("Thủ quỹ"),
        "committee": _l("Hội đồng xét chọn"),
        "viewer": _l("Xem"),
    },
    "method": {"cash": _l("Tiền mặt"), "bank_transfer": _l("Chuyển khoản"), "in_kind": _l("Hiện vật")},
    "donation_status": {"recorded": _l("Đã ghi"), "void": _l("Đã hủy")},
    "donor_kind": {"person": _l("Cá nhân"), "organization": _l("Tổ chức")},
    "level": {
        "primary": _l("Tiểu học"),
        "lower_secondary": _l("THCS"),
        "upper_secondary": _l("THPT"),
        "university": _l("Đại học, cao đẳng"),
    },
    "household": {
        "poor": _l("Hộ nghèo"),
        "near_poor": _l("Hộ cận nghèo"),
        "hardship": _l("Khó khăn"),
        "none": _l("Không"),
    },
    "rating": {"excellent": _l("Tốt"), "good": _l("Khá"), "pass": _l("Đạt"), "fail": _l("Chưa đạt")},
    "achievement": {
        "national": _l("Quốc gia"),
        "province": _l("Tỉnh"),
        "district": _l("Huyện"),
        "school": _l("Trường"),
        "none": _l("Không"),
    },
    "round_status": {"draft": _l("Nháp"), "allocated": _l("Đã phân bổ"), "approved": _l("Đã duyệt")},
    "award_status": {"approved": _l("Chờ chi"), "paid": _l("Đã chi"), "cancelled": _l("Đã hủy")},
    "nomination_status": {"active": _l("Đang xét"), "withdrawn": _l("Đã rút")},
    "movement_kind": {
        "income": _l("Thu khác"),
        "expense": _l("Chi khác"),
        "transfer": _l("Chuyển tiền"),
        "adjustment": _l("Điều chỉnh"),
        "opening_balance": _l("Số dư đầu kỳ"),
    },
    "direction": {"in": _l("Thu"), "out": _l("Chi")},
    "outcome": {
        "awarded": _l("Được nhận"),
        "waitlisted": _l("Danh sách chờ"),
        "ineligible": _l("Không đủ điều kiện"),
        "cancelled": _l("Đã hủy"),
    },
    "reason": {"budget": _l("hết ngân sách"), "quota": _l("vượt hạn mức")},
    "unit_level": {
        "province": _l("Tỉnh"),
        "district": _l("Huyện"),
        "commune": _l("Xã, phường"),
        "branch": _l("Chi hội"),
    },
    "gender": {"male": _l("Nam"), "female": _l("Nữ")},
    "pledge_status": {"open": _l("Đang chờ"), "matched": _l("Đã nhận"), "cancelled": _l("Đã hủy")},
    "line_status": {
        "suggested": _l("Gợi ý"),
        "unmatched": _l("Chưa khớp"),
        "matched": _l("Đã khớp"),
        "ignored": _l("Đã bỏ qua"),
    },
    "statement_field": {
        "date": _l("Cột ngày"),
        "amount": _l("Cột số tiền (âm là tiền ra)"),
        "debit": _l("Cột ghi nợ (tiền ra)"),
        "credit": _l("Cột ghi có (tiền vào)"),
        "description": _l("Cột nội dung"),
        "reference": _l("Cột số tham chiếu"),
        "balance": _l("Cột số dư (sau giao dịch)"),
    },
}


def label(value, kind: str) -> str:
    """The reader's word for a stored code (the code itself when unknown)."""
    if value is None or value == "":
        return ""
    return str(LABELS.get(kind, {}).get(value, value))


def yesno(value) -> str:
    """A boolean as Có / (empty)."""
    from flask_babel import gettext

    return gettext("Có") if value else ""


def month(value: str | None) -> str:
    """A period code "2026-01" as printed in Vietnam, "01/2026"."""
    if not value:
        return ""
    year, _, number = value.partition("-")
    return f"{number}/{year}"


FILTERS = {"label": label, "yesno": yesno, "month": month}
