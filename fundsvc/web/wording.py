"""The allocation's reasons and explanations in plain words, Vietnamese or English (the reader's language).

The engine writes its reasons as short technical text (docs/rules.md "Result"; the API keeps them so); people read
them here, worded from one table of field labels and the value labels of `filters.LABELS`, the words the
nomination spreadsheet uses: "Hoàn cảnh gia đình: cần là Hộ nghèo, Hộ cận nghèo hoặc Khó khăn; hồ sơ ghi Không".
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import format_decimal, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from fundsvc.allocation.ruleset import AllOf, Comparison, Condition, Not, Ruleset, WhenTerm, read_reason, shown
from fundsvc.documents.words import format_vnd
from fundsvc.privacy import HIDDEN
from fundsvc.web.filters import LABELS

#: Each rules field as the nomination spreadsheet heads its column.
FIELD_LABELS = {
    "student_code": _l("Mã học sinh"),
    "full_name": _l("Họ và tên"),
    "birth_date": _l("Ngày sinh"),
    "age": _l("Tuổi"),
    "gender": _l("Giới tính"),
    "ethnicity": _l("Dân tộc"),
    "ethnic_minority": _l("Dân tộc thiểu số"),
    "school": _l("Trường"),
    "grade": _l("Lớp"),
    "level": _l("Cấp học"),
    "unit": _l("Đơn vị"),
    "district": _l("Huyện"),
    "household": _l("Hoàn cảnh gia đình"),
    "orphan": _l("Mồ côi"),
    "disability": _l("Khuyết tật"),
    "gpa": _l("Điểm trung bình"),
    "academic_result": _l("Học lực"),
    "conduct": _l("Hạnh kiểm"),
    "achievement": _l("Thành tích"),
    "guardian": _l("Người giám hộ"),
    "note": _l("Ghi chú"),
}
#: The fields whose values are codes with a label (filters.LABELS kind).
VALUE_KINDS = {
    "household": "household",
    "conduct": "rating",
    "academic_result": "rating",
    "achievement": "achievement",
    "level": "level",
    "gender": "gender",
}
_BOOLEAN_FIELDS = ("orphan", "disability", "ethnic_minority")
#: What a condition asks, by operator ("cần là …", "cần từ … trở lên").
_ASKS = {
    "eq": _l("là %(value)s"),
    "ne": _l("không phải %(value)s"),
    "in": _l("là %(value)s"),
    "not_in": _l("không phải %(value)s"),
    "gt": _l("lớn hơn %(value)s"),
    "gte": _l("từ %(value)s trở lên"),
    "lt": _l("nhỏ hơn %(value)s"),
    "lte": _l("không quá %(value)s"),
}

#: What a condition states, by operator, in a rule read as a sentence ("Điểm trung bình từ 6,5 trở lên"); in
#: Vietnamese the words of _ASKS, in English "is …" where _ASKS says "must be …".
_STATES = {
    "eq": lazy_pgettext("statement", "là %(value)s"),
    "ne": lazy_pgettext("statement", "không phải %(value)s"),
    "in": lazy_pgettext("statement", "là %(value)s"),
    "not_in": lazy_pgettext("statement", "không phải %(value)s"),
    "gt": lazy_pgettext("statement", "lớn hơn %(value)s"),
    "gte": lazy_pgettext("statement", "từ %(value)s trở lên"),
    "lt": lazy_pgettext("statement", "nhỏ hơn %(value)s"),
    "lte": lazy_pgettext("statement", "không quá %(value)s"),
}


#: The operators as the round form's drop-down names them ("Điểm trung bình" "từ … trở lên" "6,5").
OP_LABELS = {
    "eq": _l("là"),
    "ne": _l("không phải"),
    "in": _l("là một trong"),
    "not_in": _l("không là một trong"),
    "gt": _l("lớn hơn"),
    "gte": _l("từ … trở lên"),
    "lt": _l("nhỏ hơn"),
    "lte": _l("không quá"),
}


def value_choices(field: str) -> list[tuple[str, str]] | None:
    """The values a field may take, as (code, label) for a drop-down; None when it is typed (a number, a name)."""
    if field in _BOOLEAN_FIELDS:
        return [("true", _("có")), ("false", _("không"))]
    kind = VALUE_KINDS.get(field)
    if kind is None:
        return None
    return [(code, str(text)) for code, text in LABELS[kind].items()]


def field_label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field))


def value_text(field: str, shown: str) -> str:
    """One value as the reasons show it ("near_poor", "6.5", "true", "2012-05-01") in the reader's words."""
    if shown == "empty":
        return _("để trống")
    if field in _BOOLEAN_FIELDS or shown in ("true", "false"):
        return _("có") if shown == "true" else _("không")
    kind = VALUE_KINDS.get(field)
    if kind:
        return str(LABELS[kind].get(shown, shown))
    if field in ("gpa", "age"):
        try:
            return format_decimal(Decimal(shown))
        except InvalidOperation:
            return shown
    if field == "birth_date" and len(shown) == 10:
        year, month, day = shown.split("-")
        return f"{day}/{month}/{year}"
    return shown


def _values_text(field: str, shown: str) -> str:
    """A value, or a list "[a, b, c]" as "A, B hoặc C"."""
    if not (shown.startswith("[") and shown.endswith("]")):
        return value_text(field, shown)
    items = [value_text(field, item) for item in shown[1:-1].split(", ")]
    if len(items) == 1:
        return items[0]
    return _("%(items)s hoặc %(last)s", items=", ".join(items[:-1]), last=items[-1])


def comparison_text(field: str, op: str, expected: str, actual: str, negated: bool) -> str:
    """A comparison that failed, in words: what the rules ask and what the nomination says."""
    asks = _ASKS[op] % {"value": _values_text(field, expected)}
    if actual == "empty":
        found = _("hồ sơ để trống")
    else:
        found = _("hồ sơ ghi %(value)s", value=value_text(field, actual))
    if negated:
        return _("%(field)s: không được %(asks)s; %(found)s", field=field_label(field), asks=asks, found=found)
    return _("%(field)s: cần %(asks)s; %(found)s", field=field_label(field), asks=asks, found=found)


def reason_text(reason: str) -> str:
    """One of the engine's reasons (ruleset.read_reason) in words."""
    return _parts_text(read_reason(reason))


def check_text(check: dict) -> str:
    """A comparison of an explanation (engine.Check.as_dict) that did not come out as wanted, in words."""
    return comparison_text(
        check["field"], check["op"], shown(check["expected"]), shown(check["actual"]), check["negated"]
    )


def _parts_text(parts: dict) -> str:
    kind = parts["kind"]
    if kind == "comparison":
        return comparison_text(parts["field"], parts["op"], parts["expected"], parts["actual"], parts["negated"])
    if kind == "min_score":
        return _(
            "Điểm %(score)s, dưới mức tối thiểu %(minimum)s",
            score=number_text(parts["score"]),
            minimum=number_text(parts["minimum"]),
        )
    if kind == "no_amount":
        if parts["value"] == "empty":
            return _("Hồ sơ chưa ghi cấp học nên chưa có mức học bổng")
        return _("Quy tắc không có mức học bổng cho cấp học %(level)s", level=value_text("level", parts["value"]))
    if kind == "withdrawn":
        return _("Hồ sơ đã rút")
    if kind == "status":
        return _("Hồ sơ ở trạng thái %(status)s", status=parts["value"])
    if kind == "outside_unit":
        return _("Đơn vị %(unit)s không thuộc phạm vi của đợt xét", unit=parts["value"])
    if kind == "restriction":
        return _("Không đúng đối tượng của quỹ: %(reason)s", reason=_parts_text(parts["reason"]))
    if kind == "awarded_elsewhere":
        return _("Đã nhận học bổng ở đợt xét khác trong năm học %(year)s", year=parts["year"])
    return _hidden_text(parts["text"])


def _hidden_text(text: str) -> str:
    """A reason redacted for a reader who does not see pupils' data (privacy.redact_reason: "gpa gte …")."""
    if not text.endswith(HIDDEN):
        return text
    words = text.removeprefix("not ").split(" ")
    if words[0] in FIELD_LABELS:
        return _("%(field)s: chưa đạt (chi tiết được ẩn)", field=field_label(words[0]))
    return _("Chưa đạt một điều kiện (chi tiết được ẩn)")


def number_text(text) -> str:
    """A score, mark or points ("80.5", Decimal) as the reader writes numbers: "80,5" in Vietnamese."""
    if text is None or text == "":
        return ""
    try:
        return format_decimal(Decimal(str(text)))
    except InvalidOperation:
        return str(text)


def summary_text(x: dict) -> str:
    """The one-sentence account of an explanation (engine.explain's answer) in words."""
    if x["outcome"] == "ineligible":
        return _("Không đủ điều kiện: %(reasons)s.", reasons="; ".join(reason_text(r) for r in x["reasons"]))
    head = _(
        "Xếp hạng %(rank)s/%(count)s với %(score)s điểm",
        rank=x["rank"],
        count=x["ranked_count"],
        score=number_text(x["score"]),
    )
    amount = format_vnd(x["amount"])
    if x["outcome"] == "awarded":
        return _(
            "%(head)s; được nhận %(amount)s đ (trước lượt em còn %(before)s đ).",
            head=head,
            amount=amount,
            before=format_vnd(x["remaining_before"]),
        )
    if x["reason"] == "budget":
        return _(
            "%(head)s; mức %(amount)s đ nhưng khi đến lượt chỉ còn %(before)s đ.",
            head=head,
            amount=amount,
            before=format_vnd(x["remaining_before"]),
        )
    q = x["quota"]
    limits = []
    if "max_awards" in q:
        limits.append(_("tối đa %(n)s suất, đã có %(used)s", n=q["max_awards"], used=q["used_awards"]))
    if "max_amount" in q:
        limits.append(
            _(
                "tối đa %(max)s đ, đã dùng %(used)s đ",
                max=format_vnd(q["max_amount"]),
                used=format_vnd(q["used_amount"]),
            )
        )
    return _(
        "%(head)s; mức %(amount)s đ nhưng %(group)s %(value)s đã đủ hạn mức (%(limits)s).",
        head=head,
        amount=amount,
        group=field_label(q["group"]),
        value=value_text(q["group"], str(q["value"])),
        limits="; ".join(limits),
    )


# --- a round's rules as sentences ---------------------------------------------------------------------


def condition_sentence(cond: Condition) -> dict:
    """A condition as {"text": sentence, "parts": [the same for each part]} (parts for all / any / not)."""
    if isinstance(cond, Comparison):
        if cond.field in _BOOLEAN_FIELDS and cond.op in ("eq", "ne"):
            yes = (cond.value is True) == (cond.op == "eq")
            return {"text": f"{field_label(cond.field)}: {_('có') if yes else _('không')}", "parts": []}
        states = _STATES[cond.op] % {"value": _values_text(cond.field, shown(cond.value))}
        return {"text": f"{field_label(cond.field)} {states}", "parts": []}
    if isinstance(cond, Not):
        inner = condition_sentence(cond.part)
        if not inner["parts"]:
            return {"text": _("Không phải: %(condition)s", condition=inner["text"]), "parts": []}
        return {"text": _("Không phải trường hợp sau:"), "parts": [inner]}
    if len(cond.parts) == 1:
        return condition_sentence(cond.parts[0])
    head = _("Đủ tất cả các điều sau:") if isinstance(cond, AllOf) else _("Ít nhất một trong các điều sau:")
    return {"text": head, "parts": [condition_sentence(part) for part in cond.parts]}


def _with_condition(head: str, cond: Condition) -> dict:
    """ "head condition" on one line when the condition is one sentence, else "head:" over its parts."""
    sentence = condition_sentence(cond)
    if not sentence["parts"]:
        return {"text": f"{head} {sentence['text'][0].lower()}{sentence['text'][1:]}", "parts": []}
    return {"text": f"{head}:", "parts": [sentence]}


def rules_sentences(rules: dict) -> list[dict]:
    """A round's rules as sections of sentences for people: [{"title", "items": [condition_sentence-like]}]."""
    r = Ruleset.of(rules)
    sections = []
    if r.eligibility is not None:
        sections.append({"title": _("Điều kiện xét"), "items": [condition_sentence(r.eligibility)]})
    terms = []
    for term in r.terms:
        if isinstance(term, WhenTerm):
            terms.append(_with_condition(_("Cộng %(points)s điểm nếu", points=number_text(term.points)), term.when))
        else:
            terms.append(
                {
                    "text": _(
                        "Cộng %(points)s điểm cho mỗi đơn vị %(field)s",
                        points=number_text(term.points),
                        field=field_label(term.field),
                    ),
                    "parts": [],
                }
            )
    if r.min_score is not None:
        terms.append({"text": _("Cần ít nhất %(score)s điểm", score=number_text(r.min_score)), "parts": []})
    if terms:
        sections.append({"title": _("Cách tính điểm"), "items": terms})
    order = [_("Điểm cao xếp trước")]
    for field, descending in r.tie_break:
        order.append(
            _("bằng điểm thì %(field)s cao trước", field=field_label(field))
            if descending
            else _("bằng điểm thì %(field)s thấp trước", field=field_label(field))
        )
    sections.append({"title": _("Xếp hạng"), "items": [{"text": "; ".join(order), "parts": []}]})
    # The first tier that holds gives the amount; the level's amount otherwise (docs/rules.md "Amount and tiers").
    amounts = [
        _with_condition(_("Bậc %(name)s: %(amount)s đ nếu", name=tier.name, amount=format_vnd(tier.amount)), tier.when)
        for tier in r.tiers
    ]
    amounts += [
        {"text": f"{LABELS['level'].get(level, level)}: {format_vnd(amount)} đ", "parts": []}
        for level, amount in r.amounts.items()
    ]
    sections.append({"title": _("Mức học bổng"), "items": amounts})
    quotas = [{"text": _quota_sentence(q), "parts": []} for q in r.quotas]
    if r.one_award_per_year:
        quotas.append({"text": _("Mỗi em nhận nhiều nhất một suất trong năm học"), "parts": []})
    if quotas:
        sections.append({"title": _("Hạn mức"), "items": quotas})
    return sections


def _quota_sentence(q) -> str:
    limits = []
    if q.max_awards is not None:
        limits.append(_("tối đa %(n)s suất", n=q.max_awards))
    if q.max_amount is not None:
        limits.append(_("tối đa %(amount)s đ", amount=format_vnd(q.max_amount)))
    if q.has_value:
        return _(
            "%(field)s %(value)s: %(limits)s",
            field=field_label(q.group),
            value=value_text(q.group, shown(q.value)),
            limits=", ".join(limits),
        )
    return _("Mỗi %(field)s: %(limits)s", field=field_label(q.group).lower(), limits=", ".join(limits))


FILTERS = {
    "reason_text": reason_text,
    "check_text": check_text,
    "summary_text": summary_text,
    "field_label": field_label,
    "number": number_text,
    "rules_sentences": rules_sentences,
}
