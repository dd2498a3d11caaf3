"""Fixtures for the pure allocation engine: the worked example of docs/rules.md as nomination dicts."""

from __future__ import annotations

import json

import pytest

from fundsvc.students.spreadsheet import parse_nominations
from tests.conftest import SHARED_DATA


def read_rows(data: bytes, filename: str, known_units=None) -> list[dict]:
    """The import's own parser (docs/import.md keys plus row, ethnic_minority, grade_number)."""
    sheet = parse_nominations(data, filename, known_units=known_units)
    assert not sheet.errors, sheet.errors
    return [dict(r) for r in sheet.rows]


@pytest.fixture(scope="session")
def units() -> dict[str, str | None]:
    return {u["code"]: u["parent"] for u in json.loads((SHARED_DATA / "units_example.json").read_text("utf-8"))}


def to_nominations(rows: list[dict], units: dict[str, str | None]) -> list[dict]:
    """Rows -> engine input: ids 1.. in file order, active, inside the round, no other award."""
    noms = []
    for i, r in enumerate(rows, start=1):
        n = dict(r)
        n.pop("row", None)
        # the district is the district-level unit above the commune ("ST-MX-DT" -> "ST-MX")
        code = n["unit"]
        while code is not None and code.count("-") > 1:
            code = units.get(code)
        n.update(
            id=i,
            status="active",
            in_round_unit=True,
            awarded_elsewhere=False,
            district=code,
            guardian=n.get("guardian"),
            note=n.get("note"),
        )
        noms.append(n)
    return noms


@pytest.fixture(scope="session")
def sample_nominations(units) -> list[dict]:
    data = (SHARED_DATA / "nominations_sample.csv").read_bytes()
    return to_nominations(read_rows(data, "nominations_sample.csv", known_units=set(units)), units)


@pytest.fixture(scope="session")
def example_rules() -> dict:
    return json.loads((SHARED_DATA / "rules_example.json").read_text("utf-8"))


@pytest.fixture(scope="session")
def expected_allocation() -> dict:
    return json.loads((SHARED_DATA / "allocation_example_expected.json").read_text("utf-8"))
