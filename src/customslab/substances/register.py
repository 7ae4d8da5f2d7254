"""Controlled substances read from CSV, and the pure matching of a spectral hit against them.

One row per substance, with its control entries (docs/substances.md gives the format):

    name,synonyms,cas,inchikey,controls,salts,source,note
    Cocaine,benzoylmethylecgonine,50-36-2,ZPUCINDJVBIVPJ-LJISPDSOSA-N,UN1961:I,...,INCB Yellow List,

Multi-valued cells (synonyms, cas, inchikey, controls) are separated by `|`, a character no chemical
name uses (names hold commas, semicolons, brackets and primes). A control entry is `REGIME:SCHEDULE`:
`UN1961:I`…`UN1961:IV`, `UN1971:I`…`UN1971:IV`, `UN1988:I` or `UN1988:II` (the 1988 Convention's
tables), or `national:<category>` in a national list, where the list's name and legal reference come
with the file. A file with any fault is refused whole, each fault with its line.

A hit matches a substance by CAS number, by full InChIKey, or by name or synonym compared without case,
spaces or hyphens, after a derivatisation tag ("…, 2TMS") and a salt word ("… hydrochloride") are set
aside: a TMS derivative is the laboratory's preparation of the substance seized, and the conventions
control the salts. The InChIKey's first block alone is not used: it is shared by stereoisomers that the
conventions treat apart (levomethorphan is in 1961 Schedule I, dextromethorphan is excepted).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib import resources

from customslab.substances.csv_table import Fault, TableError, read_rows, split_cell


class Regime(StrEnum):
    UN1961 = "UN1961"  # Single Convention on Narcotic Drugs, 1961 (INCB Yellow List)
    UN1971 = "UN1971"  # Convention on Psychotropic Substances, 1971 (INCB Green List)
    UN1988 = "UN1988"  # Convention against Illicit Traffic, 1988, Tables I and II (INCB Red List)
    NATIONAL = "national"  # a national list loaded by the administration


#: The schedules (1961, 1971) and tables (1988) each convention has.
SCHEDULES: dict[Regime, tuple[str, ...]] = {
    Regime.UN1961: ("I", "II", "III", "IV"),
    Regime.UN1971: ("I", "II", "III", "IV"),
    Regime.UN1988: ("I", "II"),
}
#: Each convention's title, as a control entry names its list.
TITLES: dict[Regime, str] = {
    Regime.UN1961: "Single Convention on Narcotic Drugs, 1961",
    Regime.UN1971: "Convention on Psychotropic Substances, 1971",
    Regime.UN1988: "Convention against Illicit Traffic in Narcotic Drugs and Psychotropic Substances, 1988",
}
COLUMNS = ("name", "synonyms", "cas", "inchikey", "controls", "salts", "source", "note")
REQUIRED = ("name", "controls")

_CAS = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")
_INCHIKEY = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")


def cas_is_valid(cas: str) -> bool:
    """Whether `cas` is written NNNNNNN-NN-N with a correct check digit.

    The check digit is the sum of the other digits, each times its position counted from the right
    (starting at 1), modulo 10 (CAS Registry Number format, CAS, American Chemical Society).
    """
    found = _CAS.match(cas.strip())
    if found is None:
        return False
    digits = (found.group(1) + found.group(2))[::-1]
    return sum((i + 1) * int(d) for i, d in enumerate(digits)) % 10 == int(found.group(3))


@dataclass(frozen=True)
class ControlEntry:
    """One control of a substance: a convention's schedule or table, or a national list's category."""

    regime: Regime
    schedule: str
    list_name: str
    reference: str = ""
    source: str = ""

    @property
    def label(self) -> str:
        """ "UN 1961 Schedule I", "UN 1988 Table II", or "<national list>: <category>"."""
        if self.regime is Regime.NATIONAL:
            return f"{self.list_name}: {self.schedule}" if self.schedule else self.list_name
        year = self.regime.value.removeprefix("UN")
        kind = "Table" if self.regime is Regime.UN1988 else "Schedule"
        return f"UN {year} {kind} {self.schedule}"


@dataclass(frozen=True)
class Substance:
    """A register row: the substance's names and identifiers, and what controls it."""

    name: str
    synonyms: tuple[str, ...] = ()
    cas: tuple[str, ...] = ()
    inchikeys: tuple[str, ...] = ()
    controls: tuple[ControlEntry, ...] = ()
    salts: str = ""
    note: str = ""
    line: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)


@dataclass(frozen=True)
class ControlMatch:
    """A hit found in the register: the substance, one of its controls, and how it was recognised
    (`cas`, `inchikey` or `name`)."""

    substance: Substance
    entry: ControlEntry
    matched_by: str


class RegisterError(TableError):
    """A list that cannot be loaded; `faults` name each problem with its line (1 is the header)."""


# -- names ------------------------------------------------------------------------------------------
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ω": "omega"}
#: Dashes and minus signs read as a hyphen ("(−)-cocaine" is "(-)-cocaine").
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹣－", "-"))
_IGNORED = frozenset("-_'’′")
#: A derivatisation tag at the end of a name, set apart by a separator or a bracket: "…, 2TMS",
#: "… (TMS derivative)", "…-TFA", "… MeOX" (but not the end of "Atomox").
_DERIVATIVE = re.compile(
    r"(?:[\s,;/_-]+[(\[]?|[(\[])\s*(?:\d+|n)?\s*"
    r"(?:tms|tbdms|tbs|tfa|pfp|pfpa|hfb|hfba|meox|mox|methoxime)"
    r"(?:\s*derivative)?\s*[)\]]?\s*$"
)
#: A salt or hydrate word at the end of a name: "… hydrochloride", "…, sulfate pentahydrate",
#: "….HCl", "… (hydrochloride)", "… sodium salt".
_SALT = re.compile(
    r"(?:[\s,]+\(?|\.|\()(?:(?:mono|di|tri|tetra|penta|hemi|sesqui)?hydrate|hydrochloride|"
    r"dihydrochloride|hydrobromide|hydroiodide|sulfate|sulphate|hemisulfate|bitartrate|tartrate|"
    r"citrate|phosphate|maleate|fumarate|mesilate|mesylate|besilate|oxalate|hcl|hbr|"
    r"(?:di)?sodium(?:\s+salt)?|potassium\s+salt|\(1:1\)|\(2:1\))\)?\s*$"
)
#: Salt words that are also the end of an ester's name ("ethyl acetate", "diethyl succinate"): set
#: aside only when the word before is not a radical ending in -yl.
_ESTER_SALT = re.compile(r"(?<!yl)(?:[\s,]+\(?|\.|\()(?:acetate|succinate|napsylate)\)?\s*$")
_ONE_STEREO = r"\((?:[±+\-/]+|rs|[rs]|\d+[rs](?:,\d+[rs])*)\)-|(?:rac|dl|d|l)-"
#: A stereodescriptor before a name: "(±)-", "(+)-", "dl-", "d-", "(S)-", "(1R,2S)-".
_STEREO = re.compile(rf"^(?:{_ONE_STEREO})+")
_STEREO_ONE = re.compile(_ONE_STEREO)


def _stereo_tokens(prefix: str) -> frozenset[str]:
    """A stereodescriptor as tokens: `+` or `-` (the sign of rotation, `d`/`l` read as such), `rac`
    (a racemate: `(±)-`, `dl-`, `rac-`, `(RS)-`), or `cfg:<R/S descriptors>`."""
    tokens = set()
    for part in _STEREO_ONE.findall(prefix):
        inner = part[1:-2] if part.startswith("(") else part[:-1]
        if inner in ("rac", "dl", "rs") or "±" in inner or ("+" in inner and "-" in inner):
            tokens.add("rac")
        elif inner in ("d", "+"):
            tokens.add("+")
        elif inner in ("l", "-"):
            tokens.add("-")
        elif inner:
            tokens.add(f"cfg:{inner}")
    return frozenset(tokens)


def stereo_agrees(hit: frozenset[str], row: frozenset[str]) -> bool:
    """Whether two stereodescriptors can name the same substance: a racemate contains either
    enantiomer; otherwise the signs of rotation, and the R/S descriptors, must not differ where both give
    them (a sign says nothing of R/S, so `(+)-` and `(S)-` are not told apart)."""
    if not hit or not row or "rac" in hit or "rac" in row:
        return True
    for family in (lambda t: t in ("+", "-"), lambda t: t.startswith("cfg:")):
        mine = {t for t in hit if family(t)}
        theirs = {t for t in row if family(t)}
        if mine and theirs and mine != theirs:
            return False
    return True


def _bare(text: str) -> tuple[str, frozenset[str]]:
    """`text` without a derivatisation tag, salt words and stereodescriptors (already casefolded), and
    the stereodescriptor set aside."""
    previous = None
    while previous != text:
        previous = text
        text = _SALT.sub("", _DERIVATIVE.sub("", text)).strip()
        text = _ESTER_SALT.sub("", text).strip()
    found = _STEREO.match(text)
    if found is None:
        return text, frozenset()
    return text[found.end() :], _stereo_tokens(found.group(0))


def name_key(name: str) -> tuple[str, frozenset[str]]:
    """`normalise_name(name)` and the stereodescriptor it set aside (`_stereo_tokens`)."""
    text = unicodedata.normalize("NFKC", name).translate(_DASHES).casefold()
    for letter, word in _GREEK.items():
        text = text.replace(letter, word)
    text, stereo = _bare(" ".join(text.split()))
    return "".join(c for c in text if not c.isspace() and c not in _IGNORED), stereo


def normalise_name(name: str) -> str:
    """A name as the register compares it: casefolded, Greek letters spelled out, dashes and minus signs
    read as hyphens, no spaces, hyphens or primes, without a derivatisation tag, salt words or a
    stereodescriptor ("Cocaine hydrochloride", "COCAINE", "(−)-cocaine", "Cocaine.HCl" and "Cocaine, TMS
    derivative" are all `cocaine`)."""
    return name_key(name)[0]


# -- reading a list ---------------------------------------------------------------------------------
@dataclass
class _Reading:
    national: bool
    list_name: str
    reference: str
    faults: list[Fault] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)
    cas: dict[str, int] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)

    def fault(self, line: int, problem: str) -> None:
        self.faults.append(Fault(line, problem))

    def control(self, line: int, item: str, source: str) -> ControlEntry | None:
        regime_text, colon, schedule = item.partition(":")
        regime = next((r for r in Regime if r.value.casefold() == regime_text.strip().casefold()), None)
        schedule = schedule.strip()
        if regime is None or not colon:
            self.fault(
                line,
                f"'{item}' is not a control entry (UN1961:I…IV, UN1971:I…IV, UN1988:I or II, "
                "national:<category>)",
            )
            return None
        if regime is Regime.NATIONAL:
            if not self.national:
                self.fault(
                    line, f"'{item}': a national entry belongs in a national list, loaded with its name"
                )
                return None
            return ControlEntry(regime, schedule, self.list_name, self.reference, source or self.reference)
        if self.national:
            self.fault(
                line,
                f"'{item}': a national list gives its own categories (national:<category>); the UN "
                "schedules come with the project",
            )
            return None
        allowed = SCHEDULES[regime]
        if schedule.upper() not in allowed:
            kind = "table" if regime is Regime.UN1988 else "schedule"
            self.fault(line, f"unknown {kind} '{schedule}' for {regime.value} ({', '.join(allowed)})")
            return None
        return ControlEntry(regime, schedule.upper(), TITLES[regime], source, source)

    def unique(self, seen: dict[str, int], key: str, line: int, what: str) -> None:
        first = seen.setdefault(key, line)
        if first != line:
            self.fault(line, f"duplicate of line {first} (the same {what})")

    def row(self, line: int, cells: dict[str, str]) -> Substance | None:
        before = len(self.faults)
        name = cells.get("name", "").strip()
        if not name:
            self.fault(line, "the name is empty")
            return None
        synonyms = split_cell(cells.get("synonyms", ""))
        for n in dict.fromkeys((name, *synonyms)):
            key = normalise_name(n)
            if not key:
                self.fault(line, f"'{n}' is not a name")
            else:
                self.unique(self.names, key, line, f"name '{n}'")
        cas = split_cell(cells.get("cas", ""))
        for c in cas:
            if not cas_is_valid(c):
                self.fault(line, f"'{c}' is not a CAS number with a correct check digit")
            else:
                self.unique(self.cas, c, line, f"CAS number {c}")
        keys = tuple(k.upper() for k in split_cell(cells.get("inchikey", "")))
        for k in keys:
            if not _INCHIKEY.match(k):
                self.fault(line, f"'{k}' is not an InChIKey (14-10-1 capital letters)")
            else:
                self.unique(self.keys, k, line, f"InChIKey {k}")
        source = cells.get("source", "").strip()
        if not source and not self.national:
            self.fault(line, "the source is empty: name the list and its edition or year")
        items = split_cell(cells.get("controls", ""))
        if not items:
            self.fault(line, "no control entry: give at least one (UN1961:I, UN1988:II, national:…)")
        controls = tuple(e for e in (self.control(line, i, source) for i in items) if e is not None)
        if len(set(controls)) != len(controls):
            self.fault(line, "the same control entry is given twice")
        if len(self.faults) > before:
            return None
        return Substance(
            name,
            synonyms,
            cas,
            keys,
            controls,
            cells.get("salts", "").strip(),
            cells.get("note", "").strip(),
            line,
        )


def parse_list(
    text: str, *, national: bool = False, list_name: str = "", reference: str = "", origin: str = ""
) -> tuple[Substance, ...]:
    """The substances of a list in the register's CSV format, or RegisterError naming every fault with
    its line: a bad CAS check digit, an unknown schedule, a duplicate row, a missing column..."""
    return read_rows(
        text,
        _Reading(national, list_name, reference),
        columns=COLUMNS,
        required=REQUIRED if national else (*REQUIRED, "source"),
        error=RegisterError,
        origin=origin,
        no_rows="the list holds no substance",
    )


# -- the register -----------------------------------------------------------------------------------
def _identifiers(text: str | None) -> list[str]:
    """The CAS numbers of a library's CAS field ("98-84-0 618-36-0"), valid ones only."""
    return [c for c in re.split(r"[\s,;|]+", text or "") if cas_is_valid(c)]


def _agrees(substance: Substance, inchikey: str | None) -> bool:
    """Whether the hit's structure allows it to be `substance` when only its CAS number found the row: a
    library's CAS number can be wrong (a MassBank record of phenyllactic acid carries phenylacetic
    acid's CAS number), so where both the hit and the row give an InChIKey, their first blocks (the
    skeleton) must agree. Never asked of a row found by name: a salt or a derivative ("Cocaine
    hydrochloride", "Morphine, 2TMS") has a first block of its own."""
    key = (inchikey or "").strip().upper()
    if not _INCHIKEY.match(key) or not substance.inchikeys:
        return True
    return any(k[:14] == key[:14] for k in substance.inchikeys)


class Register:
    """Substances and their controls, indexed by CAS number, InChIKey and normalised name."""

    def __init__(self, substances: Iterable[Substance] = ()) -> None:
        self.substances: tuple[Substance, ...] = tuple(substances)
        self._by_cas: dict[str, list[Substance]] = {}
        self._by_key: dict[str, list[Substance]] = {}
        self._by_name: dict[str, list[Substance]] = {}
        # The stereodescriptors a row gives with a name ("(+)-norpseudoephedrine" of cathine).
        self._stereo: dict[tuple[int, str], list[frozenset[str]]] = {}
        self._keys: dict[int, frozenset[str]] = {}
        for s in self.substances:
            for c in s.cas:
                self._by_cas.setdefault(c, []).append(s)
            for k in s.inchikeys:
                self._by_key.setdefault(k, []).append(s)
            named = [name_key(n) for n in s.names]
            self._keys[id(s)] = frozenset(key for key, _ in named)
            for key in dict.fromkeys(key for key, _ in named):
                self._by_name.setdefault(key, []).append(s)
            for key, stereo in named:
                if stereo:
                    self._stereo.setdefault((id(s), key), []).append(stereo)

    def __len__(self) -> int:
        return len(self.substances)

    def plus(self, substances: Iterable[Substance]) -> Register:
        """This register with more substances (a national list's)."""
        return Register((*self.substances, *substances))

    def _named(self, name: str) -> list[Substance]:
        """The rows `name` names. A stereodescriptor is set aside unless the row gives its own with that
        name and they contradict each other: "l-norpseudoephedrine" is not cathine, whose row says
        "(+)-norpseudoephedrine", while "(-)-cocaine" is cocaine."""
        key, stereo = name_key(name)
        return [
            s
            for s in self._by_name.get(key, ())
            if not stereo
            or not self._stereo.get((id(s), key))
            or any(stereo_agrees(stereo, given) for given in self._stereo[(id(s), key)])
        ]

    def controls_for(
        self,
        name: str = "",
        cas: str | None = None,
        inchikey: str | None = None,
        synonyms: Iterable[str] = (),
    ) -> tuple[ControlMatch, ...]:
        """Every control of the substances a hit is: found by CAS, by full InChIKey, or by name or
        synonym; a row found by CAS alone is dropped when the hit's InChIKey contradicts the row's and
        none of the hit's names is the row's. Each control once, with the strongest way its substance
        was found."""
        found: dict[int, tuple[Substance, str]] = {}

        def add(substances: Iterable[Substance], how: str) -> None:
            for s in substances:
                found.setdefault(id(s), (s, how))

        names = [n for n in (name, *synonyms) if n]
        for c in _identifiers(cas):
            add(self._by_cas.get(c, ()), "cas")
        if inchikey:
            add(self._by_key.get(inchikey.strip().upper(), ()), "inchikey")
        for n in names:
            add(self._named(n), "name")
        keys = {normalise_name(n) for n in names}
        matches: dict[ControlEntry, ControlMatch] = {}
        for substance, how in found.values():
            if how == "cas" and not keys & self._keys[id(substance)] and not _agrees(substance, inchikey):
                continue
            for entry in substance.controls:
                matches.setdefault(entry, ControlMatch(substance, entry, how))
        order = {r: i for i, r in enumerate(Regime)}
        return tuple(sorted(matches.values(), key=lambda m: (order[m.entry.regime], m.entry.schedule)))


#: The bundled lists, one CSV file each, in data/.
BUNDLED_FILES = ("un_1961.csv", "un_1971.csv", "un_1988.csv")


@lru_cache(maxsize=1)
def bundled_register() -> Register:
    """The UN lists shipped with the project (read once per process; the files do not change)."""
    folder = resources.files("customslab.substances").joinpath("data")
    substances: list[Substance] = []
    for name in BUNDLED_FILES:
        text = folder.joinpath(name).read_text(encoding="utf-8")
        substances += parse_list(text, origin=name)
    return Register(substances)
