"""The books and the period's receipts as jobs, on both engines: over the threshold 202 and the worker's file,
the same document the request would have answered inline."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from fundsvc.extensions import db
from tests.jobs.conftest import THRESHOLD, job_config
from tests.jobs.test_jobs_api import work
from tests.reports.conftest import give

GIFTS = THRESHOLD + 5


@pytest.fixture
def busy_commune(any_app, tmp_path):
    """A commune with more cash gifts in March 2024 than the threshold's lines."""
    job_config(any_app, tmp_path)
    for day in range(GIFTS):
        give(db.session, "ST-TP-P2", 100_000 + day, on=date(2024, 3, 1 + day % 28))
    return "ST-TP-P2"


def through_the_queue(app, api, url: str):
    """The document at `url` asked for, rendered by a worker and downloaded; with the job's status."""
    response = api.get(url)
    assert response.status_code == 202, response.get_data(as_text=True)
    work(app)
    job = api.get(response.headers["Location"]).get_json()
    assert job["state"] == "done", job["error"]
    return api.get(job["download"]), job


def inline(app, api, url: str):
    """The same document answered in the request (threshold out of reach)."""
    app.config["JOB_THRESHOLD"] = 10**9
    try:
        response = api.get(url)
    finally:
        app.config["JOB_THRESHOLD"] = THRESHOLD
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("ext", ["pdf", "xlsx"])
def test_a_long_cash_book_is_a_job_with_the_inline_bytes(any_app, busy_commune, make_api, ext):
    api = make_api(any_app, "treasurer", busy_commune)
    url = f"/api/v1/reports/cash-book.{ext}?unit={busy_commune}&from=2024-03-01&to=2024-03-31"
    document, job = through_the_queue(any_app, api, url)
    assert job["kind"] == f"cash-book.{ext}" and job["rows"] >= GIFTS
    assert job["filename"] == f"so-quy-tien-mat-{busy_commune}-2024-03-01-2024-03-31.{ext}"
    if ext == "pdf":
        assert document.data == inline(any_app, api, url).data
    else:
        rows = list(load_workbook(io.BytesIO(document.data)).active.iter_rows(values_only=True))
        again = list(load_workbook(io.BytesIO(inline(any_app, api, url).data)).active.iter_rows(values_only=True))
        assert rows == again


@pytest.mark.parametrize("ext", ["pdf", "xlsx"])
def test_a_long_fund_book_is_a_job(any_app, busy_commune, make_api, ext):
    api = make_api(any_app, "treasurer", busy_commune)
    url = f"/api/v1/reports/fund-book.{ext}?unit={busy_commune}&from=2024-03-01&to=2024-03-31"
    document, job = through_the_queue(any_app, api, url)
    assert job["kind"] == f"fund-book.{ext}" and job["rows"] == GIFTS
    if ext == "pdf":
        assert document.data == inline(any_app, api, url).data
    else:
        assert load_workbook(io.BytesIO(document.data)).active.max_row > GIFTS


def test_the_periods_receipts_are_a_job_with_progress(any_app, busy_commune, make_api):
    api = make_api(any_app, "treasurer", busy_commune)
    url = f"/api/v1/receipts.pdf?unit={busy_commune}&from=2024-03-01&to=2024-03-31"
    document, job = through_the_queue(any_app, api, url)
    assert job["rows"] == GIFTS and job["progress"] == {"done": GIFTS, "total": GIFTS, "percent": 100}
    assert len(PdfReader(io.BytesIO(document.data)).pages) == len(
        PdfReader(io.BytesIO(inline(any_app, api, url).data)).pages
    )


def test_a_book_outside_the_scope_is_refused_before_any_job(any_app, busy_commune, make_api):
    api = make_api(any_app, "treasurer", "ST-MX")
    response = api.get(f"/api/v1/reports/cash-book.pdf?unit={busy_commune}")
    assert response.status_code == 403
    assert set(response.get_json()) == {"code", "status", "message", "errors"}


def test_an_account_id_beyond_the_database_is_refused_in_the_contract_shape(any_app, tmp_path, make_api):
    job_config(any_app, tmp_path)
    api = make_api(any_app, "treasurer", "ST")
    response = api.get(f"/api/v1/reports/bank-book.pdf?account={10**25}")
    assert response.status_code == 422
    assert set(response.get_json()) == {"code", "status", "message", "errors"}


@pytest.fixture
def progress_written(monkeypatch):
    """Every progress a job writes, (done, total) in order: written at each step (not at most twice a second),
    and the books printed in chunks of 5 lines (so a book of the threshold's size has several)."""
    from fundsvc.jobs import service
    from fundsvc.reports import books

    written = []
    original = service._set

    def recording(engine, job_id, owner, **values):
        if isinstance(values.get("progress_done"), int):
            written.append((values["progress_done"], values["progress_total"]))
        return original(engine, job_id, owner, **values)

    monkeypatch.setattr(service, "PROGRESS_EVERY_SECONDS", 0)
    monkeypatch.setattr(service, "_set", recording)
    monkeypatch.setattr(books, "CHUNK_LINES", 5)
    return written


def _bank_account(api, unit: str) -> int:
    return next(a["id"] for a in api.get(f"/api/v1/units/{unit}/accounts").get_json() if a["kind"] == "bank")


@pytest.mark.parametrize("kind", ["cash-book", "bank-book", "fund-book", "receipts"])
def test_a_book_job_reports_its_progress_as_it_goes(any_app, busy_commune, make_api, progress_written, kind):
    """Progress moves from the first chunk to the last through the values between, never back, and the job
    answers 100 % once done; the document is the one the request renders inline (in chunks as well)."""
    api = make_api(any_app, "treasurer", busy_commune)
    period = "from=2024-03-01&to=2024-03-31"
    if kind == "bank-book":
        for day in range(GIFTS):
            give(db.session, busy_commune, 200_000 + day, on=date(2024, 3, 1 + day % 28), method="bank_transfer")
        url = f"/api/v1/reports/bank-book.pdf?account={_bank_account(api, busy_commune)}&{period}"
    elif kind == "receipts":
        url = f"/api/v1/receipts.pdf?unit={busy_commune}&{period}"
    else:
        url = f"/api/v1/reports/{kind}.pdf?unit={busy_commune}&{period}"
    document, job = through_the_queue(any_app, api, url)
    assert job["progress"]["percent"] == 100
    (total,) = {total for _, total in progress_written}
    done = [d for d, _ in progress_written]
    assert done == sorted(set(done)), progress_written  # strictly rising
    assert [d for d in done if 0 < d < total], progress_written  # through values between
    assert done[-1] == total and total >= (GIFTS if kind == "receipts" else 2 * (GIFTS // 5))
    if kind != "receipts":  # receipts' bytes are compared in test_the_periods_receipts_are_a_job_with_progress
        assert document.data == inline(any_app, api, url).data
