"""Named measurement quantities, their units (pint) and the `NAME=VALUE[UNIT][±U]` notation.

Every result is converted on entry to the quantity's default unit, so rules compare like with like:
``element.Cr=120 g/kg`` becomes 12 %, ``calorific_value=24.4 MJ/kg`` becomes 5,828 kcal/kg.

Kinds of quantity and why they are kept apart:
* mass fraction (%, g/kg, mg/kg, ppm, g/100 g) and volume fraction (% vol) get different pint
  dimensions, so a mass fraction can never be mistaken for an alcoholic strength;
* sugar polarisation is in degrees of the International Sugar Scale (°Z), not an angle;
* "kcal" means the International Table kilocalorie (4.1868 kJ): the 5,833 kcal/kg limit of
  subheading note 2 to Chapter 27 is 10,500 Btu/lb (ASTM D388), and Btu is International Table too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pint

from customslab.hs.nomenclature import HsError


class QuantityError(HsError):
    """A result that cannot be read: unknown quantity, wrong unit, impossible value."""


@dataclass(frozen=True, slots=True)
class QuantityKind:
    pint_unit: str  # canonical unit in the registry
    label: str  # how we print it
    units: tuple[str, ...]  # what users may type (besides anything pint converts)
    maximum: float | None  # physical upper bound in the canonical unit


_MASS = QuantityKind("percent", "%", ("%", "% m/m", "g/kg", "mg/kg", "g/100 g", "ppm"), 100.0)
_VOLUME = QuantityKind("percent_by_volume", "%vol", ("%vol", "% vol", "vol%", "%v/v"), 100.0)
KINDS: dict[str, QuantityKind] = {
    "mass_fraction": _MASS,
    "volume_fraction": _VOLUME,
    "polarisation": QuantityKind("degree_Z", "°Z", ("°", "°Z", "°S", "deg"), 100.0),
    "pressure": QuantityKind("bar", "bar", ("bar", "kPa", "MPa", "atm", "psi"), None),
    "specific_energy": QuantityKind("kcal_it/kg", "kcal/kg", ("kcal/kg", "MJ/kg", "kJ/kg", "J/g"), None),
    "dimensionless": QuantityKind("dimensionless", "", ("",), None),
}


@dataclass(frozen=True, slots=True)
class QuantitySpec:
    name: str
    kind: str
    meaning: str

    @property
    def unit(self) -> str:
        return KINDS[self.kind].label


QUANTITIES: dict[str, QuantitySpec] = {
    spec.name: spec
    for spec in (
        QuantitySpec("alcohol_strength", "volume_fraction", "alcoholic strength by volume at 20 °C"),
        QuantitySpec("excess_pressure", "pressure", "excess pressure at 20 °C in closed container"),
        QuantitySpec("polarisation", "polarisation", "polarimeter reading of sucrose, dry state"),
        QuantitySpec("cocoa_defatted", "mass_fraction", "cocoa, totally defatted basis"),
        QuantitySpec("theobromine", "mass_fraction", "theobromine (to estimate cocoa)"),
        QuantitySpec("caffeine", "mass_fraction", "caffeine (to estimate cocoa)"),
        QuantitySpec("meat_fish_content", "mass_fraction", "meat, offal, blood, insects, fish etc."),
        QuantitySpec("volatile_matter", "mass_fraction", "volatile matter, dry mineral-matter-free"),
        QuantitySpec(
            "calorific_value", "specific_energy", "gross calorific value, moist mineral-matter-free"
        ),
        QuantitySpec("distilled_210", "volume_fraction", "volume distilled at 210 °C (ISO 3405)"),
        QuantitySpec("distilled_300", "volume_fraction", "volume distilled at 300 °C at 1,013 mbar"),
        QuantitySpec(
            "petroleum_oil_content", "mass_fraction", "petroleum oils or oils of bituminous minerals"
        ),
        QuantitySpec("specific_gravity", "dimensionless", "specific gravity (relative density)"),
        QuantitySpec("erucic_acid", "mass_fraction", "erucic acid, % of total fatty acids"),
    )
}
# Families: any monomer name, any chemical element symbol.
FAMILIES = {"monomer": "monomer unit in the polymer", "element": "element content"}

ELEMENTS = frozenset(
    [
        "H",
        "He",
        "Li",
        "Be",
        "B",
        "C",
        "N",
        "O",
        "F",
        "Ne",
        "Na",
        "Mg",
        "Al",
        "Si",
        "P",
        "S",
        "Cl",
        "Ar",
        "K",
        "Ca",
        "Sc",
        "Ti",
        "V",
        "Cr",
        "Mn",
        "Fe",
        "Co",
        "Ni",
        "Cu",
        "Zn",
        "Ga",
        "Ge",
        "As",
        "Se",
        "Br",
        "Kr",
        "Rb",
        "Sr",
        "Y",
        "Zr",
        "Nb",
        "Mo",
        "Tc",
        "Ru",
        "Rh",
        "Pd",
        "Ag",
        "Cd",
        "In",
        "Sn",
        "Sb",
        "Te",
        "I",
        "Xe",
        "Cs",
        "Ba",
        "La",
        "Ce",
        "Pr",
        "Nd",
        "Pm",
        "Sm",
        "Eu",
        "Gd",
        "Tb",
        "Dy",
        "Ho",
        "Er",
        "Tm",
        "Yb",
        "Lu",
        "Hf",
        "Ta",
        "W",
        "Re",
        "Os",
        "Ir",
        "Pt",
        "Au",
        "Hg",
        "Tl",
        "Pb",
        "Bi",
        "Po",
        "At",
        "Rn",
        "Fr",
        "Ra",
        "Ac",
        "Th",
        "Pa",
        "U",
        "Np",
        "Pu",
        "Am",
        "Cm",
        "Bk",
        "Cf",
        "Es",
        "Fm",
        "Md",
        "No",
        "Lr",
        "Rf",
        "Db",
        "Sg",
        "Bh",
        "Hs",
        "Mt",
        "Ds",
        "Rg",
        "Cn",
        "Nh",
        "Fl",
        "Mc",
        "Lv",
        "Ts",
        "Og",
    ]
)

# Spellings pint does not know, rewritten before parsing (longest first, so "%vol" wins over "%").
_ALIASES: tuple[tuple[str, str], ...] = (
    ("% by mass", "percent"),
    ("% vol", "percent_by_volume"),
    ("%vol", "percent_by_volume"),
    ("vol%", "percent_by_volume"),
    ("vol.%", "percent_by_volume"),
    ("%v/v", "percent_by_volume"),
    ("% v/v", "percent_by_volume"),
    ("% m/m", "percent"),
    ("%m/m", "percent"),
    ("%w/w", "percent"),
    ("wt%", "percent"),
    ("g/100 g", "g/hg"),
    ("g/100g", "g/hg"),
    ("°Z", "degree_Z"),
    ("°S", "degree_Z"),
    ("°", "degree_Z"),
    ("%", "percent"),
)


@lru_cache(maxsize=1)
def unit_registry() -> pint.UnitRegistry:
    """Built on first use, never at import."""
    ureg: pint.UnitRegistry = pint.UnitRegistry()
    ureg.define("fraction_by_volume = [volume_fraction]")
    ureg.define("percent_by_volume = 0.01 * fraction_by_volume")
    ureg.define("degree_Z = [sugar_polarisation]")
    return ureg


def spec_for(name: str) -> QuantitySpec:
    """The specification of a quantity name, including `monomer.<name>` and `element.<symbol>`."""
    if name in QUANTITIES:
        return QUANTITIES[name]
    family, _, member = name.partition(".")
    if family == "element" and member:
        if member not in ELEMENTS:
            raise QuantityError(f"{name}: {member!r} is not a chemical element symbol (e.g. element.Cr)")
        return QuantitySpec(name, "mass_fraction", f"{member} content")
    if family == "monomer" and re.fullmatch(r"[a-z][a-z0-9_]*", member or ""):
        return QuantitySpec(name, "mass_fraction", f"{member.replace('_', ' ')} monomer units")
    known = ", ".join([*QUANTITIES, "monomer.<name>", "element.<symbol>"])
    raise QuantityError(f"unknown quantity {name!r}; known: {known}")


def _to_canonical(value: float, unit: str, spec: QuantitySpec) -> float:
    kind = KINDS[spec.kind]
    text = unit.strip()
    if spec.kind == "volume_fraction" and text == "%":
        text = "%vol"  # a bare % on a volume quantity can only mean % vol
    if not text:
        if spec.kind in ("dimensionless", "polarisation"):
            return value
        raise QuantityError(f"{spec.name}: give a unit, e.g. {value:g}{kind.label}")
    for alias, replacement in _ALIASES:
        text = text.replace(alias, f" {replacement} ")
    text = re.sub(r"\bkcal\b", "kcal_it", text)
    text = re.sub(r"\bcal\b", "cal_it", text)
    ureg = unit_registry()
    try:
        quantity = ureg.Quantity(value, ureg.parse_units(text.strip()))
        return float(quantity.to(kind.pint_unit).magnitude)
    except (pint.errors.PintError, AttributeError, TypeError, ValueError, AssertionError):
        accepted = ", ".join(repr(u) for u in kind.units)
        raise QuantityError(f"{spec.name}: unit {unit.strip()!r} is not accepted; use {accepted}") from None


@dataclass(frozen=True, slots=True)
class Measurement:
    """A result in the quantity's default unit. `expanded_uncertainty` is U (k = 2), same unit."""

    name: str
    value: float
    unit: str
    expanded_uncertainty: float | None = None
    reported: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 10),
            "unit": self.unit,
            "expanded_uncertainty": self.expanded_uncertainty,
            "reported": self.reported,
        }


def make_measurement(
    name: str, value: float, unit: str = "", expanded_uncertainty: float | None = None
) -> Measurement:
    """Build a Measurement from a stored result (value and U in `unit`), converting to the default unit."""
    spec = spec_for(name.strip())
    if not math.isfinite(value):
        raise QuantityError(f"{spec.name}: value must be a finite number")
    if value < 0:
        raise QuantityError(f"{spec.name}: value {value:g} must not be negative")
    canonical = _to_canonical(float(value), unit, spec)
    uncertainty = None
    if expanded_uncertainty is not None:
        if not math.isfinite(expanded_uncertainty) or expanded_uncertainty < 0:
            raise QuantityError(f"{spec.name}: expanded uncertainty must be zero or positive")
        # U converts by the same factor (no offset units here).
        uncertainty = abs(_to_canonical(float(expanded_uncertainty), unit, spec))
    maximum = KINDS[spec.kind].maximum
    if maximum is not None and canonical > maximum + 1e-9:
        raise QuantityError(f"{spec.name}: {canonical:g} {spec.unit} exceeds the possible {maximum:g}")
    reported = f"{value:g}{unit.strip()}" + (f"±{expanded_uncertainty:g}" if expanded_uncertainty else "")
    # Rounding removes float noise from unit conversion (20 g/kg must be exactly 2 %, not 2.0000000001).
    canonical = round(canonical, 9)
    uncertainty = None if uncertainty is None else round(uncertainty, 9)
    return Measurement(spec.name, canonical, spec.unit, uncertainty, reported)


_NUMBER = r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_RESULT = re.compile(
    rf"^\s*(?P<name>[A-Za-z][\w.]*)\s*=\s*(?P<value>{_NUMBER})\s*(?P<unit>[^±+]*?)\s*"
    rf"(?:(?:±|\+/-|\+-)\s*(?P<u>{_NUMBER})\s*(?P<uunit>.*?))?\s*$"
)


def parse_result(text: str) -> Measurement:
    """Parse `NAME=VALUE[UNIT][±U]`, e.g. `alcohol_strength=80.2%vol±0.4` or `element.Cr=12±0.2%`."""
    if "," in text:
        raise QuantityError(f"{text!r}: write decimals with a dot and no thousands separator")
    match = _RESULT.match(text)
    if not match:
        raise QuantityError(f"{text!r} is not NAME=VALUE[UNIT][±U], e.g. alcohol_strength=80.2%vol±0.4")
    unit = match["unit"] or ""
    u_unit = (match["uunit"] or "").strip()
    if u_unit and unit and u_unit != unit:
        raise QuantityError(f"{text!r}: give the uncertainty in the same unit as the value")
    unit = unit or u_unit
    uncertainty = float(match["u"]) if match["u"] is not None else None
    return make_measurement(match["name"], float(match["value"]), unit, uncertainty)
