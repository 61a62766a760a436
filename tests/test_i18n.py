"""Translations: the catalog is in sync with the code, every message has Japanese, and the
language is chosen as the issue says (?lang=, then the browser, then English)."""

import re
import string
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from explorer.i18n import (LOCALE_DIR, choose_language, normalize_language, parse_accept_language, po_path,
                           translator)
from explorer.teach.exercises import make_exercises
from explorer.teach.glossary import TERMS

ROOT = Path(__file__).resolve().parents[1]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def extracted_ids() -> set:
    """What `make messages` extracts today, run in-process with the project's babel.cfg."""
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}  # what pybabel extract -k N_ uses
    ids = set()
    for folder in ("explorer", "pages"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map, options_map, keywords=keywords):
            ids.add(message)
    for message in extract_from_file("python", ROOT / "streamlit_app.py", keywords=keywords):
        ids.add(message[1])  # (line, message, comments, context)
    return ids


def catalog_ids(path) -> set:
    with open(path, "rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


@pytest.fixture(scope="module")
def ja_catalog():
    with open(po_path("ja"), "rb") as handle:
        return read_po(handle, locale="ja")


def test_catalog_in_sync_with_the_code():
    code = extracted_ids()
    assert len(code) > 200
    template = catalog_ids(LOCALE_DIR / "explorer.pot")
    assert code - template == set(), "run `make messages`: the code has messages the template lacks"
    assert template - code == set(), "run `make messages`: the template has messages the code dropped"
    assert catalog_ids(po_path("ja")) == template


def _fields(text: str) -> set:
    return {name for _lit, name, spec, _conv in string.Formatter().parse(text) if name is not None}


def test_every_message_has_a_japanese_translation(ja_catalog):
    messages = [m for m in ja_catalog if m.id]
    assert len(messages) > 200
    for m in messages:
        assert not m.fuzzy, m.id
        singular, translations = (m.id[0], m.string) if m.pluralizable else (m.id, (m.string,))
        for text in translations:
            assert text and JAPANESE.search(text), f"untranslated: {m.id!r}"
            # The same placeholders: a translation cannot drop or invent a number.
            assert _fields(text) == _fields(singular), m.id


def test_translator_and_fallbacks():
    ja = translator("ja")
    assert ja.gettext("Glossary") == "用語集"
    assert ja.gettext("Growth rate k") == "成長率 k"
    assert ja.ngettext("{n} exercise, seed {seed}", "{n} exercises, seed {seed}", 3) == "{n} 問、シード {seed}"
    en = translator("en")
    assert en.gettext("Glossary") == "Glossary"
    assert en.ngettext("{n} exercise, seed {seed}", "{n} exercises, seed {seed}", 1) == "{n} exercise, seed {seed}"
    assert translator("fr").lang == "en" and translator(None).lang == "en"
    assert ja.gettext("a message the catalog does not have") == "a message the catalog does not have"


@pytest.mark.parametrize("requested, locale, header, expected", [
    ("ja", "en-US", "en", "ja"),  # the URL wins
    ("EN", "ja-JP", None, "en"),
    (None, "ja-JP", None, "ja"),  # then the browser's locale
    (None, None, "fr-CH, fr;q=0.9, ja;q=0.8, en;q=0.7", "ja"),  # then Accept-Language, in q order
    (None, None, "en;q=0.3, ja;q=0.9", "ja"),
    (None, "de-DE", "ja;q=0", "en"),  # q=0 means "not this one"
    ("xx", None, None, "en"),  # else English
    (None, None, None, "en"),
])
def test_choose_language(requested, locale, header, expected):
    assert choose_language(requested, locale, header) == expected


def test_language_tags():
    assert normalize_language("ja_JP.UTF-8") == "ja"
    assert normalize_language("zh-TW") is None
    assert parse_accept_language("da, en-gb;q=0.8, en;q=0.7") == ["da", "en-gb", "en"]
    assert parse_accept_language("") == []


REQUIRED_TERMS = ["成長率", "圧縮率 θ", "ボトルネック層", "トランジション層", "遷移層", "デンスブロック", "密結合ブロック",
                  "1×1 畳み込み", "グローバル平均プーリング", "補助分類器", "次元削減", "カーディナリティ"]


def test_glossary_has_the_syllabus_terms_and_the_catalog_uses_them(ja_catalog):
    japanese = " ".join(t.ja for t in TERMS)
    for term in REQUIRED_TERMS:
        assert term in japanese, term
    translations = " ".join(m.string if isinstance(m.string, str) else " ".join(m.string) for m in ja_catalog)
    # The teaching text uses the glossary's words (the main name, before any alternative).
    for term in TERMS:
        main = re.split(r"[（(]", term.ja)[0].strip().removesuffix(" k").removesuffix(" θ")
        if main not in ("積和演算数", "ストライドとパディング"):  # shown on pages phase 2 translates
            assert main in translations, main


def test_numbers_are_the_same_in_both_languages():
    """Language changes words only: the same seed gives the same numbers, answers and links."""
    en, ja = make_exercises(14, 3, "en"), make_exercises(14, 3, "ja")
    for a, b in zip(en, ja):
        assert (a.kind, a.answer, a.params, a.link, list(a.choices)) == (b.kind, b.answer, b.params, b.link,
                                                                        list(b.choices))
        assert a.answer_text() == b.answer_text() or a.is_choice
        numbers = lambda text: re.findall(r"\d+(?:,\d{3})*(?:\.\d+)?", text)  # noqa: E731
        # Every number of the English question is in the Japanese one (which may add "1 グループ").
        assert not Counter(numbers(a.question)) - Counter(numbers(b.question)), a.kind
        assert a.question != b.question
