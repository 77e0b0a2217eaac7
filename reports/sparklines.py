"""Sparklines: a metric's daily values as a small inline SVG, drawn on the server.

A lead's table has a line per agent: 500 of them must cost no JavaScript and no request of their own, so
each is a few hundred bytes of SVG written here, and what the lines of a table share (the days, the
words) is prepared once for all of them. The title (the SVG's accessible name, and a tooltip) lists
every day's value, so the line is never the only way to read them.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from decimal import Decimal

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from calls.numbers import Exact, plain

WIDTH, HEIGHT, PAD = 112, 24, 2


def sparkline_points(
    values: Sequence[Exact | None], *, target: Decimal | None = None
) -> tuple[list[list[tuple[float, float]]], float | None]:
    """The runs of consecutive days with a value, as (x, y) points in the SVG's box (y down), and the
    target's y.

    A day without data breaks the line: it is a gap, never drawn as a zero. The scale is the row's
    own, from its lowest to its highest value and the target, so the line is read against it; a flat
    line (one value, or the same every day) sits in the middle. Coordinates are floats: they place
    pixels, they are not amounts.
    """
    known = [float(v) for v in values if v is not None]
    if target is not None:
        known.append(float(target))
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    scale = (HEIGHT - 2 * PAD) / (high - low) if high > low else 0.0

    def y(value: float) -> float:
        return PAD + (high - value) * scale if scale else HEIGHT / 2

    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
    runs: list[list[tuple[float, float]]] = []
    run: list[tuple[float, float]] = []
    for i, value in enumerate(values):
        if value is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append((PAD + i * step, y(float(value))))
    if run:
        runs.append(run)
    return runs, None if target is None else y(float(target))


class Sparklines:
    """Draws the sparklines of one table: one metric over the same days for every row."""

    def __init__(self, days: Sequence[dt.date], *, name: str):
        self.labels = [f"{day:%m-%d}" for day in days]
        self.name = name
        self.no_data = _("no data")
        self.title = _("%(metric)s by day: %(values)s")
        self.target = _("target %(target)s")

    def svg(self, values: Sequence[Exact | None], *, target: Decimal | None = None) -> SafeString:
        """An inline SVG of ``values`` (one per day, None for a day without data), the target as a
        dashed line; its title names the metric and gives each day's value."""
        runs, target_y = sparkline_points(values, target=target)
        listed = "; ".join(
            f"{label} {self.no_data if value is None else plain(value, 2)}"
            for label, value in zip(self.labels, values, strict=True)
        )
        title = self.title % {"metric": self.name, "values": listed}
        if target is not None:
            title += "; " + self.target % {"target": f"{target.normalize():f}"}
        parts = [
            f'<svg class="spark" role="img" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}"><title>{html.escape(title)}</title>'
        ]
        if target_y is not None:
            parts.append(
                f'<line class="target" x1="0" x2="{WIDTH}" y1="{target_y:.1f}" y2="{target_y:.1f}"/>'
            )
        for run in runs:
            if len(run) == 1:  # a day alone between gaps: a dot, since a line needs two points
                parts.append(f'<circle cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="1.5"/>')
            else:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline points="{points}"/>')
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308 (numbers formatted here, and the escaped title)
