"""The CAS → HS table: the seed table loads against the real HS 2022 nomenclature, a faulty table is
refused whole with the line of each fault, and a substance is found by CAS, then name, then label."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from customslab.config import Settings
from customslab.entrypoints import wiring
from customslab.hs.nomenclature import load_nomenclature
from customslab.substances.chem_hs import (
    ChemHsError,
    ChemHsTable,
    bundled_table,
    parse_table,
    subheading_texts,
)

HEADER = "cas,name,synonyms,hs_code,source,notes\n"


@pytest.fixture(scope="module")
def texts(shared_data: Path) -> dict[str, str]:
    return subheading_texts(load_nomenclature(shared_data / "hs"))


@pytest.fixture(scope="module")
def seed(texts: dict[str, str]) -> ChemHsTable:
    return bundled_table(texts)


def test_the_seed_table_loads_against_hs_2022_and_every_row_names_its_source_and_check(
    seed: ChemHsTable, texts: dict[str, str]
) -> None:
    assert len(seed) >= 100
    for entry in seed.entries:
        assert "HS 2022 checked" in entry.source, entry.name
        assert entry.codes, entry.name
        for code in entry.codes:
            assert code.description == texts[code.code[:6]]


# The 1988 Convention's Tables I and II, narcotics and psychotropics, and common chemicals, as the
# subheading texts of HS 2022 name them (methamphetamine moved to 2939.45 and cocaine to 2939.72 in 2022).
@pytest.mark.parametrize(
    ("cas", "code"),
    [
        ("108-24-7", "291524"),  # acetic anhydride
        ("7722-64-7", "284161"),  # potassium permanganate
        ("299-42-3", "293941"),  # ephedrine
        ("90-82-4", "293942"),  # pseudoephedrine
        ("14838-15-4", "293944"),  # norephedrine
        ("94-59-7", "293294"),  # safrole
        ("120-58-1", "293291"),  # isosafrole
        ("120-57-0", "293293"),  # piperonal
        ("4676-39-5", "293292"),  # 3,4-MDP-2-P (PMK)
        ("103-79-7", "291431"),  # 1-phenyl-2-propanone (P2P)
        ("4468-48-8", "292640"),  # APAAN
        ("21409-26-7", "293336"),  # ANPP
        ("39742-60-4", "293337"),  # NPP
        ("7664-93-9", "280700"),  # sulphuric acid
        ("7647-01-0", "280610"),  # hydrochloric acid
        ("50-36-2", "293972"),  # cocaine
        ("537-46-2", "293945"),  # metamfetamine
        ("561-27-3", "293911"),  # heroin
        ("437-38-7", "293333"),  # fentanyl
        ("76-99-3", "292231"),  # methadone
        ("1972-08-3", "293295"),  # THC
        ("58-08-2", "293930"),  # caffeine
    ],
)
def test_the_seed_table_proposes_the_subheading_hs_2022_names_for_the_substance(
    seed: ChemHsTable, cas: str, code: str
) -> None:
    (found,) = seed.propose(cas=cas)
    assert [c.code for c in found.entry.codes] == [code] and found.matched_by == "cas"


# The identity labels of the spectral library's polymer entries (spectra/reference_sets.py: MPX and RaMPP).
@pytest.mark.parametrize(
    "label", ["PE", "PP", "PS", "PET", "PLA", "PA", "PC", "PU", "PVC", "POM", "ABS", "SAN"]
)
def test_every_polymer_label_of_the_spectral_library_finds_its_chapter_39_row_in_primary_forms(
    seed: ChemHsTable, label: str
) -> None:
    (found,) = seed.propose(name="unknown polymer", label=label)
    assert found.matched_by == "name"
    assert all(c.code.startswith("39") for c in found.entry.codes)
    assert "Primary forms only" in found.entry.notes and "3915" in found.entry.notes


def test_a_polymer_whose_identity_leaves_the_subheading_open_proposes_each_candidate(
    seed: ChemHsTable,
) -> None:
    (pet,) = seed.propose(name="PET")
    assert [c.dotted for c in pet.entry.codes] == ["3907.61", "3907.69"]
    assert "viscosity" in pet.entry.notes


def test_a_substance_is_found_by_cas_first_then_by_name_then_by_label(seed: ChemHsTable) -> None:
    # A library entry whose CAS number names another substance: the CAS decides (the page says so).
    (by_cas,) = seed.propose(cas="103-82-2", name="D-3-Phenyllactic acid")
    assert by_cas.entry.name == "Phenylacetic acid" and by_cas.matched_by == "cas"
    assert not seed.knows_name(by_cas.entry, "D-3-Phenyllactic acid")
    # A CAS number the table does not hold: the name, as the register compares names (derivative, salt).
    (by_name,) = seed.propose(cas="50-00-0", name="Anthranilic acid, 2TMS")
    assert by_name.entry.cas == "118-92-3" and by_name.matched_by == "name"
    assert seed.propose(name="Cocaine hydrochloride")[0].entry.cas == "50-36-2"
    assert seed.propose(name="LDPE", label="PE")[0].entry.cas == "9002-88-4"
    assert seed.propose(cas="50-00-0", name="Formaldehyde") == []


def test_a_faulty_table_is_refused_whole_with_the_line_of_each_fault(texts: dict[str, str]) -> None:
    text = (
        "# a laboratory's table\n"
        + HEADER
        + "58-08-2,Caffeine,,2939.30,KR tariff 2022,\n"  # line 3: fine
        + "50-36-3,Cocaine,,2939.72,KR tariff 2022,\n"  # line 4: check digit
        + "537-46-2,Methamphetamine,,2939.71,KR tariff 2017,\n"  # line 5: not an HS 2022 subheading
        + "58-08-2,Guaranine,,2939.30,KR tariff 2022,\n"  # line 6: CAS of line 3
        + "64-17-5,Ethanol,,2207,KR tariff 2022,\n"  # line 7: a heading, not a subheading
        + "67-56-1,Methanol,,2905.11,,\n"  # line 8: no source
    )
    with pytest.raises(ChemHsError) as refused:
        parse_table(text, texts, "kr.csv")
    assert [f.line for f in refused.value.faults] == [4, 5, 6, 7, 8]
    message = str(refused.value)
    assert message.startswith("kr.csv: line 4: CAS 50-36-3 fails its check digit")
    assert "line 5: HS code '2939.71': 2939.71 is not a subheading of HS 2022" in message
    assert "line 6: CAS 58-08-2 is already on line 3" in message
    assert message.endswith("Nothing was loaded.")


def test_a_name_on_two_rows_and_an_unknown_column_are_refused(texts: dict[str, str]) -> None:
    twice = HEADER + "58-08-2,Caffeine,,2939.30,a,\n,caffeine hydrochloride,,2939.30,b,\n"
    with pytest.raises(ChemHsError, match="line 3: name 'caffeine' is already on line 2"):
        parse_table(twice, texts)
    with pytest.raises(ChemHsError, match=r"line 1: unknown column 'hs'; missing column 'hs_code'"):
        parse_table("cas,name,hs,source\n58-08-2,Caffeine,2939.30,a\n", texts)


def test_a_laboratory_row_takes_over_the_cas_and_names_it_shares(
    seed: ChemHsTable, texts: dict[str, str]
) -> None:
    lab = parse_table(HEADER + "58-08-2,Caffeine,,2939.30.1000,KR tariff 2022,\n", texts, "kr.csv")
    merged = seed.plus(lab)
    (found,) = merged.propose(name="caffeine")
    assert found.entry.table == "kr.csv" and found.entry.codes[0].dotted == "2939.30.1000"
    assert found.entry.codes[0].description == texts["293930"]
    assert seed.propose(cas="58-08-2")[0].entry.table == "cas_hs.csv"


def test_the_wiring_adds_the_laboratorys_table_and_refuses_to_start_on_a_faulty_one(
    shared_data: Path, tmp_path: Path
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "58-08-2,Caffeine,,2939.30.1000,KR tariff 2022,\n", encoding="utf-8")
    table = wiring.chem_hs_table(Settings(mode="test", shared_data=shared_data, cas_hs_file=good))
    assert table is not None and table.propose(cas="58-08-2")[0].entry.table == "good.csv"
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "58-08-2,Caffeine,,2939.99,KR tariff 2022,\n", encoding="utf-8")
    with pytest.raises(ChemHsError, match=r"bad\.csv: line 2: HS code '2939\.99'"):
        wiring.chem_hs_table(Settings(mode="test", shared_data=shared_data, cas_hs_file=bad))
    # No nomenclature to check against: no proposals, unless a laboratory table was asked for.
    assert wiring.chem_hs_table(Settings(mode="test", shared_data=tmp_path)) is None
    with pytest.raises(ChemHsError, match="nomenclature"):
        wiring.chem_hs_table(Settings(mode="test", shared_data=tmp_path, cas_hs_file=good))


def test_the_cli_checks_a_laboratorys_table_as_the_server_loads_it_and_proposes_a_code(
    shared_data: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from customslab.entrypoints.cli import app

    env = {"CUSTOMSLAB_SHARED_DATA": str(shared_data)}
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "58-08-3,Caffeine,,2939.30,KR tariff 2022,\n", encoding="utf-8")
    refused = CliRunner().invoke(app, ["hs", "cas", "check", str(bad)], env=env)
    assert refused.exit_code == 2 and "bad.csv: line 2: CAS 58-08-3 fails its check digit" in refused.output
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "58-08-2,Caffeine,,2939.30.1000,KR tariff 2022,\n", encoding="utf-8")
    checked = CliRunner().invoke(app, ["hs", "cas", "check", str(good)], env=env)
    assert checked.exit_code == 0 and "good.csv: 1 row(s)" in checked.output
    found = CliRunner().invoke(app, ["hs", "cas", "propose", "--name", "PVC", "--json"], env=env)
    assert found.exit_code == 0
    assert [c["dotted"] for c in json.loads(found.output)[0]["codes"]] == ["3904.10", "3904.21", "3904.22"]


def test_an_abbreviation_another_substance_shares_proposes_nothing_as_a_name(seed: ChemHsTable) -> None:
    # PCP is also pentachlorophenol, NPP 4-nitrophenyl phosphate, PPA polyphthalamide, PAA poly(acrylic
    # acid), IPA isophthalic acid, PA phthalic anhydride; benzol, toluol and xylol are products of 27.07.
    for name in ("PCP", "NPP", "PPA", "PAA", "IPA", "PA", "PE", "PP", "PS", "PC", "PU"):
        assert seed.propose(name=name) == [], name
    for name in ("benzol", "toluol", "xylol", "ether"):
        assert seed.propose(name=name) == [], name
    # A polymer class label still proposes its row, and a full name still does as a label.
    (polyamide,) = seed.propose(name="unknown", label="PA")
    assert polyamide.entry.name == "Polyamide" and polyamide.entry.labels == ("PA",)
    assert seed.propose(label="Polycarbonate")[0].entry.cas == "25037-45-0"
    assert seed.propose(name="Phencyclidine hydrochloride")[0].entry.cas == "77-10-1"


def test_a_label_on_two_rows_is_refused(texts: dict[str, str]) -> None:
    header = "cas,name,synonyms,labels,hs_code,source\n"
    twice = header + "9002-88-4,Polyethylene,,PE,3901.10,a\n9003-07-0,Polypropylene,,pe,3902.10,b\n"
    with pytest.raises(ChemHsError, match="line 3: label 'pe' is already on line 2"):
        parse_table(twice, texts)
    (pp,) = parse_table(header + "9003-07-0,Polypropylene,,PP,3902.10,b\n", texts)
    assert ChemHsTable([pp]).propose(label="pp")[0].entry.name == "Polypropylene"
    assert ChemHsTable([pp]).propose(name="PP") == []
