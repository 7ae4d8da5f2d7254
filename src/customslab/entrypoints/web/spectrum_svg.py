"""A spectrum drawn as inline SVG on the server: a line (or a mass spectrum's sticks), axes, ticks and
labels with units. No charting script is needed, and the Content-Security-Policy is untouched: the SVG
uses presentation attributes, never a style attribute or a script."""

from __future__ import annotations

import math
from collections.abc import Callable

from markupsafe import Markup, escape

from customslab.entrypoints.web.common import N_
from customslab.services.attachments import SpectrumPlot

WIDTH, HEIGHT = 820, 380
LEFT, RIGHT, TOP, BOTTOM = 78, 18, 16, 56
MOST_INTERVALS = 8

#: What the x axis measures, with its unit.
X_LABELS = {
    "m/z": N_("m/z"),
    "wavenumber": N_("Wavenumber (cm⁻¹)"),
    "raman_shift": N_("Raman shift (cm⁻¹)"),
    "wavelength": N_("Wavelength (nm)"),
}
#: What the y axis measures, by the unit the spectrum readers give.
Y_LABELS = {
    "absorbance": N_("Absorbance"),
    "transmittance": N_("Transmittance"),
    "percent_transmittance": N_("Transmittance (%)"),
    "reflectance": N_("Reflectance"),
    "counts": N_("Intensity (counts)"),
    "arbitrary": N_("Intensity (arbitrary units)"),
    "relative_abundance": N_("Relative abundance"),
    "base_peak_percent": N_("Relative abundance (percent of base peak)"),
    "intensity": N_("Intensity"),
}


def nice_ticks(low: float, high: float, most: int = MOST_INTERVALS) -> list[float]:
    """Round tick values covering [low, high]: the smallest step of 1, 2 or 5 × 10ⁿ that leaves at most
    `most` intervals between them."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    span = high - low
    # A span beyond the float range (±1e308 data), or too small to divide, gets only its two ends.
    if not math.isfinite(span) or span / most == 0:
        return [low, high]
    power = 10.0 ** math.floor(math.log10(span / most))
    step = next((m * power for m in (1, 2, 5, 10) if power and span / (m * power) <= most), 0.0)
    # A step below the values' float resolution (1e16 to 1e16 + 2) would never advance a running sum.
    if low + step == low:
        return [low, high]
    start = math.ceil(low / step) * step
    # Counted, not summed, so the loop always ends; the cap guards against rounding in the count.
    count = min(math.floor((high - start) / step + 1e-9), most + 2)
    values = (start + i * step for i in range(count + 1))
    return [0.0 if abs(value) < step * 1e-9 else round(value, 12) for value in values]


def axis_labels(plot: SpectrumPlot, gettext: Callable[[str], str]) -> tuple[str, str]:
    """The x and y axis labels, translated; an unknown y unit is shown as the reader named it."""
    x = gettext(X_LABELS.get(plot.x_quantity, plot.x_quantity))
    y_unit = plot.y_unit.lower()
    y = gettext(Y_LABELS[y_unit]) if y_unit in Y_LABELS else plot.y_unit or gettext(Y_LABELS["intensity"])
    return x, y


def spectrum_svg(plot: SpectrumPlot, gettext: Callable[[str], str]) -> Markup:
    """The plot as an inline <svg> element, labelled for screen readers by the spectrum's name."""
    x_label, y_label = axis_labels(plot, gettext)
    xs, ys = plot.x, plot.y
    x_low, x_high = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_high <= x_low:
        x_low, x_high = x_low - 1, x_high + 1
    if plot.sticks:
        # The first and last peaks stand clear of the axes.
        margin = (x_high - x_low) * 0.03
        x_low, x_high = max(x_low - margin, 0.0), x_high + margin
    y_high = max(ys) if ys else 1.0
    lowest = min(ys) if ys else 0.0
    # From zero when the data come near it (abundances, absorbance); else from the data's own minimum
    # (a transmittance between 60 and 100 %, say), so the bands are not squeezed into a strip.
    y_low = 0.0 if plot.sticks or 0 <= lowest <= 0.3 * y_high else lowest
    if y_high <= y_low:
        y_high = y_low + 1
    pad = (y_high - y_low) * 0.05
    y_high += pad
    if y_low != 0:
        y_low -= pad
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(v: float) -> float:
        share = (v - x_low) / (x_high - x_low)
        return LEFT + inner_w * (1 - share if plot.reversed_x else share)

    def py(v: float) -> float:
        return TOP + inner_h * (1 - (v - y_low) / (y_high - y_low))

    base = py(max(y_low, 0.0))
    if plot.sticks:
        trace = " ".join(f"M{px(x):.1f} {base:.1f}V{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    else:
        trace = "M" + "L".join(f"{px(x):.1f} {py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    parts = [
        f'<svg class="spectrum-plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="plot-title" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="plot-title">{escape(plot.name or gettext("Spectrum"))}: {escape(y_label)} / '
        f"{escape(x_label)}</title>",
        f'<path class="axis" fill="none" stroke="currentColor" '
        f'd="M{LEFT} {TOP}V{TOP + inner_h}H{LEFT + inner_w}"/>',
    ]
    for tick in nice_ticks(x_low, x_high):
        x = px(tick)
        parts.append(f'<path class="tick" stroke="currentColor" d="M{x:.1f} {TOP + inner_h}v5"/>')
        parts.append(f'<text x="{x:.1f}" y="{TOP + inner_h + 18}" text-anchor="middle">{tick:g}</text>')
    for tick in nice_ticks(y_low, y_high):
        y = py(tick)
        parts.append(f'<path class="tick" stroke="currentColor" d="M{LEFT - 5} {y:.1f}h5"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    parts += [
        f'<path class="trace" fill="none" stroke="#0b4f8a" stroke-width="1.2" d="{trace}"/>',
        f'<text class="x-label" x="{LEFT + inner_w / 2:.0f}" y="{HEIGHT - 12}" text-anchor="middle">'
        f"{escape(x_label)}</text>",
        f'<text class="y-label" x="16" y="{TOP + inner_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + inner_h / 2:.0f})">{escape(y_label)}</text>',
        "</svg>",
    ]
    return Markup("".join(parts))
