"""The web UI's languages: Vietnamese (the source language of every template) and English.

The English catalogue is `translations/en/LC_MESSAGES/messages.po`, read and compiled in memory when the app
starts, so a fresh clone needs no `pybabel compile` step. Refresh it after changing the templates with
`pybabel extract -F babel.cfg -o /tmp/messages.pot . && pybabel update -i /tmp/messages.pot -d translations`.
"""

from __future__ import annotations

from functools import cached_property
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import g, request, session
from flask_babel import Babel, Domain, get_locale

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT = "vi"
CATALOGUES = Path(__file__).resolve().parents[2] / "translations"
COOKIE = "lang"


def load_catalogue(lang: str) -> NullTranslations:
    """The compiled catalogue of `lang` from its .po file (Vietnamese, the source language, needs none)."""
    path = CATALOGUES / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)


class PoDomain(Domain):
    """A Flask-Babel domain whose catalogues come from the .po files, compiled once per process."""

    def __init__(self):
        super().__init__(domain="messages")
        self._catalogues: dict[str, NullTranslations] = {}

    def get_translations(self):
        lang = str(get_locale() or DEFAULT)
        if lang not in self._catalogues:
            self._catalogues[lang] = load_catalogue(lang)
        return self._catalogues[lang]


class WebBabel(Babel):
    @cached_property
    def domain_instance(self):
        return PoDomain()


def select_locale() -> str:
    """`?lang=` (remembered in a cookie), else the cookie, else Vietnamese."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        g.set_lang = wanted
        return wanted
    cookie = request.cookies.get(COOKIE) or session.get("lang")
    return cookie if cookie in LANGUAGES else DEFAULT


def remember_language(response):
    """after_request: keep a `?lang=` choice for a year."""
    lang = g.get("set_lang")
    if lang:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


babel = WebBabel()
