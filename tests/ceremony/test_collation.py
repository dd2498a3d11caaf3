"""Vietnamese collation: the alphabet's own letters, tones in dictionary order, names by given name first."""

import random

from hypothesis import given
from hypothesis import strategies as st

from fundsvc.documents.collation import name_sort_key, split_name, vietnamese_sort_key


def test_alphabet_order():
    letters = "a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y".split()
    shuffled = letters[:]
    random.Random(3).shuffle(shuffled)
    assert sorted(shuffled, key=vietnamese_sort_key) == letters
    assert sorted([x.upper() for x in shuffled], key=vietnamese_sort_key) == [x.upper() for x in letters]


def test_tones_in_dictionary_order():
    # ngang, huyền, hỏi, ngã, sắc, nặng; the letters decide before the tone does.
    words = ["ma", "mà", "mả", "mã", "má", "mạ", "mác", "mạc", "mai", "man"]
    assert sorted(reversed(words), key=vietnamese_sort_key) == words
    assert sorted(["ệ", "ê", "ế", "e", "ề", "ể", "ễ", "é"], key=vietnamese_sort_key) == [
        "e",
        "é",
        "ê",
        "ề",
        "ể",
        "ễ",
        "ế",
        "ệ",
    ]


def test_word_by_word():
    assert sorted(["mà ca", "ma cà", "ma ca"], key=vietnamese_sort_key) == ["ma ca", "ma cà", "mà ca"]


def test_not_code_point_order():
    # In code points Đ (U+0110) sorts after every ASCII letter, and "Ă" after "B".
    assert sorted(["Đức", "Dung", "Em"], key=vietnamese_sort_key) == ["Dung", "Đức", "Em"]
    assert sorted(["Bảo", "Ăn", "An"], key=vietnamese_sort_key) == ["An", "Ăn", "Bảo"]


def test_nfc_and_nfd_spellings_sort_together():
    import unicodedata

    nfc, nfd = "Nguyễn Thị Ánh", unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    assert vietnamese_sort_key(nfc) == vietnamese_sort_key(nfd)


def test_name_sort_key_given_name_first():
    names = [
        "Đặng Văn An",
        "Dương Văn An",
        "Lê Thị Ánh",
        "Lê Thị Anh",
        "Trần Minh Ân",
        "Nguyễn Văn Bình",
        "Phạm Thị Bé",
        "Lâm Quốc Đạt",
        "Sơn Thị Mỹ Dung",
    ]
    assert sorted(names, key=name_sort_key) == [
        "Dương Văn An",
        "Đặng Văn An",
        "Lê Thị Anh",
        "Lê Thị Ánh",
        "Trần Minh Ân",
        "Phạm Thị Bé",
        "Nguyễn Văn Bình",
        "Sơn Thị Mỹ Dung",
        "Lâm Quốc Đạt",
    ]
    assert split_name("  Thạch  Thị Sa Ry ") == ("Ry", "Thạch Thị Sa")


@given(st.lists(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyAĐàảãáạ ", max_size=12), max_size=20))
def test_total_order_is_stable(texts):
    once = sorted(texts, key=vietnamese_sort_key)
    assert sorted(reversed(once), key=vietnamese_sort_key) == once
    assert sorted(texts, key=name_sort_key) == sorted(reversed(texts), key=name_sort_key)
