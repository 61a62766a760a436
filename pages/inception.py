"""Inception explorer: design one module, then edit a whole GoogLeNet; Inception v3's profile beside it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.charts import inception as charts
from explorer.charts import tables
from explorer.errors import ExplorerError
from explorer.models.googlenet import (LIMITS, MODULE_NAMES, PRESET_DESCRIPTIONS, PRESETS, GoogLeNetConfig,
                                       googlenet_plan)
from explorer.models.inception import FACTORIZE, WIDTH_LABELS, InceptionModuleConfig, module_report
from explorer import sharing
from pages.ui.teach import walkthrough
from explorer.models.limits import INCEPTION_MODULE_OFFERED as MODULE_OFFERED
from explorer.models.inception_v3 import LIMITS as V3_LIMITS
from explorer.models.inception_v3 import InceptionV3Config
from explorer.units import format_bytes, format_count, format_macs
from pages import (BATCH_LIMITS, build_tools, cached_profile, headline_metrics, link_notes, page_header,
                   profile_or_last_good, publish_settings, reference_profile, restore_settings, share_link, show_error,
                   unknown_keys)
from pages.layout import show_chart

WIDTH_KEYS = ["inc_1x1", "inc_3x3_reduce", "inc_3x3", "inc_5x5_reduce", "inc_5x5", "inc_pool_proj"]
FACTORIZE_LABELS = {"none": "none", "stacked": "5×5 → two 3×3 (v2/v3)", "asymmetric": "n×n → 1×n then n×1"}

state = st.session_state
DEFAULT_PRESET = "googlenet"
DEFAULT_MODULE = InceptionModuleConfig()  # GoogLeNet's 3a: 192 channels in, 28x28
V3_SIZE = 299


def module_widget_values(config: InceptionModuleConfig) -> dict:
    return {"inc_in_channels": config.in_channels, "inc_size": config.input_size,
            **dict(zip(WIDTH_KEYS, config.widths)), "inc_reduction": config.reduction,
            "inc_factorize": config.factorize, "inc_true_5x5": config.branch3_kernel == 5}


def net_widget_values(config: GoogLeNetConfig) -> dict:
    return {"inc_width_multiplier": float(config.width_multiplier), "inc_aux_logits": config.aux_logits,
            "inc_net_5x5": config.branch3_kernel == 5, "inc_net_factorize": config.factorize,
            "inc_stem": config.stem, "inc_input_size": config.input_size,
            "inc_table_widths": [list(row) for row in config.widths],
            # a new table key makes the editor start again from these widths, forgetting its edits
            "inc_table_version": state.get("inc_table_version", 0) + 1}


def load_config(config: GoogLeNetConfig) -> None:
    state.update(net_widget_values(config))


def load_preset() -> None:
    load_config(PRESETS[state["inc_preset"]])


MODULE_KEYS = {k.short for k in sharing.keys_for(DEFAULT_MODULE)}
NET_KEYS = {k.short for k in sharing.keys_for(PRESETS[DEFAULT_PRESET], prefix="net_")}
LINK_KEYS = MODULE_KEYS | NET_KEYS | {"preset", "batch", "v3_size"}


def defaults() -> dict:
    return {**module_widget_values(DEFAULT_MODULE), "inc_preset": DEFAULT_PRESET,
            **net_widget_values(PRESETS[DEFAULT_PRESET]), "inc_table_version": 0, "inc_batch_size": 1,
            "inc_v3_input_size": V3_SIZE}


def from_link(query: dict) -> tuple[dict, list[str]]:
    notes = unknown_keys(query, LINK_KEYS)
    module, module_notes = sharing.from_query(query, DEFAULT_MODULE)
    preset, preset_notes = sharing.read_choice(query, "preset", DEFAULT_PRESET, list(PRESETS))
    net, net_notes = sharing.from_query(query, PRESETS[preset], prefix="net_")
    batch, batch_notes = sharing.read_int(query, "batch", 1, *BATCH_LIMITS)
    v3_size, v3_notes = sharing.read_int(query, "v3_size", V3_SIZE, *V3_LIMITS["input_size"])
    values = {**module_widget_values(module), "inc_preset": preset, **net_widget_values(net),
              "inc_batch_size": batch, "inc_v3_input_size": v3_size}
    return values, notes + module_notes + preset_notes + net_notes + batch_notes + v3_notes


link_problems = restore_settings("inception", defaults, from_link)
page_header(__file__, sidebar_holds="presentation mode and the share link (this page's settings are below)")
st.caption("Run 1×1, 3×3 and 5×5 convolutions and a pool side by side and concatenate them; 1×1 convs keep "
           "the wide branches affordable. Every number below is computed exactly from the config.")
link_notes(link_problems)

tab_module, tab_net, tab_v3, tab_why = st.tabs(["Module designer", "GoogLeNet", "Inception v3", "Why it works"])

# --- module designer ---------------------------------------------------------------------------------
with tab_module:
    controls, view = st.columns([1, 2.2])
    with controls:
        st.slider("Input channels", *MODULE_OFFERED["in_channels"], key="inc_in_channels")
        st.slider("Input size (px)", *MODULE_OFFERED["module_size"], key="inc_size")
        st.toggle("1×1 reductions", key="inc_reduction",
                  help="Off: the 3×3 and 5×5 convs read the input directly and the pool branch has no projection.")
        reduction = state["inc_reduction"]
        for key, label in zip(WIDTH_KEYS, WIDTH_LABELS):
            unused = not reduction and key in ("inc_3x3_reduce", "inc_5x5_reduce", "inc_pool_proj")
            st.slider(label.replace("x", "×"), *MODULE_OFFERED["width"], key=key, disabled=unused)
        st.selectbox("Factorisation", FACTORIZE, key="inc_factorize", format_func=FACTORIZE_LABELS.get)
        st.toggle("True 5×5 in the '5×5' branch", key="inc_true_5x5",
                  help="Off: a 3×3 conv, as in torchvision's GoogLeNet (kept for its pretrained weights).")

    try:
        module_config = InceptionModuleConfig(
            int(state["inc_in_channels"]), tuple(int(state[k]) for k in WIDTH_KEYS), int(state["inc_size"]),
            reduction=bool(reduction), factorize=state["inc_factorize"],
            branch3_kernel=5 if state["inc_true_5x5"] else 3)
        report = module_report(module_config)
        state["inc_module_last_good"] = module_config.to_dict()
    except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
        with view:
            show_error(error, "Module refused — ")
        if "inc_module_last_good" not in state:
            st.stop()
        module_config = InceptionModuleConfig.from_dict(state["inc_module_last_good"])
        report = module_report(module_config)
        with view:
            st.info("Showing the last module that worked.")

    with view:
        cols = st.columns(2)  # two by two: four abreast truncates the values in the narrow column
        cols[0].metric("Output channels", f"{report.out_channels:,}")
        cols[1].metric("Conv weights", f"{report.conv_weight_params:,}",
                       help="Kernel weights only: no bias, no BN (the count the seed text uses).")
        cols = st.columns(2)
        cols[0].metric("Params (with BN)", f"{report.params:,}")
        cols[1].metric("MACs", format_macs(report.macs), help=f"{report.macs:,} multiply-accumulates")
        show_chart(charts.module_diagram(module_config), key="inc_module_diagram")

        lines = []
        for b in report.branches:
            if b.naive_conv_weight_params > b.conv_weight_params and b.conv_weight_params:
                ratio = b.naive_conv_weight_params / b.conv_weight_params
                compare = (f"{b.conv_weight_params:,} conv weights with the 1×1 reduction vs "
                           f"{b.naive_conv_weight_params:,} without ({ratio:.1f}× more)")
            elif b.naive_conv_weight_params < b.conv_weight_params:  # the pool branch's projection
                compare = (f"{b.conv_weight_params:,} conv weights in its 1×1 projection; without it the branch "
                           f"has no weights but passes all {module_config.in_channels:,} input channels on")
            else:
                compare = f"{b.conv_weight_params:,} conv weights"
            lines.append(f"**{charts.branch_title(b.name)}** branch: **{b.out_channels:,}** channels, {compare}")
        lines.append(f"Output: {' + '.join(str(b.out_channels) for b in report.branches)} = "
                     f"**{report.out_channels:,}** channels; **{report.conv_weight_params:,}** conv weights in total.")
        st.markdown("  \n".join(lines))
        walkthrough(module_config, key="inc_walkthrough")

        try:  # the bars compare against the reduced module even while the reductions are off
            reduced = module_report(module_config.replace(reduction=True)).branches
        except ExplorerError:
            reduced = report.branches
        show_chart(charts.branch_weight_bars(reduced), key="inc_weight_bars")
        st.dataframe(tables.branch_table(report.branches), hide_index=True, key="inc_branch_table")

# --- whole network ----------------------------------------------------------------------------------
with tab_net:
    controls, view = st.columns([1, 2.2])
    with controls:
        preset_slot = st.container()  # filled once the config is known: it says "custom" after edits
        st.slider("Width multiplier", *LIMITS["width_multiplier"], step=0.0625, key="inc_width_multiplier",
                  help="Scales every conv width (stem and modules), rounded, at least 1 channel.")
        st.toggle("True 5×5 convs (paper)", key="inc_net_5x5",
                  help="torchvision's GoogLeNet uses a 3×3 conv in the '5×5' branch, a known quirk kept so its "
                       "pretrained weights load (pytorch/vision#906).")
        st.selectbox("Factorisation", FACTORIZE, key="inc_net_factorize", format_func=FACTORIZE_LABELS.get)
        st.toggle("Auxiliary classifiers (after 4a and 4d)", key="inc_aux_logits",
                  help="Used only in training: they add weights and training memory, no inference MACs.")
        st.radio("Stem", ["imagenet", "cifar"], key="inc_stem", horizontal=True,
                 help="imagenet: 7×7/2 conv, 3×3/2 max pool, 1×1 and 3×3 convs, max pool; cifar: no downsampling")
        st.number_input("Input size (px)", *LIMITS["input_size"], key="inc_input_size")
        st.number_input("Batch size (for memory)", *BATCH_LIMITS, key="inc_batch_size")

    preset_config = PRESETS[state["inc_preset"]]
    table_key = f"inc_widths_table_{state['inc_table_version']}"
    with view:
        st.markdown("**Module widths** (GoogLeNet paper, Table 1; edit any cell)")
        edited = st.data_editor(
            pd.DataFrame(state["inc_table_widths"], columns=[label.replace("x", "×") for label in WIDTH_LABELS],
                         index=[f"inception{n}" for n in MODULE_NAMES]),
            key=table_key, num_rows="fixed", width="stretch")

    batch_size = int(state["inc_batch_size"])
    def widget_config() -> GoogLeNetConfig:
        widths = tuple(tuple(int(v) for v in row) for row in edited.to_numpy().tolist())
        return GoogLeNetConfig(
            widths=widths, width_multiplier=float(state["inc_width_multiplier"]),
            branch3_kernel=5 if state["inc_net_5x5"] else 3, factorize=state["inc_net_factorize"],
            aux_logits=bool(state["inc_aux_logits"]), stem=state["inc_stem"], input_size=int(state["inc_input_size"]),
            num_classes=preset_config.num_classes)

    net_config, result = profile_or_last_good(widget_config, batch_size, "inc_net_last_good", messages=view)
    batch_size = result.batch_size

    edited_preset = net_config != preset_config
    with preset_slot:
        st.selectbox("Preset", list(PRESETS), key="inc_preset", on_change=load_preset,
                     format_func=lambda name: f"{name} — {PRESET_DESCRIPTIONS[name]}")  # fixed labels
        st.caption(f"Now: custom, from {state['inc_preset']}" if edited_preset  # always one caption: stable
                   else f"Now: {state['inc_preset']} as published")
    reference, matched = reference_profile(preset_config, batch_size, input_size=net_config.input_size,
                                           stem=net_config.stem)
    with view:
        st.subheader(f"GoogLeNet, {net_config.depth} layers deep")
        st.caption(f"Deltas are against {state['inc_preset']} at "
                   + ("the same input size, stem and batch." if matched == "same" else
                      f"its own input size ({preset_config.input_size} px) and stem, and the same batch."))
        last_slot = headline_metrics(result, reference, batch_size)
        last_slot.metric("Output channels", f"{result.blocks[-2].out_channels:,}")
        st.caption(f"Exact counts: {result.params:,} parameters, {result.macs:,} MACs per image. "
                   f"Activations = what autograd keeps for backward in training.")

    chart_stages, chart_costs, chart_branches, chart_table = st.tabs(
        ["Channels & size", "Params & MACs", "Branch shares", "Per module"])
    with chart_stages:
        show_chart(charts.stage_shapes(result), key="inc_chart_stages")
    with chart_costs:
        show_chart(charts.module_costs(result), key="inc_chart_costs")
    with chart_branches:
        show_chart(charts.branch_channels(googlenet_plan(net_config).modules), key="inc_chart_branches")
    with chart_table:
        st.dataframe(tables.block_table(result), hide_index=True, key="inc_block_table")

    build_tools(net_config, result, state["inc_preset"] if net_config == preset_config else "googlenet-custom",
                key_prefix="inc_", placeholder="e.g. googlenet-x0.5", load_config=load_config)

# --- Inception v3 -------------------------------------------------------------------------------------
with tab_v3:
    st.number_input("Input size (px)", *V3_LIMITS["input_size"], key="inc_v3_input_size",
                    help="torchvision's Inception v3 expects 299 px; its auxiliary head needs at least 299 to run.")
    try:
        v3 = cached_profile(InceptionV3Config(input_size=int(state["inc_v3_input_size"])), 1)
    except Exception as error:  # noqa: BLE001
        show_error(error, "Config refused — ")
        v3 = cached_profile(InceptionV3Config(), 1)
    cols = st.columns(3)
    cols[0].metric("Inception v3 parameters", format_count(v3.params), help=f"{v3.params:,}, aux head included")
    cols[1].metric("Inception v3 MACs", format_macs(v3.macs), help=f"{v3.macs:,}; inference skips the aux head")
    cols[2].metric("Training activations, batch 1", format_bytes(v3.activation_bytes))
    st.caption("Modules as the paper (Szegedy et al. 2016) draws them, torchvision's names beside: Mixed_5b-d "
               "replace 5×5 by two 3×3 (paper Fig. 5; torchvision InceptionA); Mixed_6b-e split 7×7 into 1×7 "
               "and 7×1 (Fig. 6; InceptionC); Mixed_7b-c split 3×3 into parallel 1×3 and 3×1 (Fig. 7; "
               "InceptionE). Mixed_6a and Mixed_7a are the paper's grid-size reductions (Fig. 10), stride-2 "
               "branches beside a max pool: torchvision calls them InceptionB and InceptionD.")
    show_chart(charts.stage_shapes(v3), key="inc_v3_stages")
    show_chart(charts.module_costs(v3), key="inc_v3_costs")
    st.dataframe(tables.block_table(v3), hide_index=True, key="inc_v3_table")

# --- explanations -------------------------------------------------------------------------------------
with tab_why:
    try:
        stacked = module_report(module_config.replace(factorize="stacked"))
        plain = module_report(module_config.replace(factorize="none"))
        asym = module_report(module_config.replace(factorize="asymmetric"))
        five = next(b for b in plain.branches if b.name == "5x5")  # the plan's branch name
        five_stacked = next(b for b in stacked.branches if b.name == "5x5")
        saving = (f"In the module you designed, the 5×5 branch has {five.conv_weight_params:,} conv weights; "
                  f"as two 3×3 convs it has {five_stacked.conv_weight_params:,}; with every n×n split into 1×n "
                  f"and n×1 the whole module has {asym.conv_weight_params:,} instead of "
                  f"{plain.conv_weight_params:,}.")
    except ExplorerError:
        saving = ""
    st.markdown(
        "**The three roles of a 1×1 convolution**\n"
        "1. *Dimension reduction*: squeezing 192 channels to 16 before a 5×5 conv cuts its weights from "
        "5·5·192·32 = 153,600 to 1·1·192·16 + 5·5·16·32 = 15,872 (9.7× fewer), and its MACs by the same factor.\n"
        "2. *Added non-linearity*: each 1×1 conv is followed by BN and ReLU, so the network gets deeper and more "
        "expressive at almost no cost.\n"
        "3. *Cross-channel mixing*: a 1×1 conv is a small fully connected layer applied at every pixel; it "
        "recombines channels without looking at neighbours.\n\n"
        "**Why branches of different kernel sizes**: the right receptive field is not known in advance: small "
        "objects need small kernels, large ones large kernels. The module runs 1×1, 3×3 and 5×5 convs and a "
        "pool in parallel, concatenates them, and lets training decide how much each scale contributes.\n\n"
        "**What factorisation saves** (Inception v2/v3): a 5×5 conv sees as far as two stacked 3×3 convs but "
        "costs 25 against 2·9 = 18 weights per channel pair (28 % fewer, with one more non-linearity); an n×n "
        "conv split into 1×n then n×1 costs 2n instead of n² (33 % fewer for 3×3, 71 % for 7×7). "
        f"{saving}\n\n"
        "**torchvision's quirk**: its GoogLeNet uses a 3×3 conv in the branch the paper calls 5×5; the weights "
        "were trained that way, so the `googlenet` preset keeps it (pytorch/vision#906). `googlenet-paper` "
        "uses true 5×5 convs. Both add batch normalisation, which the 2014 paper predates.")

# --- the address is the state -------------------------------------------------------------------------
query = {**sharing.to_query(module_config, DEFAULT_MODULE),
         **({"preset": state["inc_preset"]} if state["inc_preset"] != DEFAULT_PRESET else {}),
         **sharing.to_query(net_config, preset_config, prefix="net_"),
         **({"batch": str(batch_size)} if batch_size != 1 else {}),
         **({"v3_size": str(state["inc_v3_input_size"])} if state["inc_v3_input_size"] != V3_SIZE else {})}
# What the widgets hold (even a refused config: nothing the user typed is lost), the table with its edits.
kept = {key: state[key] for key in [*module_widget_values(DEFAULT_MODULE), "inc_preset",
                                    *net_widget_values(PRESETS[DEFAULT_PRESET]),
                                    "inc_batch_size", "inc_v3_input_size"]}
kept.update(inc_table_widths=edited.to_numpy().tolist(), inc_table_version=state["inc_table_version"] + 1)
publish_settings("inception", kept, query)
share_link(query)
