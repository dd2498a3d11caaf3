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


def test_every_message_of_the_services_has_an_english_translation():
    """The services' Messages (fundsvc.messages: the nomination import's) are said in the reader's language."""
    found = {
        message
        for _f, _l, message, _c, _x in extract_from_dir(
            str(ROOT), [("fundsvc/**.py", "python")], keywords={"Message": None}
        )
        if isinstance(message, str)
    }
    assert len(found) > 30  # the import's messages at least
    with (ROOT / "translations/en/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="en")
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(found - set(translated))
    assert not missing, "untranslated (update translations/en/LC_MESSAGES/messages.po): " + "; ".join(missing[:10])
    # A translation uses only the values its template is given (the English may leave some out, or add the
    # English name given beside the header).
    import re

    names = re.compile(r"%\((\w+)\)s")
    for template in found:
        extra = set(names.findall(translated[template])) - set(names.findall(template)) - {"name_en", "expected_en"}
        assert not extra, (template, extra)
