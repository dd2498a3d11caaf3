"""Messages said in the reader's language: Vietnamese (the service's source language) unless the reader chose
English (fundsvc.web.i18n).

A pure layer (the nomination spreadsheet's parser) cannot know who reads it. It writes each message as a Message:
a str holding the Vietnamese text, so that it is compared, stored and logged as text, which also keeps its template
and values; `say(message)` words it in the language of the request at hand from the English catalogue
(translations/en/LC_MESSAGES/messages.po, whose msgids are the Vietnamese templates). One language per message,
never a Vietnamese text with an English gloss.

Templates use named placeholders (%(row)s); the English template may use any of the values given, and leave some
out ("name_en" beside "header", say).
"""

from __future__ import annotations

from typing import Any


class Message(str):
    """A Vietnamese message that knows its template and values (see the module's docstring)."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Message:
        self = super().__new__(cls, template % values if values else template)
        self.template = template
        self.values = values
        return self

    def __reduce__(self):
        return (_message, (self.template, self.values))


def _message(template: str, values: dict[str, Any]) -> Message:
    return Message(template, **values)


def say(text: Any) -> Any:
    """`text` in the current request's language when it is a Message (a plain text, or anything else, as it is)."""
    if not isinstance(text, Message):
        return text
    from flask_babel import gettext

    return gettext(text.template, **text.values) if text.values else gettext(text.template)


def said(value: Any) -> Any:
    """`value` with every Message inside it (in dicts, lists and tuples) said in the current request's language."""
    if isinstance(value, Message):
        return say(value)
    if isinstance(value, dict):
        return {key: said(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [said(item) for item in value]
    return value
