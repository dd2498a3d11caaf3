"""The hot lists' plain serialisers against the reference: their response schemas dumped by marshmallow and written by
the app's JSON provider, as any other response. For any row both must give the same document.

- GET /funds/{code}/ledger: ledger_document against LedgerOut;
- GET /rounds/{id}/awards: award_document (a row of AWARD_ROWS) against AwardOut of the Award it was read from;
- GET /donations: donation_document (a row of DONATION_ROWS) against DonationOut of the Donation as
  privacy.donation_seen_by shows it, to a role that sees donors' contact details and to one that does not.

The rows are those of the selects the views read (their column names), filled by hypothesis; that the selects read
the right columns is shown on a real data set by tests/reports/test_pagination.py, on both databases.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from fundsvc import create_app
from fundsvc.allocation.models import Award
from fundsvc.allocation.schemas import AwardOut, award_document
from fundsvc.allocation.service import AWARD_ROWS
from fundsvc.db.pages import row_class
from fundsvc.db.types import encode_json
from fundsvc.donations.models import Donation, Donor, Receipt
from fundsvc.donations.schemas import DonationOut, donation_document
from fundsvc.donations.service import DONATION_ROWS
from fundsvc.ledger.models import Fund
from fundsvc.ledger.schemas import LedgerOut, ledger_document
from fundsvc.ledger.service import LEDGER_LINE_COLUMNS, StatementLine
from fundsvc.privacy import donation_seen_by
from fundsvc.students.models import Nomination
from fundsvc.units.models import Unit

_app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "test"})

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
MAYBE_TEXT = st.one_of(st.none(), TEXT)
IDS = st.integers(1, 2**31 - 1)
MAYBE_ID = st.one_of(st.none(), IDS)
MONEY = st.integers(-(10**13), 10**13)
DAYS = st.dates(date(2020, 1, 1), date(2030, 12, 31))
MOMENTS = st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.sampled_from([None, UTC]))
CODES = st.from_regex(r"[A-Z]{2}(-[A-Z0-9]{1,3}){0,3}", fullmatch=True)


def _reference(schema, value):
    with _app.app_context():
        return json.loads(_app.json.dumps(schema.dump(value)))


def _plain(document):
    return json.loads(encode_json(document))


def _row(select, values: dict):
    """A row of `select` as fundsvc.db.pages.plain_rows makes it, holding `values` by column name."""
    names = tuple(select.selected_columns.keys())
    return row_class(names)(**{name: values[name] for name in names})


LINE = st.fixed_dictionaries(
    {
        "id": IDS,
        "entry_date": DAYS,
        "kind": st.sampled_from(["donation", "disbursement", "reversal", "movement"]),
        "amount": MONEY,
        "method": st.one_of(st.none(), st.sampled_from(["cash", "bank_transfer"])),
        "document_code": MAYBE_TEXT,
        "description": TEXT,
        "donation_id": MAYBE_ID,
        "award_id": MAYBE_ID,
    }
)
LINE_NAMES = tuple(column.key for column in LEDGER_LINE_COLUMNS)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.tuples(LINE, MONEY), max_size=8),
    figures=st.tuples(MONEY, MONEY, MONEY, MONEY, st.integers(0, 10**6)),
    following=MAYBE_TEXT,
)
def test_ledger_document_is_what_the_schema_dumps(lines, figures, following):
    entry = row_class(LINE_NAMES)
    opening, closing, money_in, money_out, count = figures
    answer = {
        "fund": "KH-ST-TP-P2",
        "opening_balance": opening,
        "closing_balance": closing,
        "total_in": money_in,
        "total_out": money_out,
        "entry_count": count,
        "entries": [StatementLine(entry(**values), running) for values, running in lines],
        "next": following,
    }
    assert _plain(ledger_document(answer)) == _reference(LedgerOut(), answer)


AWARD = st.fixed_dictionaries(
    {
        "id": IDS,
        "round_id": IDS,
        "nomination_id": IDS,
        "student_code": MAYBE_TEXT,
        "full_name": TEXT,
        "school": TEXT,
        "grade": TEXT,
        "unit": CODES,
        "level": st.one_of(st.none(), st.sampled_from(["primary", "lower_secondary", "upper_secondary"])),
        "amount": st.integers(1, 10**10),
        "rank": st.integers(1, 10**6),
        "score": st.decimals(0, 100, places=2).map(str),
        "tier": MAYBE_TEXT,
        "status": st.sampled_from(["approved", "paid", "cancelled"]),
        "promoted": st.booleans(),
        "paid_on": st.one_of(st.none(), DAYS),
        "received_by": MAYBE_TEXT,
        "voucher_code": st.one_of(st.none(), CODES),
        "bank_reference": MAYBE_TEXT,
        "cancel_reason": MAYBE_TEXT,
    }
)
NOMINATION_FIELDS = ("student_code", "full_name", "school", "grade", "level")


@settings(max_examples=200, deadline=None)
@given(values=AWARD)
def test_award_document_is_what_the_schema_dumps(values):
    own = {k: v for k, v in values.items() if k not in (*NOMINATION_FIELDS, "unit")}
    nomination = Nomination(**{k: values[k] for k in NOMINATION_FIELDS}, unit=Unit(code=values["unit"]))
    award = Award(**own, nomination=nomination)
    assert _plain(award_document(_row(AWARD_ROWS, values))) == _reference(AwardOut(), award)


DONATION = st.fixed_dictionaries(
    {
        "id": IDS,
        "amount": st.integers(1, 10**12),
        "status": st.sampled_from(["recorded", "void"]),
        "method": st.sampled_from(["cash", "bank_transfer", "in_kind"]),
        "in_kind_description": MAYBE_TEXT,
        "quantity": st.one_of(st.none(), st.integers(1, 10**9)),
        "unit_of_measure": MAYBE_TEXT,
        "account_id": MAYBE_ID,
        "bank_reference": MAYBE_TEXT,
        "received_on": DAYS,
        "purpose": MAYBE_TEXT,
        "anonymous": st.booleans(),
        "void_reason": MAYBE_TEXT,
        "voided_at": st.one_of(st.none(), MOMENTS),
        "created_at": MOMENTS,
        "fund": CODES,
        "unit": CODES,
        "donor_id": IDS,
        "donor_name": TEXT,
        "donor_kind": st.sampled_from(["person", "organization"]),
        "donor_phone": MAYBE_TEXT,
        "donor_email": MAYBE_TEXT,
        "donor_address": MAYBE_TEXT,
        "donor_tax_code": MAYBE_TEXT,
        "donor_unit": CODES,
        "donor_merged_into": MAYBE_ID,
        "receipt_id": MAYBE_ID,
        "receipt_year": st.integers(2020, 2030),
        "receipt_number": st.integers(1, 10**6),
        "receipt_code": CODES,
        "receipt_kind": st.sampled_from(["receipt", "acknowledgement", "in_kind_record"]),
    }
)
DONATION_FIELDS = (
    "id",
    "amount",
    "status",
    "method",
    "in_kind_description",
    "quantity",
    "unit_of_measure",
    "account_id",
    "bank_reference",
    "received_on",
    "purpose",
    "anonymous",
    "void_reason",
    "voided_at",
    "created_at",
)


def _donation(values: dict) -> Donation:
    """The Donation (with its fund, unit, donor and receipt) that DONATION_ROWS reads `values` from."""
    donor = Donor(
        **{name: values[f"donor_{name}"] for name in ("id", "name", "kind", "phone", "email", "address", "tax_code")},
        merged_into_id=values["donor_merged_into"],
        unit=Unit(code=values["donor_unit"]),
    )
    gift = Donation(
        **{name: values[name] for name in DONATION_FIELDS},
        fund=Fund(code=values["fund"]),
        unit=Unit(code=values["unit"]),
        donor=donor,
    )
    if values["receipt_id"] is not None:
        gift.receipt = Receipt(**{name: values[f"receipt_{name}"] for name in ("id", "year", "number", "code", "kind")})
    return gift


@settings(max_examples=200, deadline=None)
@given(values=DONATION, role=st.sampled_from(["admin", "treasurer", "viewer", "committee"]))
def test_donation_document_is_what_the_schema_dumps(values, role):
    seen = donation_seen_by(role, _donation(values))
    contact = role in ("admin", "treasurer")
    plain = _plain(donation_document(_row(DONATION_ROWS, values), contact=contact))
    assert plain == _reference(DonationOut(), seen)
