"""The knowledge base's documents on SQLite: visibility across laboratories and administrations, versions,
audited metadata edits, hostile uploads refused with nothing stored, and approved opinions as precedents.

Ranking on both databases is in test_knowledge_search.py; the visibility table, cell by cell on both, in
test_access_table.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from customslab.adapters.knowledge_index import knowledge_doc_stats, knowledge_postings
from customslab.adapters.quality_tables import TABLE_OF
from customslab.adapters.tables_base import metadata
from customslab.adapters.uow import Database, SqlAlchemyUnitOfWork
from customslab.domain.access import SharingLevel
from customslab.domain.enums import ResultKind
from customslab.domain.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from customslab.domain.knowledge import FileTooLarge, UnsupportedFileType
from customslab.domain.model import Result
from customslab.services import classification, knowledge
from customslab.services.classification import OpinionCreate
from customslab.services.contract import parse
from customslab.services.knowledge import DocumentEdit, UploadedFile, VersionCreate
from customslab.services.knowledge_indexing import reindex_knowledge
from customslab.services.knowledge_ports import KnowledgeDocument, KnowledgeVersion
from customslab.services.knowledge_search import KnowledgeQuery, related_to_sample, search_knowledge
from tests.factories import Network, assigned_test, received_sample, unique
from tests.integration.knowledge_support import add, upload
from tests.integration.knowledge_support import metadata as doc_metadata

Factory = Callable[[], SqlAlchemyUnitOfWork]


def found_ids(factory: Factory, net: Network, who: str, q: str, **filters: object) -> set[int]:
    query = parse(KnowledgeQuery, {"q": q, "limit": 50, **filters})
    return {h.id for h in search_knowledge(factory(), net[who], query).hits}


def test_the_tables_of_the_knowledge_base_are_the_ones_migration_0012_creates(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, metadata) if "knowledge" in str(d)]
    db.dispose()
    assert {"knowledge_documents", "knowledge_versions", "knowledge_postings", "knowledge_doc_stats"} <= set(
        metadata.tables
    )
    assert diffs == []


def test_a_document_is_seen_across_laboratories_and_administrations_as_its_sharing_level_says(
    kb: tuple[Factory, Network],
) -> None:
    factory, net = kb
    word = unique("kbvis").lower()
    ids = {
        level: add(factory, net["central_manager"], f"{level} guide", f"{word} guide", sharing=level).id
        for level in (SharingLevel.LABORATORY, SharingLevel.ADMINISTRATION, SharingLevel.NETWORK)
    }
    lab, admin, network = ids.values()
    expected = {
        "analyst": {lab, admin, network},  # the owning laboratory
        "admin": {lab, admin, network},  # its administrator (own organisation)
        "local_analyst": {admin, network},  # a laboratory under it
        "outsider": {admin, network},  # another laboratory of the administration
        "rcl_manager": {network},  # another administration
        "coordinator": {network},
    }
    for who, wanted in expected.items():
        assert found_ids(factory, net, who, word) == wanted, who  # the SQL (search)
        for document_id in ids.values():  # the domain (one document)
            try:
                seen = knowledge.get_document(factory(), net[who], document_id).id == document_id
            except NotFound:
                seen = False
            assert seen == (document_id in wanted), (who, document_id)
    with pytest.raises(PermissionDenied):
        search_knowledge(factory(), net["officer"], parse(KnowledgeQuery, {"q": word}))
    with pytest.raises(NotFound):
        knowledge.document_file(factory(), net["rcl_manager"], lab)


def test_only_reviewers_and_managers_share_beyond_the_administration(kb: tuple[Factory, Network]) -> None:
    factory, net = kb
    with pytest.raises(PermissionDenied, match="beyond the administration"):
        add(factory, net["analyst"], "Wide", "text", sharing=SharingLevel.NETWORK)
    kept = add(factory, net["analyst"], "Narrow", "text", sharing=SharingLevel.ADMINISTRATION)
    assert (kept.owner_lab, kept.author_lab, kept.can_edit) == (net.central, net.central, True)


def test_a_new_version_is_searchable_and_the_old_one_is_kept_and_downloadable(
    kb: tuple[Factory, Network],
) -> None:
    factory, net = kb
    old, new = unique("oldword").lower(), unique("newword").lower()
    first = add(factory, net["analyst"], "Rice guide", f"Cooked rice {old}", "rice-v1.txt")
    second = knowledge.add_version(
        factory(),
        net["analyst"],
        first.id,
        VersionCreate(note="revised"),
        upload("rice-v2.txt", f"Rice {new}"),
    )
    assert second.current_version == 2
    assert [(v.version, v.filename, v.note) for v in second.versions] == [
        (2, "rice-v2.txt", "revised"),
        (1, "rice-v1.txt", ""),
    ]
    assert found_ids(factory, net, "analyst", new) == {first.id}
    assert found_ids(factory, net, "analyst", old) == set()  # the index holds the current text only
    assert (
        knowledge.document_file(factory(), net["analyst"], first.id, 1).data == f"Cooked rice {old}".encode()
    )
    assert knowledge.document_file(factory(), net["analyst"], first.id).data == f"Rice {new}".encode()
    with pytest.raises(NotFound):
        knowledge.document_file(factory(), net["analyst"], first.id, 3)
    # Another laboratory's staff see the document (it is not private) but may not add to it.
    shared = add(factory, net["central_manager"], "Shared", "text", sharing=SharingLevel.ADMINISTRATION)
    with pytest.raises(PermissionDenied, match="owns this document"):
        knowledge.add_version(
            factory(), net["local_analyst"], shared.id, VersionCreate(), upload("x.txt", "y")
        )


def test_a_metadata_edit_is_audited_and_a_stale_one_is_a_conflict(kb: tuple[Factory, Network]) -> None:
    factory, net = kb
    shared = SharingLevel.ADMINISTRATION  # seen by the other laboratories of the administration
    doc = add(factory, net["analyst"], "Draft title", "pepper text", hs_codes=["0904"], sharing=shared)
    edit = parse(
        DocumentEdit, {"row_version": doc.row_version, "title": "Final title", "hs_codes": ["2103.90"]}
    )
    edited = knowledge.edit_metadata(factory(), net["reviewer"], doc.id, edit)
    assert (edited.title, edited.hs_codes, edited.updated_by) == (
        "Final title",
        ["2103.90"],
        net["reviewer"].username,
    )
    assert edited.row_version == doc.row_version + 1
    with factory() as uow:
        trail = uow.repo.audit_for("knowledge_documents", str(doc.id))
    change = trail[-1].changes
    assert trail[-1].actor == net["reviewer"].username
    assert change["title"] == {"before": "Draft title", "after": "Final title"}
    assert change["hs_codes"] == {"before": ["0904"], "after": ["2103.90"]}
    # The filters moved with the metadata.
    assert found_ids(factory, net, "analyst", "pepper", hs="2103") >= {doc.id}
    assert doc.id not in found_ids(factory, net, "analyst", "pepper", hs="0904")
    with pytest.raises(Conflict, match="changed by someone else"):
        knowledge.edit_metadata(factory(), net["analyst"], doc.id, edit)  # the version read before the edit
    with pytest.raises(PermissionDenied):
        knowledge.edit_metadata(
            factory(), net["outsider"], doc.id, parse(DocumentEdit, {"row_version": edited.row_version})
        )


@pytest.mark.parametrize(
    ("name", "data", "media_type", "error", "message"),
    [
        ("empty.txt", b"", "text/plain", ValidationFailed, "empty"),
        ("big.txt", b"x" * 101, "text/plain", FileTooLarge, "larger than the upload limit"),
        ("tool.exe", b"MZ\x90\x00", "application/octet-stream", UnsupportedFileType, "cannot be read"),
        ("broken.pdf", b"%PDF-1.4\n garbage", "application/pdf", ValidationFailed, "PDF"),
        ("fake.docx", b"not a zip at all", None, ValidationFailed, "Word"),
        ("blank.html", b"<html><script>alert(1)</script></html>", "text/html", ValidationFailed, "no text"),
        ("  ", b"text", "text/plain", ValidationFailed, "needs a name"),
    ],
)
def test_a_hostile_upload_is_refused_with_its_reason_and_nothing_is_stored(
    kb: tuple[Factory, Network],
    name: str,
    data: bytes,
    media_type: str | None,
    error: type[Exception],
    message: str,
) -> None:
    factory, net = kb

    def counts() -> tuple[int, ...]:
        with factory() as uow:
            tables = (
                TABLE_OF[KnowledgeDocument],
                TABLE_OF[KnowledgeVersion],
                knowledge_postings,
                knowledge_doc_stats,
            )
            return tuple(int(uow.session.scalar(select(func.count()).select_from(t)) or 0) for t in tables)

    bad = UploadedFile(name, media_type, data, 100)
    before = counts()
    with pytest.raises(error, match=message):
        knowledge.add_document(factory(), net["analyst"], doc_metadata("Hostile"), bad)
    assert counts() == before
    doc = add(factory, net["analyst"], "Good", "good text")
    before = counts()
    with pytest.raises(error, match=message):
        knowledge.add_version(factory(), net["analyst"], doc.id, VersionCreate(), bad)
    assert counts() == before
    assert knowledge.get_document(factory(), net["analyst"], doc.id).current_version == 1


def _opinion(factory: Factory, net: Network, reasoning: str) -> tuple[int, int]:
    """A central sample of ground red pepper declared 0904.22 with capsaicin identified; its opinion."""
    sample = received_sample(factory, net, declared_hs="0904.22", goods_description="Ground red pepper")
    test = assigned_test(factory, net, sample.id, determination="identity (GC-MS)", method_ref="GC-MS-7")
    with factory() as uow:
        uow.act_as("test-setup")
        found = uow.repo.test(test.id)
        assert found is not None
        found.results.append(
            Result(
                "identity",
                None,
                "",
                net["analyst"].user_id,
                datetime.now(UTC),
                kind=ResultKind.IDENTITY,
                text_value="Capsaicin",
            )
        )
        uow.commit()
    cmd = OpinionCreate(determined_code="2103.90", reasoning=reasoning)
    op = classification.write_opinion(factory(), net["analyst"], sample.id, cmd)
    assert op.id is not None
    return sample.id, op.id


def test_an_approved_opinion_becomes_a_precedent_shared_when_the_opinion_is(
    kb: tuple[Factory, Network],
) -> None:
    factory, net = kb
    word = unique("precedent").lower()
    sample_id, opinion_id = _opinion(factory, net, f"A seasoning paste of red pepper with starch, {word}.")
    assert found_ids(factory, net, "analyst", word) == set()  # a draft is no precedent
    classification.approve_opinion(factory(), net["reviewer"], opinion_id)
    [doc_id] = found_ids(factory, net, "analyst", word)
    doc = knowledge.get_document(factory(), net["analyst"], doc_id)
    assert (doc.kind.value, doc.source, doc.sharing, doc.opinion_id) == (
        "classification_opinion",
        f"opinion:{opinion_id}",
        SharingLevel.LABORATORY,
        opinion_id,
    )
    assert doc.hs_codes == ["0904.22", "2103.90"] and doc.substances == [] and not doc.can_edit
    assert found_ids(factory, net, "rcl_manager", word) == set()
    with pytest.raises(InvalidTransition):
        knowledge.edit_metadata(factory(), net["reviewer"], doc_id, parse(DocumentEdit, {"row_version": 1}))
    classification.share_opinion(factory(), net["reviewer"], opinion_id)
    assert found_ids(factory, net, "rcl_manager", word) == {doc_id}
    # Another case under the same heading finds it as a precedent; its own case does not list itself.
    other_id, _ = _opinion(factory, net, "Another pepper case, still being written up by the analyst.")
    related = related_to_sample(factory(), net["analyst"], other_id, limit=50)
    assert doc_id in [p.id for p in related.precedents]
    assert related.headings == ["0904", "2103"] and related.substances == ["Capsaicin"]
    assert doc_id not in [p.id for p in related_to_sample(factory(), net["analyst"], sample_id).precedents]
    # The index rebuilt from the records gives the same answers.
    assert reindex_knowledge(factory()) >= 1
    assert found_ids(factory, net, "rcl_manager", word) == {doc_id}


def test_a_sample_finds_the_guidebooks_of_its_heading_and_of_the_substances_identified(
    kb: tuple[Factory, Network],
) -> None:
    factory, net = kb
    manager = net["central_manager"]
    by_heading = add(factory, manager, "Pepper guide", "Dried peppers of heading 09.04.", hs_codes=["0904"])
    by_both = add(factory, manager, "Pungency", "Hot peppers", hs_codes=["0904"], substances=["Capsaicin"])
    by_substance = add(
        factory, manager, "Capsaicin by HPLC", "Method", substances=["Capsaicin"], kind="method"
    )
    unrelated = add(factory, manager, "Rum guide", "Spirits of heading 22.08.", hs_codes=["2208"])
    sample_id, _ = _opinion(
        factory, net, "Red pepper in oil: a sauce preparation of heading 21.03, not a spice."
    )
    related = related_to_sample(factory(), net["analyst"], sample_id, limit=50)
    ids = [d.id for d in related.documents]
    assert unrelated.id not in ids
    # Heading and substance first, then the heading alone, then the substance alone.
    assert ids.index(by_both.id) < ids.index(by_heading.id) < ids.index(by_substance.id)
    assert related.documents[ids.index(by_both.id)].snippet is not None
    with pytest.raises(NotFound):
        related_to_sample(factory(), net["rcl_manager"], sample_id)  # a case the reader may not see
