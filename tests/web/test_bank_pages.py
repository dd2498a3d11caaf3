"""The bank pages through the login session: an account with its QR and pledges, the public giving page, the
statement upload and the matching queue (the browser flows: tests/web/test_bank_browser.py)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from fundsvc.bank import service, vietqr
from fundsvc.bank.models import Pledge, StatementLine
from fundsvc.donations.models import Donation
from fundsvc.extensions import db
from fundsvc.ledger.models import MoneyAccount
from fundsvc.units.models import Unit
from tests.bank.statement_samples import workbook

UNIT = "ST-TP-P2"


@pytest.fixture
def app(any_app):
    """Both engines (SQLite and PostgreSQL)."""
    return any_app


def bank_account(code: str = UNIT) -> MoneyAccount:
    db.session.rollback()  # a new read: what the requests wrote since
    owner = db.session.scalar(select(Unit.id).where(Unit.code == code))
    return db.session.scalar(select(MoneyAccount).where(MoneyAccount.unit_id == owner, MoneyAccount.kind == "bank"))


def pledges() -> list[Pledge]:
    db.session.rollback()
    return list(db.session.scalars(select(Pledge).order_by(Pledge.id)))


def statement_lines() -> list[StatementLine]:
    db.session.rollback()
    return list(db.session.scalars(select(StatementLine).order_by(StatementLine.id)))


@pytest.fixture
def treasurer(app, tree, make_user, browser):
    return browser(make_user("thuquy.nh", "treasurer", UNIT))


def upload(b, account_id, data: bytes, name="sao-ke.xlsx", **fields):
    return b.post(
        "/bank/statements",
        {"account": str(account_id), "file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_account_page_shows_the_qr_and_makes_prints_and_cancels_pledges(app, treasurer):
    account = bank_account()
    page = text(treasurer.get(f"/accounts/{account.id}"))
    assert account.account_number in page and f"/api/v1/accounts/{account.id}/qr.svg" in page
    assert f"/give/{UNIT}" in page and "Chưa có mã ủng hộ nào" in page
    assert treasurer.get("/bank").status_code == 200 and f"/accounts/{account.id}" in text(treasurer.get("/bank"))

    made = treasurer.post(
        f"/accounts/{account.id}/pledges",
        {"amount": "1.500.000", "donor_name": "Lê Văn Tám", "donor_phone": "0912 345 678", "purpose": "Tết 2027"},
    )
    assert made.status_code == 302, made.headers
    pledge = pledges()[0]
    assert (pledge.amount, pledge.donor["name"], pledge.account_id) == (1_500_000, "Lê Văn Tám", account.id)
    page = text(treasurer.get(f"/accounts/{account.id}"))
    assert pledge.code in page and f"/api/v1/pledges/{pledge.id}.pdf" in page and "1.500.000" in page
    assert treasurer.get(f"/api/v1/pledges/{pledge.id}.pdf").mimetype == "application/pdf"

    any_amount = treasurer.post(f"/accounts/{account.id}/pledges", {"amount": ""})
    assert any_amount.status_code == 302 and pledges()[-1].amount is None

    cancelled = treasurer.post(f"/pledges/{pledge.id}/cancel")
    assert cancelled.status_code == 302
    db.session.rollback()
    assert db.session.get(Pledge, pledge.id).status == "cancelled"
    again = treasurer.post(f"/pledges/{pledge.id}/cancel")  # no longer open: a message, not an error page
    assert again.status_code == 302 and "không còn mở" in text(treasurer.get(f"/accounts/{account.id}"))


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"amount": "abc"}, "amount", "Số tiền chỉ gồm chữ số"),
        ({"amount": "-5"}, "amount", "Số tiền chỉ gồm chữ số"),
        ({"amount": "100000000000000"}, "amount", "Số tiền phải từ 1 đồng"),
        ({"amount": "99999999999999999"}, "amount", "Số tiền phải từ 1 đồng"),
        ({"amount": "0"}, "amount", "Số tiền phải từ 1 đồng"),
        ({"donor_phone": "0912345678"}, "donor_name", "Cần tên nhà hảo tâm"),
        ({"donor_name": "A", "donor_phone": "gọi tôi"}, "donor_phone", "Số điện thoại không hợp lệ"),
    ],
)
def test_a_bad_pledge_form_is_answered_beside_its_field_and_stores_nothing(app, treasurer, form, field, message):
    answer = treasurer.post(f"/accounts/{bank_account().id}/pledges", form)
    assert answer.status_code == 422
    assert f'id="{field}-error"' in text(answer) and message in text(answer)
    assert pledges() == []


def test_bank_pages_keep_to_the_treasurers_of_the_unit(app, tree, make_user, browser, treasurer):
    account = bank_account()
    viewer = browser(make_user("xem.nh", "viewer", UNIT))
    assert viewer.get(f"/accounts/{account.id}").status_code == 403
    assert viewer.get("/bank/statements").status_code == 403
    assert 'href="/bank"' not in text(viewer.get("/")) and 'href="/bank"' in text(treasurer.get("/"))
    other = browser(make_user("thuquy.p5", "treasurer", "ST-TP-P5"))
    assert other.get(f"/accounts/{account.id}").status_code == 404
    assert other.get(f"/accounts/{account.id}/matching").status_code == 404
    assert other.post(f"/accounts/{account.id}/pledges", {"amount": "1000"}).status_code == 404
    assert upload(other, account.id, workbook("VCB")).status_code == 404


# The public page


def test_the_public_page_shows_the_unit_its_account_and_a_qr_for_the_amount_typed(app, tree, browser):
    public = browser()
    account = bank_account()
    page = public.get(f"/give/{UNIT}")
    assert page.status_code == 200 and "Hội Khuyến học phường 2" in text(page) and account.account_number in text(page)
    static = vietqr.payload(account.bank_bin, account.account_number, None, service.PUBLIC_MEMO)
    assert service.qr_svg(static, "Mã QR chuyển khoản") in text(page)
    with_amount = text(public.get(f"/give/{UNIT}?amount=200.000"))
    dynamic = vietqr.payload(account.bank_bin, account.account_number, 200_000, service.PUBLIC_MEMO)
    assert service.qr_svg(dynamic, "Mã QR chuyển khoản") in with_amount and "200.000 đ" in with_amount
    assert vietqr.parse(dynamic)["54"] == "200000"
    assert "<script" not in with_amount  # the QR is made on the server


@pytest.mark.parametrize("amount", ["-5", "abc", "1e9", "99999999999999999999", "0", "<script>", "12abc"])
def test_hostile_amounts_get_a_clear_message_and_the_any_amount_qr(app, tree, browser, amount):
    answer = browser().get(f"/give/{UNIT}", query_string={"amount": amount})
    assert answer.status_code == 422
    page = text(answer)
    assert 'id="amount-error"' in page and "<script>" not in page.split("<main>")[1]
    account = bank_account()
    static = vietqr.payload(account.bank_bin, account.account_number, None, service.PUBLIC_MEMO)
    assert service.qr_svg(static, "Mã QR chuyển khoản") in page


@pytest.mark.parametrize("code", ["NOPE", "ST-TP-P2'--", "%3Cscript%3E", "a" * 300, "..", "ST%00"])
def test_an_unknown_or_odd_unit_code_is_a_404_page(app, tree, browser, code):
    answer = browser().get(f"/give/{code}")
    assert answer.status_code == 404 and "Không tìm thấy đơn vị nhận ủng hộ" in text(answer)
    assert answer.mimetype == "text/html"


def test_a_unit_without_a_usable_bank_account_has_no_public_page(app, tree, browser):
    account = bank_account()
    account.bank_bin = None
    db.session.commit()
    assert browser().get(f"/give/{UNIT}").status_code == 404


def test_the_public_page_is_rate_limited_per_address(app, tree, browser):
    app.config["GIVE_RATE_LIMIT"] = "3/minute"
    public = browser()
    assert [public.get(f"/give/{UNIT}").status_code for _ in range(3)] == [200, 200, 200]
    refused = public.get(f"/give/{UNIT}")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Xin thử lại sau" in text(refused)
    other = app.test_client()
    assert other.get(f"/give/{UNIT}", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_a_giver_gets_a_personal_code_as_a_pledge_without_a_donor(app, tree, browser):
    public = browser()
    public.get(f"/give/{UNIT}?amount=300000")
    answer = public.post(f"/give/{UNIT}", {"amount": "300000", "account": str(bank_account().id)})
    assert answer.status_code == 201, text(answer)[:2000]
    pledge = pledges()[0]
    assert pledge.code in text(answer) and pledge.donor is None and pledge.amount == 300_000
    payload = vietqr.payload(bank_account().bank_bin, bank_account().account_number, 300_000, pledge.code)
    assert service.qr_svg(payload, "Mã QR chuyển khoản") in text(answer)
    assert public.post(f"/give/{UNIT}", {"amount": "300000"}, csrf=False).status_code == 400
    other_units = bank_account("ST-TP-P5").id
    refused = public.post(f"/give/{UNIT}", {"account": str(other_units)})
    assert refused.status_code == 422 and len(pledges()) == 1


# Statement upload and the matching queue


def test_an_upload_shows_its_counts_and_a_malformed_file_its_rows(app, treasurer):
    account = bank_account()
    rows = [
        ("01/10/2026", "FT1", None, 500_000, "ung ho"),
        ("01/10/2026", "FT2", 100_000, None, "phi"),
    ]
    answer = upload(treasurer, account.id, workbook("VCB", rows, continuation=False))
    assert answer.status_code == 200, text(answer)[:3000]
    page = text(answer)
    assert re.search(r'id="n-new">2<', page) and re.search(r'id="n-unmatched">2<', page)
    again = text(upload(treasurer, account.id, workbook("VCB", rows, continuation=False)))
    assert re.search(r'id="n-duplicates">2<', again) and re.search(r'id="n-new">0<', again)

    bad = [("31/02/2026", "B", None, 1000, "y"), ("01/10/2026", "C", None, "abc", "z")]
    refused = upload(treasurer, account.id, workbook("VCB", bad, continuation=False))
    assert refused.status_code == 422
    listed = text(refused)
    assert 'id="error-rows"' in listed and ">5</td>" in listed and ">6</td>" in listed and "chưa lưu gì" in listed
    assert upload(treasurer, account.id, b"not a workbook").status_code == 422
    assert treasurer.post("/bank/statements", {"account": str(account.id)}).status_code == 422
    assert len(statement_lines()) == 2


def test_a_file_of_another_bank_is_read_with_the_columns_named_in_the_form(app, treasurer):
    account = bank_account()
    csv = b"Ngay,So tien,Dien giai\n03/10/2026,250000,ung ho hoc bong\n03/10/2026,-20000,phi\n"
    refused = upload(treasurer, account.id, csv, "khac.csv")
    assert refused.status_code == 422 and "Không nhận ra mẫu sao kê" in text(refused)
    wrong = upload(treasurer, account.id, csv, "khac.csv", col_date="Ngay", col_description="Dien giai")
    assert wrong.status_code == 422 and "Cột số tiền" in text(wrong)
    mapped = upload(
        treasurer, account.id, csv, "khac.csv", col_date="Ngay", col_amount="So tien", col_description="Dien giai"
    )
    assert mapped.status_code == 200, text(mapped)[:3000]
    lines = statement_lines()
    assert [(line.amount, line.direction) for line in lines] == [(250_000, "in"), (20_000, "out")]

    # Remembered: the next upload of the account offers those columns and reads a file without naming them.
    form = text(treasurer.get(f"/bank/statements?account={account.id}"))
    assert 'id="col_amount" name="col_amount" maxlength="100" value="So tien"' in form
    assert 'id="col_debit" name="col_debit" maxlength="100" value=""' in form
    later = upload(treasurer, account.id, b"Ngay,So tien,Dien giai\n04/10/2026,90000,ung ho\n", "khac2.csv")
    assert later.status_code == 200, text(later)[:3000]
    assert len(statement_lines()) == 3


def test_the_queue_confirms_a_suggestion_attaches_a_donor_and_ignores_with_a_reason(app, treasurer):
    account = bank_account()
    treasurer.post(f"/accounts/{account.id}/pledges", {"amount": "700.000", "donor_name": "Bà Năm"})
    pledge = pledges()[0]
    near_miss = pledge.code.replace(" ", "")[:-1] + "9"  # one character off: only suggested
    rows = [
        ("05/10/2026", "FT7", None, 700_000, f"chuyen tien {near_miss}"),
        ("05/10/2026", "FT8", None, 300_000, "ung ho"),
        ("05/10/2026", "FT9", None, 40_000, "hoan tien"),
    ]
    assert upload(treasurer, account.id, workbook("BIDV", rows, continuation=False)).status_code == 200
    by_ref = {line.bank_reference: line for line in statement_lines()}
    suggested, unknown, refund = by_ref["FT7"], by_ref["FT8"], by_ref["FT9"]
    assert suggested.status == "suggested"

    queue = text(treasurer.get(f"/accounts/{account.id}/matching"))
    assert f'id="confirm-{suggested.id}"' in queue and "Bà Năm" in queue and f'id="line-{unknown.id}"' not in queue
    done = treasurer.post(f"/statement-lines/{suggested.id}/confirm", {"status": "suggested"})
    assert done.status_code == 302
    db.session.rollback()
    donation = db.session.get(Donation, db.session.get(StatementLine, suggested.id).donation_id)
    assert (donation.amount, donation.method, donation.donor.name) == (700_000, "bank_transfer", "Bà Năm")
    shown = text(treasurer.get(done.headers["Location"]))
    assert f'href="/donations/{donation.id}"' in shown and donation.receipt.code in shown

    unmatched = text(treasurer.get(f"/accounts/{account.id}/matching?status=unmatched"))
    assert f'id="confirm-{unknown.id}"' not in unmatched and f'id="attach-{unknown.id}"' in unmatched
    no_donor = treasurer.post(f"/statement-lines/{unknown.id}/confirm", {"status": "unmatched"})
    assert no_donor.status_code == 302 and "Cần chọn nhà tài trợ" in text(treasurer.get(no_donor.headers["Location"]))
    attached = treasurer.post(f"/statement-lines/{unknown.id}/confirm", {"donor_id": str(donation.donor_id)})
    assert attached.status_code == 302
    db.session.rollback()
    assert db.session.get(StatementLine, unknown.id).status == "matched"

    blank = treasurer.post(f"/statement-lines/{refund.id}/ignore", {"reason": "  "})
    assert "Cần ghi lý do" in text(treasurer.get(blank.headers["Location"]))
    treasurer.post(f"/statement-lines/{refund.id}/ignore", {"reason": "Hoàn phí"})
    db.session.rollback()
    settled = db.session.get(StatementLine, refund.id)
    assert (settled.status, settled.ignore_reason) == ("ignored", "Hoàn phí")
    ignored = text(treasurer.get(f"/accounts/{account.id}/matching?status=ignored"))
    assert "Hoàn phí" in ignored
    settled_again = treasurer.post(f"/statement-lines/{refund.id}/ignore", {"reason": "x"})
    assert settled_again.status_code == 302  # already settled: a message on the queue, not an error page
    assert treasurer.get("/statement-lines/999999/confirm").status_code == 405
    assert treasurer.post("/statement-lines/999999/confirm").status_code == 404
