"""A big list taken away is written by the job queue (issue 22): 202 with the job, the same bytes as written in the
request, one job for identical requests until the data changes, and a treasurer's export with donors' phones seen by
no role that does not see them."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from fundsvc.documents import lists
from fundsvc.extensions import db
from tests.jobs.conftest import THRESHOLD, job_config
from tests.jobs.test_jobs_api import committee_actor, work


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def many_gifts(any_app, tmp_path, tree, make_api):
    """THRESHOLD + 5 gifts to ST-TP-P2, whose list is a job."""
    job_config(any_app, tmp_path)
    treasurer = make_api(any_app, "treasurer", "ST-TP", username="thuquy")
    for i in range(THRESHOLD + 5):
        body = {
            "unit": "ST-TP-P2",
            "amount": 100_000 + i,
            "method": "cash",
            "received_on": "2024-10-01",
            "donor": {"name": f"Nhà hảo tâm {i}", "kind": "person", "phone": f"09120000{i:02d}"},
        }
        assert treasurer.post("/api/v1/donations", body).status_code == 201
    return treasurer


def test_a_big_export_is_a_job_with_the_bytes_the_request_would_write(any_app, many_gifts):
    response = many_gifts.get("/api/v1/donations/export.xlsx?from=2024-10-01")
    assert response.status_code == 202
    job = response.get_json()
    assert job["rows"] == THRESHOLD + 5 and job["kind"] == "donations-contact.xlsx"
    again = many_gifts.get("/api/v1/donations/export.xlsx?from=2024-10-01")
    assert again.get_json()["id"] == job["id"]  # identical requests join one job
    work(any_app)
    done = many_gifts.get(job["url"]).get_json()
    assert done["state"] == "done", done
    data = many_gifts.get(done["download"]).data
    expected = io.BytesIO()
    lists.write(db.session, committee_actor("thuquy"), "donations", "xlsx", {"date_from": _day()}, expected)
    assert _cells(data) == _cells(expected.getvalue())
    rows = _cells(data)
    assert any("0912000000" in str(v) for r in rows for v in r)  # the treasurer's copy has the phones
    # A gift voided since: the same request is a new job.
    first = many_gifts.get("/api/v1/donations?page_size=1").get_json()[0]["id"]
    assert many_gifts.post(f"/api/v1/donations/{first}/void", {"reason": "ghi nhầm"}).status_code == 200
    assert many_gifts.get("/api/v1/donations/export.xlsx?from=2024-10-01").get_json()["id"] != job["id"]


@pytest.mark.parametrize(("role", "sees"), [("viewer", False), ("committee", False), ("treasurer", True)])
def test_who_sees_a_treasurers_export_with_phones(any_app, many_gifts, make_api, role, sees):
    job = many_gifts.get("/api/v1/donors/export.csv").get_json()
    assert job["kind"] == "donors-contact.csv"
    other = make_api(any_app, role, "ST-TP")
    assert other.get(f"/api/v1/jobs/{job['id']}").status_code == (200 if sees else 404)


def test_a_viewers_big_export_has_no_phones(any_app, many_gifts, make_api):
    viewer = make_api(any_app, "viewer", "ST-TP")
    job = viewer.get("/api/v1/donations/export.csv").get_json()
    assert job["kind"] == "donations.csv"
    work(any_app)
    text = viewer.get(f"/api/v1/jobs/{job['id']}/file").data.decode("utf-8-sig")
    assert "Nhà hảo tâm 3" in text and "091200" not in text


def _day():
    from datetime import date

    return date(2024, 10, 1)


def _cells(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
