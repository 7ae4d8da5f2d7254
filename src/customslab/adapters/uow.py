"""The SQLAlchemy unit of work and the local content-addressed file store."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from customslab.adapters import orm
from customslab.adapters.audit_anchor import AuditSigner
from customslab.adapters.audit_log import install_audit_hook
from customslab.adapters.concurrency import conflict_for, install_version_hook
from customslab.adapters.db import make_engine, session_factory
from customslab.adapters.federation_repository import SqlFederationRepository
from customslab.adapters.knowledge_index import SqlKnowledgeIndex
from customslab.adapters.notification_repository import SqlNotificationRepository
from customslab.adapters.quality_repository import SqlQualityRepository
from customslab.adapters.report_pdf import PdfReportRenderer
from customslab.adapters.repository import SqlRepository
from customslab.adapters.targeting_alert_repository import SqlFirstIdentificationRepository
from customslab.adapters.targeting_repository import SqlTargetingRepository
from customslab.services.ports import (
    AbstractUnitOfWork,
    FileStore,
    ReportRenderer,
    StoredFile,
    UploadTooLarge,
)

CHUNK = 1024 * 1024


def utcnow() -> datetime:
    return datetime.now(UTC)


class LocalFileStore(FileStore):
    """Files live at ROOT/ab/abcdef… by sha256; written to a temp file, then renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, stream: BinaryIO, max_bytes: int) -> StoredFile:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadTooLarge(f"the file is larger than the limit of {max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            final = self._path(sha)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            return StoredFile(sha, size)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def open(self, sha256: str) -> BinaryIO:
        return self._path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()


class Database:
    """The engine and session factory of one database, built once and passed around.

    With `audit_signer`, commits that append audit entries also write the signed checkpoints of the
    chain's head when one is due; without it (tools, most tests) the chain is written unanchored.
    """

    def __init__(self, url: str, audit_signer: AuditSigner | None = None) -> None:
        orm.start_mappers()
        self.url = url
        self.audit_signer = audit_signer
        self.engine: Engine = make_engine(url)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        install_version_hook(self.sessions)
        # Last of the hooks: the audit append (and its lock) is the last thing before each COMMIT.
        install_audit_hook(self.sessions, audit_signer)

    def dispose(self) -> None:
        self.engine.dispose()


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    def __init__(
        self,
        db: Database,
        files: FileStore,
        clock: Callable[[], datetime] = utcnow,
        reports: ReportRenderer | None = None,
    ) -> None:
        self.db = db
        self.files = files
        self.clock = clock
        self.reports = reports or PdfReportRenderer()

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        self.session = self.db.sessions()
        self.session.info["actor"] = "system"
        self.repo = SqlRepository(self.session)
        self.quality = SqlQualityRepository(self.session)
        self.federation = SqlFederationRepository(self.session)
        self.notifications = SqlNotificationRepository(self.session)
        self.knowledge = SqlKnowledgeIndex(self.session)
        self.targeting = SqlTargetingRepository(self.session)
        self.first_identifications = SqlFirstIdentificationRepository(self.session)
        return self

    def __exit__(self, *args: object) -> None:
        exc = args[1] if len(args) > 1 and isinstance(args[1], BaseException) else None
        try:
            self.rollback()
            # A concurrent writer won (a stale row version, a unique key taken at the same moment):
            # the person gets a 409 that says what changed, never a 500.
            clash = None if exc is None else conflict_for(self.session, exc)
        finally:
            self.session.close()
        if clash is not None:
            raise clash from exc

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def act_as(self, actor: str, reason: str | None = None) -> None:
        self.session.info["actor"] = actor
        self.session.info["reason"] = reason
