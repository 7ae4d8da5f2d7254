"""Tables of the case-management core and the imperative mapping of the domain's dataclasses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import registry, relationship

from customslab.adapters import federation_tables, joint_tables, quality_tables
from customslab.adapters import knowledge_index as knowledge_index  # registers the search index tables
from customslab.adapters import targeting_alert_repository as targeting_alert_repository  # its table
from customslab.adapters import targeting_tables as targeting_tables  # registers targeting_outcomes
from customslab.adapters.tables_base import keyed_table, metadata, row_version, string_enum
from customslab.adapters.types import ContactPointList, DecimalText, RoleSet, UTCDateTime
from customslab.domain import enums
from customslab.domain import model as m

#: The customs administrations of the network; declaration data stays inside each unless released.
administrations = Table(
    "administrations",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("has_laboratories", Boolean, nullable=False, default=True),
    Column("home", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    row_version(),
)

organisations = Table(
    "organisations",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", string_enum(enums.OrgKind), nullable=False),
    Column("country", String(2), nullable=False),
    Column("address", Text, nullable=False, default=""),
    Column("parent_code", String(32), ForeignKey("organisations.code"), nullable=True),
    Column("contact_points", ContactPointList, nullable=False, default=list),
    row_version(),
    Column("administration_code", String(32), ForeignKey("administrations.code"), nullable=False, index=True),
    Column("rcl_region", String(80), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
)

users = keyed_table(
    "users",
    Column("username", String(80), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("email", String(200), nullable=False, default=""),
    Column("org_code", String(32), ForeignKey("organisations.code"), nullable=False, index=True),
    Column("roles", RoleSet, nullable=False),
    Column("password_hash", String(200), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    row_version(),
)

#: Signed-in sessions of the API (bearer tokens) and of the pages (the cookie names one); only the
#: token's sha256 is stored. Revoked at sign-out, password change or by an administrator.
sessions = keyed_table(
    "sessions",
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("ended_reason", String(60), nullable=False, default=""),
    Column("address", String(64), nullable=False, default=""),
    Column("user_agent", String(200), nullable=False, default=""),
)

#: Every sign-in attempt's outcome (append-only): what sign-in throttling counts.
sign_in_events = keyed_table(
    "sign_in_events",
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("username", String(80), nullable=False, index=True),
    Column("address", String(64), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
)

#: What needs each user (a referral, an assignment, an approval, work due); see domain Notification.
notifications = keyed_table(
    "notifications",
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("kind", string_enum(enums.NotificationKind), nullable=False),
    Column("key", String(200), nullable=False),
    Column("subject", Text, nullable=False),
    Column("link", String(300), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime, nullable=True),
    Column("emailed_at", UTCDateTime, nullable=True),
    UniqueConstraint("user_id", "key", name="uq_notifications_user_key"),
)

analysis_requests = keyed_table(
    "analysis_requests",
    Column("reference", String(40), nullable=False, unique=True),
    Column("office_code", String(32), ForeignKey("organisations.code"), nullable=False),
    Column("requester_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("lab_code", String(32), ForeignKey("organisations.code"), nullable=False, index=True),
    Column("declaration_number", String(60), nullable=False),
    Column("item_number", Integer, nullable=False),
    Column("declared_hs", String(10), nullable=False),
    Column("goods_description", Text, nullable=False),
    Column("origin_country", String(2), nullable=False),
    Column("importer", String(200), nullable=False, default=""),
    Column("declarant", String(200), nullable=False, default=""),
    Column("declared_value", DecimalText, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("reason", string_enum(enums.Reason), nullable=False),
    Column("priority", string_enum(enums.Priority), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("requested_determinations", JSON, nullable=False, default=list),
    Column("question", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    row_version(),
    Column("administration_code", String(32), ForeignKey("administrations.code"), nullable=False, index=True),
)

#: Declaration fields released to another administration, one row per field (append-only).
declaration_releases = keyed_table(
    "declaration_releases",
    Column("request_id", Integer, ForeignKey("analysis_requests.id"), nullable=False, index=True),
    Column("administration_code", String(32), ForeignKey("administrations.code"), nullable=False),
    Column("field_name", String(40), nullable=False),
    Column("released_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("released_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    UniqueConstraint("request_id", "administration_code", "field_name", name="uq_declaration_releases_field"),
)

#: The predicate of the queue's partial indexes: the sample is in an open state. Queries that should use
#: them spell the states as literals (list_queries.in_states), which the planners can match to it.
QUEUE_OPEN_STATES = sorted(s.value for s in enums.OPEN_STATES)
_QUEUE_OPEN_SQL = "state IN ({})".format(", ".join(f"'{s}'" for s in QUEUE_OPEN_STATES))
QUEUE_OPEN_WHERE: dict[str, Any] = {
    "postgresql_where": text(_QUEUE_OPEN_SQL),
    "sqlite_where": text(_QUEUE_OPEN_SQL),
}

samples = keyed_table(
    "samples",
    Column("lab_sample_id", String(40), nullable=False, unique=True),
    Column("request_id", Integer, ForeignKey("analysis_requests.id"), nullable=False, index=True),
    Column("lab_code", String(32), ForeignKey("organisations.code"), nullable=False),
    Column("description", Text, nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("unit", String(20), nullable=False),
    Column("state", string_enum(enums.State), nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("seal_number", String(60), nullable=False, default=""),
    Column("condition_on_receipt", Text, nullable=False, default=""),
    Column("storage_location", String(120), nullable=False, default=""),
    Column("retention_until", Date, nullable=True),
    Column("disposed_at", UTCDateTime, nullable=True),
    Column("disposal_record", Text, nullable=False, default=""),
    Column("rejection_reason", Text, nullable=False, default=""),
    Column("received_at", UTCDateTime, nullable=True),
    Column("analysis_started_at", UTCDateTime, nullable=True),
    Column("submitted_at", UTCDateTime, nullable=True),
    Column("approved_at", UTCDateTime, nullable=True),
    Column("reported_at", UTCDateTime, nullable=True),
    Column("parent_id", Integer, ForeignKey("samples.id"), nullable=True),
    # The mark a controlled identity puts on the case (migration 0011).
    Column("control_mark", Text, nullable=False, default=""),
    Column("control_marked_at", UTCDateTime, nullable=True),
    Column("control_marked_by", String(80), nullable=False, default=""),
    # The request's due date and urgency rank (0 urgent, 1 routine), copied by triggers (migration 0016)
    # so that the queue's orders come from an index on this table; not mapped onto the domain's Sample.
    Column("queue_due_date", Date, nullable=True),
    Column("queue_urgency", SmallInteger, nullable=True),
    Index("ix_samples_lab_state_due", "lab_code", "state", "queue_due_date", "queue_urgency", "id"),
    Index("ix_samples_queue_due", "lab_code", "queue_due_date", "queue_urgency", "id", **QUEUE_OPEN_WHERE),
    Index(
        "ix_samples_queue_priority", "lab_code", "queue_urgency", "queue_due_date", "id", **QUEUE_OPEN_WHERE
    ),
    Index("ix_samples_queue_registered", "lab_code", "registered_at", "id", **QUEUE_OPEN_WHERE),
    row_version(),
)

custody_events = keyed_table(
    "custody_events",
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=False, index=True),
    Column("kind", string_enum(enums.CustodyKind), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("by_user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("from_party", String(200), nullable=False, default=""),
    Column("to_party", String(200), nullable=False, default=""),
    Column("location", String(200), nullable=False, default=""),
    Column("seal_number", String(60), nullable=False, default=""),
    Column("seal_intact", Boolean, nullable=True),
    Column("note", Text, nullable=False, default=""),
)

tests = keyed_table(
    "tests",
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=False, index=True),
    Column("determination", String(200), nullable=False),
    Column("method_ref", String(120), nullable=False),
    Column("state", string_enum(enums.State), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("analyst_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("return_reason", Text, nullable=False, default=""),
    Column("approved_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("approved_at", UTCDateTime, nullable=True),
    Column("submitted_at", UTCDateTime, nullable=True),
    Column("method_version_id", Integer, nullable=True),  # quality_method_versions.id (0004_quality)
    Index("ix_tests_analyst_state", "analyst_id", "state"),
    row_version(),
)

results = keyed_table(
    "results",
    Column("test_id", Integer, ForeignKey("tests.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("value", DecimalText, nullable=True),
    Column("unit", String(40), nullable=False),
    Column("expanded_uncertainty", DecimalText, nullable=True),
    Column("coverage_factor", DecimalText, nullable=True),
    Column("lod", DecimalText, nullable=True),
    Column("loq", DecimalText, nullable=True),
    Column("observation", Text, nullable=False, default=""),
    Column("entered_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Column("equipment_id", Integer, nullable=True),  # quality_equipment.id (0004_quality)
    Column("qc_batch_id", Integer, nullable=True),  # quality_qc_batches.id (0004_quality)
    Column("kind", string_enum(enums.ResultKind), nullable=False, default=enums.ResultKind.QUANTITY),
    Column("text_value", Text, nullable=False, default=""),
    Column("identification_id", Integer, nullable=True),  # identifications.id (0009_working_day)
)

attachments = keyed_table(
    "attachments",
    Column("test_id", Integer, ForeignKey("tests.id"), nullable=False, index=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("filename", String(255), nullable=False),
    Column("media_type", String(120), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("uploaded_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
)

referrals = keyed_table(
    "referrals",
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=False, index=True),
    Column("from_lab", String(32), ForeignKey("organisations.code"), nullable=False, index=True),
    Column("to_lab", String(32), ForeignKey("organisations.code"), nullable=False, index=True),
    Column("kind", string_enum(enums.ReferralKind), nullable=False),
    Column("state", string_enum(enums.ReferralState), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("accepted_at", UTCDateTime, nullable=True),
    Column("completed_at", UTCDateTime, nullable=True),
    row_version(),
)

shares = keyed_table(
    "shares",
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=False, index=True),
    Column("org_code", String(32), ForeignKey("organisations.code"), nullable=False, index=True),
    Column("shared_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("shared_at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False, default=""),
    UniqueConstraint("sample_id", "org_code", name="uq_shares_sample_org"),
)

identifications = keyed_table(
    "identifications",
    Column("test_id", Integer, ForeignKey("tests.id"), nullable=False, index=True),
    Column("attachment_sha256", String(64), nullable=False),
    Column("technique", String(20), nullable=False),
    Column("library_id", String(120), nullable=False),
    Column("library_version", String(120), nullable=False),
    Column("hits", JSON, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

classification_opinions = keyed_table(
    "classification_opinions",
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=False, index=True),
    Column("lab_code", String(32), ForeignKey("organisations.code"), nullable=False, index=True),
    Column("declared_code", String(10), nullable=False),
    Column("determined_code", String(10), nullable=False, index=True),
    Column("reasoning", Text, nullable=False),
    Column("references", JSON, nullable=False),
    Column("evaluation", JSON, nullable=False),
    Column("goods_description", Text, nullable=False, default=""),
    Column("author_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("reviewer_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("reviewed_at", UTCDateTime, nullable=True),
    Column("shared", Boolean, nullable=False, default=False),
    row_version(),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("entity", String(60), nullable=False),
    Column("entity_id", String(60), nullable=False),
    Column("action", String(20), nullable=False),
    Column("changes", JSON, nullable=False),
    Column("reason", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_entity", "entity", "entity_id"),
)

#: Signed checkpoints of the audit chain's head (append-only); the key that signs them is not in the
#: database, so rewriting or truncating the chain after a checkpoint is detected by `audit verify`.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("head_hash", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
)

sequences = Table(
    "sequences",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("value", Integer, nullable=False),
)

mapper_registry = registry(metadata=metadata)
_started = False

#: Tables whose rows are audited, by the name used in audit entries.
AUDITED = (
    {
        "administrations",
        "declaration_releases",
        "organisations",
        "users",
        "analysis_requests",
        "samples",
        "custody_events",
        "tests",
        "results",
        "attachments",
        "referrals",
        "shares",
        "identifications",
        "classification_opinions",
        "sessions",
        "sign_in_events",
    }
    | quality_tables.QUALITY_TABLE_NAMES
    | joint_tables.JOINT_TABLE_NAMES
    | federation_tables.FEDERATION_TABLE_NAMES
)


def _versioned(table: Table) -> dict[str, Any]:
    """Mapper options that make the ORM check `row_version` in every UPDATE of the table's rows.

    The counter is set by `adapters.concurrency` (not by the ORM), which also moves the version of the
    aggregate a new child joins, so two writers on one sample or test cannot both succeed."""
    return {"version_id_col": table.c.row_version, "version_id_generator": False}


def start_mappers() -> None:
    """Map the domain's dataclasses onto the tables; idempotent."""
    global _started
    if _started:
        return
    _started = True
    reg = mapper_registry
    reg.map_imperatively(m.Administration, administrations, **_versioned(administrations))
    reg.map_imperatively(m.Organisation, organisations, **_versioned(organisations))
    reg.map_imperatively(m.DeclarationRelease, declaration_releases)
    reg.map_imperatively(m.User, users, **_versioned(users))
    reg.map_imperatively(m.CustodyEvent, custody_events)
    reg.map_imperatively(m.Result, results)
    reg.map_imperatively(m.Attachment, attachments)
    reg.map_imperatively(
        m.AnalysisTest,
        tests,
        **_versioned(tests),
        properties={
            "results": relationship(m.Result, order_by=results.c.id, lazy="selectin"),
            "attachments": relationship(m.Attachment, order_by=attachments.c.id, lazy="selectin"),
        },
    )
    reg.map_imperatively(
        m.Sample,
        samples,
        **_versioned(samples),
        exclude_properties=["queue_due_date", "queue_urgency"],
        properties={
            "custody": relationship(m.CustodyEvent, order_by=custody_events.c.id, lazy="selectin"),
            "tests": relationship(m.AnalysisTest, order_by=tests.c.id, lazy="selectin"),
        },
    )
    reg.map_imperatively(
        m.AnalysisRequest,
        analysis_requests,
        **_versioned(analysis_requests),
        # Loaded only where a page shows them (`SqlRepository.load_samples`), never with the request: a
        # seizure's request holds hundreds of samples, and a write on one of them must not load them all.
        properties={"samples": relationship(m.Sample, order_by=samples.c.id, lazy="select")},
    )
    reg.map_imperatively(m.Referral, referrals, **_versioned(referrals))
    reg.map_imperatively(m.UserSession, sessions)
    reg.map_imperatively(m.SignInEvent, sign_in_events)
    reg.map_imperatively(m.Notification, notifications)
    reg.map_imperatively(m.Share, shares)
    reg.map_imperatively(m.Identification, identifications)
    reg.map_imperatively(
        m.ClassificationOpinion, classification_opinions, **_versioned(classification_opinions)
    )
    quality_tables.map_quality(reg)
    joint_tables.map_joint(reg)
    federation_tables.map_federation(reg)
    # Configure now, not at the first query: until then a mapped class's attributes are half set up,
    # and reading one on a record made before mapping (the demo network's) fails.
    reg.configure()
