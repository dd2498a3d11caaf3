"""Property-based tests of the whole HTTP API from its own OpenAPI document (schemathesis, in-process WSGI).

Every operation of `/api/v1/openapi.json` is called with generated requests (valid and invalid ones) under an
admin token, each operation on its own fresh database holding the demo unit tree and a few donations.
Generated unit and fund codes and ids are sometimes swapped for ones that exist (hooks below), so the
requests get past "unknown unit" into the code behind it. Checked for every answer:

* never a server error (no 5xx, whatever the input: huge integers, odd unicode, overflowing ids …);
* every 4xx/5xx body is the contract's JSON error: exactly the keys code, status, message, errors.

Bounded for CI: a fixed number of examples per operation, derandomized, no deadline, no example database.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from fundsvc.auth.service import SYSTEM
from fundsvc.donations.service import record_donation
from fundsvc.extensions import db as _db

MAX_EXAMPLES = 20
ERROR_KEYS = {"code", "status", "message", "errors"}
UNITS = ["ST", "ST-TP", "ST-MX", "ST-TP-P2", "ST-TP-P5", "ST-MX-DT"]
FUNDS = ["KH", "KH-ST-TP", "KH-ST-MX", "KH-ST-TP-P2", "KH-ST-TP-P5", "KH-ST-MX-DT"]
IDS = st.integers(min_value=1, max_value=4)  # the seeded donations, donors, receipts are 1–3


def _schema():
    """The OpenAPI document, read once at collection from an app on an empty in-memory database.

    (`schemathesis.pytest.from_fixture` would load it per test, but its lazy runner breaks on pytest 9:
    it sets `request.node._nodeid`, which pytest 9 no longer has.) The requests of each test go to that
    test's own app: `case.call(app=app)`.
    """
    from fundsvc import create_app

    spec_app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "test"})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", spec_app)


schema = _schema()


def _sometimes_real(values, known: dict):
    """Either the generated values or, key by key, a value that exists in the seeded database."""
    if not isinstance(values, dict):
        return st.just(values)
    keys = [key for key in values if key in known]
    if not keys:
        return st.just(values)
    patch = st.fixed_dictionaries({key: st.one_of(st.just(values[key]), known[key]) for key in keys})
    return patch.map(lambda chosen: {**values, **chosen})


@schema.hook("flatmap_path_parameters")
def _real_path_parameters(context, path_parameters):
    known = {"code": st.sampled_from(FUNDS), "unit": st.sampled_from(UNITS), "year": st.sampled_from([2024, 2025])}
    known |= {key: IDS for key in (path_parameters or {}) if key.endswith("_id")}
    return _sometimes_real(path_parameters, known)


@schema.hook("flatmap_query")
def _real_query(context, query):
    return _sometimes_real(query, {"unit": st.sampled_from(UNITS), "fund": st.sampled_from(FUNDS), "donor": IDS})


@schema.hook("flatmap_body")
def _real_body(context, body):
    known = {
        "unit": st.sampled_from(UNITS),
        "parent": st.sampled_from(UNITS),
        "fund": st.sampled_from(FUNDS),
        "donor_id": IDS,
    }
    if isinstance(body, dict) and "donor" in body and "donor_id" in body:
        # POST /donations takes exactly one of them, which the document cannot say: mostly keep one.
        trimmed = st.sampled_from([{k: v for k, v in body.items() if k != drop} for drop in ("donor", "donor_id")])
        return st.one_of(trimmed, st.just(body)).flatmap(lambda one: _sometimes_real(one, known))
    return _sometimes_real(body, known)


@pytest.fixture
def seeded_app(app):
    for i, unit in enumerate(["ST-TP-P2", "ST-TP-P5", "ST-MX-DT"]):
        record_donation(
            _db.session,
            SYSTEM,
            {
                "donor": {"name": f"Nhà hảo tâm {i}", "kind": "person", "phone": f"091000000{i}"},
                "unit": unit,
                "amount": 500_000,
                "method": "cash",
                "received_on": date(2024, 9, 1 + i),
                "purpose": "Khuyến học",
            },
        )
    return app


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api(case, seeded_app, admin):
    response = case.call(app=seeded_app, headers={"Authorization": f"Bearer {admin.token}"})
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        try:
            body = json.loads(response.content)
        except ValueError:
            pytest.fail(f"{case.method} {case.formatted_path}: {response.status_code} without a JSON body")
        assert isinstance(body, dict) and set(body) == ERROR_KEYS, (case.method, case.formatted_path, body)
        assert body["code"] == response.status_code
        assert isinstance(body["status"], str) and isinstance(body["message"], str)
        assert isinstance(body["errors"], dict)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/donations/2147483648",
        "/api/v1/donations/99999999999999999999999999",
        "/api/v1/donors/9223372036854775808",
        "/api/v1/receipts/9223372036854775808.pdf",
    ],
)
def test_ids_beyond_the_id_columns_are_404(admin, url):
    response = admin.get(url)
    assert response.status_code == 404 and set(response.json) == ERROR_KEYS
    assert admin.post(url.removesuffix(".pdf") + "/void", {"reason": "x"}).status_code == 404


@pytest.mark.parametrize(
    "query", ["donor=2147483648", "donor=99999999999999999999", "page=9999999999999999999", "page_size=1000000000"]
)
def test_huge_numbers_in_queries_are_answered(admin, query):
    response = admin.get(f"/api/v1/donations?{query}")
    assert response.status_code in (200, 422) and (response.status_code == 200 or set(response.json) == ERROR_KEYS)
    assert admin.get(f"/api/v1/donations?{query.split('=')[0]}=2147483647").status_code in (200, 422)


def test_numbers_no_schema_bounds_are_422_not_500(client):
    """The safety net (fundsvc.errors): a number that overflows the database is the input's fault."""
    response = client.get("/api/v1/public/statements/ST/2024.html?version=99999999999999999999")
    assert response.status_code == 422 and set(response.json) == ERROR_KEYS
