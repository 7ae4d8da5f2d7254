"""Declaration data across administrations: what a reader may see of it, and its release field by field.

A request's declaration data (declaration and item number, importer, declarant, declared value and
currency, the officer's question) stays inside the administration that filed it (ISO/IEC 17025 4.2). A
referral or a share to another administration carries the rest of the case (goods, declared HS, origin,
samples, seals, custody, results) with the declaration data blanked, unless the sender released a field
to the reader's administration. `declaration_view_for` is the one place every view asks; the rule itself is
`domain.access.declaration_fields_seen`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from customslab.domain.access import (
    PERMISSIONS,
    Action,
    Actor,
    Holding,
    Relation,
    declaration_fields_seen,
    relations,
)
from customslab.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.model import DECLARATION_FIELDS, AnalysisRequest, DeclarationRelease
from customslab.services.common import acting, visible_request
from customslab.services.contract import Command, Text, View
from customslab.services.ports import AbstractUnitOfWork

#: What the pages print in place of a withheld field.
WITHHELD_NOTE = "withheld by the sending administration"

DeclarationField = Literal[
    "declaration_number", "item_number", "importer", "declarant", "declared_value", "currency", "question"
]
if get_args(DeclarationField) != DECLARATION_FIELDS:  # pragma: no cover - a guard for whoever edits one
    raise RuntimeError("DeclarationField must list domain.model.DECLARATION_FIELDS, in order.")


@dataclass(frozen=True)
class DeclarationSight:
    """Which declaration fields of one request its reader may not see."""

    withheld: frozenset[str] = frozenset()

    def view_fields(self) -> dict[str, Any]:
        """What a view of the request takes: each withheld field blanked, and their names in order."""
        return {f: None for f in self.withheld} | {"withheld": self.names}

    @property
    def names(self) -> list[str]:
        return [f for f in DECLARATION_FIELDS if f in self.withheld]


def administration_of(uow: AbstractUnitOfWork, actor: Actor) -> str | None:
    """The administration of the actor's organisation (None for an organisation outside the directory)."""
    org = uow.repo.org(actor.org_code)
    return org.administration_code if org is not None else None


def released_fields(releases: Iterable[DeclarationRelease]) -> dict[str, set[str]]:
    """{field: the administrations it was released to}."""
    out: dict[str, set[str]] = defaultdict(set)
    for r in releases:
        out[r.field_name].add(r.administration_code)
    return out


def declaration_view_for(
    uow: AbstractUnitOfWork, actor: Actor, req: AnalysisRequest, viewer: str | None = None
) -> DeclarationSight:
    """The declaration fields of `req` the actor may not see (called inside a unit of work). `viewer`,
    the actor's administration, may be given by a caller that lists many requests."""
    viewer = viewer if viewer is not None else administration_of(uow, actor)
    if viewer is not None and viewer == req.administration_code:
        return DeclarationSight()  # inside its administration: no release to look up
    released: Mapping[str, set[str]] = released_fields(uow.repo.releases_for(req.id or 0))
    seen = declaration_fields_seen(viewer, req.administration_code, released, DECLARATION_FIELDS)
    return DeclarationSight(frozenset(DECLARATION_FIELDS) - seen)


def fields_seen_at(
    administration: str | None, req: AnalysisRequest, releases: Iterable[DeclarationRelease], at: datetime
) -> frozenset[str]:
    """The declaration fields an administration could see at a past moment (releases are append-only,
    so the releases made by then say it exactly)."""
    released = released_fields([r for r in releases if r.released_at <= at])
    return declaration_fields_seen(administration, req.administration_code, released, DECLARATION_FIELDS)


# -- releasing declaration data to another administration -------------------------------------------


class ReleaseCreate(Command):
    """Release some declaration fields of a request to another administration, saying why."""

    administration_code: Annotated[str, Text(32, 1)]
    fields: list[DeclarationField] = Field(min_length=1, max_length=len(DECLARATION_FIELDS))
    reason: Annotated[str, Text(2000, 1)]


class ReleaseView(View):
    """One declaration field released to another administration."""

    id: int
    request_id: int
    administration_code: str
    field_name: str
    released_by: int
    released_at: datetime
    reason: str


#: The relations to a request (in its own right) of those who may release its declaration data.
SENDERS = frozenset({Relation.MINE, Relation.OWN, Relation.CHILD})


def release_declaration(
    uow: AbstractUnitOfWork, actor: Actor, request_id: int, cmd: ReleaseCreate
) -> list[ReleaseView]:
    """The sending administration releases declaration fields of a request to another administration;
    one append-only row per field, each audited with the actor and the reason. A field already released
    to that administration is a conflict, and nothing is written."""
    with acting(uow, actor, Action.RELEASE_DECLARATION, cmd.reason):
        req = visible_request(uow, actor, request_id)
        # The sender: the filing office (or member focal point) and the laboratory the request was
        # addressed to, or the central laboratory above it; not a laboratory it was shared or referred to.
        senders = relations(
            actor,
            uow.repo.directory(),
            Holding(frozenset({req.lab_code, req.office_code}), requester_id=req.requester_id),
        )
        if administration_of(uow, actor) != req.administration_code or not senders & SENDERS:
            raise PermissionDenied(
                f"Only the office that filed request {req.reference}, or the laboratory it was addressed "
                "to, can release its declaration data."
            )
        target = uow.repo.administration(cmd.administration_code)
        if target is None or not target.active:
            raise NotFound(
                f"There is no administration '{cmd.administration_code}' in the network.",
                field="administration_code",
            )
        if target.code == req.administration_code:
            raise ValidationFailed(
                "The declaration data is already seen inside its own administration; release it to another.",
                field="administration_code",
            )
        fields = list(dict.fromkeys(cmd.fields))
        already = sorted(
            f
            for f in fields
            if any(
                r.field_name == f and r.administration_code == target.code
                for r in uow.repo.releases_for(request_id)
            )
        )
        if already:
            raise Conflict(
                f"Already released to {target.code} for request {req.reference}: {', '.join(already)}. "
                "Nothing was released; leave those fields out."
            )
        now = uow.clock()
        rows = [
            DeclarationRelease(request_id, target.code, f, actor.user_id, now, cmd.reason) for f in fields
        ]
        for row in rows:
            uow.repo.add(row)
        uow.repo.flush()
        uow.commit()
        return [ReleaseView.of_record(r) for r in rows]


def declaration_releases(uow: AbstractUnitOfWork, actor: Actor, request_id: int) -> list[ReleaseView]:
    """The releases of a request's declaration data: all of them for its own administration, those made
    to the reader's administration for anyone else who may see the request."""
    with uow:
        req = visible_request(uow, actor, request_id)
        viewer = administration_of(uow, actor)
        return [
            ReleaseView.of_record(r)
            for r in uow.repo.releases_for(request_id)
            if viewer == req.administration_code or r.administration_code == viewer
        ]


class AdministrationChoice(View):
    code: str
    name: str


class ReleasePanel(View):
    """What the request page shows of the releases, and whether its reader may release more."""

    releases: list[ReleaseView]
    can_release: bool
    administrations: list[AdministrationChoice] = Field(description="Those a release may go to.")
    fields: list[str] = Field(default_factory=lambda: list(DECLARATION_FIELDS))


def release_panel(uow: AbstractUnitOfWork, actor: Actor, request_id: int) -> ReleasePanel:
    """The releases of a request as its page shows them, and the form's choices for its sender."""
    releases = declaration_releases(uow, actor, request_id)
    with uow:
        req = visible_request(uow, actor, request_id)
        mine = administration_of(uow, actor) == req.administration_code
        can = mine and bool(actor.roles & PERMISSIONS[Action.RELEASE_DECLARATION])
        others = [
            AdministrationChoice.of_record(a)
            for a in uow.repo.administrations()
            if a.active and a.code != req.administration_code
        ]
        return ReleasePanel(releases=releases, can_release=can, administrations=others if can else [])
