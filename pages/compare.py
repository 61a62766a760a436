"""Compare architectures side by side, and sweep a design space; all numbers come from explorer."""

from __future__ import annotations

import streamlit as st

from explorer.analysis import advice, compare, latency, reference, sweep, torchvision_costs, work
from explorer.charts import compare as charts, compare_tables as tables, style
from explorer.errors import ExplorerError
from explorer.i18n import N_
from explorer.models.limits import BATCH_SIZE
from pages.ui import sweep as sweep_ui
from pages.ui.charts import fitted, show_chart, show_table
from pages.ui.jobs import measured_torchvision, run_job
from pages.ui.layout import view_selector
from pages.ui.messages import literal, show_error
from pages.ui.page import page_header
from pages.ui.settings import (Setting, link_notes, publish_settings, read_settings, restore_settings, setting_defaults,
                               share_link, unknown_keys)
from pages.ui.state import presenting, set_widget

state = st.session_state
COMPARE_VIEWS = {"accuracy": N_("Accuracy vs MACs"), "size": N_("Params & MACs"), "memory": N_("Memory vs batch"),
                 "latency": N_("Latency"), "stages": N_("Channels per stage")}
SIZE_MODES = {"native": N_("native"), "common": N_("common")}
# What the table can be sorted by: the model order chosen, or a column best first (compare.BETTER's
# columns, less the newer recipe's top-5, which the table does not show).
SORTS = ["chosen", *(k for k in compare.BETTER if k != "newer_top5")]
MAX_BUILDS = 12  # builds carried in the address (build1, build2, ...), after the models
SETTINGS = (  # in the order the address lists them; sweep_base, _x, _y are checked when drawn
    Setting("compare_models", "models", list(reference.TORCHVISION_MODELS)),  # a list: from_link reads it
    Setting("compare_batch", "batch", 32, *BATCH_SIZE),
    Setting("compare_latency_batch", "lat_batch", 1, 1, latency.MAX_LATENCY_BATCH),  # batch 1 keeps it in budget
    Setting("compare_repeats", "rounds", 5, *latency.OFFERED_ROUNDS),
    Setting("compare_budget", "budget", int(latency.DEFAULT_BUDGET_S), 1, work.LATENCY_MAX_BUDGET_S),
    Setting("sweep_arch", "sweep", "densenet", choices=tuple(sweep.sweepable_archs())),
    Setting("sweep_base", "sweep_base", "densenet121"), Setting("sweep_x", "sweep_x", "growth_rate"),
    Setting("sweep_y", "sweep_y", "compression"), Setting("sweep_steps", "sweep_steps", 20, *sweep.OFFERED_STEPS),
    Setting("sweep_batch", "sweep_batch", 32, *BATCH_SIZE),
    Setting("sweep_view", "sweep_view", "params", choices=tuple(sweep_ui.VIEWS)),
    Setting("compare_size_mode", None, "native", choices=tuple(SIZE_MODES)),  # "common" when a link has a size
    Setting("compare_common_size", "size", 224, *torchvision_costs.COMMON_INPUT),
    Setting("compare_accuracy", "acc", "original", choices=tuple(reference.RECIPES)),
    Setting("compare_view", "view", "accuracy", choices=tuple(COMPARE_VIEWS)),
    Setting("compare_sort", "sort", "chosen", choices=tuple(SORTS)))
# The order a link's settings are read in (that of the notes on what it carried that was adjusted).
READ_ORDER = ("batch", "size", "lat_batch", "rounds", "budget", "sweep_steps", "sweep_batch", "acc", "sort", "sweep",
              "sweep_view", "view", "sweep_base", "sweep_x", "sweep_y")
LINK_KEYS = {*READ_ORDER, "models", "stage_a", "stage_b", "sweep_xr", "sweep_yr",
             *(f"build{i}" for i in range(1, MAX_BUILDS + 1))}


def defaults() -> dict:
    return setting_defaults(SETTINGS)


def from_link(query: dict) -> tuple[dict, list[str]]:
    """The page's settings and the user's builds from its address (builds travel in it)."""
    link_builds, notes = compare.builds_from_link(query, MAX_BUILDS)
    builds_now = {**state.get("comparison_builds", {}), **link_builds}
    values = {**defaults(), "comparison_builds": builds_now, "compare_seen_builds": list(builds_now)}
    notes = unknown_keys(query, LINK_KEYS) + notes
    if "models" in query:
        values["compare_models"], more = compare.models_from_link(query["models"], compare.available_models(builds_now))
        notes += more
    read, more = read_settings(sorted((r for r in SETTINGS if r.address in READ_ORDER),
                                      key=lambda r: READ_ORDER.index(r.address)), query)
    values.update(read, **({"compare_size_mode": "common"} if "size" in query else {}))
    values.update({f"compare_{key}": str(query[key])[:60] for key in ("stage_a", "stage_b") if key in query})
    ranges, last = sweep.ranges_from_link(query, *(values[key] for key in sweep_ui.CHOICE))
    values.update({f"sweep_range_{values['sweep_arch']}_{axis}": ends for axis, ends in ranges.items()})
    return values, notes + more + last


def join_new_builds() -> None:
    """Builds added on a Build page since the last visit join the selection."""
    seen = state.setdefault("compare_seen_builds", [])
    if new_builds := [name for name in builds if name not in seen]:
        state["compare_models"] = [n for n in state["compare_models"] if n not in new_builds] + new_builds
        seen.extend(new_builds)
    set_widget("compare_models", [n for n in state["compare_models"] if n in compare.available_models(builds)])


def controls() -> None:
    if on_projector:  # tables as HTML (their text scales with the page; a data grid's does not)
        st.markdown("<style>[data-testid='stTable'] td, [data-testid='stTable'] th {font-size: 1.25rem;}</style>",
                    unsafe_allow_html=True)
    st.caption(_(tables.INTRO))
    with st.sidebar:
        st.multiselect(_("Models"), compare.available_models(builds), key="compare_models",
                       placeholder=_("Choose models"),
                       help=_("torchvision models, every Build-page preset, and builds you added on a Build page"))
        st.number_input(_("Batch size (activation memory)"), *BATCH_SIZE, key="compare_batch")
        st.radio(_("Input size"), list(SIZE_MODES), key="compare_size_mode", horizontal=True,
                 format_func=lambda mode: _(SIZE_MODES[mode]),
                 help=_("native: each model's own (Inception v3: 299 px); common: the same size for all"))
        st.number_input(_("Common input size (px)"), *torchvision_costs.COMMON_INPUT, key="compare_common_size",
                        disabled=state["compare_size_mode"] != "common")
        st.radio(_("Accuracy compared"), list(reference.RECIPES), key="compare_accuracy",
                 format_func=lambda recipe: _(tables.RECIPE_WORDS[recipe]), help=_(tables.RECIPE_HELP))


def comparison() -> tuple:
    """The rows of the models chosen (the user's builds first; a torchvision model not measured yet
    with its published numbers, for ``measure_pending``) and the (names, batch, input size, recipe)
    they are for; on a refusal, those of the last comparison that worked."""
    def rows_of(names, batch, size, recipe):
        return compare.builds_first(compare.comparison_rows(names, batch, size, builds, recipe, measure=False), builds)

    chosen = (list(state["compare_models"]), int(state["compare_batch"]),
              int(state["compare_common_size"]) if state["compare_size_mode"] == "common" else None,
              state["compare_accuracy"])
    try:
        rows = rows_of(*chosen)
        state["compare_last_good"] = chosen
    except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
        show_error(error, _("Comparison refused — "))
        if "compare_last_good" not in state:
            st.stop()
        rows, chosen = rows_of(*state["compare_last_good"]), state["compare_last_good"]
        st.info(_("Showing the last comparison that worked."))
    return latency.with_latency(rows, latencies, batch_size=1), *chosen


def table_view(rows, batch: int, recipe: str):
    """The two tables (static: a grid took ~0.3 s of a first visit and ~0.1 s of every redraw),
    sorted here; returns the place under them for the measurement's progress."""
    titles = tables.columns(batch, recipe, _)
    if state.get("compare_sort") not in SORTS:
        state["compare_sort"] = "chosen"
    own_order = _("your choice of models (your builds first)")
    st.selectbox(_("Sort by"), SORTS, key="compare_sort", format_func=lambda k: titles.get(k, (own_order,))[0],
                 help=_("best first: fewest parameters, MACs, bytes and milliseconds; highest accuracy"))
    table_rows = compare.sort_rows(rows, state["compare_sort"]) if state["compare_sort"] != "chosen" else rows
    for styled, wrapped in tables.tables(table_rows, compare.best_values(rows), batch, recipe, _):
        show_table(fitted(styled, wrapped))  # user-typed names escaped; enlarged in presentation mode
    measuring = st.container()  # the measurement's progress, under the tables (measure_pending)
    st.caption(tables.accuracy_notes(rows, recipe, _, name=literal))
    st.caption(_(tables.BEST_NOTE))
    st.download_button(_("Table (CSV)"), compare.rows_csv(table_rows), "comparison.csv", "text/csv", key="compare_csv")
    return measuring


def choice_view(rows, recipe: str) -> None:
    """Which to choose: the trade-offs, computed from the numbers in the tables."""
    st.subheader(_("Which to choose"))
    lines = advice.tradeoffs(rows, latencies, latency_batch=1, _=_)
    # A line names builds, and a build's name came from a user or a link: each line shows as typed.
    st.markdown("\n".join(f"- {literal(line)}" for line in lines) or _("Choose at least two models."))
    st.caption(_("Computed from the numbers above (accuracy: {recipes}; latency only where the measured spreads are "
                 "narrow and do not overlap), not written by hand.").format(recipes=_(tables.RECIPE_WORDS[recipe])))


def waiting_note(rows, view: str) -> None:
    """Models still being measured join a chart once the numbers it draws are known."""
    waiting = [r.name for r in rows if r.pending and (view in ("memory", "stages") or r.macs is None)]
    if waiting and view != "latency":
        st.caption(_("Being measured, drawn when ready: {models}.").format(models=", ".join(map(literal, waiting))))


def accuracy_view(rows, batch, input_size) -> None:
    with st.container(key="compare_accuracy_box"):  # a Vega-Lite chart's key names no element: its box does
        show_chart(charts.accuracy_vs_macs(rows, _=_, font_scale=style.PRESENTATION_SCALE if on_projector else 1),
                   key="compare_chart_accuracy")


def size_view(rows, batch, input_size) -> None:
    show_chart(charts.size_compute_bars([r for r in rows if r.macs is not None], _=_), key="compare_chart_size")


def memory_view(rows, batch, input_size) -> None:
    batches = sorted({1, 2, 4, 8, 16, 32, 64, 128, 256, batch})
    curves = {r.name: (batches, compare.activation_curve(r.name, batches, input_size, builds)) for r in rows
              if not r.pending}
    show_chart(charts.activation_vs_batch(curves, _=_), key="compare_chart_memory")


def latency_view(rows, batch, input_size) -> None:
    c1, c2, c3 = st.columns(3)
    c1.number_input(_("Latency batch"), 1, latency.MAX_LATENCY_BATCH, key="compare_latency_batch",
                    persist_state="page")
    c2.number_input(_("Rounds (median)"), *latency.OFFERED_ROUNDS, key="compare_repeats", persist_state="page",
                    help=_("every model runs once per round, in turn, so drift on a busy machine hits all alike"))
    c3.number_input(_("Time budget (s)"), 1, work.LATENCY_MAX_BUDGET_S, key="compare_budget", persist_state="page",
                    help=_("rounds that would end after the budget are not started; at most {limit} s, what one "
                           "job may run here").format(limit=work.LATENCY_MAX_BUDGET_S))
    batches = sorted({1, int(state["compare_latency_batch"])})
    if state.get("compare_latency_job_cancel"):  # Cancel was pressed during the last run
        st.info(_("Latency measurement cancelled; nothing was kept from it."))
    if st.button(_("Measure latency"), key="compare_measure_latency"):
        repeats, budget = int(state["compare_repeats"]), float(state["compare_budget"])
        try:
            requests = [(compare.resolve_entry(r.name, builds), b, r.input_size) for r in rows for b in batches]
            run = run_job(work.measure_latencies, requests, repeats, budget, label=_("Timing forward passes:"),
                          cost=work.latency_cost(requests, repeats, budget), key="compare_latency_job")
            latencies.update({latency.latency_key(x.name, x.batch_size, x.input_size): x for x in run.results})
            state["compare_latency_run"] = run
            st.rerun()  # redraw the table, the trade-offs and the chart with the new latencies
        except ExplorerError as error:
            show_error(error, _("Latency refused — "))
    if (run := state.get("compare_latency_run")) is not None:
        (st.warning if run.stopped == "budget" else st.caption)(latency.run_summary(run, _))
        if run.noisy:
            st.warning(tables.spread_warning(run, _, name=literal), icon="⚠️")
    if shown := [latencies[k] for r in rows for b in batches
                 if (k := latency.latency_key(r.name, b, r.input_size)) in latencies]:
        show_chart(charts.latency_bars(shown, _=_), key="compare_chart_latency")
        timings = tables.timings_table(shown, _)
        show_table(timings) if on_projector else st.dataframe(timings, hide_index=True, key="compare_latency_table")
    st.caption(_(tables.LATENCY_NOTE))


def stages_view(rows, batch, input_size) -> None:
    if not (names_now := [r.name for r in rows if not r.pending]):
        return
    for key, default in (("compare_stage_a", names_now[0]), ("compare_stage_b", names_now[-1])):
        if state.setdefault(key, default) not in names_now:
            state[key] = names_now[0]
    c1, c2 = st.columns(2)
    c1.selectbox(_("First model"), names_now, key="compare_stage_a", persist_state="page")
    c2.selectbox(_("Second model"), names_now, key="compare_stage_b", persist_state="page")
    by_name = {r.name: r.stages for r in rows}
    chosen = {n: by_name[n] for n in dict.fromkeys([state["compare_stage_a"], state["compare_stage_b"]])}
    show_chart(charts.stage_channels(chosen, _=_), key="compare_chart_stages")


VIEWS = {"accuracy": accuracy_view, "size": size_view, "memory": memory_view, "latency": latency_view,
         "stages": stages_view}


def _publish() -> None:
    """The address is the state: what differs from the defaults, and the user's builds. Called by
    the sweep's fragment, last on the page, so that a sweep control (which reruns only the
    fragment) still updates the address, the kept settings and the share box."""
    range_defaults = sweep_ui.range_defaults(state)
    address = {"models": ",".join(state["compare_models"])} if state["compare_models"] != SETTINGS[0].default else {}
    address.update(compare.build_links(builds, MAX_BUILDS))
    for row in SETTINGS[1:]:
        if row.address == "size" and state["compare_size_mode"] == "common":
            address["size"] = str(state["compare_common_size"])
        elif row.address not in (None, "size") and state.get(row.state) != row.default:
            address[row.address] = str(state[row.state])
    address.update({link_key: sweep.range_text(state[key]) for link_key, key in
                    zip(("sweep_xr", "sweep_yr"), range_defaults) if state.get(key) != range_defaults[key]})
    kept = {k: state[k] for k in (*defaults(), *range_defaults, "compare_stage_a", "compare_stage_b") if k in state}
    publish_settings("compare", kept, address)
    share_link(address)


def measure_pending(names, input_size, measuring) -> None:
    """Measure the torchvision models the tables still wait for, with its progress under the tables;
    keep the numbers (here and on disk) and draw the page again with them. Last on the page, so that
    everything else is drawn, with the published numbers, meanwhile."""
    if not (pending := compare.uncached(names, input_size, builds)):
        return
    with measuring:
        found = measured_torchvision(pending, input_size, key="compare_measure_job")
    for measured in found:
        torchvision_costs.remember(measured)
    if found:
        st.rerun()


link_problems = restore_settings("compare", defaults, from_link)
builds = state.setdefault("comparison_builds", {})
join_new_builds()
latencies = state.setdefault("compare_latencies", {})
_ = page_header(__file__)
link_notes(link_problems)
on_projector = presenting()
controls()
rows, names, batch, input_size, recipe = comparison()
measuring = table_view(rows, batch, recipe)
choice_view(rows, recipe)
# One chart at a time: tabs would build and send every chart on every rerun, hidden ones included.
view = view_selector(_("Chart"), COMPARE_VIEWS, key="compare_view", _=_)
waiting_note(rows, view)
VIEWS[view](rows, batch, input_size)
sweep_ui.sweep_section(_publish)
measure_pending(names, input_size, measuring)
