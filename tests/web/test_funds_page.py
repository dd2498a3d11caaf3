"""The funds and accounts page (/funds): every figure it shows is what the books close at, on the demo's year
(`load_demo(life=True)`: openings, interest, fees, transfers, expenses, a round paid in part), on both databases;
bad input gets a message, never a 500."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from fundsvc import create_app
from fundsvc.auth.service import SYSTEM, create_user
from fundsvc.demo.load import load_demo
from fundsvc.documents.words import today_in_vietnam
from fundsvc.extensions import db
from fundsvc.ledger.models import MoneyAccount
from fundsvc.reports.books import account_book, bank_book, cash_book, in_kind_register
from fundsvc.reports.service import fund_book
from fundsvc.units.models import Unit
from fundsvc.units.service import tree_paths_on
from tests.reports import test_reports_agree
from tests.web.conftest import PASSWORD, Browser

database = test_reports_agree.database  # (url with the demo tree, url of an empty database) on each engine

ROW = re.compile(r'<tr data-(fund|account|unit)="([^"]+)">(.*?)</tr>', re.S)
BALANCE = re.compile(r'class="num balance"[^>]*>([0-9.]+)<')


def _money(text: str) -> int:
    return int(text.replace(".", ""))


def figures(html: str) -> dict[tuple[str, str], int]:
    """The page's balances by row: ("fund", code), ("account", id), ("unit", code); ("in_kind", "") for the goods."""
    rows = {(kind, key): _money(BALANCE.search(body).group(1)) for kind, key, body in ROW.findall(html)}
    goods = re.search(r'id="in-kind">.*?<strong class="balance">([0-9.]+) đ', html, re.S)
    rows["in_kind", ""] = _money(goods.group(1))
    return rows


def total(html: str, element_id: str) -> int:
    return _money(re.search(rf'id="{element_id}"[^>]*>([0-9.]+)<', html).group(1))


def _paths_on(session, on: date) -> dict[int, str]:
    """Every unit's path as the tree stood on `on` (the demo's communes moved up under the province in July 2025)."""
    return tree_paths_on(session, on) or dict(session.execute(select(Unit.id, Unit.path)).all())


def _subtree_books(session, unit: Unit, date_from: date, on: date) -> int:
    """What the money books of a unit and every unit below it (as the tree stood on `on`) close at, summed."""
    paths = _paths_on(session, on)
    closing = 0
    for each in session.scalars(
        select(Unit).where(Unit.id.in_([i for i, p in paths.items() if p.startswith(paths[unit.id])]))
    ):
        for account in session.scalars(select(MoneyAccount).where(MoneyAccount.unit_id == each.id)):
            closing += account_book(session, SYSTEM, each, account, date_from, on)["closing_balance"]
    return closing


def assert_page_is_the_books(session, browser: Browser, unit_code: str, on: date, date_from: date) -> dict:
    """The page of `unit_code` on `on` against the books of the period: each fund's book, each account's, the
    in-kind register, each unit below's books; the funds' total is where the money is."""
    response = browser.get(f"/funds?unit={unit_code}&on={on.isoformat()}&from={date_from.isoformat()}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="flash flash-error"' not in html, html
    shown = figures(html)
    period = {"date_from": date_from, "date_to": on}
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    paths = _paths_on(session, on)
    books: dict[tuple[str, str], int] = {}
    for kind, key in shown:
        if kind == "fund":
            books[kind, key] = fund_book(session, SYSTEM, fund=key, unit=unit_code, **period)["closing_balance"]
        elif kind == "account":
            account = session.get(MoneyAccount, int(key))
            assert account.unit_id == unit.id
            book = cash_book(session, SYSTEM, unit_code, **period) if account.kind == "cash" else None
            book = book or bank_book(session, SYSTEM, account.id, **period)
            books[kind, key] = book["closing_balance"]
        elif kind == "unit":
            below = session.scalar(select(Unit).where(Unit.code == key))
            assert paths[below.id] == f"{paths[unit.id]}{below.id}/"
            books[kind, key] = _subtree_books(session, below, date_from, on)
    books["in_kind", ""] = in_kind_register(session, SYSTEM, unit_code, **period)["closing_balance"]
    assert shown == books
    # Every account of the unit and every unit right below it is on the page.
    accounts = set(session.scalars(select(MoneyAccount.id).where(MoneyAccount.unit_id == unit.id)))
    assert {int(key) for kind, key in shown if kind == "account"} == accounts
    children = set(
        session.scalars(
            select(Unit.code).where(Unit.id.in_([i for i, p in paths.items() if p == f"{paths[unit.id]}{i}/"]))
        )
    )
    assert {key for kind, key in shown if kind == "unit"} == children
    funds_total = sum(v for (kind, _key), v in shown.items() if kind == "fund")
    assert total(html, "funds-total") == funds_total == total(html, "money-total")
    assert funds_total == _subtree_books(session, unit, date_from, on)
    return shown


def test_the_page_shows_what_the_books_close_at_on_the_demo(database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database(False), "TESTING": True, "SECRET_KEY": "test"})
    with app.app_context():
        try:
            load_demo(db.session, donations=120, users=False, life=True)
            create_user(db.session, "thuquy.tinh", "treasurer", "ST", password=PASSWORD, full_name="Thủ quỹ tỉnh")
            create_user(db.session, "hoidong.p2", "committee", "ST-TP-P2", password=PASSWORD, full_name="Hội đồng")
            treasurer, committee = Browser(app), Browser(app)
            assert treasurer.login("thuquy.tinh").status_code == 302
            assert committee.login("hoidong.p2").status_code == 302
            today = today_in_vietnam()
            last_year = today.year - 1
            province = assert_page_is_the_books(db.session, treasurer, "ST", today, date(today.year, 1, 1))
            assert any(value for (kind, _key), value in province.items() if kind == "fund")
            assert any(kind == "unit" for kind, _key in province)
            for code in ("ST", "ST-TP", "ST-TP-P2"):
                assert_page_is_the_books(db.session, treasurer, code, date(last_year, 12, 31), date(last_year, 1, 1))
                assert_page_is_the_books(db.session, treasurer, code, date(last_year, 6, 30), date(last_year, 3, 1))
            ward = assert_page_is_the_books(db.session, committee, "ST-TP-P2", today, date(today.year, 1, 1))
            assert any(kind == "account" and value for (kind, _key), value in ward.items())
            # By default: the reader's unit, today, the books from 1 January.
            page = committee.get("/funds").get_data(as_text=True)
            assert f'name="on" type="date" value="{today.isoformat()}"' in page
            assert f"from={today.year}-01-01" in page and "unit=ST-TP-P2" in page
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def reader(app, tree, make_user, browser):
    make_user("thuquy", "treasurer", "ST-TP-P2")
    return browser("thuquy")


def test_every_line_links_its_book_for_the_period(reader):
    page = reader.get("/funds?unit=ST-TP-P2&on=2024-06-30&from=2024-01-01").get_data(as_text=True)
    period = "from=2024-01-01&amp;to=2024-06-30"
    assert f"/api/v1/reports/cash-book.pdf?unit=ST-TP-P2&amp;{period}" in page
    assert f"/api/v1/reports/cash-book.xlsx?unit=ST-TP-P2&amp;{period}" in page
    assert f"/api/v1/reports/in-kind.pdf?unit=ST-TP-P2&amp;{period}" in page
    assert re.search(rf"/api/v1/reports/fund-book\.pdf\?fund=KH-ST-TP-P2&amp;unit=ST-TP-P2&amp;{period}", page)
    # The fund by its name, its code beside it; the unit too.
    assert re.search(r'<td><span class="named">[^<]+ <span class="code">KH-ST-TP-P2</span></span></td>', page)
    assert 'aria-current="page">Quỹ và tài khoản</a>' in page
    book = reader.get("/api/v1/reports/fund-book.pdf?fund=KH-ST-TP-P2&unit=ST-TP-P2&from=2024-01-01&to=2024-06-30")
    assert book.status_code == 200 and book.mimetype == "application/pdf"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("on=31-31-2024", "không hợp lệ"),
        ("on=2024-01-01&from=2024-06-01", "Ngày bắt đầu sau ngày kết thúc"),
        ("unit=ST", "Không có quyền với đơn vị ST"),
        ("unit=NOPE", "NOPE"),
    ],
)
def test_bad_input_gets_a_message(reader, query, message):
    response = reader.get(f"/funds?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="flash flash-error"' in page and message in page


def test_who_may_see_it(app, tree, make_user, browser):
    make_user("xem", "viewer", "ST-MX")
    page = browser("xem").get("/funds").get_data(as_text=True)
    assert "Các quỹ" in page and "ST-MX-DT" in page  # a commune below, by name and code
    assert browser().get("/funds").status_code == 302  # not logged in: to the login page


def test_in_english(reader):
    reader.get("/language/en?next=/funds")
    page = reader.get("/funds").get_data(as_text=True)
    assert "<h1>Funds and accounts" in page and "Where the money is" in page and "Quỹ và tài khoản" not in page
