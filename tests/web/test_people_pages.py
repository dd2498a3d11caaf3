"""The small things of issue 22 on the committee's pages: decimals as Vietnamese write them, no empty column."""

from __future__ import annotations

from tests.conftest import SHARED_DATA
from tests.web.test_committee import SAMPLE, committee, create_round, funded, import_file  # noqa: F401


def test_marks_are_written_with_a_decimal_comma(committee):  # noqa: F811
    import_file(committee, SAMPLE.read_bytes())
    page = committee.get("/nominations?academic_year=2024-2025&q=HS0700009").get_data(as_text=True)
    assert '<td class="num">8,8</td>' in page and "8.8" not in page
    english = committee.get("/nominations?academic_year=2024-2025&q=HS0700009&lang=en").get_data(as_text=True)
    assert '<td class="num">8.8</td>' in english


def test_no_empty_tier_column_on_the_round_page(committee, funded):  # noqa: F811
    import json

    import_file(committee, SAMPLE.read_bytes())
    rules = json.loads((SHARED_DATA / "rules_example.json").read_text())
    with_tiers = create_round(committee, json.dumps(rules)).headers["Location"]
    rules["tiers"] = []
    without = create_round(committee, json.dumps({**rules}), budget="10.000.000").headers["Location"]
    for url in (with_tiers, without):
        committee.post(f"{url}/allocate")
    assert ">Bậc</th>" in committee.get(with_tiers).get_data(as_text=True)
    assert ">Bậc</th>" not in committee.get(without).get_data(as_text=True)
