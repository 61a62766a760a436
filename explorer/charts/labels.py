"""Text labels beside the points of a scatter that overlap neither each other nor the plot's edges,
at every plot width from a phone's up (the width follows the reader's screen; the height is fixed).

Positions are chosen greedily, the most crowded point first, among a few places around its marker
(above, right, below, left, the corners, then further above or below). A place is checked at the
narrowest width the chart is drawn at, where points are closest; it then holds at any wider one:
heights do not change, and two labels side by side only move apart as the width grows, provided
the label on the left belongs to the point on the left (required). Touching another marker is
allowed but avoided. A chart computes places for a few widths and draws, at its actual width, those
of the widest one it exceeds (``WIDTHS``; the Vega expression ``by_width``): a wide plot then needs
none of the far-off places a phone's may.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .style import text_em

GAP = 3.0  # px between a marker's edge and its label
WIDTHS = (270, 400, 560, 760)  # plot widths (px) places are computed for: a phone's (the least) and up
LINE = 1.3  # a label's height, in font sizes


@dataclass(frozen=True)
class Placed:
    """A label's offset from its point (px; ``dy`` to its middle, downwards) and its alignment."""

    dx: float
    dy: float
    align: str  # "left", "center" or "right": which end of the text sits at dx
    leader: tuple[float, float, float, float] | None = None  # (x1, y1, x2, y2) from the marker to a far label


@dataclass(frozen=True)
class _Box:
    left: float
    right: float
    top: float
    bottom: float

    def overlaps(self, other: "_Box", margin: float = 1.0) -> bool:
        return (min(self.right, other.right) - max(self.left, other.left) > -margin
                and min(self.bottom, other.bottom) - max(self.top, other.top) > -margin)

    def distance(self, x: float, y: float) -> float:
        """From a point to the nearest point of the box (0 inside)."""
        return math.hypot(x - min(max(x, self.left), self.right), y - min(max(y, self.top), self.bottom))

    def touches_circle(self, cx: float, cy: float, r: float) -> bool:
        return self.distance(cx, cy) < r


def _candidates(r: float, w: float, h: float) -> list[Placed]:
    near, corner = r + GAP, r * math.sqrt(0.5) + GAP
    places = [Placed(0, -(near + h / 2), "center"), Placed(near, 0, "left"), Placed(0, near + h / 2, "center"),
              Placed(-near, 0, "right"), Placed(corner, -(corner + h / 2), "left"),
              Placed(-corner, -(corner + h / 2), "right"), Placed(corner, corner + h / 2, "left"),
              Placed(-corner, corner + h / 2, "right")]
    for k in (1, 2, 3):
        places += [Placed(0, -(near + h / 2 + k * h), "center"), Placed(0, near + h / 2 + k * h, "center")]
    return places


def _box(x: float, y: float, place: Placed, w: float, h: float) -> _Box:
    left = {"left": x + place.dx, "center": x + place.dx - w / 2, "right": x + place.dx - w}[place.align]
    return _Box(left, left + w, y + place.dy - h / 2, y + place.dy + h / 2)


def place_labels(points: list[tuple[float, float, float, str]], height: float, min_width: float,
                 font_px: float, max_width: float = 1200.0) -> list[Placed | None]:
    """A place for each label, or None where none fits (the point's tooltip still names it), that
    holds at every plot width from ``min_width`` up.

    ``points``: (x as a share of the plot's width, y in px from the top, marker radius in px, text);
    ``height``: the plot's height (px); ``font_px``: the labels' font size. A place that touches
    another marker (at ``min_width`` or ``max_width``), or sits nearer another marker than its own,
    is taken only when no other fits."""
    h = LINE * font_px
    widths = [text_em(text) * font_px for *_rest, text in points]

    def crowding(i: int) -> int:
        xi, yi = points[i][0] * min_width, points[i][1]
        return sum(1 for j, (x, y, *_r) in enumerate(points) if j != i
                   and abs(x * min_width - xi) < widths[i] + widths[j] and abs(y - yi) < 3 * h)

    order = sorted(range(len(points)), key=lambda i: (-crowding(i), points[i][0], points[i][1]))
    best: tuple[int, dict[int, Placed]] | None = None
    for _attempt in range(len(points) + 1):  # a label that found no place goes first next time
        chosen = _greedy(points, order, widths, h, height, min_width, max_width)
        missed = [i for i in order if i not in chosen]
        if best is None or len(missed) < best[0]:
            best = (len(missed), chosen)
        if not missed:
            break
        order = missed + [i for i in order if i not in missed]
    return [best[1].get(i) for i in range(len(points))]


def _greedy(points, order, widths, h, height, min_width, max_width) -> dict[int, Placed]:
    chosen: dict[int, Placed] = {}
    for i in order:
        x, y, r, _text = points[i]
        best, best_cost = None, None
        for rank, place in enumerate(_candidates(r, widths[i], h)):
            box = _box(x * min_width, y, place, widths[i], h)
            if box.left < 0 or box.right > min_width or box.top < 0 or box.bottom > height:
                continue
            if any(_clash(box, x, _box(points[j][0] * min_width, points[j][1], other, widths[j], h), points[j][0])
                   for j, other in chosen.items()):
                continue
            cost = 0
            for width in (min_width, max_width):
                at = _box(x * width, y, place, widths[i], h)
                own = at.distance(x * width, y) - r
                for j, (px, py, pr, _t) in enumerate(points):
                    if j != i:
                        cost += at.touches_circle(px * width, py, pr) + (at.distance(px * width, py) - pr < own)
            if best_cost is None or (cost, rank) < best_cost:
                best, best_cost = place, (cost, rank)
        if best is not None:
            chosen[i] = _with_leader(best, r, widths[i], h)
    return chosen


def _with_leader(place: Placed, r: float, w: float, h: float) -> Placed:
    """A label placed further out than next to its marker gets a line from the marker's edge to
    the label's nearest corner or side, so that it reads as that marker's."""
    box = _box(0.0, 0.0, place, w, h)
    nx, ny = min(max(0.0, box.left), box.right), min(max(0.0, box.top), box.bottom)
    far = math.hypot(nx, ny)
    if far - r <= GAP + 2:
        return place
    start, end = (r + 1) / far, (far - 2) / far
    return Placed(place.dx, place.dy, place.align, (nx * start, ny * start, nx * end, ny * end))


def _clash(box: _Box, x: float, other: _Box, other_x: float) -> bool:
    """Whether two labels overlap now, or would at a wider plot: side by side, the left label must
    belong to the left point (the other order closes up as the plot widens)."""
    if box.overlaps(other):
        return True
    if min(box.bottom, other.bottom) - max(box.top, other.top) <= -1.0:
        return False  # one above the other: the width does not matter
    left_first = box.right <= other.left
    return (x < other_x and not left_first) or (x > other_x and left_first)


def by_width(fields: list[str], widths: tuple[int, ...] = WIDTHS) -> str:
    """A Vega expression for the field of the widest of ``widths`` that the plot's width (the
    ``width`` signal) reaches, ``fields[k]`` going with ``widths[k]`` (the first below them all)."""
    expression = f"datum.{fields[0]}"
    for width, field in zip(widths[1:], fields[1:]):
        expression = f"width >= {width} ? datum.{field} : ({expression})"
    return expression
