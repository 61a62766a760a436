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

ROOT = Path(__file__).resolve().parents[2]
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


# --- errors and notes made in the core, read in the reader's language -----------------------------

def test_config_errors_keep_their_english_line_and_translate_with_their_numbers():
    import pickle

    from explorer.errors import ConfigError
    from explorer.i18n import ENGLISH, render
    from explorer.models.densenet import DenseNetConfig

    with pytest.raises(ConfigError) as caught:
        DenseNetConfig(growth_rate=500)
    error = caught.value
    assert str(error) == "growth_rate: must be an integer from 1 to 128, got 500"  # logs and old tests
    assert error.translated(ENGLISH) == "growth rate k: must be an integer from 1 to 128, got 500"
    japanese = render(error, translator("ja"))
    assert japanese == "成長率 k が正しくありません：1 から 128 までの整数にしてください（指定値 500）"
    # It survives a trip between processes (a job's error) with its template and numbers.
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ConfigError and str(copy) == str(error) and render(copy, translator("ja")) == japanese


@pytest.mark.parametrize("make, english, japanese", [
    (lambda: __import__("explorer").models.densenet.DenseNetConfig(compression=0.001, block_config=(1, 1)),
     "theta=0.001 leaves no channels after block 1", "theta=0.001 では、ブロック 1（96 チャネル）の後のチャネルが 0"),
    (lambda: __import__("explorer").models.densenet.DenseNetConfig(input_size=16),
     "16 px shrinks to nothing after transition", "16 px では、トランジション層"),
    (lambda: __import__("explorer").profile("densenet121", batch_size=4096),
     None, None),
    (lambda: __import__("explorer").models.densenet.DenseNetConfig(block_config=(6, 0)),
     "block_config (block 2): must be an integer from 1 to 128, got 0",
     "デンスブロック 2 の層数 が正しくありません：1 から 128 までの整数にしてください（指定値 0）"),
    (lambda: __import__("explorer.sharing").sharing.read_config_json(b"{nope"),
     "file: not valid JSON", "ファイル が正しくありません：JSON として読めません"),
    (lambda: __import__("explorer.analysis.latency").analysis.latency.check_latency_memory(
        [(__import__("explorer.analysis.compare").analysis.compare.resolve_entry("densenet121"), 256, 1024)], 8 * 2**30),
     "timing densenet121 at batch 256 and 1024 px needs about 48 GiB of memory, over the 8 GiB available: reduce the "
     "batch to 42", "densenet121 をバッチ 256、1024 px で計測するには約 48 GiB のメモリが必要で、使える 8 GiB を超えます：バッチを 42 まで"),
    (lambda: __import__("explorer.analysis.sweep").analysis.sweep.sweep(
        __import__("explorer").models.densenet.PRESETS["densenet121"], "growth_rate", [12], "growth_rate", [12]),
     "sweep: choose two different hyperparameters", "スイープ が正しくありません：異なる 2 つのハイパーパラメータを選んでください"),
    (lambda: __import__("explorer").models.registry.resolve("resnet9000"),
     "preset: unknown preset 'resnet9000'", "不明なプリセット 'resnet9000' です"),
])
def test_core_errors_in_japanese(make, english, japanese):
    import explorer
    from explorer.errors import ExplorerError
    from explorer.i18n import render

    try:
        result = make()
        explorer.check_budget(result)  # the budget case raises here
        pytest.fail("no error")
    except ExplorerError as error:
        text = render(error, translator("ja"))
        if english is None:  # the budget: the same sizes in both languages
            assert "of training activations at batch 4096 (limit 8 GiB)" in str(error)
            sizes = re.findall(r"\d+(?:\.\d+)? [KMGT]?i?B", str(error))
            assert sizes and re.findall(r"\d+(?:\.\d+)? [KMGT]?i?B", text) == sizes
            assert "バッチ 4096 の学習時の活性化メモリ" in text
        else:
            assert english in str(error) and japanese in text, text
        assert JAPANESE.search(text) and "\n" not in text


def test_link_notes_are_english_text_that_translates():
    from explorer import sharing
    from explorer.i18n import Message, render
    from explorer.models.densenet import PRESETS

    config, notes = sharing.from_query({"k": "500", "theta": "x", "bottleneck": "2"}, PRESETS["densenet121"])
    assert config.growth_rate == 128
    assert notes == ["k=500 is above 128: used 128", "theta: not a number (ignored)", "bottleneck: not 0 or 1 (ignored)"]
    assert all(isinstance(note, Message) for note in notes)
    ja = translator("ja")
    assert [render(note, ja) for note in notes] == [
        "k=500 は上限 128 を超えています。128 を使いました", "theta：数値ではありません（無視しました）",
        "bottleneck：0 でも 1 でもありません（無視しました）"]
    name, _config, build_notes = sharing.build_from_text("mine|densenet|k=0")
    assert build_notes == ["build mine: k=0 is below 1: used 1"]
    assert render(build_notes[0], ja) == "モデル mine：k=0 は下限 1 未満です。1 を使いました"


def test_a_plain_text_error_still_works():
    from explorer.errors import ExplorerError
    from explorer.i18n import render

    error = ExplorerError("a {brace} in a ready text")  # no parameters: never formatted
    assert str(error) == "a {brace} in a ready text" == render(error, translator("ja"))


def test_navigation_titles_in_the_readers_language():
    from streamlit_app import PAGES, navigation_entries

    def listed(entries):  # what the side panel lists (the hidden /home copy of the home page is not)
        return [entry["title"] for entry in entries if entry.get("visibility") != "hidden"]

    ja_titles = listed(navigation_entries(translator("ja")))
    en_titles = listed(navigation_entries(translator("en")))
    assert ja_titles[:3] == ["はじめに", "DenseNet の構築", "Inception の構築"]
    assert en_titles == ["Start here", *(p.title for p in PAGES)]
    assert all(JAPANESE.search(title) for title in ja_titles)


def test_numbers_and_units_format_identically_in_both_languages():
    """explorer.units never reads a language or a locale: the same text in both; the pages show it."""
    import locale

    from explorer.units import format_bytes, format_count, format_macs

    before = (format_count(7978856), format_macs(2834161664), format_bytes(31915424))
    assert before == ("7.98 M", "2.83 GMACs", "30.4 MiB")  # DenseNet-121: torchvision's 7,978,856 params
    for name in ("ja_JP.UTF-8", "de_DE.UTF-8"):  # a decimal comma locale must not change them either
        try:
            locale.setlocale(locale.LC_ALL, name)
        except locale.Error:
            continue
        try:
            assert (format_count(7978856), format_macs(2834161664), format_bytes(31915424)) == before
        finally:
            locale.setlocale(locale.LC_ALL, "C")


def test_job_refusals_and_limits_in_japanese():
    import pickle

    from explorer.jobs.limits import Estimate, JobLimitError, JobRefused, Limits, limits_for
    from explorer.jobs.worker import memory_message
    from explorer.i18n import N_, render

    ja = translator("ja")
    with pytest.raises(JobRefused) as caught:
        limits_for(Estimate(bytes=2**40, seconds=1, reduce=N_("the common input size")), max_bytes=2**30)
    english = str(caught.value)
    assert english.startswith("this needs about 1 TiB of memory") and english.endswith("reduce the common input size")
    japanese = render(pickle.loads(pickle.dumps(caught.value)), ja)  # as it comes back from a job
    assert "1 TiB" in japanese and "共通の入力サイズを減らす" in japanese and JAPANESE.search(japanese)
    error = JobLimitError(memory_message(Limits(memory_bytes=3 * 2**30, seconds=10, cpu_seconds=10)))
    assert str(error).startswith("this job went over its memory limit of 3 GiB")
    assert render(error, ja) == "このジョブはメモリの上限 3 GiB を超えたため停止しました。規模を小さくしてもう一度試してください"


def test_upload_errors_of_the_train_page_in_japanese():
    """A zip of images and a weights file that cannot be used: the same line, in Japanese, with the
    file's name and the numbers kept."""
    from explorer.i18n import render
    from explorer.training.data import DatasetError, zip_dataset
    from explorer.training.weights import WeightsFileError, load_model

    ja = translator("ja")
    with pytest.raises(DatasetError) as caught:
        zip_dataset(b"not a zip", "flowers.zip")
    assert str(caught.value).startswith("flowers.zip: not a readable zip file")
    assert render(caught.value, ja).startswith("flowers.zip：読み込める zip ファイルではありません")
    with pytest.raises(WeightsFileError) as caught:
        load_model(b"\x00" * 4, "mine.safetensors")
    assert str(caught.value) == "mine.safetensors: not a safetensors file (too short)"
    assert render(caught.value, ja) == "mine.safetensors：safetensors ファイルではありません（短すぎる）"


def test_explain_errors_in_japanese():
    from explorer.errors import ConfigError
    from explorer.i18n import render
    from explorer.vision.overlay import overlay

    import numpy as np
    from PIL import Image

    with pytest.raises(ConfigError) as caught:
        overlay(Image.new("RGB", (8, 8)), np.zeros((8, 8), np.float32), 1.5)
    assert str(caught.value) == "alpha: opacity must be from 0 to 1, got 1.5"
    assert render(caught.value, translator("ja")).endswith("不透明度は 0 から 1 までにしてください（指定値 1.5）")
