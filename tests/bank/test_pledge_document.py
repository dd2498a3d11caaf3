"""The pledge printed as a poster or letter: the unit's identity, the account, the amount, the memo code and a QR
that decodes to the pledge's own VietQR."""

from __future__ import annotations

import io

import pypdf
import pytest

from fundsvc.bank import vietqr

UNIT = "ST-TP-P2"


@pytest.fixture
def app(any_app):
    """Both engines (SQLite and PostgreSQL)."""
    return any_app


@pytest.fixture
def treasurer(app, tree, make_api):
    return make_api(app, "treasurer", UNIT)


def pledge(api, **body):
    answer = api.post("/api/v1/pledges", {"unit": UNIT, **body})
    assert answer.status_code == 201, answer.json
    return answer.json


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_pledge_poster_prints_the_unit_the_account_the_amount_and_the_code(app, treasurer):
    made = pledge(treasurer, amount=2_500_000, donor={"name": "Trần Thị Bích"}, purpose="Học bổng Tết 2027")
    answer = treasurer.get(f"/api/v1/pledges/{made['id']}.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert made["code"].replace(" ", "") in answer.headers["Content-Disposition"]
    text = pdf_text(answer.data)
    assert len(pypdf.PdfReader(io.BytesIO(answer.data)).pages) == 1
    for expected in ("HỘI KHUYẾN HỌC PHƯỜNG 2", "2.500.000", made["code"], "Trần Thị Bích", "Học bổng Tết 2027"):
        assert expected.lower() in text.lower(), expected
    account = next(a for a in treasurer.get(f"/api/v1/units/{UNIT}/accounts").json if a["kind"] == "bank")
    assert account["account_number"] in text


def test_a_pledge_without_amount_or_donor_asks_for_any_amount(app, treasurer):
    made = pledge(treasurer)
    text = pdf_text(treasurer.get(f"/api/v1/pledges/{made['id']}.pdf").data)
    assert "Tùy tấm lòng" in text and made["code"] in text and "Kính gửi" not in text


def test_the_poster_qr_is_the_pledges_vietqr(app, treasurer):
    from fundsvc.bank import documents, service
    from fundsvc.bank.models import Pledge
    from fundsvc.documents.render import render_html
    from fundsvc.documents.service import DocumentSettings
    from fundsvc.extensions import db

    made = pledge(treasurer, amount=300_000)
    account = next(a for a in treasurer.get(f"/api/v1/units/{UNIT}/accounts").json if a["kind"] == "bank")
    payload = treasurer.get(f"/api/v1/accounts/{account['id']}/qr.txt?amount=300000&memo={made['code']}").text
    assert vietqr.parse(payload)["54"] == "300000"
    context = documents.pledge_context(
        db.session, db.session.get(Pledge, made["id"]), payload, DocumentSettings.from_config(app.config)
    )
    html = render_html(documents.TEMPLATE, context)
    assert service.qr_svg(payload, f"VietQR {made['code']}") in html


def test_another_units_treasurer_cannot_print_it(app, treasurer, make_api):
    made = pledge(treasurer)
    outsider = make_api(app, "treasurer", "ST-TP-P5")
    assert outsider.get(f"/api/v1/pledges/{made['id']}.pdf").status_code == 404
