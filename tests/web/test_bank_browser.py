"""End-to-end, in headless Chromium: the bank pages at phone (390×844) and desktop (1366×768) size. A treasurer
makes and cancels pledges, uploads statements (a good one and a malformed one) and settles the matching queue by
keyboard; a giver opens the public page without logging in. Screenshots go to artifacts/screenshots/bank-*.png;
no page may scroll sideways on the phone."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest

from tests.web import test_browser
from tests.web.test_browser import (
    DESKTOP,
    PASSWORD,
    PHONE,
    SIZES,
    browser_pages,
    full_page_shot,
    no_english,
    served,
    sync_api,
)

expect = sync_api.expect
chromium = test_browser.chromium  # the browser fixture both files share
pytestmark = pytest.mark.slow
# Words of the English catalogue: on a page, a string left out of its Vietnamese.
ENGLISH_WORDS = ("Pledge", "Statement", "Confirm", "Ignore", "Upload", "None")
UNIT = "ST-TP-P2"


@pytest.fixture(scope="module")
def bank_server(sqlite_template, tmp_path_factory):
    """The app on a copy of the template database with a treasurer, a donor and a statement file to import."""

    from fundsvc import create_app
    from fundsvc.auth.service import SYSTEM, create_user
    from fundsvc.donations.service import record_donation
    from fundsvc.extensions import db

    path = tmp_path_factory.mktemp("bank") / "web.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bank-browser-tests"})
    with app.app_context():
        create_user(db.session, "thuquy.bank", "treasurer", UNIT, password=PASSWORD, full_name="Lâm Thị Mai")
        record_donation(
            db.session,
            SYSTEM,
            {
                "donor": {"name": "Nguyễn Thị Hoa", "kind": "person", "phone": "0918 222 333"},
                "unit": UNIT,
                "amount": 100_000,
                "method": "cash",
                "received_on": date(2026, 9, 1),
            },
        )
        db.session.remove()
    yield from served(app)


@pytest.fixture
def open_page(chromium, bank_server):
    with browser_pages(chromium, bank_server) as make:
        yield make


def shot(page, name: str) -> None:
    full_page_shot(page, name, prefix="bank")


def open_account(page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Ngân hàng").click()
    page.locator("#bank-accounts a").first.click()
    expect(page.locator("h1")).to_contain_text("Tiền gửi Vietcombank")


def make_pledge(page, amount: str, donor: str = "") -> str:
    page.fill("#amount", amount)
    if donor:
        page.fill("#donor_name", donor)
    page.click("#create-pledge")
    flash = page.locator(".flash-success")
    expect(flash).to_contain_text("Đã tạo mã ủng hộ")
    return re.search(r"KH \w+ \d{5}", flash.inner_text()).group(0)


def statement(rows) -> bytes:
    from tests.bank.statement_samples import workbook

    return workbook("VCB", rows, continuation=False)


def upload(page, data: bytes, name: str = "sao-ke.xlsx") -> None:
    page.goto("/bank/statements")
    page.set_input_files("#file", files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])
    page.click("#upload")


@SIZES
def test_the_account_page_makes_prints_and_cancels_pledges(open_page, size):
    page = open_page(size, "thuquy.bank")
    open_account(page)
    expect(page.locator(".qr-image")).to_be_visible()
    assert page.evaluate("document.querySelector('.qr-image').naturalWidth") > 0  # the QR image loads
    code = make_pledge(page, "1500000", "Trần Văn Ba")
    row = page.locator("#pledges tr", has_text=code)
    expect(row).to_contain_text("1.500.000")
    expect(row).to_contain_text("Trần Văn Ba")
    pdf = row.get_by_role("link", name="In thư / áp phích").get_attribute("href")
    answer = page.request.get(pdf)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    other = make_pledge(page, "")
    page.locator("#pledges tr", has_text=other).get_by_role("button", name="Hủy mã").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Đã hủy mã ủng hộ {other}")
    expect(page.locator("#pledges tr", has_text=other)).to_contain_text("Đã hủy")
    no_english(page, ENGLISH_WORDS)
    shot(page, "account")
    page.fill("#amount", "0")  # the field keeps digits only as you type; the server bounds the amount
    page.click("#create-pledge")
    expect(page.locator("#amount-error")).to_contain_text("Số tiền phải từ 1 đồng")
    shot(page, "account-error")


@SIZES
def test_a_giver_opens_the_public_page_types_an_amount_and_gets_a_personal_code(open_page, size):
    page = open_page(size)
    page.goto(f"/give/{UNIT}")
    expect(page.locator("#unit-name")).to_have_text("Hội Khuyến học phường 2")
    qr = page.locator(".qr-wrap svg").first
    before = qr.inner_html()
    shot(page, "give")
    page.fill("#amount", "200.000")
    page.keyboard.press("Enter")
    expect(page.locator("#qr-amount")).to_have_text("200.000 đ")
    assert page.locator(".qr-wrap svg").first.inner_html() != before  # a new QR, with the amount
    shot(page, "give-amount")
    page.fill("#amount", "-50")
    page.click("#amount-submit")
    expect(page.locator("#amount-error")).to_contain_text("Số tiền chỉ gồm chữ số")
    page.goto(f"/give/{UNIT}?amount=300000")
    page.click("#code-submit")
    expect(page.locator("#personal-code .memo")).to_have_text(re.compile(r"KH P2 \d{5}"))
    shot(page, "give-code")
    page.goto("/give/KHONG-CO")
    expect(page.locator("#refused")).to_contain_text("Không tìm thấy đơn vị nhận ủng hộ")
    shot(page, "give-404")


@SIZES
def test_a_statement_upload_shows_its_counts_and_a_bad_file_its_rows(open_page, size):
    page = open_page(size, "thuquy.bank")
    tag = size["width"]  # each size imports its own lines
    upload(
        page,
        statement([("02/10/2026", f"UP{tag}A", None, 250_000, "ung ho"), ("02/10/2026", f"UP{tag}B", 5, None, "phi")]),
    )
    expect(page.locator("#n-new")).to_have_text("2")
    expect(page.locator("#n-unmatched")).to_have_text("2")
    no_english(page, ENGLISH_WORDS)
    shot(page, "upload")
    upload(page, statement([("31/02/2026", "X1", None, 1000, "a"), ("01/10/2026", "X2", None, "abc", "b")]))
    rows = page.locator("#error-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("5")
    expect(page.locator("#import-error")).to_contain_text("chưa lưu gì")
    shot(page, "upload-error")


@SIZES
def test_the_matching_queue_confirms_with_enter_attaches_a_donor_and_ignores(open_page, size):
    page = open_page(size, "thuquy.bank")
    open_account(page)
    code = make_pledge(page, "700000", "Bà Năm")
    tag = size["width"]
    near_miss = code.replace(" ", "")[:-1] + ("8" if code[-1] != "8" else "7")
    rows = [
        ("06/10/2026", f"Q{tag}1", None, 700_000, f"chuyen tien {near_miss}"),
        ("06/10/2026", f"Q{tag}2", None, 450_000, f"ung ho hoc sinh ngheo {tag}"),
        ("06/10/2026", f"Q{tag}3", None, 11_000, f"hoan phi sms {tag}"),
    ]
    upload(page, statement(rows))
    page.click("#to-queue")
    item = page.locator(".queue-item", has_text=near_miss)
    expect(item).to_contain_text("Bà Năm")
    shot(page, "queue")
    item.focus()
    page.keyboard.press("Enter")  # one key confirms the suggestion
    flash = page.locator(".flash-success")
    expect(flash).to_contain_text("Đã ghi khoản ủng hộ 700.000 đồng của Bà Năm")
    flash.get_by_role("link", name="Xem").click()
    expect(page.locator("main")).to_contain_text("700.000")
    page.go_back()

    page.locator("#tab-unmatched").click()
    unknown = page.locator(".queue-item", has_text=f"ung ho hoc sinh ngheo {tag}")
    search = unknown.locator("input[data-donor-search]")
    search.click()
    page.keyboard.type("Nguyễn Thị")
    expect(unknown.locator(".combo-list li").first).to_contain_text("Nguyễn Thị Hoa")
    shot(page, "queue-search")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # picks the donor; the focus moves to the button
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("450.000 đồng của Nguyễn Thị Hoa")

    refund = page.locator(".queue-item", has_text=f"hoan phi sms {tag}")
    refund.locator("input[name=reason]").fill("Hoàn phí tin nhắn")
    refund.get_by_role("button", name="Bỏ qua").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã bỏ qua dòng")
    page.locator("#tab-ignored").click()
    expect(page.locator(".queue-item", has_text=f"hoan phi sms {tag}")).to_contain_text("Hoàn phí tin nhắn")
    no_english(page, ENGLISH_WORDS)
    shot(page, "queue-ignored")


def test_keyboard_focus_starts_on_the_first_line_of_the_queue(open_page):
    page = open_page(DESKTOP, "thuquy.bank")
    upload(page, statement([("07/10/2026", "FOCUS1", None, 12_345, "ung ho")]))
    page.click("#to-queue")
    page.locator("#tab-unmatched").click()
    expect(page.locator(".queue-item").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.className") == "queue-item"


@SIZES
def test_the_reconciliation_page_compares_the_banks_balance_with_the_books(open_page, size):
    page = open_page(size, "thuquy.bank")
    day = 20 if size == PHONE else 21  # each size its own last statement day
    header = "STT,Ngày giao dịch,Số tham chiếu,Số tiền ghi nợ,Số tiền ghi có,Số dư,Mô tả\n"
    upload(page, f"{header}1,{day}/11/2026,REC{day},,75.000,9.999.000,ung ho cuoi thang\n".encode(), "vcb.csv")
    expect(page.locator("#n-new")).to_have_text("1")
    open_account(page)
    page.click("#reconcile-link")
    expect(page.locator("h1")).to_have_text("Đối chiếu số dư")
    page.fill("#on", f"2026-11-{day}")
    page.click("#on-form button")
    expect(page.locator("#bank-balance")).to_contain_text("9.999.000")
    expect(page.locator("#bank-balance")).to_contain_text(f"{day}/11/2026")
    expect(page.locator("#unmatched-lines")).to_contain_text("ung ho cuoi thang")
    expect(page.locator("#unexplained")).to_be_visible()
    no_english(page, ENGLISH_WORDS)
    shot(page, "reconciliation")
    page.goto(page.url.split("?")[0] + "?on=2000-13-01")
    expect(page.locator("#on-error")).to_contain_text("Ngày không hợp lệ")


@SIZES
def test_a_statement_whose_balances_do_not_add_up_is_imported_with_a_warning(open_page, size):
    page = open_page(size, "thuquy.bank")
    tag = size["width"]
    rows = [("08/10/2026", f"BAL{tag}A", None, 500_000, "ung ho"), ("08/10/2026", f"BAL{tag}B", 20_000, None, "phi")]
    from tests.bank.statement_samples import workbook

    upload(page, workbook("VCB", rows, continuation=False, balances=(10_000_000, 10_500_000)))
    expect(page.locator("#n-new")).to_have_text("2")
    expect(page.locator("#balance-warning")).to_contain_text("không khớp")
    expect(page.locator("#import-balances .balance-check")).to_contain_text("Lệch 20.000 đ")
    expect(page.locator("#import-balances .opening")).to_have_text("10.000.000 đ")
    no_english(page, ENGLISH_WORDS)
    shot(page, "upload-balances")
    page.get_by_role("link", name="Đối chiếu số dư").click()
    expect(page.locator("#statement-imports")).to_contain_text("Lệch 20.000 đ")
    page.locator("#statement-imports").scroll_into_view_if_needed()
    shot(page, "reconciliation-imports")


@SIZES
def test_the_notification_keys_are_set_shown_masked_replaced_and_revoked(open_page, size):
    page = open_page(size, "thuquy.bank")
    open_account(page)
    page.click("#keys-link")
    expect(page.locator("h1")).to_have_text("Khóa thông báo chuyển khoản")
    expect(page.locator("#webhook-sepay")).to_contain_text("/api/v1/bank-notifications/sepay")
    expect(page.locator("#webhook-casso")).to_contain_text("/api/v1/bank-notifications/casso")
    if page.locator("#revoke-sepay").count():  # the other size's run left a key: start from none
        page.click("#revoke-sepay")
    expect(page.locator("#key-sepay .key-state")).to_contain_text("Chưa đặt")
    shot(page, "keys")
    page.fill("#secret-sepay", "short")
    page.click("#save-sepay")
    expect(page.locator("#secret-sepay-error")).to_contain_text("16 đến 200 ký tự")
    assert page.input_value("#secret-sepay") == ""  # a refused key is not typed back
    shot(page, "keys-error")
    key = f"sepay-browser-key-{size['width']}-0123456789"
    page.fill("#secret-sepay", key)
    page.click("#save-sepay")
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu khóa SePay (…" + key[-4:] + ")")
    expect(page.locator("#key-sepay .key-hint")).to_have_text("…" + key[-4:])
    assert key not in page.content()  # never shown in full again
    expect(page.locator("#save-sepay")).to_have_text("Thay khóa")
    no_english(page, ENGLISH_WORDS)
    shot(page, "keys-set")
    page.click("#revoke-sepay")  # the confirmation dialog is accepted (open_page)
    expect(page.locator(".flash-success")).to_contain_text("Đã thu hồi khóa SePay")
    expect(page.locator("#key-sepay .key-state")).to_contain_text("Chưa đặt")
