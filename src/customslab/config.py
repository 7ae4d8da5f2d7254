"""One typed Settings object, read from CUSTOMSLAB_* environment variables and passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

INSECURE_SECRET = "changeme"
AUDIT_KEY_REQUIRED = (
    "CUSTOMSLAB_AUDIT_KEY_FILE must name the audit signing key (a PEM file kept off the "
    "database's volume; `customslab audit new-key` creates one) outside demo, dev and test mode"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUSTOMSLAB_", extra="ignore")

    mode: Literal["production", "dev", "demo", "test"] = "production"
    database_url: str = "sqlite:///var/customslab.sqlite3"
    secret_key: str = INSECURE_SECRET
    file_store: Path = Path("var/files")
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    #: Every body that is not a multipart upload (JSON, URL-encoded forms); checked as it streams in.
    max_json_bytes: int = Field(default=1024 * 1024, gt=0)
    #: A session (API token or page cookie) ends after this long without a request...
    session_idle_minutes: int = Field(default=30, gt=0)
    #: ...and this long after sign-in in any case.
    session_lifetime_minutes: int = Field(default=8 * 60, gt=0)
    #: Sign-in throttling: failures are counted over this window, per account and per address.
    sign_in_window_minutes: int = Field(default=15, gt=0)
    #: From this many failures for one account, each attempt waits 2^(n - this) seconds...
    sign_in_backoff_after: int = Field(default=5, gt=0)
    #: ...at most this long...
    sign_in_backoff_max_seconds: int = Field(default=60, gt=0)
    #: ...and this many lock the account for `sign_in_lockout_minutes`.
    sign_in_lockout_after: int = Field(default=10, gt=0)
    sign_in_lockout_minutes: int = Field(default=15, gt=0)
    #: The same for one client address (higher: an office may sign in from behind one address).
    sign_in_address_backoff_after: int = Field(default=30, gt=0)
    sign_in_address_lockout_after: int = Field(default=45, gt=0)
    library_path: Path | None = None
    shared_data: Path = Path("../shared/data")
    #: A laboratory's own CAS → HS table (CSV, docs/chemical-hs.md), added to the seed table; its rows
    #: take over the CAS numbers and names they share. Checked against the HS 2022 nomenclature in
    #: `shared_data`/hs at start-up: a faulty file stops the start with its line numbers.
    cas_hs_file: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    #: Server processes of `customslab serve` (`--workers`), sharing one listening socket; more than one
    #: needs PostgreSQL (SQLite serves one process). Each process pools up to 20 database connections
    #: (10 kept, 10 more at peaks): size PostgreSQL's max_connections for workers × 20.
    workers: int = Field(default=1, ge=1, le=32)
    #: Threads of one EI library search in the server (None: 2 where the machine has 2 CPUs or more).
    #: Batch searches run one thread per worker process whatever this says.
    search_threads: int | None = Field(default=None, ge=1, le=16)
    cookie_secure: bool = False
    #: The Ed25519 private key (PEM) that signs the audit chain's checkpoints. Keep it off the database's
    #: volume: whoever holds both can rewrite the trail. Required in production; elsewhere it defaults
    #: to audit-key.pem beside the file store, created (0600) on first use.
    audit_key_file: Path | None = None
    #: A commit that appends audit entries checkpoints the chain's head once the last checkpoint is
    #: older than this (0: at every such commit); entries newer than it are not yet anchored.
    audit_checkpoint_seconds: int = Field(default=60, ge=0)

    #: Federation: this deployment's base URL as partners reach it (named in the messages it sends).
    public_url: str = ""
    #: The directory of this deployment's Ed25519 federation keys (PEM, one file per key, readable by
    #: the owner only). Like the audit key, keep it off the database's volume. Defaults to
    #: federation-keys/ beside the file store; outside production a missing key is created on first use.
    federation_key_dir: Path | None = None
    #: A failed delivery is retried after base·2^(n−1) seconds (with jitter), at most `cap` apart.
    federation_retry_base_seconds: float = Field(default=5.0, gt=0)
    federation_retry_cap_seconds: float = Field(default=3600.0, gt=0)
    #: How long a partner may take to answer one delivery.
    federation_timeout_seconds: float = Field(default=15.0, gt=0)
    #: The largest message received (a report's PDF travels inside its bundle).
    federation_max_message_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    #: The served application (`serve`, `demo`, `uvicorn --factory customslab.entrypoints.asgi:app`)
    #: delivers the outbox from a thread of its own, started and stopped with it. Unset: on in every mode
    #: but test (so that a test's `TestClient(app)` starts no thread); true: on in test mode too; false:
    #: off, and `customslab worker` delivers instead. Several processes may deliver at once on PostgreSQL
    #: (each message is locked while it is sent); on SQLite, keep to one: the in-process worker or one
    #: `customslab worker` (a message sent twice is harmless, the partner answers 409, but it is waste).
    worker_in_process: bool | None = None
    #: The worker looks for due messages this often (and again at once after a pass that sent some).
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    #: The worker looks for work due within a day, and e-mails due notifications, this often.
    notification_poll_seconds: float = Field(default=60.0, gt=0)

    #: Targeting alert rules (domain.targeting_alerts.AlertRules): the worker runs the rate and importer
    #: rules this often (a first identification alerts at its approval). A mismatch rate of a heading ×
    #: origin alerts when its last `alert_recent_days` (with at least `alert_min_recent_n` cases) rise above
    #: the `alert_history_days` before them; an importer when it has `alert_importer_mismatches` differing
    #: cases within `alert_importer_days`.
    alert_poll_seconds: float = Field(default=3600.0, gt=0)
    alert_recent_days: int = Field(default=90, ge=1, le=3650)
    alert_history_days: int = Field(default=365, ge=1, le=3650)
    alert_min_recent_n: int = Field(default=5, ge=1)
    alert_importer_mismatches: int = Field(default=3, ge=1)
    alert_importer_days: int = Field(default=180, ge=1, le=3650)

    #: E-mail of notifications (optional): the SMTP server. Unset, nothing is e-mailed; each user still
    #: sees their notifications in the application. Only the worker sends, never a request.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    #: Login to the SMTP server, when it wants one.
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    #: The sender's address (required with `smtp_host`).
    smtp_from: str = ""
    #: Upgrade the connection with STARTTLS (the server's certificate checked) before anything is sent;
    #: turn off only for a relay on the same machine or a trusted network.
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)

    def delivers_in_process(self) -> bool:
        """Whether the served application runs the outbox worker in a thread (see `worker_in_process`)."""
        return self.mode != "test" if self.worker_in_process is None else self.worker_in_process

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if self.mode == "production" and (self.secret_key == INSECURE_SECRET or len(self.secret_key) < 32):
            raise ValueError(
                "CUSTOMSLAB_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside demo, dev and test mode"
            )
        return self

    @model_validator(mode="after")
    def _require_audit_key_in_production(self) -> Settings:
        if self.mode == "production" and self.audit_key_file is None:
            raise ValueError(AUDIT_KEY_REQUIRED)
        return self

    @model_validator(mode="after")
    def _check_smtp(self) -> Settings:
        if self.smtp_host and "@" not in self.smtp_from:
            raise ValueError(
                "CUSTOMSLAB_SMTP_FROM must be the sender's e-mail address when CUSTOMSLAB_SMTP_HOST is set"
            )
        if self.mode == "production" and self.smtp_host and self.smtp_user and not self.smtp_starttls:
            raise ValueError(
                "CUSTOMSLAB_SMTP_STARTTLS=false would send the SMTP password in clear; keep STARTTLS on "
                "outside demo, dev and test mode when CUSTOMSLAB_SMTP_USER is set"
            )
        return self

    def federation_key_path(self) -> Path:
        """The federation keys' directory: the configured one, or federation-keys/ beside the file store."""
        return self.federation_key_dir or self.file_store.parent / "federation-keys"

    def audit_key_path(self) -> Path:
        """The audit signing key's file: the configured one, or audit-key.pem beside the file store."""
        return self.audit_key_file or self.file_store.parent / "audit-key.pem"

    def default_library_path(self) -> Path:
        """The default spectral library's folder: the configured one, or var/library/default (built from
        `shared_data` on first use, or by `customslab demo` at set-up)."""
        return self.library_path or Path("var/library/default")


class CheckSettings(Settings):
    """The settings of a read-only check (`report verify`, `audit verify`): it opens no session and signs
    nothing, so production's secret key and audit key requirements are waived here, and only here. The
    server and every command that writes keep `Settings`, which refuses them; `audit verify`, which needs
    the audit key to check the checkpoints' signatures, asks for it itself (`audit_key_missing`)."""

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> CheckSettings:
        return self

    @model_validator(mode="after")
    def _require_audit_key_in_production(self) -> CheckSettings:
        return self

    def audit_key_missing(self) -> str | None:
        """Why the audit key cannot be found (production without CUSTOMSLAB_AUDIT_KEY_FILE), or None."""
        return AUDIT_KEY_REQUIRED if self.mode == "production" and self.audit_key_file is None else None
