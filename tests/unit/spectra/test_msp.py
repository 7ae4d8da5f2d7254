"""MSP reader variants and the writer's lossless round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from customslab.spectra.formats.massbank import read_massbank
from customslab.spectra.formats.msp import parse_msp, read_msp, write_msp
from customslab.spectra.model import SpectrumFormatError

NIST_STYLE = """Name: Caffeine
Synon: 1,3,7-Trimethylxanthine
InChIKey: RYYVLZVUVIJVGH-UHFFFAOYSA-N
Formula: C8H10N4O2
CAS#: 58-08-2; NIST#: 12345
RI: 1813
Comments: "from a test"
Num Peaks: 4
55 120; 67 80; 109 300;
194 999 "M+"

Name: Second
Num Peaks: 3
41:10 43:20
57:30
"""


def test_nist_style_records_with_synonyms_identifiers_and_annotations_are_read() -> None:
    first, second = parse_msp(NIST_STYLE, "t.msp")
    assert first.name == "Caffeine"
    assert first.metadata["synonyms"] == ["1,3,7-Trimethylxanthine"]
    assert first.metadata["inchikey"] == "RYYVLZVUVIJVGH-UHFFFAOYSA-N"
    assert first.metadata["cas"] == "58-08-2" and first.metadata["accession"] == "12345"
    assert first.metadata["retention_index"] == 1813.0
    assert first.metadata["comments"] == ["from a test"]
    assert first.x.tolist() == [55, 67, 109, 194] and first.y.tolist() == [120, 80, 300, 999]
    assert second.x.tolist() == [41, 43, 57] and second.y.tolist() == [10, 20, 30]


@pytest.mark.parametrize(
    "peaks", ["41 10\n43 20\n57 30", "41\t10\n43\t20\n57\t30", "41,10; 43,20; 57,30", "41 10 43 20 57 30"]
)
def test_every_peak_separator_variant_gives_the_same_peaks(peaks: str) -> None:
    (spectrum,) = parse_msp(f"Name: X\nNum Peaks: 3\n{peaks}\n", "t.msp")
    assert spectrum.x.tolist() == [41, 43, 57] and spectrum.y.tolist() == [10, 20, 30]


def test_a_wrong_peak_count_is_reported_with_the_line() -> None:
    with pytest.raises(SpectrumFormatError) as error:
        parse_msp("Name: X\nNum Peaks: 4\n41 10\n43 20\n", "t.msp")
    assert error.value.line == 2 and "Num Peaks says 4" in error.value.problem


def test_a_record_without_a_name_is_rejected() -> None:
    with pytest.raises(SpectrumFormatError, match="Name"):
        parse_msp("Formula: C2H6\nNum Peaks: 1\n30 100\n", "t.msp")


def test_real_massbank_spectra_survive_an_msp_round_trip_exactly(shared_data: Path, tmp_path: Path) -> None:
    files = sorted((shared_data / "spectra" / "massbank-ei").iterdir())[::100]
    spectra = [read_massbank(f)[0] for f in files]
    write_msp(spectra, tmp_path / "out.msp")
    back = read_msp(tmp_path / "out.msp")
    assert len(back) == len(spectra)
    for original, copy in zip(spectra, back, strict=True):
        assert copy.name == original.name
        assert np.array_equal(copy.x, original.x) and np.array_equal(copy.y, original.y)
        for key in ("inchikey", "formula", "cas", "retention_index", "license", "accession", "synonyms"):
            assert copy.metadata.get(key) == original.metadata.get(key), key
