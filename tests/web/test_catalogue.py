"""The English catalogue covers every string of the web UI (Vietnamese is the templates' own language)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_web_string_has_an_english_translation():
    method_map = [("fundsvc/web/**.py", "python"), ("templates/web/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    found = {
        message
        for _f, _l, message, _c, _x in extract_from_dir(str(ROOT), method_map, keywords=keywords)
        if isinstance(message, str)
    }
    with (ROOT / "translations/en/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="en")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(found - translated)
    assert not missing, "untranslated (update translations/en/LC_MESSAGES/messages.po): " + "; ".join(missing[:10])
