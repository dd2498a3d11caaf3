"""The web UI through Flask's test client: login, CSRF, languages, scoping, the donation form, voids."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from fundsvc.donations.models import Donation
from fundsvc.extensions import db

GIFT = {
    "donor_name": "Nguyễn Thị Lan",
    "donor_phone": "0912345678",
    "amount": "1.250.000",
    "method": "cash",
    "received_on": "2024-10-01",
    "purpose": "Ủng hộ Quỹ Khuyến học năm 2024",
}


def donation_count() -> int:
    db.session.rollback()  # end the test's own read transaction: see what the requests committed
    return db.session.scalar(select(func.count()).select_from(Donation))


def record(b, **changes):
    b.get("/donations/new")
    form_key = re.search(r'name="form_key" value="([^"]+)"', b.get("/donations/new").get_data(as_text=True)).group(1)
    return b.post("/donations/new", {**GIFT, "form_key": form_key, **changes})


# Login and logout


def test_pages_need_a_login(app, browser):
    b = browser()
    response = b.get("/donations")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/donations")
    page = b.get("/login").get_data(as_text=True)
    assert 'lang="vi"' in page and "Đăng nhập" in page and 'for="username"' in page and 'for="password"' in page


def test_login_wrong_password_then_right(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser()
    wrong = b.login("thuquy", "sai-mat-khau")
    assert wrong.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in wrong.get_data(as_text=True)
    assert b.login("nobody").status_code == 401
    right = b.login("thuquy")
    assert right.status_code == 302 and right.headers["Location"] == "/"
    home = b.get("/").get_data(as_text=True)
    assert "Thu hôm nay" in home and "Số dư các quỹ" in home and "thuquy" in home


def test_login_follows_only_local_next(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser()
    b.get("/login")
    response = b.post("/login", {"username": "thuquy", "password": "khuyenhoc2024", "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"
    b2 = browser()
    b2.get("/login")
    response = b2.post("/login", {"username": "thuquy", "password": "khuyenhoc2024", "next": "/donors"})
    assert response.headers["Location"] == "/donors"


def test_logout_ends_the_session(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    assert b.get("/").status_code == 200
    assert b.post("/logout").status_code == 302
    assert b.get("/").status_code == 302


def test_english_switch_is_remembered(app, make_user, browser):
    b = browser()
    page = b.get("/login?lang=en")
    assert "Log in" in page.get_data(as_text=True) and "lang=en" in page.headers["Set-Cookie"]
    assert 'lang="en"' in b.get("/login").get_data(as_text=True)
    back = b.get("/language/vi?next=/login")
    assert back.status_code == 302
    assert "Đăng nhập" in b.get("/login").get_data(as_text=True)


# CSRF


def test_posts_without_csrf_token_are_refused(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    anonymous = browser()
    assert anonymous.post("/login", {"username": "thuquy", "password": "khuyenhoc2024"}, csrf=False).status_code == 400
    b = browser("thuquy")
    response = b.post("/donations/new", {**GIFT, "form_key": "k"}, csrf=False)
    assert response.status_code == 400
    assert b.post("/donations/new", {**GIFT, "form_key": "k", "csrf_token": "forged"}, csrf=False).status_code == 400
    assert donation_count() == 0
    assert b.post("/logout", csrf=False).status_code == 400


def test_csrf_refusal_is_an_html_page_for_browsers(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    response = b.post("/donations/new", GIFT, csrf=False, headers={"Accept": "text/html"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "mã bảo vệ" in response.get_data(as_text=True)


def test_api_with_bearer_token_needs_no_csrf_token(app, make_api):
    admin = make_api(app, "admin")
    response = admin.post(
        "/api/v1/donations",
        {"donor": {"name": "A"}, "unit": "ST", "amount": 1000, "method": "cash", "received_on": "2024-10-01"},
    )
    assert response.status_code == 201


# The donation form


def test_donation_form_happy_path_ends_on_the_receipt(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    form = b.get("/donations/new").get_data(as_text=True)
    assert 'id="donor_name"' in form and "autofocus" in form and 'for="amount"' in form
    response = record(b)
    assert response.status_code == 302
    receipt_url = response.headers["Location"]
    assert re.fullmatch(r"/donations/\d+/receipt", receipt_url)
    page = b.get(receipt_url).get_data(as_text=True)
    donation = db.session.scalars(select(Donation)).one()
    assert donation.amount == 1_250_000 and donation.unit.code == "ST-TP-P2" and donation.donor.phone == "0912345678"
    assert donation.receipt.code in page and "Đã ghi khoản thu 1.250.000 đồng" in page
    assert "Một triệu hai trăm năm mươi nghìn đồng" in page
    pdf_url = f"/api/v1/receipts/{donation.receipt.id}.pdf"
    assert pdf_url in page and 'id="print-receipt"' in page
    pdf = b.get(pdf_url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_donation_form_shows_errors_by_field(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    response = record(b, amount="mười nghìn", donor_name="", donor_phone="abc")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="amount-error"' in page and 'id="donor_name-error"' in page and 'id="donor_phone-error"' in page
    assert "Chưa ghi được" in page and donation_count() == 0


def test_same_form_submitted_twice_records_once(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    b.get("/donations/new")
    first = b.post("/donations/new", {**GIFT, "form_key": "same-key"})
    second = b.post("/donations/new", {**GIFT, "form_key": "same-key", "confirm_duplicate": "1"})
    assert first.headers["Location"] == second.headers["Location"]
    assert donation_count() == 1


def test_duplicate_same_donor_amount_and_day_asks_first(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    assert record(b).status_code == 302
    warned = record(b)
    page = warned.get_data(as_text=True)
    assert warned.status_code == 409 and "Có thể trùng" in page and 'name="confirm_duplicate" value="1"' in page
    assert donation_count() == 1
    found = b.get("/ui/duplicates?amount=1250000&received_on=2024-10-01&name=Nguyễn Thị Lan").json
    assert len(found) == 1 and found[0]["amount"] == 1_250_000
    assert b.get("/ui/duplicates?amount=1250000&received_on=2024-10-02&name=Nguyễn Thị Lan").json == []
    assert record(b, confirm_duplicate="1").status_code == 302
    assert donation_count() == 2


def test_json_helpers(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    words = b.get("/ui/amount?amount=1.250.000").json
    assert words == {"amount": 1250000, "formatted": "1.250.000", "words": "Một triệu hai trăm năm mươi nghìn đồng"}
    assert b.get("/ui/amount?amount=abc").json["words"] == ""
    record(b)
    donors = b.get("/ui/donors?q=Lan").json
    assert [d["name"] for d in donors] == ["Nguyễn Thị Lan"]
    assert b.get("/ui/donors?q=0912").json[0]["phone"] == "0912345678"
    assert browser().get("/ui/donors?q=Lan").status_code == 401


def test_known_donor_by_id(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    record(b)
    donor_id = b.get("/ui/donors?q=Lan").json[0]["id"]
    assert record(b, donor_id=str(donor_id), donor_name="Nguyễn Thị Lan", amount="500000").status_code == 302
    assert {d.donor_id for d in db.session.scalars(select(Donation))} == {donor_id}


def test_void_needs_a_reason_and_happens_once(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    donation_url = record(b).headers["Location"].removesuffix("/receipt")
    b.get(donation_url)
    no_reason = b.post(donation_url + "/void", {"reason": " "}, follow_redirects=True)
    assert "Cần ghi lý do hủy" in no_reason.get_data(as_text=True)
    done = b.post(donation_url + "/void", {"reason": "Ghi nhầm số tiền"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Đã hủy khoản thu" in page and "Ghi nhầm số tiền" in page
    again = b.post(donation_url + "/void", {"reason": "lần hai"}, follow_redirects=True)
    assert "đã bị hủy trước đó" in again.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalars(select(Donation)).one().status == "void"


def test_list_search_and_filters(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    record(b)
    record(
        b,
        donor_name="Công ty TNHH Minh Phát",
        donor_phone="",
        amount="5000000",
        method="bank_transfer",
        received_on="2024-10-05",
    )
    listing = b.get("/donations").get_data(as_text=True)
    assert "Nguyễn Thị Lan" in listing and "Công ty TNHH Minh Phát" in listing and "6.250.000" in listing
    only = b.get("/donations?q=Minh").get_data(as_text=True)
    assert "Công ty TNHH Minh Phát" in only and "Nguyễn Thị Lan" not in only
    dated = b.get("/donations?from=2024-10-02&to=2024-10-31").get_data(as_text=True)
    assert "Minh Phát" in dated and "Nguyễn Thị Lan" not in dated
    assert "Nguyễn Thị Lan" not in b.get("/donations?method=bank_transfer").get_data(as_text=True)
    assert b.get("/donations?from=not-a-date&page=x&donor=y").status_code == 200


def test_donor_page_links_the_yearly_statement(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    record(b)
    donor_id = b.get("/ui/donors?q=Lan").json[0]["id"]
    page = b.get(f"/donors/{donor_id}").get_data(as_text=True)
    statement = f"/api/v1/donors/{donor_id}/statement.pdf?year=2024"
    assert statement in page and "1.250.000" in page
    pdf = b.get(statement)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "Nguyễn Thị Lan" in b.get("/donors?q=Lan").get_data(as_text=True)


# Roles and scoping


def test_treasurer_of_another_commune_sees_nothing_of_the_first(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    make_user("thuquy5", "treasurer", "ST-TP-P5")
    first = browser("thuquy")
    receipt_url = record(first).headers["Location"]
    donation = db.session.scalars(select(Donation)).one()
    other = browser("thuquy5")
    listing = other.get("/donations").get_data(as_text=True)
    assert donation.receipt.code not in listing and "Nguyễn Thị Lan" not in listing
    assert other.get(f"/donations/{donation.id}").status_code == 404
    assert other.get(receipt_url).status_code == 404
    assert other.get(f"/api/v1/receipts/{donation.receipt.id}.pdf").status_code == 404
    assert other.get(f"/donors/{donation.donor_id}").status_code == 404
    assert other.get("/ui/donors?q=Lan").json == []
    assert "Nguyễn Thị Lan" not in other.get("/").get_data(as_text=True)
    void = other.post(f"/donations/{donation.id}/void", {"reason": "x"})
    assert void.status_code == 404
    db.session.rollback()
    assert db.session.get(Donation, donation.id).status == "recorded"
    assert other.get("/donations?unit=ST-TP-P2").status_code == 403


def test_roles_limit_the_pages(app, make_user, browser):
    make_user("xem", "viewer", "ST")
    make_user("hoidong", "committee", "ST")
    viewer = browser("xem")
    assert viewer.get("/donations/new").status_code == 403
    assert viewer.get("/nominations/import").status_code == 403
    assert viewer.get("/rounds/new").status_code == 403
    viewer.get("/")  # a page with a form: the session now holds a CSRF token
    assert viewer.post("/donations/new", GIFT).status_code == 403
    nav = viewer.get("/").get_data(as_text=True)
    assert "Thu tiền" not in nav and "Báo cáo" in nav
    committee = browser("hoidong")
    assert committee.get("/donations/new").status_code == 403
    assert committee.get("/nominations/import").status_code == 200


def test_session_of_a_deactivated_user_ends(app, make_user, browser):
    from fundsvc.auth.models import User

    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    user = db.session.scalars(select(User)).one()
    user.active = False
    db.session.commit()
    assert b.get("/").status_code == 302


def test_documents_under_the_api_still_need_a_token_without_a_session(app, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    b = browser("thuquy")
    record(b)
    donation = db.session.scalars(select(Donation)).one()
    assert browser().get(f"/api/v1/receipts/{donation.receipt.id}.pdf").status_code == 401
    # A session never authorises a state change through the API (no CSRF token there).
    assert b.client.post(f"/api/v1/donations/{donation.id}/void", json={"reason": "x"}).status_code == 401


# The donation form on the books model (issue 18)


def test_the_form_records_a_transfer_to_its_bank_account_and_goods_with_their_quantity(app, tree, make_user, browser):
    b = browser(make_user("thuquy.form", "treasurer", "ST-TP-P2"))
    form = b.get("/donations/new?unit=ST-TP-P2").get_data(as_text=True)
    assert "Giá trị ước tính" in form and 'name="bank_reference"' in form and 'name="quantity"' in form
    from fundsvc.ledger.models import MoneyAccount
    from fundsvc.units.models import Unit

    unit_id = db.session.scalar(select(Unit.id).where(Unit.code == "ST-TP-P2"))
    bank = db.session.scalar(select(MoneyAccount).where(MoneyAccount.unit_id == unit_id, MoneyAccount.kind == "bank"))
    transfer = record(b, unit="ST-TP-P2", method="bank_transfer", account=str(bank.id), bank_reference="FT2427512")
    assert transfer.status_code == 302, transfer.get_data(as_text=True)[:300]
    goods = record(
        b,
        unit="ST-TP-P2",
        method="in_kind",
        amount="2.000.000",
        received_on="2024-10-02",
        in_kind_description="Vở học sinh",
        quantity="100",
        unit_of_measure="quyển",
    )
    assert goods.status_code == 302
    db.session.rollback()
    gifts = {d.method: d for d in db.session.scalars(select(Donation))}
    assert gifts["bank_transfer"].account_id == bank.id and gifts["bank_transfer"].bank_reference == "FT2427512"
    assert gifts["bank_transfer"].receipt.code.startswith("XN-")
    assert (gifts["in_kind"].quantity, gifts["in_kind"].unit_of_measure) == (100, "quyển")
    assert gifts["in_kind"].receipt.code.startswith("HV-")
    # A date before the series' last document is refused next to the date, in Vietnamese.
    early = record(b, unit="ST-TP-P2", method="bank_transfer", account=str(bank.id), received_on="2024-09-01")
    assert early.status_code == 422 and "01/10/2024" in early.get_data(as_text=True)


def test_the_unit_page_shows_identity_accounts_and_closes_a_month(app, tree, make_user, browser):
    treasurer = browser(make_user("thuquy.unit", "treasurer", "ST-TP-P2"))
    page = treasurer.get("/units/-")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Hội Khuyến học phường 2" in text and "Nguyễn Văn Nam" in text
    assert "Tiền gửi Vietcombank" in text and "Khóa sổ tháng 01/2023" in text and "Chưa khóa sổ tháng nào." in text
    closed = treasurer.post("/units/ST-TP-P2/periods/2023-01/close")
    assert closed.status_code == 302
    after = treasurer.get("/units/ST-TP-P2").get_data(as_text=True)
    assert "Đã khóa sổ tháng 01/2023." in after and "Khóa sổ tháng 02/2023" in after
    assert "Đã khóa sổ đến hết tháng 01/2023." in after
    # A gift dated in the closed month is refused with a visible message.
    refused = record(treasurer, unit="ST-TP-P2", received_on="2023-01-15")
    assert refused.status_code in (409, 422) and "khóa sổ" in refused.get_data(as_text=True)
    viewer = browser(make_user("xem.unit", "viewer", "ST-TP-P2"))
    assert 'id="close-month"' not in viewer.get("/units/ST-TP-P2").get_data(as_text=True)
    assert viewer.post("/units/ST-TP-P2/periods/2023-02/close").status_code == 403


def test_the_documentation_is_readable_in_the_ui_and_its_html_is_not_run(
    app, tree, make_user, browser, monkeypatch, tmp_path
):
    from fundsvc.web import help as help_pages

    viewer = browser(make_user("xem.help", "viewer", "ST-TP-P2"))
    page = viewer.get("/help/books")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>The books" in text and "<table>" in text
    for name in help_pages.PAGES:  # every page offered is there
        assert viewer.get(f"/help/{name}").status_code == 200, name
    assert viewer.get("/help/secrets").status_code == 404
    assert viewer.get("/help/..%2FREADME").status_code == 404
    (tmp_path / "books.md").write_text("# Hi\n\n<script>alert(1)</script>\n", encoding="utf-8")
    monkeypatch.setattr(help_pages, "DOCS", tmp_path)
    help_pages._rendered.cache_clear()
    try:
        shown = viewer.get("/help/books").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in shown and "&lt;script&gt;" in shown
    finally:
        help_pages._rendered.cache_clear()
