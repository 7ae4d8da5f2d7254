"""Rules that weigh a whole composition: copolymers, iron and steel, copper, precious-metal alloys."""

from __future__ import annotations

import pytest

from customslab.hs.evaluate import evaluate
from customslab.hs.nomenclature import HsError
from tests.unit.hs.rule_cases import CASE_FIELDS, status_and_codes

CASES = [
    # Chapter 39 Note 4: predominating unit; tie → last heading; "poly" needs 95 %
    ("3901.90", ["monomer.ethylene=50%", "monomer.propylene=50%"], "decided", ["390230"]),
    ("3902.30", ["monomer.ethylene=60%", "monomer.propylene=40%"], "decided", ["390130", "390140", "390190"]),
    (
        "3901.90",
        ["monomer.ethylene=40%", "monomer.propylene=35%", "monomer.butene=25%"],
        "decided",
        ["390230"],
    ),
    ("3901.90", ["monomer.ethylene=95%", "monomer.propylene=5%"], "decided", ["390110", "390120"]),
    (
        "3901.10",
        ["monomer.ethylene=94.9%", "monomer.vinyl_acetate=5.1%"],
        "decided",
        ["390130", "390140", "390190"],
    ),
    ("3901.10", ["monomer.ethylene=100%", "specific_gravity=0.952"], "decided", ["390120"]),
    (
        "3903.90",
        ["monomer.styrene=60%", "monomer.acrylonitrile=25%", "monomer.vinyl_chloride=15%"],
        "decided",
        ["390390"],
    ),
    ("3901.90", ["monomer.ethylene=50.5%±1", "monomer.propylene=49.5%±1"], "undecided", ["390190", "390230"]),
    # Chapter 72 Note 1
    ("7208.51", ["element.C=0.05%", "element.Cr=18.1%", "element.Ni=8.2%"], "decided", ["7219"]),
    (
        "7219.12",
        ["element.C=0.2%", "element.Mn=0.8%", "element.Cr=0.2%"],
        "decided",
        ["7208", "7209", "7210"],
    ),
    # Declared stainless, no chromium reported: the class stays open (Note 1(e)).
    (
        "7219.12",
        ["element.C=0.2%", "element.Mn=0.8%"],
        "undecided",
        ["721912", "7225", "7208", "7209", "7210"],
    ),
    ("7208.51", ["element.C=0.2%", "element.Mn=1.65%"], "decided", ["7225"]),
    ("7208.51", ["element.C=0.2%", "element.Mn=1.64%"], "decided", ["720851"]),
    ("7208.51", ["element.C=0.2%", "element.B=0.0008%"], "decided", ["7225"]),
    ("7208.51", ["element.C=0.2%", "element.B=8ppm"], "decided", ["7225"]),
    ("7214.20", ["element.C=0.3%", "element.Se=0.1%"], "decided", ["7228"]),
    ("7214.20", ["element.C=0.3%", "element.S=0.3%", "element.P=0.2%"], "decided", ["721420"]),
    ("7218.10", ["element.C=1.2%", "element.Cr=10.5%"], "decided", ["721810"]),
    ("7218.10", ["element.C=1.3%", "element.Cr=12%"], "decided", ["7224"]),
    ("7218.10", ["element.C=0.1%", "element.Cr=10.4%"], "decided", ["7224"]),
    # Non-alloy pig iron; its phosphorus (7201.10 / 7201.20) was not reported.
    # Pig iron; whether it is alloy pig iron needs the Subheading Note 1(a) elements reported.
    ("7206.10", ["element.C=4.2%", "element.Si=1.5%"], "undecided", ["720110", "720120", "720150"]),
    (
        "7206.10",
        ["element.C=4.2%", "element.Si=1.5%", "element.Cr=1.5%"],
        "decided",
        ["720150"],
    ),
    ("7206.10", ["element.C=2%"], "decided", ["720610"]),
    ("7202.41", ["element.C=6%", "element.Cr=60%", "element.Fe=33%"], "decided", ["720241"]),
    ("7201.10", ["element.C=4%", "element.Mn=75%"], "decided", ["7202"]),
    ("7208.51", ["element.C=0.2%", "element.Cr=0.3%±0.02"], "undecided", ["720851", "7225"]),
    # Chapter 74 Note 1
    ("7403.21", ["element.Cu=99.9%"], "decided", ["740311", "740312", "740313", "740319"]),
    ("7403.11", ["element.Cu=99.85%"], "decided", ["740311"]),
    # Copper alloys, then their family by Chapter 74 Subheading Note 1 (zinc predominates: brass).
    ("7403.11", ["element.Cu=98.0%", "element.Zn=1.8%"], "decided", ["740321"]),
    ("7403.11", ["element.Cu=98.5%", "element.Zn=1%", "element.Ag=0.25%"], "decided", ["740311"]),
    ("7403.11", ["element.Cu=97.4%", "element.Zn=0.5%"], "decided", ["740321"]),
    ("7408.11", ["element.Cu=99.8%", "element.Fe=0.31%"], "decided", ["740829"]),  # iron: other alloy
    # Copper does not predominate: not Chapter 74 (Note 1(b); Section XV, Note 5).
    ("7407.21", ["element.Cu=40%", "element.Zn=60%"], "decided", ["79"]),
    ("7403.11", ["element.Cu=45%", "element.Fe=55%"], "decided", ["72"]),
    (
        "7403.11",
        ["element.Cu=99.85%±0.05", "element.Fe=0.31%"],
        "undecided",
        ["740311", "740321", "740322", "740329"],
    ),
    # Chapter 71 Notes 4 and 5
    ("7106.91", ["element.Ag=92.5%", "element.Au=2.5%", "element.Cu=5%"], "decided", ["7108"]),
    ("7108.13", ["element.Au=75%", "element.Pd=1.5%", "element.Pt=0.5%"], "decided", ["7110"]),
    ("7108.13", ["element.Au=75%", "element.Pd=1.9%"], "decided", ["710813"]),
    ("7106.91", ["element.Ag=2%", "element.Cu=98%"], "decided", ["710691"]),
    ("7106.91", ["element.Ag=1.9%", "element.Cu=98.1%"], "decided", ["74"]),
    ("7403.29", ["element.Cu=97%", "element.Ag=3%"], "decided", ["7106"]),
    ("7106.91", ["element.Ag=2%±0.2", "element.Cu=98%"], "undecided", ["710691", "74"]),
]


@pytest.mark.parametrize(CASE_FIELDS, CASES)
def test_composition_rules_classify_by_the_legal_limits(
    declared: str, results: list[str], status: str, determined: list[str]
) -> None:
    assert status_and_codes(declared, results) == (status, sorted(determined))


def test_a_copolymer_tie_goes_to_the_heading_last_in_numerical_order() -> None:
    outcome = evaluate("3901.90", ["monomer.ethylene=50%", "monomer.propylene=50%"])
    assert outcome.determined == ["390230"]
    assert outcome.mismatch == "heading"


def test_an_unmapped_monomer_is_refused_rather_than_guessed() -> None:
    with pytest.raises(HsError, match="not mapped"):
        evaluate("3901.90", ["monomer.unobtainium=60%", "monomer.ethylene=40%"])
