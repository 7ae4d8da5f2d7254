"""Documents for the knowledge-base tests: the real ROCB A/P articles and guidebooks written for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from customslab.adapters.db import upgrade
from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.domain.access import Actor, SharingLevel
from customslab.services import knowledge
from customslab.services.contract import parse
from customslab.services.knowledge import DocumentCreate, DocumentView, UploadedFile
from tests.factories import Network, make_network
from tests.integration.conftest import create_pg_database, drop_pg_database

LIMIT = 5 * 1024 * 1024

#: A Korean guidebook on red pepper (고추) and its preparations, written for these tests: the particle
#: forms 고추를, 고추장 and 고추의 must be found by the query 고추.
KOREAN_PEPPER = """고추 및 고추 조제품의 품목분류 지침서

건조한 고추를 부수거나 가루로 만든 것은 제0904호에 분류한다. 고추를 기름, 설탕, 전분과 섞어 조미한
고추장이나 고추 양념은 소스와 그 조제품으로서 제2103호에 분류한다. 분석할 때에는 고추의 캡사이신 함량,
수분, 첨가된 전분과 당류의 유무를 확인한다.
"""

#: A second Korean guidebook (cooked or raw rice), so that a Korean query has something to beat.
KOREAN_RICE = """쌀의 호화도 분석 지침

조리된 쌀과 생쌀을 구별하기 위하여 호화도를 측정한다. 호화도가 높으면 조리하거나 찐 쌀로 보아 제1904호에,
낮으면 제1006호에 분류한다. 시료는 분쇄하여 효소법으로 분석한다.
"""

ENGLISH_PEPPER = """Guidebook: dried red pepper and its preparations

Dried fruits of the genus Capsicum, whole, crushed or ground, fall in heading 09.04. Red pepper mixed
with oil, sugar or starch into a seasoning or a paste is a preparation of heading 21.03. The laboratory
measures capsaicin, moisture and added starch and sugars to tell the two apart.
"""

#: The real articles (tests/../shared/data/knowledge), by a short key: (file, title, year).
ARTICLES = {
    "workshop2013": ("2013-chemical-analysis-workshop-ccl-japan.txt", 2013),
    "busan2018": ("2018-busan-workshop-capacity-building.txt", 2018),
    "newsletter62": ("2018-rocb-newsletter-62-kccl-designated-rcl.txt", 2018),
    "global2021": ("2021-global-meeting-wco-regional-structures.txt", 2021),
    "kashiwa2023": ("2023-heads-of-rcl-meeting-kashiwa.txt", 2023),
}

#: Typical queries and the document each must rank first.
QUERIES = [
    ("Busan workshop", "busan2018"),
    ("heads of the regional customs laboratories in Kashiwa", "kashiwa2023"),
    ("chemical analysis workshop for trade security", "workshop2013"),
    ("COVID-19 virtual global meeting", "global2021"),
    ("environmental crime", "newsletter62"),
    ("red pepper preparations", "pepper_en"),
    ("고추", "pepper_ko"),
    ("고추를 섞은 조제품", "pepper_ko"),
    ("호화도", "rice_ko"),
]


def metadata(title: str, **fields: Any) -> DocumentCreate:
    data: dict[str, Any] = {"title": title, "kind": "guidebook", "language": "en", "year": 2024}
    return parse(DocumentCreate, data | fields)


def upload(name: str, text: str | bytes, media_type: str | None = "text/plain") -> UploadedFile:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return UploadedFile(name, media_type, data, LIMIT)


def add(
    factory: Callable[[], Any],
    actor: Actor,
    title: str,
    text: str | bytes,
    name: str = "doc.txt",
    **fields: Any,
) -> DocumentView:
    return knowledge.add_document(factory(), actor, metadata(title, **fields), upload(name, text))


@dataclass
class Corpus:
    """A database of its own with the articles and guidebooks, all shared with the network."""

    factory: Callable[[], SqlAlchemyUnitOfWork]
    net: Network
    ids: dict[str, int] = field(default_factory=dict)

    def key_of(self, document_id: int) -> str:
        return next(k for k, v in self.ids.items() if v == document_id)


def build_corpus(url: str, files: Path, shared_data: Path) -> tuple[Corpus, Database]:
    upgrade(url)
    db = Database(url)
    store = LocalFileStore(files)

    def factory() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(db, store)

    net = make_network(factory)
    corpus = Corpus(factory, net)
    manager = net["central_manager"]
    network = SharingLevel.NETWORK
    for key, (filename, year) in ARTICLES.items():
        text = (shared_data / "knowledge" / filename).read_text(encoding="utf-8")
        title = next(line for line in text.splitlines() if line.strip() and "ROCB" not in line).strip()
        corpus.ids[key] = add(
            factory, manager, title[:300], text, filename, kind="seminar_paper", year=year, sharing=network
        ).id
    guides = {
        "pepper_ko": (KOREAN_PEPPER, "고추 조제품 품목분류 지침서", "ko", ["0904", "2103"]),
        "rice_ko": (KOREAN_RICE, "쌀의 호화도 분석 지침", "ko", ["1006", "1904"]),
        "pepper_en": (ENGLISH_PEPPER, "Dried red pepper and its preparations", "en", ["0904.22", "2103.90"]),
    }
    for key, (text, title, language, codes) in guides.items():
        corpus.ids[key] = add(
            factory, manager, title, text, f"{key}.txt", language=language, hs_codes=codes, sharing=network
        ).id
    return corpus, db


def corpus_on(backend: str, tmp: Path, shared_data: Path) -> Iterator[Corpus]:
    """A corpus on a fresh database of `backend`, dropped afterwards."""
    url = create_pg_database() if backend == "postgresql" else f"sqlite:///{tmp / 'knowledge.sqlite3'}"
    corpus, db = build_corpus(url, tmp / "files", shared_data)
    try:
        yield corpus
    finally:
        db.dispose()
        if backend == "postgresql":
            drop_pg_database(url)
