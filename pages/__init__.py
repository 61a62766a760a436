"""UI helpers shared by the pages: page set-up, caching wrappers, error boxes, metrics, comparison builds.

Only Streamlit glue lives here; every number comes from ``explorer``. It is the package's
``__init__`` because Streamlit lists every other ``.py`` file in ``pages/`` as a page.
"""

from __future__ import annotations

import json

import streamlit as st

import explorer
from explorer.models.registry import architecture_of, resolve
from explorer.errors import ExplorerError

def setup_page(title: str, icon: str) -> None:
    """First call of every page: each page also runs on its own (direct link, AppTest)."""
    st.set_page_config(page_title=f"{title} · CNN architecture explorer", page_icon=icon, layout="wide")


_DEFAULT_ERROR = "Something went wrong while computing this view; the last good result is shown."


def config_key(config) -> str:
    """A stable, hashable key for a config (arch + its fields)."""
    return json.dumps({"arch": architecture_of(config).name, "config": config.to_dict()}, sort_keys=True)


def config_from_key(key: str):
    data = json.loads(key)
    return explorer.ARCHITECTURES[data["arch"]].config_type.from_dict(data["config"])


@st.cache_data(max_entries=512, show_spinner=False)
def _profile_cached(key: str, batch_size: int):
    return explorer.profile(config_from_key(key), batch_size=batch_size)


def cached_profile(config, batch_size: int = 1):
    """The analytic profile, computed once per (config, batch) for all sessions."""
    return _profile_cached(config_key(config), batch_size)


def heavy(fn, *args, **kwargs):
    """Run slow work (model runs, traces, timings) through the process-wide bounded queue; a user
    who has to wait is told their place in line."""
    from explorer.jobs.queue import HEAVY_WORK

    notice = st.empty()
    with HEAVY_WORK.slot(on_wait=lambda place: notice.info(
            f"The server is busy: you are number {place} in line; this starts as soon as a slot is free.",
            icon="⏳")):
        notice.empty()
        return fn(*args, **kwargs)


def show_error(error: Exception, what: str = "") -> None:
    """One readable line for errors users can cause; a generic line (logged) for anything else."""
    if isinstance(error, ExplorerError):
        st.error(f"{what}{error}", icon="⚠️")
    else:
        import logging

        logging.getLogger("explorer.ui").exception("unexpected error")
        st.error(_DEFAULT_ERROR, icon="⚠️")


def metric_delta(value: float, reference: float | None, fmt) -> str | None:
    """'+1.2 M (+15.0 %)' against a reference, or None when equal or unknown."""
    if reference is None or value == reference:
        return None
    diff = value - reference
    sign = "+" if diff > 0 else "-"  # ASCII: st.metric reads the arrow's direction from it
    percent = f" ({100 * diff / reference:+.1f} %)" if reference else ""
    return f"{sign}{fmt(abs(diff))}{percent}"


def profile_or_last_good(make_config, batch_size: int, state_key: str, messages=None):
    """(config, profile) of the widgets' config if it is valid and within budget; otherwise an
    error box and the last good (config, profile) of this page, kept under ``state_key``."""
    messages = messages or st.container()
    try:
        config = make_config()
        result = cached_profile(config, batch_size)
        explorer.check_budget(result)
        st.session_state[state_key] = (config_key(config), batch_size)
        return config, result
    except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
        with messages:
            show_error(error, "Config refused — ")
        if state_key not in st.session_state:
            st.stop()
        key, batch_size = st.session_state[state_key]
        config = config_from_key(key)
        with messages:
            st.info("Showing the last config that worked.")
        return config, cached_profile(config, batch_size)


def reference_profile(preset_config, batch_size: int, **same_as_build):
    """The preset's profile for the deltas, made comparable (same input size, stem...) when the
    preset allows it; otherwise the preset as published. Returns (profile, how it was matched)."""
    try:
        return cached_profile(preset_config.replace(**same_as_build), batch_size), "same"
    except ExplorerError:  # e.g. 4 dense blocks cannot run at the 8 px a 1-block build uses
        return cached_profile(preset_config, batch_size), "own"


def headline_metrics(result, reference, batch_size: int):
    """Params, MACs, FLOPs, weights and activation memory with deltas against a reference
    profile, in two rows of three; returns the free sixth slot for a page's own metric."""
    from explorer.units import format_bytes, format_count, format_flops, format_macs

    rows = [("Parameters", "params", format_count), ("MACs", "macs", format_macs),
            ("FLOPs (2 × MACs)", "flops", format_flops), ("Weights (float32)", "param_bytes", format_bytes),
            (f"Activations, batch {batch_size}", "activation_bytes", format_bytes)]
    slots = st.columns(3) + st.columns(3)
    for slot, (label, field, fmt) in zip(slots, rows):
        value, ref = getattr(result, field), getattr(reference, field)
        slot.metric(label, fmt(value), metric_delta(value, ref, fmt), delta_color="inverse")
    return slots[5]


def add_to_comparison(name: str, config) -> str:
    """Keep a user's build in this session for the Compare page; returns the name used."""
    name = (name or "").strip()[:60]
    if not name:
        raise explorer.ConfigError("name", "give the build a name (1 to 60 characters)")
    _, config, _ = resolve(config)
    builds = st.session_state.setdefault("comparison_builds", {})
    builds[name] = {"arch": architecture_of(config).name, "config": config.to_dict()}
    return name


@st.cache_data(max_entries=64, show_spinner=False)
def _torchinfo_summary(key: str) -> str:
    from explorer.analysis.crosscheck import torchinfo_summary

    return torchinfo_summary(config_from_key(key))


def build_tools(config, result, file_stem: str, key_prefix: str = "", placeholder: str = "") -> None:
    """What every Build page offers under its charts: downloads, 'add to comparison' and the
    torchinfo summary of the live model (traced on the meta device, on demand, cached)."""
    import json

    d1, d2 = st.columns(2)
    d1.download_button("Config (JSON)", json.dumps(config.to_dict(), indent=2), f"{file_stem}.json",
                       "application/json", key=f"{key_prefix}download_config")
    d2.download_button("Profile (CSV, per layer)", result.layers_csv(), f"{file_stem}-profile.csv", "text/csv",
                       key=f"{key_prefix}download_csv")

    with st.expander("Add this build to the comparison"):
        st.text_input("Name", key=f"{key_prefix}comparison_name", placeholder=placeholder)
        if st.button("Add to comparison", key=f"{key_prefix}add_to_comparison"):
            try:
                added = add_to_comparison(st.session_state[f"{key_prefix}comparison_name"], config)
                st.success(f"Added “{added}”; open the Compare page to see it beside the others.")
            except ExplorerError as error:
                show_error(error)

    with st.expander("torchinfo summary of the live model"):
        if st.toggle("Show the summary (traces the model on the meta device)", key=f"{key_prefix}show_torchinfo"):
            with st.spinner("Tracing…"):
                try:
                    st.code(_torchinfo_summary(config_key(config)), language=None)
                except Exception as error:  # noqa: BLE001 - shown as a message, never a traceback
                    show_error(error)

