"""The Compare page's design-space sweep: its controls, its charts and the hand-off of a point to
its Build page, drawn as a fragment (its controls rerun only this part of the page). The grid and
its charts are computed once for every session (``pages.ui.figures``); the arithmetic is
``explorer.analysis.sweep``."""

from __future__ import annotations

import streamlit as st

from explorer.analysis import sweep
from explorer.charts import compare as charts
from explorer.errors import ExplorerError
from explorer.i18n import N_
from explorer.models.limits import BATCH_SIZE
from explorer.models.registry import all_presets
from explorer.units import format_bytes
from pages.ui import figures
from pages.ui.charts import chart_title, show_chart
from pages.ui.i18n import page_language
from pages.ui.layout import view_selector
from pages.ui.messages import show_error
from pages.ui.settings import open_in_builder
from pages.ui.state import presenting, set_widget

VIEWS = {"params": N_("Params"), "macs": N_("MACs"), "activation_bytes": N_("Activation memory"),
         "scatter": N_("Params vs MACs")}
CHOICE = ("sweep_arch", "sweep_base", "sweep_x", "sweep_y")  # checked against what is offered when drawn


def range_defaults(state) -> dict[str, tuple]:
    """The range sliders (state key -> default range) of the chosen axes."""
    params = sweep.sweep_params(all_presets()[state["sweep_base"]][1])
    return {f"sweep_range_{state['sweep_arch']}_{axis}": sweep.default_range(params[axis])
            for axis in dict.fromkeys((state["sweep_x"], state["sweep_y"]))}


def _scatter(signature: tuple, base, result, points: list[dict], _) -> None:
    """Params vs MACs of every grid point with its Pareto front; a point clicked opens in its Build page."""
    state = st.session_state
    scatter = figures.sweep_chart(signature, "scatter", _.lang, presenting())
    chart_title(scatter.title)
    event = st.plotly_chart(scatter.figure, key="sweep_scatter", on_select="rerun", selection_mode="points",
                            width="stretch", config={"displaylogo": False, "responsive": True})
    st.caption(sweep.front_caption(points, result.x, result.y, _))
    if (cell := charts.selected_cell(event.selection if event else None)) is None:
        return
    x_value, y_value = result.x_values[cell[0]], result.y_values[cell[1]]
    if state.get("sweep_loaded") == (loaded := (state["sweep_base"], result.x.name, x_value, result.y.name, y_value)):
        return
    state["sweep_loaded"] = loaded
    try:
        open_in_builder(sweep.config_at(base, result.x, x_value, result.y, y_value), state["sweep_base"],
                        int(state["sweep_batch"]))
    except ExplorerError as error:
        show_error(error)


def _controls(_):
    """The architecture, preset, axes, steps, batch and axis ranges; returns the preset's config,
    its sweepable hyperparameters and the ranges chosen."""
    state = st.session_state
    for key, value in zip(CHOICE, sweep.sweep_choice(*(state.get(k) for k in CHOICE))):
        set_widget(key, value)
    c1, c2 = st.columns(2)
    c1.selectbox(_("Architecture"), sweep.sweepable_archs(), key="sweep_arch")
    c2.selectbox(_("Start from preset"), sweep.preset_names(state["sweep_arch"]), key="sweep_base")
    base = all_presets()[state["sweep_base"]][1]
    params = sweep.sweep_params(base)
    c1, c2, c3, c4 = st.columns(4)
    c1.selectbox("x", list(params), key="sweep_x", format_func=lambda n: _(params[n].label))
    c2.selectbox("y", list(params), key="sweep_y", format_func=lambda n: _(params[n].label))
    c3.slider(_("Steps per axis"), *sweep.OFFERED_STEPS, key="sweep_steps")
    c4.number_input(_("Batch (activation memory)"), *BATCH_SIZE, key="sweep_batch")
    ranges = {}
    for col, (key, default) in zip(st.columns(2), range_defaults(state).items()):
        p = params[key.removeprefix(f"sweep_range_{state['sweep_arch']}_")]
        state.setdefault(key, default)
        low, high, step = sweep.slider_range(p)
        col.slider(_("{what} range").format(what=_(p.label)), low, high, key=key, step=step)
        ranges[p.name] = state[key]
    return base, params, ranges


@st.fragment
def sweep_section(publish) -> None:
    """The sweep, then ``publish()`` (the page's address and kept settings): a sweep control reruns
    only this fragment, which must still update them."""
    state, _ = st.session_state, page_language()
    st.header(_("Design-space sweep"))
    st.caption(_("Two hyperparameters over a grid, every point from the analytic profile. Click a point on the "
                 "scatter to open that config in its Build page."))
    base, params, ranges = _controls(_)
    try:
        px, py, xs, ys = sweep.grid_axes(params, state["sweep_x"], state["sweep_y"], ranges, int(state["sweep_steps"]))
        signature = (state["sweep_base"], px.name, tuple(xs), py.name, tuple(ys), int(state["sweep_batch"]))
        with st.spinner(_("Sweeping…")):
            result = figures.sweep_result(*signature)
        state["sweep_last_good"] = signature
    except Exception as error:  # noqa: BLE001
        show_error(error, _("Sweep refused — "))
        result = figures.sweep_result(*signature) if (signature := state.get("sweep_last_good")) else None
        if result is not None:
            st.info(_("Showing the last sweep that worked."))
    if result is not None:
        if result.errors:
            st.caption(_("{refused} of {total} configs are refused (blank cells; hover for why).").format(
                refused=len(result.errors), total=len(result.x_values) * len(result.y_values)))
        points = result.points
        # One sweep chart at a time (a heatmap or the scatter); figures are built once per sweep, view,
        # language and size, for all sessions.
        if (metric := view_selector(_("Sweep chart"), VIEWS, key="sweep_view", _=_)) == "scatter":
            _scatter(signature, base, result, points, _)
        else:
            show_chart(figures.sweep_chart(signature, metric, _.lang, presenting()), key=f"sweep_heatmap_{metric}")
        least = format_bytes(min(p["activation_bytes"] for p in points)) if points else "—"
        st.caption(_("Activation memory at batch {batch}: min {least}.").format(batch=result.batch_size, least=least))
    publish()
