"""Adapters built from the settings, in one place: the audit signer and the database that uses it, and
the federation keys.

Every entry point that writes (the server, the demo loader, the user commands) opens the database
through `database`, so its commits write the signed checkpoints of the audit chain when one is due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from customslab.adapters.audit_anchor import AuditSigner
from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.services.notification_ports import Mailer
from customslab.services.ports import AbstractUnitOfWork

if TYPE_CHECKING:
    from customslab.adapters.federation.keys import DeploymentKey, KeyFolder


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


def mailer(settings: Settings) -> Mailer | None:
    """The SMTP mailer of the notifications, or None when no SMTP server is configured."""
    from customslab.adapters.mailer import SmtpMailer

    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        user=settings.smtp_user,
        password=password,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )


def key_folder(settings: Settings) -> KeyFolder:
    """The folder of this deployment's private federation keys."""
    from customslab.adapters.federation.keys import KeyFolder

    return KeyFolder(settings.federation_key_path())


def signing_key(settings: Settings, uow_factory: Callable[[], AbstractUnitOfWork]) -> DeploymentKey:
    """This deployment's current signing key: the oldest own key valid now whose private key is in the
    key folder. During a rotation's overlap the old key goes on signing, so that no partner sees the new
    one before the `KeyRotated` message has told it; once the old key ends, the new one signs. Outside
    production a deployment without any own key gets its first one here.

    Raises `KeyMissing` when none is usable (in production: run `customslab federation rotate-key`)."""
    from customslab.adapters.federation.keys import KeyMissing
    from customslab.services import federation_partners

    folder = key_folder(settings)
    own = federation_partners.own_keys(uow_factory(), None)
    usable = [k for k in own.keys if k.valid_now and folder.has(k.key_id)]
    if usable:
        return folder.load(usable[0].key_id)
    if own.keys or settings.mode == "production":
        raise KeyMissing(
            f"This deployment ({own.administration_code}) has no federation key valid now whose private "
            f"key is in {folder.directory}; run `customslab federation rotate-key`."
        )
    key = folder.generate()
    federation_partners.register_own_key(uow_factory(), None, key.key_id, key.public_b64, timedelta(0))
    return key
