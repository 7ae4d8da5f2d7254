"""Adapters built from the settings, in one place: the audit signer and the database that uses it, and
the federation keys.

Every entry point that writes (the server, the demo loader, the user commands) opens the database
through `database`, so its commits write the signed checkpoints of the audit chain when one is due.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from customslab.adapters.audit_anchor import AuditSigner
from customslab.adapters.uow import Database
from customslab.config import Settings
from customslab.services.notification_ports import Mailer
from customslab.services.ports import AbstractUnitOfWork

if TYPE_CHECKING:
    from customslab.adapters.federation.keys import DeploymentKey, KeyFolder
    from customslab.domain.targeting_alerts import AlertRules
    from customslab.substances.chem_hs import ChemHsTable


def audit_signer(settings: Settings) -> AuditSigner:
    """The signer of the audit checkpoints; outside production a missing key file is created on first use.

    Raises `AuditKeyError` when production has no readable key file."""
    return AuditSigner(
        settings.audit_key_path(),
        create_missing=settings.mode != "production",
        checkpoint_seconds=settings.audit_checkpoint_seconds,
    )


def spectral_search(settings: Settings) -> None:
    """Threads of one library search in this process (``search_threads``; the module's default else)."""
    if settings.search_threads is not None:
        from customslab.spectra import search_pruned

        search_pruned.set_default_threads(settings.search_threads)


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


def alert_rules(settings: Settings) -> AlertRules:
    """The targeting alert rules' parameters from the CUSTOMSLAB_ALERT_* settings."""
    from customslab.domain.targeting_alerts import AlertRules

    return AlertRules(
        recent_days=settings.alert_recent_days,
        history_days=settings.alert_history_days,
        min_recent_n=settings.alert_min_recent_n,
        importer_mismatches=settings.alert_importer_mismatches,
        importer_days=settings.alert_importer_days,
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


def chem_hs_table(settings: Settings) -> ChemHsTable | None:
    """The CAS → HS table behind the HS evaluation's proposals: the seed table, plus the laboratory's own
    (`cas_hs_file`), both checked against the HS 2022 nomenclature in `shared_data`/hs. None (no
    proposals, with a warning) when that nomenclature is missing and no laboratory table is set.

    Raises ChemHsError naming the faults of a table, or when a laboratory table is set but the
    nomenclature to check it against is missing."""
    lab_file = str(settings.cas_hs_file) if settings.cas_hs_file else ""
    return _chem_hs_table(str(settings.shared_data / "hs"), lab_file)


@lru_cache(maxsize=8)
def _chem_hs_table(hs_dir: str, lab_file: str) -> ChemHsTable | None:
    # Read once per process and configuration: the files are reference data, not state.
    from customslab.hs.nomenclature import cached_nomenclature
    from customslab.substances.chem_hs import (
        ChemHsError,
        Fault,
        bundled_table,
        read_table_file,
        subheading_texts,
    )

    if not (Path(hs_dir) / "harmonized-system.csv").is_file():
        if lab_file:
            problem = f"the HS 2022 nomenclature to check it against is not in {hs_dir}"
            raise ChemHsError([Fault(0, problem)], lab_file)
        logging.getLogger(__name__).warning(
            "No HS 2022 nomenclature in %s: the HS evaluation proposes no codes from identifications.", hs_dir
        )
        return None
    texts = subheading_texts(cached_nomenclature(hs_dir))
    table = bundled_table(texts)
    return table.plus(read_table_file(Path(lab_file), texts)) if lab_file else table
