"""Charts as server-rendered SVG: observed values over time against baseline and target lines.

No script and no inline style (the CSP allows neither): geometry and colour are SVG attributes.
Each chart is an `<svg role="img">` whose `<title>` and `<desc>` carry the text alternative
(WCAG 1.1.1); pages show the same numbers in a table beside it. Series differ by marker shape
and are labelled in a legend, never by colour alone (WCAG 1.4.1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import msgspec
from markupsafe import Markup, escape

WIDTH: Final = 640
HEIGHT: Final = 320
LEFT, RIGHT, TOP, BOTTOM = 84, 20, 24, 70
#: Colours with at least 3:1 contrast against white (WCAG 1.4.11), one per series.
COLOURS: Final = ("#0a4fa8", "#a3161c", "#1b6e2d", "#7a4d00", "#5a2d82", "#00607a")
SHAPES: Final = ("circle", "square", "diamond", "triangle")
BASELINE_COLOUR: Final = "#595959"
TARGET_COLOUR: Final = "#1b6e2d"

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


class Point(msgspec.Struct, frozen=True, kw_only=True):
    x: float  # a fractional year
    y: float
    label: str  # the period as written


class Series(msgspec.Struct, kw_only=True):
    name: str
    points: list[Point]


class Reference(msgspec.Struct, frozen=True, kw_only=True):
    """A horizontal line: a baseline or a target (kind), with its value and period."""

    kind: str
    name: str
    y: float
    label: str


def year_of(period: str) -> float | None:
    """Where a period sits in time: its end (`2020/2023` -> 2023.5), as a fractional year."""
    end = period.split("/")[-1].strip() if period else ""
    match = _DATE.match(end)
    if not match:
        return None
    year, month, day = match.groups()
    # A year is drawn at its middle, under its label; a month at its middle too.
    if month is None:
        return int(year) + 0.5
    fraction = (int(month) - 1) / 12 + ((int(day) - 1) / 365 if day else 1 / 24)
    return int(year) + fraction


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{colour}"/>'
    if shape == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - 7:.1f} {x + 7:.1f},{y:.1f} {x:.1f},{y + 7:.1f} '
            f'{x - 7:.1f},{y:.1f}" fill="{colour}"/>'
        )
    if shape == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - 7:.1f} {x + 6:.1f},{y + 5:.1f} {x - 6:.1f},{y + 5:.1f}"'
            f' fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>'


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    unit: str,
    series: Sequence[Series],
    references: Sequence[Reference] = (),
) -> Markup:
    """One chart: each series a line with markers, references as dashed horizontal lines."""
    xs = [p.x for s in series for p in s.points]
    ys = [p.y for s in series for p in s.points] + [r.y for r in references]
    if not ys:
        return Markup("")
    low_x, high_x = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if high_x - low_x < 1:
        low_x, high_x = low_x - 1, high_x + 1
    top = _nice_max(max(ys))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - low_x) / (high_x - low_x) * plot_w

    def sy(y: float) -> float:
        return TOP + plot_h - (max(y, 0.0) / top) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for step in range(5):
        value = top * step / 4
        y = sy(value)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#d6d6d6"/>'
            f'<text x="{LEFT - 8}" y="{y + 5:.1f}" text-anchor="end" font-size="15" '
            f'fill="#1b1b1b">{escape(number(value))}</text>'
        )
    years = range(int(low_x), int(high_x) + 1)
    stride = max(1, len(years) // 8)
    for year in list(years)[::stride]:
        x = sx(year + 0.5)
        if LEFT <= x <= WIDTH - RIGHT:
            parts.append(
                f'<text x="{x:.1f}" y="{TOP + plot_h + 22}" text-anchor="middle" font-size="15" '
                f'fill="#1b1b1b">{year}</text>'
            )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#1b1b1b"/>'
        f'<text x="18" y="{TOP + plot_h / 2:.1f}" font-size="15" fill="#1b1b1b" '
        f'transform="rotate(-90 18 {TOP + plot_h / 2:.1f})" text-anchor="middle">'
        f"{escape(unit)}</text>"
    )
    for ref in references:
        colour = TARGET_COLOUR if ref.kind == "target" else BASELINE_COLOUR
        y = sy(ref.y)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{colour}" '
            f'stroke-width="2" stroke-dasharray="{"8 4" if ref.kind == "target" else "3 3"}"/>'
            f'<text x="{WIDTH - RIGHT - 4}" y="{y - 6:.1f}" text-anchor="end" font-size="15" '
            f'fill="{colour}">{escape(ref.name)}: {escape(number(ref.y))} ({escape(ref.label)})'
            "</text>"
        )
    legend_y = HEIGHT - 18
    legend_x = LEFT
    for index, each in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        shape = SHAPES[index % len(SHAPES)]
        points = sorted(each.points, key=lambda p: p.x)
        if len(points) > 1:
            path = " ".join(f"{sx(p.x):.1f},{sy(p.y):.1f}" for p in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        parts.extend(_marker(shape, sx(p.x), sy(p.y), colour) for p in points)
        if len(series) > 1 or each.name:
            parts.append(_marker(shape, legend_x + 6, legend_y - 4, colour))
            parts.append(
                f'<text x="{legend_x + 16}" y="{legend_y}" font-size="15" fill="#1b1b1b">'
                f"{escape(each.name)}</text>"
            )
            legend_x += 30 + 9 * len(each.name)
    parts.append("</svg>")
    return Markup("".join(parts))
