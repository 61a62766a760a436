"""The Learn, Glossary and Practice pages under AppTest, in English and Japanese: they render
without errors, and in Japanese no English sentence is left untranslated."""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.teach.exercises import make_exercises
from explorer.teach.glossary import TERMS

PAGES = Path(__file__).resolve().parents[1] / "pages"
# Four English words in a row (names such as "DenseNet-BC", "#3×3 reduce" or "Inception v3" are shorter).
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ '-]+[A-Za-z]{2,}){3,}")


def run(page: str, lang: str, **params) -> AppTest:
    app = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=120)
    app.query_params["lang"] = lang
    for key, value in params.items():
        app.query_params[key] = value
    return app.run()


def visible_text(app: AppTest) -> list[str]:
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "error", "warning"):
        texts += [element.value for element in getattr(app, kind)]
    texts += [e.label for e in app.expander]
    for kind in ("button", "text_input", "number_input", "slider", "multiselect", "selectbox", "radio"):
        for widget in getattr(app, kind):
            texts.append(widget.label)
            if kind in ("multiselect", "selectbox"):
                texts += [str(o) for o in widget.options]
    texts += [str(column) for frame in app.dataframe for column in frame.value.columns]
    return texts


def untranslated(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets are URLs, not words
        text = re.sub(r"『[^』]*』", "『』", text)  # a cited paper's title keeps its own language
        text = text.replace("\\", "")
        found += ENGLISH_SENTENCE.findall(text)
    return found


@pytest.mark.parametrize("page", ["learn", "glossary", "practice"])
def test_page_renders_in_both_languages(page):
    english = run(page, "en", seed="7")
    japanese = run(page, "ja", seed="7")
    for app in (english, japanese):
        assert not app.exception and not app.error
        assert app.query_params["lang"] in (["en"], ["ja"], "en", "ja")
    assert untranslated(visible_text(english)), "the detector finds English sentences"
    assert untranslated(visible_text(japanese)) == []
    assert visible_text(english) != visible_text(japanese)


def test_learn_page_panels_walkthroughs_and_topic_link():
    app = run("learn", "ja", topic="depthwise")
    labels = [e.label for e in app.expander]
    assert "深さ方向分離可能畳み込み" in labels and "バッチ正規化・レイヤー正規化・インスタンス正規化・グループ正規化" in labels
    opened = [e for e in app.expander if e.proto.expanded]
    assert [e.label for e in opened] == ["深さ方向分離可能畳み込み"]
    text = "\n".join(m.value for m in app.markdown)
    assert "(densenet?preset=densenet121&lang=ja)" in text  # links keep the language
    assert "64 + 6 × 32 = 256" in text  # DenseNet-121's walkthrough
    assert "15,872" in text and "153,600" in text  # GoogLeNet 3a's 5×5 branch
    assert len(app.latex) >= 11


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
    assert expected[0].question.replace("#", "\\#") in [m.value for m in app.markdown]
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
