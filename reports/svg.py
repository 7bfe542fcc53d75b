"""The compliance trend chart's geometry; templates/trend.svg.j2 draws it as inline SVG."""

import datetime

WIDTH, HEIGHT, PAD = 640, 220, 40


def trend(points):
    """points: [(unix time, compliance percent or None)], oldest first -> what the template draws."""
    points = [(t, c) for t, c in points if c is not None]
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = plot_w / max(len(points) - 1, 1)

    def y(pct):
        return PAD + plot_h * (1 - pct / 100)

    def when(t, fmt):
        return datetime.datetime.fromtimestamp(t).strftime(fmt)

    return {
        "width": WIDTH,
        "height": HEIGHT,
        "pad": PAD,
        "grid": [(pct, y(pct)) for pct in (0, 50, 100)],
        "dots": [
            {"x": PAD + i * step, "y": y(c), "pct": c, "when": when(t, "%m-%d %H:%M")}
            for i, (t, c) in enumerate(points)
        ],
        "first": when(points[0][0], "%Y-%m-%d %H:%M") if points else "",
        "last": when(points[-1][0], "%Y-%m-%d %H:%M") if points else "",
    }
