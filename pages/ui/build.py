"""UI helpers shared by the pages: page set-up, caching wrappers, error boxes, metrics, comparison builds.

Only Streamlit glue lives here; every number comes from ``explorer``. It is the package's
``__init__`` because Streamlit lists every other ``.py`` file in ``pages/`` as a page.
"""

from __future__ import annotations

import functools
import json
import logging
import re

import streamlit as st

import explorer
from explorer.models.limits import BATCH_SIZE
from explorer.models.registry import architecture_of, resolve
from explorer.errors import ExplorerError
from explorer.i18n import N_, render


def _reader():
    """The ``_`` of this session's language, for helpers called without one."""
    from pages.ui.i18n import page_language

    return page_language()


def _route_through_navigation() -> None:
    """Streamlit treats an app with a pages/ folder as a v1 multipage app until its main script
    has called st.navigation once in the process: a fresh server's first visitor who opens
    /densenet directly would get the page without the app's navigation. Switch the process to
    the navigation (what Streamlit itself does after that first call) and run again. The fallback
    under a bare `streamlit run`: deploy/run_streamlit.py (`make run`, the replicas) switches at
    start-up, before the first visitor, who then never sees the files of pages/ as the menu."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and st.runtime.exists():
        PagesManager.uses_pages_directory = False
        st.rerun()


_route_through_navigation()


def _count_uploads() -> None:
    """A server started without deploy/run_streamlit.py (plain `streamlit run`) counts its uploads
    against the sessions' quota from its first script run on (``pages.ui.uploads``)."""
    from pages.ui.uploads import install

    install()


_count_uploads()

BATCH_LIMITS = tuple(BATCH_SIZE)  # batch sizes the Build pages accept for memory figures

def page_header(file: str, sidebar_holds: str | None = None):
    """First call of every page: its title and icon as declared once in ``pages.catalog.PAGES``,
    in the reader's language, and the sidebar's language switch. The page config is set here too,
    because each page also runs on its own (AppTest). ``sidebar_holds``: what a phone user finds
    behind the folded side panel, when not the default.

    Returns the page's ``_`` (an ``explorer.i18n.Translator``): ``_("...")`` for the page's words,
    passed on to chart builders as ``_=_``."""
    from pages.catalog import APP_TITLE, page_info
    from pages.ui.i18n import language_switch, page_language

    page = page_info(file)
    _ = page_language()
    from pages.layout import apply_layout, sidebar_state

    st.set_page_config(page_title=f"{_(page.title)} · {_(APP_TITLE)}", page_icon=page.icon, layout="wide",
                       initial_sidebar_state=sidebar_state())
    _ = language_switch()
    st.title(_(page.title))

    apply_layout(*([sidebar_holds] if sidebar_holds else []))
    return _


from pages.settings import (arrived_at, builder_link, kept_settings, link_notes, publish_settings,  # noqa: E402,F401 - re-exported
                            restore_settings, set_widget, share_link, unknown_keys)

_DEFAULT_ERROR = N_("Something went wrong while computing this view; the last good result is shown.")


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


def run_job(fn, *args, cost, label: str = N_("Working…"), key: str = "job", **kwargs):
    """Run heavy work as a job outside the server process (``explorer.jobs``): while it waits the
    user sees their place in line and the expected wait, while it runs a progress bar; a Cancel
    button stops it. Returns its value or raises its one-line error (``ExplorerError``). ``label``
    (an ``N_``-marked message, or text already in the reader's language) heads the progress bar.

    Any rerun of the script (Cancel, another widget, the session closing) interrupts the wait at
    the next screen update and cancels the job, so no job outlives the run that asked for it."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from explorer import jobs

    _ = _reader()
    if st.session_state.get(f"{key}_cancel"):
        raise jobs.JobCancelled(N_("cancelled; change a setting or rerun to start again"))
    context = get_script_run_ctx()
    _watch_sessions()
    job = jobs.submit(fn, *args, cost=cost, session=context.session_id if context else None, **kwargs)
    status, cancel = st.empty(), st.empty()
    cancel.button(_("Cancel"), key=f"{key}_cancel")
    try:
        while True:
            try:
                return job.result(timeout=0.25)
            except TimeoutError:
                progress = job.progress()
                if progress.state == "queued":
                    status.info(_("The server is busy: you are number {place} in line; this starts in about "
                                  "{seconds} s.").format(place=job.position(), seconds=f"{job.wait_estimate():.0f}"),
                                icon="⏳")
                else:
                    status.progress(progress.fraction, text=f"{_(label)} {literal(render(progress.text, _))}")
    finally:
        if not job.done():
            job.cancel()
        status.empty()
        cancel.empty()


def _watch_sessions() -> None:
    """Start the process's watcher that cancels the jobs and drops the uploads of sessions that
    went away (``explorer.jobs.sessions``); only under a real server (AppTest has no runtime)."""
    from pages.ui.uploads import watch

    watch()


def decoded_image(data: bytes, name: str):
    """An image file decoded once per session, in a job under a CPU-time limit from its header
    (``explorer.vision.images.decode_job``); reruns reuse the decoded, size-capped image (or its
    one-line error). Only the latest file is kept."""
    import hashlib

    from explorer.jobs import JobCancelled
    from explorer.vision.images import decode_cost, decode_image

    key = hashlib.sha256(data).hexdigest()
    store = st.session_state.setdefault("_decoded_image", {})
    if key not in store:
        try:
            value = run_job(decode_image, bytes(data), name, cost=decode_cost(data, name), label=N_("Decoding…"),
                            key="decode_job")
        except ExplorerError as error:
            if isinstance(error, JobCancelled):
                raise
            value = error
        store.clear()
        store[key] = value
    if isinstance(store[key], Exception):
        raise store[key]
    return store[key]


def explanation(image, model_name: str, method: str, layer, target, key: str = "explain_job", weights=None):
    """``explain`` as a job (the worker keeps the model loaded): with a published model, or with
    ``weights`` = (kind, file name, bytes, tag): a user's own state dict for ``model_name``
    ("pth") or a trained DenseNet ("safetensors"), loaded in the worker; ``tag`` names the bytes
    (an upload's id) in this session's cache. The last few results of this session are kept for
    reruns (moving the opacity slider, say). Returns (result, whether this call computed it)."""
    from explorer.jobs import work

    kind, file_name, data, tag = weights or (None, None, b"", None)
    cache_key = (hash(image.tobytes()), image.size, model_name, method, layer, target, kind, tag)
    store = st.session_state.setdefault("_explanations", {})
    if cache_key in store:
        return store[cache_key], False
    cost = work.explain_cost(image.size, method, weights_bytes=len(data), on_cpu=kind == "safetensors")
    if kind is None:
        fn, args = work.explain_pretrained, (image, model_name)
    elif kind == "pth":
        fn, args = work.explain_uploaded, (image, model_name, data, file_name)
    else:
        fn, args = work.explain_trained, (image, data, file_name)
    result = run_job(fn, *args, method, layer, target, cost=cost, label=N_("Explaining…"), key=key)
    while len(store) >= 4:
        store.pop(next(iter(store)))
    store[cache_key] = result
    return result, True


def admit_upload(upload, slot: str) -> None:
    """Check an upload in file picker ``slot`` (its key) against its session's quota
    (``explorer.jobs.quota``; the server counted it when it arrived, ``pages.ui.uploads``) or raise
    its one-line ``QuotaError``. The picker's earlier file, and a refused one, are dropped from the
    server's memory at once."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from explorer.jobs.quota import UPLOADS, QuotaError

    context = get_script_run_ctx()
    session = context.session_id if context else "local"

    def drop(file_id: str) -> None:
        try:
            context.uploaded_file_mgr.remove_file(session, file_id)
        except Exception:  # noqa: BLE001 - the quota was released either way
            pass

    try:
        replaced = UPLOADS.admit(session, upload.file_id, upload.name, upload.size, slot=slot)
    except QuotaError:
        drop(upload.file_id)
        UPLOADS.release(session, upload.file_id)
        raise
    if replaced is not None:
        drop(replaced)


def literal(text: str) -> str:
    """Text for a Markdown-rendering widget (``st.error``) that shows as typed, on one line.

    Backslash-escapes (CommonMark) what could act as Markdown or HTML in a line of user text:
    links and images (``[``, ``]``), emphasis (``*``, ``_`` at a word's edge), code, strike-through,
    HTML and entities (``<``, ``>``, ``&``), LaTeX (``$``), Streamlit's ``:emoji:`` and
    ``:red[...]``, and block syntax at the start (``# ``, ``- ``, ``1. ``). Characters that stay
    inert in a line (``input_size``, ``#1x1: must``, ``(s)``) are left alone.

    Bare addresses would still become links (GitHub's autolinks: ``https://…``, ``www.…``,
    ``name@host``), whatever is escaped: an invisible word joiner (U+2060) inside each of ``://``,
    ``www.`` and ``@`` stops that, and the text reads the same."""
    text = " ".join(str(text).split())
    text = re.sub(r"(?i)(:)(//)|(www)(\.)|(@)()", lambda m: "\u2060".join(p for p in m.groups() if p is not None),
                  text)
    text = re.sub(r"([\\`*\[\]<>~$&])", r"\\\1", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    text = re.sub(r":(?=\S)", r"\\:", text)
    text = re.sub(r"^(\d+)([.)])", r"\1\\\2", text)  # "1. " would start a list
    return re.sub(r"^([!-/:-@^{|}])", r"\\\1", text)


def show_error(error: Exception, what: str = "") -> None:
    """One readable line for errors users can cause, in the reader's language (its text, which may
    hold a file name, shown literally); a generic line (logged) for anything else. ``what``: a
    prefix already in the reader's language."""
    _ = _reader()
    if isinstance(error, ExplorerError):
        st.error(f"{what}{literal(error.translated(_))}", icon="⚠️")
    else:
        logging.getLogger("explorer.ui").exception("unexpected error")
        st.error(_(_DEFAULT_ERROR), icon="⚠️")


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
    messages, _ = messages or st.container(), _reader()
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

    _ = _ or _reader()
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
    _ = _reader()
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

