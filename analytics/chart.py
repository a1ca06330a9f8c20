"""Revenue and orders per day as an SVG the admin console can show (matplotlib is not a dependency of the shop).

Revenue is the bars (left axis, in major units), orders the line (right axis); the first and last days are
labelled under the axis.
"""

from __future__ import annotations

from datetime import date
from html import escape

WIDTH, HEIGHT, PAD = 960, 360, 56


def revenue_svg(days: list[tuple[date, int, int]], currency: str, minor_units: int = 100) -> str:
    """`days`: (day, revenue in minor units, orders), oldest first."""
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    top_revenue = max((revenue for _, revenue, _ in days), default=0) or 1
    top_orders = max((orders for _, _, orders in days), default=0) or 1
    step = plot_w / max(len(days), 1)
    bars, points = [], []
    for i, (_, revenue, orders) in enumerate(days):
        height = plot_h * revenue / top_revenue
        x = PAD + i * step
        bars.append(f'<rect x="{x + step * 0.1:.1f}" y="{PAD + plot_h - height:.1f}" width="{step * 0.8:.1f}" '
                    f'height="{height:.1f}" fill="#9ecae1"/>')
        points.append(f"{x + step / 2:.1f},{PAD + plot_h - plot_h * orders / top_orders:.1f}")
    first = days[0][0].isoformat() if days else ""
    last = days[-1][0].isoformat() if days else ""
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        "<title>Revenue and orders per day</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        *bars,
        f'<polyline points="{" ".join(points)}" fill="none" stroke="#d6604d" stroke-width="2"/>' if points else "",
        f'<line x1="{PAD}" y1="{PAD + plot_h}" x2="{PAD + plot_w}" y2="{PAD + plot_h}" stroke="black"/>',
        f'<text x="{PAD}" y="{PAD - 20}">Revenue per day ({escape(currency)}, bars; top '
        f'{top_revenue / minor_units:,.2f}) and orders (line; top {top_orders:,})</text>',
        f'<text x="{PAD}" y="{PAD + plot_h + 18}">{first}</text>',
        f'<text x="{PAD + plot_w}" y="{PAD + plot_h + 18}" text-anchor="end">{last}</text>',
        "</svg>",
    ]) + "\n"
