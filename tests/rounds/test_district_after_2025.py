"""The rules' field `district` across the 2025 reorganisation (docs/rules.md "district on a two-level tree"): a round
reads the tree as it stood on 1 September of its academic year, so a 2024-2025 round keeps its districts after they
were dissolved on 1 July 2025; a round of 2025-2026 whose rules name `district` is refused with a clear 422, since
its tree has no district level; rules that do not name it (the presets) run on the two-level tree. On both engines."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from fundsvc.allocation.rules import PRESETS
from fundsvc.auth.service import create_user
from fundsvc.extensions import db as _db
from fundsvc.students.models import Nomination, Student
from fundsvc.units.models import Unit
from tests.conftest import Api
from tests.reports.conftest import give

PER_DISTRICT = {
    "version": 1,
    "score": [{"field": "gpa", "points_per_unit": 10}],
    "amounts": {"lower_secondary": 1_000_000},
    "quotas": [{"group": "district", "max_awards": 1}],
}
# Two pupils of Phường 2 (Thành phố Sóc Trăng) and one of Đại Tâm (Mỹ Xuyên), each year.
PUPILS = [
    ("ST-TP-P2", "Nguyễn Văn An", "9.0"),
    ("ST-TP-P2", "Trần Thị Bình", "8.5"),
    ("ST-MX-DT", "Lê Văn Cường", "8.0"),
]
MOVED_UP = ["ST-TP-P2", "ST-TP-P5", "ST-MX-DT", "ST-MX-TD", "ST-TD-LHT", "ST-VC-VH"]
ON = "2025-07-01"


@pytest.fixture
def admin(any_app):
    _user, token = create_user(_db.session, "quantri", "admin", None)
    api = Api(any_app.test_client(), token)
    give(_db.session, "ST", 20_000_000, fund="KH", on=date(2024, 8, 1))
    units = {u.code: u.id for u in _db.session.query(Unit)}
    for year in ("2024-2025", "2025-2026"):
        for unit, name, gpa in PUPILS:
            key = f"name:{name}:{year}"
            student = Student(identity_key=key, full_name=name, birth_date=date(2012, 5, 6), school="THCS")
            nomination = Nomination(
                student=student,
                academic_year=year,
                unit_id=units[unit],
                full_name=name,
                birth_date=date(2012, 5, 6),
                school="THCS",
                grade="7",
                level="lower_secondary",
                gpa=gpa,
            )
            _db.session.add_all([student, nomination])
    _db.session.commit()
    return api


def _round(api, year: str, rules: dict):
    body = {"name": f"Học bổng {year}", "academic_year": year, "fund": "KH", "unit": "ST", "budget": 10_000_000}
    return api.post("/api/v1/rounds", json={**body, "rules": rules})


def _dissolve_districts(api) -> None:
    for code in MOVED_UP:
        assert api.post(f"/api/v1/units/{code}/move", json={"parent": "ST", "on": ON}).status_code == 200
    for code in ("ST-TP", "ST-MX", "ST-TD", "ST-VC"):
        answer = api.post(f"/api/v1/units/{code}/retire", json={"on": ON, "reason": "Giải thể cấp huyện"})
        assert answer.status_code == 200, answer.get_json()


def _awarded(result: dict) -> list[int]:
    return [entry["nomination_id"] for entry in result["awarded"]]


def test_a_round_of_2024_2025_keeps_its_districts(admin):
    made = _round(admin, "2024-2025", PER_DISTRICT)
    assert made.status_code == 201, made.get_json()
    before = admin.post(f"/api/v1/rounds/{made.get_json()['id']}/allocate").get_json()
    # One award per district: An (Thành phố Sóc Trăng), Cường (Mỹ Xuyên); Bình waits on the quota.
    assert len(before["awarded"]) == 2 and [w["reason"] for w in before["waitlisted"]] == ["quota"]
    _dissolve_districts(admin)
    after = admin.post(f"/api/v1/rounds/{made.get_json()['id']}/allocate").get_json()
    assert after == before  # the tree of 1 September 2024, districts and all


def test_a_round_of_2025_2026_that_names_district_is_refused(admin):
    _dissolve_districts(admin)
    refused = _round(admin, "2025-2026", PER_DISTRICT)
    assert refused.status_code == 422, refused.get_json()
    body = refused.get_json()
    assert "không còn cấp huyện" in body["message"] and "district" in body["errors"]
    condition = {**PER_DISTRICT, "quotas": [], "eligibility": {"field": "district", "op": "ne", "value": "ST-TP"}}
    assert _round(admin, "2025-2026", condition).status_code == 422
    # Per unit instead: the communes directly under the province.
    per_unit = {**PER_DISTRICT, "quotas": [{"group": "unit", "max_awards": 1}]}
    made = _round(admin, "2025-2026", per_unit)
    assert made.status_code == 201, made.get_json()
    result = admin.post(f"/api/v1/rounds/{made.get_json()['id']}/allocate").get_json()
    assert len(result["awarded"]) == 2 and [w["reason"] for w in result["waitlisted"]] == ["quota"]


def test_a_round_allocated_before_the_districts_went_is_refused_after(admin):
    """Made for 2025-2026 while the tree still had districts (say in June 2025), allocated after they went."""
    made = _round(admin, "2025-2026", PER_DISTRICT)
    assert made.status_code == 201
    _dissolve_districts(admin)
    refused = admin.post(f"/api/v1/rounds/{made.get_json()['id']}/allocate")
    assert refused.status_code == 422 and "không còn cấp huyện" in refused.get_json()["message"]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_presets_run_on_the_two_level_tree(admin, preset):
    _dissolve_districts(admin)
    made = _round(admin, "2025-2026", copy.deepcopy(PRESETS[preset]))
    assert made.status_code == 201, made.get_json()
    assert admin.post(f"/api/v1/rounds/{made.get_json()['id']}/allocate").status_code == 200


def test_the_round_form_says_why(any_app, admin):
    import json

    from tests.web.conftest import PASSWORD, Browser

    _dissolve_districts(admin)
    create_user(_db.session, "hoidong", "committee", "ST", password=PASSWORD, full_name="Hội đồng")
    browser = Browser(any_app)
    assert browser.login("hoidong").status_code == 302
    browser.get("/rounds/new")
    form = {
        "name": "Học bổng 2025-2026",
        "academic_year": "2025-2026",
        "budget": "10.000.000",
        "unit": "ST",
        "fund": "KH",
        "source": "json",
        "rules": json.dumps(PER_DISTRICT),
    }
    page = browser.post("/rounds/new", form)
    assert page.status_code == 422 and "không còn cấp huyện" in page.get_data(as_text=True)
