"""SVG charts for quality control and proficiency testing, as plain strings (no plotting library).

Pure functions so the web UI can inline them and the PDF adapter can reuse them; hand-written because
each is a few dozen lines of coordinates and a plotting stack would be a heavy dependency for that.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from customslab.domain.quality.control_charts import QcPoint, Violation

_FONT = 'font-family="Helvetica, Arial, sans-serif" font-size="11"'


def levey_jennings_svg(
    points: Sequence[QcPoint],
    mean: float,
    sd: float,
    violations: Sequence[Violation] = (),
    title: str = "",
    width: int = 640,
    height: int = 280,
) -> str:
    """Levey–Jennings chart: values against run order with mean and ±1, 2, 3 SD lines.

    Points named by a rejection rule are red, by the 1-2s warning amber (Westgard et al. 1981).
    """
    left, right, top, bottom = 56, 16, 28, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    z_max = max([4.0] + [abs((p.value - mean) / sd) + 0.5 for p in points]) if sd > 0 else 4.0

    def y_of(z: float) -> float:
        return top + plot_h / 2 - z / z_max * plot_h / 2

    def x_of(i: int) -> float:
        return left + (plot_w * (i + 0.5) / len(points) if points else plot_w / 2)

    rejected = {i for v in violations if v.rejection for i in v.indices}
    warned = {i for v in violations if not v.rejection for i in v.indices}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Levey-Jennings chart">'
    ]
    if title:
        parts.append(f'<text x="{left}" y="18" {_FONT} font-weight="bold">{escape(title)}</text>')
    for k, colour in ((3, "#C0392B"), (2, "#D68910"), (1, "#AAB7B8")):
        for sign in (1, -1):
            y = y_of(sign * k)
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{colour}" '
                'stroke-dasharray="4 3" stroke-width="1"/>'
            )
            label = f"{mean + sign * k * sd:.4g} ({'+' if sign > 0 else '-'}{k}s)"
            parts.append(
                f'<text x="{left - 4}" y="{y + 4:.1f}" {_FONT} font-size="9" text-anchor="end">'
                f"{escape(label)}</text>"
            )
    y0 = y_of(0)
    parts.append(f'<line x1="{left}" y1="{y0:.1f}" x2="{width - right}" y2="{y0:.1f}" stroke="#1F3A5F"/>')
    parts.append(
        f'<text x="{left - 4}" y="{y0 + 4:.1f}" {_FONT} font-size="9" text-anchor="end">{mean:.4g}</text>'
    )
    coords = [(x_of(i), y_of((p.value - mean) / sd if sd > 0 else 0.0)) for i, p in enumerate(points)]
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1F3A5F" stroke-width="1.2"/>')
    for i, (x, y) in enumerate(coords):
        colour = "#C0392B" if i in rejected else "#D68910" if i in warned else "#1F3A5F"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}" data-index="{i}"/>')
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" {_FONT} text-anchor="middle">'
        "Run order</text></svg>"
    )
    return "".join(parts)


def z_score_bars_svg(
    scores: Sequence[tuple[str, float]], title: str = "", width: int = 640, bar_height: int = 18
) -> str:
    """Horizontal bars of z-scores per laboratory with the ±2 (warning) and ±3 (action) limits.

    Classification after ISO 13528:2022 9.4.1: |z| ≤ 2 green, 2 < |z| < 3 amber, |z| ≥ 3 red.
    """
    left, right, top = 120, 20, 30 if title else 12
    height = top + bar_height * len(scores) + 30
    plot_w = width - left - right
    limit = max([4.0] + [min(abs(z), 10.0) + 0.5 for _, z in scores])

    def x_of(z: float) -> float:
        return left + plot_w / 2 + max(-limit, min(limit, z)) / limit * plot_w / 2

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="z-score chart">'
    ]
    if title:
        parts.append(f'<text x="{left}" y="18" {_FONT} font-weight="bold">{escape(title)}</text>')
    bottom = top + bar_height * len(scores)
    for z_line, colour in ((-3, "#C0392B"), (-2, "#D68910"), (0, "#1F3A5F"), (2, "#D68910"), (3, "#C0392B")):
        x = x_of(z_line)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{colour}" '
            f'stroke-dasharray="{"" if z_line == 0 else "4 3"}"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 14}" {_FONT} font-size="9" text-anchor="middle">'
            f"{z_line:+d}</text>"
        )
    for row, (lab, z) in enumerate(scores):
        y = top + row * bar_height + 3
        a = abs(z)
        colour = "#27AE60" if a <= 2 else "#D68910" if a < 3 else "#C0392B"
        x0, x1 = sorted((x_of(0), x_of(z)))
        parts.append(
            f'<text x="{left - 6}" y="{y + bar_height * 0.6:.1f}" {_FONT} text-anchor="end">'
            f"{escape(lab)}</text>"
        )
        parts.append(
            f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{bar_height - 6}" '
            f'fill="{colour}"><title>{escape(lab)}: z = {z:.2f}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)
