"""The SQLAlchemy implementation of the notification repository port."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import String, case, cast, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from customslab.adapters import orm
from customslab.domain.enums import OPEN_STATES, State
from customslab.domain.model import Notification
from customslab.services.notification_ports import DueWork, MailDue, NotificationRepository

N = orm.notifications.c
#: A test that still waits on its analyst (a test to be reviewed waits on the reviewer).
ANALYST_STATES = (State.REGISTERED, State.RECEIVED, State.IN_ANALYSIS, State.RETEST)


class SqlNotificationRepository(NotificationRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, notification: Notification) -> bool:
        values = {
            "user_id": notification.user_id,
            "kind": notification.kind,
            "key": notification.key,
            "subject": notification.subject,
            "link": notification.link,
            "created_at": notification.created_at,
        }
        dialect = self.session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            # ON CONFLICT DO NOTHING: a concurrent insert of the same (user, key) waits for the other
            # transaction and then does nothing, where a check-then-insert would raise at commit.
            ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(orm.notifications)
            stmt = ins.values(**values).on_conflict_do_nothing(index_elements=["user_id", "key"])
            # RETURNING, not rowcount: psycopg reports -1 for an insert that already returns the new key.
            return self.session.execute(stmt.returning(N.id)).scalar_one_or_none() is not None
        taken = self.session.scalar(
            select(N.id).where(N.user_id == notification.user_id, N.key == notification.key)
        )
        if taken is not None:
            return False
        self.session.execute(orm.notifications.insert().values(**values))
        return True

    def of_user(self, user_id: int, notification_id: int) -> Notification | None:
        return self.session.scalars(
            select(Notification).where(N.id == notification_id, N.user_id == user_id)
        ).first()

    def page(
        self, user_id: int, unread_only: bool, limit: int, offset: int
    ) -> tuple[list[Notification], int]:
        conditions = [N.user_id == user_id]
        if unread_only:
            conditions.append(N.read_at.is_(None))
        total = self.session.scalar(select(func.count()).select_from(orm.notifications).where(*conditions))
        unread_first = case((N.read_at.is_(None), 0), else_=1)
        rows = self.session.scalars(
            select(Notification)
            .where(*conditions)
            .order_by(unread_first, N.created_at.desc(), N.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return list(rows), int(total or 0)

    def unread_count(self, user_id: int) -> int:
        stmt = select(func.count()).select_from(orm.notifications)
        return int(self.session.scalar(stmt.where(N.user_id == user_id, N.read_at.is_(None))) or 0)

    def mark_all_read(self, user_id: int, at: datetime) -> int:
        result = self.session.execute(
            update(orm.notifications)
            .where(N.user_id == user_id, N.read_at.is_(None))
            .values(read_at=at)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def due_work(self, first_day: date, last_day: date) -> list[DueWork]:
        t, s, r = orm.tests.c, orm.samples.c, orm.analysis_requests.c
        # services.notification_ports.due_work_key in SQL. SQLite keeps a date as YYYY-MM-DD text; on
        # PostgreSQL a cast would follow the server's DateStyle, so the format is spelled out.
        postgres = self.session.get_bind().dialect.name == "postgresql"
        day = func.to_char(r.due_date, "YYYY-MM-DD") if postgres else cast(r.due_date, String)
        due_key = literal("test:") + cast(t.id, String) + ":due:" + day
        stmt = (
            select(t.id, t.analyst_id, s.id, s.lab_sample_id, r.due_date)
            .select_from(orm.tests.join(orm.samples, s.id == t.sample_id))
            .join(orm.analysis_requests, r.id == s.request_id)
            .where(
                t.analyst_id.is_not(None),
                t.state.in_(ANALYST_STATES),
                s.state.in_(sorted(OPEN_STATES)),
                r.due_date.between(first_day, last_day),
                ~select(N.id).where(N.user_id == t.analyst_id, N.key == due_key).exists(),
            )
            .order_by(r.due_date, t.id)
        )
        return [DueWork(*row) for row in self.session.execute(stmt).all()]

    def due_for_email(self, since: datetime, limit: int) -> list[MailDue]:
        u = orm.users.c
        stmt = (
            select(Notification, u.email, u.full_name)
            .join(orm.users, u.id == N.user_id)
            .where(
                N.emailed_at.is_(None),
                N.read_at.is_(None),
                N.created_at >= since,
                u.email != "",
                u.active.is_(True),
            )
            .order_by(N.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            # Held until the worker commits the stamps: a second worker skips these rows.
            stmt = stmt.with_for_update(skip_locked=True, of=orm.notifications)
        return [MailDue(n, email, name) for n, email, name in self.session.execute(stmt).all()]

    def stamp_emailed(self, notification_ids: Sequence[int], at: datetime) -> None:
        if not notification_ids:
            return
        self.session.execute(
            update(orm.notifications)
            .where(N.id.in_(list(notification_ids)))
            .values(emailed_at=at)
            .execution_options(synchronize_session=False)
        )
