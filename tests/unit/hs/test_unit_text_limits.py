"""A unit's text is refused before pint reads it when pint would take minutes over it (a chain of
powers, a power of three digits, a text longer than any unit), wherever a unit is given: hand entry, an
import's unit cell, a mapping's unit and unit aliases."""

from __future__ import annotations

import pytest

from customslab.domain.errors import ValidationFailed
from customslab.domain.instrument_mapping import ColumnMapping
from customslab.hs.quantities import QuantityError, check_result_unit, parse_result, parse_unit
from customslab.services.contract import parse
from customslab.services.instrument_mappings import MappingSave
from customslab.services.result_entry import ResultCreate
from customslab.services.result_import_files import FileRefused, read_table
from customslab.services.result_import_rows import extract
from tests.result_import_support import ICPMS, mapping_body

HOSTILE = [
    "m**9**9**9",
    "m^9^9^9",
    "m ** 9 ** 9",
    "m**(9**9**9)",
    "((9**99)**99)**99",
    "m**999",
    "m⁹⁹⁹",
    "m" * 41,
]


@pytest.mark.parametrize("unit", HOSTILE)
def test_a_unit_pint_would_take_minutes_over_is_refused_naming_it(unit: str) -> None:
    with pytest.raises(QuantityError, match="is not a unit") as refused:
        parse_unit(unit)
    assert unit[:40] in str(refused.value)


@pytest.mark.parametrize("unit", HOSTILE)
def test_a_results_unit_of_a_named_quantity_is_refused_the_same_way(unit: str) -> None:
    with pytest.raises(QuantityError, match="is not a unit"):
        check_result_unit(unit, "element.Pb")
    with pytest.raises(QuantityError):
        parse_result(f"element.Pb=1{unit}")


@pytest.mark.parametrize(
    "unit", ["mg/kg", "m**2", "m^-3", "W/(m^2·K)", "m⁻³", "m²", "% m/m", "kg·m^-3", "m**(1.5)", "(m**2)/s"]
)
def test_the_units_laboratories_write_with_powers_are_still_read(unit: str) -> None:
    assert check_result_unit(unit) == unit


def test_hand_entry_refuses_a_chain_of_powers_as_the_units_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(ResultCreate, {"name": "moisture", "kind": "quantity", "value": "1", "unit": "m**9**9**9"})
    assert [e.field for e in refused.value.errors] == ["unit"]
    assert "m**9**9**9" in refused.value.message


def test_a_mapping_refuses_a_chain_of_powers_as_its_unit_or_a_unit_alias() -> None:
    with pytest.raises(ValidationFailed):
        parse(MappingSave, mapping_body(ICPMS, unit="m**9**9**9"))
    with pytest.raises(ValidationFailed):
        parse(MappingSave, mapping_body(ICPMS, unit_aliases={"ppb": "m**9**9**9"}))


def test_an_import_whose_unit_cell_is_a_chain_of_powers_is_refused_as_a_whole() -> None:
    mapping = ColumnMapping(
        sample_column="Sample", analyte_column="Analyte", value_column="Value", unit_column="Unit"
    )
    csv = b"Sample,Analyte,Value,Unit\nKCS-1,208 Pb,1.5,m**9**9**9\n"
    with pytest.raises(FileRefused, match=r"m\*\*9\*\*9\*\*9"):
        extract(read_table("x.csv", csv, mapping), mapping)
