"""Bar charts drawn on the server as SVG (no script, no CDN): pure, no Django.

Each bar is a link (drill-down) and carries a <title> with its exact figure, so the
chart reads the same to a screen reader as the table printed beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH = 640
BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 170
VALUE_WIDTH = 90


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the figure as shown, e.g. "93.1%" or "12"
    href: str = ""


def bar_chart(title: str, bars: list[Bar], *, maximum: float | None = None, css: str = "") -> str:
    """Horizontal bars, one per row, scaled to `maximum` (default: the largest value)."""
    top = maximum if maximum is not None else max((b.value for b in bars), default=0.0)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = max(1, len(bars)) * (BAR_HEIGHT + GAP) + GAP
    label_id = "chart-" + "".join(c if c.isalnum() else "-" for c in title.lower())[:40]
    out = [
        f'<svg class="chart {escape(css)}" role="img" aria-labelledby="{label_id}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{label_id}">{escape(title)}</title>',
    ]
    if not bars:
        out.append(f'<text x="0" y="{BAR_HEIGHT}" class="chart-empty">No data yet</text>')
    for i, bar in enumerate(bars):
        y = GAP + i * (BAR_HEIGHT + GAP)
        length = 0.0 if top <= 0 else max(0.0, min(1.0, bar.value / top)) * span
        shape = (
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
            f'class="bar"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>'
        )
        if bar.href:
            shape = f'<a href="{escape(bar.href)}" class="bar-link">{shape}</a>'
        out.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT * 0.7:.1f}" text-anchor="end" '
            f'class="bar-label">{escape(bar.label[:28])}</text>{shape}'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + BAR_HEIGHT * 0.7:.1f}" '
            f'class="bar-value">{escape(bar.text)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"
