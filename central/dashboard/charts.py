"""Charts generated on the server (no script, no network): HTML bars and an inline SVG turnout-over-the-day line."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence

LABEL_EM = 0.62
"""A generous average advance of a digit or colon at the chart's font size, in em (for label spacing)."""
MAX_FONT = 22
"""The largest size (in the chart's units) the page's style gives the line chart's labels (on a phone)."""


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    title_of: Callable[[float], str] | None = None,
) -> str:
    """Horizontal bars, one per (label, value), as HTML (a grid: label, then the bar and its value), so labels keep
    the page's text size and wrap on a phone, and the page's direction puts the labels on the reading-start side
    (the right in Arabic). ``title_of(value)`` is each row's tooltip after its label (the value with its noun)."""
    if not items:
        return "<p class='empty'>—</p>"
    top = max([v for _, v in items] + [1e-9])
    rows = []
    for label, value in items:
        text = f"{value:.1f}{unit}" if unit == "%" else f"{int(value)}{unit}"
        title = f"{label}: {title_of(value) if title_of else text}"
        share = max(0.0, min(1.0, value / top))
        rows.append(
            f"<div class='row' title='{html.escape(title)}'><span class='lbl'>{html.escape(label)}</span>"
            f"<span class='track'><span class='bar' style='width:calc((100% - 4.5em) * {share:.4f})'></span>"
            f"<span class='val'><bdi dir='ltr'>{html.escape(text)}</bdi></span></span></div>"
        )
    return f"<div class='bars'>{''.join(rows)}</div>"


def axis_labels(n: int, step: float, label_width: float) -> list[int]:
    """Which of ``n`` evenly spaced points (``step`` apart) get a label ``label_width`` wide: the first (drawn from
    its point on), the last (drawn up to its point) and evenly spaced ones between (centred), at most 9, none
    overlapping: neighbours at least 1.6 label widths apart (1.5 is where a centred one meets an end one)."""
    if n <= 0:
        return []
    gap = 1.6 * label_width
    every = max(1, math.ceil(gap / step) if step > 0 else n, math.ceil(n / 8))
    picked = list(range(0, n - 1, every))
    while len(picked) > 1 and (n - 1 - picked[-1]) * step < gap:
        picked.pop()  # too close to the last label, which is always shown
    return [*picked, n - 1]


def line_chart(points: Sequence[tuple[str, int]], *, width: int = 560, height: int = 220) -> str:
    """Cumulative count over time buckets (labels like '09:15'); the first label starts at its point and the last
    ends at its point, so no label leaves the chart; spaced for the largest label size (``MAX_FONT``)."""
    if not points:
        return "<p class='empty'>—</p>"
    top = max([v for _, v in points] + [1])
    pad_l, pad_b, pad_t = max(40, math.ceil(len(str(top)) * MAX_FONT * LABEL_EM) + 8), 36, 10
    n = len(points)
    step = (width - pad_l - 10) / max(n - 1, 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        return pad_l + i * step, pad_t + (height - pad_t - pad_b) * (1 - v / top)

    path = " ".join(f"{'M' if i == 0 else 'L'}{xy(i, v)[0]:.1f},{xy(i, v)[1]:.1f}" for i, (_, v) in enumerate(points))
    area = path + f" L{xy(n - 1, 0)[0]:.1f},{height - pad_b} L{pad_l},{height - pad_b} Z"
    parts = [
        f"<svg role='img' class='chart' viewBox='0 0 {width} {height}' width='100%' direction='ltr' xmlns='http://www.w3.org/2000/svg'>",
        f"<line x1='{pad_l}' y1='{height - pad_b}' x2='{width - 10}' y2='{height - pad_b}' class='axis'/>",
        f"<text x='{pad_l - 4}' y='{pad_t + 16}' text-anchor='end' class='val'>{top}</text>",
        f"<path d='{area}' class='area'/><path d='{path}' class='line'/>",
    ]
    label_width = max(len(label) for label, _ in points) * MAX_FONT * LABEL_EM
    picked = axis_labels(n, step, label_width)
    for i in picked:
        anchor = "end" if i == n - 1 and n > 1 else "start" if i == 0 else "middle"
        parts.append(
            f"<text x='{xy(i, 0)[0]:.1f}' y='{height - 8}' text-anchor='{anchor}' class='lbl'>"
            f"{html.escape(points[i][0])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
