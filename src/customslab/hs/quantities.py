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
from importlib import resources
from typing import Any

import pint
import yaml
from pint.util import string_preprocessor, to_units_container

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
    # A share that is not a mass or volume fraction (degree of gelatinisation, fibre share of a blend).
    "percent": QuantityKind("percent", "%", ("%",), 100.0),
    # A percentage that may exceed 100 (elongation at break).
    "elongation": QuantityKind("percent", "%", ("%",), None),
    "specific_surface": QuantityKind("m**2/g", "m²/g", ("m²/g", "m2/g", "m^2/g"), None),
    "areal_density": QuantityKind("g/m**2", "g/m²", ("g/m²", "g/m2", "gsm", "kg/m²"), None),
    "mass_ratio": QuantityKind("mg/g", "mg/g", ("mg/g", "g/kg"), None),
    "dose": QuantityKind("mg", "mg", ("mg", "g", "µg", "ug"), None),
    # Surface tension (Chapter 34 Note 3: 4.5 × 10⁻² N/m = 45 dyn/cm = 45 mN/m).
    "surface_tension": QuantityKind("mN/m", "mN/m", ("mN/m", "N/m", "dyn/cm"), None),
    # Detected (1) or not detected (0): a qualitative result a rule reads as evidence.
    "presence": QuantityKind("dimensionless", "", ("detected", "not_detected"), 1.0),
}
#: The words a presence result is written with, and what each states.
PRESENCE_WORDS = {
    "detected": 1.0,
    "present": 1.0,
    "positive": 1.0,
    "yes": 1.0,
    "not_detected": 0.0,
    "absent": 0.0,
    "negative": 0.0,
    "no": 0.0,
    "검출": 1.0,
    "양성": 1.0,
    "불검출": 0.0,
    "음성": 0.0,
}


@dataclass(frozen=True, slots=True)
class QuantitySpec:
    name: str
    kind: str
    meaning: str
    label: str = ""  # English label (result entry, pages, reports)
    label_ko: str = ""  # Korean label
    aliases: tuple[str, ...] = ()  # other names analysts write for it

    @property
    def unit(self) -> str:
        return KINDS[self.kind].label


def _load_quantities() -> dict[str, QuantitySpec]:
    """Every named quantity of `rules/quantities/*.yaml` (package data), in file then file order."""
    folder = resources.files("customslab.hs").joinpath("rules/quantities")
    out: dict[str, QuantitySpec] = {}
    spellings: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        for name, raw in (data.get("quantities") or {}).items():
            spec = _quantity(str(name), raw, entry.name)
            if spec.name in out:
                raise QuantityError(f"{entry.name}: quantity {spec.name} is defined twice")
            for spelling in (spec.name, spec.label, spec.label_ko, *spec.aliases):
                folded = fold(spelling)
                if folded in spellings and spellings[folded] != spec.name:
                    raise QuantityError(
                        f"{entry.name}: {spelling!r} names both {spellings[folded]} and {spec.name}"
                    )
                spellings[folded] = spec.name
            out[spec.name] = spec
    return out


def _quantity(name: str, raw: Any, where: str) -> QuantitySpec:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or not isinstance(raw, dict):
        raise QuantityError(f"{where}: {name!r} must be a lower-case key mapping kind, meaning, label")
    kind = str(raw.get("kind", ""))
    if kind not in KINDS:
        raise QuantityError(f"{where}: {name} has kind {kind!r}; known: {', '.join(KINDS)}")
    missing = [k for k in ("meaning", "label", "label_ko") if not str(raw.get(k) or "").strip()]
    if missing:
        raise QuantityError(f"{where}: {name} needs {', '.join(missing)}")
    return QuantitySpec(
        name,
        kind,
        " ".join(str(raw["meaning"]).split()),
        label=str(raw["label"]).strip(),
        label_ko=str(raw["label_ko"]).strip(),
        aliases=tuple(str(a).strip() for a in raw.get("aliases") or []),
    )


def fold(text: str) -> str:
    """A name as compared: case and spacing ignored ("Alcoholic  strength" = "alcoholic strength")."""
    return " ".join(str(text).casefold().split())


QUANTITIES: dict[str, QuantitySpec] = _load_quantities()
#: Every label and alias of a named quantity (folded) → its key.
_SPELLINGS = {
    fold(spelling): key
    for key, spec in QUANTITIES.items()
    for spelling in (spec.label, spec.label_ko, *spec.aliases)
}
# Families: any monomer name, any chemical element symbol, any textile fibre name.
FAMILIES = {
    "monomer": "monomer unit in the polymer",
    "element": "element content",
    "fibre": "textile fibre share of the blend",
}

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
    ("m²", "m**2"),
    ("m^2", "m**2"),
    ("m2", "m**2"),
    ("gsm", "g/m**2"),
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
    """The specification of a quantity name, including `monomer.<name>`, `element.<symbol>` and
    `fibre.<name>`; a label or an alias of a named quantity ("ABV", "Polarization") names that quantity."""
    if name in QUANTITIES:
        return QUANTITIES[name]
    if fold(name) in _SPELLINGS:
        return QUANTITIES[_SPELLINGS[fold(name)]]
    family, _, member = name.partition(".")
    if family == "element" and member:
        if member not in ELEMENTS:
            raise QuantityError(f"{name}: {member!r} is not a chemical element symbol (e.g. element.Cr)")
        return QuantitySpec(name, "mass_fraction", f"{member} content")
    if family == "monomer" and re.fullmatch(r"[a-z][a-z0-9_]*", member or ""):
        return QuantitySpec(name, "mass_fraction", f"{member.replace('_', ' ')} monomer units")
    if family == "fibre" and re.fullmatch(r"[a-z][a-z0-9_]*", member or ""):
        return QuantitySpec(name, "mass_fraction", f"{member.replace('_', ' ')} share of the fibre blend")
    known = ", ".join([*QUANTITIES, "monomer.<name>", "element.<symbol>", "fibre.<name>"])
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
    if spec.kind == "presence":
        if text not in ("", *DIMENSIONLESS) or value not in (0.0, 1.0):
            raise QuantityError(
                f"{spec.name}: write detected or not_detected (or 1 / 0), not {value:g}{text}"
            )
        return value
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
    refuse_costly_unit(text)
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


#: No unit is written in more characters than this (the column holding a result's unit is this wide).
MAX_UNIT_CHARS = 40
#: A power operator, as written or as pint's preprocessor writes superscripts (m³ is m**(3)).
_POWER = re.compile(r"\*\*|\^")
#: What may follow a power operator: a number, signed, in parentheses or not (m**2, m^-3, m**(1.5)).
_EXPONENT = re.compile(r"\s*(\()?\s*[-+]?\s*(\d+(?:\.\d+)?)\s*(?(1)\))")


def _costly(text: str) -> str:
    """Why pint must not read `text`, or "": pint evaluates the powers of a unit before anything checks
    them, so m**9**9**9 (a chain of powers), m**(999) or a very long text would keep a process busy
    for minutes. Only what no laboratory writes is refused: one power a factor, two digits at most."""
    if len(text) > MAX_UNIT_CHARS:
        return f"no unit is longer than {MAX_UNIT_CHARS} characters"
    read = string_preprocessor(_pint_text(text))
    for power in _POWER.finditer(read):
        exponent = _EXPONENT.match(read, power.end())
        if exponent is None:
            return "a power must be a number"
        if sum(c.isdigit() for c in exponent.group(2)) > 2:
            return "no power has more than two digits"
        if _POWER.match(read[exponent.end() :].lstrip()):
            return "a power cannot be raised to a power"
        before = read[: power.start()].rstrip()
        if before.endswith(")") and _POWER.search(_group_before(before)):
            return "a power cannot be raised to a power"
    return ""


def _group_before(text: str) -> str:
    """The parenthesised group `text` ends with (all of `text` when its parentheses do not balance)."""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            return text[i:]
    return text


def refuse_costly_unit(unit: str) -> None:
    """QuantityError, naming the unit, for a text pint must not be given to read (`_costly`)."""
    why = _costly(unit.strip())
    if why:
        raise QuantityError(f"'{unit.strip()[:MAX_UNIT_CHARS]}' is not a unit ({why})")


def parse_unit(unit: str) -> pint.Unit:
    """A unit written as laboratories write it (%, % m/m, %vol, mg/kg, °Z...), read by pint.

    Raises QuantityError, in words, for what is not a unit: an unknown word, a number, a power beyond
    MAX_EXPONENT (parsec^-7), and before pint sees it a text pint would take minutes over (`_costly`).
    """
    text = unit.strip()
    if not text:
        raise QuantityError("give a unit")
    refuse_costly_unit(text)
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


def spec_kind(name: str) -> str:
    """The kind of a quantity name ("" for a name the rules do not know)."""
    spec = _named(name)
    return spec.kind if spec is not None else ""


def presence_measurement(name: str, word: str) -> Measurement:
    """A qualitative result (detected, not_detected, positive, negative...) of a presence quantity."""
    spec = spec_for(name.strip())
    state = PRESENCE_WORDS.get(fold(word).replace(" ", "_").replace("-", "_"))
    if spec.kind != "presence":
        raise QuantityError(f"{spec.name} is a measured quantity; give a value and unit, not {word!r}")
    if state is None:
        words = ", ".join(sorted(PRESENCE_WORDS))
        raise QuantityError(f"{spec.name}: {word!r} is not one of {words}")
    return Measurement(spec.name, state, "", None, word.strip())


_WORD_RESULT = re.compile(r"^\s*(?P<name>[A-Za-z][\w.]*)\s*=\s*(?P<word>[^\W\d][\w -]*?)\s*$")


def parse_result(text: str) -> Measurement:
    """Parse `NAME=VALUE[UNIT][±U]`, e.g. `alcohol_strength=80.2%vol±0.4` or `element.Cr=12±0.2%`, or
    `NAME=WORD` for a presence quantity, e.g. `added_ingredients=not_detected`."""
    word = _WORD_RESULT.match(text)
    if word:
        return presence_measurement(word["name"], word["word"])
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
