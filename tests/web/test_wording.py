"""The allocation's reasons and explanations worded for people, in Vietnamese and English (fundsvc/web/wording.py)."""

from __future__ import annotations

import pytest
from flask_babel import refresh

from fundsvc.privacy import redact_reason
from fundsvc.web.wording import check_text, reason_text, summary_text


@pytest.fixture
def words(app):
    def in_language(lang: str):
        ctx = app.test_request_context(f"/?lang={lang}")
        ctx.push()
        refresh()
        return ctx

    contexts = []

    def say(lang: str, fn, *args):
        contexts.append(in_language(lang))
        try:
            return fn(*args)
        finally:
            contexts.pop().pop()

    return say


REASONS = [
    (
        "household in [poor, near_poor, hardship]: none",
        "Hoàn cảnh gia đình: cần là Hộ nghèo, Hộ cận nghèo hoặc Khó khăn; hồ sơ ghi Không",
        "Family situation: must be Poor household, Near-poor household or Hardship; the record says None",
    ),
    (
        "gpa gte 6.5: 5.9",
        "Điểm trung bình: cần từ 6,5 trở lên; hồ sơ ghi 5,9",
        "Average mark: must be 6.5 or more; the record says 5.9",
    ),
    (
        "gpa gte 6.5: empty",
        "Điểm trung bình: cần từ 6,5 trở lên; hồ sơ để trống",
        "Average mark: must be 6.5 or more; the record leaves it empty",
    ),
    (
        "not orphan eq true: true",
        "Mồ côi: không được là có; hồ sơ ghi có",
        "Orphan: must not be yes; the record says yes",
    ),
    (
        "already holds an award in academic year 2024-2025",
        "Đã nhận học bổng ở đợt xét khác trong năm học 2024-2025",
        "Already holds an award from another round of academic year 2024-2025",
    ),
    ("withdrawn", "Hồ sơ đã rút", "The nomination was withdrawn"),
]


@pytest.mark.parametrize(("reason", "vi", "en"), REASONS)
def test_reasons_in_plain_words(words, reason, vi, en):
    assert words("vi", reason_text, reason) == vi
    assert words("en", reason_text, reason) == en


def test_no_machine_words_are_left(words):
    for reason, _vi, _en in REASONS:
        for lang in ("vi", "en"):
            text = words(lang, reason_text, reason)
            assert not [word for word in (" gte ", "[", "near_poor", ": empty", "true") if word in text]


def test_a_redacted_reason_says_it_is_hidden(words):
    assert words("vi", reason_text, redact_reason("gpa gte 6.5: 5.9")) == "Điểm trung bình: chưa đạt (chi tiết được ẩn)"


def test_a_check_in_words(words):
    check = {"field": "conduct", "op": "in", "expected": ["excellent", "good"], "actual": "pass", "negated": False}
    assert words("vi", check_text, check) == "Hạnh kiểm: cần là Tốt hoặc Khá; hồ sơ ghi Đạt"


def test_summaries(words):
    base = {"rank": 17, "ranked_count": 33, "score": "74.0", "amount": 500_000, "remaining_before": 0}
    budget = {**base, "outcome": "waitlisted", "reason": "budget"}
    assert (
        words("vi", summary_text, budget) == "Xếp hạng 17/33 với 74 điểm; mức 500.000 đ nhưng khi đến lượt chỉ còn 0 đ."
    )
    quota = {
        **base,
        "outcome": "waitlisted",
        "reason": "quota",
        "quota": {"group": "household", "value": "poor", "max_awards": 3, "used_awards": 3},
    }
    assert words("vi", summary_text, quota) == (
        "Xếp hạng 17/33 với 74 điểm; mức 500.000 đ nhưng Hoàn cảnh gia đình Hộ nghèo đã đủ hạn mức "
        "(tối đa 3 suất, đã có 3)."
    )
    awarded = {**base, "outcome": "awarded", "reason": None, "remaining_before": 1_500_000}
    assert words("en", summary_text, awarded).startswith("Rank 17 of 33 with 74 points; receives 500.000 đ")


def test_the_worked_example_rules_as_sentences(words):
    import json

    from tests.conftest import SHARED_DATA

    rules = json.loads((SHARED_DATA / "rules_example.json").read_text("utf-8"))
    from fundsvc.web.wording import rules_sentences

    sections = {s["title"]: s["items"] for s in words("vi", rules_sentences, rules)}
    eligibility = sections["Điều kiện xét"][0]
    assert eligibility["text"] == "Đủ tất cả các điều sau:"
    assert [p["text"] for p in eligibility["parts"]] == [
        "Hoàn cảnh gia đình là Hộ nghèo, Hộ cận nghèo hoặc Khó khăn",
        "Điểm trung bình từ 6,5 trở lên",
        "Hạnh kiểm là Tốt hoặc Khá",
    ]
    assert sections["Cách tính điểm"][0]["text"] == "Cộng 30 điểm nếu hoàn cảnh gia đình là Hộ nghèo"
    assert "Mỗi đơn vị: tối đa 3 suất" in [q["text"] for q in sections["Hạn mức"]]
    english = {s["title"]: s["items"] for s in words("en", rules_sentences, rules)}
    assert english["Eligibility"][0]["parts"][1]["text"] == "Average mark is 6.5 or more"
