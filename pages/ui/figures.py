"""The Build pages' charts (and the Compare page's sweep), built once per (config, view, language,
presentation) for every session.

A slider step on a Build page used to build every tab's figures (plotly validates each property as
it is set: 10-80 ms a figure) and convert them again for sending. Here each figure is built on
its first request, prepared for sending (``pages.ui.charts.prepare``) and kept as a shared,
read-only resource: a rerun that shows a figure seen before only sends it. Keys are strings and
numbers (a config's ``config_key``), so the cache never hashes a profile.
"""

from __future__ import annotations

import json

import streamlit as st

from explorer.charts import densenet as densenet_charts
from explorer.charts import inception as inception_charts
from explorer.charts import style
from explorer.i18n import translator
from explorer.models.googlenet import googlenet_plan
from explorer.models.inception import InceptionModuleConfig, module_report
from pages.ui.build import cached_profile, config_from_key
from pages.ui.charts import PreparedChart, prepare


@st.cache_resource(max_entries=512, show_spinner=False)
def densenet_chart(key: str, batch_size: int, view: str, lang: str, present: bool = False,
                   block: str = "") -> PreparedChart:
    """One chart of the DenseNet page for the config ``key`` (``pages.config_key``); ``block``
    names the block of the 'memory_block' view."""
    config = config_from_key(key)
    result = cached_profile(config, batch_size)
    _ = translator(lang)
    if view == "channels":
        figure = densenet_charts.channel_growth(result, config.growth_rate, _=_)
    elif view == "blocks":
        figure = densenet_charts.per_block_bars(result, _=_)
    elif view == "memory":
        figure = densenet_charts.activation_memory(result, _=_)
    elif view == "memory_block":
        figure = densenet_charts.block_layer_memory(result, block, _=_)
    else:
        raise ValueError(f"unknown DenseNet view {view!r}")
    return prepare(figure, present)


def module_key(config: InceptionModuleConfig) -> str:
    return json.dumps(config.to_dict(), sort_keys=True)


@st.cache_resource(max_entries=256, show_spinner=False)
def weight_bars_chart(key: str, lang: str, present: bool = False) -> PreparedChart:
    """The module designer's branch-weight bars for the module ``key`` (``module_key``). The bars
    compare against the reduced module even while the reductions are off."""
    config = InceptionModuleConfig.from_dict(json.loads(key))
    return prepare(inception_charts.branch_weight_bars(reduced_branches(config), _=translator(lang)), present)


@st.cache_resource(max_entries=256, show_spinner=False)
def module_drawing(key: str, lang: str, present: bool = False) -> tuple[str, str]:
    """The module designer's diagram of the module ``key`` (``module_key``): (title, inline SVG)."""
    diagram = inception_charts.module_diagram(InceptionModuleConfig.from_dict(json.loads(key)), _=translator(lang))
    return diagram.title, inception_charts.module_svg(diagram, style.PRESENTATION_SCALE if present else 1.0)


def reduced_branches(config: InceptionModuleConfig):
    """The branches of the module with its 1×1 reductions (the module's own if they cannot be added)."""
    from explorer.errors import ExplorerError

    try:
        return module_report(config.replace(reduction=True)).branches
    except ExplorerError:
        return module_report(config).branches


@st.cache_resource(max_entries=256, show_spinner=False)
def network_chart(key: str, batch_size: int, view: str, lang: str, present: bool = False) -> PreparedChart:
    """A chart of a GoogLeNet or Inception v3 profile (``pages.config_key``): stages, costs, or
    (GoogLeNet) each module's branch widths."""
    config = config_from_key(key)
    _ = translator(lang)
    if view == "branches":
        figure = inception_charts.branch_channels(googlenet_plan(config).modules, _=_)
    elif view == "stages":
        figure = inception_charts.stage_shapes(cached_profile(config, batch_size), _=_)
    elif view == "costs":
        figure = inception_charts.module_costs(cached_profile(config, batch_size), _=_)
    else:
        raise ValueError(f"unknown network view {view!r}")
    return prepare(figure, present)


# --- the Compare page's design-space sweep ----------------------------------------------------------

@st.cache_resource(max_entries=32, show_spinner=False)
def sweep_result(base_name: str, x: str, xs: tuple, y: str, ys: tuple, batch: int):
    """The grid of one sweep of preset ``base_name`` (``explorer.analysis.sweep.sweep``), computed
    once for every session (read only)."""
    from explorer.analysis import sweep
    from explorer.models.registry import all_presets

    return sweep.sweep(all_presets()[base_name][1], x, list(xs), y, list(ys), batch)


@st.cache_resource(max_entries=128, show_spinner=False)
def sweep_chart(signature: tuple, view: str, lang: str, present: bool = False) -> PreparedChart:
    """One chart (``explorer.charts.compare.sweep_figure``: a heatmap, or the scatter) of the sweep
    ``signature`` (``sweep_result``'s arguments)."""
    from explorer.charts import compare as compare_charts
    from explorer.models.registry import all_presets

    base = all_presets()[signature[0]][1]
    return prepare(compare_charts.sweep_figure(sweep_result(*signature), view, base, translator(lang)), present)
