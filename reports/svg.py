"""The compliance trend as an inline SVG line chart (no script, no external resources)."""

import datetime
from html import escape

WIDTH, HEIGHT, PAD = 640, 220, 40


def trend_chart(points):
    """points: [(unix time, compliance percent or None)], oldest first -> <svg> markup."""
    points = [(t, c) for t, c in points if c is not None]
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = plot_w / max(len(points) - 1, 1)
    xy = [(PAD + i * step, PAD + plot_h * (1 - c / 100)) for i, (_, c) in enumerate(points)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="fleetready-trend" width="{WIDTH}" '
             f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">',
             "<title>Compliance over the last runs (percent of judged results passed)</title>",
             f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>']
    for pct in (0, 50, 100):
        y = PAD + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - PAD}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{PAD - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{pct}%</text>')
    if len(xy) > 1:
        parts.append('<polyline fill="none" stroke="#2a7ae2" stroke-width="3" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
    for (x, y), (t, c) in zip(xy, points):
        day = datetime.datetime.fromtimestamp(t).strftime("%m-%d %H:%M")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#2a7ae2"><title>{escape(day)}: {c:.1f}%</title></circle>')
    if points:
        first, last = (datetime.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M") for t in (points[0][0], points[-1][0]))
        parts.append(f'<text x="{PAD}" y="{HEIGHT - 12}" font-size="11">{escape(first)}</text>'
                     f'<text x="{WIDTH - PAD}" y="{HEIGHT - 12}" font-size="11" text-anchor="end">{escape(last)}</text>'
                     f'<text x="{xy[-1][0]:.1f}" y="{xy[-1][1] - 10:.1f}" font-size="13" text-anchor="end" '
                     f'font-weight="bold">{points[-1][1]:.1f}%</text>')
    parts.append("</svg>")
    return "".join(parts)
