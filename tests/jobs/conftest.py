"""A round big enough to be rendered by the job queue (the threshold set low), on both engines."""

from __future__ import annotations

from datetime import date

import pytest

from fundsvc.extensions import db as _db
from tests.ceremony.conftest import make_round

THRESHOLD = 20  # rows: documents with more go through the queue in these tests
_SCHOOLS = [
    ("Trường THCS Lê Lợi", "ST-TP-P2", "lower_secondary", "7A", 1_000_000),
    ("Trường TH Phường 2", "ST-TP-P2", "primary", "3A", 500_000),
    ("Trường THPT Hoàng Diệu", "ST-TP-P5", "upper_secondary", "11A1", 1_500_000),
    ("Trường THCS Đại Tâm", "ST-MX-DT", "lower_secondary", "9A", 1_000_000),
]
_NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu", "Phạm Ngọc Dung", "Huỳnh Văn Em", "Võ Thị Giang"]


def pupils(n: int) -> list[tuple]:
    """`n` approved awards spread over four schools of three units (the shape of tests.ceremony's PUPILS)."""
    rows = []
    for i in range(n):
        school, unit, level, grade, amount = _SCHOOLS[i % len(_SCHOOLS)]
        name = f"{_NAMES[i % len(_NAMES)]} {i}"
        rows.append((name, date(2012, 1 + i % 12, 1 + i % 28), grade, school, unit, level, amount, None, "approved"))
    return rows


def job_config(app, tmp_path, **more) -> None:
    app.config.update(
        JOB_THRESHOLD=THRESHOLD, DOCUMENTS_CACHE_DIR=str(tmp_path / "documents"), JOB_LEASE_SECONDS=3, **more
    )


@pytest.fixture
def big_round(any_app, tmp_path) -> int:
    """An approved round of 60 awards on the engine of `any_app`, whose documents are jobs."""
    job_config(any_app, tmp_path)
    return make_round(_db.session, pupils(60)).id
