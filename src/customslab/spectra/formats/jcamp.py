"""JCAMP-DX 4.24 / 5.01 reader: XYDATA (AFFN or ASDF), XYPOINTS, PEAK TABLE, compound files, NTUPLES.

Sources: McDonald & Wilks, Appl. Spectrosc. 42 (1988) 151 (4.24); Lampen et al., Appl. Spectrosc. 48
(1994) 1545 (5.01, with the NTUPLES pages). What is accepted, so that a laboratory knows:
- labels compare without case, blanks, dashes, slashes and underscores (##X_UNITS= is ##XUNITS=);
  `$$` starts a comment anywhere on a line, and ##= is a comment record;
- UTF-8 text with or without a byte-order mark, otherwise Windows-1252 (Latin-1); LF, CR or CRLF ends;
- the data layouts described in jcamp_tables (tuples, '?') and jcamp_asdf (AFFN, PAC, SQZ, DIF, DUP);
- several spectra in one file: blocks one after another, compound files (##BLOCKS= in a LINK block),
  and the pages of an ##NTUPLES record (jcamp_ntuples); units and techniques as in jcamp_units.

Tolerance decisions:
- the x axis of (X++(Y..Y)) data comes from FIRSTX, LASTX and NPOINTS; the X value written at the
  start of each line is checked only to within one point spacing, because writers commonly round it
  (a shifted or missing line is still caught, with its line number);
- NPOINTS, where given, must equal the number of points exactly: the standard defines it as the
  number of points in the table, and a table that disagrees is truncated or corrupted;
- MAXX, MINX, MAXY, MINY and FIRSTY are kept as metadata, never checked: writers often round them;
- a missing final ##END (or ##END NTUPLES) is accepted only at the end of the file and only when no
  nested block is left open; a ##TITLE inside an unfinished data block is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from customslab.spectra.formats.files import read_export_bytes
from customslab.spectra.formats.jcamp_ntuples import NTuples
from customslab.spectra.formats.jcamp_tables import (
    PROFILE_FORM,
    TUPLE_FORMS,
    DataTable,
    label_float,
    label_integer,
    read_profile,
    read_tuples,
)
from customslab.spectra.formats.jcamp_units import (
    convert_x_units,
    normalise_label,
    raman_excitation,
    technique_of,
    y_unit_of,
)
from customslab.spectra.formats.jcamp_writer import write_jcamp
from customslab.spectra.model import Spectrum, SpectrumFormatError, Technique, check_values

__all__ = ["normalise_label", "parse_jcamp", "read_jcamp", "write_jcamp"]

_DATA_LABELS = {"XYDATA", "XYPOINTS", "PEAKTABLE"}
_METADATA_LABELS = {
    "TITLE": "title",
    "CASREGISTRYNO": "cas_registry_no",
    "MOLFORM": "molform",
    "NAMES": "names",
    "ORIGIN": "origin",
    "OWNER": "owner",
    # "ATR" here makes the FTIR identification apply the ATR correction (spectra.vib_features).
    "SAMPLINGPROCEDURE": "sampling",
}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class _Block:
    start_line: int
    labels: dict[str, str] = field(default_factory=dict)
    label_lines: dict[str, int] = field(default_factory=dict)
    data_form: str = ""
    data_label: str = ""
    data_line: int = 0
    data: list[tuple[int, str]] = field(default_factory=list)
    children: int = 0
    ntuples: NTuples | None = None

    def has_table(self) -> bool:
        return bool(self.data_label) or self.ntuples is not None

    def tables(self, source: str) -> list[DataTable]:
        if self.ntuples is not None:
            return self.ntuples.tables(self.labels, self.label_lines, self.start_line, source)
        if not self.data_label:
            return []
        return [
            DataTable(
                start_line=self.start_line,
                line=self.data_line,
                kind=self.data_label,
                form=self.data_form,
                labels=self.labels,
                label_lines=self.label_lines,
                data=self.data,
                where=f"block at line {self.start_line}",
            )
        ]


def _decode(data: bytes) -> str:
    """UTF-8 (a byte-order mark dropped); text that is not UTF-8 is Windows-1252, else Latin-1.

    JCAMP-DX is defined in ASCII; titles and names in older files are written in the Windows code
    page, which this reads as the writer meant rather than replacing its letters.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_jcamp(path: str | Path, *, excitation_nm: float | None = None) -> list[Spectrum]:
    """Read every data table of a JCAMP-DX file; Raman in nm is converted when the laser line is known.

    The laser line is excitation_nm when given, otherwise the one the file states.
    """
    path = Path(path)
    return parse_jcamp(_decode(read_export_bytes(path)), str(path), excitation_nm=excitation_nm)


def parse_jcamp(text: str, source: str, *, excitation_nm: float | None = None) -> list[Spectrum]:
    """Parse JCAMP-DX text; source names the file in errors."""
    parser = _Parser(source)
    # A DOS end-of-file mark (Ctrl-Z) after the last ##END= is not content.
    for number, raw in enumerate(_LINE_BREAK.split(text.lstrip("\ufeff").rstrip("\x1a\r\n\t ")), start=1):
        parser.feed(number, raw.split("$$", 1)[0].rstrip())
    blocks = parser.finish()
    tables = sorted((t for b in blocks for t in b.tables(source)), key=lambda t: (t.start_line, t.line))
    spectra = [_table_to_spectrum(table, source, excitation_nm) for table in tables]
    for block in blocks:
        _check_block_count(block, source)
    if not spectra:
        raise SpectrumFormatError(source, "no ##XYDATA, ##XYPOINTS, ##PEAK TABLE or ##NTUPLES found")
    return spectra


class _Parser:
    """Sorts the lines of a file into blocks, their labelled records and their data tables."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.finished: list[_Block] = []
        self.stack: list[_Block] = []
        self.sink: list[tuple[int, str]] | None = None  # where data lines go, inside a data table
        self.text: tuple[dict[str, str], str] | None = None  # a record whose value continues
        self.in_comment = False  # inside a ##= comment record
        self.last_end = 0

    def feed(self, number: int, line: str) -> None:
        stripped = line.strip()
        if not stripped:
            return
        if stripped.startswith("##"):
            self._record(number, stripped)
        elif self.sink is not None:
            self.sink.append((number, line))
        elif self.text is not None:
            # Continuation line of a multi-line text record such as ##NAMES.
            labels, key = self.text
            labels[key] = labels[key] + "\n" + stripped
        elif not self.stack and not self.in_comment:
            problem = (
                f"text outside any block, after the ##END= of line {self.last_end}"
                if self.finished
                else "text before the first ##TITLE"
            )
            raise SpectrumFormatError(self.source, problem, number)

    def _record(self, number: int, stripped: str) -> None:
        label, sep, value = stripped[2:].partition("=")
        if not sep:
            raise SpectrumFormatError(self.source, f"labelled record without '=': {stripped[:40]!r}", number)
        key, value = normalise_label(label), value.strip()
        self.sink, self.text, self.in_comment = None, None, not key
        if not key:
            return  # ##= comment
        ntuples = self.stack[-1].ntuples if self.stack else None
        if ntuples is not None and ntuples.is_open and self._ntuples_record(ntuples, key, value, number):
            return
        if key == "TITLE":
            self._open_block(number)
        elif not self.stack:
            raise SpectrumFormatError(self.source, f"##{label.strip()} before the first ##TITLE", number)
        block = self.stack[-1]
        if key == "END":
            self.finished.append(self.stack.pop())
            self.last_end = number
            return
        if key in _DATA_LABELS or key == "NTUPLES":
            if block.has_table():
                raise SpectrumFormatError(self.source, "a block may hold only one data table", number)
            if key == "NTUPLES":
                block.ntuples = NTuples(line=number, name=value)
            else:
                block.data_label, block.data_form, block.data_line = key, normalise_label(value), number
                self.sink = block.data
        block.labels[key] = value
        block.label_lines[key] = number
        if self.sink is None:
            self.text = (block.labels, key)

    def _ntuples_record(self, ntuples: NTuples, key: str, value: str, number: int) -> bool:
        """Route a record inside an open ##NTUPLES; False when the block must handle it (##END)."""
        if key in {"ENDNTUPLES", "END"}:
            # A missing ##END NTUPLES= is implied by the block's ##END=: nothing else can be meant.
            ntuples.is_open = False
            return key == "ENDNTUPLES"
        if key == "TITLE":
            raise SpectrumFormatError(
                self.source, f"##TITLE inside the ##NTUPLES opened at line {ntuples.line}", number
            )
        if key == "PAGE":
            ntuples.open_page(value, number)
        elif key == "DATATABLE":
            self.sink = ntuples.open_table(value, number, self.source)
        else:
            self.text = (ntuples.record(key, value, number), key)
        return True

    def _open_block(self, number: int) -> None:
        if self.stack:
            parent = self.stack[-1]
            if "BLOCKS" not in parent.labels or parent.has_table():
                raise SpectrumFormatError(
                    self.source,
                    f"block opened at line {parent.start_line} has no ##END before this ##TITLE",
                    number,
                )
            parent.children += 1
        self.stack.append(_Block(start_line=number))

    def finish(self) -> list[_Block]:
        if len(self.stack) > 1:
            raise SpectrumFormatError(
                self.source,
                f"file ends inside a nested block opened at line {self.stack[-1].start_line}; ##END missing",
            )
        if self.stack:
            # Only the outermost block is open at end of file: unambiguous, so the ##END is implied.
            self.finished.append(self.stack.pop())
        if not self.finished:
            raise SpectrumFormatError(self.source, "no ##TITLE: not a JCAMP-DX file")
        return self.finished


def _check_block_count(block: _Block, source: str) -> None:
    if "BLOCKS" not in block.labels:
        return
    record = DataTable(
        start_line=block.start_line,
        line=block.start_line,
        kind="",
        form="",
        labels=block.labels,
        label_lines=block.label_lines,
        data=[],
        where=f"block at line {block.start_line}",
    )
    declared = label_integer(record, "BLOCKS", source)
    if declared != block.children:
        raise SpectrumFormatError(
            source,
            f"##BLOCKS={declared} but the compound file holds {block.children} blocks",
            block.label_lines["BLOCKS"],
        )


def _table_to_spectrum(table: DataTable, source: str, excitation_nm: float | None) -> Spectrum:
    technique = technique_of(table.labels, table.label_lines, source, table.start_line)
    xfactor = label_float(table, "XFACTOR", source, 1.0)
    yfactor = label_float(table, "YFACTOR", source, 1.0)
    if table.form == PROFILE_FORM and table.kind in {"XYDATA", "XYPOINTS"}:
        # FIRSTX and LASTX are already actual abscissae; only the ordinates carry a factor.
        x, y, lines = read_profile(table, source)
        xfactor = 1.0
    elif table.form in TUPLE_FORMS:
        if table.kind == "PEAKTABLE" and technique is not Technique.EI_MS:
            raise SpectrumFormatError(source, "peak tables are supported for mass spectra only", table.line)
        x, y, lines = read_tuples(table, source)
    else:
        raise SpectrumFormatError(source, f"unsupported data form ##{table.kind}={table.form}", table.line)
    if technique is Technique.RAMAN and excitation_nm is None:
        excitation_nm = raman_excitation(table.labels, table.label_lines, source)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        x, y = x * xfactor, y * yfactor
        x, x_unit = convert_x_units(x, table.labels, table.label_lines, technique, source, excitation_nm)
    check_values(x, y, technique, source=source, x_unit=x_unit, lines=lines)
    order = np.argsort(x, kind="stable")
    metadata: dict[str, object] = {
        "source": source,
        "format": "JCAMP-DX " + table.labels.get("JCAMPDX", "").strip(),
        "x_unit": x_unit,
        "y_unit": y_unit_of(table.labels),
        "jcamp_block_line": table.start_line,
        "jcamp_labels": {k: v for k, v in table.labels.items() if k not in _DATA_LABELS},
    }
    if table.page:
        metadata["jcamp_page"] = table.page
    if excitation_nm is not None and technique is Technique.RAMAN:
        metadata["excitation_nm"] = excitation_nm
    for key, meta_key in _METADATA_LABELS.items():
        if key in table.labels:
            metadata[meta_key] = table.labels[key]
    names = table.labels.get("NAMES", "").strip().splitlines()
    name = names[0].strip() if names and names[0].strip() else table.labels.get("TITLE", "")
    if table.page:
        name = f"{name} ({table.page})"
    return Spectrum(x=x[order], y=y[order], technique=technique, name=name, metadata=metadata)
