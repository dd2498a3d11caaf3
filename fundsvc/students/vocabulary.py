"""The words of the nomination spreadsheet (docs/import.md): its columns, their headers and the accepted values.

Data only: how a cell is read is ``spreadsheet.py``, what a row means is ``rules.py``. Word tables are keyed by
``normalize.fold`` of the word ("Hộ cận nghèo" → "ho can ngheo"), so a school may type them in any case, with or
without diacritics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "ACADEMIC_RESULTS",
    "ACHIEVEMENTS",
    "ACHIEVEMENT_VALUES",
    "COLUMNS_BY_KEY",
    "CONDUCTS",
    "EXAMPLE_ROW_NOTE",
    "GENDERS",
    "GENDER_VALUES",
    "GPA_MAX",
    "HOUSEHOLDS",
    "HOUSEHOLD_VALUES",
    "KINH",
    "LEVELS",
    "LEVEL_VALUES",
    "MIN_BIRTH_DATE",
    "NOMINATION_COLUMNS",
    "PUPIL_MIN_CELLS",
    "RESULT_VALUES",
    "ROW_KEYS",
    "SIGNATURE_WORDS",
    "UNIVERSITY_YEARS",
    "VIETNAMESE_WORDS",
    "YES_NO",
    "Column",
]

# --------------------------------------------------------------------------- stored values

GENDER_VALUES = ("male", "female")
LEVEL_VALUES = ("primary", "lower_secondary", "upper_secondary", "university")
HOUSEHOLD_VALUES = ("poor", "near_poor", "hardship", "none")
RESULT_VALUES = ("excellent", "good", "pass", "fail")  # academic result and conduct alike
ACHIEVEMENT_VALUES = ("national", "province", "district", "school", "none")

#: school grade numbers of each level (the university's years are "Năm 1" … "Năm 7")
GRADES_OF_LEVEL = {"primary": range(1, 6), "lower_secondary": range(6, 10), "upper_secondary": range(10, 13)}
UNIVERSITY_YEARS = range(1, 8)

#: the folded name of the majority ethnic group: every other named group is an ethnic minority
KINH = "kinh"

MIN_BIRTH_DATE = dt.date(1950, 1, 1)
GPA_MAX = Decimal(10)

# --------------------------------------------------------------------------- accepted words (folded) → stored value

GENDERS = {"nam": "male", "nu": "female", "male": "male", "female": "female"}

LEVELS = {
    **dict.fromkeys(("tieu hoc", "cap 1", "primary"), "primary"),
    **dict.fromkeys(("thcs", "trung hoc co so", "cap 2", "lower secondary"), "lower_secondary"),
    **dict.fromkeys(("thpt", "trung hoc pho thong", "cap 3", "upper secondary"), "upper_secondary"),
    **dict.fromkeys(("dai hoc", "cao dang", "dh", "cd", "university"), "university"),
}

HOUSEHOLDS = {
    **dict.fromkeys(("ho ngheo", "ngheo", "poor"), "poor"),
    **dict.fromkeys(("ho can ngheo", "can ngheo", "near poor"), "near_poor"),
    **dict.fromkeys(("kho khan", "hoan canh kho khan", "hardship"), "hardship"),
    **dict.fromkeys(("khong", "none"), "none"),
}

YES_NO = {**dict.fromkeys(("x", "co", "1", "true"), True), **dict.fromkeys(("khong", "0", "false"), False)}

# Conduct (rèn luyện) is graded with the same words as the academic result, less three that only results use.
CONDUCTS = {
    **dict.fromkeys(("tot", "excellent"), "excellent"),
    **dict.fromkeys(("kha", "good"), "good"),
    **dict.fromkeys(("dat", "trung binh", "tb", "pass"), "pass"),
    **dict.fromkeys(("chua dat", "yeu", "fail"), "fail"),
}
ACADEMIC_RESULTS = {**CONDUCTS, "gioi": "excellent", "xuat sac": "excellent", "kem": "fail"}

ACHIEVEMENTS = {
    **dict.fromkeys(("quoc gia", "cap quoc gia", "national"), "national"),
    **dict.fromkeys(("tinh", "cap tinh", "province"), "province"),
    **dict.fromkeys(("huyen", "cap huyen", "district"), "district"),
    **dict.fromkeys(("truong", "cap truong", "school"), "school"),
    **dict.fromkeys(("khong", "none"), "none"),
}

#: stored value -> the Vietnamese word written by the export (None/"" -> empty cell)
VIETNAMESE_WORDS: dict[str, dict[Any, str]] = {
    "gender": {"male": "Nam", "female": "Nữ"},
    "level": {
        "primary": "Tiểu học",
        "lower_secondary": "THCS",
        "upper_secondary": "THPT",
        "university": "Đại học",
    },
    "household": {"poor": "Hộ nghèo", "near_poor": "Hộ cận nghèo", "hardship": "Khó khăn", "none": ""},
    "orphan": {True: "x", False: ""},
    "disability": {True: "x", False: ""},
    "academic_result": {"excellent": "Tốt", "good": "Khá", "pass": "Đạt", "fail": "Chưa đạt"},
    "conduct": {"excellent": "Tốt", "good": "Khá", "pass": "Đạt", "fail": "Chưa đạt"},
    "achievement": {"national": "Quốc gia", "province": "Tỉnh", "district": "Huyện", "school": "Trường", "none": ""},
}

# --------------------------------------------------------------------------- rows that are not pupils

#: The note of the template's example row (write_template_xlsx); a row whose note says it is skipped.
EXAMPLE_ROW_NOTE = "Dòng ví dụ – xoá trước khi gửi"
#: Words of the signature block schools put under their table ("Người lập biểu … Hiệu trưởng", "Ngày … tháng …
#: năm …", "(Ký, ghi rõ họ tên)"), folded: rows below the last pupil made only of these are a footer.
SIGNATURE_WORDS = (
    "nguoi lap",
    "lap bieu",
    "hieu truong",
    "ke toan",
    "thu truong",
    "giam doc",
    "chu tich",
    "xac nhan",
    "ky ten",
    "ky, ghi ro",
    "ghi ro ho ten",
    "dong dau",
    "thang",
)
#: A row that fills at least this many of the five required columns (and names no signature) is a pupil's,
#: however wrong its cells: the rows below the last of them may be a footer.
PUPIL_MIN_CELLS = 3

# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Vietnamese title (docs/import.md)
    required: bool
    kind: str = "coded"  # "text" (free text), "coded", "date", "number", "grade", "unit"
    aliases: tuple[str, ...] = ()  # other accepted headers ("Hạnh kiểm" for conduct)
    default: Any = None  # stored value for an empty cell / absent optional column
    words: Mapping[str, Any] | None = None  # a coded column's accepted words (folded) → stored value
    name_en: str = ""  # a coded column's name in the English half of an error message
    expected: tuple[str, str] = ("", "")  # a coded column's accepted words, as an error message lists them (vi, en)
    choices: tuple[str, ...] = ()  # the words offered in the template drop-down
    hint: str = ""  # accepted values, for the "Hướng dẫn" sheet


_LEVEL_WORDS = "Tiểu học, THCS, THPT, Đại học hoặc Cao đẳng"
_YES_NO_EXPECTED = (
    "x, có, 1, true (có) hoặc để trống, không, 0, false (không)",
    "x/có/1/true for yes, empty/không/0/false for no",
)
_HOUSEHOLD_WORDS = "Hộ nghèo, Hộ cận nghèo, Khó khăn hoặc để trống"
_ACHIEVEMENT_WORDS = "Quốc gia, Tỉnh, Huyện, Trường hoặc để trống"
_TEXT = "Văn bản"


def _yes_no(key: str, header: str, name_en: str) -> Column:
    return Column(
        key,
        header,
        False,
        default=False,
        words=YES_NO,
        name_en=name_en,
        expected=_YES_NO_EXPECTED,
        choices=("x", "Có", "Không"),
        hint="x hoặc để trống",
    )


NOMINATION_COLUMNS: tuple[Column, ...] = (
    Column(
        "student_code",
        "Mã học sinh",
        False,
        "text",
        ("Mã HS", "Mã số học sinh"),
        hint="Văn bản; dùng để nhận ra học sinh qua các năm",
    ),
    Column("full_name", "Họ và tên", True, "text", ("Họ tên",), hint=_TEXT),
    Column(
        "birth_date",
        "Ngày sinh",
        True,
        "date",
        ("Ngày tháng năm sinh",),
        hint="dd/mm/yyyy (ví dụ 05/09/2012), yyyy-mm-dd hoặc ô kiểu ngày",
    ),
    Column(
        "gender",
        "Giới tính",
        False,
        words=GENDERS,
        name_en="gender",
        expected=("Nam hoặc Nữ", "Nam or Nữ"),
        choices=("Nam", "Nữ"),
        hint="Nam, Nữ",
    ),
    Column("ethnicity", "Dân tộc", False, "text", hint="Văn bản: Kinh, Khmer, Hoa, …"),
    Column("school", "Trường", True, "text", ("Trường học",), hint=_TEXT),
    Column("grade", "Lớp", True, "grade", hint="9A, 9, 12A1; sinh viên: Năm 1, Năm 2, …"),
    Column(
        "level",
        "Cấp học",
        False,
        words=LEVELS,
        name_en="level",
        expected=(_LEVEL_WORDS, "Tiểu học, THCS, THPT, Đại học or Cao đẳng"),
        choices=("Tiểu học", "THCS", "THPT", "Đại học", "Cao đẳng"),
        hint=_LEVEL_WORDS + "; để trống thì suy ra từ lớp (1–5, 6–9, 10–12, Năm N)",
    ),
    Column("unit", "Mã đơn vị", True, "unit", hint="Mã của đơn vị đề nghị (xã/phường, chi hội)"),
    Column(
        "household",
        "Hoàn cảnh gia đình",
        False,
        aliases=("Hoàn cảnh",),
        default="none",
        words=HOUSEHOLDS,
        name_en="household",
        expected=(_HOUSEHOLD_WORDS, "Hộ nghèo, Hộ cận nghèo, Khó khăn or empty"),
        choices=("Hộ nghèo", "Hộ cận nghèo", "Khó khăn"),
        hint=_HOUSEHOLD_WORDS,
    ),
    _yes_no("orphan", "Mồ côi", "orphan"),
    _yes_no("disability", "Khuyết tật", "disability"),
    Column(
        "gpa",
        "Điểm TB",
        False,
        "number",
        ("Điểm trung bình", "ĐTB"),
        hint="Số từ 0 đến 10, một chữ số thập phân: 8.5 hoặc 8,5",
    ),
    Column(
        "academic_result",
        "Học lực",
        False,
        words=ACADEMIC_RESULTS,
        name_en="academic result",
        expected=(
            "Tốt, Giỏi, Khá, Đạt, Trung bình, Chưa đạt, Yếu hoặc Kém",
            "Tốt, Giỏi, Khá, Đạt, Trung bình, Chưa đạt, Yếu or Kém",
        ),
        choices=("Tốt", "Khá", "Đạt", "Chưa đạt", "Giỏi", "Trung bình", "Yếu", "Kém"),
        hint="Tốt/Giỏi, Khá, Đạt/Trung bình, Chưa đạt/Yếu/Kém",
    ),
    Column(
        "conduct",
        "Rèn luyện",
        False,
        aliases=("Hạnh kiểm",),
        words=CONDUCTS,
        name_en="conduct",
        expected=("Tốt, Khá, Đạt, Trung bình, Chưa đạt hoặc Yếu", "Tốt, Khá, Đạt, Trung bình, Chưa đạt or Yếu"),
        choices=("Tốt", "Khá", "Đạt", "Chưa đạt", "Trung bình", "Yếu"),
        hint="Tốt, Khá, Đạt/Trung bình, Chưa đạt/Yếu (tiêu đề 'Hạnh kiểm' cũng được)",
    ),
    Column(
        "achievement",
        "Thành tích",
        False,
        default="none",
        words=ACHIEVEMENTS,
        name_en="achievement",
        expected=(_ACHIEVEMENT_WORDS, "Quốc gia, Tỉnh, Huyện, Trường or empty"),
        choices=("Quốc gia", "Tỉnh", "Huyện", "Trường"),
        hint=_ACHIEVEMENT_WORDS,
    ),
    Column("guardian", "Phụ huynh", False, "text", ("Người giám hộ",), hint=_TEXT),
    Column("note", "Ghi chú", False, "text", hint=_TEXT),
)

COLUMNS_BY_KEY: dict[str, Column] = {c.key: c for c in NOMINATION_COLUMNS}

#: keys of every parsed row, in order: the columns plus what the rules derive (ethnic_minority, grade_number)
#: and the row number as the spreadsheet shows it
ROW_KEYS: tuple[str, ...] = (
    "row",
    "student_code",
    "full_name",
    "birth_date",
    "gender",
    "ethnicity",
    "ethnic_minority",
    "school",
    "grade",
    "grade_number",
    "level",
    "unit",
    "household",
    "orphan",
    "disability",
    "gpa",
    "academic_result",
    "conduct",
    "achievement",
    "guardian",
    "note",
)
