"""Adapters built from the settings, in one place: the audit signer and the database that uses it.

Every entry point that writes (the server, the demo loader, the user commands) opens the database
through `database`, so its commits write the signed checkpoints of the audit chain when one is due.
"""

from __future__ import annotations

from customslab.adapters.audit_anchor import AuditSigner
from customslab.adapters.uow import Database
from customslab.config import Settings


def audit_signer(settings: Settings) -> AuditSigner:
    """The signer of the audit checkpoints; outside production a missing key file is created on first use.

    Raises `AuditKeyError` when production has no readable key file."""
    return AuditSigner(
        settings.audit_key_path(),
        create_missing=settings.mode != "production",
        checkpoint_seconds=settings.audit_checkpoint_seconds,
    )


def database(settings: Settings) -> Database:
    """The configured database, with the audit signer."""
    return Database(settings.database_url, audit_signer=audit_signer(settings))
