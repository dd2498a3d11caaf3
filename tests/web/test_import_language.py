"""The nomination import says its messages in the reader's language only (issue 22): Vietnamese by default, English
when chosen, never one with the other's gloss; and what it forgives (a title above the header, the template's
example row, a signature block under the table) it says it skipped, naming the rows."""

from __future__ import annotations

import csv
import io

import pytest

from fundsvc.students.vocabulary import EXAMPLE_ROW_NOTE

HEADER = ["Mã học sinh", "Họ và tên", "Ngày sinh", "Trường", "Lớp", "Mã đơn vị", "Hoàn cảnh gia đình", "Ghi chú"]
PUPIL = ["HS1", "Nguyễn Văn An", "05/09/2012", "Trường THCS A", "7A", "ST-MX-DT", "Hộ nghèo", ""]


def school_file(*, bad: bool) -> bytes:
    """A school's file: a title and a blank row above the header (row 3), the template's example row, a pupil (a
    bad birth date when `bad`), and the signature block schools put under the table."""
    out = io.StringIO(newline="")
    w = csv.writer(out)
    w.writerow(["Danh sách đề cử học bổng năm học 2024-2025"])
    w.writerow([])
    w.writerow(HEADER)
    w.writerow(
        ["HS0700001", "Nguyễn Thị Lan", "05/09/2011", "Trường THCS Đại Tâm", "8B", "ST-MX-DT", "", EXAMPLE_ROW_NOTE]
    )
    w.writerow([*PUPIL[:2], "31/02/2012" if bad else PUPIL[2], *PUPIL[3:]])
    w.writerow(["", "", "Ngày 15 tháng 9 năm 2024"])
    w.writerow(["Người lập biểu", "", "", "Hiệu trưởng"])
    return out.getvalue().encode("utf-8")


@pytest.fixture
def committee(app, tree, make_user, browser):
    make_user("hoidong", "committee", "ST")
    return browser("hoidong")


def send(b, data: bytes, **form):
    return b.post(
        "/nominations/import",
        {"file": (io.BytesIO(data), "truong.csv"), "academic_year": "2024-2025", **form},
        content_type="multipart/form-data",
    )


VIETNAMESE_WARNINGS = [
    "Đã bỏ qua các dòng phía trên dòng tiêu đề (dòng 3)",
    "Dòng 4 là dòng ví dụ của mẫu nhập: đã bỏ qua",
    "Đã bỏ qua 2 dòng chữ ký dưới bảng (từ dòng 6): không phải hồ sơ học sinh",
]
ENGLISH_WARNINGS = [
    "Rows above the header row (row 3) were ignored",
    "Row 4 is the template&#39;s example row: skipped",
    "Skipped 2 signature rows below the table (from row 6): not pupils&#39; records",
]


def test_the_page_speaks_vietnamese_only(committee):
    response = send(committee, school_file(bad=True))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Tệp có 1 dòng lỗi, chưa lưu gì" in page and "nothing was stored" not in page
    assert "Ngày không hợp lệ &#39;31/02/2012&#39;: ngày này không tồn tại" in page and "no such day" not in page
    assert "dòng tiêu đề là dòng 3" in page  # the hint names the header row found
    for warning in VIETNAMESE_WARNINGS:
        assert warning in page
    assert "ignored" not in page and "expected" not in page


def test_the_page_speaks_english_only_when_chosen(committee):
    committee.get("/?lang=en")
    page = send(committee, school_file(bad=True)).get_data(as_text=True)
    assert "Rows with errors in the file: 1; nothing was stored" in page and "chưa lưu gì" not in page
    assert "Invalid date &#39;31/02/2012&#39;: no such day" in page and "không tồn tại" not in page
    for warning in ENGLISH_WARNINGS:
        assert warning in page
    assert "bỏ qua" not in page
    ok = send(committee, school_file(bad=False), dry_run="1").get_data(as_text=True)
    assert "Row 4 is the template&#39;s example row: skipped" in ok and "dòng ví dụ" not in ok


def test_the_api_answers_in_the_language_asked(app, tree, make_api):
    api = make_api(app, "committee", "ST")

    def post(data: bytes, lang: str | None = None):
        with app.app_context():  # a fresh context per request, as in production (the locale is kept in it)
            return api.client.post(
                "/api/v1/nominations/import" + (f"?lang={lang}" if lang else ""),
                data={"file": (io.BytesIO(data), "truong.csv"), "academic_year": "2024-2025", "dry_run": "true"},
                headers={"Authorization": f"Bearer {api.token}"},
                content_type="multipart/form-data",
            )

    refused = post(school_file(bad=True)).json
    assert refused["message"] == "Tệp có 1 dòng lỗi, chưa lưu gì"
    assert refused["errors"]["rows"][0]["message"].endswith("cần một ngày có thật dạng dd/mm/yyyy")
    assert refused["errors"]["header_row"] == 3
    english = post(school_file(bad=True), "en").json
    assert english["message"] == "Rows with errors in the file: 1; nothing was stored"
    assert (
        english["errors"]["rows"][0]["message"]
        == "Invalid date '31/02/2012': no such day; expected a real date as dd/mm/yyyy"
    )
    assert english["errors"]["warnings"] == [w.replace("&#39;", "'") for w in ENGLISH_WARNINGS]
    accepted = post(school_file(bad=False), "vi")  # (?lang= is remembered: back to Vietnamese)
    assert accepted.status_code == 200 and accepted.json["created"] == 1
    assert accepted.json["warnings"] == VIETNAMESE_WARNINGS
