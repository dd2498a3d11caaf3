"""The round form's rules editor: every preset and the worked example's rules go through the form's fields and
come back exactly; rows are added and removed; bad values are named next to their field."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from fundsvc.allocation.models import Round
from fundsvc.allocation.rules import PRESETS
from fundsvc.extensions import db
from fundsvc.web import rules_form
from tests.conftest import SHARED_DATA
from tests.web.test_committee import committee, funded  # noqa: F401 — the fixtures

RULES = json.loads((SHARED_DATA / "rules_example.json").read_text(encoding="utf-8"))


class FormFields(HTMLParser):
    """What a browser would send for the form `form_id`: inputs, checked boxes, selected options, textareas
    (no submit button: the one pressed is added by the test)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, MultiDict()
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.add(a["name"], a.get("value", "on"))
            else:
                self.fields.add(a["name"], a.get("value") or "")
        elif tag == "select":
            self.select, self.select_first, self.select_chosen = a.get("name"), None, False
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in a and not self.select_chosen:
                self.fields.add(self.select, value)
                self.select_chosen = True
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            if not self.select_chosen and self.select_first is not None:
                self.fields.add(self.select, self.select_first)
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.add(self.textarea, self.text.removeprefix("\n"))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.text += data


def form_fields(html: str) -> MultiDict:
    parser = FormFields("round-form")
    parser.feed(html)
    return parser.fields


def post(b, fields: MultiDict, **extra):
    data = MultiDict(fields)
    for key, value in extra.items():
        data.setlist(key, [value])
    data.setlist("csrf_token", [b.token])
    with b.app.app_context():
        return b.client.post("/rounds/new", data=data)


def shown_form(b, rules: dict) -> str:
    """The round form with `rules` loaded from the JSON view into the fields."""
    fields = form_fields(b.get("/rounds/new").get_data(as_text=True))
    fields.setlist("rules", [json.dumps(rules, ensure_ascii=False)])
    response = post(b, fields, edit="load_json")
    assert response.status_code == 200
    return response.get_data(as_text=True)


CASES = {**{f"preset {name}": rules for name, rules in PRESETS.items()}, "worked example": RULES}


@pytest.mark.parametrize("rules", CASES.values(), ids=CASES.keys())
def test_the_form_fields_give_back_the_rules_exactly(committee, rules):  # noqa: F811
    fields = form_fields(shown_form(committee, rules))
    assert "rules" in fields and "eligibility.kind" in fields
    back, errors = rules_form.rules_of(rules_form.draft_from_form(fields))
    assert errors == {}
    assert back == rules
    assert json.dumps(back, sort_keys=True) == json.dumps(rules, sort_keys=True)  # 30 stays 30, 6.5 stays 6.5


@pytest.mark.parametrize("name", PRESETS)
def test_a_preset_loads_into_the_form_and_creates_its_round(committee, funded, name):  # noqa: F811
    page = committee.get(f"/rounds/new?preset={name}").get_data(as_text=True)
    assert "Hoàn cảnh gia đình" in page or "Thành tích" in page
    fields = form_fields(page)
    fields.setlist("budget", ["40.000.000"])
    fields.setlist("fund", ["KH"])
    fields.setlist("unit", ["ST"])
    response = post(committee, fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.session.rollback()
    assert db.session.scalars(select(Round)).one().rules == PRESETS[name]


def test_the_form_speaks_the_import_files_words(committee):  # noqa: F811
    page = shown_form(committee, RULES)
    # "Hoàn cảnh gia đình" "là một trong" with the import file's value words, checked as the rules say
    assert '<option value="household" selected>Hoàn cảnh gia đình</option>' in page
    assert '<option value="in" selected>là một trong</option>' in page
    assert 'value="near_poor" checked> Hộ cận nghèo' in page
    assert 'name="eligibility.parts.1.value" value="6,5"' in page  # a decimal as Vietnamese write it
    assert 'name="amounts.primary" value="500.000"' in page
    assert 'name="tiers.0.name" value="Khuyến tài"' in page


def test_rows_are_added_and_removed(committee):  # noqa: F811
    fields = form_fields(shown_form(committee, RULES))
    added = form_fields(post(committee, fields, edit="add:quotas").get_data(as_text=True))
    assert "quotas.3.group" in added and "quotas.4.group" not in added
    removed = form_fields(post(committee, added, edit="remove:eligibility.parts.0").get_data(as_text=True))
    rules, _errors = rules_form.rules_of(rules_form.draft_from_form(removed))
    assert rules["eligibility"] == {"all": RULES["eligibility"]["all"][1:]}
    nested = form_fields(post(committee, removed, edit="add:eligibility.parts").get_data(as_text=True))
    assert "eligibility.parts.2.field" in nested


def test_a_comparison_turned_into_a_group_keeps_what_was_typed(committee):  # noqa: F811
    fields = form_fields(shown_form(committee, RULES))
    fields.setlist("eligibility.parts.1.kind", ["not"])
    page = post(committee, fields, edit="refresh").get_data(as_text=True)
    rules, errors = rules_form.rules_of(rules_form.draft_from_form(form_fields(page)))
    assert errors == {}
    assert rules["eligibility"]["all"][1] == {"not": {"field": "gpa", "op": "gte", "value": 6.5}}


def test_bad_values_are_named_next_to_their_field(committee, funded):  # noqa: F811
    fields = form_fields(shown_form(committee, RULES))
    fields.setlist("eligibility.parts.1.value", ["sáu rưỡi"])
    fields.setlist("quotas.0.max_awards", [""])
    fields.setlist("budget", ["40.000.000"])
    response = post(committee, fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-eligibility-parts-1-value-error" data-error-for="eligibility.parts.1.value" >Cần một số' in page
    assert 'data-error-for="quotas.0.max_awards" >Cần tối đa số suất hoặc tối đa số tiền.' in page
    assert 'name="eligibility.parts.1.value" value="sáu rưỡi"' in page  # what was typed stays
    db.session.rollback()
    assert db.session.scalars(select(Round)).first() is None


def test_the_check_answers_errors_by_field_as_you_type(committee):  # noqa: F811
    fields = form_fields(shown_form(committee, RULES))
    fields.setlist("tiers.0.amount", ["ba triệu"])
    fields.setlist("csrf_token", [committee.token])
    with committee.app.app_context():
        answer = committee.client.post("/rounds/rules/check", data=fields).json
    assert answer["errors"] == {"tiers.0.amount": "Cần số tiền bằng chữ số, ví dụ 500.000."}
    assert json.loads(answer["rules"])["eligibility"] == RULES["eligibility"]
    with committee.app.app_context():
        editor = committee.client.post("/rounds/rules/editor", data={**fields, "edit": "add:tie_break"})
    assert editor.status_code == 200 and 'name="tie_break.2.field"' in editor.get_data(as_text=True)


def test_json_that_is_not_an_object_is_refused_beside_the_json(committee):  # noqa: F811
    fields = form_fields(committee.get("/rounds/new").get_data(as_text=True))
    fields.setlist("rules", ["[1, 2]"])
    response = post(committee, fields, edit="load_json")
    assert response.status_code == 422
    assert "Quy tắc phải là một đối tượng JSON" in response.get_data(as_text=True)


def test_json_paths_of_the_validator_name_the_form_fields():
    assert rules_form.field_name("rules.eligibility.all[1].not.value[0]") == "eligibility.parts.1.parts.0.values"
    assert rules_form.field_name("rules.score[6].points_per_unit") == "score.6.points"
    assert rules_form.field_name("rules.quotas[1].max_awards") == "quotas.1.max_awards"
