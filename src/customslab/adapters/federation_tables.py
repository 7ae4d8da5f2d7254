"""Tables of federation between deployments, and their mapping.

The layout is the one migration 0008_federation creates. Every table is in the hash-chained audit trail
(`orm.AUDITED`), so each message sent and received is recorded there with its sha256; the bundles'
bytes (`body`, `payload`) are kept on the rows themselves, not copied into the trail. The inbox and the
refusal log are append-only.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import registry

from customslab.adapters.tables_base import keyed_table, row_version, string_enum
from customslab.adapters.types import UTCDateTime
from customslab.domain import federation as f

ADMIN_REF = "administrations.code"

federation_partners = keyed_table(
    "federation_partners",
    Column("administration_code", String(32), ForeignKey(ADMIN_REF), nullable=False, unique=True),
    Column("base_url", String(300), nullable=False),
    Column("state", string_enum(f.PartnerState), nullable=False),
    Column("registered_by", String(80), nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False, default=""),
    row_version(),
)

federation_keys = keyed_table(
    "federation_keys",
    Column("administration_code", String(32), ForeignKey(ADMIN_REF), nullable=False, index=True),
    Column("key_id", String(64), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_until", UTCDateTime, nullable=True),
    Column("added_by", String(80), nullable=False, default=""),
    row_version(),
    UniqueConstraint("administration_code", "key_id", name="uq_federation_keys_holder_key"),
)

federation_outbox = keyed_table(
    "federation_outbox",
    Column("message_id", String(64), nullable=False, unique=True),
    Column("partner_code", String(32), ForeignKey(ADMIN_REF), nullable=False, index=True),
    Column("stream", String(200), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", string_enum(f.MessageKind), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", string_enum(f.OutboxState), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("sha256", String(64), nullable=False, default=""),
    Column("delivered_at", UTCDateTime, nullable=True),
    row_version(),
    UniqueConstraint("partner_code", "stream", "seq", name="uq_federation_outbox_stream_seq"),
    Index("ix_federation_outbox_due", "state", "next_attempt_at"),
)

federation_inbox = keyed_table(
    "federation_inbox",
    Column("message_id", String(64), nullable=False, unique=True),
    Column("partner_code", String(32), ForeignKey(ADMIN_REF), nullable=False, index=True),
    Column("stream", String(200), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", string_enum(f.MessageKind), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("partner_code", "stream", "seq", name="uq_federation_inbox_stream_seq"),
)

federation_refusals = keyed_table(
    "federation_refusals",
    Column("claimed_sender", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("received_at", UTCDateTime, nullable=False, index=True),
    Column("remote_address", String(64), nullable=False, default=""),
)

federation_links = keyed_table(
    "federation_links",
    Column("partner_code", String(32), ForeignKey(ADMIN_REF), nullable=False),
    Column("direction", String(4), nullable=False),
    Column("remote_ref", String(200), nullable=False),
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=False, index=True),
    Column("request_id", Integer, ForeignKey("analysis_requests.id"), nullable=False, index=True),
    Column("referral_id", Integer, ForeignKey("referrals.id"), nullable=True),
    Column("status", string_enum(f.TaskStatus), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("status_reason", Text, nullable=False, default=""),
    row_version(),
    UniqueConstraint("partner_code", "direction", "remote_ref", name="uq_federation_links_remote"),
)

federation_received_reports = keyed_table(
    "federation_received_reports",
    Column("link_id", Integer, ForeignKey("federation_links.id"), nullable=False, index=True),
    Column("sample_id", Integer, ForeignKey("samples.id"), nullable=False, index=True),
    Column("partner_code", String(32), ForeignKey(ADMIN_REF), nullable=False),
    Column("report_id", String(60), nullable=False),
    Column("version", Integer, nullable=False),
    Column("verification_code", String(64), nullable=False, index=True),
    Column("pdf_sha256", String(64), nullable=False),
    Column("signature", String(200), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("laboratory", Text, nullable=False),
    Column("conclusion", Text, nullable=False),
    Column("results", JSON, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("hs_code", String(10), nullable=False, default=""),
    Column("decision_rule", Text, nullable=False, default=""),
    UniqueConstraint("partner_code", "report_id", "version", name="uq_federation_received_reports_version"),
)

federation_shared = keyed_table(
    "federation_shared",
    Column("partner_code", String(32), ForeignKey(ADMIN_REF), nullable=False, index=True),
    Column("kind", string_enum(f.SharedKind), nullable=False),
    Column("origin_ref", String(200), nullable=False),
    Column("version", String(40), nullable=False),
    Column("author_lab", String(200), nullable=False),
    Column("licence", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("content", JSON, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("partner_code", "kind", "origin_ref", "version", name="uq_federation_shared_origin"),
)

FEDERATION_TABLE_NAMES = frozenset(
    t.name
    for t in (
        federation_partners,
        federation_keys,
        federation_outbox,
        federation_inbox,
        federation_refusals,
        federation_links,
        federation_received_reports,
        federation_shared,
    )
)


def _versioned(table: object) -> dict[str, object]:
    return {"version_id_col": table.c.row_version, "version_id_generator": False}  # type: ignore[attr-defined]


def map_federation(reg: registry) -> None:
    """Map the federation records onto their tables (called once from `orm.start_mappers`)."""
    reg.map_imperatively(f.Partner, federation_partners, **_versioned(federation_partners))
    reg.map_imperatively(f.FederationKey, federation_keys, **_versioned(federation_keys))
    reg.map_imperatively(f.OutboxMessage, federation_outbox, **_versioned(federation_outbox))
    reg.map_imperatively(f.InboxMessage, federation_inbox)
    reg.map_imperatively(f.Refusal, federation_refusals)
    reg.map_imperatively(f.FederatedLink, federation_links, **_versioned(federation_links))
    reg.map_imperatively(f.ReceivedReport, federation_received_reports)
    reg.map_imperatively(f.SharedCopy, federation_shared)
