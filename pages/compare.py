"""Compare architectures side by side, and sweep a design space; all numbers come from explorer."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from explorer.charts import compare as charts
from explorer.analysis import advice, compare, latency, reference, torchvision_costs
from explorer.analysis import sweep
from explorer.models.registry import all_presets
from explorer.errors import ConfigError, ExplorerError
from explorer.units import format_bytes
from pages import builder_link, heavy, page_header, show_error

state = st.session_state
builds = state.setdefault("comparison_builds", {})
options = compare.available_models(builds)

# Defaults on first visit; builds added on a Build page since the last visit join the selection.
state.setdefault("compare_models", list(reference.TORCHVISION_MODELS))
seen = state.setdefault("compare_seen_builds", [])
new_builds = [name for name in builds if name not in seen]
if new_builds:
    state["compare_models"] = [n for n in state["compare_models"] if n not in new_builds] + new_builds
    seen.extend(new_builds)
state["compare_models"] = [n for n in state["compare_models"] if n in options]
state.setdefault("compare_batch", 32)
state.setdefault("compare_size_mode", "native")
state.setdefault("compare_common_size", 224)
state.setdefault("compare_latency_batch", 8)
state.setdefault("compare_repeats", 5)
latencies = state.setdefault("compare_latencies", {})

page_header(__file__)
st.caption("Project models (presets and your builds) use the exact analytic profile; other torchvision models are "
           "measured once (FlopCounterMode on a meta copy, sum of numel, bytes autograd saves) and cached. "
           "Accuracy and weights-file size are torchvision's published numbers for its DEFAULT weights.")

# --- controls -------------------------------------------------------------------------------------
with st.sidebar:
    st.multiselect("Models", options, key="compare_models",
                   help="torchvision models, every Build-page preset, and builds you added on a Build page")
    st.number_input("Batch size (activation memory)", 1, compare.MAX_BATCH, key="compare_batch")
    st.radio("Input size", ["native", "common"], key="compare_size_mode", horizontal=True,
             help="native: each model's own (Inception v3: 299 px); common: the same size for all")
    st.number_input("Common input size (px)", 75, torchvision_costs.MAX_INPUT, key="compare_common_size",
                    disabled=state["compare_size_mode"] != "common")

names = list(state["compare_models"])
batch = int(state["compare_batch"])
input_size = int(state["compare_common_size"]) if state["compare_size_mode"] == "common" else None


def _rows(names, batch, input_size):
    pending = compare.uncached(names, input_size, builds)
    if pending:
        bar = st.progress(0.0, text="Measuring models the project does not describe itself (once)…")
        for i, name in enumerate(pending):
            bar.progress(i / len(pending), text=f"Measuring {name} ({i + 1}/{len(pending)}): FLOPs, params, "
                                                 f"saved activations…")
            heavy(torchvision_costs.measure_torchvision, name, input_size)
        bar.empty()
    return compare.comparison_rows(names, batch, input_size, builds)


try:
    rows = _rows(names, batch, input_size)
    state["compare_last_good"] = (names, batch, input_size)
except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
    show_error(error, "Comparison refused — ")
    if "compare_last_good" not in state:
        st.stop()
    names, batch, input_size = state["compare_last_good"]
    rows = _rows(names, batch, input_size)
    st.info("Showing the last comparison that worked.")

latency.with_latency(rows, latencies, batch_size=1)

# --- the table ------------------------------------------------------------------------------------
COLUMNS = {  # record key -> (column title, scale)
    "name": ("model", None), "source": ("numbers", None), "input_size": ("input px", None),
    "params": ("params (M)", 1e6), "macs": ("GMACs", 1e9), "flops": ("GFLOPs", 1e9),
    "param_bytes": ("weights (MiB)", 2**20), "activation_bytes": (f"activations @{batch} (MiB)", 2**20),
    "top1": ("top-1 %", None), "top5": ("top-5 %", None), "weights_file_mb": ("file (MB)", None),
    "latency_ms": ("ms @1", None), "key_idea": ("key idea", None),
}
records = compare.table_records(rows)
frame = pd.DataFrame([{title: (r[key] / scale if scale and r[key] is not None else r[key])
                       for key, (title, scale) in COLUMNS.items()} for r in records])
best = compare.best_values(rows)


def _mark_best(column: pd.Series) -> list[str]:
    key = next(k for k, (title, _) in COLUMNS.items() if title == column.name)
    if key not in best:
        return [""] * len(column)
    scale = COLUMNS[key][1] or 1
    return ["background-color: #d4f4dd; font-weight: bold" if v is not None and not pd.isna(v)
            and abs(v * scale - best[key]) < 1e-9 * max(1, abs(best[key])) else "" for v in column]


numeric = {title: "{:.2f}" for key, (title, scale) in COLUMNS.items() if scale or key in ("top1", "top5", "latency_ms",
                                                                                           "weights_file_mb")}
styled = frame.style.apply(_mark_best, subset=[COLUMNS[k][0] for k in best]).format(numeric, na_rep="—")
st.dataframe(styled, hide_index=True, key="compare_table")
st.caption("Green: the best value in each column (fewest params/MACs/bytes, highest accuracy, fastest). "
           "Click a header to sort. Accuracy is published at each model's native input size.")
st.download_button("Table (CSV)", compare.rows_csv(rows), "comparison.csv", "text/csv", key="compare_csv")

# --- which to choose ------------------------------------------------------------------------------
st.subheader("Which to choose")
lines = advice.tradeoffs(rows, latencies, latency_batch=1)
st.markdown("\n".join(f"- {line}" for line in lines) or "Choose at least two models.")
st.caption("Computed from the numbers above (and measured latency, once measured), not written by hand.")

# --- charts ---------------------------------------------------------------------------------------
tab_acc, tab_size, tab_mem, tab_lat, tab_stage = st.tabs(
    ["Accuracy vs MACs", "Params & MACs", "Memory vs batch", "Latency", "Channels per stage"])
with tab_acc:
    st.plotly_chart(charts.accuracy_vs_macs(rows), key="compare_chart_accuracy")
with tab_size:
    st.plotly_chart(charts.size_compute_bars(rows), key="compare_chart_size")
with tab_mem:
    batches = sorted({1, 2, 4, 8, 16, 32, 64, 128, 256, batch})
    curves = {r.name: (batches, compare.activation_curve(r.name, batches, input_size, builds)) for r in rows}
    st.plotly_chart(charts.activation_vs_batch(curves), key="compare_chart_memory")
with tab_lat:
    c1, c2 = st.columns(2)
    c1.number_input("Latency batch", 1, 256, key="compare_latency_batch")
    c2.number_input("Timed runs (median)", 1, 50, key="compare_repeats")
    lat_batch, repeats = int(state["compare_latency_batch"]), int(state["compare_repeats"])
    device = latency.latency_key("", 1, 1)[3]
    if st.button("Measure latency", key="compare_measure_latency"):
        jobs = [(r, b) for r in rows for b in sorted({1, lat_batch})
                if latency.latency_key(r.name, b, r.input_size) not in latencies]
        bar = st.progress(0.0, text="Timing forward passes…")
        try:
            for i, (row, b) in enumerate(jobs):
                bar.progress(i / len(jobs), text=f"Timing {row.name} at batch {b} ({i + 1}/{len(jobs)})…")
                result = heavy(latency.measure_latency, compare.resolve_entry(row.name, builds), b,
                               row.input_size, repeats=repeats)
                latencies[latency.latency_key(row.name, b, row.input_size)] = result
        except ExplorerError as error:
            show_error(error)
        bar.empty()
        if jobs:
            st.rerun()  # redraw the table, the trade-offs and the chart with the new latencies
    shown = [latencies[k] for r in rows for b in sorted({1, lat_batch})
             if (k := latency.latency_key(r.name, b, r.input_size)) in latencies]
    if shown:
        st.plotly_chart(charts.latency_bars(shown), key="compare_chart_latency")
        st.dataframe(pd.DataFrame([{"model": x.name, "batch": x.batch_size, "median ms": x.median_ms,
                                    "min ms": x.min_ms, "max ms": x.max_ms, "images/s": x.images_per_s,
                                    "device": x.label} for x in shown]),
                     hide_index=True, key="compare_latency_table")
    st.caption(f"Eval mode, no autograd, 2 warm-up runs then the median of the timed runs, on {device} with "
               f"the current thread count; results are kept for this session.")
with tab_stage:
    names_now = [r.name for r in rows]
    state.setdefault("compare_stage_a", names_now[0])
    state.setdefault("compare_stage_b", names_now[-1])
    for key in ("compare_stage_a", "compare_stage_b"):
        if state[key] not in names_now:
            state[key] = names_now[0]
    c1, c2 = st.columns(2)
    c1.selectbox("First model", names_now, key="compare_stage_a")
    c2.selectbox("Second model", names_now, key="compare_stage_b")
    by_name = {r.name: r.stages for r in rows}
    chosen = {n: by_name[n] for n in dict.fromkeys([state["compare_stage_a"], state["compare_stage_b"]])}
    st.plotly_chart(charts.stage_channels(chosen), key="compare_chart_stages")

# --- design-space sweep ---------------------------------------------------------------------------
st.header("Design-space sweep")
st.caption("Two hyperparameters over a grid, every point from the analytic profile. Click a point on the "
           "scatter to open that config in its Build page.")
archs = sweep.sweepable_archs()
state.setdefault("sweep_arch", "densenet" if "densenet" in archs else archs[0])
c1, c2 = st.columns(2)
c1.selectbox("Architecture", archs, key="sweep_arch")
presets = sweep.preset_names(state["sweep_arch"])
if state.get("sweep_base") not in presets:
    state["sweep_base"] = "densenet121" if "densenet121" in presets else presets[0]
c2.selectbox("Start from preset", presets, key="sweep_base")
base = all_presets()[state["sweep_base"]][1]
params = sweep.sweep_params(base)
param_names = list(params)
if state.get("sweep_x") not in param_names:
    state["sweep_x"] = "growth_rate" if "growth_rate" in params else param_names[0]
if state.get("sweep_y") not in param_names:
    state["sweep_y"] = next(n for n in (["compression", "input_size"] + param_names) if n in params and n != state["sweep_x"])
c1, c2, c3, c4 = st.columns(4)
c1.selectbox("x", param_names, key="sweep_x", format_func=lambda n: params[n].label)
c2.selectbox("y", param_names, key="sweep_y", format_func=lambda n: params[n].label)
state.setdefault("sweep_steps", 40)
state.setdefault("sweep_batch", 32)
c3.slider("Steps per axis", 2, 60, key="sweep_steps")
c4.number_input("Batch (activation memory)", 1, 4096, key="sweep_batch")
ranges = {}
c1, c2 = st.columns(2)
for col, axis in zip((c1, c2), dict.fromkeys((state["sweep_x"], state["sweep_y"]))):
    p = params[axis]
    default = (8, 64) if axis == "growth_rate" else (p.low, p.high)
    key = f"sweep_range_{state['sweep_arch']}_{axis}"
    state.setdefault(key, tuple(int(v) for v in default) if p.integer else tuple(float(v) for v in default))
    col.slider(f"{p.label} range", int(p.low) if p.integer else float(p.low),
               int(p.high) if p.integer else float(p.high), key=key,
               step=1 if p.integer else 0.01)
    ranges[axis] = state[key]

try:
    if state["sweep_x"] == state["sweep_y"]:
        raise ConfigError("sweep", "choose two different hyperparameters for x and y")
    px, py = params[state["sweep_x"]], params[state["sweep_y"]]
    steps = int(state["sweep_steps"])
    xs = sweep.axis_values(px, *ranges[px.name], steps)
    ys = sweep.axis_values(py, *ranges[py.name], steps)
    with st.spinner("Sweeping…"):
        result = sweep.sweep(base, px.name, xs, py.name, ys, int(state["sweep_batch"]))
    state["sweep_last_good"] = result
except Exception as error:  # noqa: BLE001
    show_error(error, "Sweep refused — ")
    result = state.get("sweep_last_good")
    if result is not None:
        st.info("Showing the last sweep that worked.")
        px, py, xs, ys = result.x, result.y, result.x_values, result.y_values

if result is not None:
    points = result.points
    if result.errors:
        st.caption(f"{len(result.errors)} of {len(xs) * len(ys)} configs are refused (blank cells; hover for why).")
    tabs = st.tabs(["Params", "MACs", "Activation memory"])
    for tab, metric in zip(tabs, ("params", "macs", "activation_bytes")):
        with tab:
            st.plotly_chart(charts.sweep_heatmap(result, metric), key=f"sweep_heatmap_{metric}")
    front = sweep.pareto_front([p["params"] for p in points], [p["macs"] for p in points])
    stem = getattr(base, "stem", None)
    reference = sweep.preset_points(result.arch, 1, stem)
    event = st.plotly_chart(charts.sweep_scatter(points, front, reference, px.label, py.label),
                            key="sweep_scatter", on_select="rerun", selection_mode="points")
    on_front = sum(front)
    st.caption(f"{on_front} point{'s are' if on_front != 1 else ' is'} on the Pareto front (no other point has "
               f"both fewer params and fewer MACs).")
    selected = [p for p in (event.selection.get("points", []) if event else []) if p.get("curve_number", 0) == 0
                and p.get("customdata")]
    if selected:
        ix, iy = int(selected[0]["customdata"][0]), int(selected[0]["customdata"][1])
        signature = (state["sweep_base"], px.name, result.x_values[ix], py.name, result.y_values[iy])
        if state.get("sweep_loaded") != signature:
            state["sweep_loaded"] = signature
            try:
                config = sweep.config_at(base, px, result.x_values[ix], py, result.y_values[iy])
                target = builder_link(config, state["sweep_base"], int(state["sweep_batch"]))
                if target is not None:
                    st.switch_page(target[0], query_params=target[1])
                st.info(f"{result.arch} configs open in no Build page yet; here is the config.")
                st.code(json.dumps(config.to_dict(), indent=2), language="json")
            except ExplorerError as error:
                show_error(error)
    st.caption(f"Activation memory at batch {result.batch_size}: min "
               f"{format_bytes(min(p['activation_bytes'] for p in points)) if points else '—'}.")
