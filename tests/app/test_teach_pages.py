"""Every translated page under AppTest, in English and Japanese: it renders without errors, and in
Japanese no English sentence is left untranslated (text, widget labels, table headers, metric labels
and the words inside its charts). Then the Learn, Glossary and Practice pages' own behaviour."""

import json
import math

import pytest
from streamlit.testing.v1 import AppTest

from explorer.teach.exercises import make_exercises
from explorer.teach.glossary import TERMS
from tests.helpers.apptest import JAPANESE, PAGES, chart_text, run, untranslated, visible_text

# The pages checked in both languages. Add yours here when it is translated ("home" is the app's
# start page, run through the real main script and its navigation); PAGE_QUERIES gives a page the
# query it is opened with in both languages, when it needs one.
TRANSLATED_PAGES = ["home", "learn", "glossary", "practice", "train", "compare", "densenet", "inception", "explain"]
PAGE_QUERIES = {"learn": {"seed": "7"}, "practice": {"seed": "7"}, "glossary": {"seed": "7"}}


@pytest.mark.parametrize("page", TRANSLATED_PAGES)
def test_page_renders_in_both_languages(page):
    english = run(page, "en", **PAGE_QUERIES.get(page, {}))
    japanese = run(page, "ja", **PAGE_QUERIES.get(page, {}))
    for app, lang in ((english, "en"), (japanese, "ja")):
        assert not app.exception and not app.error
        # every page carries the language in its address (settings pages beside their own settings)
        assert app.query_params["lang"] in ([lang], lang) and app.session_state["language"] == lang
    assert untranslated(visible_text(english)), "the detector finds English sentences"
    assert untranslated(visible_text(japanese)) == []
    assert visible_text(english) != visible_text(japanese)


def test_learn_page_panels_walkthroughs_and_topic_link():
    app = AppTest.from_file(str(PAGES / "learn.py"), default_timeout=120)
    app.query_params["lang"], app.query_params["topic"] = "ja", "depthwise"
    app.run()
    labels = [e.label for e in app.expander]
    assert "深さ方向分離可能畳み込み" in labels and "バッチ正規化・レイヤー正規化・インスタンス正規化・グループ正規化" in labels
    opened = [e for e in app.expander if e.proto.expanded]
    assert [e.label for e in opened] == ["深さ方向分離可能畳み込み"]
    # closed panels are filled only when opened (issue #24): only the linked one's formulas are drawn
    from explorer.teach.theory import PANEL_KEYS

    assert [x.value for x in app.latex] == [f"$$\n{f}\n$$" for f in PANEL_KEYS["depthwise"].formulas]
    text = "\n".join(m.value for m in app.markdown)
    assert "64 + 6 × 32 = 256" in text  # DenseNet-121's walkthrough
    assert "15,872" in text and "153,600" in text  # GoogLeNet 3a's 5×5 branch
    app.session_state["panel_concat_vs_add"] = True  # the reader opens another panel
    app.run()
    assert "(densenet?preset=densenet121&lang=ja)" in "\n".join(m.value for m in app.markdown)  # links keep the language
    assert len(app.latex) == len(PANEL_KEYS["depthwise"].formulas) + len(PANEL_KEYS["concat_vs_add"].formulas)


def test_glossary_lists_every_term_with_links_and_filters():
    app = run("glossary", "ja")
    text = "\n".join(m.value for m in app.markdown)
    for term in TERMS:
        assert term.ja in text and term.en in text
    links = [m.value for m in app.markdown if m.value.startswith("🔎 [確かめられるページ")]
    assert len(links) == len(TERMS) and all(link.endswith("lang=ja)") for link in links)
    assert "(learn?topic=growth_rate&lang=ja)" in text
    app.text_input(key="glossary_filter").input("成長率").run()
    assert [m.value for m in app.markdown if m.value.startswith("**")] == ["**成長率 k** · growth rate k"]


def test_practice_page_seed_checking_and_score():
    app = run("practice", "en", seed="7", count="3")
    expected = make_exercises(3, 7, "en")
    from pages.ui.teach import md_text  # the question as the page escapes it ("#1×1" mid-line is inert)

    assert md_text(expected[0].question) in [m.value for m in app.markdown]
    first = expected[0]
    if first.is_choice:
        app.radio(key="practice_answer_0").set_value(first.answer)
    else:
        app.text_input(key="practice_answer_0").input(f"{first.answer:,}")
    app.button(key="practice_check_0").click().run()
    assert app.success and app.success[0].value.startswith("Correct")
    assert app.metric[0].value == "1 / 1"
    second = expected[1]
    if second.is_choice:
        app.radio(key="practice_answer_1").set_value(next(k for k in second.choices if k != second.answer))
    else:
        app.text_input(key="practice_answer_1").input("1")
    app.button(key="practice_check_1").click().run()
    assert app.error and app.metric[0].value == "1 / 2"
    assert app.query_params["seed"] in (["7"], "7")
    links = [m.value for m in app.markdown if "[Show me in the explorer" in m.value]
    assert len(links) == 3 and all("lang=en" in link for link in links)


def test_practice_page_bad_seed_falls_back():
    app = run("practice", "ja", seed="not-a-number", count="2")
    assert not app.exception and not app.error
    assert len([m for m in app.markdown if "[エクスプローラーで確かめる" in m.value]) == 2


def test_practice_page_reads_kinds_and_count_from_a_link_and_keeps_the_set():
    app = run("practice", "en", seed="11", count="4", kinds="norm_axes")
    titles = [m.value for m in app.markdown if m.value.startswith("**") and ". " in m.value[:6]]
    assert titles == [f"**{i}. Normalisation axes**" for i in range(1, 5)]
    app.number_input(key="practice_seed").set_value(12).run()  # the learner changes the seed
    assert app.query_params["seed"] in (["12"], "12") and not app.exception
    questions = [m.value for m in app.markdown]
    assert make_exercises(4, 12, "en", ["norm_axes"])[0].question in questions
    assert not run("practice", "en", count="500").exception  # out of range: the default count


def test_home_page_and_its_links_in_japanese():
    app = run("home", "ja")
    assert not app.exception and [t.value for t in app.title] == ["CNN アーキテクチャ・エクスプローラー"]
    labels = [link.proto.label for link in app.get("page_link")]
    assert len(labels) == 8 and all(JAPANESE.search(label) for label in labels)
    assert labels[0] == "**DenseNet の構築**"
    assert "成長率、各ブロックの層数、圧縮率 θ" in app.caption[0].value  # its purpose, as text that wraps
    assert app.query_params["lang"] in (["ja"], "ja")


def test_chart_words_are_checked_too():
    """The detector reads a figure's title, axes, legend and hover text, not its numbers."""
    import plotly.graph_objects as go

    figure = go.Figure(go.Bar(x=[1, 2], y=[3, 4], name="channels per layer",
                              hovertemplate="layer %{x}<br>channels entering the layer %{y}<extra></extra>"))
    figure.update_layout(title="成長率", xaxis_title="チャネル数")
    words = chart_text(json.loads(figure.to_json()))
    assert "channels per layer" in words and untranslated(words) == ["layer channels entering the layer"]


def test_errors_and_link_notes_on_a_page_in_japanese():
    """A link whose batch is clamped to 4096 (then shown: the analytic profile has no memory budget,
    issue #23), and widgets holding a config that no transition survives: the note and the error in
    Japanese, with the same numbers as in English."""
    english = run("densenet", "en", batch="1e9")
    japanese = run("densenet", "ja", batch="1e9")
    assert "batch=1e9 is above 4096: used 4096" in english.warning[0].value
    assert "batch=1e9 は上限 4096 を超えています。4096 を使いました" in japanese.warning[0].value
    assert not english.error and not japanese.error

    def refused(lang: str) -> AppTest:
        app = AppTest.from_file(str(PAGES / "densenet.py"), default_timeout=120)
        app.query_params["lang"] = lang
        app.session_state["input_size"] = 8  # DenseNet-121's four blocks need at least 29 px
        return app.run()

    english, japanese = refused("en"), refused("ja")
    assert "8 px shrinks to nothing after transition 2; use at least 29 px" in english.error[0].value
    error = japanese.error[0].value
    from explorer.i18n import translator

    assert error.startswith(translator("ja")("Config refused — ") + "入力サイズ が正しくありません：8 px では")
    assert "29 px 以上にするか、ブロックを減らしてください" in error
    assert untranslated([error]) == []
    assert [m.value for m in japanese.metric] == [m.value for m in english.metric]  # densenet121 shown instead


def test_headline_numbers_are_identical_in_both_languages():
    english, japanese = run("densenet", "en"), run("densenet", "ja")
    values = [m.value for m in english.metric]
    # DenseNet-121: torchvision's 7,978,856 parameters and 2.83 GMACs; FLOPs = 2 × MACs
    assert values[:3] == ["7.98 M", "2.83 GMACs", "5.67 GFLOPs"]
    assert [m.value for m in japanese.metric] == values
    from explorer.i18n import translator

    ja = translator("ja")
    labels = [ja(label) for label in ("Parameters", "MACs", "FLOPs (2 × MACs)", "Weights (float32)")]
    assert [m.label for m in japanese.metric][:5] == [*labels, "活性化メモリ（バッチ 1）"]
    assert labels[0] == "パラメータ数" and all(JAPANESE.search(label) for label in labels)


def test_learn_page_in_presentation_mode():
    """?present=1 on Learn: the presentation toggle is on and the figures' text is 1.5 times larger
    (the same enlargement as on the Build pages)."""
    normal, big = run("learn", "en"), run("learn", "en", present="1")
    assert big.toggle(key="presentation_toggle").value is True and normal.toggle(key="presentation_toggle").value is False

    def font_sizes(app):
        return [json.loads(c.proto.spec)["layout"].get("font", {}).get("size", 14) for c in app.get("plotly_chart")]

    assert font_sizes(normal) and len(font_sizes(big)) == len(font_sizes(normal))
    assert all(b == math.ceil(1.5 * n) for n, b in zip(font_sizes(normal), font_sizes(big)))


@pytest.mark.parametrize("page, query", [("densenet", {"chart": "table"}), ("inception", {"view": "v3"}),
                                         ("inception", {"view": "module"})])
def test_build_page_tables_in_japanese(page, query):
    """The tables' headers and block kinds (explorer.charts.tables) in the reader's language."""
    app = run(page, "ja", **query)
    assert not app.exception and app.table
    for frame in app.table:
        columns = [str(c) for c in frame.value.columns]
        assert all(JAPANESE.search(c) for c in columns), columns
        assert untranslated(columns) == []


def _timed_page(path: str) -> None:
    """A page run as a script, its CPU time (this thread's: the server's cost, not the wait) kept."""
    import runpy
    import time

    import streamlit as st

    started = time.thread_time()
    runpy.run_path(path, run_name="__page__")
    st.session_state["_page_cpu_s"] = time.thread_time() - started


def test_learn_first_render_costs_the_server_little():
    """Issue #24: each visit to Learn cost ~1.2 s of server CPU (twenty visitors at once waited 31 s
    each). What does not depend on the reader is made once per language and kept, closed panels are
    filled only when opened: once one visitor per language has filled the caches, a new visitor's
    first render takes under 100 ms of CPU (~10 ms measured; CPU time, so a busy machine does not
    fail it)."""
    def first_render(lang: str) -> float:
        app = AppTest.from_function(_timed_page, args=(str(PAGES / "learn.py"),), default_timeout=120)
        app.query_params["lang"] = lang
        app.run()
        assert not app.exception and app.expander
        return app.session_state["_page_cpu_s"]

    for lang in ("en", "ja"):  # the caches' first visitors
        first_render(lang)
    assert first_render("en") < 0.1 and first_render("ja") < 0.1
