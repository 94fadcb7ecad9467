"""Inline SVG bar charts for the HTML summary: pure Python, no script, no external resource.

Each chart is an accessible image (``role="img"`` with a ``<title>`` and ``<desc>`` named by
``aria-labelledby``) whose bars carry their own ``<title>`` tooltips; the figures are also in
the page's tables, so nothing is only visible in the picture. All text is XML-escaped (domain
names are untrusted).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from policy.summary.rules import plural

#: Geometry, in SVG user units.
WIDTH = 720
ROW = 24
BAR = 16
LABEL = 240
VALUE = 130
TOP = 8
#: At most this many bars (the full list is in the table next to the chart).
MAX_BARS = 20
_FILL = "#0b5cad"


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[tuple[str, int | float]],
    unit: str,
) -> Markup:
    """Return a horizontal bar chart of *bars* ``(label, value)`` as inline SVG markup.

    *unit* is singular ("byte", "decision"); values are labelled "1 byte", "9,000 bytes".
    """
    shown = list(bars)[:MAX_BARS]
    height = TOP * 2 + ROW * max(len(shown), 1)
    peak = max((value for _, value in shown), default=0) or 1
    span = WIDTH - LABEL - VALUE
    t_id, d_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{t_id} {d_id}" '
            f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
            'font-family="system-ui, sans-serif" font-size="12">'
        ),
        f'<title id="{t_id}">{escape(title)}</title>',
        f'<desc id="{d_id}">{escape(description)}</desc>',
    ]
    if not shown:
        parts.append(f'<text x="0" y="{TOP + BAR}" fill="#57606a">No data</text>')
    for n, (label, value) in enumerate(shown):
        y = TOP + n * ROW
        width = max(round(span * value / peak), 1 if value else 0)
        text = plural(value, unit)
        name = _clip(label)
        parts.append(
            "<g>"
            f"<title>{escape(label)}: {escape(text)}</title>"
            f'<text x="{LABEL - 8}" y="{y + BAR - 4}" text-anchor="end" fill="#1b1f23">'
            f"{escape(name)}</text>"
            f'<rect x="{LABEL}" y="{y}" width="{width}" height="{BAR}" fill="{_FILL}"/>'
            f'<text x="{LABEL + width + 6}" y="{y + BAR - 4}" fill="#57606a">{escape(text)}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _clip(label: str, limit: int = 36) -> str:
    """Return *label* shortened to *limit* characters (the full text is in the bar's title)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"
