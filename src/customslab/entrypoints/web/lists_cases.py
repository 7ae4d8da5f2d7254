"""The case lists that page in SQL: the officer's requests, a laboratory's queue (and an analyst's work),
and the samples a laboratory referred out. Each is a ListSpec (orders, filters, export columns) and the
translation of its query string into the filter its use case takes."""

from __future__ import annotations

from datetime import date
from typing import Any

from customslab.domain.enums import Priority, Reason, ReferralState, State
from customslab.domain.errors import ValidationFailed
from customslab.entrypoints.web.common import N_
from customslab.entrypoints.web.listing import Column, Filter, ListSpec, Order, read_query
from customslab.services.listing import ListQuery
from customslab.services.ports import QueueFilter, ReferredOutFilter, RequestFilter

#: "waiting": the officer's requests with no sample registered yet.
WAITING = "waiting"

STATES = [(s.value, s.value.replace("_", " ")) for s in State]
PRIORITIES = [(p.value, p.value) for p in (Priority.URGENT, Priority.ROUTINE)]

# Order labels are marked here and translated where shown.
_DUE = Order("due", N_("Due date, soonest first"), N_("Due date, latest first"))
_PRIORITY = Order("priority", N_("Priority, urgent first"), N_("Priority, routine first"))
_REFERENCE = Order("reference", N_("Reference, A to Z"), N_("Reference, Z to A"))


def _states(item: Any) -> str:
    return ", ".join(s.value.replace("_", " ") for s in item.sample_states)


REQUESTS = ListSpec(
    name="my-requests",
    title=N_("My requests"),
    orders=[
        Order("filed", N_("Filed, oldest first"), N_("Filed, newest first")),
        _DUE,
        _REFERENCE,
        _PRIORITY,
    ],
    default="-filed",
    filters=[
        Filter("state", N_("State"), [(WAITING, N_("waiting for the sample")), *STATES]),
        Filter("priority", N_("Priority"), PRIORITIES),
    ],
    search_hint=N_("Reference, declaration number or goods"),
    columns=[
        Column(N_("Reference"), lambda r: r.reference),
        Column(N_("Declaration number"), lambda r: r.declaration_number),
        Column(N_("Goods"), lambda r: r.goods_description),
        Column(N_("Declared HS"), lambda r: r.declared_hs),
        Column(N_("Laboratory"), lambda r: r.lab_code),
        Column(N_("Priority"), lambda r: r.priority.value, translated=True),
        Column(N_("Due"), lambda r: r.due_date),
        Column(N_("Overdue"), lambda r: "overdue" if r.overdue else "", translated=True),
        Column(N_("Filed"), lambda r: r.created_at),
        Column(N_("Samples' states"), _states),
    ],
)


def request_filter(query: ListQuery) -> RequestFilter:
    """The request list's filter from a read query (its values are already checked against the spec)."""
    state = query.value("state")
    priority = query.value("priority")
    return RequestFilter(
        text=query.text,
        state=State(state) if state and state != WAITING else None,
        waiting=state == WAITING,
        priority=Priority(priority) if priority else None,
        sort=query.sort,
        descending=query.descending,
    )


QUEUE = ListSpec(
    name="queue",
    title=N_("Laboratory queue"),
    orders=[
        _DUE,
        _PRIORITY,
        Order("registered", N_("Registered, newest first"), N_("Registered, oldest first")),
        _REFERENCE,
    ],
    default="due",
    filters=[
        Filter("state", N_("State"), STATES, any_label=N_("All open")),
        Filter("priority", N_("Priority"), PRIORITIES),
        Filter("reason", N_("Reason"), [(r.value, r.value.replace("_", " ")) for r in Reason]),
    ],
    search_hint=N_("Sample, reference, declaration number or goods"),
    columns=[
        Column(N_("Sample"), lambda s: s.lab_sample_id),
        Column(N_("Goods"), lambda s: s.description),
        Column(N_("Declared HS"), lambda s: s.declared_hs),
        Column(N_("Reason"), lambda s: s.reason.value, translated=True),
        Column(N_("Priority"), lambda s: s.priority.value, translated=True),
        Column(N_("Due"), lambda s: s.due_date),
        Column(N_("Overdue"), lambda s: "overdue" if s.overdue else "", translated=True),
        Column(N_("State"), lambda s: s.state.value, translated=True),
        Column(N_("Request"), lambda s: s.request_reference),
        Column(N_("Laboratory"), lambda s: s.lab_code),
        Column(N_("Registered"), lambda s: s.registered_at),
        Column(N_("From administration"), lambda s: s.from_administration),
    ],
)


def queue_filter(params: dict[str, str], analyst_id: int | None = None) -> QueueFilter:
    """The queue's filter from the query string; a bad value is a plain-language error (422)."""
    query = read_query(params, QUEUE)
    due = params.get("due_before") or None
    try:
        due_before = date.fromisoformat(due) if due else None
    except ValueError:
        raise ValidationFailed(f"Due date '{due}' is not a date (YYYY-MM-DD).", "due_before") from None
    chapter = (params.get("hs_chapter") or "").strip()
    if chapter and not (len(chapter) == 2 and chapter.isdigit()):
        raise ValidationFailed(f"'{chapter}' is not an HS chapter (two digits).", "hs_chapter")
    state, priority, reason = (query.value(k) for k in ("state", "priority", "reason"))
    return QueueFilter(
        states=frozenset({State(state)}) if state else None,
        priority=Priority(priority) if priority else None,
        reason=Reason(reason) if reason else None,
        due_before=due_before,
        hs_chapter=chapter or None,
        analyst_id=analyst_id,
        text=query.text,
        sort=query.sort,
        descending=query.descending,
        limit=query.limit,
        offset=query.offset,
    )


def queue_query(flt: QueueFilter) -> ListQuery:
    """The page a queue filter asks for, as the pager reads it."""
    return ListQuery(offset=flt.offset, limit=flt.limit, sort=flt.sort, descending=flt.descending)


REFERRED_OUT = ListSpec(
    name="referred-out",
    title=N_("Referred out"),
    orders=[
        Order("referred", N_("Referred, oldest first"), N_("Referred, newest first")),
        _DUE,
        _REFERENCE,
        Order("to_lab", N_("Referred to, A to Z"), N_("Referred to, Z to A")),
        Order("state", N_("Sample state, A to Z"), N_("Sample state, Z to A")),
    ],
    default="-referred",
    filters=[
        Filter("referral_state", N_("Referral"), [(s.value, s.value) for s in ReferralState]),
        Filter("state", N_("Sample state"), STATES),
    ],
    search_hint=N_("Sample, reference, goods or laboratory"),
    columns=[
        Column(N_("Sample"), lambda r: r.lab_sample_id),
        Column(N_("Request"), lambda r: r.request_reference),
        Column(N_("Goods"), lambda r: r.goods_description),
        Column(N_("Declared HS"), lambda r: r.declared_hs),
        Column(N_("Referred to"), lambda r: r.to_lab),
        Column(N_("Now at"), lambda r: r.held_by),
        Column(N_("Referral"), lambda r: r.referral_state.value, translated=True),
        Column(N_("Sample state"), lambda r: r.sample_state.value, translated=True),
        Column(N_("Partner's status"), lambda r: r.partner_status, translated=True),
        Column(N_("Referred"), lambda r: r.referred_at),
        Column(N_("Completed"), lambda r: r.completed_at),
        Column(N_("Due"), lambda r: r.due_date),
    ],
)


def referred_out_filter(query: ListQuery) -> ReferredOutFilter:
    """The referred-out list's filter from a read query."""
    referral_state, state = query.value("referral_state"), query.value("state")
    return ReferredOutFilter(
        text=query.text,
        referral_state=ReferralState(referral_state) if referral_state else None,
        sample_state=State(state) if state else None,
        sort=query.sort,
        descending=query.descending,
        limit=query.limit,
        offset=query.offset,
    )
