"""The donor pages through the login session: the donation form's question before a gift goes to a donor of another
name, search without diacritics, a donor corrected and a duplicate merged."""

from __future__ import annotations

import re

import pytest

from tests.web.test_pages import GIFT, record


@pytest.fixture
def treasurer(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    return browser("thuquy")


def donor_ids(b, q: str) -> list[int]:
    return [d["id"] for d in b.get("/ui/donors", query_string={"q": q}).json]


def test_the_form_asks_before_a_gift_goes_to_a_donor_of_another_name(treasurer):
    assert record(treasurer).status_code == 302
    (lan,) = donor_ids(treasurer, "nguyen thi lan")
    asked = record(treasurer, donor_name="Chị Lan", donor_phone="0912 345 678", amount="300.000")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 409 and 'id="donor-question"' in page
    assert "Nguyễn Thị Lan" in page and f'name="use_donor" value="{lan}"' in page and 'name="new_donor"' in page
    # "Ghi cho Nguyễn Thị Lan": the gift is hers.
    form_key = re.search(r'name="form_key" value="([^"]+)"', page).group(1)
    answer = {**GIFT, "donor_name": "Chị Lan", "amount": "300.000", "form_key": form_key}
    assert treasurer.post("/donations/new", {**answer, "use_donor": str(lan)}).status_code == 302
    assert donor_ids(treasurer, "lan") == [lan]
    # "Tạo nhà hảo tâm mới": a second donor, with the same phone.
    again = record(treasurer, donor_name="Chị Lan", donor_phone="0912345678", amount="400.000", new_donor="1")
    assert again.status_code == 302
    assert len(donor_ids(treasurer, "lan")) == 2


def test_an_invalid_phone_is_said_beside_its_field(treasurer):
    response = record(treasurer, donor_phone="0299 123 456")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="donor_phone-error"' in page and "Số điện thoại không hợp lệ" in page


def test_the_donor_box_and_lists_find_names_typed_without_diacritics(treasurer):
    record(treasurer, donor_name="Đặng Văn Út", donor_phone="0913555777")
    assert [d["name"] for d in treasurer.get("/ui/donors?q=dang").json] == ["Đặng Văn Út"]
    assert "Đặng Văn Út" in treasurer.get("/donors?q=DANG+ut").get_data(as_text=True)
    assert "Đặng Văn Út" not in treasurer.get("/donors?q=nguyen").get_data(as_text=True)
    assert "Đặng Văn Út" in treasurer.get("/donations?q=dang").get_data(as_text=True)


def test_a_donor_is_corrected_from_its_page(treasurer):
    record(treasurer)
    (lan,) = donor_ids(treasurer, "lan")
    form = treasurer.get(f"/donors/{lan}/edit").get_data(as_text=True)
    assert 'id="donor-edit"' in form and 'value="0912345678"' in form
    bad = treasurer.post(f"/donors/{lan}/edit", {"name": "Nguyễn Thị Lan", "kind": "person", "phone": "12"})
    assert bad.status_code == 422 and 'id="phone-error"' in bad.get_data(as_text=True)
    saved = treasurer.post(
        f"/donors/{lan}/edit", {"name": "Nguyễn Thị Ngọc Lan", "kind": "person", "phone": "+84 912 345 678"}
    )
    assert saved.status_code == 302
    page = treasurer.get(f"/donors/{lan}").get_data(as_text=True)
    assert "Nguyễn Thị Ngọc Lan" in page and "0912345678" in page
    assert donor_ids(treasurer, "ngoc") == [lan]


def test_a_duplicate_is_merged_from_its_page(treasurer):
    record(treasurer)
    record(treasurer, donor_name="Chị Lan", donor_phone="0987654321", amount="200.000")
    (lan,) = donor_ids(treasurer, "nguyen")
    (duplicate,) = donor_ids(treasurer, "chi lan")
    offered = treasurer.get(f"/donors/{duplicate}/merge").get_data(as_text=True)
    assert f'name="into" value="{lan}"' in offered  # found by the last word of the name, "Lan"
    merged = treasurer.post(f"/donors/{duplicate}/merge", {"into": str(lan)})
    assert merged.status_code == 302 and merged.headers["Location"] == f"/donors/{lan}"
    page = treasurer.get(f"/donors/{lan}").get_data(as_text=True)
    assert "200.000" in page and "1.250.000" in page
    redirected = treasurer.get(f"/donors/{duplicate}")
    assert redirected.status_code == 302 and redirected.headers["Location"] == f"/donors/{lan}"
    assert donor_ids(treasurer, "chi") == []
