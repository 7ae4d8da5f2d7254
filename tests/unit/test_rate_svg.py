"""The rate charts drawn on the server: a small count is drawn and written as counts, never as a bar or a
percentage; every other rate carries its bar, its interval whisker and its k of n."""

from __future__ import annotations

import re
from dataclasses import dataclass

from customslab.entrypoints.web.rate_svg import counts_text, rate_bars_svg, scale_of, trend_svg, whisker_svg


@dataclass(frozen=True)
class R:
    k: int
    n: int
    rate: float
    wilson_low: float
    wilson_high: float
    small: bool


PEPPER = R(k=12, n=40, rate=0.3, wilson_low=0.1807, wilson_high=0.4535, small=False)
RUM = R(k=3, n=3, rate=1.0, wilson_low=0.4385, wilson_high=1.0, small=True)


def same(text: str) -> str:
    return text


def test_a_small_count_is_written_as_counts_and_a_large_one_with_its_interval() -> None:
    assert counts_text(RUM, same) == "3 of 3"
    assert counts_text(PEPPER, same) == "12 of 40 · 30.0 % (18.1–45.4 %)"


def test_a_small_count_gets_no_bar_only_a_dashed_whisker() -> None:
    svg = str(whisker_svg(RUM, 1.0, same))
    assert "<rect" not in svg and 'stroke-dasharray="3 2"' in svg and "%" not in svg
    assert "<rect" in str(whisker_svg(PEPPER, 0.5, same))


def test_the_whisker_spans_the_wilson_interval_on_the_charts_scale() -> None:
    svg = str(whisker_svg(PEPPER, 0.5, same, width=104))  # 100 px inside 2 px of padding each side
    assert re.search(r'd="M38\.1 7H92\.7', svg), svg


def test_the_axis_ends_just_above_the_highest_interval() -> None:
    assert scale_of([PEPPER]) == 0.5 and scale_of([RUM]) == 1.0 and scale_of([]) == 0.05


def test_every_bar_of_a_chart_is_labelled_with_k_of_n() -> None:
    svg = str(rate_bars_svg([("0904", PEPPER), ("2208", RUM)], "By heading", same))
    assert svg.count("<rect") == 1 and "12 of 40" in svg and ">3 of 3<" in svg and "100.0 %" not in svg


def test_a_small_month_breaks_the_trend_line_and_is_drawn_hollow() -> None:
    svg = str(trend_svg([("2026-01", PEPPER), ("2026-02", RUM), ("2026-03", PEPPER)], "Trend", same))
    assert "<polyline" not in svg  # no two neighbouring months that are not small
    assert svg.count('fill="#FFFFFF"') == 1 and "wilson-band" in svg
