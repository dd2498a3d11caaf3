"""The summary and publishing on both engines (SQLite and PostgreSQL): sums, JSONB snapshots, corrections."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from fundsvc.auth.service import SYSTEM
from fundsvc.documents.service import DocumentSettings
from fundsvc.errors import Conflict
from fundsvc.extensions import db
from fundsvc.ledger.models import Fund
from fundsvc.ledger.service import balance
from fundsvc.reports import service
from tests.reports.conftest import give, pay_award, void


@pytest.fixture
def session(any_app):
    return db.session


def test_summary_and_publish_on_each_engine(any_app, session):
    give(session, "ST-TP-P2", 3_000_000_000, on=date(2024, 1, 5), method="bank_transfer")
    give(session, "ST-TP-P2", 2_500_000, on=date(2024, 1, 6))  # the cash the award below is paid from
    gone = give(session, "ST-MX-DT", 700_000, on=date(2024, 2, 5))
    give(session, "ST-MX-DT", 1_200_000, fund="KH", on=date(2024, 3, 5), anonymous=True)
    void(session, gone.id)
    pay_award(session, "KH-ST-TP-P2", "ST-TP-P2", 2_500_000, on=date(2024, 9, 9))

    body = service.summary(session, SYSTEM, unit="ST")
    # The voided gift counts nowhere: neither in the income nor subtracted from it.
    assert body["totals"]["in"]["total"] == 3_003_700_000
    assert body["totals"]["closing_balance"] == 3_003_700_000 - 2_500_000
    for row in body["funds"]:
        fund = session.scalar(select(Fund).where(Fund.code == row["code"]))
        assert row["balance"] == balance(session, fund.id)

    settings = DocumentSettings.from_config(any_app.config)
    first = service.publish(session, SYSTEM, "ST", 2024, settings)
    with pytest.raises(Conflict):
        service.publish(session, SYSTEM, "ST", 2024, settings)
    give(session, "ST-TD-LHT", 100_000, fund="KH", on=date(2024, 12, 1))
    second = service.publish(session, SYSTEM, "ST", 2024, settings)
    assert (first.version, second.version) == (1, 2)
    assert any(c["item"] == "Tổng thu" and c["after"] - c["before"] == 100_000 for c in second.changes)
    html = service.public_html(session, "ST", 2024)
    assert "Đính chính ngày" in html and "Nhà hảo tâm ẩn danh" in html
