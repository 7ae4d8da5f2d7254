"""Named measurement quantities, their units (pint) and the `NAME=VALUE[UNIT][±U]` notation.

Every result is converted on entry to the quantity's default unit, so rules compare like with like:
``element.Cr=120 g/kg`` becomes 12 %, ``calorific_value=24.4 MJ/kg`` becomes 5,828 kcal/kg.

Kinds of quantity and why they are kept apart:
* mass fraction (%, g/kg, mg/kg, ppm, g/100 g) and volume fraction (% vol) get different pint
  dimensions, so a mass fraction can never be mistaken for an alcoholic strength;
* sugar polarisation is in degrees of the International Sugar Scale (°Z), not an angle;
* "kcal" means the International Table kilocalorie (4.1868 kJ): the 5,833 kcal/kg limit of
  subheading note 2 to Chapter 27 is 10,500 Btu/lb (ASTM D388), and Btu is International Table too.

Units are also checked where they are entered, with the same registry: a sample's quantity is a mass,
a volume or a count (`sample_unit`, `COUNT_WORDS`); a result's unit is one pint reads, a conventional
laboratory scale (`LAB_SCALES`) or "1", and has the named quantity's dimension (`check_result_unit`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pint
from pint.util import to_units_container

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
    ("%", "percent"),
)
# A lone degree sign is a polarimeter reading; °C, °F and the like keep their pint meaning.
_LONE_DEGREE = re.compile(r"°(?![A-Za-z])")


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


def _pint_text(unit: str) -> str:
    """The laboratory's spelling of a unit rewritten in words pint knows."""
    text = unit.strip()
    for alias, replacement in _ALIASES:
        text = text.replace(alias, f" {replacement} ")
    text = _LONE_DEGREE.sub(" degree_Z ", text)
    text = re.sub(r"\bkcal\b", "kcal_it", text)
    text = re.sub(r"\bcal\b", "cal_it", text)
    return text.strip()


def _to_canonical(value: float, unit: str, spec: QuantitySpec) -> float:
    kind = KINDS[spec.kind]
    text = unit.strip()
    if spec.kind == "volume_fraction" and text == "%":
        text = "%vol"  # a bare % on a volume quantity can only mean % vol
    if spec.kind == "dimensionless" and text in DIMENSIONLESS:
        text = ""
    if spec.kind == "polarisation" and text == "deg":
        text = "°Z"  # pint's "deg" is an angle; on a polarimeter it is the sugar scale
    if not text:
        if spec.kind in ("dimensionless", "polarisation"):
            return value
        raise QuantityError(f"{spec.name}: give a unit, e.g. {value:g}{kind.label}")
    ureg = unit_registry()
    try:
        quantity = ureg.Quantity(value, ureg.parse_units(_pint_text(text)))
        return float(quantity.to(kind.pint_unit).magnitude)
    except (pint.errors.PintError, AttributeError, TypeError, ValueError, AssertionError):
        accepted = ", ".join(repr(u) for u in kind.units)
        raise QuantityError(f"{spec.name}: unit {unit.strip()!r} is not accepted; use {accepted}") from None


# -- units given on entry: a sample's quantity, a result ------------------------------------------
#: How a dimensionless result's unit is written ("1" as SI writes it; "-" in some worksheets).
DIMENSIONLESS = frozenset({"1", "-"})

#: Conventional laboratory scales pint has no unit for, accepted as written for a result that is not
#: one of the named quantities above.
LAB_SCALES: dict[str, str] = {
    "EBC": "EBC colour units (beer, malt)",
    "ICUMSA": "ICUMSA colour units (sugar)",
    "IU": "ICUMSA units (sugar colour)",
    "pH": "pH",
    "°Bx": "degrees Brix (soluble solids)",
    "NTU": "nephelometric turbidity units",
}

#: What a sample may be counted in besides a mass or a volume: pieces, and the containers goods are
#: sampled in. Singular or plural, in any case ("Bottles", "pcs").
COUNT_WORDS = frozenset(
    {
        "piece",
        "pieces",
        "pc",
        "pcs",
        "item",
        "items",
        "unit",
        "units",
        "count",
        "bottle",
        "bottles",
        "can",
        "cans",
        "jar",
        "jars",
        "bag",
        "bags",
        "sachet",
        "sachets",
        "packet",
        "packets",
        "package",
        "packages",
        "box",
        "boxes",
        "carton",
        "cartons",
        "vial",
        "vials",
        "ampoule",
        "ampoules",
        "tablet",
        "tablets",
        "capsule",
        "capsules",
        "blister",
        "blisters",
        "roll",
        "rolls",
        "sheet",
        "sheets",
        "pair",
        "pairs",
        "set",
        "sets",
    }
)

#: No measurement unit raises a base unit to a higher power than this (m⁻³, W/(m²·K), m⁴ at most).
MAX_EXPONENT = 4

#: UN/ECE Recommendation 20 codes that declarations give quantities in, as pint or COUNT_WORDS reads them.
REC20_CODES: dict[str, str] = {
    "KGM": "kg",
    "GRM": "g",
    "MGM": "mg",
    "TNE": "t",
    "LTR": "L",
    "MLT": "mL",
    "MTQ": "m**3",
    "CMQ": "cm**3",
    "H87": "piece",
    "PCE": "piece",
    "NAR": "items",
    "C62": "unit",
    "EA": "unit",
}


def parse_unit(unit: str) -> pint.Unit:
    """A unit written as laboratories write it (%, % m/m, %vol, mg/kg, °Z...), read by pint.

    Raises QuantityError, in words, for what is not a unit: an unknown word, a number, a power beyond
    MAX_EXPONENT (parsec^-7).
    """
    text = unit.strip()
    if not text:
        raise QuantityError("give a unit")
    try:
        ureg = unit_registry()
        parsed = ureg.parse_units(_pint_text(text))
        powers = [complex(p) for p in to_units_container(parsed, ureg).values()]
    except Exception:  # pint's parser raises a dozen kinds (tokenizer, syntax, definitions)
        raise QuantityError(f"'{text}' is not a unit") from None
    if any(p.imag or not math.isfinite(p.real) or abs(p.real) > MAX_EXPONENT for p in powers):
        raise QuantityError(f"'{text}' is not a unit (no unit has a power beyond {MAX_EXPONENT})")
    return parsed


#: The dimensions of a sample's quantity besides a count, with the largest unit a sample is measured
#: in: a tonne, a cubic metre ("ML", a megalitre to pint, is someone's millilitres).
_SAMPLE_DIMENSIONS = {"[mass]": (1, "t"), "[length]": (3, "m**3")}


def _mass_or_volume(spelling: str) -> tuple[pint.Unit, str] | None:
    """The unit and the largest sample unit of its dimension, if `spelling` is a mass or a volume."""
    try:
        parsed = parse_unit(spelling)
    except QuantityError:
        return None
    dimension = dict(parsed.dimensionality)
    for base, (power, largest) in _SAMPLE_DIMENSIONS.items():
        if dimension == {base: power}:
            return parsed, largest
    return None


def sample_unit(unit: str) -> str:
    """The unit of a sample's quantity as written, once known to be a mass, a volume or a count.

    A mass or a volume is any unit pint reads as one (g, kg, lb, mL, L, cm³, gal), up to a tonne or a
    cubic metre, in lower case when pint reads it otherwise as written (KG, G); a count is one of
    COUNT_WORDS; declarations' UN/ECE Recommendation 20 codes (KGM, LTR, H87...) are read as what they
    stand for.
    """
    text = unit.strip()
    meant = REC20_CODES.get(text.upper(), text)
    if meant.lower() in COUNT_WORDS:
        return text
    found = _mass_or_volume(meant) or _mass_or_volume(meant.lower())
    if found is None:
        raise QuantityError(
            f"'{text}' is not a unit of mass, volume or count: give g, kg, mL, L, or pieces "
            "(bottles, cans, bags, packets and other containers are counted too)."
        )
    parsed, largest = found
    if unit_registry().Quantity(1, parsed).to(largest).magnitude > 1:
        hint = "; for millilitres write mL" if text.lower() == "ml" else ""
        raise QuantityError(
            f"'{text}' is larger than any unit a sample is measured in (a tonne, a cubic metre){hint}."
        )
    return text


def _named(name: str) -> QuantitySpec | None:
    try:
        return spec_for(name.strip())
    except QuantityError:
        return None


def check_result_unit(unit: str, name: str = "") -> str:
    """The unit of a result as written, once pint reads it and, when `name` is a named quantity
    (alcohol_strength, element.Cr...), once it has that quantity's dimension."""
    text = unit.strip()
    spec = _named(name)
    if spec is not None:
        try:
            _to_canonical(1.0, text, spec)
        except QuantityError:
            accepted = ", ".join(u for u in KINDS[spec.kind].units if u) or "1"
            raise QuantityError(
                f"'{text}' is not a unit of {spec.meaning} ({spec.name}): use {accepted}."
            ) from None
        return text
    if text in DIMENSIONLESS or text in LAB_SCALES:
        return text
    try:
        parse_unit(text)
    except QuantityError as exc:
        scales = ", ".join(LAB_SCALES)
        raise QuantityError(
            f"{exc}; give a unit such as %, mg/kg, g/L or °C, 1 for a ratio, or a laboratory scale "
            f"({scales})."
        ) from None
    return text


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
