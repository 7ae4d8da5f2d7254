"""queue indexes: the queue's sort keys on the sample row, and indexes that serve its orders

Revision ID: 0016_queue_indexes
Revises: 0015_targeting_alerts
Create Date: 2026-11-30

The queue lists a laboratory's open samples by their request's due date and priority. An index cannot
span two tables, so each sample carries a copy of its request's due date and urgency rank
(`queue_due_date`, `queue_urgency`: 0 urgent, 1 routine). A trigger fills them on insert, whatever
inserts the row (the ORM, a federation handler, a bulk load), and another follows a change of the
request's due date or priority, so the copy cannot drift. Partial indexes over the open states then
give the queue's orders straight from an index, and (lab, state, due) serves a single-state filter.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_queue_indexes"
down_revision = "0015_targeting_alerts"
branch_labels = None
depends_on = None

#: domain.enums.OPEN_STATES as of this revision (a test checks that the ORM's predicate still matches).
OPEN = "state IN ('in_analysis', 'received', 'registered', 'retest', 'to_be_reviewed')"
URGENCY = "CASE WHEN priority = 'urgent' THEN 0 ELSE 1 END"

_PARTIAL = {
    "ix_samples_queue_due": ["lab_code", "queue_due_date", "queue_urgency", "id"],
    "ix_samples_queue_priority": ["lab_code", "queue_urgency", "queue_due_date", "id"],
    "ix_samples_queue_registered": ["lab_code", "registered_at", "id"],
}

_PG_FUNCTIONS = f"""
CREATE FUNCTION samples_queue_keys() RETURNS trigger AS $$
BEGIN
    SELECT r.due_date, {URGENCY.replace("priority", "r.priority")}
      INTO NEW.queue_due_date, NEW.queue_urgency
      FROM analysis_requests r WHERE r.id = NEW.request_id;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER samples_queue_keys BEFORE INSERT OR UPDATE OF request_id ON samples
    FOR EACH ROW EXECUTE FUNCTION samples_queue_keys();
CREATE FUNCTION requests_queue_keys() RETURNS trigger AS $$
BEGIN
    UPDATE samples SET queue_due_date = NEW.due_date,
                       queue_urgency = {URGENCY.replace("priority", "NEW.priority")}
     WHERE request_id = NEW.id;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER requests_queue_keys AFTER UPDATE OF due_date, priority ON analysis_requests
    FOR EACH ROW
    WHEN (OLD.due_date IS DISTINCT FROM NEW.due_date OR OLD.priority IS DISTINCT FROM NEW.priority)
    EXECUTE FUNCTION requests_queue_keys();
"""

_SQLITE_KEYS = f"""
UPDATE samples SET
    queue_due_date = (SELECT r.due_date FROM analysis_requests r WHERE r.id = NEW.request_id),
    queue_urgency = (SELECT {URGENCY.replace("priority", "r.priority")} FROM analysis_requests r
                     WHERE r.id = NEW.request_id)
 WHERE id = NEW.id;
"""

_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER samples_queue_keys AFTER INSERT ON samples BEGIN {_SQLITE_KEYS} END",
    f"CREATE TRIGGER samples_queue_keys_moved AFTER UPDATE OF request_id ON samples BEGIN {_SQLITE_KEYS} END",
    f"""CREATE TRIGGER requests_queue_keys AFTER UPDATE OF due_date, priority ON analysis_requests BEGIN
        UPDATE samples SET queue_due_date = NEW.due_date,
                           queue_urgency = {URGENCY.replace("priority", "NEW.priority")}
         WHERE request_id = NEW.id;
    END""",
]


def upgrade() -> None:
    with op.batch_alter_table("samples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_due_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("queue_urgency", sa.SmallInteger(), nullable=True))
    op.execute(
        f"""UPDATE samples SET
            queue_due_date = (SELECT r.due_date FROM analysis_requests r WHERE r.id = samples.request_id),
            queue_urgency = (SELECT {URGENCY.replace("priority", "r.priority")} FROM analysis_requests r
                             WHERE r.id = samples.request_id)"""
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTIONS)
    else:
        for ddl in _SQLITE_TRIGGERS:
            op.execute(ddl)
    where = sa.text(OPEN)
    for name, columns in _PARTIAL.items():
        op.create_index(name, "samples", columns, postgresql_where=where, sqlite_where=where)
    # (lab, state) led the old index; with the due keys after them it also serves a one-state queue.
    op.drop_index("ix_samples_lab_state", table_name="samples")
    op.create_index(
        "ix_samples_lab_state_due", "samples", ["lab_code", "state", "queue_due_date", "queue_urgency", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_samples_lab_state_due", table_name="samples")
    op.create_index("ix_samples_lab_state", "samples", ["lab_code", "state"])
    for name in _PARTIAL:
        op.drop_index(name, table_name="samples")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER requests_queue_keys ON analysis_requests")
        op.execute("DROP FUNCTION requests_queue_keys()")
        op.execute("DROP TRIGGER samples_queue_keys ON samples")
        op.execute("DROP FUNCTION samples_queue_keys()")
    else:
        for name in ("requests_queue_keys", "samples_queue_keys_moved", "samples_queue_keys"):
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("samples", schema=None) as batch_op:
        batch_op.drop_column("queue_urgency")
        batch_op.drop_column("queue_due_date")
