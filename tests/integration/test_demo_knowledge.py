"""The demo's knowledge base: the red pepper guidebooks always, the public ROCB A/P articles when the real
data is beside the checkout, loaded once; and the demo's red pepper case finds the guidebooks."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import create_engine, text

from customslab.adapters.uow import Database, LocalFileStore, SqlAlchemyUnitOfWork
from customslab.config import Settings
from customslab.domain.access import Actor
from customslab.entrypoints.demo_setup import load_demo
from customslab.services import knowledge_search
from customslab.services.demo import STAFF
from customslab.services.demo_documents import ARTICLE_LICENCE
from customslab.services.knowledge_ports import KnowledgeDocument
from customslab.services.knowledge_search import KnowledgeQuery

#: Enough requests for the demo's cycle of goods to reach the dried red pepper powder (the 11th).
REQUESTS = 14


def _documents(settings: Settings) -> tuple[list[SimpleNamespace], Database]:
    """The stored documents' metadata, read while the unit of work is open."""
    db = Database(settings.database_url)
    uow = SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store))
    fields = ("id", "title", "kind", "language", "year", "hs_codes", "licence", "sharing")
    with uow:
        docs = sorted(uow.quality.find(KnowledgeDocument), key=lambda d: d.id or 0)
        return [SimpleNamespace(**{f: getattr(d, f) for f in fields}) for d in docs], db


def _analyst(uow: SqlAlchemyUnitOfWork, username: str) -> Actor:
    with uow:
        user = uow.repo.user_by_name(username)
        assert user is not None and user.id is not None
        return Actor(user.id, user.username, user.org_code, frozenset(user.roles))


def test_the_demo_knowledge_base_holds_the_guidebooks_and_the_articles_and_the_pepper_case_finds_them(
    tmp_path: Path, shared_data: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    settings = Settings(mode="demo", database_url=url, file_store=tmp_path / "files", shared_data=shared_data)
    assert load_demo(settings, n_requests=REQUESTS) is True
    docs, db = _documents(settings)
    by_title = {d.title: d for d in docs}
    korean = by_title["건고추와 고추 조제품의 품목분류 안내서"]
    assert (korean.language, korean.sharing, korean.kind) == ("ko", "administration", "guidebook")
    assert korean.hs_codes == ["0904.21", "0904.22", "2103.90", "2106.90"]
    articles = [d for d in docs if d.licence == ARTICLE_LICENCE]
    assert sorted(d.year for d in articles) == [2013, 2018, 2018, 2021, 2023]
    assert {(d.language, d.sharing) for d in articles} == {("en", "network")}
    assert {d.kind for d in articles} == {"seminar_paper", "research"}
    assert "ROCB E-Newsletter No.62" in by_title

    uow = SqlAlchemyUnitOfWork(db, LocalFileStore(settings.file_store))
    found = knowledge_search.search_knowledge(uow, _analyst(uow, "analyst"), KnowledgeQuery(q="고추"))
    assert found.hits[0].id == korean.id
    assert any(s.highlighted and s.text == "고추" for s in found.hits[0].snippet)

    engine = create_engine(url)
    with engine.connect() as conn:
        pepper = conn.execute(
            text(
                "SELECT s.id, s.lab_code FROM samples s JOIN analysis_requests r ON s.request_id = r.id "
                "WHERE r.declared_hs LIKE '0904%' ORDER BY s.id"
            )
        ).first()
    engine.dispose()
    assert pepper is not None, "the demo has a red pepper case"
    reader = _analyst(uow, STAFF[pepper.lab_code][1])
    related = knowledge_search.related_to_sample(uow, reader, pepper.id)
    assert related.headings[0] == "0904"
    assert korean.id in {d.id for d in related.documents}

    assert load_demo(settings, n_requests=REQUESTS) is False
    again, db2 = _documents(settings)
    assert len(again) == len(docs), "loading the demo again adds no document"
    db.dispose()
    db2.dispose()


def test_a_demo_without_the_shared_data_still_has_the_guidebooks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    absent = tmp_path / "no-shared-data"
    settings = Settings(mode="demo", database_url=url, file_store=tmp_path / "files", shared_data=absent)
    assert load_demo(settings, n_requests=3) is True
    docs, db = _documents(settings)
    db.dispose()
    uploaded = [d for d in docs if d.kind != "classification_opinion"]  # the joint analysis's opinions
    assert sorted(d.language for d in uploaded) == ["en", "ko"]
    assert {d.kind for d in uploaded} == {"guidebook"}
