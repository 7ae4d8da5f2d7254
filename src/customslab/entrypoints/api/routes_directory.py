"""The administrator's directory and users, and the network's RCL contact-point list.

An administrator acts inside their own administration: organisations and users of another answer 404.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import Response

from customslab.entrypoints.api.deps import PathId, Policy, SignedIn
from customslab.services import contact_list, organisations, users_admin
from customslab.services.auth import SessionsEnded
from customslab.services.organisations import (
    CODE_PATTERN,
    AdministrationView,
    ContactPointCreate,
    ContactPointEdit,
    OrganisationCreate,
    OrganisationEdit,
    OrganisationEntry,
    VersionedStep,
)
from customslab.services.users_admin import (
    InvitationIssued,
    PasswordReset,
    RolesChange,
    UserEntry,
    UserInvite,
    UserStep,
)

router = APIRouter(prefix="/api")

OrgCode = Annotated[str, Path(pattern=CODE_PATTERN, max_length=32)]
Position = Annotated[int, Path(ge=0, le=49, description="The contact point's position in the list")]
Step = Annotated[VersionedStep, Body(default_factory=VersionedStep)]
UserStepBody = Annotated[UserStep, Body(default_factory=UserStep)]
DIRECTORY: list[str | Enum] = ["directory"]
ADMIN: list[str | Enum] = ["admin"]
NETWORK: list[str | Enum] = ["network"]


def _base_url(request: Request) -> str:
    return str(request.base_url)


# -- administrations and organisations --------------------------------------------------------------
@router.get("/admin/administrations", tags=DIRECTORY)
def list_administrations(caller: SignedIn) -> list[AdministrationView]:
    """The administrations of the network, this server's first (administrators only)."""
    return organisations.administrations(caller.uow, caller.actor)


@router.get("/admin/organisations", tags=DIRECTORY)
def list_own_organisations(caller: SignedIn) -> list[OrganisationEntry]:
    """The organisations of the administrator's administration, with their contact points."""
    return organisations.organisations(caller.uow, caller.actor)


@router.post("/admin/organisations", tags=DIRECTORY, status_code=201)
def create_organisation(body: OrganisationCreate, caller: SignedIn) -> OrganisationEntry:
    """Add a laboratory, customs office or focal point to the administrator's administration."""
    return organisations.create_organisation(caller.uow, caller.actor, body)


@router.get("/admin/organisations/{code}", tags=DIRECTORY)
def get_organisation(code: OrgCode, caller: SignedIn) -> OrganisationEntry:
    """One organisation of the administrator's administration."""
    return organisations.organisation(caller.uow, caller.actor, code)


@router.patch("/admin/organisations/{code}", tags=DIRECTORY)
def edit_organisation(code: OrgCode, body: OrganisationEdit, caller: SignedIn) -> OrganisationEntry:
    """Change name, kind, address, parent or RCL region; a stale `row_version` is a 409."""
    return organisations.edit_organisation(caller.uow, caller.actor, code, body)


@router.post("/admin/organisations/{code}/deactivate", tags=DIRECTORY)
def deactivate_organisation(code: OrgCode, caller: SignedIn, body: Step) -> OrganisationEntry:
    """Deactivate an organisation: it receives no new request or referral; nothing is deleted."""
    return organisations.set_organisation_active(caller.uow, caller.actor, code, False, body)


@router.post("/admin/organisations/{code}/activate", tags=DIRECTORY)
def activate_organisation(code: OrgCode, caller: SignedIn, body: Step) -> OrganisationEntry:
    """Activate a deactivated organisation again."""
    return organisations.set_organisation_active(caller.uow, caller.actor, code, True, body)


@router.post("/admin/organisations/{code}/contact-points", tags=DIRECTORY, status_code=201)
def add_contact_point(code: OrgCode, body: ContactPointCreate, caller: SignedIn) -> OrganisationEntry:
    """Add a contact point at the end of the organisation's list."""
    return organisations.add_contact_point(caller.uow, caller.actor, code, body)


@router.patch("/admin/organisations/{code}/contact-points/{index}", tags=DIRECTORY)
def edit_contact_point(
    code: OrgCode, index: Position, body: ContactPointEdit, caller: SignedIn
) -> OrganisationEntry:
    """Change a contact point; its position in the list is its key."""
    return organisations.edit_contact_point(caller.uow, caller.actor, code, index, body)


@router.post("/admin/organisations/{code}/contact-points/{index}/deactivate", tags=DIRECTORY)
def deactivate_contact_point(
    code: OrgCode, index: Position, caller: SignedIn, body: Step
) -> OrganisationEntry:
    """Deactivate a contact point: it leaves the RCL list, and is never deleted."""
    return organisations.set_contact_point_active(caller.uow, caller.actor, code, index, False, body)


@router.post("/admin/organisations/{code}/contact-points/{index}/activate", tags=DIRECTORY)
def activate_contact_point(code: OrgCode, index: Position, caller: SignedIn, body: Step) -> OrganisationEntry:
    """Activate a deactivated contact point again."""
    return organisations.set_contact_point_active(caller.uow, caller.actor, code, index, True, body)


# -- users ------------------------------------------------------------------------------------------
@router.get("/admin/users", tags=ADMIN)
def list_users(caller: SignedIn) -> list[UserEntry]:
    """The users of the administrator's administration, with their roles and whether they may sign in."""
    return users_admin.users(caller.uow, caller.actor)


@router.post("/admin/users/invitations", tags=ADMIN, status_code=201)
def invite_user(body: UserInvite, caller: SignedIn, request: Request) -> InvitationIssued:
    """Create a user without a password and return their one-time invitation link (valid 7 days; shown
    once)."""
    return users_admin.invite_user(caller.uow, caller.actor, body, _base_url(request))


@router.post("/admin/users/{user_id}/invitation", tags=ADMIN, status_code=201)
def reissue_invitation(user_id: PathId, caller: SignedIn, request: Request) -> InvitationIssued:
    """A new one-time link with which the user sets a password; older links end."""
    return users_admin.reissue_invitation(caller.uow, caller.actor, user_id, _base_url(request))


@router.post("/admin/users/{user_id}/password", tags=ADMIN)
def reset_password(user_id: PathId, body: PasswordReset, caller: SignedIn, policy: Policy) -> SessionsEnded:
    """Set a user's password; their sessions and pending invitations end."""
    return users_admin.reset_password(caller.uow, caller.actor, user_id, body, policy)


@router.put("/admin/users/{user_id}/roles", tags=ADMIN)
def change_roles(user_id: PathId, body: RolesChange, caller: SignedIn) -> UserEntry:
    """Replace a user's roles; a stale `row_version` is a 409."""
    return users_admin.change_roles(caller.uow, caller.actor, user_id, body)


@router.post("/admin/users/{user_id}/deactivate", tags=ADMIN)
def deactivate_user(user_id: PathId, caller: SignedIn, policy: Policy, body: UserStepBody) -> UserEntry:
    """Deactivate a user: their sessions and invitations end at once; nothing is deleted."""
    return users_admin.set_user_active(caller.uow, caller.actor, user_id, False, body, policy)


@router.post("/admin/users/{user_id}/activate", tags=ADMIN)
def activate_user(user_id: PathId, caller: SignedIn, policy: Policy, body: UserStepBody) -> UserEntry:
    """Activate a deactivated user again."""
    return users_admin.set_user_active(caller.uow, caller.actor, user_id, True, body, policy)


# -- the RCL contact-point list ---------------------------------------------------------------------
def _download(text: str, media_type: str, name: str) -> Response:
    return Response(
        text.encode(),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/network/contact-points.csv",
    tags=NETWORK,
    response_class=Response,
    responses={
        200: {
            "description": "The active contact points of the RCLs, one row each, with a header row.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def rcl_contact_points_csv(caller: SignedIn) -> Response:
    """The RCL contact-point list as CSV (any signed-in user)."""
    rows = contact_list.rcl_contacts(caller.uow, caller.actor)
    return _download(contact_list.contacts_csv(rows), "text/csv; charset=utf-8", "rcl-contact-points.csv")


@router.get(
    "/network/contact-points.vcf",
    tags=NETWORK,
    response_class=Response,
    responses={
        200: {
            "description": "The active contact points of the RCLs as vCard 3.0, one card each.",
            "content": {"text/vcard": {"schema": {"type": "string"}}},
        }
    },
)
def rcl_contact_points_vcard(caller: SignedIn) -> Response:
    """The RCL contact-point list as vCard (any signed-in user)."""
    rows = contact_list.rcl_contacts(caller.uow, caller.actor)
    return _download(contact_list.contacts_vcard(rows), "text/vcard; charset=utf-8", "rcl-contact-points.vcf")
