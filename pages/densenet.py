"""DenseNet builder: sliders rebuild a live DenseNet; its analytic profile is charted at once."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.charts import tables
from explorer.analysis import work
from explorer.models.densenet import LIMITS, PRESET_DESCRIPTIONS, PRESETS, DenseNetConfig
from explorer.models.limits import DENSENET_OFFERED
from explorer.units import format_bytes
from explorer import sharing
from explorer.i18n import N_
from pages.ui.teach import walkthrough
from pages.ui.build import (BATCH_LIMITS, build_tools, cached_profile, headline_metrics, config_key,
                            profile_or_last_good, reference_profile)
from pages.ui.jobs import run_job
from pages.ui.messages import show_error
from pages.ui.page import page_header
from pages.ui.settings import (Setting, link_notes, publish_settings, read_settings, restore_settings,
                               setting_defaults, share_link, unknown_keys)
from pages.ui.charts import show_chart, show_table
from pages.ui.layout import view_selector
from pages.ui.state import presenting
from pages.ui.figures import densenet_chart

MAX_BLOCKS = LIMITS["num_blocks"][1]
BLOCK_KEYS = [f"block_{i + 1}" for i in range(MAX_BLOCKS)]
WIDGET_KEYS = ["growth_rate", "num_blocks", *BLOCK_KEYS, "compression", "bottleneck", "bn_size", "init_features",
               "stem", "input_size", "drop_rate", "memory_efficient"]
CHARTS = {"channels": N_("Channel growth"), "blocks": N_("Params & MACs"), "memory": N_("Memory"),
          "table": N_("Per block")}
KNOBS = (
    N_("**Growth rate k** — each layer contributes k new maps to the shared 'collective knowledge' of its block. "
       "Small k (12-48) suffices because every layer can read all earlier maps."),
    N_("**Bottleneck (DenseNet-B)** — the input of layer l grows as k0 + k(l−1); a 1×1 conv to 4k channels first "
       "keeps the 3×3 conv's cost independent of depth."),
    N_("**Compression θ (DenseNet-C)** — transitions (BN-ReLU-1×1 conv-2×2 average pool) keep floor(θ·m) "
       "channels; θ = 0.5 halves them. Both together make DenseNet-BC."),
    N_("**Memory** — a naive implementation stores each concatenation and its normalised copy, so memory grows "
       "quadratically with depth; memory-efficient mode recomputes them during backward."))


def widget_values(config: DenseNetConfig) -> dict:
    blocks = list(config.block_config) + [config.block_config[-1]] * (MAX_BLOCKS - len(config.block_config))
    return {"growth_rate": config.growth_rate, "num_blocks": len(config.block_config),
            **dict(zip(BLOCK_KEYS, blocks)), "compression": float(config.compression),
            "bottleneck": config.bottleneck, "bn_size": config.bn_size, "init_features": config.num_init_features,
            "stem": config.stem, "input_size": config.input_size, "drop_rate": float(config.drop_rate),
            "memory_efficient": config.memory_efficient}


def edited_from_preset(values: dict, preset: str) -> bool:
    """Whether the widgets differ from the preset (blocks beyond the ones in use do not count)."""
    expected = widget_values(PRESETS[preset])
    used = set(BLOCK_KEYS[: expected["num_blocks"]])
    return any(values.get(k) != v for k, v in expected.items() if k not in BLOCK_KEYS or k in used)


def load_preset() -> None:
    st.session_state.update(widget_values(PRESETS[st.session_state["densenet_preset"]]))


def load_config(config: DenseNetConfig) -> None:
    """Put a whole config (a loaded file) into the widgets; runs as a callback, before them."""
    st.session_state.update(widget_values(config))


DEFAULT_PRESET = "densenet121"
# Settings besides the config's fields (those are read and written by explorer.sharing, against the preset).
SETTINGS = (
    Setting("densenet_preset", "preset", DEFAULT_PRESET, choices=tuple(PRESETS)),  # read by from_link itself
    Setting("batch_size", "batch", 1, *BATCH_LIMITS),
    Setting("densenet_view", "chart", "channels", choices=tuple(CHARTS)),
)
DEFAULTS = setting_defaults(SETTINGS)
LINK_KEYS = {*(row.address for row in SETTINGS), *(k.short for k in sharing.keys_for(PRESETS[DEFAULT_PRESET]))}


def defaults() -> dict:
    return {**widget_values(PRESETS[DEFAULT_PRESET]), **DEFAULTS}


def from_link(query: dict) -> tuple[dict, list[str]]:
    """Widget values for a URL query: the preset, then the fields that differ from it."""
    notes = unknown_keys(query, LINK_KEYS)
    preset = query.get("preset", DEFAULT_PRESET)
    if preset not in PRESETS:
        notes.append(f"preset: unknown, used {DEFAULT_PRESET}")
        preset = DEFAULT_PRESET
    config, config_notes = sharing.from_query(query, PRESETS[preset])
    values, more_notes = read_settings(SETTINGS[1:], query)
    return {"densenet_preset": preset, **widget_values(config), **values}, notes + config_notes + more_notes


def controls() -> None:
    # The box's labels stay fixed (a selectbox whose labels change between reruns loses its value
    # in the browser); an edited config is named under it instead.
    st.selectbox(_("Preset"), list(PRESETS), key="densenet_preset", on_change=load_preset,
                 format_func=lambda name: f"{name} — {_(PRESET_DESCRIPTIONS[name])}")
    # Always one caption here: an element appearing above the sliders would re-mount them in the
    # browser and take the keyboard focus from the slider being moved.
    chosen = st.session_state["densenet_preset"]
    st.caption(_("Now: custom, from {preset}").format(preset=chosen)
               if edited_from_preset({k: st.session_state[k] for k in WIDGET_KEYS}, chosen)
               else _("Now: {preset} as published").format(preset=chosen))
    st.slider(_("Growth rate k"), *LIMITS["growth_rate"], key="growth_rate")
    st.caption(_("k: how many new feature maps each layer adds. Layer l of a block sees k0 + k(l−1) channels."))
    st.slider(_("Dense blocks"), *LIMITS["num_blocks"], key="num_blocks")
    for i in range(st.session_state["num_blocks"]):
        st.slider(_("Layers in block {n}").format(n=i + 1), *LIMITS["block_layers"], key=BLOCK_KEYS[i],
                  persist_state="page")  # kept while hidden (fewer blocks selected)
    # format: a link or a sweep point may carry θ = 0.0987; the slider shows the value in use
    st.slider(_("Compression θ"), *DENSENET_OFFERED["compression"], step=0.01, format="%.4g", key="compression")
    st.caption(_("θ: a transition keeps floor(θ·m) of the m channels a block outputs (θ < 1: DenseNet-C)."))
    st.toggle(_("Bottleneck (1×1 conv before each 3×3)"), key="bottleneck")
    st.slider(_("Bottleneck width (× k)"), *LIMITS["bn_size"], key="bn_size",
              disabled=not st.session_state["bottleneck"])
    st.caption(_("The bottleneck squeezes the growing input to bn_size·k channels before the 3×3 conv "
                 "(DenseNet-B); off: each layer is BN-ReLU-3×3 conv straight from the concatenation."))
    st.number_input(_("Stem features k0"), *LIMITS["num_init_features"], key="init_features")
    st.radio(_("Stem"), ["imagenet", "cifar"], key="stem", horizontal=True,
             help=_("imagenet: 7×7/2 conv + 3×3/2 max pool; cifar: one 3×3 conv, no pooling"))
    st.number_input(_("Input size (px)"), *LIMITS["input_size"], key="input_size")
    st.number_input(_("Batch size (for memory)"), *BATCH_LIMITS, key="batch_size")
    st.slider(_("Dropout rate"), *DENSENET_OFFERED["drop_rate"], step=0.05, format="%.4g", key="drop_rate")
    st.toggle(_("Memory-efficient (checkpointing)"), key="memory_efficient",
              help=_("Recompute each layer's concatenation + BN + ReLU + 1×1 conv in backward instead of "
                     "storing them (Pleiss et al. 2017): less memory, about 15-20 % more training time."))

def widget_config() -> DenseNetConfig:
    state = st.session_state
    return DenseNetConfig(
        growth_rate=int(state["growth_rate"]),
        block_config=tuple(int(state[k]) for k in BLOCK_KEYS[: state["num_blocks"]]),
        num_init_features=int(state["init_features"]), bottleneck=bool(state["bottleneck"]),
        bn_size=int(state["bn_size"]), compression=round(float(state["compression"]), 4),
        drop_rate=round(float(state["drop_rate"]), 4), stem=state["stem"], input_size=int(state["input_size"]),
        num_classes=PRESETS[state["densenet_preset"]].num_classes, memory_efficient=bool(state["memory_efficient"]))


def address(config: DenseNetConfig, batch_size: int) -> dict[str, str]:
    """The address is the state: the preset, the fields that differ from it, the batch and the chart."""
    state = st.session_state
    return {**({"preset": state["densenet_preset"]} if state["densenet_preset"] != DEFAULT_PRESET else {}),
            **sharing.to_query(config, PRESETS[state["densenet_preset"]]),
            **({"batch": str(batch_size)} if batch_size != 1 else {}),
            **({"chart": state["densenet_view"]} if state["densenet_view"] != DEFAULTS["densenet_view"] else {})}


def summary(config: DenseNetConfig, result, batch_size: int) -> None:
    """The build's headline numbers against its preset, and its channel arithmetic block by block."""
    state = st.session_state
    preset_config = PRESETS[state["densenet_preset"]]
    same = {"input_size": config.input_size} if preset_config.stem == config.stem else {}
    reference, matched = reference_profile(preset_config, batch_size, **same)
    other_mode = cached_profile(config.replace(memory_efficient=not config.memory_efficient), batch_size)

    st.subheader(f"{config.variant}, L = {config.depth}")
    st.caption(_("Deltas are against {preset} at the same input size and batch.").format(preset=state["densenet_preset"])
               if matched == "same" and same else
               _("Deltas are against {preset} at its own input size ({size} px) and the same batch.").format(
                   preset=state["densenet_preset"], size=preset_config.input_size))
    last_slot = headline_metrics(result, reference, batch_size)

    standard, efficient = (other_mode, result) if config.memory_efficient else (result, other_mode)
    saving = 1 - efficient.activation_bytes / standard.activation_bytes
    last_slot.metric(_("Memory-efficient mode would need") if not config.memory_efficient
                     else _("Standard mode would need"), format_bytes(other_mode.activation_bytes),
                     f"{'-' if not config.memory_efficient else '+'}{100 * saving:.0f} %", delta_color="inverse")
    st.caption(_("Activations = what autograd keeps for backward in training (exact, per storage). "
                 "Exact counts: {params} parameters, {macs} MACs per image.").format(
        params=f"{result.params:,}", macs=f"{result.macs:,}"))

    # Channel arithmetic, block by block, in the paper's terms.
    lines = []
    blocks = [b for b in result.blocks if b.kind in ("denseblock", "transition")]
    for b in blocks:
        if b.kind == "denseblock":
            lines.append(_("**{name}**: {c_in} + {layers} × {k} = **{c_out}** channels at {h}×{w}").format(
                name=b.name, c_in=b.in_channels, layers=b.layers, k=config.growth_rate, c_out=b.out_channels,
                h=b.height, w=b.width))
        else:
            lines.append(_("**{name}** (θ = {theta}): floor({theta} × {c_in}) = **{c_out}** channels at {h}×{w}")
                         .format(name=b.name, theta=f"{config.compression:g}", c_in=b.in_channels,
                                 c_out=b.out_channels, h=b.height, w=b.width))
    st.markdown("  \n".join(lines))
    walkthrough(config, _=_, key="densenet_walkthrough")  # the same arithmetic, one step at a time


# --- the charts, one at a time: tabs would build and send every chart on every rerun, hidden ones too ---
def chart_view(config: DenseNetConfig, result, batch_size: int) -> None:
    view = st.session_state["densenet_view"]
    show_chart(densenet_chart(config_key(config), batch_size, view, _.lang, presenting()), key=f"chart_{view}")


def memory_view(config: DenseNetConfig, result, batch_size: int) -> None:
    chart_view(config, result, batch_size)
    state = st.session_state
    st.caption(_("Concatenations and the first BN of each layer dominate: they grow with the layer index, so a "
                 "block's memory grows quadratically with its depth unless memory-efficient mode recomputes them."))
    dense_blocks = [b.name for b in result.blocks if b.kind in ("denseblock", "transition")]
    if state.get("memory_block") not in dense_blocks:
        state["memory_block"] = dense_blocks[0]
    st.selectbox(_("Look inside one block (memory per layer)"), dense_blocks, key="memory_block",
                 persist_state="page")  # kept while another chart is shown
    show_chart(densenet_chart(config_key(config), batch_size, "memory_block", _.lang, presenting(),
                              state["memory_block"]), key="chart_memory_block")


def table_view(config: DenseNetConfig, result, batch_size: int) -> None:
    show_table(tables.block_table(result, _=_))


VIEWS = {"channels": chart_view, "blocks": chart_view, "memory": memory_view, "table": table_view}


# --- downloads, comparison, deeper checks ----------------------------------------------------
def cross_check(config: DenseNetConfig) -> None:
    st.markdown("**" + _("Cross-check with other counters") + "**")
    st.caption(_("Counts the live model with fvcore and with torch's FlopCounterMode and sets them beside the profile."))
    if not st.button(_("Run cross-check"), key="cross_check"):
        return
    with st.spinner(_("Tracing the model with fvcore and FlopCounterMode…")):
        try:
            # its cost at batch 1, the batch it runs at, whatever batch the page shows
            check = run_job(work.cross_check, config, cost=work.cross_check_cost(cached_profile(config)),
                            key="cross_check_job")
            counter = _("counter")
            st.dataframe(pd.DataFrame([
                {counter: _("explorer profile (MACs)"), "value": check.profile_macs},
                {counter: "FlopCounterMode (FLOPs)", "value": check.flop_counter_flops},
                {counter: _("fvcore (total)"), "value": check.fvcore_total},
                *({counter: f"fvcore: {op}", "value": v} for op, v in check.fvcore_by_operator.items()),
                {counter: _("sum(p.numel()) of the live model"), "value": check.module_params},
            ]), hide_index=True, key="cross_check_table",
                column_config={"value": st.column_config.NumberColumn(_("count"), format="localized")})
            for note in check.explanations:
                st.markdown(f"- {note}")
        except Exception as error:  # noqa: BLE001
            show_error(error, _("Cross-check refused — "))


def knobs() -> None:
    box = st.expander(_("What the knobs do"), key="densenet_knobs", on_change="rerun")  # filled only while open
    if box.open:
        box.markdown("\n".join("- " + _(line) for line in KNOBS))


# Settings: from a link, else as this session left them, else the defaults.
link_problems = restore_settings("densenet", defaults, from_link)
_ = page_header(__file__)
st.caption(_("Every layer receives the feature maps of all layers before it in its block. Move a slider: "
             "the live model is rebuilt and every number below is recomputed exactly."))
link_notes(link_problems)
with st.sidebar:
    controls()
preset = st.session_state["densenet_preset"]
config, result = profile_or_last_good(widget_config, int(st.session_state["batch_size"]), "densenet_last_good",
                                      fallback=(preset, PRESETS[preset]))
st.session_state["densenet_build"] = config.to_dict()  # the Train page can start from this build
query = address(config, result.batch_size)
publish_settings("densenet", {k: st.session_state[k] for k in [*WIDGET_KEYS, *DEFAULTS]}, query)
share_link(query)
summary(config, result, result.batch_size)
view = view_selector(_("Chart"), CHARTS, key="densenet_view", _=_)
VIEWS[view](config, result, result.batch_size)
build_tools(config, result, preset if config == PRESETS[preset] else "densenet-custom",
            placeholder=_("e.g. my-densenet-k24"), load_config=load_config, more=lambda: cross_check(config))
knobs()
