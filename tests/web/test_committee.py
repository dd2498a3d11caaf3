"""Committee and award pages through the test client: import, rounds, allocation, explanation, approval, awards."""

from __future__ import annotations

import json
import re
from io import BytesIO

import pytest

from fundsvc.extensions import db
from tests.conftest import SHARED_DATA, WORKED_EXAMPLE_GIFT

SAMPLE = SHARED_DATA / "nominations_sample.csv"
RULES = SHARED_DATA / "rules_example.json"


def import_file(b, data: bytes, name: str = "nominations_sample.csv", **extra):
    b.get("/nominations/import")
    return b.post(
        "/nominations/import",
        {"file": (BytesIO(data), name), "academic_year": "2024-2025", **extra},
        content_type="multipart/form-data",
    )


@pytest.fixture
def committee(app, make_user, browser):
    make_user("hoidong", "committee", "ST")
    return browser("hoidong")


@pytest.fixture
def funded(app, make_api):
    """The worked example's money: a 50,000,000 gift to fund KH."""
    admin = make_api(app, "admin")
    gift = {**WORKED_EXAMPLE_GIFT, "amount": 50_000_000}
    assert admin.post("/api/v1/donations", gift).status_code == 201
    return admin


def create_round(b, rules_text: str, budget="40.000.000"):
    """The round form sent from its JSON view ("Tạo đợt xét từ JSON")."""
    b.get("/rounds/new")
    form = {
        "name": "Học bổng Khuyến học 2024–2025",
        "academic_year": "2024-2025",
        "unit": "ST",
        "fund": "KH",
        "budget": budget,
        "rules": rules_text,
        "preset": "",
        "source": "json",
    }
    return b.post("/rounds/new", form)


def test_import_shows_every_bad_row_and_stores_nothing(committee):
    text = SAMPLE.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace("04/09/2017", "31/02/2017")
    text[4] = text[4].replace("ST-TD-LHT", "XX-KHONG-CO")
    response = import_file(committee, "\n".join(text).encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="import-errors"' in page
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td>', page)
    assert ("3", "Ngày sinh") in rows and ("5", "Mã đơn vị") in rows
    assert "chưa lưu gì" in page
    assert "Chưa có hồ sơ đề cử nào" in committee.get("/nominations?academic_year=2024-2025").get_data(as_text=True)


def test_import_dry_run_then_real(committee):
    dry = import_file(committee, SAMPLE.read_bytes(), dry_run="1").get_data(as_text=True)
    assert "Tệp hợp lệ" in dry and "120 hồ sơ mới" in dry
    assert "Chưa có hồ sơ đề cử nào" in committee.get("/nominations?academic_year=2024-2025").get_data(as_text=True)
    done = import_file(committee, SAMPLE.read_bytes()).get_data(as_text=True)
    assert "Đã nhập 120 hồ sơ mới và cập nhật 0 hồ sơ" in done
    listing = committee.get("/nominations?academic_year=2024-2025&school=Trường THCS Đại Tâm").get_data(as_text=True)
    assert "Phan Thanh Bình" in listing and "Ngày sinh" in listing
    assert "Bùi Bảo Dung" not in listing


def test_viewer_sees_no_personal_data(app, committee, make_user, browser):
    import_file(committee, SAMPLE.read_bytes())
    make_user("xem", "viewer", "ST")
    page = browser("xem").get("/nominations?academic_year=2024-2025").get_data(as_text=True)
    assert "Phan Thanh Bình" in page and "03/01/2011" not in page and "Hoàn cảnh" not in page


def test_bad_rules_are_shown_by_path(committee, funded):
    rules = json.loads(RULES.read_text())
    rules["quotas"][1]["max_awards"] = "many"
    response = create_round(committee, json.dumps(rules))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "<code>rules.quotas[1]" in page
    broken = create_round(committee, '{"version": 1,')
    assert broken.status_code == 422 and "JSON không hợp lệ ở dòng 1" in broken.get_data(as_text=True)
    no_budget = create_round(committee, RULES.read_text(), budget="bốn mươi triệu")
    assert no_budget.status_code == 422 and "Nhập ngân sách bằng chữ số" in no_budget.get_data(as_text=True)


def test_worked_example_through_the_pages_matches_the_api(app, committee, funded, make_user, browser):
    import_file(committee, SAMPLE.read_bytes())
    created = create_round(committee, RULES.read_text())
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    round_url = created.headers["Location"]
    round_id = int(round_url.rsplit("/", 1)[1])
    assert "Chưa chạy phân bổ" in committee.get(round_url).get_data(as_text=True)
    allocated = committee.post(f"{round_url}/allocate", follow_redirects=True).get_data(as_text=True)
    assert "Đã phân bổ:" in allocated
    db.session.rollback()
    api = funded.get(f"/api/v1/rounds/{round_id}/allocation").json
    expected = json.loads((SHARED_DATA / "allocation_example_expected.json").read_text())
    assert api["allocated"] == expected["allocated"]
    shown = re.findall(r'<tr>\s*<td class="num">(\d+)</td>\s*<td>([^<]*)</td>', allocated)
    assert [(int(r), c) for r, c in shown] == [(e["rank"], e["student_code"]) for e in api["awarded"]]
    waiting = committee.get(f"{round_url}?tab=waitlisted").get_data(as_text=True)
    assert all(e["student_code"] in waiting for e in api["waitlisted"])
    ineligible = committee.get(f"{round_url}?tab=ineligible").get_data(as_text=True)
    assert all(e["student_code"] in ineligible for e in api["ineligible"][:20])

    top = api["awarded"][0]["nomination_id"]
    explain = committee.get(f"/rounds/{round_id}/explain/{top}").get_data(as_text=True)
    assert "Được nhận" in explain and "hạng 1 /" in explain and "Cách tính điểm" in explain
    out = api["ineligible"][0]["nomination_id"]
    assert "Không đủ điều kiện" in committee.get(f"/rounds/{round_id}/explain/{out}").get_data(as_text=True)

    approved = committee.post(f"{round_url}/approve", follow_redirects=True)
    page = approved.get_data(as_text=True)
    assert "Đã duyệt đợt xét" in page and "Danh sách nhận học bổng" in page
    db.session.rollback()  # the API client shares the test's session: end its read transaction
    awards = funded.get(f"/api/v1/rounds/{round_id}/awards").json
    assert [a["nomination_id"] for a in awards] == [e["nomination_id"] for e in api["awarded"]]
    assert all(a["full_name"] in page for a in awards)
    assert "Đợt xét đã được duyệt trước đó" in committee.post(f"{round_url}/approve", follow_redirects=True).get_data(
        as_text=True
    )

    # The treasurer pays the first award in cash; the worked example's money came by bank, so the province's
    # cash box first receives a cash gift to pay from (a cash box never holds less than nothing).
    cash = {**WORKED_EXAMPLE_GIFT, "method": "cash", "amount": awards[0]["amount"], "received_on": "2024-11-20"}
    assert funded.post("/api/v1/donations", cash).status_code == 201
    make_user("thuquy.tinh", "treasurer", "ST")
    treasurer = browser("thuquy.tinh")
    award_url = f"/awards/{awards[0]['id']}"
    assert 'id="received_by"' in treasurer.get(award_url).get_data(as_text=True)
    paid = treasurer.post(
        f"{award_url}/disburse", {"paid_on": "2024-11-20", "received_by": "Phụ huynh em A"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Đã chi học bổng, phiếu chi số PC-ST/2024/" in paid
    voucher = treasurer.get(f"/api/v1/awards/{awards[0]['id']}/voucher.pdf")
    assert voucher.status_code == 200 and voucher.mimetype == "application/pdf"
    assert treasurer.post(f"/awards/{awards[1]['id']}/cancel", {"reason": "x"}).status_code == 403

    # The committee cancels the dearest unpaid award: the best-ranked waitlisted pupil that fits is promoted.
    victim = max(awards[1:], key=lambda a: (a["amount"], -a["rank"]))
    committee.get(f"/awards/{victim['id']}")
    cancelled = committee.post(
        f"/awards/{victim['id']}/cancel", {"reason": "Gia đình chuyển đi nơi khác"}, follow_redirects=True
    ).get_data(as_text=True)
    assert f"Đã hủy suất của {victim['full_name']}" in cancelled
    # The round page follows at once: the cancelled award in its own tab, no longer among the awarded.
    cancelled_tab = committee.get(f"{round_url}?tab=cancelled").get_data(as_text=True)
    assert victim["full_name"] in cancelled_tab
    awarded_tab = committee.get(round_url).get_data(as_text=True)
    assert victim["full_name"] not in awarded_tab


def test_committee_of_another_district_cannot_open_the_round(app, committee, funded, make_user, browser):
    import_file(committee, SAMPLE.read_bytes())
    round_url = create_round(committee, RULES.read_text()).headers["Location"]
    make_user("hoidong.mx", "committee", "ST-MX")
    other = browser("hoidong.mx")
    assert other.get(round_url).status_code == 404
    assert other.post(f"{round_url}/allocate").status_code == 404
