"""CSV downloads whose cells a spreadsheet never runs as formulas.

A leaf module (it imports only the standard library), so that the models' per-layer profile, the
comparison table and the predictions all write CSV through the same rule.
"""

from __future__ import annotations

import csv
import io

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell that a spreadsheet shows as text: a text cell starting with a formula character
    (a user's build name ``=1+1+cmd|' /C calc'!A0``) gets a leading apostrophe; numbers, and text
    that is a number (``-1.5``), are left as they are. A carriage return inside becomes a line
    feed, which the writer quotes (a bare CR would end the row for a reader: a row injected)."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        try:
            float(value)
        except ValueError:
            value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def csv_text(header: list[str], rows) -> str:
    """A CSV download (header, then rows of cells), every cell through ``csv_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue()
