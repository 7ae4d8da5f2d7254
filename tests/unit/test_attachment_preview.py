"""The pure parts of attachment previews: what may be shown inline, the thinned plot, the axes' ticks."""

from __future__ import annotations

import signal
from collections.abc import Callable

import numpy as np
import pytest

from customslab.entrypoints.web.spectrum_svg import nice_ticks, spectrum_svg
from customslab.services.attachments import SpectrumPlot, inline_type, served_type, spectrum_plot
from customslab.spectra.model import Spectrum, Technique


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0..JFIF", "image/jpeg"),
        (b"GIF89a....", "gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\n%PDF-1.7\n", "application/pdf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"<!doctype html><script>", None),
        (b"XXXX\x10\x00\x00\x00WEBP", None),  # WEBP without its RIFF container is not an image
    ],
)
def test_only_checked_images_and_pdfs_may_be_shown_in_place(head: bytes, expected: str | None) -> None:
    found = inline_type(head)
    assert found == expected or (expected == "gif" and found == "image/gif")


@pytest.mark.parametrize(
    ("stored", "data", "expected"),
    [
        ("text/plain", b"1,2\n", "text/plain"),
        ("Text/CSV; charset=utf-8", b"1,2\n", "text/csv"),
        ("text/html", b"hello", "application/octet-stream"),
        ("image/svg+xml", b"<svg/>", "application/octet-stream"),
        ("application/xhtml+xml", b"x", "application/octet-stream"),
        ("text/plain", b"\xef\xbb\xbf  <html><body>", "application/octet-stream"),
        ("not a type", b"x", "application/octet-stream"),
    ],
)
def test_a_download_keeps_its_stored_type_unless_a_browser_would_render_it(
    stored: str, data: bytes, expected: str
) -> None:
    assert served_type(stored, data) == expected


def test_a_long_profile_is_thinned_without_losing_its_peaks() -> None:
    x = np.linspace(400.0, 4000.0, 30_000)
    y = np.full_like(x, 0.01)
    y[12_345] = 1.5  # one sharp band
    y[29_000] = -0.2  # and one dip
    plot = spectrum_plot(Spectrum(x=x, y=y, technique=Technique.FTIR, metadata={"x_unit": "cm-1"}))
    assert plot.points == 30_000 and len(plot.x) <= 2400
    assert max(plot.y) == 1.5 and min(plot.y) == -0.2
    assert plot.x == sorted(plot.x) and plot.reversed_x and plot.x_quantity == "wavenumber"


def test_a_mass_spectrum_keeps_every_peak_as_a_stick() -> None:
    spectrum = Spectrum(
        x=np.array([41.0, 77.0, 105.0]), y=np.array([20.0, 45.0, 999.0]), technique=Technique.EI_MS
    )
    plot = spectrum_plot(spectrum, limit=2)
    assert plot.sticks and plot.x == [41.0, 77.0, 105.0] and plot.x_quantity == "m/z"
    assert plot.y == [pytest.approx(2.002, abs=1e-3), pytest.approx(4.505, abs=1e-3), 100.0]
    svg = spectrum_svg(plot, lambda text: text)
    assert (
        svg.count("V") >= 3
        and ">m/z</text>" in svg
        and ">Relative abundance (percent of base peak)</text>" in svg
    )


def test_a_spectrum_name_is_escaped_in_the_svg() -> None:
    spectrum = Spectrum(
        x=np.array([1.0, 2.0]), y=np.array([1.0, 2.0]), technique=Technique.EI_MS, name="<b>x</b>"
    )
    assert "<b>" not in spectrum_svg(spectrum_plot(spectrum), lambda text: text)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0.0, 10.0, [0, 2, 4, 6, 8, 10]), (400.0, 4000.0, [500, 1000, 1500, 2000, 2500, 3000, 3500, 4000])],
)
def test_ticks_fall_on_round_numbers(low: float, high: float, expected: list[float]) -> None:
    assert nice_ticks(low, high) == expected


def _within_two_seconds(call: Callable[[], object]) -> object:
    """Runs `call`, failing the test instead of hanging when it loops forever."""

    def give_up(signum: int, frame: object) -> None:
        raise TimeoutError("nice_ticks did not finish")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(2)
    try:
        return call()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(("low", "high"), [(1e16, 1e16 + 2), (-1e308, 1e308), (0.0, 5e-324)])
def test_ticks_for_extreme_ranges_end_and_span_the_range(low: float, high: float) -> None:
    ticks = _within_two_seconds(lambda: nice_ticks(low, high))
    assert isinstance(ticks, list)
    assert 1 <= len(ticks) <= 11
    assert all(low <= tick <= high for tick in ticks)


def test_a_spectrum_spanning_the_float_range_is_drawn() -> None:
    plot = SpectrumPlot(
        name="wide",
        technique=Technique.FTIR,
        x_quantity="wavenumber",
        y_unit="absorbance",
        sticks=False,
        reversed_x=False,
        points=2,
        x=[-1e308, 1e308],
        y=[-1e308, 1e308],
    )
    assert "<svg" in spectrum_svg(plot, lambda text: text)
