"""Translations: standard gettext catalogs (``explorer/locale/<lang>/LC_MESSAGES/explorer.po``).

Messages are written in English in the code, marked with ``_("...")`` (translated at once) or
``N_("...")`` (marked for extraction, translated later: content stored as data), and extracted with
Babel (``make messages``). The ``.po`` files are the only source: they are compiled in memory the
first time a language is used, so nothing generated is committed or can be stale.

Numbers and units are formatted by ``explorer.units`` identically in every language.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
from pathlib import Path

LANGUAGES = ("en", "ja")  # English is the source language: its "catalog" is the identity
LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}
DEFAULT_LANGUAGE = "en"
DOMAIN = "explorer"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"


def N_(message: str) -> str:
    """Mark a message for extraction without translating it (the renderer translates it)."""
    return message


def format_template(template: str, params: dict, _) -> str:
    """``template`` translated by ``_`` and filled with ``params`` (the messages among them translated too)."""
    if not params:  # a ready text (it may hold braces of its own)
        return _(template)
    # Parameters are data (numbers, names, file names): only messages among them are translated.
    return _(template).format(**{name: value.translated(_) if hasattr(value, "translated") else value
                                 for name, value in params.items()})


class Message(str):
    """Text made where no reader's language is known (deep in the core): it *is* its English text
    (``str``, logs, comparisons), and keeps its ``N_``-marked template and parameters so that
    ``message.translated(_)`` gives the reader's language. Parameters may be messages themselves.

    ``Message(N_("{key}={value} is below {low}: used {low}"), key="k", value=0, low=1)``"""

    def __new__(cls, template: str, /, **params):
        self = super().__new__(cls, template.format(**params) if params else template)
        self.template, self.params = template, params
        return self

    def __reduce__(self):  # survives pickling (job results travel between processes)
        return (_message, (type(self), self.template, self.params))

    def translated(self, _) -> str:
        return format_template(self.template, self.params, _)


def _message(cls, template, params):
    return cls(template, **params)


def render(value, _) -> str:
    """``value`` in the language of ``_``: a ``Message`` or an ``ExplorerError`` (anything with
    ``translated``) is translated; other text is looked up in the catalog as it is; numbers are
    formatted as they are, identically in every language."""
    if hasattr(value, "translated"):
        return value.translated(_)
    if isinstance(value, str):
        return _(value)
    return value


class Translator:
    """A language's ``gettext`` and ``ngettext``; ``_ = translator("ja").gettext``."""

    def __init__(self, lang: str, catalog: gettext.NullTranslations) -> None:
        self.lang = lang
        self._catalog = catalog

    def gettext(self, message: str) -> str:
        return self._catalog.gettext(message) if message else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog.ngettext(singular, plural, n)

    __call__ = gettext


ENGLISH = Translator(DEFAULT_LANGUAGE, gettext.NullTranslations())
"""The source language: the default ``_`` of functions that take one (``def chart(..., _=ENGLISH)``)."""


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_po(lang: str):
    """The Babel ``Catalog`` of a language's ``.po`` file."""
    from babel.messages.pofile import read_po as _read_po

    with open(po_path(lang), "rb") as handle:
        return _read_po(handle, locale=lang, domain=DOMAIN)


@functools.lru_cache(maxsize=None)
def translator(lang: str | None = None) -> Translator:
    """The translator of ``lang`` (an unknown or missing language falls back to English).

    The ``.po`` is compiled to ``.mo`` bytes in memory once per process; fuzzy entries are skipped,
    as ``msgfmt`` does."""
    lang = normalize_language(lang) or DEFAULT_LANGUAGE
    if lang == DEFAULT_LANGUAGE:
        return ENGLISH
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, read_po(lang), use_fuzzy=False)
    buffer.seek(0)
    return Translator(lang, gettext.GNUTranslations(buffer))


def normalize_language(value: str | None) -> str | None:
    """'ja', 'ja-JP', 'ja_JP.UTF-8', 'JA' -> 'ja'; a language the app does not have -> None."""
    if not value or not isinstance(value, str):
        return None
    primary = re.split(r"[-_.;,\s]", value.strip().lower(), maxsplit=1)[0]
    return primary if primary in LANGUAGES else None


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an HTTP ``Accept-Language`` header, best first (q-values honoured, q=0 dropped)."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        if not tag.strip():
            continue
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _q, _p, tag in sorted(ranked)]


def choose_language(requested: str | None = None, browser_locale: str | None = None,
                    accept_language: str | None = None) -> str:
    """The language to show: an explicit choice (``?lang=``), else the browser's preferred language
    (its locale, then its ``Accept-Language`` list), else English."""
    for candidate in [requested, browser_locale, *parse_accept_language(accept_language)]:
        lang = normalize_language(candidate)
        if lang:
            return lang
    return DEFAULT_LANGUAGE
