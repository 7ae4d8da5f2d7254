"""MassBank record reader, on real records and on broken ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from customslab.spectra.formats.massbank import parse_massbank, read_massbank
from customslab.spectra.model import SpectrumFormatError, Technique

RECORD = """ACCESSION: MSBNK-TEST-0001
RECORD_TITLE: Test; EI-B; MS
LICENSE: CC BY
AUTHORS: A Person
CH$NAME: Firstname
CH$NAME: Second synonym
CH$FORMULA: C8H11N
CH$LINK: CAS 98-84-0 618-36-0
CH$LINK: INCHIKEY RQEUFEKYXDPUSK-UHFFFAOYSA-N
AC$INSTRUMENT_TYPE: GC-EI-TOF
AC$MASS_SPECTROMETRY: MS_TYPE MS
AC$MASS_SPECTROMETRY: ION_MODE POSITIVE
AC$CHROMATOGRAPHY: RETENTION_INDEX 1051.5
PK$NUM_PEAK: 3
PK$PEAK: m/z int. rel.int.
  106.1 999 999
  77.0 120 120
  121.1 50 50
//
"""


def test_a_real_massbank_folder_reads_completely_with_names_and_inchikeys(shared_data: Path) -> None:
    files = sorted((shared_data / "spectra" / "massbank-ei").iterdir())[:200]
    spectra = [s for f in files for s in read_massbank(f)]
    assert len(spectra) == 200
    assert all(s.technique is Technique.EI_MS and s.name and s.x.size > 0 for s in spectra)
    assert all(np.all(np.diff(s.x) >= 0) for s in spectra)
    assert sum(1 for s in spectra if s.metadata.get("inchikey")) > 150
    assert all(s.metadata["license"].startswith("CC BY") for s in spectra)


def test_every_documented_field_is_kept_in_the_metadata() -> None:
    (spectrum,) = parse_massbank(RECORD, "test.txt")
    meta = spectrum.metadata
    assert spectrum.name == "Firstname"
    assert meta["synonyms"] == ["Second synonym"]
    assert meta["inchikey"] == "RQEUFEKYXDPUSK-UHFFFAOYSA-N"
    assert meta["cas"] == "98-84-0" and meta["cas_numbers"] == ["98-84-0", "618-36-0"]
    assert meta["formula"] == "C8H11N"
    assert meta["retention_index"] == 1051.5
    assert meta["ion_mode"] == "POSITIVE" and meta["ms_type"] == "MS"
    assert meta["instrument_type"] == "GC-EI-TOF"
    assert meta["accession"] == "MSBNK-TEST-0001" and meta["license"] == "CC BY"
    assert meta["authors"] == "A Person"
    assert spectrum.x.tolist() == [77.0, 106.1, 121.1]
    assert spectrum.y.tolist() == [120.0, 999.0, 50.0]


def test_a_peak_count_that_disagrees_with_the_table_names_the_line() -> None:
    with pytest.raises(SpectrumFormatError) as error:
        parse_massbank(RECORD.replace("PK$NUM_PEAK: 3", "PK$NUM_PEAK: 4"), "bad.txt")
    assert error.value.line == 14 and "PK$NUM_PEAK says 4" in error.value.problem


def test_a_record_without_the_closing_slashes_is_rejected() -> None:
    with pytest.raises(SpectrumFormatError, match="not terminated"):
        parse_massbank(RECORD.replace("//\n", ""), "bad.txt")


def test_a_non_numeric_peak_is_rejected_with_its_line() -> None:
    with pytest.raises(SpectrumFormatError) as error:
        parse_massbank(RECORD.replace("77.0 120 120", "77.0 abc 120"), "bad.txt")
    assert error.value.line == 17


def test_an_electrospray_record_is_refused_because_only_ei_is_supported() -> None:
    with pytest.raises(SpectrumFormatError, match="not electron ionisation"):
        parse_massbank(RECORD.replace("GC-EI-TOF", "LC-ESI-QTOF"), "esi.txt")


def test_a_record_without_a_name_is_rejected() -> None:
    text = RECORD.replace("CH$NAME: Firstname\n", "").replace("CH$NAME: Second synonym\n", "")
    with pytest.raises(SpectrumFormatError, match="CH\\$NAME"):
        parse_massbank(text, "bad.txt")
