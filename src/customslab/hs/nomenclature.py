"""HS nomenclature: parse the published CSV into an in-memory tree, validate and normalise codes.

Pure: no database. The storage adapter (`customslab.adapters.hs_store`) loads the same rows into
tables with full-text search; this module serves the rule engine and the CLI's `evaluate`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DEFAULT_EDITION = "HS2022"
HS_LEVELS = {2: "chapter", 4: "heading", 6: "subheading"}
# Rows of the Comtrade file that are aggregates, not nomenclature entries.
_AGGREGATE_CODES = {"TOTAL"}
_CODE_SEPARATORS = re.compile(r"[\s.\-]")


class HsError(ValueError):
    """Bad HS input: an invalid or unknown code, a malformed file. Edges turn it into a 4xx or exit 2."""


class InvalidCode(HsError):
    pass


class UnknownCode(HsError):
    pass


@dataclass(frozen=True, slots=True)
class HsNode:
    code: str
    level: int
    parent: str | None
    section: str
    description: str

    @property
    def kind(self) -> str:
        return HS_LEVELS.get(self.level, "national line")

    @property
    def dotted(self) -> str:
        return format_code(self.code)


@dataclass(frozen=True, slots=True)
class Section:
    numeral: str
    name: str


def normalise_code(text: str, *, allow_national: bool = False) -> str:
    """'2208.40' / '2208 40' / '220840' → '220840'; raises InvalidCode with the reason."""
    raw = str(text).strip()
    code = _CODE_SEPARATORS.sub("", raw)
    if not code.isdigit() or not code.isascii():
        raise InvalidCode(f"HS code {raw!r} must contain digits only (dots and spaces allowed)")
    allowed = {2, 4, 6, 8, 9, 10} if allow_national else {2, 4, 6}
    if len(code) not in allowed:
        wanted = "2, 4, 6 or 8–10" if allow_national else "2, 4 or 6"
        raise InvalidCode(f"HS code {raw!r} has {len(code)} digits; expected {wanted}")
    return code


def format_code(code: str) -> str:
    """'220840' → '2208.40'; national lines keep their extra digits after a second dot."""
    if len(code) <= 4:
        return code
    if len(code) <= 6:
        return f"{code[:4]}.{code[4:]}"
    return f"{code[:4]}.{code[4:6]}.{code[6:]}"


def hs6(code: str) -> str:
    """The internationally harmonised part of a code (national digits dropped)."""
    return code[:6]


@dataclass
class Nomenclature:
    edition: str
    nodes: dict[str, HsNode]
    sections: dict[str, Section]
    _children: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for node in self.nodes.values():
            if node.parent is not None:
                self._children.setdefault(node.parent, []).append(node.code)

    def __contains__(self, code: object) -> bool:
        return code in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def get(self, code: str) -> HsNode:
        normalised = normalise_code(code)
        try:
            return self.nodes[normalised]
        except KeyError:
            raise UnknownCode(f"{format_code(normalised)} is not a code of {self.edition}") from None

    def validate(self, code: str, *, allow_national: bool = False) -> str:
        """Normalise and check the code (its HS part for a national line) exists in this edition."""
        normalised = normalise_code(code, allow_national=allow_national)
        self.get(hs6(normalised))
        return normalised

    def children(self, code: str) -> list[HsNode]:
        return [self.nodes[c] for c in sorted(self._children.get(normalise_code(code), []))]

    def ancestors(self, code: str) -> list[HsNode]:
        """Chapter first, then heading, ending with the node itself."""
        node = self.get(code)
        chain = [node]
        while node.parent is not None:
            node = self.nodes[node.parent]
            chain.append(node)
        return chain[::-1]

    def chapters(self, section: str | None = None) -> list[HsNode]:
        return sorted(
            (n for n in self.nodes.values() if n.level == 2 and (section is None or n.section == section)),
            key=lambda n: n.code,
        )

    def count_by_level(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for node in self.nodes.values():
            counts[node.level] = counts.get(node.level, 0) + 1
        return dict(sorted(counts.items()))


def read_sections(path: Path) -> dict[str, Section]:
    # utf-8-sig: the published sections.csv starts with a byte-order mark.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        _require_columns(path, reader.fieldnames, {"section", "name"})
        return {row["section"]: Section(row["section"], row["name"]) for row in reader}


def iter_nomenclature_rows(path: Path) -> Iterator[HsNode]:
    """Yield one HsNode per chapter, heading and subheading of harmonized-system.csv."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        _require_columns(path, reader.fieldnames, {"section", "hscode", "description", "parent", "level"})
        for line, row in enumerate(reader, start=2):
            code = row["hscode"].strip()
            if code in _AGGREGATE_CODES:
                continue
            try:
                level = int(row["level"])
            except ValueError:
                raise HsError(f"{path.name} line {line}: level {row['level']!r} is not a number") from None
            if level not in HS_LEVELS or len(code) != level or not code.isdigit():
                raise HsError(f"{path.name} line {line}: code {code!r} does not match level {level}")
            parent = row["parent"].strip()
            yield HsNode(
                code=code,
                level=level,
                parent=None if parent in _AGGREGATE_CODES else parent,
                section=row["section"].strip(),
                description=row["description"].strip(),
            )


def load_nomenclature(csv_dir: Path | str, edition: str = DEFAULT_EDITION) -> Nomenclature:
    directory = Path(csv_dir)
    main = directory / "harmonized-system.csv"
    if not main.is_file():
        raise HsError(f"nomenclature file not found: {main}")
    nodes = {node.code: node for node in iter_nomenclature_rows(main)}
    sections_file = directory / "sections.csv"
    sections = read_sections(sections_file) if sections_file.is_file() else {}
    for node in nodes.values():
        if node.parent is not None and node.parent not in nodes:
            raise HsError(f"{main.name}: {node.code} names a parent {node.parent} that is not in the file")
    return Nomenclature(edition=edition, nodes=nodes, sections=sections)


@lru_cache(maxsize=4)
def cached_nomenclature(csv_dir: str, edition: str = DEFAULT_EDITION) -> Nomenclature:
    """One parse per process: the CLI's `evaluate` and the services share it."""
    return load_nomenclature(csv_dir, edition)


def _require_columns(path: Path, found: Sequence[str] | None, wanted: set[str]) -> None:
    present = set(found or [])
    missing = wanted - present
    if missing:
        raise HsError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
