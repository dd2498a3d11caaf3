"""The round form: a new round's name, budget, unit and fund, and its rules edited part by part.

The rules editor (`templates/web/_rules_editor.html`) is read back by `rules_form`; the JSON view beside it is
for power users, who may load it into the form or create the round from it as written. Two small endpoints
serve the page's script: the editor re-drawn after a row is added or removed or a drop-down changes what a row
asks (`/rounds/rules/editor`), and the rules checked as they are typed (`/rounds/rules/check`). Without the
script the same buttons post the whole form and the page comes back re-drawn.
"""

from __future__ import annotations

import copy
import json

from babel.numbers import get_decimal_symbol
from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from fundsvc.allocation import service as rounds
from fundsvc.allocation.operators import OPERATORS
from fundsvc.allocation.rules import DATE, FIELDS, LEVELS, PRESETS
from fundsvc.allocation.schemas import RoundIn
from fundsvc.extensions import db
from fundsvc.ledger.service import list_positions
from fundsvc.units.service import list_units
from fundsvc.web import rules_form
from fundsvc.web.auth import roles_required
from fundsvc.web.committee import PRESET_NAMES
from fundsvc.web.util import REFUSED, current_academic_year, flatten_errors, parse_amount
from fundsvc.web.views import bp
from fundsvc.web.wording import OP_LABELS, value_choices

#: What `rules_form.rules_of`'s error codes say next to the field.
MESSAGES = {
    "required": _l("Cần điền."),
    "number": _l("Cần một số, ví dụ 6,5."),
    "whole_number": _l("Cần một số nguyên dương."),
    "amount": _l("Cần số tiền bằng chữ số, ví dụ 500.000."),
    "date": _l("Cần một ngày."),
    "choose": _l("Chọn một mục trong danh sách."),
    "one_of": _l("Chọn một giá trị trong danh sách."),
    "ordered_op": _l("Phép so sánh này chỉ dùng cho số và ngày."),
    "limit": _l("Cần tối đa số suất hoặc tối đa số tiền."),
    "some_amount": _l("Cần mức học bổng cho ít nhất một cấp học hoặc một bậc."),
    "invalid": _l("Giá trị này chưa hợp lệ."),
}
assert set(MESSAGES) == set(rules_form.MESSAGES)

CONDITION_KINDS = {
    "cmp": _l("Điều kiện"),
    "all": _l("Đủ tất cả các điều sau"),
    "any": _l("Ít nhất một trong các điều sau"),
    "not": _l("Không phải trường hợp sau"),
}


def decimal_mark() -> str:
    """The reader's decimal separator: "," in Vietnamese, "." in English."""
    return get_decimal_symbol(str(get_locale() or "vi"))


def choices_in_order(field: str, chosen: list[str]) -> list[tuple[str, str]]:
    """A field's values for its checkboxes: the chosen first, in the rules' order (so the list comes back as it
    was written), then the others."""
    choices = value_choices(field) or []
    by_code = dict(choices)
    return [(code, by_code[code]) for code in chosen if code in by_code] + [c for c in choices if c[0] not in chosen]


def worded(errors: dict[str, str]) -> dict[str, str]:
    return {name: str(MESSAGES[code]) for name, code in errors.items()}


def _editor_context(draft: dict, errors: dict[str, str]) -> dict:
    return {
        "draft": draft,
        "e": errors,
        "field_names": list(FIELDS),
        "number_fields": rules_form.NUMBER_FIELDS,
        "date_fields": [name for name, (kind, _) in FIELDS.items() if kind == DATE],
        "levels": LEVELS,
        "ops": OPERATORS,
        "op_labels": OP_LABELS,
        "operators_for": rules_form.operators_for,
        "value_choices": value_choices,
        "choices_in_order": choices_in_order,
        "condition_kinds": CONDITION_KINDS,
    }


def _rules_json(rules: dict) -> str:
    return json.dumps(rules, ensure_ascii=False, indent=2)


def _defaults(preset: str) -> tuple[dict, dict]:
    """The form's values and the rules of a preset, for a new round."""
    rules = copy.deepcopy(PRESETS.get(preset) or PRESETS["khuyen_hoc"])
    year = current_academic_year()
    unit = None
    if g.actor.unit_id is not None:
        unit = next((u.code for u in list_units(db.session, g.actor) if u.id == g.actor.unit_id), None)
    values = {
        "name": f"{PRESET_NAMES.get(preset, PRESET_NAMES['khuyen_hoc'])} {year}",
        "academic_year": year,
        "budget": "",
        "unit": unit or "",
        "fund": "",
        "preset": preset if preset in PRESETS else "khuyen_hoc",
    }
    return values, rules


def _render(values: dict, draft: dict, errors: dict | None = None, other_errors=(), status: int = 200):
    rules, _codes = rules_form.rules_of(draft)
    values = {**values, "rules": values.get("rules") or _rules_json(rules)}
    return render_template(
        "web/round_form.html",
        values=values,
        errors=errors or {},
        other_errors=list(other_errors),
        units=list_units(db.session, g.actor),
        funds=list_positions(db.session, g.actor),
        presets=PRESET_NAMES,
        **_editor_context(draft, errors or {}),
    ), status


def _json_rules(text: str) -> tuple[dict | None, str | None]:
    """The JSON view's document, or the reason it cannot be read."""
    try:
        rules = json.loads(text or "")
    except json.JSONDecodeError as error:
        return None, _(
            "JSON không hợp lệ ở dòng %(line)s, cột %(col)s: %(msg)s", line=error.lineno, col=error.colno, msg=error.msg
        )
    if not isinstance(rules, dict):
        return None, _("Quy tắc phải là một đối tượng JSON { … }.")
    return rules, None


@bp.route("/rounds/new", methods=["GET", "POST"])
@roles_required("committee")
def round_new():
    """Start a round from a preset; edit every part of its rules in the form (or as JSON)."""
    if request.method == "GET":
        values, rules = _defaults(request.args.get("preset", "khuyen_hoc"))
        return _render(values, rules_form.draft_of(rules, decimal_mark()))[0]
    form = request.form
    values = {key: form.get(key, "").strip() for key in ("name", "academic_year", "budget", "unit", "fund", "preset")}
    draft = rules_form.draft_from_form(form)
    action = form.get("edit", "")
    if action == "load_json":
        rules, problem = _json_rules(form.get("rules", ""))
        if problem:
            return _render({**values, "rules": form.get("rules", "")}, draft, {"rules": problem}, status=422)
        return _render(values, rules_form.draft_of(rules, decimal_mark()))
    if action:
        return _render(values, rules_form.edit(draft, action))
    if form.get("source") == "json":
        rules, problem = _json_rules(form.get("rules", ""))
        if problem:
            flash(_("Chưa tạo được đợt xét: xem các lỗi bên dưới."), "error")
            return _render({**values, "rules": form.get("rules", "")}, draft, {"rules": problem}, status=422)
        return _create(values, rules_form.draft_of(rules, decimal_mark()), rules, {}, from_json=True)
    rules, codes = rules_form.rules_of(draft)
    return _create(values, draft, rules, worded(codes))


def _create(values: dict, draft: dict, rules: dict, errors: dict[str, str], from_json: bool = False):
    """Create the round, or show the form again with every error: the rules' next to their fields (in the JSON
    view's list when the JSON was used), the round's own above the form."""
    budget = parse_amount(values["budget"])
    if budget is None:
        errors["budget"] = _("Nhập ngân sách bằng chữ số, ví dụ 40.000.000")
    other: list[tuple[str, str]] = []
    if not errors:
        body = {key: values[key] for key in ("name", "academic_year", "fund", "unit")}
        try:
            round_ = rounds.create_round(
                db.session, g.actor, RoundIn().load({**body, "budget": budget, "rules": rules})
            )
        except ValidationError as error:
            other = flatten_errors(error.messages)
        except REFUSED as error:
            other = flatten_errors(error.errors) or [("", error.message)]
        else:
            flash(_("Đã tạo đợt xét “%(name)s”. Bấm Chạy phân bổ để xếp hạng.", name=round_.name), "success")
            return redirect(url_for("web.round_detail", round_id=round_.id))
    if not from_json:
        errors.update(
            {rules_form.field_name(path): str(MESSAGES["invalid"]) for path, _m in other if path.startswith("rules")}
        )
        other = [(path, message) for path, message in other if not path.startswith("rules")]
    flash(_("Chưa tạo được đợt xét: xem các lỗi bên dưới."), "error")
    return _render({**values, "rules": _rules_json(rules)}, draft, errors, other, status=422)


@bp.post("/rounds/rules/editor")
@roles_required("committee")
def rules_editor():
    """The rules editor re-drawn after an edit (the round form's script swaps it in)."""
    draft = rules_form.edit(rules_form.draft_from_form(request.form), request.form.get("edit", "refresh"))
    return render_template("web/_rules_editor.html", **_editor_context(draft, {}))


@bp.post("/rounds/rules/check")
@roles_required("committee")
def rules_check():
    """The posted rules editor checked: its errors by field name, in words, and the rules as JSON."""
    rules, codes = rules_form.rules_of(rules_form.draft_from_form(request.form))
    return jsonify({"errors": worded(codes), "rules": _rules_json(rules)})
