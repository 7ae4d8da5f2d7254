"""Mismatch rates drawn as inline SVG on the server: each rate a bar with its 95 % Wilson interval as a
whisker and its "k of n" written beside it, and the monthly trend as a line inside its Wilson band.

Like spectrum_svg.py, the SVG uses presentation attributes only (no style attribute, no script), so the
Content-Security-Policy stays as it is and the page needs no charting library. A rate flagged small is
drawn as its interval alone, hollow, with its counts: a bar of 100 % on two cases would say what the
data do not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from markupsafe import Markup, escape

from customslab.entrypoints.web.common import N_
from customslab.entrypoints.web.spectrum_svg import nice_ticks

BAR = "#1F3A5F"
WHISKER = "#C0392B"
MUTED = "#7F8C8D"
_FONT = 'font-family="Helvetica, Arial, sans-serif" font-size="11"'
COUNTS = N_("{k} of {n}")
BARS_LEGEND = N_("Bar: observed rate · whisker: 95 % Wilson interval · dashed: small count")
TREND_LEGEND = N_("Line: monthly rate · band: 95 % Wilson interval · hollow: small count")


class RateLike(Protocol):
    """What a chart needs of a rate: its counts, the observed share and its Wilson interval."""

    @property
    def k(self) -> int: ...
    @property
    def n(self) -> int: ...
    @property
    def rate(self) -> float | None: ...
    @property
    def wilson_low(self) -> float: ...
    @property
    def wilson_high(self) -> float: ...
    @property
    def small(self) -> bool: ...


def counts_text(rate: RateLike, gettext: Callable[[str], str]) -> str:
    """'k of n', and the percentage with its interval unless the count is small."""
    counts = gettext(COUNTS).format(k=rate.k, n=rate.n)
    if rate.small or rate.rate is None:
        return counts
    return f"{counts} · {rate.rate * 100:.1f} % ({rate.wilson_low * 100:.1f}–{rate.wilson_high * 100:.1f} %)"


def scale_of(rates: Sequence[RateLike]) -> float:
    """The axis's upper end, a round share just above the highest interval (rates are often ≪ 100 %)."""
    highest = max((r.wilson_high for r in rates), default=0.0)
    for top in (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0):
        if highest <= top:
            return top
    return 1.0


def rate_bars_svg(
    rows: Sequence[tuple[str, RateLike]],
    title: str,
    gettext: Callable[[str], str],
    width: int = 900,
    row_height: int = 22,
) -> Markup:
    """Horizontal bars, one per selector: the rate, its 95 % Wilson interval (whisker) and "k of n".

    Wilson score interval (Wilson 1927), computed by the service; drawn here as given.
    """
    left, right, top = 160, 250, 8
    height = top + row_height * max(len(rows), 1) + 30
    plot_w = width - left - right
    scale = scale_of([r for _, r in rows])

    def x_of(share: float) -> float:
        return left + plot_w * min(max(share, 0.0), scale) / scale

    parts = [
        f'<svg class="rate-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    bottom = top + row_height * max(len(rows), 1)
    for tick in nice_ticks(0.0, scale, 5):
        x = x_of(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#D5D8DC" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 14}" {_FONT} font-size="9" text-anchor="middle">'
            f"{tick * 100:g} %</text>"
        )
    for i, (label, rate) in enumerate(rows):
        y = top + i * row_height
        mid = y + row_height / 2
        text = counts_text(rate, gettext)
        parts.append(
            f'<text x="{left - 6}" y="{mid + 4:.1f}" {_FONT} text-anchor="end">{escape(label)}</text>'
        )
        if not rate.small and rate.rate is not None:
            parts.append(
                f'<rect x="{left}" y="{y + 5}" width="{max(x_of(rate.rate) - left, 1):.1f}" '
                f'height="{row_height - 10}" fill="{BAR}">'
                f"<title>{escape(label)}: {escape(text)}</title></rect>"
            )
        colour = MUTED if rate.small else WHISKER
        lo, hi = x_of(rate.wilson_low), x_of(rate.wilson_high)
        dash = ' stroke-dasharray="3 2"' if rate.small else ""
        parts.append(
            f'<path class="wilson" fill="none" stroke="{colour}" stroke-width="1.5"{dash} '
            f'd="M{lo:.1f} {mid:.1f}H{hi:.1f}M{lo:.1f} {mid - 4:.1f}v8M{hi:.1f} {mid - 4:.1f}v8"/>'
        )
        parts.append(
            f'<text x="{width - right + 6}" y="{mid + 4:.1f}" {_FONT} font-size="10">{escape(text)}</text>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 4}" {_FONT} font-size="9" fill="{MUTED}">'
        f"{escape(gettext(BARS_LEGEND))}"
        "</text></svg>"
    )
    return Markup("".join(parts))


def whisker_svg(rate: RateLike, scale: float, gettext: Callable[[str], str], width: int = 140) -> Markup:
    """A table cell's small chart on the table's common scale: the rate's bar (none when the count is
    small) and its 95 % Wilson interval as a whisker."""
    height, pad = 14, 2
    inner = width - 2 * pad

    def x_of(share: float) -> float:
        return pad + inner * min(max(share, 0.0), scale) / scale

    lo, hi = x_of(rate.wilson_low), x_of(rate.wilson_high)
    colour = MUTED if rate.small else WHISKER
    dash = ' stroke-dasharray="3 2"' if rate.small else ""
    bar = (
        f'<rect x="{pad}" y="3" width="{max(x_of(rate.rate) - pad, 1):.1f}" height="8" fill="{BAR}"/>'
        if not rate.small and rate.rate is not None
        else ""
    )
    label = escape(counts_text(rate, gettext))
    return Markup(
        f'<svg class="whisker" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f'<line x1="{pad}" y1="{height - 1}" x2="{width - pad}" y2="{height - 1}" stroke="#D5D8DC"/>{bar}'
        f'<path fill="none" stroke="{colour}" stroke-width="1.5"{dash} '
        f'd="M{lo:.1f} 7H{hi:.1f}M{lo:.1f} 3v8M{hi:.1f} 3v8"/></svg>'
    )


def trend_svg(
    points: Sequence[tuple[str, RateLike]],
    title: str,
    gettext: Callable[[str], str],
    width: int = 900,
    height: int = 280,
) -> Markup:
    """The rate month by month, as a line inside its shaded 95 % Wilson band; small months are hollow
    points and do not join the line."""
    left, right, top, bottom_margin = 48, 16, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom_margin
    scale = scale_of([r for _, r in points])
    count = max(len(points), 1)

    def x_of(i: int) -> float:
        return left + plot_w * (i + 0.5) / count

    def y_of(share: float) -> float:
        return top + plot_h * (1 - min(max(share, 0.0), scale) / scale)

    parts = [
        f'<svg class="rate-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<path fill="none" stroke="currentColor" d="M{left} {top}V{top + plot_h}H{left + plot_w}"/>',
    ]
    for tick in nice_ticks(0.0, scale, 5):
        y = y_of(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#EAECEE"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 3:.1f}" {_FONT} font-size="9" text-anchor="end">'
            f"{tick * 100:g} %</text>"
        )
    if points:
        upper = " ".join(f"{x_of(i):.1f},{y_of(r.wilson_high):.1f}" for i, (_, r) in enumerate(points))
        lower = " ".join(
            f"{x_of(i):.1f},{y_of(r.wilson_low):.1f}" for i, (_, r) in reversed(list(enumerate(points)))
        )
        parts.append(
            f'<polygon class="wilson-band" points="{upper} {lower}" fill="{BAR}" fill-opacity="0.15"/>'
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (_, rate) in enumerate(points):
        if rate.small or rate.rate is None:
            segments.append(segment)
            segment = []
        else:
            segment.append(f"{x_of(i):.1f},{y_of(rate.rate):.1f}")
    segments.append(segment)
    for run in segments:
        if len(run) > 1:
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{BAR}" stroke-width="1.5"/>'
            )
    step = max(1, count // 12)
    for i, (label, rate) in enumerate(points):
        x = x_of(i)
        text = f"{escape(label)}: {escape(counts_text(rate, gettext))}"
        if rate.small or rate.rate is None:
            share = rate.k / rate.n if rate.n else 0.0
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y_of(share):.1f}" r="3" fill="#FFFFFF" stroke="{MUTED}">'
                f"<title>{text}</title></circle>"
            )
        else:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y_of(rate.rate):.1f}" r="2.5" fill="{BAR}">'
                f"<title>{text}</title></circle>"
            )
        if i % step == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 14}" {_FONT} font-size="9" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append(
        f'<text x="{left}" y="{height - 6}" {_FONT} font-size="9" fill="{MUTED}">'
        f"{escape(gettext(TREND_LEGEND))}"
        "</text></svg>"
    )
    return Markup("".join(parts))
