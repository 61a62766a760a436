"""Settings that survive page changes, reloads and restarts, and the links that carry them.

Each page's settings live in three places: its widgets (which Streamlit forgets when the user opens
another page), a copy kept in the session (restored on return), and the URL query (written on every
run, so a reload, a restarted server or a shared link brings the page back). The codec between
configs and queries is ``explorer.sharing``; this module is only the Streamlit side.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from explorer.i18n import N_, Message, render
from pages.ui.state import presenting, with_presentation, without_presentation

@dataclass(frozen=True)
class Setting:
    """One row of a page's settings table: the widget's session-state key, its key in the page's
    address (None: not carried by links), its default, and what it accepts: ``low``..``high`` for a
    number (bounds from ``explorer.models.limits`` or the module that owns them), ``choices`` for a
    choice. A link's value outside them is clamped or ignored, with a note (``explorer.sharing``)."""

    state: str
    address: str | None
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None


def setting_defaults(table) -> dict:
    """``{state key: default}`` of a settings table."""
    return {row.state: row.default for row in table}


def read_settings(table, query: dict[str, str]) -> tuple[dict, list]:
    """The values a link gives a settings table (defaults where it says nothing), and the notes on
    what it carried that was clamped or ignored."""
    from explorer import sharing

    values, notes = {}, []
    for row in table:
        if row.address is None:
            values[row.state] = row.default
            continue
        if row.choices is not None:
            values[row.state], more = sharing.read_choice(query, row.address, row.default, list(row.choices))
        elif isinstance(row.default, bool):
            values[row.state], more = query.get(row.address, "1" if row.default else "0") == "1", []
        elif isinstance(row.default, int):
            values[row.state], more = sharing.read_int(query, row.address, row.default, row.low, row.high)
        elif isinstance(row.default, float):
            values[row.state], more = sharing.read_float(query, row.address, row.default, row.low, row.high)
        else:
            values[row.state], more = str(query.get(row.address, row.default))[:60], []
        notes += more
    return values, notes


# Each page's settings live in three places: its widgets (which Streamlit forgets when the user
# opens another page), a copy kept in the session under _KEPT (restored on return), and the URL
# query (written on every run, so a reload, a restart or a shared link brings the page back).
_KEPT = "_kept_settings"
_WRITTEN = "_written_query"
_CURRENT = "_current_page"
_RECENT_WRITES = 16  # addresses per page this session wrote and still recognises as its own


def restore_settings(page: str, defaults, from_link) -> list[str]:
    """Before a page draws its widgets: put its settings into session state and return notes on
    what a link carried that could not be used.

    A query this session did not write (an opened link, a reload, a restarted server) wins; else,
    on arriving from another page, the values this session last had here; else ``defaults()``.
    ``from_link(query)`` returns (widget values, notes) and never raises."""
    state = st.session_state
    presenting()  # read ?present=1 before the page's own settings, which leave it out
    query = page_query(st.query_params.to_dict())
    kept = state.setdefault(_KEPT, {})
    written = state.setdefault(_WRITTEN, {})
    arriving = state.get(_CURRENT) != page
    state[_CURRENT] = page
    # A query this session wrote (for this page or, carried over by a page change, for another) is
    # not a link: only a query from outside (a shared link, a reload after a restart) is read. While
    # the user stays on the page, its last few count, not only the last: during quick slider steps a
    # rerun can carry the address of the run before last (the browser had not applied the newest
    # yet), which must not reset the slider to that older value. On arrival only the last ones
    # count, so a hand-off from another page (a sweep point) that matches an older address still opens.
    own = [q for name, queries in written.items()
           for q in (queries if name == page and not arriving else queries[-1:])]
    if query and query not in own:
        from explorer.sharing import bounded

        try:
            usable, notes = bounded(query)
            values, link_problems = from_link(usable)
            notes += link_problems
        except Exception:  # noqa: BLE001 - a link must never break the page
            logging.getLogger("explorer.ui").exception("could not read a link")
            values, notes = defaults(), [Message(N_("the link could not be read; showing the defaults"))]
        state.update(values)
        _remember_written(page, query)
        return notes
    if arriving and page in kept:  # back on this page: as the user left it
        state.update(kept[page])
    for key, value in defaults().items():  # first visit (values set before it, e.g. by a test, stay)
        state.setdefault(key, value)
    return []


def kept_settings(page: str) -> dict:
    """The values ``publish_settings`` last kept for ``page`` in this session (empty at first)."""
    return dict(st.session_state.get(_KEPT, {}).get(page, {}))


def publish_settings(page: str, values: dict, query: dict[str, str]) -> None:
    """After the widgets: remember ``values`` for this session and write ``query`` to the URL."""
    state = st.session_state
    state.setdefault(_KEPT, {})[page] = dict(values)
    app_wide = {k: v for k, v in st.query_params.to_dict().items() if k in APP_WIDE_KEYS}  # the language stays
    if st.query_params.to_dict() != with_presentation({**query, **app_wide}):
        st.query_params.from_dict(with_presentation({**query, **app_wide}))
    _remember_written(page, dict(query))


def _remember_written(page: str, query: dict[str, str]) -> None:
    recent = st.session_state.setdefault(_WRITTEN, {}).setdefault(page, [])
    if query in recent:
        recent.remove(query)
    recent.append(query)
    del recent[:-_RECENT_WRITES]


def page_query(query: dict[str, str]) -> dict[str, str]:
    """A URL query less what every page shares (the language, presentation mode): a page's own settings."""
    return {k: v for k, v in without_presentation(query).items() if k not in APP_WIDE_KEYS}


def arrived_at(page: str) -> None:
    """For pages without settings of their own (home): leaving them counts as a page change."""
    st.session_state[_CURRENT] = page


def builder_link(config, preset: str, batch_size: int = 1) -> tuple[str, dict[str, str]] | None:
    """Where a config opens: (page file, query), or None when no Build page builds its architecture.

    This is the one hand-off between pages: a page that wants to show a config in its Build page
    (a sweep point, an exercise) opens that page's address with the config in its query, exactly
    like a shared link; the Build page reads it as it reads any link."""
    from explorer import sharing
    from explorer.models.registry import all_presets, architecture_of
    from pages.ui.catalog import PAGES

    arch = architecture_of(config).name
    page = next((p for p in PAGES if arch in p.builds), None)
    if page is None:
        return None
    base = all_presets()[preset][1]
    query = {"preset": preset, **sharing.to_query(config, base, prefix=page.link_prefix)}
    if batch_size != 1:
        query["batch"] = str(batch_size)
    return page.file, query


def open_in_builder(config, preset: str, batch_size: int = 1) -> None:
    """Open ``config`` in its Build page (``builder_link``); where no Build page builds its
    architecture, show the config (JSON) here instead."""
    import json

    from explorer.models.registry import architecture_of
    from pages.ui.i18n import page_language

    target = builder_link(config, preset, batch_size)
    if target is not None:
        st.switch_page(target[0], query_params=target[1])
    _ = page_language()
    st.info(_("{arch} configs open in no Build page yet; here is the config.").format(arch=architecture_of(config).name))
    st.code(json.dumps(config.to_dict(), indent=2), language="json")


def link_notes(notes: list[str]) -> None:
    """One line saying what a link carried that was ignored or adjusted, in the reader's language
    (notes are ``Message``s: English text that keeps its template)."""
    if notes:
        from pages.ui.i18n import page_language
        from pages.ui.messages import literal

        _ = page_language()
        shown = "; ".join(render(note, _) for note in notes[:8])
        if len(notes) > 8:
            shown += _("; and {n} more").format(n=len(notes) - 8)
        st.warning(_("Some settings in the link were ignored or adjusted: {notes}").format(notes=literal(shown)),
                   icon="🔗")


APP_WIDE_KEYS = {"lang"}  # read by every page (the language), never unknown


def unknown_keys(query: dict[str, str], known) -> list[str]:
    extra = [k for k in query if k not in known and k not in APP_WIDE_KEYS]
    shown = ", ".join(k if len(k) <= 20 else k[:17] + "..." for k in extra[:5])
    if not extra:
        return []
    return [Message(N_("unknown setting {keys}") if len(extra) == 1 else N_("unknown settings {keys}"),
                    keys=f"{shown}{' ...' if len(extra) > 5 else ''}")]


def share_link(query: dict[str, str]) -> None:
    """The address of exactly this view, with a copy button (st.code has one). The box fills only
    while it is open (a lazy expander): st.code's highlighter is 1.5 MB of script that a first visit
    otherwise loads, ~300 ms of every new tab (issue #12)."""
    from explorer.sharing import query_string

    from pages.ui.i18n import page_language

    _ = page_language()
    base = st.context.url or ""
    text = query_string(query)
    box = st.sidebar.expander(_("🔗 Share this view"), key="share_box", on_change="rerun")
    if not box.open:
        return
    with box:
        st.code(f"{base}?{text}" if text else base or _("(open the app in a browser to get its address)"),
                language=None, wrap_lines=True)
        st.caption(_("Copy this address: it opens this page with exactly these settings."))


