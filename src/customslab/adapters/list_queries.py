"""The list queries that search, filter, sort and page in SQL: the requests an officer (or their office)
follows and the samples a laboratory referred out. SqlRepository delegates to these; they take the
visibility predicate it builds from domain.access's table, and add none of their own."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, lazyload, selectinload
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import desc_op

from customslab.adapters import orm
from customslab.domain.enums import OPEN_STATES, Priority, State
from customslab.domain.model import AnalysisRequest, Referral, Sample
from customslab.services.ports import (
    QueueFilter,
    QueueRow,
    ReferredOutFilter,
    ReferredOutRow,
    RequestFilter,
)

S = orm.samples.c
RQ = orm.analysis_requests.c
#: The referrals listed, aliased: the visibility predicate's own EXISTS over `referrals` (the REFERRED
#: relation) must not be correlated with the row being listed.
SENT = orm.referrals.alias("sent")
RF = SENT.c


def flipped(expr: Any) -> Any:
    """The same order term the other way round (a `.desc()` term ascending, any other descending)."""
    if isinstance(expr, UnaryExpression) and expr.modifier is desc_op:
        return expr.element.asc()
    return expr.desc()


def ordered(terms: Sequence[Any], descending: bool, nullable: Sequence[Any] = ()) -> list[Any]:
    """ORDER BY terms, reversed when asked; rows without a value in a `nullable` column come last either
    way (SQLite and PostgreSQL put NULLs at opposite ends by default)."""
    nulls_last = [case((col.is_(None), 1), else_=0) for col in nullable]
    return nulls_last + [flipped(t) if descending else t for t in terms]


def declaration_number_readable(administration: str | None) -> ColumnElement[bool]:
    """The request is of `administration`, or its sender released the declaration number to it (the twin
    of SqlRepository._declaration_number_seen, for a reader named by administration)."""
    if administration is None:
        return false()
    rel = orm.declaration_releases.c
    released = exists().where(
        rel.request_id == RQ.id,
        rel.field_name == "declaration_number",
        rel.administration_code == administration,
    )
    return or_(RQ.administration_code == administration, released)


def _urgent_first() -> Any:
    return case((RQ.priority == Priority.URGENT.value, 0), else_=1)


def requests_page(
    session: Session,
    requester_id: int,
    limit: int,
    offset: int,
    org_code: str | None,
    flt: RequestFilter,
) -> tuple[list[AnalysisRequest], int]:
    """Requests the user filed (with `org_code`: also those its organisation filed or was sent)."""
    conditions: list[ColumnElement[bool]] = [
        or_(RQ.requester_id == requester_id, RQ.office_code == org_code, RQ.lab_code == org_code)
        if org_code is not None
        else RQ.requester_id == requester_id
    ]
    if flt.priority is not None:
        conditions.append(RQ.priority == flt.priority.value)
    if flt.waiting:
        conditions.append(~exists().where(S.request_id == RQ.id))
    elif flt.state is not None:
        conditions.append(exists().where(S.request_id == RQ.id, S.state == flt.state.value))
    readable = declaration_number_readable(flt.reader_administration)
    for word in (flt.text or "").lower().split():
        like = f"%{word}%"
        conditions.append(
            or_(
                func.lower(RQ.reference).like(like),
                func.lower(RQ.goods_description).like(like),
                func.lower(RQ.declared_hs).like(like),
                and_(readable, func.lower(RQ.declaration_number).like(like)),
            )
        )
    orders: dict[str, tuple[list[Any], list[Any]]] = {
        "filed": ([RQ.created_at, RQ.id], []),
        "due": ([RQ.due_date, _urgent_first(), RQ.id], [RQ.due_date]),
        "reference": ([RQ.reference, RQ.id], []),
        "priority": ([_urgent_first(), RQ.due_date, RQ.id], []),
    }
    terms, nullable = orders.get(flt.sort, orders["filed"])
    where = and_(*conditions)
    total = session.execute(select(func.count()).select_from(orm.analysis_requests).where(where)).scalar_one()
    q = select(AnalysisRequest).where(where).order_by(*ordered(terms, flt.descending, nullable))
    return list(session.scalars(q.limit(limit).offset(offset)).all()), int(total)


def referred_out_page(
    session: Session,
    visible: ColumnElement[bool],
    declaration_seen: ColumnElement[bool],
    lab_code: str,
    flt: ReferredOutFilter,
) -> tuple[list[ReferredOutRow], int]:
    """The referrals `lab_code` sent, of the samples `visible` lets the reader see."""
    joined = SENT.join(orm.samples, S.id == RF.sample_id).join(orm.analysis_requests, RQ.id == S.request_id)
    conditions: list[ColumnElement[bool]] = [RF.from_lab == lab_code, visible]
    if flt.referral_state is not None:
        conditions.append(RF.state == flt.referral_state.value)
    if flt.sample_state is not None:
        conditions.append(S.state == flt.sample_state.value)
    for word in (flt.text or "").lower().split():
        like = f"%{word}%"
        conditions.append(
            or_(
                func.lower(S.lab_sample_id).like(like),
                func.lower(RQ.reference).like(like),
                func.lower(RQ.goods_description).like(like),
                func.lower(RF.to_lab).like(like),
                func.lower(S.lab_code).like(like),
                and_(declaration_seen, func.lower(RQ.declaration_number).like(like)),
            )
        )
    orders: dict[str, tuple[list[Any], list[Any]]] = {
        "referred": ([RF.created_at, RF.id], []),
        "due": ([RQ.due_date, _urgent_first(), RF.id], [RQ.due_date]),
        "reference": ([RQ.reference, RF.id], []),
        "to_lab": ([RF.to_lab, RF.created_at, RF.id], []),
        "state": ([S.state, RF.id], []),
    }
    terms, nullable = orders.get(flt.sort, orders["referred"])
    where = and_(*conditions)
    total = session.execute(select(func.count()).select_from(joined).where(where)).scalar_one()
    ids_q = (
        select(RF.id, S.id, RQ.id)
        .select_from(joined)
        .where(where)
        .order_by(*ordered(terms, flt.descending, nullable))
    )
    triples = session.execute(ids_q.limit(flt.limit).offset(flt.offset)).all()
    wanted = [t[0] for t in triples]
    referrals = {r.id: r for r in session.scalars(select(Referral).where(orm.referrals.c.id.in_(wanted)))}
    samples = {s.id: s for s in session.scalars(select(Sample).where(S.id.in_({t[1] for t in triples})))}
    requests = {
        r.id: r for r in session.scalars(select(AnalysisRequest).where(RQ.id.in_({t[2] for t in triples})))
    }
    return [ReferredOutRow(referrals[f], samples[s], requests[q]) for f, s, q in triples], int(total)


def in_states(states: Collection[State]) -> ColumnElement[bool]:
    """The sample is in one of `states`, spelt as SQL literals: a planner can only match a partial index
    (the queue's, over the open states) to a predicate whose values it sees when it plans."""
    return S.state.in_([literal_column(f"'{State(s).value}'") for s in sorted(states)])


#: The queue's orders in their natural direction, each ending with the sample id so that ties are broken
#: and keyset pages neither repeat nor skip a row (services.queue_cursor reads the same keys off a row).
#: due, priority and registered are served by the partial indexes of migration 0016 (queue_due_date and
#: queue_urgency are the request's, copied onto the sample).
QUEUE_ORDERS: dict[str, tuple[list[Any], bool]] = {
    "due": ([S.queue_due_date, S.queue_urgency, S.id], False),
    "priority": ([S.queue_urgency, S.queue_due_date, S.id], False),
    "registered": ([S.registered_at, S.id], True),
    "reference": ([RQ.reference, S.id], False),
}


def queue_page(
    session: Session,
    lab_code: str,
    visible: ColumnElement[bool] | None,
    declaration_seen: Callable[[], ColumnElement[bool]],
    flt: QueueFilter,
) -> tuple[list[QueueRow], int]:
    """The samples held at `lab_code` that `visible` (None: all of them) lets the reader see, filtered,
    in the order asked for, from `flt.after`'s key or `flt.offset`; and how many match, counted up to
    `flt.count_limit` + 1. Filters on the request's due date and priority read the sample's copies, so
    that the page's rows come in index order from the samples table alone."""
    conds: list[ColumnElement[bool]] = [S.lab_code == lab_code]
    needs_request = visible is not None or flt.sort == "reference"
    if visible is not None:
        conds.append(visible)
    conds.append(in_states(flt.states if flt.states is not None else OPEN_STATES))
    if flt.priority:
        conds.append(S.queue_urgency == (0 if flt.priority is Priority.URGENT else 1))
    if flt.due_before:
        conds.append(S.queue_due_date <= flt.due_before)
    if flt.overdue_on:
        conds.append(S.queue_due_date < flt.overdue_on)
    if flt.reason:
        conds.append(RQ.reason == flt.reason.value)
        needs_request = True
    if flt.hs_chapter:
        conds.append(RQ.declared_hs.startswith(flt.hs_chapter))
        needs_request = True
    if flt.analyst_id is not None:
        conds.append(exists().where(orm.tests.c.sample_id == S.id, orm.tests.c.analyst_id == flt.analyst_id))
    if flt.text:
        like = f"%{flt.text.lower()}%"
        conds.append(
            or_(
                func.lower(S.lab_sample_id).like(like),
                func.lower(RQ.goods_description).like(like),
                and_(declaration_seen(), func.lower(RQ.declaration_number).like(like)),
                func.lower(RQ.reference).like(like),
            )
        )
        needs_request = True
    source = orm.samples.join(orm.analysis_requests, RQ.id == S.request_id) if needs_request else orm.samples
    terms, natural_desc = QUEUE_ORDERS.get(flt.sort, QUEUE_ORDERS["due"])
    desc = natural_desc != flt.descending
    where = and_(*conds)
    count_q = select(S.id).select_from(source).where(where)
    if flt.count_limit is not None:
        count_q = count_q.limit(flt.count_limit + 1)
    total = session.execute(select(func.count()).select_from(count_q.subquery())).scalar_one()
    # A row shows the sample's own fields: its custody and tests load only if a caller reads them.
    page_q = (
        select(Sample)
        .select_from(source)
        .where(where)
        .order_by(*(t.desc() if desc else t for t in terms))
        .limit(flt.limit)
        .options(lazyload(cast(Any, Sample).custody), lazyload(cast(Any, Sample).tests))
    )
    if flt.after is not None:
        key, after = (
            tuple_(*terms),
            tuple_(*(literal(v, t.type) for v, t in zip(flt.after, terms, strict=True))),
        )
        page_q = page_q.where(key < after if desc else key > after)
    else:
        page_q = page_q.offset(flt.offset)
    page = list(session.scalars(page_q))
    marked = [s.id for s in page if s.control_mark]
    if marked:
        # A marked row shows whether its mark is reviewed, from its tests: one batch, not one per row.
        session.scalars(
            select(Sample).where(S.id.in_(marked)).options(selectinload(cast(Any, Sample).tests))
        ).all()
    wanted = {s.request_id for s in page}
    reqs = {r.id: r for r in session.scalars(select(AnalysisRequest).where(RQ.id.in_(wanted)))}
    return [QueueRow(s, reqs[s.request_id]) for s in page], int(total)
