"""The Build pages' shared parts: the cached analytic profile, the headline numbers with their
deltas, the last good config, and the tools box (downloads, load a config, add to Compare, the
torchinfo summary). Every number comes from ``explorer``."""

from __future__ import annotations

import functools
import json

import streamlit as st

import explorer
from explorer.models.limits import BATCH_SIZE
from explorer.models.registry import architecture_of, resolve
from explorer.errors import ExplorerError
from pages.ui.i18n import page_language
from pages.ui.messages import literal, show_error


BATCH_LIMITS = tuple(BATCH_SIZE)  # batch sizes the Build pages accept for memory figures


def config_key(config) -> str:
    """A stable, hashable key for a config (arch + its fields)."""
    return json.dumps({"arch": architecture_of(config).name, "config": config.to_dict()}, sort_keys=True)


def config_from_key(key: str):
    data = json.loads(key)
    return explorer.ARCHITECTURES[data["arch"]].config_type.from_dict(data["config"])


# A resource, not data: st.cache_data would unpickle a copy of the profile (~5 ms) on every call, three
# calls per Build-page rerun. Profiles are only read by the pages, never changed.
@st.cache_resource(max_entries=256, show_spinner=False)
def _profile_cached(key: str, batch_size: int):
    return explorer.profile(config_from_key(key), batch_size=batch_size)


def cached_profile(config, batch_size: int = 1):
    """The analytic profile, computed once per (config, batch) for all sessions."""
    return _profile_cached(config_key(config), batch_size)


def metric_delta(value: float, reference: float | None, fmt) -> str | None:
    """'+1.2 M (+15.0 %)' against a reference, or None when equal or unknown."""
    if reference is None or value == reference:
        return None
    diff = value - reference
    sign = "+" if diff > 0 else "-"  # ASCII: st.metric reads the arrow's direction from it
    percent = f" ({100 * diff / reference:+.1f} %)" if reference else ""
    return f"{sign}{fmt(abs(diff))}{percent}"


def profile_or_last_good(make_config, batch_size: int, state_key: str, messages=None, fallback=None):
    """(config, profile) of the widgets' config if it is valid; otherwise an error box and the last
    good (config, profile) of this page, kept under ``state_key``, or, when nothing has worked yet
    in this session, ``fallback`` = (name, config), never an empty page. No memory budget: the
    profile is arithmetic and allocates nothing; work that allocates keeps its own (issue #23)."""
    messages, _ = messages or st.container(), page_language()
    try:
        config = make_config()
        result = cached_profile(config, batch_size)
        st.session_state[state_key] = (config_key(config), batch_size)
        return config, result
    except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
        with messages:
            show_error(error, _("Config refused — "))
        if state_key in st.session_state:
            key, batch_size = st.session_state[state_key]
            config, shown = config_from_key(key), _("Showing the last config that worked.")
        elif fallback is not None:
            name, config = fallback
            shown = _("Showing {name} instead.").format(name=name)
        else:
            st.stop()
        with messages:
            st.info(shown)
        return config, cached_profile(config, batch_size)


def reference_profile(preset_config, batch_size: int, **same_as_build):
    """The preset's profile for the deltas, made comparable (same input size, stem...) when the
    preset allows it; otherwise the preset as published. Returns (profile, how it was matched)."""
    try:
        return cached_profile(preset_config.replace(**same_as_build), batch_size), "same"
    except ExplorerError:  # e.g. 4 dense blocks cannot run at the 8 px a 1-block build uses
        return cached_profile(preset_config, batch_size), "own"


def headline_metrics(result, reference, batch_size: int, _=None):
    """Params, MACs, FLOPs, weights and activation memory with deltas against a reference
    profile, in two rows of three; returns the free sixth slot for a page's own metric. The
    numbers are formatted identically in every language (``explorer.units``)."""
    from explorer.units import format_bytes, format_count, format_flops, format_macs

    _ = _ or page_language()
    rows = [(_("Parameters"), "params", format_count), (_("MACs"), "macs", format_macs),
            (_("FLOPs (2 × MACs)"), "flops", format_flops),
            (_("Weights (float32)"), "param_bytes", format_bytes),
            (_("Activations, batch {batch}").format(batch=batch_size), "activation_bytes", format_bytes)]
    slots = st.columns(3) + st.columns(3)
    for slot, (label, field, fmt) in zip(slots, rows):
        value, ref = getattr(result, field), getattr(reference, field)
        slot.metric(label, fmt(value), metric_delta(value, ref, fmt), delta_color="inverse")
    return slots[5]


def add_to_comparison(name: str, config) -> str:
    """Keep a user's build in this session for the Compare page; returns the name used."""
    from explorer.sharing import build_name

    name = build_name(name)  # the rule a link's builds follow too
    _, config, _ = resolve(config)
    builds = st.session_state.setdefault("comparison_builds", {})
    builds[name] = {"arch": architecture_of(config).name, "config": config.to_dict()}
    return name


@st.cache_data(max_entries=64, show_spinner=False)
def _torchinfo_summary(key: str) -> str:
    from explorer.analysis.crosscheck import torchinfo_summary

    return torchinfo_summary(config_from_key(key))


def build_tools(config, result, file_stem: str, key_prefix: str = "", placeholder: str = "",
                load_config=None, more=None) -> None:
    """What every Build page offers under its charts: downloads, loading a config file back,
    'add to comparison', the torchinfo summary of the live model (traced on the meta device, on
    demand, cached) and ``more()``, a page's own tools. ``load_config(config)`` puts a loaded config
    into the page's widgets. All of it sits in one expander that is filled only while it is open
    (a lazy expander): closed, a slider step neither builds, sends nor draws its ~15 elements,
    ~8 ms of the browser's ~60 ms of script per DenseNet step (issue #12)."""
    _ = page_language()
    box = st.expander("🧰 " + _("Downloads, load a config, add to Compare, model summary"),
                      key=f"{key_prefix}build_tools", on_change="rerun")
    if not box.open:
        return
    from explorer import sharing
    from explorer.models.registry import architecture_of
    from pages.ui.i18n import file_uploader

    with box:
        # Both files are made when clicked (callable data), not on every rerun.
        d1, d2 = st.columns(2)
        d1.download_button(_("Config (JSON)"), functools.partial(sharing.config_json, config), f"{file_stem}.json",
                           "application/json", key=f"{key_prefix}download_config")
        d2.download_button(_("Profile (CSV, per layer)"), result.layers_csv, f"{file_stem}-profile.csv", "text/csv",
                           key=f"{key_prefix}download_csv")

        if load_config is not None:
            arch = architecture_of(config).name
            upload_key = f"{key_prefix}upload_config"

            def on_upload() -> None:  # a callback: it runs before the widgets, so it may set them
                file = st.session_state.get(upload_key)
                if file is None:
                    return
                try:
                    load_config(sharing.read_config_json(file.getvalue(), architecture=arch))
                    st.session_state[f"{upload_key}_message"] = (
                        "ok", _("Loaded {name}.").format(name=literal(file.name)))
                except ExplorerError as error:
                    st.session_state[f"{upload_key}_message"] = (
                        "error", literal(f"{file.name}: {error.translated(_)}"))

            file_uploader(_("Load a config (JSON downloaded from this page)"), type=["json"], key=upload_key,
                          on_change=on_upload, max_upload_size=1)
            kind, message = st.session_state.pop(f"{upload_key}_message", (None, None))
            if kind == "ok":
                st.success(message, icon="✅")
            elif kind == "error":
                st.error(message, icon="⚠️")

        st.markdown("**" + _("Add this build to the comparison") + "**")
        name, add = st.columns([3, 1], vertical_alignment="bottom")
        # persist_state: a name typed, then the box closed and opened again, is still there
        name.text_input(_("Name"), key=f"{key_prefix}comparison_name", placeholder=placeholder,
                        persist_state="page")
        if add.button(_("Add to comparison"), key=f"{key_prefix}add_to_comparison"):
            try:
                added = add_to_comparison(st.session_state[f"{key_prefix}comparison_name"], config)
                st.success(_("Added “{name}”; open the Compare page to see it beside the others.").format(
                    name=literal(added)))
            except ExplorerError as error:
                show_error(error)

        if st.toggle(_("torchinfo summary of the live model (traced on the meta device)"),
                     key=f"{key_prefix}show_torchinfo"):
            with st.spinner(_("Tracing…")):
                try:
                    st.code(_torchinfo_summary(config_key(config)), language=None)
                except Exception as error:  # noqa: BLE001 - shown as a message, never a traceback
                    show_error(error)
        if more is not None:
            more()

