"""Inception explorer: design one module, then edit a whole GoogLeNet; Inception v3's profile beside it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.charts.inception import V3_MODULES, branch_lines, deltas_note, why_text
from explorer.charts import tables
from explorer.errors import ExplorerError
from explorer.models.googlenet import LIMITS, MODULE_NAMES, PRESET_DESCRIPTIONS, PRESETS, GoogLeNetConfig
from explorer.models.inception import FACTORIZE, WIDTH_HELP, WIDTH_TITLES, InceptionModuleConfig, module_report
from explorer import sharing
from explorer.i18n import N_
from pages.ui.teach import walkthrough
from explorer.models.limits import INCEPTION_MODULE_OFFERED as MODULE_OFFERED
from explorer.models.inception_v3 import LIMITS as V3_LIMITS, InceptionV3Config
from explorer.units import format_bytes, format_count, format_macs
from pages.ui.build import (BATCH_LIMITS, build_tools, cached_profile, config_from_key, config_key, headline_metrics,
                            profile_or_last_good, reference_profile)
from pages.ui.messages import show_error
from pages.ui.page import page_header
from pages.ui.settings import (Setting, link_notes, publish_settings, read_settings, restore_settings,
                               setting_defaults, share_link, unknown_keys)
from pages.ui.charts import show_chart, show_diagram, show_table
from pages.ui.layout import view_selector
from pages.ui.state import presenting
from pages.ui.figures import module_drawing, module_key, network_chart, weight_bars_chart

WIDTH_KEYS = ["inc_1x1", "inc_3x3_reduce", "inc_3x3", "inc_5x5_reduce", "inc_5x5", "inc_pool_proj"]
FACTORIZE_LABELS = {"none": N_("none"), "stacked": N_("5×5 → two 3×3 (v2/v3)"),
                    "asymmetric": N_("n×n → 1×n then n×1")}
# The page's parts and the GoogLeNet part's charts: one at a time (tabs would build every chart on every run).
PARTS = {"module": N_("Module designer"), "googlenet": N_("GoogLeNet"), "v3": N_("Inception v3"),
         "why": N_("Why it works")}
CHARTS = {"stages": N_("Channels & size"), "costs": N_("Params & MACs"), "branches": N_("Branch shares"),
          "table": N_("Per module")}
# The module designer's chart: its diagram or its conv weights with and without the 1×1 reductions.
MODULE_CHARTS = {"diagram": N_("Module diagram"), "weights": N_("Conv weights per branch")}

state = st.session_state
DEFAULT_PRESET = "googlenet"
DEFAULT_MODULE = InceptionModuleConfig()  # GoogLeNet's 3a: 192 channels in, 28x28
# Settings besides the module's and the network's fields (those are read and written by explorer.sharing).
SETTINGS = (
    Setting("inc_preset", "preset", DEFAULT_PRESET, choices=tuple(PRESETS)),  # first: the network's fields follow it
    Setting("inc_batch_size", "batch", 1, *BATCH_LIMITS),
    Setting("inc_v3_input_size", "v3_size", 299, *V3_LIMITS["input_size"]),
    Setting("inc_view", "view", "module", choices=tuple(PARTS)),
    Setting("inc_chart", "chart", "stages", choices=tuple(CHARTS)),
    Setting("inc_module_chart", "module_chart", "diagram", choices=tuple(MODULE_CHARTS)),
    Setting("inc_table_version", None, 0),
)
ROWS = {row.state: row for row in SETTINGS}


def module_widget_values(config: InceptionModuleConfig) -> dict:
    return {"inc_in_channels": config.in_channels, "inc_size": config.input_size,
            **dict(zip(WIDTH_KEYS, config.widths)), "inc_reduction": config.reduction,
            "inc_factorize": config.factorize, "inc_true_5x5": config.branch3_kernel == 5}


def net_widget_values(config: GoogLeNetConfig) -> dict:
    return {"inc_width_multiplier": float(config.width_multiplier), "inc_aux_logits": config.aux_logits,
            "inc_net_5x5": config.branch3_kernel == 5, "inc_net_factorize": config.factorize,
            "inc_stem": config.stem, "inc_input_size": config.input_size,
            "inc_table_widths": [list(row) for row in config.widths],
            "inc_table_now": [list(row) for row in config.widths],  # with the edits (kept while the table is hidden)
            # a new table key makes the editor start again from these widths, forgetting its edits
            "inc_table_version": state.get("inc_table_version", 0) + 1}


def load_config(config: GoogLeNetConfig) -> None:
    state.update(net_widget_values(config))


def load_preset() -> None:
    load_config(PRESETS[state["inc_preset"]])


LINK_KEYS = ({k.short for k in sharing.keys_for(DEFAULT_MODULE)} | {row.address for row in SETTINGS if row.address}
             | {k.short for k in sharing.keys_for(PRESETS[DEFAULT_PRESET], prefix="net_")})


def defaults() -> dict:
    return {**module_widget_values(DEFAULT_MODULE), **net_widget_values(PRESETS[DEFAULT_PRESET]),
            **setting_defaults(SETTINGS)}


def from_link(query: dict) -> tuple[dict, list[str]]:
    notes = unknown_keys(query, LINK_KEYS)
    module, module_notes = sharing.from_query(query, DEFAULT_MODULE)
    preset, preset_notes = read_settings(SETTINGS[:1], query)
    net, net_notes = sharing.from_query(query, PRESETS[preset["inc_preset"]], prefix="net_")
    values, more_notes = read_settings(SETTINGS[1:], query)
    values = {**values, **module_widget_values(module), **preset, **net_widget_values(net)}
    return values, notes + module_notes + preset_notes + net_notes + more_notes


def module_from_widgets() -> InceptionModuleConfig:
    return InceptionModuleConfig(
        int(state["inc_in_channels"]), tuple(int(state[k]) for k in WIDTH_KEYS), int(state["inc_size"]),
        reduction=bool(state["inc_reduction"]), factorize=state["inc_factorize"],
        branch3_kernel=5 if state["inc_true_5x5"] else 3)


def module_or_last_good(messages) -> InceptionModuleConfig:
    """The widgets' module if it is valid, else (with its error in ``messages``, when shown) the last one that was."""
    try:
        module = module_from_widgets()
        state["inc_module_last_good"] = module.to_dict()
        return module
    except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
        last = state.get("inc_module_last_good")
        if messages is None:
            return DEFAULT_MODULE if last is None else InceptionModuleConfig.from_dict(last)
        with messages:
            show_error(error, _("Module refused — "))
            if last is None:
                st.stop()
            st.info(_("Showing the last module that worked."))
        return InceptionModuleConfig.from_dict(last)


def net_from_widgets(widths) -> GoogLeNetConfig:
    return GoogLeNetConfig(
        widths=tuple(tuple(int(v) for v in row) for row in widths),
        width_multiplier=float(state["inc_width_multiplier"]), branch3_kernel=5 if state["inc_net_5x5"] else 3,
        factorize=state["inc_net_factorize"], aux_logits=bool(state["inc_aux_logits"]), stem=state["inc_stem"],
        input_size=int(state["inc_input_size"]), num_classes=PRESETS[state["inc_preset"]].num_classes)


def network_now() -> tuple[GoogLeNetConfig, int]:
    """(network, batch) when the GoogLeNet part is not drawn (its table starts again from its latest widths)."""
    widths = state["inc_table_now"]
    if widths != state["inc_table_widths"]:
        state["inc_table_widths"] = widths
        state["inc_table_version"] += 1
    try:
        return net_from_widgets(widths), int(state["inc_batch_size"])
    except ExplorerError:
        return (config_from_key(state["inc_net_last_good"][0]) if "inc_net_last_good" in state
                else PRESETS[state["inc_preset"]]), int(state["inc_batch_size"])


def module_view() -> None:
    controls, panel = st.columns([1, 2.2])
    with controls:
        st.slider(_("Input channels"), *MODULE_OFFERED["in_channels"], key="inc_in_channels", persist_state="page")
        st.slider(_("Input size (px)"), *MODULE_OFFERED["module_size"], key="inc_size", persist_state="page")
        st.toggle(_("1×1 reductions"), key="inc_reduction", persist_state="page",
                  help=_("Off: the 3×3 and 5×5 convs read the input directly and the pool branch has no projection."))
        for key, title, about in zip(WIDTH_KEYS, WIDTH_TITLES, WIDTH_HELP):
            unused = not state["inc_reduction"] and key in ("inc_3x3_reduce", "inc_5x5_reduce", "inc_pool_proj")
            st.slider(_(title), *MODULE_OFFERED["width"], key=key, disabled=unused, persist_state="page",
                      help=_(about) if about else None)
        st.selectbox(_("Factorisation"), FACTORIZE, key="inc_factorize", persist_state="page",
                     format_func=lambda f: _(FACTORIZE_LABELS[f]))
        st.toggle(_("True 5×5 in the '5×5' branch"), key="inc_true_5x5", persist_state="page",
                  help=_("Off: a 3×3 conv, as in torchvision's GoogLeNet (kept for its pretrained weights)."))
    module_config = module_or_last_good(panel)
    report = module_report(module_config)
    with panel:
        cols = st.columns(2)  # two by two: four abreast truncates the values in the narrow column
        cols[0].metric(_("Output channels"), f"{report.out_channels:,}")
        cols[1].metric(_("Conv weights"), f"{report.conv_weight_params:,}",
                       help=_("Kernel weights only: no bias, no BN (the count the seed text uses)."))
        cols = st.columns(2)
        cols[0].metric(_("Params (with BN)"), f"{report.params:,}")
        cols[1].metric(_("MACs"), format_macs(report.macs),
                       help=_("{n} multiply-accumulates").format(n=f"{report.macs:,}"))
        # One chart at a time: each plotly chart costs the browser ~50 ms a step (issue #12); the
        # diagram is plain SVG, a few ms.
        shown = view_selector(_("Module chart"), MODULE_CHARTS, key="inc_module_chart", persist_state="page", _=_)
        if shown == "diagram":
            show_diagram(*module_drawing(module_key(module_config), _.lang, presenting()), key="inc_module_diagram")
        else:
            show_chart(weight_bars_chart(module_key(module_config), _.lang, presenting()), key="inc_weight_bars")
        st.markdown("  \n".join(branch_lines(report, module_config.in_channels, _=_)))
        walkthrough(module_config, _=_, key="inc_walkthrough")
        show_table(tables.branch_table(report.branches, _=_))


def googlenet_view() -> tuple[GoogLeNetConfig, int]:
    """The whole network: its settings, the width table, the profile and a chart; returns (network, batch)."""
    controls, panel = st.columns([1, 2.2])
    with controls:
        preset_slot = st.container()  # filled once the config is known: it says "custom" after edits
        st.slider(_("Width multiplier"), *LIMITS["width_multiplier"], step=0.0625, key="inc_width_multiplier",
                  persist_state="page",
                  help=_("Scales every conv width (stem and modules), rounded, at least 1 channel."))
        st.toggle(_("True 5×5 convs (paper)"), key="inc_net_5x5", persist_state="page",
                  help=_("torchvision's GoogLeNet uses a 3×3 conv in the '5×5' branch, a known quirk kept so its "
                         "pretrained weights load (pytorch/vision#906)."))
        st.selectbox(_("Factorisation"), FACTORIZE, key="inc_net_factorize", persist_state="page",
                     format_func=lambda f: _(FACTORIZE_LABELS[f]))
        st.toggle(_("Auxiliary classifiers (after 4a and 4d)"), key="inc_aux_logits", persist_state="page",
                  help=_("Used only in training: they add weights and training memory, no inference MACs."))
        st.radio(_("Stem"), ["imagenet", "cifar"], key="inc_stem", persist_state="page", horizontal=True,
                 help=_("imagenet: 7×7/2 conv, 3×3/2 max pool, 1×1 and 3×3 convs, max pool; cifar: no downsampling"))
        st.number_input(_("Input size (px)"), *LIMITS["input_size"], key="inc_input_size", persist_state="page")
        st.number_input(_("Batch size (for memory)"), *BATCH_LIMITS, key="inc_batch_size", persist_state="page")
    with panel:
        st.markdown(_("**Module widths** (GoogLeNet paper, Table 1; edit any cell)"))
        edited = st.data_editor(
            pd.DataFrame(state["inc_table_widths"], columns=list(WIDTH_TITLES),
                         index=[f"inception{n}" for n in MODULE_NAMES]),
            # the columns keep the paper's names (the editor's edits refer to them), headed in the reader's language
            column_config={title: st.column_config.NumberColumn(_(title), help=_(about) if about else None)
                           for title, about in zip(WIDTH_TITLES, WIDTH_HELP)},
            key=f"inc_widths_table_{state['inc_table_version']}", num_rows="fixed", width="stretch")
    state["inc_table_now"] = table_widths = edited.to_numpy().tolist()  # the edits, for runs without the table

    preset, preset_config = state["inc_preset"], PRESETS[state["inc_preset"]]
    net_config, result = profile_or_last_good(lambda: net_from_widgets(table_widths), int(state["inc_batch_size"]),
                                              "inc_net_last_good", messages=panel, fallback=(preset, preset_config))
    batch_size = result.batch_size
    with preset_slot:
        st.selectbox(_("Preset"), list(PRESETS), key="inc_preset", persist_state="page", on_change=load_preset,
                     format_func=lambda name: f"{name} — {_(PRESET_DESCRIPTIONS[name])}")  # fixed labels
        st.caption(_("Now: custom, from {preset}").format(preset=preset) if net_config != preset_config
                   else _("Now: {preset} as published").format(preset=preset))  # always one caption
    reference, matched = reference_profile(preset_config, batch_size, input_size=net_config.input_size,
                                           stem=net_config.stem)
    with panel:
        st.subheader(_("GoogLeNet, {depth} layers deep").format(depth=net_config.depth))
        st.caption(deltas_note(preset, matched, preset_config.input_size, _=_))
        free_slot = headline_metrics(result, reference, batch_size)  # its sixth slot is this page's
        free_slot.metric(_("Output channels"), f"{result.blocks[-2].out_channels:,}")
        st.caption(_("Exact counts: {params} parameters, {macs} MACs per image. Activations = what autograd keeps "
                     "for backward in training.").format(params=f"{result.params:,}", macs=f"{result.macs:,}"))

    chart = view_selector(_("Chart"), CHARTS, key="inc_chart", persist_state="page", _=_)
    if chart == "table":
        show_table(tables.block_table(result, _=_))
    else:
        show_chart(network_chart(config_key(net_config), batch_size, chart, _.lang, presenting()),
                   key=f"inc_chart_{chart}")
    build_tools(net_config, result, preset if net_config == preset_config else "googlenet-custom",
                key_prefix="inc_", placeholder=_("e.g. googlenet-x0.5"), load_config=load_config)
    return net_config, batch_size


def v3_view() -> None:
    st.number_input(_("Input size (px)"), *V3_LIMITS["input_size"], key="inc_v3_input_size", persist_state="page",
                    help=_("torchvision's Inception v3 expects 299 px; its auxiliary head needs at least 299 to run."))
    try:
        v3_config = InceptionV3Config(input_size=int(state["inc_v3_input_size"]))
        cached_profile(v3_config, 1)
    except Exception as error:  # noqa: BLE001
        show_error(error, _("Config refused — "))
        v3_config = InceptionV3Config()
    v3 = cached_profile(v3_config, 1)
    cols = st.columns(3)
    cols[0].metric(_("Inception v3 parameters"), format_count(v3.params),
                   help=_("{n}, aux head included").format(n=f"{v3.params:,}"))
    cols[1].metric(_("Inception v3 MACs"), format_macs(v3.macs),
                   help=_("{n}; inference skips the aux head").format(n=f"{v3.macs:,}"))
    cols[2].metric(_("Training activations, batch 1"), format_bytes(v3.activation_bytes))
    st.caption(_(V3_MODULES))
    show_chart(network_chart(config_key(v3_config), 1, "stages", _.lang, presenting()), key="inc_v3_stages")
    show_chart(network_chart(config_key(v3_config), 1, "costs", _.lang, presenting()), key="inc_v3_costs")
    show_table(tables.block_table(v3, _=_))


def why_view() -> None:
    st.markdown(why_text(module_or_last_good(None), _=_))


VIEWS = {"module": module_view, "googlenet": googlenet_view, "v3": v3_view, "why": why_view}


def address(module_config, net_config, batch_size: int) -> dict[str, str]:
    """The address is the state: what differs from the defaults (the module's, the preset's fields)."""
    def changed(key: str, value) -> dict[str, str]:
        return {ROWS[key].address: str(value)} if value != ROWS[key].default else {}

    return {**changed("inc_view", state["inc_view"]), **changed("inc_chart", state["inc_chart"]),
            **changed("inc_module_chart", state["inc_module_chart"]),
            **sharing.to_query(module_config, DEFAULT_MODULE), **changed("inc_preset", state["inc_preset"]),
            **sharing.to_query(net_config, PRESETS[state["inc_preset"]], prefix="net_"),
            **changed("inc_batch_size", batch_size), **changed("inc_v3_input_size", state["inc_v3_input_size"])}


link_problems = restore_settings("inception", defaults, from_link)
# Only the chosen part's widgets are drawn; the others' keep their values (persist_state="page").
_ = page_header(__file__, sidebar_holds=N_("presentation mode and the share link (this page's settings are below)"))
st.caption(_("Run 1×1, 3×3 and 5×5 convolutions and a pool side by side and concatenate them; 1×1 convs keep "
             "the wide branches affordable. Every number below is computed exactly from the config."))
link_notes(link_problems)
view = view_selector(_("Part of the page"), PARTS, key="inc_view", _=_)
net_config, batch_size = VIEWS[view]() or network_now()  # the GoogLeNet part returns the network it drew
module_config = module_or_last_good(None)  # the module part drew it (and its error, if any) already
query = address(module_config, net_config, batch_size)
# What the widgets hold (even a refused config: nothing the user typed is lost), the table with its edits.
kept = {key: state[key] for key in defaults()}
kept.update(inc_table_widths=state["inc_table_now"], inc_table_now=state["inc_table_now"],
            inc_table_version=state["inc_table_version"] + 1)
publish_settings("inception", kept, query)
share_link(query)
