"""The list queries that search, filter, sort and page in SQL: the requests an officer (or their office)
follows and the samples a laboratory referred out. SqlRepository delegates to these; they take the
visibility predicate it builds from domain.access's table, and add none of their own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import desc_op

from customslab.adapters import orm
from customslab.domain.enums import Priority
from customslab.domain.model import AnalysisRequest, Referral, Sample
from customslab.services.ports import ReferredOutFilter, ReferredOutRow, RequestFilter

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
