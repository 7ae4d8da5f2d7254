"""The controlled substances register: the bundled UN lists, the CSV format's checks, and matching."""

from __future__ import annotations

import pytest

from customslab.substances.register import (
    Regime,
    RegisterError,
    bundled_register,
    cas_is_valid,
    normalise_name,
    parse_list,
)

HEADER = "name,synonyms,cas,inchikey,controls,salts,source,note\n"
NATIONAL = "name,synonyms,cas,controls,source\n"

#: Tables I and II of the 1988 Convention as in force since 3 December 2024 (INCB Red List), one name
#: of each row or group of rows.
TABLE_I = {
    "Acetic anhydride",
    "N-Acetylanthranilic acid",
    "alpha-Phenylacetoacetamide",
    "alpha-Phenylacetoacetonitrile",
    "4-Anilino-N-phenethylpiperidine",
    "N-Phenethyl-4-piperidone",
    "N-Phenylpiperidin-4-amine",
    "1-boc-4-AP",
    "Norfentanyl",
    "4-Piperidone",
    "1-boc-4-piperidone",
    "Ephedrine",
    "Ergometrine",
    "Ergotamine",
    "Isosafrole",
    "Lysergic acid",
    "Methyl alpha-phenylacetoacetate",
    "3,4-Methylenedioxyphenyl-2-propanone",
    "3,4-MDP-2-P methyl glycidate",
    "3,4-MDP-2-P methyl glycidic acid",
    "Norephedrine",
    "Phenylacetic acid",
    "1-Phenyl-2-propanone",
    "P-2-P methyl glycidic acid",
    "Piperonal",
    "Potassium permanganate",
    "Pseudoephedrine",
    "Safrole",
}
TABLE_II = {
    "Acetone",
    "Anthranilic acid",
    "Ethyl ether",
    "Hydrochloric acid",
    "Methyl ethyl ketone",
    "Piperidine",
    "Sulphuric acid",
    "Toluene",
}


def _table(schedule: str) -> set[str]:
    return {
        s.name
        for s in bundled_register().substances
        if any(c.regime is Regime.UN1988 and c.schedule == schedule for c in s.controls)
    }


def test_the_bundled_register_holds_both_tables_of_the_1988_convention_complete() -> None:
    table_i = _table("I")
    assert table_i >= TABLE_I
    # The 2024 groups: eight esters of P-2-P methyl glycidic acid, seven of 3,4-MDP-2-P methyl glycidic acid.
    assert sum(1 for n in table_i if n.startswith("P-2-P methyl glycidic acid, ")) == 8
    assert sum(1 for n in table_i if n.startswith("3,4-MDP-2-P methyl glycidic acid, ")) == 7
    assert table_i == TABLE_I | {n for n in table_i if ", " in n and "glycidic acid" in n}
    assert _table("II") == TABLE_II


def test_every_bundled_row_names_its_source_and_every_cas_number_validates() -> None:
    register = bundled_register()
    assert len(register) > 150
    for s in register.substances:
        assert s.controls and all(c.source for c in s.controls), s.name
        assert all(cas_is_valid(c) for c in s.cas), s.name


def test_the_substances_customs_laboratories_meet_most_are_under_their_convention() -> None:
    register = bundled_register()
    expected = {
        "cocaine": "UN 1961 Schedule I",
        "heroin": "UN 1961 Schedule IV",
        "codeine": "UN 1961 Schedule II",
        "fentanyl": "UN 1961 Schedule I",
        "methadone": "UN 1961 Schedule I",
        "cannabis resin": "UN 1961 Schedule I",
        "MDMA": "UN 1971 Schedule I",
        "LSD": "UN 1971 Schedule I",
        "psilocybin": "UN 1971 Schedule I",
        "amphetamine": "UN 1971 Schedule II",
        "methamphetamine": "UN 1971 Schedule II",
        "mephedrone": "UN 1971 Schedule II",
        "GHB": "UN 1971 Schedule II",
        "diazepam": "UN 1971 Schedule IV",
        "alprazolam": "UN 1971 Schedule IV",
        "phenobarbital": "UN 1971 Schedule IV",
        "ephedrine": "UN 1988 Table I",
        "toluene": "UN 1988 Table II",
    }
    for name, label in expected.items():
        assert label in {m.entry.label for m in register.controls_for(name)}, name
    # Not under the conventions: a national list covers them.
    for name in ("ketamine", "tramadol", "dextromethorphan", "caffeine"):
        assert register.controls_for(name) == (), name


def test_a_name_matches_whatever_its_case_spaces_hyphens_salt_or_derivatisation_tag() -> None:
    register = bundled_register()
    for written in (
        "COCAINE",
        "Cocaine hydrochloride",
        "(-)-Cocaine",
        "Cocaine, TMS derivative",
        "Anthranilic acid, 2TMS",
        "Anthranilic acid (2 TMS)",
        "Metham-phetamine HCl",
        "Δ9-THC",
        "d-Amphetamine sulfate",
    ):
        assert register.controls_for(written), written
    assert normalise_name("3,4-MDP-2-P") == normalise_name("3,4 MDP 2P")


def test_a_similar_name_a_shared_abbreviation_or_a_stereoisomer_key_is_not_a_match() -> None:
    register = bundled_register()
    for name in ("4-Hydroxyphenylacetic acid", "HydroxyButyric acid", "Pentachlorophenol", "PCP", "PMMA"):
        assert register.controls_for(name) == (), name
    # Dexamfetamine's full InChIKey is not amfetamine's: the first block alone decides nothing.
    assert register.controls_for("x", inchikey="KWTSXDURSIMDCE-QMMMGPOBSA-N") == ()
    assert (
        register.controls_for("x", inchikey="KWTSXDURSIMDCE-UHFFFAOYSA-N")[0].substance.name == "Amfetamine"
    )


def test_a_hit_is_found_by_cas_and_by_inchikey_and_a_contradicting_inchikey_wins() -> None:
    register = bundled_register()
    by_cas = register.controls_for("unknown", cas="98-84-0 118-92-3")
    assert [(m.substance.name, m.entry.label, m.matched_by) for m in by_cas] == [
        ("Anthranilic acid", "UN 1988 Table II", "cas")
    ]
    assert register.controls_for("", inchikey="ZPUCINDJVBIVPJ-LJISPDSOSA-N")[0].matched_by == "inchikey"
    # A MassBank record of phenyllactic acid carries phenylacetic acid's CAS number: its structure says no.
    assert register.controls_for("D-3-Phenyllactic acid", "103-82-2", "VOXXWSYKYCBWHO-MRVPVSSYSA-N") == ()
    assert register.controls_for("Phenylacetic acid", "103-82-2")


def test_a_national_list_gives_its_categories_under_its_name_and_reference() -> None:
    rows = parse_list(
        NATIONAL + 'Ketamine,"ketamine hydrochloride",6740-88-1,national:Psychotropic (Na),Act 2024\n',
        national=True,
        list_name="KR Narcotics Act",
        reference="Act No. 1",
    )
    combined = bundled_register().plus(rows)
    [match] = combined.controls_for("Ketamine HCl")
    assert match.entry.label == "KR Narcotics Act: Psychotropic (Na)"
    assert (match.entry.reference, match.entry.source) == ("Act No. 1", "Act 2024")


@pytest.mark.parametrize(
    ("rows", "line", "problem"),
    [
        (
            "Cocaine,,50-36-3,,UN1961:I,,Yellow List,\n",
            2,
            "'50-36-3' is not a CAS number with a correct check digit",
        ),
        ("Cocaine,,50-36-2,,UN1961:V,,Yellow List,\n", 2, "unknown schedule 'V' for UN1961 (I, II, III, IV)"),
        ("Cocaine,,,,UN1988:III,,Red List,\n", 2, "unknown table 'III' for UN1988 (I, II)"),
        ("Cocaine,,,,UN1962:I,,Yellow List,\n", 2, "'UN1962:I' is not a control entry"),
        (
            "Cocaine,,50-36-2,,UN1961:I,,Yellow List,\n"
            "Coca,,,,UN1961:I,,Yellow List,\n COCAINE ,,,,UN1961:I,,x,\n",
            4,
            "duplicate of line 2 (the same name 'COCAINE')",
        ),
        (
            "Cocaine,,50-36-2,,UN1961:I,,Yellow List,\nCrack,,50-36-2,,UN1961:I,,x,\n",
            3,
            "duplicate of line 2",
        ),
        ("Cocaine,,,,UN1961:I,,,\n", 2, "the source is empty"),
        ("Cocaine,,,,,,Yellow List,\n", 2, "no control entry"),
        ("Cocaine,,,NOT-A-KEY,UN1961:I,,Yellow List,\n", 2, "is not an InChIKey"),
    ],
)
def test_a_faulty_row_refuses_the_whole_list_naming_its_line(rows: str, line: int, problem: str) -> None:
    with pytest.raises(RegisterError) as caught:
        parse_list(HEADER + rows, origin="bad.csv")
    assert caught.value.line == line
    assert problem in str(caught.value)
    assert str(caught.value).startswith("bad.csv: line ") and str(caught.value).endswith(
        "Nothing was loaded."
    )


def test_comment_lines_keep_the_line_numbers_of_the_file() -> None:
    text = "# a list\n# of one row\n" + HEADER + "Cocaine,,50-36-3,,UN1961:I,,Yellow List,\n"
    with pytest.raises(RegisterError) as caught:
        parse_list(text)
    assert caught.value.line == 4


def test_a_missing_column_an_empty_file_and_un_entries_in_a_national_list_are_refused() -> None:
    with pytest.raises(RegisterError, match="line 1: missing column 'controls'"):
        parse_list("name,cas,source\nCocaine,50-36-2,x\n")
    with pytest.raises(RegisterError, match="line 1: the file is empty"):
        parse_list("")
    with pytest.raises(RegisterError, match="line 2: 'UN1961:I': a national list gives its own categories"):
        parse_list(NATIONAL + "Cocaine,,50-36-2,UN1961:I,x\n", national=True, list_name="L")
    with pytest.raises(
        RegisterError, match="line 2: 'national:A': a national entry belongs in a national list"
    ):
        parse_list(HEADER + "Cocaine,,50-36-2,,national:A,,x,\n")


def test_the_cas_check_digit_is_computed_from_the_other_digits() -> None:
    assert cas_is_valid("7732-18-5")  # water: (8*1 + 1*2 + 2*3 + 3*4 + 7*5 + 7*6) mod 10 = 5
    assert not cas_is_valid("7732-18-4")
    assert not cas_is_valid("7732185")


def test_a_salt_or_derivative_named_as_the_substance_is_found_whatever_its_own_inchikey() -> None:
    # A salt or a derivative has an InChIKey first block of its own: the structure never vetoes a name.
    register = bundled_register()
    for name, cas, inchikey, substance in (
        ("Cocaine hydrochloride", "53-21-4", "PIQVDUKEQYOJNR-VZXSFKIWSA-N", "Cocaine"),
        ("MDMA hydrochloride", "64057-70-1", "OAYTYYBMOVXAOQ-UHFFFAOYSA-N", "MDMA"),
        ("Methamphetamine hydrochloride", "51-57-0", "TWXDDNPPQUTEOV-FVGYRXGTSA-N", "Metamfetamine"),
        ("Morphine, 2TMS", "", "JMQJVXXCWCKXME-UHFFFAOYSA-N", "Morphine"),
    ):
        found = register.controls_for(name, cas=cas, inchikey=inchikey)
        assert {m.substance.name for m in found} == {substance}, name
    # Found by CAS alone, under another name and another skeleton: the CAS number is the library's error.
    assert register.controls_for("D-3-Phenyllactic acid", "103-82-2", "VOXXWSYKYCBWHO-MRVPVSSYSA-N") == ()
    # The same CAS number and InChIKey under the row's own name is the substance.
    assert register.controls_for("Phenylacetic acid", "103-82-2", "VOXXWSYKYCBWHO-MRVPVSSYSA-N")


def test_an_abbreviation_or_a_botanical_name_ordinary_goods_share_is_not_a_controlled_substance() -> None:
    register = bundled_register()
    # N-methyldiethanolamine, 3-(methylamino)propylamine, levopropoxyphene, hemp fibre and seed.
    for name in ("MDEA", "MAPA", "propoxyphene", "(-)-propoxyphene", "l-propoxyphene", "Cannabis sativa"):
        assert register.controls_for(name) == (), name
    assert register.controls_for("MDE")[0].substance.name == "N-Ethyl MDA"
    assert register.controls_for("Dextropropoxyphene hydrochloride")[0].substance.name == "Dextropropoxyphene"
    assert register.controls_for("marijuana")[0].substance.name == "Cannabis"


def test_a_stereodescriptor_that_contradicts_the_rows_own_is_not_a_match() -> None:
    register = bundled_register()
    # Cathine is (+)-norpseudoephedrine; its enantiomer is not under the 1971 Convention.
    for name in ("l-norpseudoephedrine", "(-)-norpseudoephedrine", "(−)-Norpseudoephedrine"):
        assert register.controls_for(name) == (), name
    for name in (
        "norpseudoephedrine",
        "d-norpseudoephedrine",
        "(±)-norpseudoephedrine",
        "(S)-norpseudoephedrine",
    ):
        assert register.controls_for(name)[0].substance.name == "Cathine", name
    # A row that gives no stereodescriptor for the name takes either.
    assert register.controls_for("(+)-cocaine")[0].substance.name == "Cocaine"


def test_dashes_salt_words_and_tags_are_read_as_a_chemist_writes_them() -> None:
    assert normalise_name("(−)-Cocaine") == normalise_name("(–)-cocaine") == "cocaine"
    assert normalise_name("Metham—phetamine") == "methamphetamine"
    for written in (
        "Cocaine.HCl",
        "Cocaine (hydrochloride)",
        "Cocaine acetate",
        "Cocaine succinate",
        "Cocaine napsylate",
        "Cocaine sodium salt",
    ):
        assert normalise_name(written) == "cocaine", written
    # An ester's name is not a salt's: "ethyl acetate" keeps its acetate.
    assert normalise_name("Ethyl acetate") == "ethylacetate"
    # A derivatisation tag needs a separator or a bracket before it.
    assert normalise_name("Atomox") == "atomox"
    assert normalise_name("Cocaine-TFA") == normalise_name("Cocaine (MOX)") == "cocaine"
