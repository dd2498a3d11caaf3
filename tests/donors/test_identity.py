"""Donor identity, pure: the phone-number table, tax codes, folded names and their words."""

import pytest

from fundsvc.donations.identity import (
    IdentityError,
    name_words,
    normalize_phone,
    normalize_tax_code,
    same_name,
    search_digits,
)


@pytest.mark.parametrize(
    "typed", ["0912 345 678", "0912.345.678", "0912345678", "+84 912 345 678", "84912345678", "(+84) 912-345-678"]
)
def test_every_usual_spelling_of_a_mobile_number_is_one_stored_number(typed):
    assert normalize_phone(typed) == "0912345678"


def test_a_landline_keeps_its_area_code_and_a_foreign_number_is_e164():
    assert normalize_phone("(0299) 3 822 123") == "02993822123"
    assert normalize_phone("+1 650 253 0000") == "+16502530000"


@pytest.mark.parametrize("typed", ["abc", "12345", "0912345", "0299123456", "091234567890123"])
def test_a_number_that_is_not_valid_is_refused_with_a_message(typed):
    with pytest.raises(IdentityError, match="Số điện thoại không hợp lệ"):
        normalize_phone(typed)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2200123456", "2200123456"),
        ("2200 123 456", "2200123456"),
        ("0312345678-001", "0312345678-001"),
        ("0312345678 - 001", "0312345678-001"),
        ("0312345678001", "0312345678-001"),
        ("079 123 456 789", "079123456789"),
    ],
)
def test_tax_codes_are_stored_in_one_form(typed, stored):
    assert normalize_tax_code(typed) == stored


@pytest.mark.parametrize(
    "typed", ["220012345", "22001234567", "0312345678-01", "MST2200123456", "２２００１２３４５６"]
)
def test_a_tax_code_of_another_length_or_with_letters_is_refused(typed):
    with pytest.raises(IdentityError, match="Mã số thuế không hợp lệ"):
        normalize_tax_code(typed)


def test_names_compare_folded_and_a_different_name_differs():
    assert same_name("Trần Thị Hồng Nhung", "  TRAN thi  hong NHUNG ")
    assert not same_name("Chị Nhung", "Trần Thị Hồng Nhung")
    assert name_words("Đặng Văn-Út (Út)") == ["dang", "van", "ut"]


def test_a_phone_being_typed_searches_by_the_stored_digits():
    assert search_digits("0912 345") == "0912345"
    assert search_digits("+84 912") == "0912"
    assert search_digits("nguyen") is None
