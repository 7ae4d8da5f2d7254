"""Chemical → HS proposals: a CAS → HS table read from CSV, in the manner of the EU's ECICS (European
Customs Inventory of Chemical Substances: CAS number, name, CN code, source).

A row proposes the HS 2022 code (or codes, where the identity alone does not choose between subheadings)
of a substance itself: chemically defined, unmixed, in bulk. It is evidence for the analyst, never a
classification: the form, purity, mixture and use of the goods decide. The file format is documented in
docs/chemical-hs.md.

Pure: it reads CSV text and takes the nomenclature's subheading texts as a mapping (`subheading_texts`);
no database, no settings. Names are compared as the controlled-substance register compares them
(`normalise_name`), so that one library hit finds its control status and its HS proposal alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from customslab.hs.nomenclature import HsError, Nomenclature, format_code, hs6, normalise_code
from customslab.substances.csv_table import Fault, TableError, read_rows, split_cell
from customslab.substances.register import cas_is_valid, normalise_name

COLUMNS = ("cas", "name", "synonyms", "labels", "hs_code", "source", "notes")
REQUIRED = ("cas", "name", "hs_code", "source")
#: The seed table shipped with the project, in data/.
BUNDLED_FILE = "cas_hs.csv"
_CAS_SHAPE = re.compile(r"^\d{2,7}-\d{2}-\d$")

MatchedBy = Literal["cas", "name"]


@dataclass(frozen=True)
class ProposedCode:
    """One code a row proposes: 6 digits, or a national tariff line of 8 to 10, with the HS 2022 text
    of its subheading."""

    code: str
    description: str

    @property
    def dotted(self) -> str:
        return format_code(self.code)


@dataclass(frozen=True)
class ChemHsEntry:
    """One row of a table: the substance, the code(s) proposed for it, and where they come from."""

    cas: str
    name: str
    synonyms: tuple[str, ...]
    codes: tuple[ProposedCode, ...]
    source: str
    notes: str
    table: str
    line: int
    #: The polymer class labels of a spectral library (PE, PA...) that name this row: compared with a
    #: hit's label only, never with its name (PA is also phthalic anhydride, PE phosphatidylethanolamine).
    labels: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)


@dataclass(frozen=True)
class Proposal:
    """A row found for a substance, and how: by its CAS number or by a name (or a polymer label)."""

    entry: ChemHsEntry
    matched_by: MatchedBy


class ChemHsError(TableError):
    """A table that cannot be loaded; `faults` name each problem with its line (1 is the first line)."""


def subheading_texts(nomenclature: Nomenclature) -> dict[str, str]:
    """The nomenclature's subheadings (6 digits) and their texts: what a table's codes are checked
    against."""
    return {code: node.description for code, node in nomenclature.nodes.items() if node.level == 6}


class _Reading:
    """The rows read so far, the keys they hold and the faults found; one per file."""

    def __init__(self, texts: Mapping[str, str], origin: str) -> None:
        self.texts = texts
        self.origin = origin
        self.faults: list[Fault] = []
        self.cas: dict[str, int] = {}
        self.names: dict[str, int] = {}
        self.labels: dict[str, int] = {}

    def fault(self, line: int, problem: str) -> None:
        self.faults.append(Fault(line, problem))

    def codes(self, line: int, cell: str) -> tuple[ProposedCode, ...]:
        found: list[ProposedCode] = []
        for given in split_cell(cell):
            try:
                code = normalise_code(given, allow_national=True)
            except HsError as exc:
                self.fault(line, str(exc))
                continue
            if len(code) < 6:
                self.fault(line, f"HS code {given!r} is a chapter or heading: give the 6-digit subheading")
                continue
            if hs6(code) not in self.texts:
                self.fault(
                    line, f"HS code {given!r}: {format_code(hs6(code))} is not a subheading of HS 2022"
                )
                continue
            if any(c.code == code for c in found):
                self.fault(line, f"HS code {given!r} is given twice")
                continue
            found.append(ProposedCode(code, self.texts[hs6(code)]))
        if not found and not split_cell(cell):
            self.fault(line, "hs_code is empty")
        return tuple(found)

    def row(self, line: int, cells: dict[str, str]) -> ChemHsEntry | None:
        before = len(self.faults)
        cas = cells.get("cas", "").strip()
        if cas and not _CAS_SHAPE.match(cas):
            self.fault(line, f"CAS {cas!r} is not written NNNNNNN-NN-N")
        elif cas and not cas_is_valid(cas):
            self.fault(line, f"CAS {cas} fails its check digit")
        elif cas in self.cas:
            self.fault(line, f"CAS {cas} is already on line {self.cas[cas]}")
        elif cas:
            self.cas[cas] = line
        name = cells.get("name", "").strip()
        if not name:
            self.fault(line, "name is empty")
        synonyms = split_cell(cells.get("synonyms", ""))
        for key in dict.fromkeys(normalise_name(n) for n in (name, *synonyms) if n):
            if not key:
                continue
            if key in self.names:
                self.fault(line, f"name {key!r} is already on line {self.names[key]}")
            else:
                self.names[key] = line
        labels = split_cell(cells.get("labels", ""))
        for key in dict.fromkeys(_label_key(label) for label in labels):
            if not key:
                self.fault(line, "a label is empty")
            elif key in self.labels:
                self.fault(line, f"label {key!r} is already on line {self.labels[key]}")
            else:
                self.labels[key] = line
        codes = self.codes(line, cells.get("hs_code", ""))
        source = cells.get("source", "").strip()
        if not source:
            self.fault(line, "source is empty: name the list or table the code comes from")
        if len(self.faults) > before:
            return None
        return ChemHsEntry(
            cas=cas,
            name=name,
            synonyms=tuple(s for s in synonyms if s != name),
            codes=codes,
            source=source,
            notes=cells.get("notes", "").strip(),
            table=self.origin,
            line=line,
            labels=labels,
        )


def parse_table(text: str, texts: Mapping[str, str], origin: str = "") -> tuple[ChemHsEntry, ...]:
    """The rows of a CAS → HS table in CSV, or ChemHsError naming every fault with its line: a bad CAS
    check digit, a code that is not an HS 2022 subheading, a CAS or name given twice, a missing column.
    `texts` are the nomenclature's subheadings (`subheading_texts`)."""
    return read_rows(
        text,
        _Reading(texts, origin),
        columns=COLUMNS,
        required=REQUIRED,
        error=ChemHsError,
        origin=origin,
        no_rows="the table holds no row",
        column=lambda heading: heading.strip().lower().replace(" ", "_"),
    )


def _label_key(label: str) -> str:
    """A label as compared: casefolded, without spaces and hyphens ("PA 6" is "pa6")."""
    return "".join(c for c in label.casefold() if c.isalnum())


def _identifiers(text: str | None) -> list[str]:
    """The valid CAS numbers of a library hit's CAS field ("98-84-0 618-36-0")."""
    return [c for c in re.split(r"[\s,;|]+", text or "") if cas_is_valid(c)]


class ChemHsTable:
    """Rows indexed by CAS number and by normalised name and synonym. A later row (a laboratory's own
    table, added with `plus`) takes a CAS or a name over from an earlier one."""

    def __init__(self, entries: Iterable[ChemHsEntry] = ()) -> None:
        self.entries: tuple[ChemHsEntry, ...] = tuple(entries)
        self._by_cas: dict[str, ChemHsEntry] = {}
        self._by_name: dict[str, ChemHsEntry] = {}
        self._by_label: dict[str, ChemHsEntry] = {}
        for entry in self.entries:
            for label in entry.labels:
                self._by_label[_label_key(label)] = entry
            if entry.cas:
                self._by_cas[entry.cas] = entry
            for name in entry.names:
                key = normalise_name(name)
                if key:
                    self._by_name[key] = entry

    def __len__(self) -> int:
        return len(self.entries)

    def plus(self, entries: Iterable[ChemHsEntry]) -> ChemHsTable:
        """This table with more rows, which take over the CAS numbers and names they share."""
        return ChemHsTable((*self.entries, *entries))

    def propose(
        self, cas: str | None = None, name: str | None = None, *, label: str | None = None
    ) -> list[Proposal]:
        """The row for a substance: by CAS number first, then by its name or synonym, then by a label
        (a spectral library's polymer class: PE, PP, PET...), looked up in the rows' labels and then
        their names. A label is never looked up as a name nor a name as a label: a hit named "PA" is not
        a polyamide. Empty when the table does not know it."""
        for number in _identifiers(cas):
            found = self._by_cas.get(number)
            if found is not None:
                return [Proposal(found, "cas")]
        found = self._by_name.get(normalise_name(name)) if name else None
        if found is None and label:
            found = self._by_label.get(_label_key(label)) or self._by_name.get(normalise_name(label))
        return [Proposal(found, "name")] if found is not None else []

    def knows_name(self, entry: ChemHsEntry, name: str) -> bool:
        """Whether `name` is one of the row's names or synonyms (as the table compares names)."""
        key = normalise_name(name)
        return bool(key) and any(normalise_name(n) == key for n in entry.names)


def read_table_file(path: Path, texts: Mapping[str, str]) -> tuple[ChemHsEntry, ...]:
    """A laboratory's own table from a file; ChemHsError when it cannot be read or holds a fault."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChemHsError([Fault(0, f"cannot be read ({exc})")], str(path)) from None
    return parse_table(text, texts, path.name)


def bundled_table(texts: Mapping[str, str]) -> ChemHsTable:
    """The seed table shipped with the project, checked against the nomenclature's subheadings."""
    text = resources.files("customslab.substances").joinpath("data", BUNDLED_FILE).read_text("utf-8")
    return ChemHsTable(parse_table(text, texts, BUNDLED_FILE))
