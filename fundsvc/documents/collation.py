"""Vietnamese collation: the order of Vietnamese dictionaries and of class lists (pure, standard library only).

Letters: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y (the Latin letters f j w z, found in
borrowed names, take their Latin places). Syllables (words) compare letter by letter first; only syllables
with the same letters are then told apart by their tone, in the dictionaries' order: ngang, huyền, hỏi, ngã,
sắc, nặng. A phrase compares word by word, so "ma cà" < "mà ca". Case is ignored, except as a last tie-break.

Class lists order pupils by given name (the last word), then by the rest of the name: `name_sort_key`.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["name_sort_key", "split_name", "vietnamese_sort_key", "word_sort_key"]

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
# Vowel modifiers (NFD combining marks) turning a base letter into its own letter of the alphabet.
_BREVE, _CIRCUMFLEX, _HORN = "\u0306", "\u0302", "\u031b"
_MODIFIED = {
    ("a", _BREVE): "ă",
    ("a", _CIRCUMFLEX): "â",
    ("e", _CIRCUMFLEX): "ê",
    ("o", _CIRCUMFLEX): "ô",
    ("o", _HORN): "ơ",
    ("u", _HORN): "ư",
}
# Tone marks in dictionary order: ngang (none) 0, huyền 1, hỏi 2, ngã 3, sắc 4, nặng 5.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
# Digits first, then letters; anything else after every letter, by code point.
_DIGIT_BASE, _LETTER_BASE, _OTHER_BASE = 0, 100, 1000
_LETTER_RANK = {ch: _LETTER_BASE + i for i, ch in enumerate(_ALPHABET)}


def _letters(word: str) -> tuple[tuple[int, ...], int]:
    """(letter ranks, tone) of one word; the tone is the last tone mark found (a syllable carries one)."""
    ranks: list[int] = []
    tone = 0
    base: str | None = None
    marks: list[str] = []

    def flush() -> None:
        if base is None:
            return
        letter = base
        for mark in marks:
            letter = _MODIFIED.get((letter, mark), letter)
        if letter in _LETTER_RANK:
            ranks.append(_LETTER_RANK[letter])
        elif letter.isdigit():
            ranks.append(_DIGIT_BASE + int(letter) if letter in "0123456789" else _DIGIT_BASE + 10)
        else:
            ranks.append(_OTHER_BASE + ord(letter))

    # Ð (Icelandic eth) is a common mistyping of Đ.
    for ch in unicodedata.normalize("NFD", word.casefold().replace("ð", "đ")):
        if unicodedata.combining(ch):
            if ch in _TONES:
                tone = _TONES[ch]
            else:
                marks.append(ch)
            continue
        flush()
        base, marks = ch, []
    flush()
    return tuple(ranks), tone


@lru_cache(maxsize=65536)
def word_sort_key(word: str) -> tuple[tuple[int, ...], int]:
    """The sort key of one syllable: its letters in Vietnamese alphabet order, then its tone."""
    return _letters(word)


def vietnamese_sort_key(text: str | None) -> tuple:
    """A key that sorts Vietnamese text as dictionaries do (word by word: letters, then tone; then case)."""
    text = unicodedata.normalize("NFC", text or "")
    words = text.split()
    return (tuple(word_sort_key(w) for w in words), text)


def split_name(full_name: str) -> tuple[str, str]:
    """(given name, the rest): the given name is the last word of a Vietnamese full name."""
    words = unicodedata.normalize("NFC", full_name or "").split()
    if not words:
        return "", ""
    return words[-1], " ".join(words[:-1])


def name_sort_key(full_name: str | None) -> tuple:
    """The class-list key of a pupil's name: given name, then family and middle names, Vietnamese collation."""
    given, rest = split_name(full_name or "")
    return (
        word_sort_key(given) if given else ((), 0),
        tuple(word_sort_key(w) for w in rest.split()),
        unicodedata.normalize("NFC", full_name or ""),
    )
