"""A gift or payment is never dated after today in Asia/Ho_Chi_Minh (docs/books.md "Dates and periods";
issue 17, finding 12)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundsvc.documents.words import today_in_vietnam

GIFT = {"donor": {"name": "Nguyễn Văn A", "kind": "person"}, "unit": "ST-TP-P2", "amount": 100000, "method": "cash"}


@pytest.fixture
def treasurer(app, tree, make_api):
    return make_api(app, "treasurer", "ST-TP-P2")


@pytest.mark.parametrize("received_on", ["9999-12-31", "2099-01-01", "tomorrow"])
def test_a_future_gift_is_refused(treasurer, received_on):
    if received_on == "tomorrow":
        received_on = (today_in_vietnam() + timedelta(days=1)).isoformat()
    response = treasurer.post("/api/v1/donations", json={**GIFT, "received_on": received_on})
    assert response.status_code == 422
    assert "received_on" in response.json["errors"]
    assert today_in_vietnam().strftime("%d/%m/%Y") in response.json["errors"]["received_on"][0]


def test_today_in_vietnam_is_accepted(treasurer):
    response = treasurer.post("/api/v1/donations", json={**GIFT, "received_on": today_in_vietnam().isoformat()})
    assert response.status_code == 201, response.json
