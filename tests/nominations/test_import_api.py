"""POST /nominations/import and the nomination endpoints, through the API."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from tests.conftest import SHARED_DATA

SAMPLE = (SHARED_DATA / "nominations_sample.csv").read_bytes()


def upload(api, data: bytes, name: str = "ds.csv", year: str = "2024-2025", **extra):
    return api.client.post(
        "/api/v1/nominations/import",
        data={"file": (BytesIO(data), name), "academic_year": year, **extra},
        headers={"Authorization": f"Bearer {api.token}"},
        content_type="multipart/form-data",
    )


def test_sample_imports_in_row_order(admin):
    response = upload(admin, SAMPLE)
    assert response.status_code == 200 and response.json["created"] == 120 and response.json["updated"] == 0
    listing = admin.get("/api/v1/nominations?academic_year=2024-2025&page_size=1000").json
    assert [n["student_code"] for n in listing] == [f"HS07{i:05d}" for i in range(1, 121)]
    assert listing == sorted(listing, key=lambda n: n["id"])
    first = listing[0]
    assert first["full_name"] == "Phan Thanh Bình" and first["birth_date"] == "2011-01-03"
    assert first["household"] == "poor" and first["level"] == "lower_secondary" and first["gpa"] == "7.0"
    assert first["unit"] == "ST-MX-DT" and first["conduct"] == "excellent" and first["academic_result"] == "good"


def test_reimport_updates_and_dry_run_stores_nothing(admin):
    assert upload(admin, SAMPLE, dry_run="true").json == {"created": 120, "updated": 0, "dry_run": True, "warnings": []}
    assert admin.get("/api/v1/nominations").json == []
    upload(admin, SAMPLE)
    again = upload(admin, SAMPLE.replace("Phan Thanh Bình".encode(), "Phan Thanh Bính".encode()))
    assert again.json["created"] == 0 and again.json["updated"] == 120
    listing = admin.get("/api/v1/nominations?page_size=1000").json
    assert len(listing) == 120 and listing[0]["full_name"] == "Phan Thanh Bính"


def test_bad_file_reports_every_row_and_stores_nothing(admin):
    lines = SAMPLE.decode("utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    broken = [
        rows[0].replace("03/01/2011", "31/02/2010"),
        rows[1].replace("7.6", "11"),
        rows[2].replace("ST-TP-P5", "ST-XX"),
        rows[3],
        rows[3],
    ]
    data = "\n".join([header, *broken]).encode()
    response = upload(admin, data)
    assert response.status_code == 422
    errors = response.json["errors"]["rows"]
    by_row = {(e["row"], e["column"]) for e in errors}
    assert (2, "Ngày sinh") in by_row and (3, "Điểm TB") in by_row and (4, "Mã đơn vị") in by_row
    assert any(e["row"] == 6 for e in errors)  # the duplicate of row 5
    assert admin.get("/api/v1/nominations").json == []


def test_scope_viewer_and_roles(app, admin, make_api):
    commune = make_api(app, "committee", "ST-TP-P2")
    response = upload(commune, SAMPLE)
    assert response.status_code == 422  # the sample nominates into other communes too
    assert upload(make_api(app, "treasurer", "ST"), SAMPLE).status_code == 403
    upload(admin, SAMPLE)
    viewer = make_api(app, "viewer", "ST")
    seen = viewer.get("/api/v1/nominations?page_size=5").json[0]
    assert "birth_date" not in seen and "household" not in seen and "guardian" not in seen
    assert "disability" not in seen and seen["full_name"]
    district = make_api(app, "committee", "ST-MX")
    assert {n["unit"][:5] for n in district.get("/api/v1/nominations?page_size=1000").json} == {"ST-MX"}


def test_patch_withdraw_and_export(admin):
    upload(admin, SAMPLE)
    nomination = admin.get("/api/v1/nominations").json[0]
    patched = admin.patch(f"/api/v1/nominations/{nomination['id']}", {"gpa": 8.5, "household": "near_poor"})
    assert patched.status_code == 200 and patched.json["gpa"] == "8.5" and patched.json["household"] == "near_poor"
    assert admin.patch(f"/api/v1/nominations/{nomination['id']}", {"gpa": 11}).status_code == 422
    withdrawn = admin.post(f"/api/v1/nominations/{nomination['id']}/withdraw", {"reason": "Chuyển trường"})
    assert withdrawn.json["status"] == "withdrawn" and withdrawn.json["withdrawal_reason"] == "Chuyển trường"
    assert admin.post(f"/api/v1/nominations/{nomination['id']}/withdraw", {}).status_code == 422  # a reason is needed
    assert admin.post(f"/api/v1/nominations/{nomination['id']}/withdraw", {"reason": "Lần nữa"}).status_code == 409
    audit = admin.get("/api/v1/audit?entity=nomination").json
    assert {e["action"] for e in audit} == {"nomination.update", "nomination.withdraw"}
    exported = admin.get("/api/v1/nominations.xlsx?academic_year=2024-2025")
    assert exported.status_code == 200
    sheet = load_workbook(BytesIO(exported.data)).active
    assert sheet.max_row == 121
    template = admin.get("/api/v1/nominations/template.xlsx")
    assert template.status_code == 200 and load_workbook(BytesIO(template.data)).active.data_validations.dataValidation


def test_a_correction_rederives_what_the_import_derives(admin):
    # The import's rules (fundsvc/students/rules.py) apply to a correction as to the file: the minority flag
    # from the ethnicity, the grade number and level from the class, unless the correction gives them.
    upload(admin, SAMPLE)
    first = admin.get("/api/v1/nominations?page_size=1").json[0]  # Kinh, 8B, THCS
    url = f"/api/v1/nominations/{first['id']}"
    assert (first["ethnic_minority"], first["grade_number"], first["level"]) == (False, 8, "lower_secondary")
    patched = admin.patch(url, {"ethnicity": "Khmer", "grade": "10A1"}).json
    assert (patched["ethnic_minority"], patched["grade_number"], patched["level"]) == (True, 10, "upper_secondary")
    patched = admin.patch(url, {"ethnicity": "kinh", "grade": "Năm 2"}).json
    assert (patched["ethnic_minority"], patched["grade_number"], patched["level"]) == (False, 2, "university")
    patched = admin.patch(url, {"grade": "K45"}).json  # a class the rule cannot read: the level stays
    assert (patched["grade"], patched["grade_number"], patched["level"]) == ("K45", None, "university")
    patched = admin.patch(url, {"grade": "7C", "level": "university"}).json  # a level given is kept
    assert (patched["grade_number"], patched["level"]) == (7, "university")


def test_overlong_text_is_a_row_error(admin):
    lines = SAMPLE.decode("utf-8").splitlines()
    data = "\n".join([lines[0], lines[1].replace("Phan Thanh Bình", "Phan " + "A" * 300)]).encode()
    response = upload(admin, data)
    assert response.status_code == 422
    assert response.json["errors"]["rows"][0]["row"] == 2
