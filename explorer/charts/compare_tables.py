"""The Compare page's tables and the notes under them, in people's words.

Pure functions: comparison rows in (``explorer.analysis.compare``), pandas objects and text out,
titles and words in the language of ``_`` (numbers formatted identically in every language). The
page draws them (``pages.ui.charts.show_table`` after ``fitted``); the CSV download keeps the
machine names (``compare.rows_csv``).
"""

from __future__ import annotations

import pandas as pd

from ..analysis import compare, latency
from ..i18n import ENGLISH, N_

RECIPE_WORDS = {"original": N_("original recipes (like with like)"), "newest": N_("newest weights (recipes differ)")}
SOURCE_WORDS = {"analytic": N_("analytic"), "measured": N_("measured"), "published": N_("published; measuring…")}
# Two tables, each whole at 1400 px with its headers on two lines at most (sixteen columns in one
# scrolled sideways inside it): what a model costs, then how well and how fast it does. The numbers
# first, then the words (on a phone the first columns are what shows without scrolling a table).
TABLES = (("name", "input_size", "params", "macs", "flops", "param_bytes", "activation_bytes", "source", "key_idea"),
          ("name", "top1", "top5", "newer_top1", "paper_top1", "weights_file_mb", "latency_ms", "latency_spread"))
WRAPPED = {"source": 5, "key_idea": 9}  # text columns that wrap (min width in em) instead of widening a table
BEST_STYLE = "background-color: #d4f4dd; font-weight: bold"
# The page's longer notes (translated where they are shown).
INTRO = N_("Project models (presets and your builds) use the exact analytic profile; other torchvision models are "
           "measured once (FlopCounterMode on a meta copy, sum of numel, bytes autograd saves) and cached. "
           "Accuracy and weights-file size are torchvision's published numbers (its installed weights metadata).")
RECIPE_HELP = N_("original: every model's weights trained with its paper's recipe (torchvision IMAGENET1K_V1). "
                 "newest: torchvision's 2021 recipe where it exists (ResNet-50 76.1 -> 80.9 %), which "
                 "compares training recipes as much as architectures")
BEST_NOTE = N_("Green: the best value in each column (fewest params/MACs/bytes, highest accuracy, fastest). "
               "Accuracy is published at each model's native input size; — means not "
               "published or not measured yet.")
LATENCY_NOTE = N_("Eval mode under torch.inference_mode, 1 warm-up run each, then interleaved rounds (every model in "
                  "turn); the median and the middle half of the rounds, in a worker process of the server (its device "
                  "and threads are stated with each result). Results are kept for this session.")


def columns(batch: int, recipe: str, _=ENGLISH) -> dict[str, tuple]:
    """Record key -> (column title in people's words, scale, number format); the numbers first,
    then the words (on a phone the first columns are what shows without scrolling the table)."""
    which = _("original recipe") if recipe == "original" else _("newest weights")
    return {
        "name": (_("model"), None, None),
        "input_size": (_("input (px)"), None, "{:,.0f}"), "params": (_("parameters"), None, "{:,.0f}"),
        "macs": (_("GMACs per image"), 1e9, "{:,.2f}"), "flops": (_("GFLOPs per image"), 1e9, "{:,.2f}"),
        "param_bytes": (_("weights (MiB)"), 2**20, "{:,.1f}"),
        "activation_bytes": (_("training activations at batch {batch} (MiB)").format(batch=f"{batch:,}"), 2**20,
                             "{:,.1f}"),
        "top1": (_("top-1 % ({which})").format(which=which), None, "{:.2f}"),
        "top5": (_("top-5 % ({which})").format(which=which), None, "{:.2f}"),
        "newer_top1": (_("top-1 % (newer recipe)"), None, "{:.2f}"),
        "paper_top1": (_("top-1 % (paper)"), None, "{:.1f}"),
        "weights_file_mb": (_("weights file (MB)"), None, "{:,.1f}"),
        "latency_ms": (_("forward ms at batch 1 (median)"), None, "{:,.1f}"),
        "latency_spread": (_("forward ms spread (middle half)"), None, None),
        "source": (_("numbers"), None, None), "key_idea": (_("key idea"), None, None),
    }


def table_records(rows: list, _=ENGLISH) -> list[dict]:
    """``compare.table_records`` with the words a table shows: where the numbers come from and the
    key idea in the reader's language, and the latency's middle half as text ("12.0–14.5")."""
    records = compare.table_records(rows)
    for record, r in zip(records, rows):
        record["source"] = _(SOURCE_WORDS.get(r.source, r.source))
        record["key_idea"] = _(r.key_idea)
        record["latency_spread"] = (f"{r.latency_q1_ms:,.1f}–{r.latency_q3_ms:,.1f}" if r.latency_q1_ms is not None
                                    else None)
    return records


def best_marks(values, key: str, scale: float | None, best: dict) -> list[str]:
    """The CSS of each cell of a column: ``BEST_STYLE`` where its value (shown divided by ``scale``)
    is the column's best (``compare.best_values``), else none."""
    scale = scale or 1
    return [BEST_STYLE if v is not None and not pd.isna(v) and key in best
            and abs(v * scale - best[key]) < 1e-9 * max(1, abs(best[key])) else "" for v in values]


def tables(rows: list, best: dict, batch: int, recipe: str, _=ENGLISH) -> list[tuple]:
    """The ``TABLES`` of ``rows`` in their order: per table, a Styler (numbers formatted, "—"
    where unknown, the best of each column marked, "measuring…" where a torchvision model's
    number is still being measured) and its wrapping text columns (title -> least width in em)."""
    titles = columns(batch, recipe, _)
    records = table_records(rows, _)
    by_title = {title: key for key, (title, *_rest) in titles.items()}
    found = []
    for keys in TABLES:
        frame = pd.DataFrame([{titles[k][0]: (r[k] / titles[k][1] if titles[k][1] and r[k] is not None else r[k])
                               for k in keys} for r in records])
        numeric = {titles[k][0]: titles[k][2] for k in keys if titles[k][2]}
        styled = frame.style.format(na_rep="—").format(numeric, na_rep="—").apply(
            lambda column: best_marks(column, by_title[column.name], titles[by_title[column.name]][1], best),
            subset=[titles[k][0] for k in keys if k in best])
        for i, r in enumerate(rows):
            waiting = [titles[k][0] for k in keys if r.pending and k in compare.MEASURED and getattr(r, k) is None]
            if waiting:
                styled = styled.format(lambda _v: _("measuring…"), subset=([i], waiting))
        found.append((styled, {titles[k][0]: em for k, em in WRAPPED.items() if k in keys}))
    return found


def accuracy_notes(rows: list, recipe: str, _=ENGLISH, name=str) -> str:
    """What the accuracy columns compare, and each paper's own figure where it differs (one line
    each, Markdown line breaks); ``name`` shows a model's name (a page escapes what a user typed)."""
    notes = [_("Accuracy compares **{recipes}**: ").format(recipes=_(RECIPE_WORDS[recipe]))
             + (_("every model's weights trained with its paper's recipe (torchvision IMAGENET1K_V1); the "
                  "newer-recipe column shows torchvision's 2021 retraining where one exists, for reference.")
                if recipe == "original" else
                _("each model's newest torchvision weights, so part of a difference is the training recipe, not "
                  "the architecture."))]
    notes += [_("{model}: the paper reports {top1} % top-1 / {top5} % top-5 — {source}.").format(
        model=name(r.name), top1=f"{r.paper_top1:.1f}", top5=f"{r.paper_top5:.1f}", source=_(r.paper_source))
        for r in rows if r.paper_top1 is not None]
    return "  \n".join(notes)


def timings_table(shown: list, _=ENGLISH):
    """The measured latencies (``latency`` results), one row each, as a Styler without its index."""
    titles = {"median": _("median ms"), "min": _("min ms"), "max": _("max ms"), "rate": _("images/s")}
    return pd.DataFrame([{_("model"): x.name, _("batch"): x.batch_size, titles["median"]: x.median_ms,
                          _("middle half (ms)"): f"{x.q1_ms:,.1f}–{x.q3_ms:,.1f}", titles["min"]: x.min_ms,
                          titles["max"]: x.max_ms, _("rounds"): x.rounds, titles["rate"]: x.images_per_s,
                          _("device"): latency.where_measured(x.device, x.threads, _)}
                         for x in shown]).style.format(
        {titles["median"]: "{:,.1f}", titles["min"]: "{:,.1f}", titles["max"]: "{:,.1f}",
         titles["rate"]: "{:,.0f}"}).hide(axis="index")


def spread_warning(run, _=ENGLISH, name=str) -> str:
    """A latency run's noisy models and what that means ("" for none); ``name`` shows a model's name."""
    if not run.noisy:
        return ""
    return _("Wide spread: {models} (the middle half of the rounds spans more than {share} of the "
             "median, or fewer than {rounds} rounds). The machine is busy or the model is tiny: no speed "
             "advice is drawn from these.").format(models=", ".join(map(name, run.noisy)),
                                                  share=f"{latency.WIDE_SPREAD:.0%}", rounds=latency.MIN_ROUNDS)
