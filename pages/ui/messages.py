"""Text on a page that came from outside the code: user text shown literally, and errors as one
readable line in the reader's language."""

from __future__ import annotations

import logging
import re

import streamlit as st

from explorer.errors import ExplorerError
from explorer.i18n import N_
from pages.ui.i18n import page_language

_DEFAULT_ERROR = N_("Something went wrong while computing this view; the last good result is shown.")


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
    _ = page_language()
    if isinstance(error, ExplorerError):
        st.error(f"{what}{literal(error.translated(_))}", icon="⚠️")
    else:
        logging.getLogger("explorer.ui").exception("unexpected error")
        st.error(_(_DEFAULT_ERROR), icon="⚠️")
