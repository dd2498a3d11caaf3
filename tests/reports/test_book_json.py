"""The money books' fast JSON (books.book_json, orjson in one pass) against the reference: the response schemas
CashBookOut and BankBookOut dumped by marshmallow and written by the app's JSON provider, as any other response.
Both must give the same document for any book; and the API's answer is that document."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from fundsvc import create_app
from fundsvc.reports.books import BookEntry, book_json, book_lines, without_code
from fundsvc.reports.schemas import BankBookOut, CashBookOut

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
CODE = st.one_of(
    st.none(), st.from_regex(r"(PC-|BC-|UNC-|XN-)?[A-Z]{2}(-[A-Z0-9]{1,3}){0,2}/20\d\d/\d{5}", fullmatch=True)
)
ENTRY = st.builds(
    BookEntry,
    entry_date=st.dates(date(2023, 1, 1), date(2026, 12, 31)),
    kind=st.sampled_from(["donation", "movement", "disbursement", "reversal"]),
    amount=st.integers(-(10**12), 10**12).filter(bool),
    document_code=CODE,
    description=TEXT,
)
_app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "test"})


def _book(entries, opening: int, bank: bool, references) -> dict:
    if bank:
        entries = [e._replace(extra={"bank_reference": r}) for e, r in zip(entries, references, strict=False)]
    return {
        "unit": {"code": "ST-TP-P2", "name": "Phường 2", "books_opened_on": date(2023, 1, 1)},
        "account": {
            "id": 7,
            "kind": "bank" if bank else "cash",
            "name": "Tiền gửi" if bank else "Quỹ tiền mặt",
            "ledger_account": "112" if bank else "111",
            "bank_name": "Vietcombank" if bank else None,
            "account_number": "0011" if bank else None,
            "account_holder": None,
        },
        "from": date(2024, 1, 1),
        "to": date(2024, 12, 31),
        **book_lines(entries, opening),
    }


@settings(max_examples=200, deadline=None)
@given(
    entries=st.lists(ENTRY, max_size=12),
    opening=st.integers(0, 10**12),
    bank=st.booleans(),
    references=st.lists(st.one_of(st.none(), TEXT), min_size=12, max_size=12),
)
def test_book_json_is_what_the_schema_dumps(entries, opening, bank, references):
    book = _book(entries, opening, bank, references)
    schema = BankBookOut() if bank else CashBookOut()
    with _app.app_context():
        reference = json.loads(_app.json.dumps(schema.dump(book)))
    assert json.loads(book_json(book)) == reference


def _without_code_reference(code: str | None, text: str) -> str:
    """The rule written plainly: the four prefixes tried in turn; a scholarship's and a void's keep their word."""
    code = code or ""
    kept = {f"Chi học bổng {code}: ": "Chi học bổng: ", f"Hủy {code}: ": "Hủy: "}
    for prefix in (f"{code}: ", f"Thu {code}: ", *kept):
        if code and text.startswith(prefix):
            return kept.get(prefix, "") + text[len(prefix) :]
    return text


@settings(max_examples=300, deadline=None)
@given(
    code=CODE,
    before=st.sampled_from(["", "Thu ", "Chi học bổng ", "Hủy ", "X"]),
    after=st.sampled_from([": ", ":", " "]),
    rest=TEXT,
    noise=st.booleans(),
)
def test_without_code_strips_what_the_rule_strips(code, before, after, rest, noise):
    text = rest if noise else f"{before}{code or ''}{after}{rest}"
    assert without_code(code, text) == _without_code_reference(code, text)


def test_the_api_answers_the_books_json(app, make_api):
    from fundsvc.extensions import db
    from tests.reports.conftest import give

    give(db.session, "ST-TP-P2", 1_500_000, on=date(2024, 3, 1))
    api = make_api(app, "viewer")
    response = api.get("/api/v1/reports/cash-book?unit=ST-TP-P2&from=2024-01-01&to=2024-12-31")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["unit"]["books_opened_on"] == "2023-01-01"  # a date as the contract writes dates, not an HTTP date
    assert body["from"] == "2024-01-01" and body["lines"][0]["date"] == "2024-03-01"
    assert body["closing_balance"] == body["opening_balance"] + body["total_in"] - body["total_out"] == 1_500_000
