"""The rules document's validation: unknown keys, bad operators, unknown fields and wrong types, by JSON path."""

from __future__ import annotations

import copy

import pytest

from fundsvc.allocation.rules import (
    PRESETS,
    RulesError,
    RulesSchema,
    flatten_errors,
    validate_condition,
    validate_rules,
)


def errors_of(doc) -> dict[str, list[str]]:
    with pytest.raises(RulesError) as exc:
        validate_rules(doc)
    return exc.value.errors


@pytest.fixture
def rules(example_rules):
    return copy.deepcopy(example_rules)


def test_example_and_presets_validate(example_rules):
    assert validate_rules(example_rules) == example_rules
    for name, preset in PRESETS.items():
        assert validate_rules(preset) == preset, name
    assert set(PRESETS) >= {"khuyen_hoc", "khuyen_tai"}


def test_validate_returns_a_copy(rules):
    out = validate_rules(rules)
    out["quotas"].clear()
    assert rules["quotas"]


def test_minimal_document():
    assert validate_rules({"version": 1, "amounts": {"primary": 500000}})


def test_schema_is_a_marshmallow_schema(rules):
    assert RulesSchema().validate(rules) == {}
    assert "foo" in RulesSchema().validate(dict(rules, foo=1))


def test_unknown_key_top_level(rules):
    rules["extra"] = 1
    assert errors_of(rules) == {"rules.extra": ["Unknown field."]}


@pytest.mark.parametrize(
    "mutate, path",
    [
        (lambda r: r["quotas"][1].update(foo=1), "rules.quotas[1].foo"),
        (lambda r: r["tiers"][0].update(colour="red"), "rules.tiers[0].colour"),
        (
            lambda r: r["eligibility"]["all"][0].update(note="x"),
            "rules.eligibility.all[0].note",
        ),
        (lambda r: r["score"][5].update(cap=10), "rules.score[5].cap"),
        (lambda r: r["score"][0].update(bonus=1), "rules.score[0].bonus"),
        (lambda r: r["eligibility"].update(unless=[]), "rules.eligibility.unless"),
    ],
)
def test_unknown_keys_at_every_level(rules, mutate, path):
    mutate(rules)
    errs = errors_of(rules)
    assert errs == {path: ["Unknown field."]}


def test_bad_operator(rules):
    rules["eligibility"]["all"][0]["op"] = "contains"
    errs = errors_of(rules)
    assert list(errs) == ["rules.eligibility.all[0].op"]
    assert "contains" in errs["rules.eligibility.all[0].op"][0]


def test_unknown_field(rules):
    rules["eligibility"]["all"][1]["field"] = "grade_point"
    rules["score"][5]["field"] = "height"
    rules["tiers"][0]["when"]["field"] = "prize"
    errs = errors_of(rules)
    assert set(errs) == {
        "rules.eligibility.all[1].field",
        "rules.score[5].field",
        "rules.tiers[0].when.field",
    }


def test_wrong_types(rules):
    rules["quotas"][1] = {"group": "school", "max_amount": "5000000"}
    rules["quotas"][0]["max_awards"] = 2.5
    rules["amounts"]["primary"] = -1
    rules["tiers"][0]["amount"] = True
    rules["version"] = 2
    rules["one_award_per_year"] = "yes"
    rules["min_score"] = "0"
    rules["tie_break"] = ["-gpa", "shoe_size"]
    errs = errors_of(rules)
    assert set(errs) == {
        "rules.quotas[1].max_amount",
        "rules.quotas[0].max_awards",
        "rules.amounts.primary",
        "rules.tiers[0].amount",
        "rules.version",
        "rules.one_award_per_year",
        "rules.min_score",
        "rules.tie_break[1]",
    }


def test_quota_needs_a_limit(rules):
    rules["quotas"][1] = {"group": "school"}
    assert errors_of(rules) == {"rules.quotas[1].max_awards": ["max_awards or max_amount is required."]}


def test_quota_value_must_fit_the_group(rules):
    rules["quotas"][2]["value"] = "college"
    assert list(errors_of(rules)) == ["rules.quotas[2].value"]


def test_value_must_fit_the_op_and_field(rules):
    elig = rules["eligibility"]["all"]
    elig[0]["value"] = "poor"  # in needs a list
    elig[1]["value"] = "6.5"  # a number for gpa
    elig[2]["value"] = ["excellent", "great"]  # not a conduct value
    rules["score"][2]["when"]["op"] = "gt"  # no order on a boolean
    rules["score"][3]["when"]["value"] = [True]  # eq needs a single value
    errs = errors_of(rules)
    assert set(errs) == {
        "rules.eligibility.all[0].value",
        "rules.eligibility.all[1].value",
        "rules.eligibility.all[2].value[1]",
        "rules.score[2].when.op",
        "rules.score[3].when.value",
    }
    assert errs["rules.eligibility.all[0].value"] == ["in needs a list."]


def test_nested_conditions(rules):
    rules["eligibility"] = {
        "any": [
            {"all": [{"field": "gpa", "op": "gte", "value": 8}]},
            {"not": {"field": "age", "op": "lte", "value": "ten"}},
            {"field": "birth_date", "op": "lt", "value": "2010-13-01"},
        ]
    }
    errs = errors_of(rules)
    assert set(errs) == {
        "rules.eligibility.any[1].not.value",
        "rules.eligibility.any[2].value",
    }


def test_empty_and_malformed_conditions(rules):
    rules["eligibility"] = {"all": []}
    rules["tiers"][0]["when"] = "achievement is national"
    errs = errors_of(rules)
    assert set(errs) == {"rules.eligibility.all", "rules.tiers[0].when"}


def test_missing_required(rules):
    del rules["version"]
    del rules["tiers"][0]["name"]
    del rules["eligibility"]["all"][0]["value"]
    errs = errors_of(rules)
    assert set(errs) == {
        "rules.version",
        "rules.tiers[0].name",
        "rules.eligibility.all[0].value",
    }


def test_something_must_give_an_amount():
    assert set(errors_of({"version": 1})) == {"rules.amounts"}
    assert set(errors_of({"version": 1, "amounts": {"kindergarten": 1}})) == {"rules.amounts.kindergarten"}


def test_not_an_object():
    assert errors_of([1, 2]) == {"rules": ["The rules must be an object."]}


def test_validate_condition_paths():
    validate_condition({"field": "district", "op": "eq", "value": "ST-MX"})
    with pytest.raises(RulesError) as exc:
        validate_condition({"any": [{"field": "district", "op": "eq", "value": 3}]})
    assert list(exc.value.errors) == ["restriction.any[0].value"]


def test_flatten_errors():
    msgs = {
        "quotas": {1: {"max_awards": ["bad"]}},
        "_schema": ["whole"],
        "eligibility": {"all": {0: {"op": ["x"]}}},
    }
    assert flatten_errors(msgs) == {
        "rules.quotas[1].max_awards": ["bad"],
        "rules": ["whole"],
        "rules.eligibility.all[0].op": ["x"],
    }


def test_error_message_names_the_path(rules):
    rules["quotas"][1]["max_amount"] = 0
    with pytest.raises(RulesError, match=r"rules\.quotas\[1\]\.max_amount"):
        validate_rules(rules)
