"""One nomination's pages through the test client: the detail page, its correction, its withdrawal, who may see them."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest

from fundsvc.extensions import db
from tests.conftest import WORKED_EXAMPLE_GIFT
from tests.web.test_committee import RULES, SAMPLE, committee, create_round, funded, import_file  # noqa: F401


@pytest.fixture
def approved(committee, funded):  # noqa: F811
    """The worked example imported, allocated and approved through the pages: the committee's browser, the admin's
    API, the round id, its allocation and its awards."""
    assert import_file(committee, SAMPLE.read_bytes()).status_code == 200
    round_url = create_round(committee, RULES.read_text()).headers["Location"]
    committee.post(f"{round_url}/allocate")
    committee.post(f"{round_url}/approve")
    db.session.rollback()
    round_id = int(round_url.rsplit("/", 1)[1])
    allocation = funded.get(f"/api/v1/rounds/{round_id}/allocation").json
    awards = funded.get(f"/api/v1/rounds/{round_id}/awards?page_size=500").json
    return SimpleNamespace(committee=committee, admin=funded, round_id=round_id, allocation=allocation, awards=awards)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_error(page: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', page)
    return match.group(1) if match else ""


def test_the_detail_page_shows_the_whole_nomination_and_where_it_stands(approved):
    s = approved
    top = s.admin.get(f"/api/v1/nominations/{s.awards[0]['nomination_id']}").json
    page = text(s.committee.get(f"/nominations/{top['id']}"))
    for shown in (top["full_name"], top["student_code"], top["school"], top["grade"]):
        assert shown in page
    birth = "/".join(reversed(top["birth_date"].split("-")))
    assert birth in page and "Hoàn cảnh gia đình" in page and top["unit"] in page
    # The file it came from and its row, the import's date.
    assert "nominations_sample.csv" in page and f"<dd>{top['source_row']}</dd>" in page and "Nhập lúc" in page
    # Its standing in the round, with the round's own explanation, its award waiting to be paid.
    assert "Học bổng Khuyến học 2024–2025" in page and "Được nhận" in page
    assert f"1 / {len(s.allocation['awarded']) + len(s.allocation['waitlisted'])}" in page
    assert f"Xếp hạng 1/{len(s.allocation['awarded']) + len(s.allocation['waitlisted'])}" in page
    assert f"/rounds/{s.round_id}/explain/{top['id']}" in page and "Chờ chi" in page
    assert "Hồ sơ đã thay đổi sau lần phân bổ" not in page  # the explanation is the decision's
    # It holds an award: no correction, a withdrawal that says the award will be cancelled.
    assert "không sửa được" in page and 'id="edit-nomination"' not in page
    assert 'id="withdraw-form"' in page and "sẽ bị hủy" in page
    ineligible = s.allocation["ineligible"][0]["nomination_id"]
    out = text(s.committee.get(f"/nominations/{ineligible}"))
    assert "Không đủ điều kiện" in out and 'id="edit-nomination"' in out


def test_the_list_and_the_round_link_to_the_detail_page(approved):
    s = approved
    link = f'href="/nominations/{s.awards[0]["nomination_id"]}"'
    assert link in s.committee.get("/nominations?academic_year=2024-2025").get_data(as_text=True)
    assert link in s.committee.get(f"/rounds/{s.round_id}").get_data(as_text=True)


def test_a_correction_is_checked_as_the_import_checks_and_audited(approved):
    s = approved
    waiting = s.allocation["waitlisted"][0]["nomination_id"]
    edit = f"/nominations/{waiting}/edit"
    form = text(s.committee.get(edit))
    assert 'id="nomination-form"' in form and 'name="gpa"' in form
    before = s.admin.get(f"/api/v1/nominations/{waiting}").json
    values = {
        "full_name": before["full_name"],
        "student_code": before["student_code"],
        "birth_date": before["birth_date"],
        "gender": before["gender"] or "",
        "ethnicity": before["ethnicity"] or "",
        "school": before["school"],
        "grade": before["grade"],
        "level": before["level"] or "",
        "unit": before["unit"],
        "household": before["household"],
        "academic_result": before["academic_result"] or "",
        "conduct": before["conduct"] or "",
        "achievement": before["achievement"],
        "guardian": "",
        "note": "",
    }
    bad = s.committee.post(edit, {**values, "gpa": "8,55", "full_name": "  ", "birth_date": "01/01/1940"})
    page = text(bad)
    assert bad.status_code == 422 and "Chưa lưu được" in page
    assert "quá một chữ số thập phân" in field_error(page, "gpa")
    assert field_error(page, "full_name").startswith("Thiếu Họ và tên")
    assert "Ngày sinh ngoài khoảng hợp lệ" in field_error(page, "birth_date")
    unreadable = text(s.committee.post(edit, {**values, "gpa": "8,5", "grade": "Khối chuyên"}))
    assert field_error(unreadable, "grade").startswith("Lớp không hợp lệ 'Khối chuyên'")
    db.session.rollback()
    assert s.admin.get(f"/api/v1/nominations/{waiting}").json == before  # nothing of the refused forms was stored

    saved = s.committee.post(edit, {**values, "gpa": "8,5", "guardian": "  Bà   ngoại ", "orphan": "1"})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/nominations/{waiting}"
    db.session.rollback()
    after = s.admin.get(f"/api/v1/nominations/{waiting}").json
    assert (after["gpa"], after["guardian"], after["orphan"]) == ("8.5", "Bà ngoại", True)
    detail = text(s.committee.get(f"/nominations/{waiting}"))
    assert "Đã lưu thay đổi của hồ sơ" in detail and "Hồ sơ đề cử: sửa" in detail
    assert "Bà ngoại" in detail and "Mồ côi" in detail  # the history's before and after


def test_withdrawing_an_awarded_pupil_promotes_and_a_paid_one_is_refused(app, approved, make_user, browser):
    s = approved
    victim = max(s.awards[1:], key=lambda a: (a["amount"], -a["rank"]))
    url = f"/nominations/{victim['nomination_id']}"
    s.committee.get(url)
    unconfirmed = text(s.committee.post(f"{url}/withdraw", {"reason": "Chuyển trường"}, follow_redirects=True))
    assert "Đánh dấu ô xác nhận" in unconfirmed
    no_reason = text(s.committee.post(f"{url}/withdraw", {"reason": " ", "confirm": "1"}, follow_redirects=True))
    assert "Cần ghi lý do rút hồ sơ" in no_reason
    done = text(s.committee.post(f"{url}/withdraw", {"reason": "Chuyển trường", "confirm": "1"}, follow_redirects=True))
    assert f"Đã rút hồ sơ của {victim['full_name']} và hủy suất học bổng của em" in done
    assert "được nhận thay" in done and "Lý do:" in done and "Chuyển trường" in done
    assert 'id="withdraw-form"' not in done and "Đã hủy" in done
    db.session.rollback()
    after = {a["nomination_id"]: a for a in s.admin.get(f"/api/v1/rounds/{s.round_id}/awards?page_size=500").json}
    assert after[victim["nomination_id"]]["status"] == "cancelled"
    assert any(a["promoted"] for a in after.values())

    paid = s.awards[0]
    cash = {**WORKED_EXAMPLE_GIFT, "amount": paid["amount"], "received_on": "2024-11-20"}
    assert s.admin.post("/api/v1/donations", cash).status_code == 201
    make_user("thuquy.tinh", "treasurer", "ST")
    treasurer = browser("thuquy.tinh")
    treasurer.post(f"/awards/{paid['id']}/disburse", {"paid_on": "2024-11-20", "received_by": "Mẹ em"})
    page = text(s.committee.get(f"/nominations/{paid['nomination_id']}"))
    assert "Học bổng của em đã chi, không rút hồ sơ được." in page and 'id="withdraw-form"' not in page
    assert "Đã chi" in page and "PC-ST/2024/" in page
    refused = text(
        s.committee.post(
            f"/nominations/{paid['nomination_id']}/withdraw", {"reason": "x", "confirm": "1"}, follow_redirects=True
        )
    )
    assert "đã chi cho em, không rút hồ sơ được" in refused and "Đang xét" in refused


def test_other_units_and_other_roles(app, approved, make_user, browser):
    s = approved
    everyone = s.admin.get("/api/v1/nominations?page_size=500").json
    outside = next(n["id"] for n in everyone if not n["unit"].startswith("ST-VC"))
    make_user("hoidong.khac", "committee", "ST-VC")
    other = browser("hoidong.khac")
    assert other.get(f"/nominations/{outside}").status_code == 404
    assert other.get(f"/nominations/{outside}/edit").status_code == 404
    assert other.post(f"/nominations/{outside}/edit", {"full_name": "x"}).status_code == 404
    assert other.post(f"/nominations/{outside}/withdraw", {"reason": "x", "confirm": "1"}).status_code == 404
    db.session.rollback()
    assert s.admin.get(f"/api/v1/nominations/{outside}").json["status"] == "active"
    nomination_id = s.awards[0]["nomination_id"]
    make_user("xem", "viewer", "ST")
    viewer = browser("xem")
    seen = viewer.get(f"/nominations/{nomination_id}")
    page = text(seen)
    assert seen.status_code == 200 and s.awards[0]["full_name"] in page
    assert "Hoàn cảnh gia đình" not in page and "Ngày sinh" not in page and 'id="withdraw-form"' not in page
    assert viewer.get(f"/nominations/{nomination_id}/edit").status_code == 403
    assert viewer.post(f"/nominations/{nomination_id}/withdraw", {"reason": "x", "confirm": "1"}).status_code == 403
