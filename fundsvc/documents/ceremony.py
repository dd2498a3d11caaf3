"""Ceremony documents from plain award rows: ordering, grouping, subtotals and the templates' contexts (pure).

An award row is a plain dict:
    award_id, full_name, birth_date (date), grade ("9A"), grade_number (int | None), school, level
    ("primary"…), tier (str | None), amount (int), status, unit_code, unit_name,
    unit_sort (the unit's place in the tree: a list of sortable values from the root down, e.g. the path's ids).

Order: unit (tree order), school (Vietnamese collation), class (natural order: 6A2 < 6A10),
then the pupil by given name and the rest of the name (fundsvc.documents.collation). STT runs through the whole list.

Also the spreadsheet (xlsx) and csv forms of the award list: the same groups, the same order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from . import sheets
from .collation import name_sort_key, vietnamese_sort_key
from .words import amount_in_words, format_date

__all__ = [
    "LEVEL_LABELS",
    "award_list_context",
    "award_list_csv",
    "award_list_items",
    "award_list_layout",
    "award_list_rows",
    "award_list_xlsx",
    "certificate_contexts",
    "chunk_items",
    "class_sort_key",
    "group_rows",
    "order_rows",
    "signature_sheet_context",
    "signature_sheet_items",
]

LEVEL_LABELS = {
    "primary": "TH",
    "lower_secondary": "THCS",
    "upper_secondary": "THPT",
    "university": "ĐH/CĐ",
}


def level_label(level: str | None) -> str:
    """The printed name of a school level (the stored code when unknown)."""
    return LEVEL_LABELS.get(level or "", level or "")


def class_sort_key(grade: str | None, grade_number: int | None = None) -> tuple:
    """Classes in natural order: by grade number, then the class name with its numbers read as numbers."""
    parts = re.split(r"(\d+)", (grade or "").strip())
    natural = tuple((0, int(p), ()) if p.isdigit() else (1, 0, vietnamese_sort_key(p)[0]) for p in parts if p)
    return (grade_number if grade_number is not None else 10_000, natural, grade or "")


def _unit_key(row: Mapping[str, Any]) -> tuple:
    place = row.get("unit_sort")
    if place is None:
        return ((), vietnamese_sort_key(row.get("unit_name")), row.get("unit_code") or "")
    return (tuple(place), (), row.get("unit_code") or "")


def row_sort_key(row: Mapping[str, Any]) -> tuple:
    """The full print order of an award row."""
    return (
        _unit_key(row),
        vietnamese_sort_key(row.get("school")),
        class_sort_key(row.get("grade"), row.get("grade_number")),
        name_sort_key(row.get("full_name")),
        row.get("award_id") or 0,
    )


def order_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The rows in print order, each a new dict with its running number `stt` (1, 2, …)."""
    ordered = sorted(rows, key=row_sort_key)
    return [{**row, "stt": i} for i, row in enumerate(ordered, 1)]


def group_rows(rows: Iterable[Mapping[str, Any]]) -> dict:
    """Ordered rows grouped by unit, then school, with counts and amounts at every level.

    Returns {"units": [{"code", "name", "count", "amount", "schools": [{"name", "count", "amount",
    "rows": [...]}]}], "count", "amount"}.
    """
    units: list[dict] = []
    for row in order_rows(rows):
        if not units or units[-1]["code"] != row["unit_code"]:
            units.append({"code": row["unit_code"], "name": row["unit_name"], "count": 0, "amount": 0, "schools": []})
        unit = units[-1]
        if not unit["schools"] or unit["schools"][-1]["name"] != row["school"]:
            unit["schools"].append({"name": row["school"], "count": 0, "amount": 0, "rows": []})
        school = unit["schools"][-1]
        school["rows"].append(row)
        school["count"] += 1
        school["amount"] += row["amount"]
        unit["count"] += 1
        unit["amount"] += row["amount"]
    return {
        "units": units,
        "count": sum(u["count"] for u in units),
        "amount": sum(u["amount"] for u in units),
    }


def _printed_row(row: Mapping[str, Any], personal: bool) -> dict:
    printed = {
        "stt": row["stt"],
        "full_name": row["full_name"],
        "grade": row.get("grade") or "",
        "school": row["school"],
        "level": level_label(row.get("level")),
        "amount": row["amount"],
    }
    if personal:
        printed["birth_date"] = format_date(row.get("birth_date"))
        printed["tier"] = row.get("tier") or ""
    return printed


def award_list_items(groups: Mapping[str, Any], *, personal: bool = True) -> list[dict]:
    """The award list as a flat run of printed lines: unit and school headings, pupils, school and unit subtotals."""
    items: list[dict] = []
    for unit in groups["units"]:
        items.append({"kind": "unit", "name": unit["name"], "code": unit["code"]})
        for school in unit["schools"]:
            items.append({"kind": "school", "name": school["name"], "unit": unit["name"]})
            items.extend({"kind": "row", **_printed_row(r, personal)} for r in school["rows"])
            items.append(
                {"kind": "school_total", "name": school["name"], "count": school["count"], "amount": school["amount"]}
            )
        items.append({"kind": "unit_total", "name": unit["name"], "count": unit["count"], "amount": unit["amount"]})
    return items


def chunk_items(items: Sequence[Mapping[str, Any]], size: int) -> list[dict]:  # noqa: C901 — one pass over the lines deciding where pages break; split, the rule of a break would be spread over helpers
    """Cut the printed lines into chunks of about `size` pupils for parallel rendering.

    Every unit starts a new page, and so does every chunk: chunks are cut before a unit once they hold `size`
    pupils, so the cut costs no paper. A unit longer than twice `size` is cut before a school, and a school
    longer than three times `size` inside; the next chunk repeats the headings, marked "(tiếp theo)".
    Returns [{"units": [{"name", "code", "continued", "lines": [...]}], "pupils": n}].
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    chunks: list[dict] = []
    current: list[dict] = []
    pupils = 0
    unit: Mapping[str, Any] | None = None
    school: Mapping[str, Any] | None = None

    def close() -> None:
        nonlocal current, pupils
        if current:
            chunks.append({"units": current, "pupils": pupils})
        current, pupils = [], 0

    def open_unit(continued: bool) -> None:
        current.append(
            {
                "name": unit["name"] if unit else "",
                "code": unit["code"] if unit else "",
                "continued": continued,
                "lines": [],
            }
        )

    for item in items:
        kind = item["kind"]
        if kind == "unit":
            unit = item
            if pupils >= size:
                close()
            open_unit(False)
            continue
        if kind == "school":
            school = item
            if pupils >= 2 * size:
                close()
                open_unit(True)
        elif kind == "row" and pupils >= 3 * size:
            close()
            open_unit(True)
            if school is not None:
                current[-1]["lines"].append({**school, "continued": True})
        if not current:
            open_unit(False)
        current[-1]["lines"].append(item)  # shared, not copied: 100,000 lines weigh on memory
        if kind == "row":
            pupils += 1
    close()
    return chunks or [{"units": [], "pupils": 0}]


def _place(address: str | None) -> str:
    return (address or "").split(",")[-1].strip()


def _filters_line(scope: Mapping[str, Any]) -> str:
    parts = []
    if scope.get("unit_name"):
        parts.append(f"Đơn vị: {scope['unit_name']}")
    if scope.get("school"):
        parts.append(f"Trường: {scope['school']}")
    return " — ".join(parts)


def award_list_lines(round_info: Mapping[str, Any], scope: Mapping[str, Any]) -> list[str]:
    """The lines under the award list's title in its spreadsheet: the round, its unit, the scope asked for."""
    title = round_title(round_info.get("name") or "", round_info.get("academic_year") or "")
    unit = round_info.get("unit_name") or ""
    return [title, *([f"Đơn vị xét: {unit}"] if unit else []), _filters_line(scope)]


def issuer_lines(org_name: str, unit_name: str, unit_level: str | None = None) -> tuple[str, str]:
    """(upper line, bold line) of the issuing body in the top-left header.

    The province's own round is issued by the association itself ("Hội Khuyến học tỉnh Sóc Trăng"); a district's
    or a commune's by its chapter, under the association's name."""
    if not unit_name or unit_name.casefold() in org_name.casefold():
        return "", org_name
    chapter = "Chi hội Khuyến học" if unit_level == "branch" else "Hội Khuyến học"
    first = (
        unit_name[:1].lower() + unit_name[1:]
        if unit_name.split()[0] in ("Tỉnh", "Huyện", "Xã", "Phường", "Thị", "Thành")
        else unit_name
    )
    return org_name, f"{chapter} {first}"


def round_title(name: str, academic_year: str) -> str:
    """A round named in a document's heading: "Học bổng Khuyến học — năm học 2026–2027", the year said once (not
    again when the round's name already holds it, as "Học bổng Khuyến học năm học 2026–2027" does)."""
    year = academic_year.replace("-", "–")
    if not year or year in name.replace("-", "–"):
        return name
    return f"{name} — năm học {year}" if name else f"năm học {year}"


def pupil_line(grade: str, level: str | None) -> str:
    """Who the certificate is for: "Học sinh lớp 8B", and for a university's "Năm 4" "Sinh viên năm 4"."""
    if level == "university":
        year = grade.lower().removeprefix("năm").strip()
        return f"Sinh viên năm {year}" if year else "Sinh viên"
    return f"Học sinh lớp {grade}" if grade else "Học sinh"


def _common(round_info: Mapping[str, Any], settings: Mapping[str, Any], scope: Mapping[str, Any]) -> dict:
    doc_date = round_info.get("date")
    upper, bold = issuer_lines(
        settings.get("org_name") or "", round_info.get("unit_name") or "", round_info.get("unit_level")
    )
    return {
        "org_name": settings.get("org_name") or "",
        "issuer": {"upper": upper, "bold": bold},
        "unit": {"name": round_info.get("unit_name") or ""},
        "round": {
            "name": round_info.get("name") or "",
            "academic_year": (round_info.get("academic_year") or "").replace("-", "–"),
            "title": round_title(round_info.get("name") or "", round_info.get("academic_year") or ""),
            "approved_on": format_date(doc_date) if doc_date else "",
        },
        "date": doc_date,
        "place": _place(settings.get("org_address")) or round_info.get("unit_name") or "",
        "scope_line": _filters_line(scope),
        "words_style": settings.get("words_style") or "north",
        "chan": bool(settings.get("chan")),
        "document_date": doc_date,
    }


def award_list_context(
    round_info: Mapping[str, Any],
    settings: Mapping[str, Any],
    groups: Mapping[str, Any],
    *,
    personal: bool = True,
    scope: Mapping[str, Any] | None = None,
) -> dict:
    """The header context of templates/documents/award_list.html (the lines come separately, chunk by chunk)."""
    columns = [
        {"key": "full_name", "label": "Họ và tên", "width": "40mm"},
        *([{"key": "birth_date", "label": "Ngày sinh", "width": "19mm", "align": "center"}] if personal else []),
        {"key": "grade", "label": "Lớp", "width": "11mm", "align": "center"},
        {"key": "school", "label": "Trường", "width": None},
        {"key": "level", "label": "Cấp", "width": "12mm", "align": "center"},
        *(
            [{"key": "tier", "label": "Mức / diện", "width": "23mm", "align": "center"}]
            if shows_tiers(groups, personal)
            else []
        ),
        {"key": "amount", "label": "Số tiền (đồng)", "width": "22mm", "money": True},
    ]
    return {
        **_common(round_info, settings, scope or {}),
        "title": "DANH SÁCH HỌC SINH ĐƯỢC NHẬN HỌC BỔNG",
        "columns": columns,
        "count": groups["count"],
        "total": groups["amount"],
        "units_count": len(groups["units"]),
        "schools_count": sum(len(u["schools"]) for u in groups["units"]),
        "signatures": [
            {"on_behalf": "", "role": "NGƯỜI LẬP BIỂU", "name": settings.get("preparer") or ""},
            {"on_behalf": "TM. BAN THƯỜNG VỤ", "role": "CHỦ TỊCH", "name": settings.get("head") or ""},
        ],
    }


def signature_sheet_items(groups: Mapping[str, Any], *, personal: bool = True) -> list[dict]:
    """One block per school (each starts a page): its pupils and its totals."""
    blocks = []
    for unit in groups["units"]:
        for school in unit["schools"]:
            rows = []
            for i, r in enumerate(school["rows"], 1):
                rows.append(
                    {
                        "n": i,
                        "full_name": r["full_name"],
                        "birth_date": format_date(r.get("birth_date")) if personal else "",
                        "grade": r.get("grade") or "",
                        "amount": r["amount"],
                        "paid_by": r.get("paid_by"),
                        "paid_in_list": r.get("paid_in_list"),
                    }
                )
            # Paid before on a voucher of its own: shown received, and not among what this sheet pays.
            separate = [row for row in rows if row["paid_by"]]
            blocks.append(
                {
                    "school": school["name"],
                    "unit": unit["name"],
                    "rows": rows,
                    "count": school["count"],
                    "amount": school["amount"],
                    "paid_separately": {"count": len(separate), "amount": sum(row["amount"] for row in separate)},
                    "to_pay": school["amount"] - sum(row["amount"] for row in separate),
                    # The list payments that paid this school's pupils, the documents this sheet is attached to.
                    "list_vouchers": sorted({row["paid_in_list"] for row in rows if row["paid_in_list"]}),
                }
            )
    return blocks


def chunk_blocks(blocks: Sequence[Mapping[str, Any]], size: int) -> list[dict]:
    """Whole schools per chunk (each school starts its own page anyway), about `size` pupils per chunk;
    a school longer than twice `size` is split, its later parts marked "(tiếp theo)"."""
    if size < 1:
        raise ValueError("size must be at least 1")
    chunks: list[dict] = []
    current: list[dict] = []
    pupils = 0
    for block in blocks:
        rows = list(block["rows"])
        parts = [rows[i : i + 2 * size] for i in range(0, len(rows), 2 * size)] or [[]]
        for p, part in enumerate(parts):
            if pupils >= size or (p > 0 and current):
                chunks.append({"blocks": current, "pupils": pupils})
                current, pupils = [], 0
            current.append({**block, "rows": part, "continued": p > 0, "last_part": p == len(parts) - 1})
            pupils += len(part)
    if current or not chunks:
        chunks.append({"blocks": current, "pupils": pupils})
    return chunks


def signature_sheet_context(
    round_info: Mapping[str, Any],
    settings: Mapping[str, Any],
    groups: Mapping[str, Any],
    *,
    personal: bool = True,
    scope: Mapping[str, Any] | None = None,
) -> dict:
    """The header context of templates/documents/signature_sheet.html."""
    return {
        **_common(round_info, settings, scope or {}),
        "title": "DANH SÁCH HỌC SINH KÝ NHẬN HỌC BỔNG",
        "personal": personal,
        "count": groups["count"],
        "total": groups["amount"],
        "schools_count": sum(len(u["schools"]) for u in groups["units"]),
    }


def certificate_contexts(
    round_info: Mapping[str, Any], settings: Mapping[str, Any], groups: Mapping[str, Any], *, personal: bool = True
) -> tuple[dict, list[dict]]:
    """(header context, one item per certificate in list order) for templates/documents/certificate.html."""
    header = {
        **_common(round_info, settings, {}),
        "title": "Giấy chứng nhận học bổng — " + (round_info.get("name") or ""),
        "signer": {"on_behalf": "TM. BAN THƯỜNG VỤ", "title": "CHỦ TỊCH", "name": settings.get("head") or ""},
    }
    items = []
    for unit in groups["units"]:
        for school in unit["schools"]:
            for r in school["rows"]:
                items.append(
                    {
                        "stt": r["stt"],
                        "full_name": r["full_name"],
                        "birth_date": format_date(r.get("birth_date")) if personal else "",
                        "grade": r.get("grade") or "",
                        "pupil": pupil_line(r.get("grade") or "", r.get("level")),
                        "school": school["name"],
                        "unit": unit["name"],
                        "tier": (r.get("tier") or "") if personal else "",
                        "amount": r["amount"],
                    }
                )
    return header, items


# ---------------------------------------------------------------------------------------------------------
# Spreadsheet and csv forms


def shows_tiers(groups: Mapping[str, Any], personal: bool) -> bool:
    """Whether a list has its "Mức / diện" column: for readers of personal data, when some award has a tier
    (a column with nothing in it only takes the school's room)."""
    return personal and any(
        r.get("tier") for unit in groups["units"] for school in unit["schools"] for r in school["rows"]
    )


def award_list_layout(groups: Mapping[str, Any], *, personal: bool = True, lines: Sequence[str] = ()) -> sheets.Layout:
    """The award list's spreadsheet layout: its title, the round and scope lines, its columns."""
    columns = [
        sheets.Column("STT", 6, "number"),
        sheets.Column("Họ và tên", 28),
        *([sheets.Column("Ngày sinh", 12, "date")] if personal else []),
        sheets.Column("Lớp", 8),
        sheets.Column("Trường", 34),
        sheets.Column("Cấp học", 10),
        sheets.Column("Đơn vị", 22),
        *([sheets.Column("Mức / diện", 16)] if shows_tiers(groups, personal) else []),
        sheets.Column("Số tiền (đồng)", 16, "money"),
    ]
    return sheets.Layout("DANH SÁCH HỌC SINH ĐƯỢC NHẬN HỌC BỔNG", tuple(columns), tuple(line for line in lines if line))


def award_list_rows(
    groups: Mapping[str, Any], *, personal: bool = True, words_style: str | None = None
) -> Iterator[sheets.Row]:
    """The award list's rows for `award_list_layout`: pupils in list order, a subtotal row after each school and
    each unit, the total row, and (given `words_style`) the total in words."""
    tiers = shows_tiers(groups, personal)
    width = 7 + personal + tiers

    def total(label: str, count: int, amount: int) -> sheets.Total:
        return sheets.Total([None, f"{label} ({count} học sinh)", *[None] * (width - 3), amount])

    for unit in groups["units"]:
        for school in unit["schools"]:
            for r in school["rows"]:
                yield [
                    r["stt"],
                    r["full_name"],
                    *([r.get("birth_date")] if personal else []),
                    r.get("grade") or "",
                    r["school"],
                    level_label(r.get("level")),
                    unit["name"],
                    *([r.get("tier") or ""] if tiers else []),
                    r["amount"],
                ]
            yield total(f"Cộng {school['name']}", school["count"], school["amount"])
        yield total(f"Cộng {unit['name']}", unit["count"], unit["amount"])
    yield total("TỔNG CỘNG", groups["count"], groups["amount"])
    if words_style is not None:
        words = "Bằng chữ: " + amount_in_words(groups["amount"], style=words_style)
        yield sheets.Note([None, words, *[None] * (width - 2)])


def award_list_xlsx(
    groups: Mapping[str, Any], *, personal: bool = True, lines: Sequence[str] = (), words_style: str = "north"
) -> bytes:
    """The award list as a workbook in the lists' shared layout (fundsvc.documents.sheets): the title and the
    round's lines, the frozen header, pupils with school and unit subtotal rows, the total and the total in words."""
    layout = award_list_layout(groups, personal=personal, lines=lines)
    rows = award_list_rows(groups, personal=personal, words_style=words_style)
    return sheets.to_bytes(sheets.write_xlsx, layout, rows)


def award_list_csv(groups: Mapping[str, Any], *, personal: bool = True) -> bytes:
    """The award list's pupils as csv, UTF-8 with a BOM (so spreadsheet programs read the Vietnamese right)."""
    layout = award_list_layout(groups, personal=personal)
    return sheets.to_bytes(sheets.write_csv, layout, award_list_rows(groups, personal=personal))
