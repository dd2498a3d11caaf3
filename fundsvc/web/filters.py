"""Jinja filters and labels of the web UI: the codes services use, shown in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

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
    "entity": {
        "user": _l("Người dùng"),
        "token": _l("Mã truy cập"),
        "invitation": _l("Lời mời"),
        "unit": _l("Đơn vị"),
        "fund": _l("Quỹ"),
        "money_account": _l("Tài khoản tiền"),
        "donation": _l("Khoản thu"),
        "donor": _l("Nhà hảo tâm"),
        "movement": _l("Thu chi khác"),
        "movement_category": _l("Loại thu chi"),
        "period": _l("Khóa sổ"),
        "pledge": _l("Mã ủng hộ"),
        "round": _l("Đợt xét"),
        "award": _l("Học bổng"),
        "import": _l("Nhập hồ sơ"),
        "nomination": _l("Hồ sơ đề cử"),
        "in_kind_entry": _l("Hiện vật"),
        "statement_import": _l("Sao kê"),
        "statement_line": _l("Dòng sao kê"),
        "notification_secret": _l("Khóa thông báo chuyển khoản"),
        "public_statement": _l("Công khai"),
        "organisation": _l("Cài đặt tổ chức"),
    },
    "verb": {
        "create": _l("tạo"),
        "update": _l("sửa"),
        "record": _l("ghi"),
        "void": _l("hủy"),
        "cancel": _l("hủy"),
        "close": _l("khóa"),
        "reopen": _l("mở lại"),
        "revoke": _l("thu hồi"),
        "set": _l("đặt"),
        "password_reset": _l("đặt lại mật khẩu"),
        "merge": _l("sáp nhập"),
        "move": _l("chuyển cấp trên"),
        "retire": _l("giải thể"),
        "approve": _l("duyệt"),
        "allocate": _l("phân bổ"),
        "disburse": _l("chi"),
        "import": _l("nhập"),
        "publish": _l("công bố"),
        "match": _l("khớp"),
        "ignore": _l("bỏ qua"),
        "hand_out": _l("bàn giao"),
        "promote": _l("bổ sung"),
        "accept": _l("nhận lời"),
        "pass": _l("chuyển sang đơn vị khác"),
        "withdraw": _l("rút"),
    },
}


# The audit trail's field names as the reader says them (the stored name when not listed).
AUDIT_FIELDS = {
    "username": _l("Tên đăng nhập"),
    "full_name": _l("Họ tên"),
    "name": _l("Tên"),
    "email": _l("Email"),
    "phone": _l("Điện thoại"),
    "role": _l("Vai trò"),
    "unit": _l("Đơn vị"),
    "active": _l("Đang hoạt động"),
    "code": _l("Mã"),
    "level": _l("Cấp"),
    "parent": _l("Trực thuộc"),
    "path": _l("Vị trí trong cây"),
    "address": _l("Địa chỉ"),
    "printed_name": _l("Tên in trên chứng từ"),
    "parent_printed_name": _l("Tên cấp trên in trên chứng từ"),
    "tax_code": _l("Mã số thuế"),
    "budget_code": _l("Mã quan hệ ngân sách"),
    "signatories.head": _l("Chủ tịch"),
    "signatories.accountant": _l("Kế toán trưởng"),
    "signatories.cashier": _l("Thủ quỹ"),
    "signatories.preparer": _l("Người lập biểu"),
    "books_opened_on": _l("Ngày mở sổ"),
    "restriction": _l("Điều kiện"),
    "default": _l("Quỹ mặc định"),
    "amount": _l("Số tiền"),
    "reason": _l("Lý do"),
    "merged_into": _l("Sáp nhập vào"),
    "merged_on": _l("Ngày sáp nhập"),
    "retired_on": _l("Ngày giải thể"),
    "transfers": _l("Chứng từ chuyển số dư"),
    "expires_on": _l("Hết hạn"),
    "prefix": _l("Bắt đầu bằng"),
    "revoked_at": _l("Thu hồi lúc"),
    "month": _l("Tháng"),
    "status": _l("Trạng thái"),
    "withdrawal_reason": _l("Lý do rút hồ sơ"),
    "cancel_reason": _l("Lý do hủy"),
}


def audit_field(name: str) -> str:
    """An audit event's field ("full_name", "signatories.head") in the reader's words; a nomination's as the
    spreadsheet heads its column (wording.FIELD_LABELS)."""
    from fundsvc.web.wording import FIELD_LABELS

    return str(AUDIT_FIELDS.get(name) or FIELD_LABELS.get(name, name))


def audit_value(value, name: str = "") -> str:
    """A value of the audit trail as read: yes/no, a role's name, lists joined, money grouped."""
    from flask_babel import gettext

    if isinstance(value, bool):
        return gettext("Có") if value else gettext("Không")
    if name == "role":
        return label(value, "role")
    from fundsvc.web.wording import VALUE_KINDS

    if name in VALUE_KINDS:  # a nomination's coded values: "near_poor" is "Hộ cận nghèo"
        return label(value, VALUE_KINDS[name])
    if isinstance(value, list):
        return "; ".join(audit_value(item) for item in value)
    if isinstance(value, int) and name == "amount":
        from fundsvc.documents.words import format_vnd

        return format_vnd(value)
    return str(value)


def audit_action(action: str) -> str:
    """An audit event's action ("user.create") as the reader says it: "Người dùng: tạo"."""
    entity, _dot, verb = action.partition(".")
    return f"{label(entity, 'entity')}: {label(verb, 'verb')}" if verb else label(entity, "entity")


def vndatetime(value) -> str:
    """A stored instant as read in Vietnam: 07/12/2026 17:40."""
    if value is None:
        return ""
    from fundsvc.documents.words import VN_TZ

    return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


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


def named(record, plain: bool = False):
    """A fund or a unit as people know it: its name with its code beside it, muted, in one element (a table cell
    laid out as a card on a phone keeps them together): "Quỹ Khuyến học tỉnh <span class="code">KH</span>"; or as
    plain text where no markup goes, a drop-down's option: "KH — Quỹ Khuyến học tỉnh". `record` is the record itself
    or a mapping with its "code" and "name" (a report's row); the code alone when it has no other name."""
    if record is None:
        return ""
    if isinstance(record, Mapping):
        code, name = record.get("code") or "", record.get("name") or ""
    else:
        code, name = record.code, record.name
    if not name or name == code:
        return code
    if plain:
        return f"{code} — {name}"
    return Markup('<span class="named">{} <span class="code">{}</span></span>').format(name, code)


FILTERS = {
    "named": named,
    "label": label,
    "yesno": yesno,
    "month": month,
    "audit_action": audit_action,
    "audit_field": audit_field,
    "audit_value": audit_value,
    "vndatetime": vndatetime,
}
