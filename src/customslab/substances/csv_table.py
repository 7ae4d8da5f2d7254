"""Reading the CSV tables of substances/ (the controlled-substance register, the CAS → HS table).

Records carry the line they start on (blank and `#` comment lines are skipped), the header is checked
against the known columns, each row goes to a reader that validates it, and a table with any fault is
refused whole: one error names every fault with its line and nothing is loaded.

Pure: text in, rows out; no database, no settings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

#: Separates the values of a cell that holds several (synonyms, codes...): no chemical name uses it
#: (names hold commas, semicolons, brackets and primes).
MULTI = "|"
#: An error names at most this many faults (a wrong file would otherwise list every line).
MAX_FAULTS = 20

RowT = TypeVar("RowT", covariant=True)


@dataclass(frozen=True)
class Fault:
    line: int
    problem: str


class TableError(ValueError):
    """A table that cannot be loaded; `faults` name each problem with its line (1 is the first line, 0
    a fault of the whole file)."""

    def __init__(self, faults: list[Fault], origin: str = "") -> None:
        self.faults = faults[:MAX_FAULTS]
        self.origin = origin
        where = f"{origin}: " if origin else ""
        more = f" (and {len(faults) - MAX_FAULTS} more)" if len(faults) > MAX_FAULTS else ""
        listed = "; ".join(f"line {f.line}: {f.problem}" if f.line else f.problem for f in self.faults)
        super().__init__(f"{where}{listed}{more}. Nothing was loaded.")

    @property
    def line(self) -> int:
        return self.faults[0].line if self.faults else 0


class RowReader(Protocol[RowT]):
    """What validates the rows of one file: it keeps the faults found and the keys seen so far."""

    faults: list[Fault]

    def fault(self, line: int, problem: str) -> None: ...

    def row(self, line: int, cells: dict[str, str]) -> RowT | None: ...


def split_cell(cell: str) -> tuple[str, ...]:
    """The values of a multi-valued cell, stripped, empty ones left out."""
    return tuple(v.strip() for v in cell.split(MULTI) if v.strip())


def records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on; blank lines and `#` comment lines are skipped."""
    lines = text.lstrip("\ufeff").splitlines()
    kept = ["" if line.lstrip().startswith("#") else line for line in lines]
    reader = csv.reader(io.StringIO("\n".join(kept)))
    start = 1
    for record in reader:
        if any(cell.strip() for cell in record):
            yield start, record
        start = reader.line_num + 1


def _column(heading: str) -> str:
    return heading.strip().lower()


def read_rows(
    text: str,
    reader: RowReader[RowT],
    *,
    columns: tuple[str, ...],
    required: Iterable[str],
    error: type[TableError],
    origin: str = "",
    no_rows: str,
    column: Callable[[str], str] = _column,
) -> tuple[RowT, ...]:
    """The rows `reader` makes of a CSV table, or `error` naming every fault with its line: an empty
    file, an unknown, missing or repeated column, a record with more cells than columns, each fault
    the reader finds, and a table without rows (`no_rows` says so). `column` turns a heading into a
    column name."""
    found = records(text)
    head = next(found, None)
    if head is None:
        raise error([Fault(1, "the file is empty: the first line names the columns")], origin)
    header_line, header = head
    names = [column(h) for h in header]
    unknown = [c for c in names if c not in columns]
    missing = [c for c in required if c not in names]
    if unknown or missing or len(set(names)) != len(names):
        said = []
        if unknown:
            said.append(f"unknown column {', '.join(repr(c) for c in unknown)}")
        if missing:
            said.append(f"missing column {', '.join(repr(c) for c in missing)}")
        if len(set(names)) != len(names):
            said.append("a column is named twice")
        raise error([Fault(header_line, f"{'; '.join(said)} (the columns are {', '.join(columns)})")], origin)
    rows = []
    for line, record in found:
        if len(record) > len(names):
            reader.fault(line, f"{len(record)} cells for {len(names)} columns (quote a cell holding a comma)")
            continue
        row = reader.row(line, dict(zip(names, record, strict=False)))
        if row is not None:
            rows.append(row)
    if reader.faults:
        raise error(reader.faults, origin)
    if not rows:
        raise error([Fault(header_line, no_rows)], origin)
    return tuple(rows)
