"""The administrator's directory: organisations of their own administration and their contact points.

An administrator acts inside their own administration only: an organisation or a user of another
administration answers NotFound, as a record one may not see does everywhere. Nothing is deleted: an
organisation or a contact point is deactivated (a deactivated organisation receives no new request or
referral; `cases.active_org` refuses it). Every change is audited by the unit of work under the
administrator's name. A stale `row_version` (the version the administrator read) is a Conflict.

The rules on where an organisation sits (its parent, its kind, the RCL designation) are shared with the
directory file of `customslab init` (services/directory.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, WithJsonSchema

from customslab.domain.access import Action, Actor
from customslab.domain.enums import OrgKind
from customslab.domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from customslab.domain.model import Administration, ContactPoint, Organisation
from customslab.services.common import acting
from customslab.services.contract import Command, Country, Text, View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.views import OrganisationBase

#: An organisation's or an administration's code: capitals, digits, '.', '_' and '-' (KCS-CCL, RCL-JP).
CODE_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,31}$"
_CODE_RULE = "must be 1 to 32 capital letters, digits, '.', '_' or '-', starting with a letter or a digit"
#: An e-mail address, checked for its shape only (the address is a contact's, not an account's login).
EMAIL_PATTERN = r"^$|^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"


def _code(value: str) -> str:
    if not re.fullmatch(CODE_PATTERN, value):
        raise ValueError(_CODE_RULE)
    return value


def _email(value: str) -> str:
    if not re.fullmatch(EMAIL_PATTERN, value):
        raise ValueError("must be an e-mail address (name@example.org)")
    return value


Code = Annotated[
    str,
    Text(32, 1),
    AfterValidator(_code),
    WithJsonSchema({"type": "string", "pattern": CODE_PATTERN, "maxLength": 32}),
]
Email = Annotated[
    str,
    Text(200),
    AfterValidator(_email),
    WithJsonSchema({"type": "string", "pattern": EMAIL_PATTERN, "maxLength": 200}),
]
Name = Annotated[str, Text(200, 1)]
Address = Annotated[str, Text(2000)]
Region = Annotated[str, Text(80)]
Phone = Annotated[str, Text(60)]
#: What the administrator read of a record: a change made since then makes theirs a Conflict.
RowVersion = Annotated[int | None, Field(default=None, ge=1, le=2**31 - 1)]


# -- commands and views -----------------------------------------------------------------------------
class ContactPointCreate(Command):
    """A person to contact at an organisation (the RCL heads' list takes those of RCLs)."""

    name: Name
    role: Annotated[str, Text(200)] = ""
    email: Email = ""
    phone: Phone = ""


class ContactPointEdit(Command):
    """What changes of a contact point; the fields not given stay as they are."""

    row_version: RowVersion = None
    name: Name | None = None
    role: Annotated[str, Text(200)] | None = None
    email: Email | None = None
    phone: Phone | None = None


class OrganisationCreate(Command):
    """A laboratory, customs office or focal point of the administrator's own administration."""

    code: Code
    name: Name
    kind: OrgKind
    #: ISO 3166-1 alpha-2; the administration's country when not given.
    country: Country | None = None
    address: Address = ""
    parent_code: Code | None = None
    #: The WCO region of a laboratory designated Regional Customs Laboratory ("" when it is not one).
    rcl_region: Region = ""
    contact_points: Annotated[list[ContactPointCreate], Field(max_length=50)] = []


class OrganisationEdit(Command):
    """What changes of an organisation; the fields not given stay as they are (parent_code null: none)."""

    row_version: RowVersion = None
    name: Name | None = None
    kind: OrgKind | None = None
    address: Address | None = None
    parent_code: Code | None = None
    rcl_region: Region | None = None


class VersionedStep(Command):
    """A step on a record (deactivate, activate), with the version the administrator read, if known."""

    row_version: RowVersion = None


class AdministrationView(View):
    """A customs administration of the network; `home` marks this server's."""

    code: str
    name: str
    country: str
    has_laboratories: bool
    home: bool
    active: bool


class ContactPointEntry(View):
    """A contact point and its position in the organisation's list (its key: they are never deleted)."""

    index: int
    name: str
    role: str
    email: str
    phone: str
    active: bool


class OrganisationEntry(OrganisationBase):
    """An organisation as the administrator manages it."""

    administration_code: str
    rcl_region: str
    is_rcl: bool
    active: bool
    row_version: int
    contact_points: list[ContactPointEntry]

    @classmethod
    def of(cls, org: Organisation) -> OrganisationEntry:
        points = [ContactPointEntry.of_record(c, index=i) for i, c in enumerate(org.contact_points)]
        return cls.of_record(org, contact_points=points, row_version=getattr(org, "row_version", None) or 1)


# -- rules shared with the directory file -----------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    """Where an organisation sits: what the parent rules need of it."""

    administration: str
    parent: str | None


def placements_of(orgs: Any) -> dict[str, Placement]:
    return {o.code: Placement(o.administration_code, o.parent_code) for o in orgs}


def parent_problem(
    code: str, parent: str | None, administration: str, placements: Mapping[str, Placement]
) -> DomainError | None:
    """Why `parent` cannot be the parent of `code`, or None. `placements` is the directory as it would
    be, `code`'s new parent included: the parent must exist in the same administration, and following
    the parents from `code` must not come back to it."""
    if parent is None:
        return None
    if parent == code:
        return ValidationFailed(f"{code} cannot be its own parent.", field="parent_code")
    found = placements.get(parent)
    if found is None or found.administration != administration:
        return NotFound(
            f"There is no organisation '{parent}' in administration {administration}.", field="parent_code"
        )
    chain: list[str] = [code]
    current: str | None = parent
    while current is not None and current in placements:
        chain.append(current)
        if current == code:
            return Conflict(
                f"The parent links would go round in a circle: {' → '.join(chain)}.", field="parent_code"
            )
        if current in chain[:-1]:
            break  # a circle further up that does not pass through `code`: not this change's doing
        current = placements[current].parent
    return None


def kind_problem(kind: OrgKind, rcl_region: str, administration: Administration) -> DomainError | None:
    """Why an organisation of `kind` cannot be (so) in `administration`, or None."""
    if kind.is_laboratory and not administration.has_laboratories:
        return Conflict(
            f"Administration {administration.code} has no laboratories; add a focal point (kind "
            "'member') or a customs office instead, or mark the administration as having laboratories.",
            field="kind",
        )
    if rcl_region and not kind.is_laboratory:
        return ValidationFailed(
            "Only a laboratory can be designated Regional Customs Laboratory (rcl_region).",
            field="rcl_region",
        )
    return None


# -- the administrator's scope ----------------------------------------------------------------------
def administration_of(uow: AbstractUnitOfWork, actor: Actor) -> Administration:
    """The administration the actor's organisation belongs to: the one they may administer."""
    org = uow.repo.org(actor.org_code)
    found = uow.repo.administration(org.administration_code) if org is not None else None
    if found is None:
        raise NotFound(f"Your organisation {actor.org_code} belongs to no administration.")
    return found


def own_org(uow: AbstractUnitOfWork, actor: Actor, code: str, field: str | None = None) -> Organisation:
    """An organisation of the actor's administration; NotFound for any other, as if it did not exist."""
    org = uow.repo.org(code)
    if org is None or org.administration_code != administration_of(uow, actor).code:
        raise NotFound(f"There is no organisation '{code}'.", field=field)
    return org


def check_version(noun: str, record: object, row_version: int | None) -> None:
    """Refuse a change made on a stale copy: someone changed the record since the administrator read it."""
    current = getattr(record, "row_version", None) or 1
    if row_version is not None and row_version != current:
        raise Conflict(
            f"{noun} was changed by someone else since you read it (version {row_version}, now "
            f"{current}); nothing of yours was saved. Reload it and try again."
        )


# -- use cases ---------------------------------------------------------------------------------------
def administrations(uow: AbstractUnitOfWork, actor: Actor) -> list[AdministrationView]:
    """The administrations of the network (this server's first), for an administrator."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        found = sorted(uow.repo.administrations(), key=lambda a: (not a.home, a.code))
        return [AdministrationView.of_record(a) for a in found]


def my_administration(uow: AbstractUnitOfWork, actor: Actor) -> AdministrationView:
    """The administration the administrator runs."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        return AdministrationView.of_record(administration_of(uow, actor))


def organisations(uow: AbstractUnitOfWork, actor: Actor) -> list[OrganisationEntry]:
    """The organisations of the administrator's administration, active or not."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        mine = administration_of(uow, actor).code
        return [OrganisationEntry.of(o) for o in uow.repo.orgs() if o.administration_code == mine]


def organisation(uow: AbstractUnitOfWork, actor: Actor, code: str) -> OrganisationEntry:
    """One organisation of the administrator's administration."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        return OrganisationEntry.of(own_org(uow, actor, code))


def _raise(problem: DomainError | None) -> None:
    if problem is not None:
        raise problem


def create_organisation(uow: AbstractUnitOfWork, actor: Actor, cmd: OrganisationCreate) -> OrganisationEntry:
    """Add an organisation to the administrator's administration."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        admin = administration_of(uow, actor)
        if uow.repo.org(cmd.code) is not None:
            raise Conflict(f"The code '{cmd.code}' is taken by another organisation.", field="code")
        placements = placements_of(uow.repo.orgs())
        placements[cmd.code] = Placement(admin.code, cmd.parent_code)
        _raise(parent_problem(cmd.code, cmd.parent_code, admin.code, placements))
        _raise(kind_problem(cmd.kind, cmd.rcl_region, admin))
        org = Organisation(
            cmd.code,
            cmd.name,
            cmd.kind,
            cmd.country or admin.country,
            cmd.address,
            cmd.parent_code,
            [ContactPoint(c.name, c.role, c.email, c.phone) for c in cmd.contact_points],
            administration_code=admin.code,
            rcl_region=cmd.rcl_region,
        )
        uow.repo.add(org)
        uow.repo.flush()
        uow.commit()
        return OrganisationEntry.of(org)


def edit_organisation(
    uow: AbstractUnitOfWork, actor: Actor, code: str, cmd: OrganisationEdit
) -> OrganisationEntry:
    """Change an organisation's name, kind, address, parent or RCL designation."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        org = own_org(uow, actor, code)
        check_version(f"Organisation {code}", org, cmd.row_version)
        admin = administration_of(uow, actor)
        given = cmd.model_fields_set
        parent = cmd.parent_code if "parent_code" in given else org.parent_code
        kind = cmd.kind or org.kind
        region = cmd.rcl_region if cmd.rcl_region is not None else org.rcl_region
        placements = placements_of(uow.repo.orgs())
        placements[code] = Placement(admin.code, parent)
        _raise(parent_problem(code, parent, admin.code, placements))
        _raise(kind_problem(kind, region, admin))
        org.parent_code, org.kind, org.rcl_region = parent, kind, region
        if cmd.name is not None:
            org.name = cmd.name
        if cmd.address is not None:
            org.address = cmd.address
        uow.repo.flush()
        uow.commit()
        return OrganisationEntry.of(org)


def set_organisation_active(
    uow: AbstractUnitOfWork, actor: Actor, code: str, active: bool, cmd: VersionedStep
) -> OrganisationEntry:
    """Deactivate an organisation (it receives no new request or referral; nothing of it is deleted), or
    activate it again."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        org = own_org(uow, actor, code)
        check_version(f"Organisation {code}", org, cmd.row_version)
        if not active and code == actor.org_code:
            raise Conflict(
                "You cannot deactivate your own organisation; another administrator must.", field="code"
            )
        if org.active != active:
            org.active = active
            uow.repo.flush()
            uow.commit()
        return OrganisationEntry.of(org)


def add_contact_point(
    uow: AbstractUnitOfWork, actor: Actor, code: str, cmd: ContactPointCreate
) -> OrganisationEntry:
    """Add a contact point at the end of the organisation's list."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        org = own_org(uow, actor, code)
        if len(org.contact_points) >= 50:
            raise Conflict(f"{code} has 50 contact points already; deactivate or edit one instead.")
        # A new list: the column is stored whole, and the ORM sees a change only when it is replaced.
        org.contact_points = [*org.contact_points, ContactPoint(cmd.name, cmd.role, cmd.email, cmd.phone)]
        uow.repo.flush()
        uow.commit()
        return OrganisationEntry.of(org)


def _contact_point(org: Organisation, index: int) -> ContactPoint:
    if not 0 <= index < len(org.contact_points):
        raise NotFound(f"{org.code} has no contact point {index}.")
    return org.contact_points[index]


def edit_contact_point(
    uow: AbstractUnitOfWork, actor: Actor, code: str, index: int, cmd: ContactPointEdit
) -> OrganisationEntry:
    """Change a contact point's name, role, e-mail or phone; its position stays its key."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        org = own_org(uow, actor, code)
        check_version(f"Organisation {code}", org, cmd.row_version)
        old = _contact_point(org, index)
        new = ContactPoint(
            cmd.name if cmd.name is not None else old.name,
            cmd.role if cmd.role is not None else old.role,
            cmd.email if cmd.email is not None else old.email,
            cmd.phone if cmd.phone is not None else old.phone,
            old.active,
        )
        if asdict(new) != asdict(old):
            _replace_contact_point(org, index, new)
            uow.repo.flush()
            uow.commit()
        return OrganisationEntry.of(org)


def set_contact_point_active(
    uow: AbstractUnitOfWork, actor: Actor, code: str, index: int, active: bool, cmd: VersionedStep
) -> OrganisationEntry:
    """Deactivate a contact point (it leaves the RCL list; it is never deleted), or activate it again."""
    with acting(uow, actor, Action.MANAGE_DIRECTORY):
        org = own_org(uow, actor, code)
        check_version(f"Organisation {code}", org, cmd.row_version)
        old = _contact_point(org, index)
        if old.active != active:
            _replace_contact_point(org, index, ContactPoint(old.name, old.role, old.email, old.phone, active))
            uow.repo.flush()
            uow.commit()
        return OrganisationEntry.of(org)


def _replace_contact_point(org: Organisation, index: int, new: ContactPoint) -> None:
    points = list(org.contact_points)
    points[index] = new
    org.contact_points = points
