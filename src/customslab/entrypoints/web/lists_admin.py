"""The lists of the administrator and of the network: users, organisations and messages to partners, joint
analyses and shared knowledge. Users, organisations and joint analyses are small and read whole, then
searched, sorted and paged in memory (services.listing.page_in_memory); messages and shared copies page
in SQL. Each is a ListSpec and the function that reads its rows, shared by its page and its export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request

from customslab.domain.access import Actor
from customslab.domain.enums import OrgKind, Role
from customslab.domain.federation import OutboxState, SharedKind
from customslab.entrypoints.web.common import N_, uow_of
from customslab.entrypoints.web.listing import Column, Filter, ListSpec, Order
from customslab.services import federation_delivery, federation_shared, organisations, users_admin
from customslab.services import joint_analysis as joint
from customslab.services.federation_delivery import OutboxPage, OutboxQuery
from customslab.services.federation_shared import SharedCopyPage
from customslab.services.listing import ListQuery, page_in_memory


def _label(value: str) -> str:
    return value.replace("_", " ")


def _words(*parts: Any) -> str:
    return " ".join(str(p) for p in parts if p)


_ACTIVE = [("active", N_("active")), ("deactivated", N_("deactivated"))]


# -- users -------------------------------------------------------------------------------------------
def user_state(u: users_admin.UserEntry) -> str:
    """Where the account stands, as the list shows and filters it."""
    if not u.active:
        return "deactivated"
    if not u.password_set:
        return "invited" if u.invitation_expires_at else "invitation expired"
    return "active"


USERS = ListSpec(
    name="users",
    title=N_("Users"),
    orders=[
        Order("username", N_("Username, A to Z"), N_("Username, Z to A")),
        Order("name", N_("Full name, A to Z"), N_("Full name, Z to A")),
        Order("organisation", N_("Organisation, A to Z"), N_("Organisation, Z to A")),
    ],
    default="username",
    filters=[
        Filter("role", N_("Role"), [(r.value, _label(r.value)) for r in Role]),
        Filter(
            "state",
            N_("State"),
            [*_ACTIVE, ("invited", N_("invited")), ("invitation expired", N_("invitation expired"))],
        ),
    ],
    search_hint=N_("Username, name, e-mail or organisation"),
    columns=[
        Column(N_("Username"), lambda u: u.username),
        Column(N_("Full name"), lambda u: u.full_name),
        Column(N_("E-mail"), lambda u: u.email),
        Column(N_("Organisation"), lambda u: u.org_code),
        Column(N_("Roles"), lambda u: [_label(r.value) for r in u.roles]),
        Column(N_("State"), user_state, translated=True),
        Column(N_("Invited until"), lambda u: u.invitation_expires_at),
    ],
)


def users_rows(request: Request, actor: Actor, query: ListQuery) -> tuple[list[Any], int]:
    """The page of the administration's users the query asks for, and how many match."""
    return page_in_memory(
        users_admin.users(uow_of(request), actor),
        query,
        orders={
            "username": lambda u: u.username,
            "name": lambda u: u.full_name,
            "organisation": lambda u: u.org_code,
        },
        text=lambda u: _words(u.username, u.full_name, u.email, u.org_code),
        filters={"state": user_state, "role": lambda u: [r.value for r in u.roles]},
    )


# -- organisations -----------------------------------------------------------------------------------
ORGANISATIONS = ListSpec(
    name="organisations",
    title=N_("Organisations"),
    orders=[
        Order("code", N_("Code, A to Z"), N_("Code, Z to A")),
        Order("name", N_("Name, A to Z"), N_("Name, Z to A")),
        Order("kind", N_("Kind, A to Z"), N_("Kind, Z to A")),
    ],
    default="code",
    filters=[
        Filter("kind", N_("Kind"), [(k.value, _label(k.value)) for k in OrgKind]),
        Filter("state", N_("State"), _ACTIVE),
    ],
    search_hint=N_("Code, name, parent or region"),
    columns=[
        Column(N_("Code"), lambda o: o.code),
        Column(N_("Name"), lambda o: o.name),
        Column(N_("Kind"), lambda o: o.kind.value, translated=True),
        Column(N_("Country"), lambda o: o.country),
        Column(N_("Parent"), lambda o: o.parent_code),
        Column(N_("RCL region"), lambda o: o.rcl_region),
        Column(N_("Contact points"), lambda o: sum(1 for c in o.contact_points if c.active)),
        Column(N_("State"), lambda o: "active" if o.active else "deactivated", translated=True),
    ],
)


def organisations_rows(
    request: Request, actor: Actor, query: ListQuery, every: Sequence[Any] | None = None
) -> tuple[list[Any], int]:
    """The page of the administration's organisations the query asks for, and how many match (of
    `every` organisation, when the caller has already read them)."""
    return page_in_memory(
        organisations.organisations(uow_of(request), actor) if every is None else every,
        query,
        orders={"code": lambda o: o.code, "name": lambda o: o.name, "kind": lambda o: o.kind.value},
        text=lambda o: _words(o.code, o.name, o.parent_code, o.rcl_region, o.country),
        filters={"kind": lambda o: o.kind.value, "state": lambda o: "active" if o.active else "deactivated"},
    )


# -- joint analyses ----------------------------------------------------------------------------------
JOINT = ListSpec(
    name="joint-analyses",
    title=N_("Joint analyses"),
    orders=[
        Order("opened", N_("Opened, oldest first"), N_("Opened, newest first")),
        Order("reference", N_("Reference, A to Z"), N_("Reference, Z to A")),
        Order("product", N_("Product, A to Z"), N_("Product, Z to A")),
    ],
    default="-opened",
    filters=[Filter("state", N_("State"), [("open", N_("open")), ("consolidated", N_("consolidated"))])],
    search_hint=N_("Reference, product, RCL or administration"),
    columns=[
        Column(N_("Reference"), lambda j: j.reference),
        Column(N_("Product"), lambda j: j.product),
        Column(N_("Run by"), lambda j: j.rcl_code),
        Column(N_("Administrations"), lambda j: j.administrations),
        Column(N_("Opened"), lambda j: j.opened_at),
        Column(N_("State"), lambda j: j.state, translated=True),
    ],
)


def joint_rows(request: Request, actor: Actor, query: ListQuery) -> tuple[list[Any], int]:
    """The page of the joint analyses the actor's organisation runs or takes part in, and how many."""
    return page_in_memory(
        joint.list_joint_analyses(uow_of(request), actor),
        query,
        orders={
            "opened": lambda j: j.opened_at,
            "reference": lambda j: j.reference,
            "product": lambda j: j.product,
        },
        text=lambda j: _words(j.reference, j.product, j.rcl_code, *j.administrations),
        filters={"state": lambda j: j.state},
    )


# -- messages to partners (paged in SQL) -----------------------------------------------------------
MESSAGES = ListSpec(
    name="messages-to-partners",
    title=N_("Messages to partners"),
    orders=[Order("written", N_("Written, oldest first"), N_("Written, newest first"))],
    default="-written",
    filters=[Filter("state", N_("State"), [(s.value, s.value) for s in OutboxState])],
    search_hint=N_("Message id, stream or error"),
    columns=[
        Column(N_("Message id"), lambda m: m.message_id),
        Column(N_("Kind"), lambda m: m.kind.value.replace("-", " "), translated=True),
        Column(N_("Partner"), lambda m: m.partner),
        Column(N_("Stream"), lambda m: m.stream),
        Column(N_("Sequence"), lambda m: m.seq),
        Column(N_("State"), lambda m: m.state.value, translated=True),
        Column(N_("Attempts"), lambda m: m.attempts),
        Column(N_("Written"), lambda m: m.created_at),
        Column(N_("Delivered"), lambda m: m.delivered_at),
        Column(N_("Next try"), lambda m: m.next_attempt_at),
        Column(N_("Last error"), lambda m: m.last_error),
        Column("sha256", lambda m: m.sha256),
    ],
)


def messages_rows(request: Request, actor: Actor, query: ListQuery, partner: str | None) -> OutboxPage:
    """The page of the outbox the query asks for (the partner's code is checked by the route)."""
    state = query.value("state")
    outbox = OutboxQuery(
        state=OutboxState(state) if state else None,
        partner=partner or None,
        text=query.text,
        oldest_first=not query.descending,
        limit=query.limit,
        offset=query.offset,
    )
    return federation_delivery.outbox_page(uow_of(request), actor, outbox)


# -- shared knowledge (paged in SQL) ---------------------------------------------------------------
SHARED = ListSpec(
    name="shared-knowledge",
    title=N_("Shared knowledge"),
    orders=[
        Order("received", N_("Received, oldest first"), N_("Received, newest first")),
        Order("published", N_("Published, oldest first"), N_("Published, newest first")),
        Order("title", N_("Title, A to Z"), N_("Title, Z to A")),
    ],
    default="-received",
    filters=[Filter("kind", N_("Kind"), [(k.value, k.value) for k in SharedKind], any_label=N_("all"))],
    search_hint=N_("Title, laboratory, partner or licence"),
    columns=[
        Column(N_("Kind"), lambda c: c.kind.value, translated=True),
        Column(N_("Title"), lambda c: c.title),
        Column(N_("Version"), lambda c: c.version),
        Column(N_("Laboratory"), lambda c: c.author_lab),
        Column(N_("Partner"), lambda c: c.partner_code),
        Column(N_("Licence"), lambda c: c.licence),
        Column(N_("Published"), lambda c: c.published_at),
        Column(N_("Received"), lambda c: c.received_at),
        Column(N_("In your catalogue"), lambda c: N_("yes") if c.in_catalogue else "", translated=True),
        Column(N_("Summary"), lambda c: c.gist),
    ],
)


def shared_rows(request: Request, actor: Actor, query: ListQuery) -> SharedCopyPage:
    """The page of shared copies the query asks for."""
    kind = query.value("kind")
    return federation_shared.list_shared_copies(
        uow_of(request),
        actor,
        SharedKind(kind) if kind else None,
        query.limit,
        query.offset,
        text=query.text,
        order=query.sort,
        # The natural orders are ascending (oldest, A to Z); the store's flag says "newest first".
        descending=query.descending,
    )
