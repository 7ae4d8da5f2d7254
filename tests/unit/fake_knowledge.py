"""An in-memory knowledge index, ranking with the same BM25 formula as the SQL one (for unit tests)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence

from customslab.domain.access import SharingLevel
from customslab.domain.knowledge import hs_ancestors
from customslab.knowledge.text import K1, B
from customslab.services.knowledge_ports import (
    IndexedDocument,
    IndexFilters,
    KnowledgeIndex,
    SearchFilters,
    SearchPage,
)

Visible = Mapping[SharingLevel, Collection[str]]


def _above(hs: str, hs_text: str) -> bool:
    """Whether a document's codes include the chapter, heading or subheading `hs` lies under."""
    return any(f" {code} " in hs_text for code in hs_ancestors(hs))


class FakeKnowledgeIndex(KnowledgeIndex):
    def __init__(self) -> None:
        self.terms: dict[int, Counter[str]] = {}
        self.filters: dict[int, IndexFilters] = {}

    def replace(self, document_id: int, terms: Counter[str], filters: IndexFilters) -> None:
        self.terms[document_id] = Counter(terms)
        self.filters[document_id] = filters

    def update_filters(self, document_id: int, filters: IndexFilters) -> None:
        if document_id in self.filters:
            self.filters[document_id] = filters

    def remove(self, document_id: int) -> None:
        self.terms.pop(document_id, None)
        self.filters.pop(document_id, None)

    def bulk_load(self, documents: Iterable[IndexedDocument]) -> int:
        n = 0
        for doc in documents:
            self.replace(doc.document_id, doc.terms, doc.filters)
            n += 1
        return n

    def clear(self) -> None:
        self.terms.clear()
        self.filters.clear()

    def _counted(self, visible: Visible | None) -> list[Counter[str]]:
        return [c for d, c in self.terms.items() if visible is None or self._sees(d, visible)]

    def df(self, terms: Collection[str], visible: Visible | None = None) -> dict[str, int]:
        counted = self._counted(visible)
        found = {t: sum(1 for c in counted if t in c) for t in terms}
        return {t: n for t, n in found.items() if n}

    def n_docs(self, visible: Visible | None = None) -> int:
        return len(self._counted(visible))

    def avg_length(self, visible: Visible | None = None) -> float:
        lengths = [sum(c.values()) for c in self._counted(visible)]
        return sum(lengths) / len(lengths) if lengths else 1.0

    def _sees(self, d: int, visible: Visible) -> bool:
        m = self.filters[d]
        return m.owner_lab in visible.get(SharingLevel(m.sharing), ())

    def _matches(self, d: int, visible: Visible, f: SearchFilters) -> bool:
        m = self.filters[d]
        return (
            self._sees(d, visible)
            and (not f.hs or f" {f.hs}" in m.hs_text or _above(f.hs, m.hs_text))
            and (f.year is None or m.year == f.year)
            and (not f.lab or f.lab in (m.owner_lab, m.author_lab))
            and (not f.language or m.language == f.language or m.language.startswith(f.language + "-"))
            and (not f.kind or m.kind == f.kind)
        )

    def search(
        self,
        weights: Mapping[str, float],
        visible: Mapping[SharingLevel, Collection[str]],
        filters: SearchFilters,
        limit: int,
        offset: int = 0,
    ) -> SearchPage:
        found = [d for d in self.terms if self._matches(d, visible, filters)]
        if not weights:
            found.sort(key=lambda d: (-self.filters[d].year, -d))
            return SearchPage(len(found), [(d, 0.0) for d in found[offset : offset + limit]])
        avg = self.avg_length(visible)
        scored = []
        for d in found:
            tf, length = self.terms[d], sum(self.terms[d].values())
            hit = [t for t in weights if tf[t]]
            if hit and (not filters.all_terms or len(hit) == len(weights)):
                norm = K1 * (1 - B + B * length / avg)
                scored.append((d, sum(weights[t] * tf[t] * (K1 + 1) / (tf[t] + norm) for t in hit)))
        scored.sort(key=lambda x: (-x[1], x[0]))
        return SearchPage(len(scored), scored[offset : offset + limit])

    def indexed_ids(self) -> Sequence[int]:
        return sorted(self.terms)
