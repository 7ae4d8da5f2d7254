"""The demo's knowledge base: two guidebooks written for it (package data, `demo_knowledge/`) and the
public ROCB A/P articles about the customs laboratory network, when the real data is beside the checkout.

Loaded through the same use case as an upload on the page, by the central laboratory's manager, so the
documents are versioned, audited and indexed like any other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from customslab.domain.access import Actor, SharingLevel
from customslab.domain.knowledge import DocumentKind
from customslab.services import knowledge
from customslab.services.demo import UowFactory
from customslab.services.knowledge import DocumentCreate, UploadedFile
from customslab.services.knowledge_ports import KnowledgeDocument

#: Who adds the demo's documents: the central laboratory's manager may share with the whole network.
LOADER = "manager.ccl"
#: Credited on each article, as ../shared/data/knowledge/README.md asks.
ARTICLE_LICENCE = "ROCB A/P public information article (rocb-ap.org); quoted with its source"
GUIDEBOOK_LICENCE = "Written for the customslab demonstration; not an official ruling"
PEPPER_CODES = ["0904.21", "0904.22", "2103.90", "2106.90"]
MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class DemoDocument:
    """A file of the demo's knowledge base and the metadata it is uploaded with."""

    filename: str
    data: bytes
    metadata: DocumentCreate


def guidebooks() -> list[DemoDocument]:
    """The red pepper guidebooks, in Korean (shared within the administration) and in English."""
    folder = resources.files("customslab.services").joinpath("demo_knowledge")
    shared = {
        "kind": DocumentKind.GUIDEBOOK,
        "year": 2026,
        "hs_codes": PEPPER_CODES,
        "licence": GUIDEBOOK_LICENCE,
        "sharing": SharingLevel.ADMINISTRATION,
    }
    return [
        DemoDocument(
            "red-pepper-guidebook-ko.txt",
            folder.joinpath("red-pepper-guidebook-ko.txt").read_bytes(),
            DocumentCreate.model_validate(
                shared
                | {
                    "title": "건고추와 고추 조제품의 품목분류 안내서",
                    "language": "ko",
                    "tags": ["고추", "고춧가루", "향신료", "혼합조미료"],
                }
            ),
        ),
        DemoDocument(
            "red-pepper-guidebook-en.txt",
            folder.joinpath("red-pepper-guidebook-en.txt").read_bytes(),
            DocumentCreate.model_validate(
                shared
                | {
                    "title": "Guidebook: classifying dried red pepper and preparations of red pepper",
                    "language": "en",
                    "tags": ["red pepper", "capsicum", "spices", "mixed seasonings"],
                }
            ),
        ),
    ]


def article(filename: str, data: bytes) -> DemoDocument:
    """One of the public ROCB A/P articles: its first line is its title, the file name starts with its
    year; the newsletter is research material, the workshop and meeting reports seminar papers."""
    text = data.decode("utf-8", errors="replace")
    title = next((line.strip() for line in text.splitlines() if line.strip()), filename)[:300]
    year = re.match(r"(\d{4})-", filename)
    kind = DocumentKind.RESEARCH if "newsletter" in filename else DocumentKind.SEMINAR_PAPER
    metadata = DocumentCreate.model_validate(
        {
            "title": title,
            "kind": kind,
            "language": "en",
            "year": int(year.group(1)) if year else 2020,
            "author_lab": "WCO ROCB A/P",
            "tags": ["Regional Customs Laboratory", "ROCB A/P"],
            "licence": ARTICLE_LICENCE,
            "sharing": SharingLevel.NETWORK,
        }
    )
    return DemoDocument(filename, data, metadata)


def seed_demo_documents(make_uow: UowFactory, documents: Sequence[DemoDocument]) -> int:
    """Upload the documents not yet in the knowledge base (by title), as the central laboratory's manager;
    how many it added. Nothing when the demo network is not loaded."""
    uow = make_uow(lambda: datetime.now(UTC))
    with uow:
        user = uow.repo.user_by_name(LOADER)
        if user is None or user.id is None:
            return 0
        actor = Actor(user.id, user.username, user.org_code, frozenset(user.roles))
        there = {d.title for d in uow.quality.find(KnowledgeDocument)}
    added = 0
    for doc in documents:
        if doc.metadata.title in there:
            continue
        upload = UploadedFile(doc.filename, "text/plain", doc.data, MAX_BYTES)
        knowledge.add_document(make_uow(lambda: datetime.now(UTC)), actor, doc.metadata, upload)
        added += 1
    return added
