"""Compare architectures side by side, and sweep a design space; all numbers come from explorer."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from explorer.charts import compare as charts, style
from explorer.analysis import advice, compare, latency, reference, torchvision_costs
from explorer.analysis import sweep
from explorer.models import limits
from explorer.models.registry import all_presets
from explorer.errors import ConfigError, ExplorerError
from explorer.i18n import N_, translator
from explorer.units import format_bytes, format_count, format_macs
from explorer import sharing
from explorer.models.registry import architecture_of
from explorer.jobs import JobCancelled, work
from pages.ui.charts import PreparedChart, chart_title, fitted, prepare, show_chart, show_table
from pages.ui.layout import view_selector
from pages.ui.state import presenting
from pages.ui.jobs import run_job
from pages.ui.messages import literal, show_error
from pages.ui.page import page_header
from pages.ui.settings import builder_link, link_notes, publish_settings, restore_settings, share_link, unknown_keys
from pages.ui.state import set_widget

state = st.session_state
DEFAULT_MODELS = list(reference.TORCHVISION_MODELS)
COMPARE_VIEWS = {"accuracy": N_("Accuracy vs MACs"), "size": N_("Params & MACs"), "memory": N_("Memory vs batch"),
                 "latency": N_("Latency"), "stages": N_("Channels per stage")}
SWEEP_VIEWS = {"params": N_("Params"), "macs": N_("MACs"), "activation_bytes": N_("Activation memory"),
               "scatter": N_("Params vs MACs")}
SWEEP_DEFAULTS = {"sweep_arch": "densenet", "sweep_base": "densenet121", "sweep_x": "growth_rate",
                  "sweep_y": "compression", "sweep_steps": 20, "sweep_batch": 32, "sweep_view": "params"}
SWEEP_LINK = {"sweep_arch": "sweep", "sweep_base": "sweep_base", "sweep_x": "sweep_x", "sweep_y": "sweep_y",
              "sweep_steps": "sweep_steps", "sweep_batch": "sweep_batch", "sweep_view": "sweep_view"}
# What the table can be sorted by: the model order chosen, or a column best first (compare.BETTER's
# columns, less the newer recipe's top-5, which the table does not show).
SORTS = ["chosen", *(k for k in compare.BETTER if k != "newer_top5")]
MAX_BUILDS = 12  # builds carried in the address
LINK_KEYS = {"models", "batch", "size", "acc", "view", "sort", "lat_batch", "rounds", "budget", "stage_a", "stage_b",
             "sweep_xr", "sweep_yr", *SWEEP_LINK.values(), *(f"build{i}" for i in range(1, MAX_BUILDS + 1))}


def defaults() -> dict:
    return {"compare_models": DEFAULT_MODELS, "compare_batch": 32, "compare_size_mode": "native",
            "compare_common_size": 224, "compare_accuracy": "original", "compare_view": "accuracy",
            "compare_latency_batch": 1,  # batch 1 alone keeps the default under budget
            "compare_repeats": 5, "compare_budget": int(latency.DEFAULT_BUDGET_S), "compare_sort": "chosen",
            **SWEEP_DEFAULTS}


def from_link(query: dict) -> tuple[dict, list[str]]:
    """The page's settings and the user's builds from its address (builds travel in it)."""
    notes = unknown_keys(query, LINK_KEYS)
    values = defaults()
    link_builds = {}
    for i in range(1, MAX_BUILDS + 1):
        if f"build{i}" in query:
            name, config, more = sharing.build_from_text(query[f"build{i}"])
            notes += more
            if config is not None:
                link_builds[name] = {"arch": architecture_of(config).name, "config": config.to_dict()}
    builds_now = {**state.get("comparison_builds", {}), **link_builds}
    values["comparison_builds"] = builds_now
    values["compare_seen_builds"] = list(builds_now)
    if "models" in query:
        allowed = compare.available_models(builds_now)
        wanted = [n for n in query["models"].split(",", 64)[:64] if n]
        unknown = [n for n in wanted if n not in allowed]
        if unknown:
            notes.append(f"models: unknown {', '.join(n[:30] for n in unknown[:3])} (ignored)")
        values["compare_models"] = [n for n in dict.fromkeys(wanted) if n in allowed]
    for key, field, default, low, high in (
            ("batch", "compare_batch", 32, *limits.BATCH_SIZE),
            ("size", "compare_common_size", 224, 75, torchvision_costs.MAX_INPUT),
            ("lat_batch", "compare_latency_batch", 1, 1, latency.MAX_LATENCY_BATCH),
            ("rounds", "compare_repeats", 5, 1, 50),
            ("budget", "compare_budget", values["compare_budget"], 1, work.LATENCY_MAX_BUDGET_S),
            ("sweep_steps", "sweep_steps", SWEEP_DEFAULTS["sweep_steps"], 2, 60),
            ("sweep_batch", "sweep_batch", 32, *limits.BATCH_SIZE)):
        values[field], more = sharing.read_int(query, key, default, low, high)
        notes += more
    if "size" in query:
        values["compare_size_mode"] = "common"
    values["compare_accuracy"], more = sharing.read_choice(query, "acc", "original", list(reference.RECIPES))
    notes += more
    values["compare_sort"], more = sharing.read_choice(query, "sort", "chosen", SORTS)
    notes += more
    values["sweep_arch"], more = sharing.read_choice(query, "sweep", "densenet", sweep.sweepable_archs())
    notes += more
    values["sweep_view"], more = sharing.read_choice(query, "sweep_view", "params", list(SWEEP_VIEWS))
    notes += more
    values["compare_view"], more = sharing.read_choice(query, "view", "accuracy", list(COMPARE_VIEWS))
    notes += more
    for field in ("sweep_base", "sweep_x", "sweep_y", "compare_stage_a", "compare_stage_b"):
        key = SWEEP_LINK.get(field, field.removeprefix("compare_"))
        if key in query:  # checked against what the page offers when it draws them
            values[field] = str(query[key])[:60]
    base_name = values["sweep_base"]
    if (base_name in sweep.preset_names(values["sweep_arch"])) and any(k in query for k in ("sweep_xr", "sweep_yr")):
        params = sweep.sweep_params(all_presets()[base_name][1])
        for key, field in (("sweep_xr", "sweep_x"), ("sweep_yr", "sweep_y")):
            p = params.get(values[field])
            if key in query and p is not None:
                ends, more = sharing.read_pair(query, key, p.low, p.high, p.integer)
                notes += more
                if ends is not None:
                    values[f"sweep_range_{values['sweep_arch']}_{p.name}"] = ends
    return values, notes


link_problems = restore_settings("compare", defaults, from_link)
builds = state.setdefault("comparison_builds", {})
options = compare.available_models(builds)

# Builds added on a Build page since the last visit join the selection.
seen = state.setdefault("compare_seen_builds", [])
new_builds = [name for name in builds if name not in seen]
if new_builds:
    state["compare_models"] = [n for n in state["compare_models"] if n not in new_builds] + new_builds
    seen.extend(new_builds)
set_widget("compare_models", [n for n in state["compare_models"] if n in options])
latencies = state.setdefault("compare_latencies", {})

RECIPE_WORDS = {"original": N_("original recipes (like with like)"), "newest": N_("newest weights (recipes differ)")}
SIZE_MODES = {"native": N_("native"), "common": N_("common")}

_ = page_header(__file__)
link_notes(link_problems)
on_projector = presenting()
if on_projector:  # tables as HTML (their text scales with the page; a data grid's does not)
    st.markdown("<style>[data-testid='stTable'] td, [data-testid='stTable'] th {font-size: 1.25rem;}</style>",
                unsafe_allow_html=True)
st.caption(_("Project models (presets and your builds) use the exact analytic profile; other torchvision models are "
             "measured once (FlopCounterMode on a meta copy, sum of numel, bytes autograd saves) and cached. "
             "Accuracy and weights-file size are torchvision's published numbers (its installed weights metadata)."))

# --- controls -------------------------------------------------------------------------------------
with st.sidebar:
    st.multiselect(_("Models"), options, key="compare_models", placeholder=_("Choose models"),
                   help=_("torchvision models, every Build-page preset, and builds you added on a Build page"))
    st.number_input(_("Batch size (activation memory)"), *limits.BATCH_SIZE, key="compare_batch")
    st.radio(_("Input size"), list(SIZE_MODES), key="compare_size_mode", horizontal=True,
             format_func=lambda mode: _(SIZE_MODES[mode]),
             help=_("native: each model's own (Inception v3: 299 px); common: the same size for all"))
    st.number_input(_("Common input size (px)"), 75, torchvision_costs.MAX_INPUT, key="compare_common_size",
                    disabled=state["compare_size_mode"] != "common")
    st.radio(_("Accuracy compared"), list(reference.RECIPES), key="compare_accuracy",
             format_func=lambda recipe: _(RECIPE_WORDS[recipe]),
             help=_("original: every model's weights trained with its paper's recipe (torchvision IMAGENET1K_V1). "
                    "newest: torchvision's 2021 recipe where it exists (ResNet-50 76.1 -> 80.9 %), which "
                    "compares training recipes as much as architectures"))

names = list(state["compare_models"])
batch = int(state["compare_batch"])
input_size = int(state["compare_common_size"]) if state["compare_size_mode"] == "common" else None
recipe = state["compare_accuracy"]


def _rows(names, batch, input_size, recipe):
    # At once: a torchvision model not measured yet shows its published numbers; the rest is measured
    # in one job at the end of the page (measure_pending), which then draws the page again.
    rows = compare.comparison_rows(names, batch, input_size, builds, recipe, measure=False)
    return sorted(rows, key=lambda r: r.name not in builds)  # the user's own builds first


try:
    rows = _rows(names, batch, input_size, recipe)
    state["compare_last_good"] = (names, batch, input_size, recipe)
except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
    show_error(error, _("Comparison refused — "))
    if "compare_last_good" not in state:
        st.stop()
    names, batch, input_size, recipe = state["compare_last_good"]
    rows = _rows(names, batch, input_size, recipe)
    st.info(_("Showing the last comparison that worked."))

latency.with_latency(rows, latencies, batch_size=1)

# --- the table ------------------------------------------------------------------------------------
which = _("original recipe") if recipe == "original" else _("newest weights")
COLUMNS = {  # record key -> (column title in people's words, scale, number format); the numbers first,
    # then the words (on a phone the first columns are what shows without scrolling the table)
    "name": (_("model"), None, None),
    "input_size": (_("input (px)"), None, "{:,.0f}"), "params": (_("parameters"), None, "{:,.0f}"),
    "macs": (_("GMACs per image"), 1e9, "{:,.2f}"), "flops": (_("GFLOPs per image"), 1e9, "{:,.2f}"),
    "param_bytes": (_("weights (MiB)"), 2**20, "{:,.1f}"),
    "activation_bytes": (_("training activations at batch {batch} (MiB)").format(batch=f"{batch:,}"), 2**20,
                         "{:,.1f}"),
    "top1": (_("top-1 % ({which})").format(which=which), None, "{:.2f}"),
    "top5": (_("top-5 % ({which})").format(which=which), None, "{:.2f}"),
    "newer_top1": (_("top-1 % (newer recipe)"), None, "{:.2f}"), "paper_top1": (_("top-1 % (paper)"), None, "{:.1f}"),
    "weights_file_mb": (_("weights file (MB)"), None, "{:,.1f}"),
    "latency_ms": (_("forward ms at batch 1 (median)"), None, "{:,.1f}"),
    "latency_spread": (_("forward ms spread (middle half)"), None, None),
    "source": (_("numbers"), None, None), "key_idea": (_("key idea"), None, None),
}
# Two tables, each whole at 1400 px with its headers on two lines at most (sixteen columns in one
# scrolled sideways inside it): what a model costs, then how well and how fast it does. The numbers
# first, then the words (on a phone the first columns are what shows without scrolling a table).
TABLES = (("name", "input_size", "params", "macs", "flops", "param_bytes", "activation_bytes", "source", "key_idea"),
          ("name", "top1", "top5", "newer_top1", "paper_top1", "weights_file_mb", "latency_ms", "latency_spread"))
WRAPPED = {"source": 5, "key_idea": 9}  # text columns that wrap (min width in em) instead of widening a table
SOURCE_WORDS = {"analytic": N_("analytic"), "measured": N_("measured"), "published": N_("published; measuring…")}
# A static table (a grid took ~0.3 s of a first visit and ~0.1 s of every redraw), sorted here.
if state.get("compare_sort") not in SORTS:
    state["compare_sort"] = "chosen"
st.selectbox(_("Sort by"), SORTS, key="compare_sort",
             format_func=lambda k: _("your choice of models (your builds first)") if k == "chosen" else COLUMNS[k][0],
             help=_("best first: fewest parameters, MACs, bytes and milliseconds; highest accuracy"))
table_rows = compare.sort_rows(rows, state["compare_sort"]) if state["compare_sort"] != "chosen" else rows
records = compare.table_records(table_rows)
for record, r in zip(records, table_rows):
    record["source"] = _(SOURCE_WORDS.get(r.source, r.source))
    record["key_idea"] = _(r.key_idea)
    record["latency_spread"] = (f"{r.latency_q1_ms:,.1f}–{r.latency_q3_ms:,.1f}" if r.latency_q1_ms is not None
                                else None)
best = compare.best_values(rows)


def _mark_best(column: pd.Series) -> list[str]:
    key = next(k for k, (title, *_rest) in COLUMNS.items() if title == column.name)
    scale = COLUMNS[key][1] or 1
    return ["background-color: #d4f4dd; font-weight: bold" if v is not None and not pd.isna(v)
            and abs(v * scale - best[key]) < 1e-9 * max(1, abs(best[key])) else "" for v in column]


def _table(keys: tuple[str, ...]):
    """One of the TABLES: its numbers formatted, the best of each column marked, "measuring…" where a
    torchvision model's number is still being measured."""
    frame = pd.DataFrame([{COLUMNS[k][0]: (r[k] / COLUMNS[k][1] if COLUMNS[k][1] and r[k] is not None else r[k])
                           for k in keys} for r in records])
    numeric = {COLUMNS[k][0]: COLUMNS[k][2] for k in keys if COLUMNS[k][2]}
    styled = frame.style.format(na_rep="—").format(numeric, na_rep="—").apply(
        _mark_best, subset=[COLUMNS[k][0] for k in keys if k in best])
    for i, r in enumerate(table_rows):
        waiting = [COLUMNS[k][0] for k in keys if r.pending and k in compare.MEASURED and getattr(r, k) is None]
        if waiting:
            styled = styled.format(lambda _v: _("measuring…"), subset=([i], waiting))
    return fitted(styled, {COLUMNS[k][0]: em for k, em in WRAPPED.items() if k in keys})


for keys in TABLES:  # user-typed build names escaped; in presentation mode the page style enlarges their text
    show_table(_table(keys))
measuring = st.container()  # the measurement's progress, under the tables (measure_pending, last on the page)
notes = [_("Accuracy compares **{recipes}**: ").format(recipes=_(RECIPE_WORDS[recipe]))
         + (_("every model's weights trained with its paper's recipe (torchvision IMAGENET1K_V1); the newer-recipe "
              "column shows torchvision's 2021 retraining where one exists, for reference.")
            if recipe == "original" else
            _("each model's newest torchvision weights, so part of a difference is the training recipe, not the "
              "architecture."))]
notes += [_("{model}: the paper reports {top1} % top-1 / {top5} % top-5 — {source}.").format(
    model=literal(r.name), top1=f"{r.paper_top1:.1f}", top5=f"{r.paper_top5:.1f}", source=_(r.paper_source))
    for r in rows if r.paper_top1 is not None]
st.caption("  \n".join(notes))
st.caption(_("Green: the best value in each column (fewest params/MACs/bytes, highest accuracy, fastest). "
             "Accuracy is published at each model's native input size; — means not "
             "published or not measured yet."))
st.download_button(_("Table (CSV)"), compare.rows_csv(table_rows), "comparison.csv", "text/csv", key="compare_csv")

# --- which to choose ------------------------------------------------------------------------------
st.subheader(_("Which to choose"))
lines = advice.tradeoffs(rows, latencies, latency_batch=1, _=_)
# A line names builds, and a build's name came from a user or a link: each line shows as typed.
st.markdown("\n".join(f"- {literal(line)}" for line in lines) or _("Choose at least two models."))
st.caption(_("Computed from the numbers above (accuracy: {recipes}; latency only where the measured spreads are "
             "narrow and do not overlap), not written by hand.").format(recipes=_(RECIPE_WORDS[recipe])))

# --- charts ---------------------------------------------------------------------------------------
# One view at a time: tabs would build and send every chart on every rerun, hidden ones included.
view = view_selector(_("Chart"), COMPARE_VIEWS, key="compare_view", _=_)
# Models still being measured join a chart once the numbers it draws are known.
waiting = [r.name for r in rows if r.pending and (view in ("memory", "stages") or r.macs is None)]
if waiting and view != "latency":
    st.caption(_("Being measured, drawn when ready: {models}.").format(models=", ".join(map(literal, waiting))))
if view == "accuracy":
    with st.container(key="compare_accuracy_box"):  # a Vega-Lite chart's key names no element: its box does
        show_chart(charts.accuracy_vs_macs(rows, _=_, font_scale=style.PRESENTATION_SCALE if on_projector else 1),
                   key="compare_chart_accuracy")
elif view == "size":
    show_chart(charts.size_compute_bars([r for r in rows if r.macs is not None], _=_), key="compare_chart_size")
elif view == "memory":
    batches = sorted({1, 2, 4, 8, 16, 32, 64, 128, 256, batch})
    curves = {r.name: (batches, compare.activation_curve(r.name, batches, input_size, builds)) for r in rows
              if not r.pending}
    show_chart(charts.activation_vs_batch(curves, _=_), key="compare_chart_memory")
elif view == "latency":
    c1, c2, c3 = st.columns(3)
    c1.number_input(_("Latency batch"), 1, latency.MAX_LATENCY_BATCH, key="compare_latency_batch",
                    persist_state="page")
    c2.number_input(_("Rounds (median)"), 1, 50, key="compare_repeats", persist_state="page",
                    help=_("every model runs once per round, in turn, so drift on a busy machine hits all alike"))
    c3.number_input(_("Time budget (s)"), 1, work.LATENCY_MAX_BUDGET_S, key="compare_budget", persist_state="page",
                    help=_("rounds that would end after the budget are not started; at most {limit} s, what one "
                           "job may run here").format(limit=work.LATENCY_MAX_BUDGET_S))
    lat_batch, repeats, budget = int(state["compare_latency_batch"]), int(state["compare_repeats"]), \
        float(state["compare_budget"])
    batches = sorted({1, lat_batch})
    if state.get("compare_latency_job_cancel"):  # Cancel was pressed during the last run
        st.info(_("Latency measurement cancelled; nothing was kept from it."))
    if st.button(_("Measure latency"), key="compare_measure_latency"):
        try:
            requests = [(compare.resolve_entry(r.name, builds), b, r.input_size) for r in rows for b in batches]
            run = run_job(work.measure_latencies, requests, repeats, budget,
                          cost=work.latency_cost(requests, repeats, budget), label=_("Timing forward passes:"),
                          key="compare_latency_job")
            for result in run.results:
                latencies[latency.latency_key(result.name, result.batch_size, result.input_size)] = result
            state["compare_latency_run"] = run
            st.rerun()  # redraw the table, the trade-offs and the chart with the new latencies
        except ExplorerError as error:
            show_error(error, _("Latency refused — "))
    run = state.get("compare_latency_run")
    shown = [latencies[k] for r in rows for b in batches
             if (k := latency.latency_key(r.name, b, r.input_size)) in latencies]
    if run is not None:
        (st.warning if run.stopped == "budget" else st.caption)(latency.run_summary(run, _))
        if run.noisy:
            st.warning(_("Wide spread: {models} (the middle half of the rounds spans more than {share} of the "
                         "median, or fewer than {rounds} rounds). The machine is busy or the model is tiny: no speed "
                         "advice is drawn from these.").format(models=", ".join(map(literal, run.noisy)),
                                                              share=f"{latency.WIDE_SPREAD:.0%}",
                                                              rounds=latency.MIN_ROUNDS), icon="⚠️")
    if shown:
        show_chart(charts.latency_bars(shown, _=_), key="compare_chart_latency")
        columns = {"median": _("median ms"), "min": _("min ms"), "max": _("max ms"), "rate": _("images/s")}
        timings = pd.DataFrame([{_("model"): x.name, _("batch"): x.batch_size, columns["median"]: x.median_ms,
                                 _("middle half (ms)"): f"{x.q1_ms:,.1f}–{x.q3_ms:,.1f}", columns["min"]: x.min_ms,
                                 columns["max"]: x.max_ms, _("rounds"): x.rounds, columns["rate"]: x.images_per_s,
                                 _("device"): latency.where_measured(x.device, x.threads, _)}
                                for x in shown]).style.format(
            {columns["median"]: "{:,.1f}", columns["min"]: "{:,.1f}", columns["max"]: "{:,.1f}",
             columns["rate"]: "{:,.0f}"}).hide(axis="index")
        if on_projector:
            show_table(timings)
        else:
            st.dataframe(timings, hide_index=True, key="compare_latency_table")
    st.caption(_("Eval mode under torch.inference_mode, 1 warm-up run each, then interleaved rounds (every model in "
                 "turn); the median and the middle half of the rounds, in a worker process of the server (its device "
                 "and threads are stated with each result). Results are kept for this session."))
elif view == "stages" and (names_now := [r.name for r in rows if not r.pending]):
    state.setdefault("compare_stage_a", names_now[0])
    state.setdefault("compare_stage_b", names_now[-1])
    for key in ("compare_stage_a", "compare_stage_b"):
        if state[key] not in names_now:
            state[key] = names_now[0]
    c1, c2 = st.columns(2)
    c1.selectbox(_("First model"), names_now, key="compare_stage_a", persist_state="page")
    c2.selectbox(_("Second model"), names_now, key="compare_stage_b", persist_state="page")
    by_name = {r.name: r.stages for r in rows}
    chosen = {n: by_name[n] for n in dict.fromkeys([state["compare_stage_a"], state["compare_stage_b"]])}
    show_chart(charts.stage_channels(chosen, _=_), key="compare_chart_stages")

# --- the address is the state: what differs from the defaults, and the user's builds -------------------
def _range_defaults(params) -> dict[str, tuple]:
    """The sweep's range sliders (state key -> default range) for the chosen axes."""
    found = {}
    for axis in dict.fromkeys((state["sweep_x"], state["sweep_y"])):
        p = params[axis]
        default = (8, 64) if axis == "growth_rate" else (p.low, p.high)
        found[f"sweep_range_{state['sweep_arch']}_{axis}"] = (tuple(int(v) for v in default) if p.integer
                                                              else tuple(float(v) for v in default))
    return found


def _publish(range_defaults: dict[str, tuple]) -> None:
    """Write the page's settings to its address and keep them for this session; draw the share box.
    Called by the sweep's fragment, last on the page, so that a sweep control (which reruns only
    the fragment) still updates the address, the kept settings and the share box."""
    base_values = defaults()
    address = {}
    if state["compare_models"] != base_values["compare_models"]:
        address["models"] = ",".join(state["compare_models"])
    for i, (name, build) in enumerate(list(builds.items())[:MAX_BUILDS], start=1):
        address[f"build{i}"] = sharing.build_to_text(name, compare.config_from_build(build))
    for key, field in (("batch", "compare_batch"), ("lat_batch", "compare_latency_batch"), ("rounds", "compare_repeats"),
                       ("budget", "compare_budget"), *((v, k) for k, v in SWEEP_LINK.items())):
        if state.get(field) != base_values[field]:
            address[key] = str(state[field])
    if state["compare_size_mode"] == "common":
        address["size"] = str(state["compare_common_size"])
    if state["compare_accuracy"] != "original":
        address["acc"] = state["compare_accuracy"]
    if state.get("compare_view", "accuracy") != "accuracy":
        address["view"] = state["compare_view"]
    if state.get("compare_sort", "chosen") != "chosen":
        address["sort"] = state["compare_sort"]
    for link_key, key in zip(("sweep_xr", "sweep_yr"), range_defaults):
        if state.get(key) != range_defaults[key]:
            address[link_key] = ",".join(repr(v) if isinstance(v, float) else str(v) for v in state[key])
    kept = {k: state[k] for k in base_values if k in state}
    kept.update({k: state[k] for k in (*range_defaults, "compare_stage_a", "compare_stage_b") if k in state})
    publish_settings("compare", kept, address)
    share_link(address)


def _front_caption(points: list[dict], front: list[bool], px, py) -> str:
    """What the Pareto front shows, or why there is none: one config cheapest on both counts."""
    best = {(p["params"], p["macs"]): p for p, keep in zip(points, front) if keep}
    if len(best) >= 2:
        return _("{n} configs are on the Pareto front (red line): for each, no other config has both fewer "
                 "parameters and fewer MACs. These are the trade-offs worth choosing between.").format(n=len(best))
    if not best:
        return ""
    p = next(iter(best.values()))
    return _("No Pareto front here: one config, {x} = {xv} and {y} = {yv}, has both the fewest parameters ({params}) "
             "and the fewest MACs ({macs}) of the whole grid (red diamond), so it beats every other point on both "
             "counts and there is no trade-off between the two to draw. Both counts grow together over these "
             "ranges; sweep a hyperparameter that trades one for the other, or weigh a third goal such as "
             "accuracy.").format(x=_(px.label), xv=p["x"], y=_(py.label), yv=p["y"],
                                 params=format_count(p["params"]), macs=format_macs(p["macs"]))


@st.cache_resource(max_entries=32, show_spinner=False)
def _sweep_result(base_name: str, x: str, xs: tuple, y: str, ys: tuple, batch: int):
    """The grid of one sweep, computed once for every session (read only)."""
    return sweep.sweep(all_presets()[base_name][1], x, list(xs), y, list(ys), batch)


@st.cache_resource(max_entries=128, show_spinner=False)
def _sweep_chart(signature: tuple, view: str, lang: str, present: bool) -> PreparedChart:
    """A heatmap of one metric, or ("scatter") params vs MACs with the Pareto front and the presets,
    of the sweep ``signature`` (``_sweep_result``'s arguments), ready to send."""
    result = _sweep_result(*signature)
    words = translator(lang)
    if view != "scatter":
        return prepare(charts.sweep_heatmap(result, view, _=words), present)
    points = result.points
    front = sweep.pareto_front([p["params"] for p in points], [p["macs"] for p in points])
    base = all_presets()[signature[0]][1]
    presets_drawn = sweep.preset_points(result.arch, 1, getattr(base, "stem", None))
    return prepare(charts.sweep_scatter(points, front, presets_drawn, words(result.x.label), words(result.y.label),
                                        _=words), present)


def _sweep_scatter(signature: tuple, points: list[dict], base, result, px, py, on_projector: bool) -> None:
    """Params vs MACs of every grid point with its Pareto front; clicking a point opens its config
    in its Build page."""
    front = sweep.pareto_front([p["params"] for p in points], [p["macs"] for p in points])
    scatter = _sweep_chart(signature, "scatter", _.lang, on_projector)
    chart_title(scatter.title)
    event = st.plotly_chart(scatter.figure, key="sweep_scatter", on_select="rerun", selection_mode="points",
                            width="stretch", config={"displaylogo": False, "responsive": True})
    st.caption(_front_caption(points, front, px, py))
    selected = [p for p in (event.selection.get("points", []) if event else []) if p.get("curve_number", 0) == 0
                and p.get("customdata")]
    if not selected:
        return
    ix, iy = int(selected[0]["customdata"][0]), int(selected[0]["customdata"][1])
    loaded = (state["sweep_base"], px.name, result.x_values[ix], py.name, result.y_values[iy])
    if state.get("sweep_loaded") == loaded:
        return
    state["sweep_loaded"] = loaded
    try:
        config = sweep.config_at(base, px, result.x_values[ix], py, result.y_values[iy])
        target = builder_link(config, state["sweep_base"], int(state["sweep_batch"]))
        if target is not None:
            st.switch_page(target[0], query_params=target[1])
        st.info(_("{arch} configs open in no Build page yet; here is the config.").format(arch=result.arch))
        st.code(json.dumps(config.to_dict(), indent=2), language="json")
    except ExplorerError as error:
        show_error(error)


# --- design-space sweep: a fragment (its controls rerun only this part of the page) ----------------
@st.fragment
def sweep_section() -> None:
    st.header(_("Design-space sweep"))
    st.caption(_("Two hyperparameters over a grid, every point from the analytic profile. Click a point on the "
                 "scatter to open that config in its Build page."))
    archs = sweep.sweepable_archs()
    if state.get("sweep_arch") not in archs:
        state["sweep_arch"] = "densenet" if "densenet" in archs else archs[0]
    c1, c2 = st.columns(2)
    c1.selectbox(_("Architecture"), archs, key="sweep_arch")
    presets = sweep.preset_names(state["sweep_arch"])
    if state.get("sweep_base") not in presets:
        state["sweep_base"] = "densenet121" if "densenet121" in presets else presets[0]
    c2.selectbox(_("Start from preset"), presets, key="sweep_base")
    base = all_presets()[state["sweep_base"]][1]
    params = sweep.sweep_params(base)
    param_names = list(params)
    if state.get("sweep_x") not in param_names:
        state["sweep_x"] = "growth_rate" if "growth_rate" in params else param_names[0]
    if state.get("sweep_y") not in param_names:
        state["sweep_y"] = next(n for n in (["compression", "input_size"] + param_names) if n in params and n != state["sweep_x"])
    c1, c2, c3, c4 = st.columns(4)
    c1.selectbox("x", param_names, key="sweep_x", format_func=lambda n: _(params[n].label))
    c2.selectbox("y", param_names, key="sweep_y", format_func=lambda n: _(params[n].label))
    c3.slider(_("Steps per axis"), 2, 60, key="sweep_steps")
    c4.number_input(_("Batch (activation memory)"), *limits.BATCH_SIZE, key="sweep_batch")
    ranges = {}
    c1, c2 = st.columns(2)
    for col, (key, default) in zip((c1, c2), _range_defaults(params).items()):
        p = params[key.removeprefix(f"sweep_range_{state['sweep_arch']}_")]
        axis = p.name
        state.setdefault(key, default)
        col.slider(_("{what} range").format(what=_(p.label)), int(p.low) if p.integer else float(p.low),
                   int(p.high) if p.integer else float(p.high), key=key,
                   step=1 if p.integer else 0.01)
        ranges[axis] = state[key]

    try:
        if state["sweep_x"] == state["sweep_y"]:
            raise ConfigError("sweep", _("choose two different hyperparameters for x and y"))
        px, py = params[state["sweep_x"]], params[state["sweep_y"]]
        steps = int(state["sweep_steps"])
        xs = sweep.axis_values(px, *ranges[px.name], steps)
        ys = sweep.axis_values(py, *ranges[py.name], steps)
        signature = (state["sweep_base"], px.name, tuple(xs), py.name, tuple(ys), int(state["sweep_batch"]))
        with st.spinner(_("Sweeping…")):
            result = _sweep_result(*signature)
        state["sweep_last_good"] = signature
    except Exception as error:  # noqa: BLE001
        show_error(error, _("Sweep refused — "))
        signature = state.get("sweep_last_good")
        result = _sweep_result(*signature) if signature else None
        if result is not None:
            st.info(_("Showing the last sweep that worked."))
            px, py, xs, ys = result.x, result.y, result.x_values, result.y_values

    if result is not None:
        points = result.points
        if result.errors:
            st.caption(_("{refused} of {total} configs are refused (blank cells; hover for why).").format(
                refused=len(result.errors), total=len(xs) * len(ys)))
        # One sweep chart at a time (a heatmap or the scatter); figures are built once per sweep, view,
        # language and size, for all sessions.
        metric = view_selector(_("Sweep chart"), SWEEP_VIEWS, key="sweep_view", _=_)
        if metric == "scatter":
            _sweep_scatter(signature, points, base, result, px, py, on_projector)
        else:
            show_chart(_sweep_chart(signature, metric, _.lang, on_projector), key=f"sweep_heatmap_{metric}")
        st.caption(_("Activation memory at batch {batch}: min {least}.").format(
            batch=result.batch_size, least=format_bytes(min(p["activation_bytes"] for p in points)) if points else "—"))
    _publish(_range_defaults(params))


def measure_pending() -> None:
    """Measure the torchvision models the tables still wait for, in one job (a second one only for
    what would not fit one job's time: many models at a large input size), with its progress under
    the tables; keep the numbers (here and on disk) and draw the page again with them. Last on the
    page, so that everything else is drawn, with the published numbers, meanwhile."""
    pending = compare.uncached(names, input_size, builds)
    if not pending:
        return
    with measuring:
        try:
            chosen, cost = work.torchvision_job(pending, input_size)
            found = run_job(work.measure_torchvision_models, chosen, input_size, cost=cost, key="compare_measure_job",
                            label=_("Measuring the models the project does not describe itself (once, for every "
                                    "visitor):"))
        except JobCancelled:
            st.info(_("Measuring cancelled: the tables show torchvision's published numbers; change a setting "
                      "or reload the page to measure the rest."))
            return
        except ExplorerError as error:
            show_error(error, _("Measuring refused — "))
            return
    for measured in found:
        torchvision_costs.remember(measured)
    if found:
        st.rerun()


sweep_section()
measure_pending()
