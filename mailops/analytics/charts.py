"""Server-side SVG charts: stacked bars and lines, no JavaScript, no CDN.

Each chart is an inline ``<svg role="img">`` with a ``<title>`` and ``<desc>``
(announced by screen readers) and a visible legend; the page puts the same numbers
in a data table under the chart. Output is built with ``format_html`` only, so
labels are escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
HEIGHT = 260
MARGIN_LEFT = 56
MARGIN_RIGHT = 12
MARGIN_TOP = 12
MARGIN_BOTTOM = 44
MAX_X_LABELS = 12


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: Sequence[int | float]
    color: str


def nice_max(value: float) -> float:
    """Round ``value`` up to 1, 2, 3, 4, 5, 6 or 8 × 10^n (at least 1); a quarter
    of each is a readable grid step."""
    if value <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 3, 4, 5, 6, 8, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent  # pragma: no cover - the loop always returns


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.1f}"


def _frame(
    chart_id: str,
    title: str,
    description: str,
    body: SafeString,
    series: Sequence[Series],
    labels: Sequence[str],
    top: float,
    y_label: str,
) -> SafeString:
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    grid = []
    for i in range(5):
        value = top * i / 4
        y = MARGIN_TOP + plot_h - plot_h * i / 4
        grid.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" class="chart-grid"/>'
                '<text x="{}" y="{}" class="chart-tick" text-anchor="end">{}</text>',
                MARGIN_LEFT,
                WIDTH - MARGIN_RIGHT,
                f"{y:.1f}",
                f"{y:.1f}",
                MARGIN_LEFT - 6,
                f"{y + 4:.1f}",
                _fmt(value),
            )
        )
    n = max(len(labels), 1)
    # Thin the labels so the longest fits its slot (11px text ≈ 6.6px a char).
    widest = max((len(label) for label in labels), default=1) * 6.6 + 10
    needed = max(1, math.ceil(n / MAX_X_LABELS), math.ceil(widest / (plot_w / n)))
    # Prefer steps that divide a day of hours evenly (every 3 h, 6 h, ...).
    step = next((s for s in (1, 2, 3, 4, 6, 8, 12, 24) if s >= needed), needed)
    x_labels = []
    for i, label in enumerate(labels):
        if i % step:
            continue
        x = MARGIN_LEFT + plot_w * (i + 0.5) / n
        x_labels.append(
            format_html(
                '<text x="{}" y="{}" class="chart-tick" text-anchor="middle">{}</text>',
                f"{x:.1f}",
                HEIGHT - MARGIN_BOTTOM + 16,
                label,
            )
        )
    legend = format_html_join(
        "",
        '<li><span class="swatch" style="background:{}"></span>{}</li>',
        ((s.color, s.label) for s in series),
    )
    svg = format_html(
        '<svg viewBox="0 0 {w} {h}" class="chart" role="img" '
        'aria-labelledby="{id}-title {id}-desc" preserveAspectRatio="xMidYMid meet">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{grid}{body}"
        '<line x1="{l}" x2="{r}" y1="{b}" y2="{b}" class="chart-axis"/>'
        "{xl}"
        '<text x="12" y="{mid}" class="chart-axis-label" '
        'transform="rotate(-90 12 {mid})" text-anchor="middle">{yl}</text>'
        "</svg>",
        w=WIDTH,
        h=HEIGHT,
        id=chart_id,
        title=title,
        desc=description,
        grid=mark_safe("".join(grid)),  # noqa: S308 - built by format_html
        body=body,
        l=MARGIN_LEFT,
        r=WIDTH - MARGIN_RIGHT,
        b=MARGIN_TOP + plot_h,
        xl=mark_safe("".join(x_labels)),  # noqa: S308 - built by format_html
        mid=MARGIN_TOP + plot_h / 2,
        yl=y_label,
    )
    return format_html(
        '<figure class="chart-figure">{}<ul class="chart-legend" aria-hidden="true">{}</ul></figure>',
        svg,
        legend,
    )


def _describe(series: Sequence[Series], labels: Sequence[str]) -> str:
    totals = ", ".join(f"{s.label}: {_fmt(sum(s.values))}" for s in series)
    span = f"{labels[0]} – {labels[-1]}" if labels else ""
    return f"{span}. {totals}"


def stacked_bars(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_label: str = "",
) -> SafeString:
    """Stacked bars, one per label; a single series makes a plain bar chart."""
    n = max(len(labels), 1)
    stack_tops = [sum(s.values[i] for s in series) for i in range(len(labels))] or [0]
    top = nice_max(max(stack_tops))
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1.0)
    rects = []
    for i, label in enumerate(labels):
        base = 0.0
        x = MARGIN_LEFT + slot * i + (slot - bar_w) / 2
        for s in series:
            value = s.values[i]
            if not value:
                continue
            h = plot_h * value / top
            y = MARGIN_TOP + plot_h - plot_h * base / top - h
            rects.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {} {}</title></rect>",
                    f"{x:.1f}",
                    f"{y:.1f}",
                    f"{bar_w:.1f}",
                    f"{max(h, 0.5):.1f}",
                    s.color,
                    label,
                    s.label,
                    _fmt(value),
                )
            )
            base += value
    return _frame(
        chart_id,
        title,
        _describe(series, labels),
        mark_safe("".join(rects)),  # noqa: S308 - built by format_html
        series,
        labels,
        top,
        y_label,
    )


def bars(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Series,
    *,
    y_label: str = "",
) -> SafeString:
    return stacked_bars(chart_id, title, labels, [series], y_label=y_label)


def line_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_label: str = "",
) -> SafeString:
    """One polyline per series, with a dot per point (hover shows the value)."""
    n = max(len(labels), 1)
    top = nice_max(max((max(s.values, default=0) for s in series), default=0))
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    parts = []
    for s in series:
        points = [
            (
                MARGIN_LEFT + plot_w * (i + 0.5) / n,
                MARGIN_TOP + plot_h - plot_h * v / top,
            )
            for i, v in enumerate(s.values)
        ]
        parts.append(
            format_html(
                '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>',
                s.color,
                " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
            )
        )
        if len(points) <= 60:
            parts.extend(
                format_html(
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}: {} {}</title></circle>',
                    f"{x:.1f}",
                    f"{y:.1f}",
                    s.color,
                    labels[i],
                    s.label,
                    _fmt(s.values[i]),
                )
                for i, (x, y) in enumerate(points)
            )
    return _frame(
        chart_id,
        title,
        _describe(series, labels),
        mark_safe("".join(parts)),  # noqa: S308 - built by format_html
        series,
        labels,
        top,
        y_label,
    )
