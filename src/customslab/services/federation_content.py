"""What shared knowledge holds, by kind, and the bounds a received copy must keep.

A method travels as its `MethodVersion` (`domain.plain.to_plain`); an opinion, a spectrum and a
knowledge document as the models below. The publisher (`federation_sharing`, `knowledge_federation`)
builds them; the receiver (`federation_shared`) validates what arrives against the same declarations, so
a hostile or broken partner cannot store anything larger or other than this.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from customslab.services.contract import Text

#: A shared spectrum holds at most this many points (a prepared FTIR vector holds a few thousand).
MAX_POINTS = 20_000
#: Bounds of a received item, checked before anything is stored (the table's own column sizes).
MAX_ORIGIN_REF, MAX_VERSION, MAX_AUTHOR, MAX_LICENCE, MAX_TITLE = 200, 40, 200, 200, 500
#: The content of one item as JSON text; a spectrum of MAX_POINTS points fits.
MAX_CONTENT_CHARS = 1_000_000


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Finite = Annotated[float, AfterValidator(_finite)]
Short = Annotated[str, Text(200)]
Prose = Annotated[str, Text(4000)]


class SharedContent(BaseModel):
    """What a receiver accepts of a kind's content: bounded fields; fields it does not know are dropped
    (a newer partner may send more)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class SharedRule(SharedContent):
    """A legal-note rule that fired for the opinion: which, from which legal text, to what outcome."""

    id: Short
    source: Annotated[str, Text(1000)] = ""
    title: Annotated[str, Text(1000)] = ""
    outcome: Short = ""
    status: Short = ""


class SharedOpinion(SharedContent):
    """An approved classification opinion: the codes, the reasoning and the legal notes behind it.

    An opinion holds no declaration data (declaration and item number, importer, value, currency, the
    officer's question stay with the request); this whitelist keeps it so even if the record grows."""

    declared_code: Annotated[str, Text(20)] = ""
    determined_code: Annotated[str, Text(20, 1)]
    mismatch: Annotated[str, Text(20)] = ""
    goods_description: Prose = ""
    reasoning: Annotated[str, Text(20000, 1)]
    references: tuple[Annotated[str, Text(500)], ...] = Field(default=(), max_length=50)
    rules: tuple[SharedRule, ...] = Field(default=(), max_length=100)
    decision_rule: Short = ""
    approved_at: datetime | None = None


class SharedSpectrum(SharedContent):
    """A spectral library entry: its spectrum as the library stores it (EI-MS peaks; the prepared
    FTIR/Raman vector on its axis), its identifiers, and its source, authors and licence."""

    library: Annotated[str, Text(60)] = ""
    library_version: Annotated[str, Text(40)] = ""
    technique: Annotated[str, Text(20, 1)]
    name: Annotated[str, Text(500, 1)]
    synonyms: tuple[Annotated[str, Text(500)], ...] = Field(default=(), max_length=50)
    inchikey: Short = ""
    formula: Short = ""
    cas: Short = ""
    accession: Short = ""
    retention_index: Finite | None = None
    authors: Prose = ""
    citation: Prose = ""
    description: Prose = ""
    source_file: Short = ""
    licence: Short = ""
    attribution: Prose = ""
    x: tuple[Finite, ...] = Field(max_length=MAX_POINTS)
    y: tuple[Finite, ...] = Field(max_length=MAX_POINTS)

    @model_validator(mode="after")
    def _paired(self) -> SharedSpectrum:
        if len(self.x) != len(self.y) or not self.x:
            raise ValueError("a spectrum needs as many x as y values, and at least one point")
        return self


class SharedDocument(SharedContent):
    """A knowledge document's version (`knowledge_federation`): its metadata and extracted text. The file
    stays on the author's server; its name, type, size and sha256 say which file the text came from."""

    kind: Annotated[str, Text(32, 1)]  # domain.knowledge.DocumentKind, as the sender names it
    language: Annotated[str, Text(35)] = ""
    year: Annotated[int, Field(ge=1900, le=2199)] | None = None
    hs_codes: tuple[Annotated[str, Text(20)], ...] = Field(default=(), max_length=50)
    substances: tuple[Annotated[str, Text(120)], ...] = Field(default=(), max_length=50)
    tags: tuple[Annotated[str, Text(120)], ...] = Field(default=(), max_length=50)
    filename: Annotated[str, Text(255)] = ""
    media_type: Annotated[str, Text(100)] = ""
    size: Annotated[int, Field(ge=0)] = 0
    sha256: Annotated[str, Text(64)] = ""
    pages: Annotated[int, Field(ge=0)] = 0
    note: Annotated[str, Text(500)] = ""
    text: Annotated[str, Text(MAX_CONTENT_CHARS)] = ""
    text_cut: bool = Field(default=False, description="The text was cut to fit one message.")


def content_size(content: Any) -> int:
    """The content's size as JSON text, which bounds what a copy may hold."""
    return len(json.dumps(content, ensure_ascii=False, default=str))
