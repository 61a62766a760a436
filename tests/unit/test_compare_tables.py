"""The Compare page's tables and notes (``explorer.charts.compare_tables``): titles, records in
people's words, the best of each column marked, "measuring…" where a number is still measured.
Expected values are computed here from the rows themselves, not from the module."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from explorer.analysis import compare
from explorer.charts import compare_tables as tables
from explorer.i18n import translator

NAMES = ["densenet-40-k12", "densenet-bc-100-k12", "googlenet"]


@pytest.fixture(scope="module")
def rows():
    return compare.comparison_rows(NAMES, 8, None, None, "original", measure=False)


def test_column_titles_say_the_batch_and_the_recipe():
    titles = tables.columns(1024, "newest")
    assert titles["activation_bytes"] == ("training activations at batch 1,024 (MiB)", 2**20, "{:,.1f}")
    assert titles["top1"][0] == "top-1 % (newest weights)"
    assert tables.columns(8, "original")["top5"][0] == "top-5 % (original recipe)"
    assert set(k for keys in tables.TABLES for k in keys) <= set(titles)
    japanese = tables.columns(8, "original", translator("ja"))
    assert japanese["params"][0] != "parameters" and japanese["macs"][1] == 1e9


def test_records_carry_the_words_and_the_latency_spread(rows):
    rows[0].latency_q1_ms, rows[0].latency_q3_ms = 1234.5, 2000.0
    try:
        records = tables.table_records(rows)
    finally:
        rows[0].latency_q1_ms = rows[0].latency_q3_ms = None
    assert [r["name"] for r in records] == NAMES
    assert [r["source"] for r in records] == ["analytic", "analytic", "analytic"]
    assert records[0]["latency_spread"] == "1,234.5–2,000.0" and records[1]["latency_spread"] is None
    assert records[2]["key_idea"] == rows[2].key_idea and records[2]["params"] == rows[2].params


def test_best_marks_compare_the_shown_value_scaled_back():
    best = {"params": 10, "macs": 1.5e9}
    assert tables.best_marks([10, 11, None], "params", None, best) == [tables.BEST_STYLE, "", ""]
    assert tables.best_marks([1.5, 2.0], "macs", 1e9, best) == [tables.BEST_STYLE, ""]
    assert tables.best_marks([1.0], "top1", None, best) == [""]  # no best known for the column


def test_tables_hold_the_rows_numbers_and_mark_the_best(rows):
    (cost, cost_wrapped), (quality, _wrapped) = tables.tables(rows, compare.best_values(rows), 8, "original")
    frame = cost.data
    assert list(frame.columns)[:3] == ["model", "input (px)", "parameters"]
    assert list(frame["parameters"]) == [r.params for r in rows]
    assert list(frame["GMACs per image"]) == pytest.approx([r.macs / 1e9 for r in rows])
    assert cost_wrapped == {"numbers": 5, "key idea": 9}
    html = cost.to_html()
    fewest = min(r.params for r in rows)
    assert f"{fewest:,}" in html and tables.BEST_STYLE.split(";")[0] in html
    assert "googlenet" in quality.data["model"].tolist()


def test_a_model_being_measured_shows_measuring():
    waiting = compare.ComparisonRow("resnet50", "published", "resnet", "", 224, 224, 8, 25_557_032, None, None,
                                    25_557_032 * 4, None)
    done = compare.comparison_rows(["densenet-40-k12"], 8)[0]
    (cost, _wrapped), _quality = tables.tables([waiting, done], compare.best_values([waiting, done]), 8, "original")
    html = cost.to_html()
    assert html.count(">measuring…<") == 3  # MACs, FLOPs and activations of the waiting row
    assert "published; measuring…" in html


def test_accuracy_notes_name_each_papers_figure(rows):
    text = tables.accuracy_notes(rows, "original", name=str.upper)
    lines = text.split("  \n")
    assert lines[0].startswith("Accuracy compares **original recipes (like with like)**: ")
    with_paper = [r for r in rows if r.paper_top1 is not None]
    assert len(lines) == 1 + len(with_paper)
    for line, r in zip(lines[1:], with_paper):
        assert line.startswith(f"{r.name.upper()}: the paper reports {r.paper_top1:.1f} % top-1")
    assert "newest torchvision weights" in tables.accuracy_notes(rows, "newest")


def _timing(name, median):
    return SimpleNamespace(name=name, batch_size=4, median_ms=median, q1_ms=median - 1, q3_ms=median + 1,
                           min_ms=median - 2, max_ms=median + 3, rounds=5, images_per_s=4000 / median,
                           device="cpu", threads=2)


def test_timings_table_formats_the_milliseconds():
    styled = tables.timings_table([_timing("a", 1234.5), _timing("b", 10.0)])
    assert list(styled.data["model"]) == ["a", "b"]
    assert list(styled.data["middle half (ms)"]) == ["1,233.5–1,235.5", "9.0–11.0"]
    html = styled.to_html()
    assert "1,234.5" in html and "400" in html  # images/s of b, no decimals


def test_spread_warning_names_the_noisy_models():
    assert tables.spread_warning(SimpleNamespace(noisy=[])) == ""
    text = tables.spread_warning(SimpleNamespace(noisy=["a", "b"]), name=str.upper)
    assert text.startswith("Wide spread: A, B (the middle half")
