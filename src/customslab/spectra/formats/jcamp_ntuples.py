"""JCAMP-DX 5.01 ##NTUPLES records: pages of data described by per-variable attribute lists.

The layout (Lampen et al., Appl. Spectrosc. 48 (1994) 1545, and the 5.01 NTUPLES text)::

    ##NTUPLES= MASS SPECTRUM
    ##VAR_NAME= MASS, INTENSITY, RETENTION TIME
    ##SYMBOL= X, Y, T
    ##UNITS= M/Z, RELATIVE ABUNDANCE, SECONDS      (also ##VAR_TYPE, ##VAR_FORM, ##VAR_DIM,
    ##FIRST= , , 5                                  ##FIRST, ##LAST, ##MIN, ##MAX, ##FACTOR)
    ##PAGE= T=5
    ##NPOINTS= 4                                   (optional, for this page only)
    ##DATA TABLE= (XY..XY), PEAKS                  or (X++(Y..Y)), XYDATA
    ...data...
    ##END NTUPLES= MASS SPECTRUM

Each page becomes one data table carrying the labels a plain block would (XUNITS, FIRSTX, LASTX,
XFACTOR, YFACTOR, NPOINTS), taken from the attribute lists by the symbols its variable list names;
a page may restate an attribute list, and its entries then override the record's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from customslab.spectra.formats.jcamp_tables import PROFILE_FORM, DataTable
from customslab.spectra.formats.jcamp_units import normalise_label
from customslab.spectra.model import SpectrumFormatError

_LIST_ATTRIBUTES = {
    "VARNAME": "##VAR_NAME",
    "SYMBOL": "##SYMBOL",
    "VARTYPE": "##VAR_TYPE",
    "VARFORM": "##VAR_FORM",
    "VARDIM": "##VAR_DIM",
    "UNITS": "##UNITS",
    "FIRST": "##FIRST",
    "LAST": "##LAST",
    "MIN": "##MIN",
    "MAX": "##MAX",
    "FACTOR": "##FACTOR",
}
_SYMBOL = r"[A-Z]\d*"
_PROFILE = re.compile(rf"\(({_SYMBOL})\+\+\(({_SYMBOL})\.\.\2\)\)")
_TUPLES = re.compile(rf"\(((?:{_SYMBOL}){{2,3}})\.\.\1\)")
# (block label, attribute list, 0 for the independent symbol or 1 for the dependent one)
_COLUMNS = (
    ("XUNITS", "UNITS", 0),
    ("YUNITS", "UNITS", 1),
    ("FIRSTX", "FIRST", 0),
    ("LASTX", "LAST", 0),
    ("XFACTOR", "FACTOR", 0),
    ("YFACTOR", "FACTOR", 1),
)


@dataclass
class Page:
    """One ##PAGE= of an NTUPLES record: its page variables, own records and data table."""

    line: int
    variables: str
    labels: dict[str, str] = field(default_factory=dict)
    label_lines: dict[str, int] = field(default_factory=dict)
    form: str = ""
    descriptor: str = ""
    table_line: int = 0
    data: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class NTuples:
    """An ##NTUPLES= record being read: attribute lists, then pages, until ##END NTUPLES=."""

    line: int
    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    attribute_lines: dict[str, int] = field(default_factory=dict)
    pages: list[Page] = field(default_factory=list)
    is_open: bool = True

    def record(self, key: str, value: str, number: int) -> dict[str, str]:
        """Keep a labelled record (in the current page once one is open); returns where it went."""
        if self.pages:
            page = self.pages[-1]
            page.labels[key], page.label_lines[key] = value, number
            return page.labels
        self.attributes[key], self.attribute_lines[key] = value, number
        return self.attributes

    def open_page(self, value: str, number: int) -> None:
        self.pages.append(Page(line=number, variables=value.strip()))

    def open_table(self, value: str, number: int, source: str) -> list[tuple[int, str]]:
        """Start the current page's ##DATA TABLE=; returns the list its data lines go to."""
        if not self.pages:
            raise SpectrumFormatError(source, "##DATA TABLE before the first ##PAGE", number)
        page = self.pages[-1]
        if page.form:
            raise SpectrumFormatError(source, "a page may hold only one ##DATA TABLE", number)
        closing = value.rfind(")")
        if closing < 0:
            raise SpectrumFormatError(source, f"##DATA TABLE={value!r} names no variable list", number)
        page.form = normalise_label(value[: closing + 1])
        page.descriptor = normalise_label(value[closing + 1 :].lstrip(" \t,"))
        page.table_line = number
        return page.data

    def tables(
        self, block_labels: Mapping[str, str], block_lines: Mapping[str, int], start_line: int, source: str
    ) -> list[DataTable]:
        """One data table per page, in file order."""
        symbols = _entries(self.attributes.get("SYMBOL", ""))
        if not any(symbols):
            raise SpectrumFormatError(source, "##NTUPLES without a ##SYMBOL list", self.line)
        if not self.pages:
            raise SpectrumFormatError(source, "##NTUPLES holds no ##PAGE", self.line)
        return [
            self._page_table(page, symbols, block_labels, block_lines, start_line, source)
            for page in self.pages
        ]

    def _page_table(
        self,
        page: Page,
        symbols: list[str],
        block_labels: Mapping[str, str],
        block_lines: Mapping[str, int],
        start_line: int,
        source: str,
    ) -> DataTable:
        if not page.form:
            raise SpectrumFormatError(source, f"##PAGE={page.variables} has no ##DATA TABLE", page.line)
        form, kind, used = _page_form(page, source)
        indices = []
        for symbol in used:
            if symbol not in [s.upper() for s in symbols]:
                raise SpectrumFormatError(
                    source, f"variable {symbol} of the ##DATA TABLE is not in ##SYMBOL", page.table_line
                )
            indices.append([s.upper() for s in symbols].index(symbol))
        labels = dict(block_labels)
        lines = dict(block_lines)
        for key, value in page.labels.items():
            if key not in _LIST_ATTRIBUTES:
                labels[key], lines[key] = value, page.label_lines[key]
        names: dict[str, str] = {}
        for target, attribute, which in _COLUMNS:
            names[target] = f"{_LIST_ATTRIBUTES[attribute]} ({used[which]})"
            entry, line = self._entry(page, attribute, indices[which])
            if entry:
                labels[target], lines[target] = entry, line
        if "NPOINTS" not in page.labels:
            names["NPOINTS"] = f"##VAR_DIM ({used[1]})"
            entry, line = self._entry(page, "VARDIM", indices[1])
            if not entry:
                entry, line = self._entry(page, "VARDIM", indices[0])
            if entry:
                labels["NPOINTS"], lines["NPOINTS"] = entry, line
            else:
                labels.pop("NPOINTS", None)
        return DataTable(
            start_line=start_line,
            line=page.table_line,
            kind=kind,
            form=form,
            labels=labels,
            label_lines=lines,
            data=page.data,
            where=f"page {page.variables!r} at line {page.line}",
            page=page.variables,
            names=names,
        )

    def _entry(self, page: Page, attribute: str, index: int) -> tuple[str, int]:
        for labels, lines in ((page.labels, page.label_lines), (self.attributes, self.attribute_lines)):
            entries = _entries(labels.get(attribute, ""))
            if index < len(entries) and entries[index]:
                return entries[index], lines[attribute]
        return "", 0


def _entries(text: str) -> list[str]:
    return [entry.strip() for entry in text.split(",")] if text.strip() else []


def _page_form(page: Page, source: str) -> tuple[str, str, list[str]]:
    """The page's table as a plain block's: (data form, data kind, symbols of x, y[, w or m])."""
    profile = _PROFILE.fullmatch(page.form)
    tuples = _TUPLES.fullmatch(page.form)
    if profile and page.descriptor in {"XYDATA", "PROFILE", ""}:
        return PROFILE_FORM, "XYDATA", [profile.group(1), profile.group(2)]
    if tuples and page.descriptor in {"PEAKS", "PEAKTABLE", "XYPOINTS", "XYDATA", "PROFILE", ""}:
        used = re.findall(_SYMBOL, tuples.group(1))
        kind = "PEAKTABLE" if page.descriptor in {"PEAKS", "PEAKTABLE"} else "XYPOINTS"
        if len(used) == 2:
            return "(XY..XY)", kind, used
        return ("(XYM..XYM)" if used[2].startswith("M") else "(XYW..XYW)"), kind, used
    shown = f"{page.form}, {page.descriptor}" if page.descriptor else page.form
    raise SpectrumFormatError(source, f"unsupported ##DATA TABLE={shown}", page.table_line)
