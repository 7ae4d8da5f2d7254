"""Coverage you can read: which HS notes with a measurable criterion the rules catalogue encodes.

`rules/coverage.yaml` (package data) lists every Section, Chapter and Subheading Note, and every heading or
subheading text, of the edition whose criterion a laboratory can measure or decide (a content, a strength,
a density, a sieve passage, a weight per m², ...). Each entry's status is computed from the catalogue, never
written by hand: **encoded** when a computed or threshold rule names the entry's key in its `notes:`,
**evidence** when only evidence rules do, **not-yet** otherwise. A rule citing a key the list lacks is an
error of the catalogue (`CoverageReport.unlisted`): the list would no longer say what is covered.

Key convention (shared with the rule authors): chapter note `ch11-n2`, its sub-paragraphs `ch11-n2a`,
subheading note `ch17-sn1`, section note `sec11-n2`, section subheading note `sec11-sn1`, heading text
`h2710`, subheading text `h390110`. Chapter and section numbers are written without leading zeros.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from customslab.hs.docs import write_page
from customslab.hs.nomenclature import HsError
from customslab.hs.rules import Catalogue, default_catalogue

#: The statuses, in display order, with the words the page and the CLI use for them.
STATUSES = ("encoded", "evidence", "not-yet")
STATUS_LABELS = {"encoded": "encoded", "evidence": "evidence rule", "not-yet": "not yet"}
#: Fields of an entry; `pending` is optional (what a rule would need, or why none is written yet).
REQUIRED_FIELDS = ("key", "note", "criterion", "checked")
OPTIONAL_FIELDS = ("pending",)

_KEY = re.compile(
    r"^(?:(?P<scope>ch|sec)(?P<number>[1-9][0-9]?)-(?P<kind>n|sn)(?P<note>[1-9][0-9]?)(?P<letters>[a-z]*)"
    r"|h(?P<code>[0-9]{4}(?:[0-9]{2})?))$"
)
_PADDED = re.compile(r"^(ch|sec)0([1-9])-")

#: The 21 Sections of the Harmonized System: numeral, short title, first and last chapter.
SECTIONS: tuple[tuple[str, str, int, int], ...] = (
    ("I", "Live animals; animal products", 1, 5),
    ("II", "Vegetable products", 6, 14),
    ("III", "Animal, vegetable or microbial fats and oils", 15, 15),
    ("IV", "Prepared foodstuffs; beverages, spirits and vinegar; tobacco", 16, 24),
    ("V", "Mineral products", 25, 27),
    ("VI", "Products of the chemical or allied industries", 28, 38),
    ("VII", "Plastics and rubber", 39, 40),
    ("VIII", "Hides, skins, leather and furskins", 41, 43),
    ("IX", "Wood, cork and plaiting materials", 44, 46),
    ("X", "Pulp, paper and paperboard", 47, 49),
    ("XI", "Textiles and textile articles", 50, 63),
    ("XII", "Footwear, headgear and the like", 64, 67),
    ("XIII", "Articles of stone, ceramic products, glass", 68, 70),
    ("XIV", "Pearls, precious stones and precious metals", 71, 71),
    ("XV", "Base metals and articles of base metal", 72, 83),
    ("XVI", "Machinery and electrical equipment", 84, 85),
    ("XVII", "Vehicles, aircraft, vessels", 86, 89),
    ("XVIII", "Optical, measuring and medical instruments; clocks; musical instruments", 90, 92),
    ("XIX", "Arms and ammunition", 93, 93),
    ("XX", "Miscellaneous manufactured articles", 94, 96),
    ("XXI", "Works of art, collectors' pieces and antiques", 97, 97),
)


class CoverageError(HsError):
    """coverage.yaml is malformed, or names another edition than the catalogue's."""


@dataclass(frozen=True, slots=True)
class KeyParts:
    """A parsed coverage key: where the note sits and how it sorts."""

    section: int
    chapter: int  # 0 for a section note
    #: Sort order: kind (section note, chapter note, subheading note, text), number, letters.
    order: tuple[int, int, str]


def parse_key(key: str) -> KeyParts:
    """The parts of a coverage key; raises CoverageError naming the convention if it does not follow it."""
    match = _KEY.match(key)
    if match is None:
        hint = _canonical_hint(key)
        raise CoverageError(
            f"{key!r} is not a coverage key: write ch11-n2, ch11-n2a, ch17-sn1, sec11-n2, sec11-sn1, h2710 "
            f"or h390110 (chapter and section numbers without leading zeros){hint}"
        )
    if match["code"]:
        code = match["code"]
        chapter = int(code[:2])
        if not 1 <= chapter <= 97 or chapter == 77:
            raise CoverageError(f"{key!r}: there is no Chapter {chapter} in the Harmonized System")
        return KeyParts(section_of(chapter), chapter, (3, int(code), ""))
    number, kind = int(match["number"]), match["kind"]
    note = (int(match["note"]), match["letters"])
    if match["scope"] == "sec":
        if not 1 <= number <= len(SECTIONS):
            raise CoverageError(f"{key!r}: there is no Section {number} in the Harmonized System")
        return KeyParts(number, 0, (0 if kind == "n" else 1, *note))
    if not 1 <= number <= 97 or number == 77:
        raise CoverageError(f"{key!r}: there is no Chapter {number} in the Harmonized System")
    return KeyParts(section_of(number), number, (1 if kind == "n" else 2, *note))


def _canonical_hint(key: str) -> str:
    fixed = _PADDED.sub(r"\1\2-", key)
    return f"; did you mean {fixed}?" if fixed != key and _KEY.match(fixed) else ""


def section_of(chapter: int) -> int:
    """The Section (1–21) a chapter belongs to (Chapter 77 is reserved: there is none)."""
    if chapter == 77:
        raise CoverageError("there is no Chapter 77 in the Harmonized System (reserved)")
    for index, (_, _, first, last) in enumerate(SECTIONS, start=1):
        if first <= chapter <= last:
            return index
    raise CoverageError(f"there is no Chapter {chapter} in the Harmonized System")


@dataclass(frozen=True, slots=True)
class CoverageEntry:
    key: str
    note: str
    criterion: str
    checked: str
    pending: str = ""

    @property
    def parts(self) -> KeyParts:
        return parse_key(self.key)


@dataclass(frozen=True, slots=True)
class Coverage:
    edition: str
    entries: tuple[CoverageEntry, ...]

    def keys(self) -> set[str]:
        return {e.key for e in self.entries}


def _words(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def parse_coverage(data: Any, source: str = "coverage.yaml") -> Coverage:
    """Validate the list: an edition, entries with the required fields, well-formed and unique keys."""
    if not isinstance(data, dict) or not data.get("edition"):
        raise CoverageError(f"{source}: expected a mapping with 'edition' and 'notes'")
    unknown_top = set(data) - {"edition", "notes"}
    if unknown_top:
        raise CoverageError(f"{source}: unknown top-level keys {sorted(unknown_top)}")
    raw_entries = data.get("notes")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise CoverageError(f"{source}: 'notes' must be a non-empty list of entries")
    entries = []
    for index, raw in enumerate(raw_entries, start=1):
        where = f"{source} entry {index}"
        if not isinstance(raw, dict):
            raise CoverageError(f"{where}: expected a mapping with {', '.join(REQUIRED_FIELDS)}")
        where = f"{where} ({raw.get('key', 'no key')})"
        missing = [f for f in REQUIRED_FIELDS if not _words(raw.get(f))]
        if missing:
            raise CoverageError(f"{where}: '{missing[0]}' is required")
        unknown = set(raw) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
        if unknown:
            raise CoverageError(f"{where}: unknown fields {sorted(unknown)}")
        key = str(raw["key"]).strip()
        try:
            parse_key(key)
        except CoverageError as error:
            raise CoverageError(f"{where}: {error}") from None
        entries.append(
            CoverageEntry(
                key=key,
                note=_words(raw["note"]),
                criterion=_words(raw["criterion"]),
                checked=_words(raw["checked"]),
                pending=_words(raw.get("pending")),
            )
        )
    counts = Counter(e.key for e in entries)
    duplicates = sorted(k for k, n in counts.items() if n > 1)
    if duplicates:
        raise CoverageError(f"{source}: duplicate keys: {', '.join(duplicates)}")
    return Coverage(edition=str(data["edition"]), entries=tuple(entries))


def load_coverage(path: Path | str | None = None) -> Coverage:
    """The shipped list (rules/coverage.yaml), or another file of the same shape."""
    if path is None:
        text = resources.files("customslab.hs").joinpath("rules/coverage.yaml").read_text(encoding="utf-8")
        source = "rules/coverage.yaml"
    else:
        text, source = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CoverageError(f"{source} is not valid YAML: {error}") from None
    return parse_coverage(data, source)


@lru_cache(maxsize=1)
def default_coverage() -> Coverage:
    return load_coverage()


@dataclass(frozen=True, slots=True)
class CoverageRow:
    entry: CoverageEntry
    status: str
    #: Ids of the computed or threshold rules encoding the note, then of the evidence rules citing it.
    rules: tuple[str, ...]
    evidence_rules: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.entry.key,
            "note": self.entry.note,
            "criterion": self.entry.criterion,
            "status": self.status,
            "rules": list(self.rules),
            "evidence_rules": list(self.evidence_rules),
            "checked": self.entry.checked,
            "pending": self.entry.pending or None,
        }


@dataclass(frozen=True, slots=True)
class CoverageReport:
    edition: str
    rows: tuple[CoverageRow, ...]
    #: Keys that rules cite but the list lacks, with the ids of the rules citing each: an error.
    unlisted: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def totals(self, rows: tuple[CoverageRow, ...] | None = None) -> dict[str, int]:
        counted = Counter(r.status for r in (self.rows if rows is None else rows))
        return {status: counted.get(status, 0) for status in STATUSES}

    def select(self, status: str | None = None, chapter: int | None = None) -> tuple[CoverageRow, ...]:
        """Rows of one status and/or of one chapter (a chapter's rows include its Section's notes)."""
        if status is not None and status not in STATUSES:
            raise CoverageError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        if chapter is not None:
            section_of(chapter)
        return tuple(
            r
            for r in self.rows
            if (status is None or r.status == status)
            and (chapter is None or _in_chapter(r.entry.parts, chapter))
        )

    def unlisted_message(self) -> str:
        if not self.unlisted:
            return ""
        items = []
        for key, rules in sorted(self.unlisted.items()):
            hint = _canonical_hint(key)
            items.append(f"{key} (cited by {', '.join(rules)}{hint})")
        return "rules cite notes that rules/coverage.yaml does not list: " + "; ".join(items)

    def to_dict(self, rows: tuple[CoverageRow, ...] | None = None) -> dict[str, Any]:
        shown = self.rows if rows is None else rows
        return {
            "edition": self.edition,
            "totals": {**_json_totals(self.totals()), "total": len(self.rows)},
            "shown": len(shown),
            "entries": [r.to_dict() for r in shown],
            "unlisted": [{"key": k, "rules": list(v)} for k, v in sorted(self.unlisted.items())],
        }


def _json_totals(totals: dict[str, int]) -> dict[str, int]:
    return {status.replace("-", "_"): n for status, n in totals.items()}


def _in_chapter(parts: KeyParts, chapter: int) -> bool:
    return parts.chapter == chapter or (parts.chapter == 0 and parts.section == section_of(chapter))


def coverage_report(coverage: Coverage | None = None, catalogue: Catalogue | None = None) -> CoverageReport:
    """Each entry's status and rules, computed from the catalogue's `notes`, and the cited keys not listed."""
    coverage = coverage or default_coverage()
    catalogue = catalogue or default_catalogue()
    if coverage.edition != catalogue.edition:
        raise CoverageError(
            f"coverage.yaml lists {coverage.edition} notes but the catalogue is {catalogue.edition}"
        )
    computed: dict[str, list[str]] = {}
    evidence: dict[str, list[str]] = {}
    for rule in catalogue.rules:
        for key in dict.fromkeys(rule.notes):
            (evidence if rule.kind == "evidence" else computed).setdefault(key, []).append(rule.id)
    listed = coverage.keys()
    unlisted: dict[str, list[str]] = {}
    for index in (computed, evidence):
        for key, ids in index.items():
            if key not in listed:
                unlisted.setdefault(key, []).extend(ids)
    rows = []
    for entry in sorted(coverage.entries, key=lambda e: (e.parts.section, e.parts.chapter, e.parts.order)):
        encoding = tuple(computed.get(entry.key, ()))
        citing = tuple(evidence.get(entry.key, ()))
        status = "encoded" if encoding else "evidence" if citing else "not-yet"
        rows.append(CoverageRow(entry, status, encoding, citing))
    return CoverageReport(
        edition=coverage.edition,
        rows=tuple(rows),
        unlisted={k: tuple(dict.fromkeys(v)) for k, v in unlisted.items()},
    )


# Rendering: the plain listing of the CLI and the generated Markdown page (docs/hs-coverage.md).


def totals_line(report: CoverageReport, rows: tuple[CoverageRow, ...] | None = None) -> str:
    totals = report.totals()
    line = (
        f"{report.edition}: {len(report.rows)} notes with a measurable criterion — "
        + ", ".join(f"{totals[s]} {STATUS_LABELS[s]}" for s in STATUSES)
        + "."
    )
    if rows is not None and len(rows) != len(report.rows):
        line += f" {len(rows)} shown."
    return line


def render_text(report: CoverageReport, rows: tuple[CoverageRow, ...] | None = None) -> str:
    """One line per entry (key, status, note: criterion, rules), then the totals line."""
    shown = report.rows if rows is None else rows
    lines = []
    for row in shown:
        ids = row.rules + row.evidence_rules
        rules = f" [{', '.join(ids)}]" if ids else ""
        lines.append(
            f"{row.entry.key:<11} {STATUS_LABELS[row.status]:<13} "
            f"{row.entry.note}: {row.entry.criterion}{rules}"
        )
    lines.append(totals_line(report, shown))
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _status_cell(row: CoverageRow) -> str:
    if row.status == "encoded":
        return "**encoded**"
    if row.status == "evidence":
        return "evidence rule"
    return "not yet" + (f": {_cell(row.entry.pending)}" if row.entry.pending else "")


def _rules_cell(row: CoverageRow) -> str:
    ids = [f"`{i}`" for i in row.rules] + [f"`{i}` (evidence)" for i in row.evidence_rules]
    return ", ".join(ids) or "—"


def render_markdown(report: CoverageReport | None = None) -> str:
    """docs/hs-coverage.md: what it lists and how the status is computed, totals, one table per Section."""
    report = report or coverage_report()
    if report.unlisted:
        raise CoverageError(report.unlisted_message())
    totals = report.totals()
    out = [
        "# HS notes with a measurable criterion: what the rules encode",
        "",
        "<!-- Generated from src/customslab/hs/rules/coverage.yaml and the rules catalogue by "
        "`customslab hs docs`. -->",
        "",
        f"Edition **{report.edition}**. The list names every Section, Chapter and Subheading Note, and every",
        "heading or subheading text, whose criterion a laboratory can measure or decide: a content, a",
        "strength, a density, a sieve passage, a weight per m², a polarisation, a distillation figure, a",
        "property such as elongation and recovery. Packing sizes, and dimensions alone (widths, thicknesses,",
        "diameters), are left out. The status is computed from the catalogue when this page is generated:",
        "",
        "- **encoded**: a computed or threshold rule names the note in its `notes:`;",
        "- **evidence rule**: only evidence rules cite it (indicative laboratory evidence, no legal number);",
        "- **not yet**: no rule; the entry says what a rule would need.",
        "",
        "`checked` says where the wording was read. Entries marked *recall* were written from working",
        "knowledge of the legal text and must be re-checked against the printed WCO edition before being",
        "cited. `customslab hs coverage` prints the same list (`--status`, `--chapter`, `--json`).",
        "",
        f"**{len(report.rows)} notes: "
        + ", ".join(f"{totals[s]} {STATUS_LABELS[s]}" for s in STATUSES)
        + ".**",
        "",
        "| Section | notes | encoded | evidence rule | not yet |",
        "|---|---|---|---|---|",
    ]
    groups: dict[int, list[CoverageRow]] = {}
    for row in report.rows:
        groups.setdefault(row.entry.parts.section, []).append(row)
    for number, rows in groups.items():
        numeral, title, _, _ = SECTIONS[number - 1]
        counts = report.totals(tuple(rows))
        out.append(
            f"| [{numeral}](#section-{numeral.lower()}) {title} | {len(rows)} | "
            + " | ".join(str(counts[s]) for s in STATUSES)
            + " |"
        )
    for number, rows in groups.items():
        numeral, title, first, last = SECTIONS[number - 1]
        chapters = f"Chapter {first}" if first == last else f"Chapters {first}–{last}"
        out += [
            "",
            f'<a id="section-{numeral.lower()}"></a>',
            "",
            f"## Section {numeral}: {title} ({chapters})",
            "",
            "| key | note | criterion | status | rules | checked |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| `{r.entry.key}` | {_cell(r.entry.note)} | {_cell(r.entry.criterion)} | {_status_cell(r)} | "
            f"{_rules_cell(r)} | {_cell(r.entry.checked)} |"
            for r in rows
        ]
    out.append("")
    return "\n".join(out)


def write_coverage_docs(path: Path | str) -> Path:
    return write_page(path, render_markdown())
