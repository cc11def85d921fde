"""Charts drawn on the server as inline SVG: no JavaScript (the CSP allows
none inline, and the admin loads no chart library), no CDN, and no CSS
(``style-src 'self'``): only SVG presentation attributes.

A chart is an image to screen readers (``role="img"`` with a title and a
description); the page puts the same numbers in a table next to it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Colours for series without their own (distinguishable, dark enough on white).
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e")


@dataclass(frozen=True)
class Series:
    label: str
    #: One value per day of the chart.
    values: Sequence[int]
    colour: str = ""


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 x 10^n at least ``value`` (at least 1), so the
    top tick is a round number."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return max(1, factor * step)
        step *= 10


def _format_day(day: dt.date) -> str:
    return day.strftime("%d/%m")


def line_chart(
    days: Sequence[dt.date],
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    chart_id: str = "chart",
    width: int = 720,
    height: int = 280,
) -> Markup:
    """Lines of daily values, one per series, with a legend. Every text is
    escaped: labels may come from case sources."""
    left, right, top, bottom = 48, 16, 16, 40
    legend_height = 18 * len(series)
    plot_w, plot_h = width - left - right, height - top - bottom
    total_height = height + legend_height
    peak = nice_ceiling(max((v for s in series for v in s.values), default=0))

    def x(index: int) -> float:
        return left + (plot_w * index / (len(days) - 1) if len(days) > 1 else plot_w / 2)

    def y(value: int) -> float:
        return top + plot_h - plot_h * value / peak

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {total_height}" '
            f'width="100%" preserveAspectRatio="xMinYMin meet" class="chart" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        ),
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{total_height}" fill="#ffffff"/>',
    ]
    for tick in (0, peak // 2 if peak % 2 == 0 else peak / 2, peak):
        ty = y(tick)  # type: ignore[arg-type]
        label = f"{tick:g}" if isinstance(tick, float) else str(tick)
        parts.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}" stroke="#dddddd" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="12" fill="#333333">{label}</text>')
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#333333" stroke-width="1"/>'
    )
    if days:
        every = max(1, len(days) // 8)
        for index, day in enumerate(days):
            if index % every == 0 or index == len(days) - 1:
                parts.append(
                    f'<text x="{x(index):.1f}" y="{top + plot_h + 18}" text-anchor="middle" font-size="12" '
                    f'fill="#333333">{escape(_format_day(day))}</text>'
                )
    for number, one in enumerate(series):
        colour = escape(one.colour or PALETTE[number % len(PALETTE)])
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(one.values))
        if len(one.values) > 1:
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in enumerate(one.values):
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
        ly = height + 18 * number + 4
        parts.append(f'<rect x="{left}" y="{ly}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{left + 18}" y="{ly + 11}" font-size="13" fill="#111111">{escape(one.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
