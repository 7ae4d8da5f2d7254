"""The administrator's pages: organisations and their contact points, users and their invitations, and the
public page where an invitee sets their password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData

from customslab.domain.enums import OrgKind, Role
from customslab.domain.errors import DomainError, ValidationFailed
from customslab.entrypoints.api.deps import PathId, policy_of
from customslab.entrypoints.api.errors import status_of
from customslab.entrypoints.web import lists_admin
from customslab.entrypoints.web.common import Form, PageActor, flash_redirect, render, say, uow_of
from customslab.entrypoints.web.listing import listing, read_query
from customslab.services import contact_list, organisations, users_admin
from customslab.services.contract import validation_failed
from customslab.services.organisations import (
    CODE_PATTERN,
    ContactPointCreate,
    ContactPointEdit,
    OrganisationCreate,
    OrganisationEdit,
    VersionedStep,
)
from customslab.services.passwords import MIN_PASSWORD_LENGTH
from customslab.services.users_admin import (
    InvitationAcceptance,
    InvitationGone,
    PasswordReset,
    RolesChange,
    UserInvite,
    UserStep,
)

router = APIRouter(include_in_schema=False)

OrgCode = Annotated[str, Path(pattern=CODE_PATTERN, max_length=32)]
Position = Annotated[int, Path(ge=0, le=49)]
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
KINDS = [k.value for k in OrgKind]
ROLES = [r.value for r in Role]
#: The session key that carries a new invitation link to the next page, where it is shown once.
INVITATION_SHOWN = "invitation_link"

M = TypeVar("M", bound=BaseModel)


def _command(cls: type[M], data: dict[str, Any]) -> M:
    """A command from a form whose every field is sent: an empty optional field means "none" or ""."""
    try:
        return cls.model_validate(data)
    except PydanticValidationError as exc:
        raise validation_failed(exc.errors()) from None


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


def _version(form: FormData) -> str | None:
    return _text(form, "row_version") or None


def _attempt(
    request: Request,
    change: Callable[[], Any],
    page: Callable[[DomainError], Response],
    done: Callable[[Any], Response],
) -> Response:
    """Do the change; a refusal re-renders the page with the message (and its status), nothing stored."""
    try:
        out = change()
    except DomainError as exc:
        response = page(exc)
        response.status_code = status_of(exc)
        return response
    return done(out)


# -- organisations ----------------------------------------------------------------------------------
def _organisations_page(
    request: Request, actor: Any, error: DomainError | None = None, values: Any = None
) -> Response:
    uow = uow_of(request)
    every = organisations.organisations(uow, actor)
    query = read_query(request.query_params, lists_admin.ORGANISATIONS)
    rows, total = lists_admin.organisations_rows(request, actor, query, every)
    return render(
        request,
        "admin_organisations.html",
        {
            "orgs": every,
            "rows": rows,
            "listing": listing(request, lists_admin.ORGANISATIONS, query, total, "/admin/organisations"),
            "administration": organisations.my_administration(uow_of(request), actor),
            "kinds": KINDS,
            "error": error,
            "values": values or {},
        },
    )


@router.get("/admin/organisations")
def organisations_page(request: Request, actor: PageActor) -> Response:
    """The organisations of the administrator's administration, and the form to add one."""
    return _organisations_page(request, actor)


@router.post("/admin/organisations")
def create_organisation(request: Request, actor: PageActor, form: Form) -> Response:
    """Add an organisation; a refusal is shown next to its field and nothing is stored."""
    fields = ("code", "name", "kind", "country", "address", "parent_code", "rcl_region")
    values = {k: _text(form, k) for k in fields}
    values["code"], values["country"] = values["code"].upper(), values["country"].upper()
    data: dict[str, Any] = {k: v for k, v in values.items() if v}

    def change() -> Any:
        return organisations.create_organisation(uow_of(request), actor, _command(OrganisationCreate, data))

    return _attempt(
        request,
        change,
        lambda exc: _organisations_page(request, actor, exc, values),
        lambda org: flash_redirect(
            request,
            f"/admin/organisations/{org.code}",
            say(request, "Organisation {code} added.", code=org.code),
        ),
    )


def _organisation_page(request: Request, actor: Any, code: str, error: DomainError | None = None) -> Response:
    org = organisations.organisation(uow_of(request), actor, code)
    others = [o for o in organisations.organisations(uow_of(request), actor) if o.code != code]
    return render(
        request,
        "admin_organisation.html",
        {"org": org, "parents": others, "kinds": KINDS, "error": error},
    )


@router.get("/admin/organisations/{code}")
def organisation_page(request: Request, actor: PageActor, code: OrgCode) -> Response:
    """One organisation: its details, its state and its contact points."""
    return _organisation_page(request, actor, code)


def _on_organisation(
    request: Request, actor: Any, code: str, change: Callable[[], Any], message: str
) -> Response:
    return _attempt(
        request,
        change,
        lambda exc: _organisation_page(request, actor, code, exc),
        lambda _: flash_redirect(request, f"/admin/organisations/{code}", say(request, message, code=code)),
    )


@router.post("/admin/organisations/{code}")
def edit_organisation(request: Request, actor: PageActor, code: OrgCode, form: Form) -> Response:
    """Change the organisation's name, kind, address, parent or RCL region."""
    data = {
        "row_version": _version(form),
        "name": _text(form, "name"),
        "kind": _text(form, "kind"),
        "address": _text(form, "address"),
        "parent_code": _text(form, "parent_code") or None,
        "rcl_region": _text(form, "rcl_region"),
    }

    def change() -> Any:
        return organisations.edit_organisation(uow_of(request), actor, code, _command(OrganisationEdit, data))

    return _on_organisation(request, actor, code, change, "Organisation {code} saved.")


def _organisation_step(request: Request, actor: Any, code: str, active: bool, form: FormData) -> Response:
    def change() -> Any:
        cmd = _command(VersionedStep, {"row_version": _version(form)})
        return organisations.set_organisation_active(uow_of(request), actor, code, active, cmd)

    done = "Organisation {code} activated." if active else "Organisation {code} deactivated."
    return _on_organisation(request, actor, code, change, done)


@router.post("/admin/organisations/{code}/deactivate")
def deactivate_organisation(request: Request, actor: PageActor, code: OrgCode, form: Form) -> Response:
    """Deactivate the organisation: it receives no new request or referral."""
    return _organisation_step(request, actor, code, False, form)


@router.post("/admin/organisations/{code}/activate")
def activate_organisation(request: Request, actor: PageActor, code: OrgCode, form: Form) -> Response:
    """Activate the organisation again."""
    return _organisation_step(request, actor, code, True, form)


def _point_fields(form: FormData) -> dict[str, Any]:
    return {k: _text(form, k) for k in ("name", "role", "email", "phone")}


@router.post("/admin/organisations/{code}/contact-points")
def add_contact_point(request: Request, actor: PageActor, code: OrgCode, form: Form) -> Response:
    """Add a contact point at the end of the list."""

    def change() -> Any:
        cmd = _command(ContactPointCreate, _point_fields(form))
        return organisations.add_contact_point(uow_of(request), actor, code, cmd)

    return _on_organisation(request, actor, code, change, "Contact point added to {code}.")


@router.post("/admin/organisations/{code}/contact-points/{index}")
def edit_contact_point(
    request: Request, actor: PageActor, code: OrgCode, index: Position, form: Form
) -> Response:
    """Change a contact point."""

    def change() -> Any:
        cmd = _command(ContactPointEdit, _point_fields(form) | {"row_version": _version(form)})
        return organisations.edit_contact_point(uow_of(request), actor, code, index, cmd)

    return _on_organisation(request, actor, code, change, "Contact point of {code} saved.")


def _contact_point_step(
    request: Request, actor: Any, code: str, index: int, active: bool, form: FormData
) -> Response:
    def change() -> Any:
        cmd = _command(VersionedStep, {"row_version": _version(form)})
        return organisations.set_contact_point_active(uow_of(request), actor, code, index, active, cmd)

    return _on_organisation(request, actor, code, change, "Contact point of {code} saved.")


@router.post("/admin/organisations/{code}/contact-points/{index}/deactivate")
def deactivate_contact_point(
    request: Request, actor: PageActor, code: OrgCode, index: Position, form: Form
) -> Response:
    """Deactivate a contact point (it leaves the RCL list)."""
    return _contact_point_step(request, actor, code, index, False, form)


@router.post("/admin/organisations/{code}/contact-points/{index}/activate")
def activate_contact_point(
    request: Request, actor: PageActor, code: OrgCode, index: Position, form: Form
) -> Response:
    """Activate a contact point again."""
    return _contact_point_step(request, actor, code, index, True, form)


# -- users ------------------------------------------------------------------------------------------
def _users_page(
    request: Request, actor: Any, error: DomainError | None = None, values: Any = None
) -> Response:
    query = read_query(request.query_params, lists_admin.USERS)
    rows, total = lists_admin.users_rows(request, actor, query)
    orgs = [o for o in organisations.organisations(uow_of(request), actor) if o.active]
    return render(
        request,
        "admin_users.html",
        {
            "users": rows,
            "listing": listing(request, lists_admin.USERS, query, total, "/admin/users"),
            "orgs": orgs,
            "roles": ROLES,
            "error": error,
            "values": values or {},
            "invitation": request.session.pop(INVITATION_SHOWN, None),
            "min_length": MIN_PASSWORD_LENGTH,
        },
    )


@router.get("/admin/users")
def users_page(request: Request, actor: PageActor) -> Response:
    """The users of the administrator's administration, and the form to invite one."""
    return _users_page(request, actor)


def _shown_once(request: Request, issued: users_admin.InvitationIssued) -> Response:
    # Carried to the next page in the (signed) cookie and dropped there: only the hash is stored.
    request.session[INVITATION_SHOWN] = {"username": issued.user.username, "url": issued.invitation_url}
    return flash_redirect(
        request, "/admin/users", say(request, "Invitation for {name} created.", name=issued.user.username)
    )


@router.post("/admin/users/invite")
def invite_user(request: Request, actor: PageActor, form: Form) -> Response:
    """Create the user and show their invitation link once."""
    values = {k: _text(form, k) for k in ("username", "full_name", "email", "org_code")}
    data = values | {"roles": [str(r) for r in form.getlist("roles")]}

    def change() -> Any:
        cmd = _command(UserInvite, data)
        return users_admin.invite_user(uow_of(request), actor, cmd, str(request.base_url))

    return _attempt(
        request,
        change,
        lambda exc: _users_page(request, actor, exc, data),
        lambda issued: _shown_once(request, issued),
    )


def _on_user(request: Request, actor: Any, change: Callable[[], Any], message: str) -> Response:
    return _attempt(
        request,
        change,
        lambda exc: _users_page(request, actor, exc),
        lambda out: flash_redirect(
            request, "/admin/users", say(request, message, name=getattr(out, "username", ""))
        ),
    )


@router.post("/admin/users/{user_id}/invitation")
def reissue_invitation(request: Request, actor: PageActor, user_id: PathId, form: Form) -> Response:
    """A new one-time link for the user, shown once."""
    return _attempt(
        request,
        lambda: users_admin.reissue_invitation(uow_of(request), actor, user_id, str(request.base_url)),
        lambda exc: _users_page(request, actor, exc),
        lambda issued: _shown_once(request, issued),
    )


@router.post("/admin/users/{user_id}/password")
def reset_password(request: Request, actor: PageActor, user_id: PathId, form: Form) -> Response:
    """Set the user's password; their sessions end."""

    def change() -> Any:
        if form.get("password") != form.get("confirm_password"):
            raise ValidationFailed(say(request, "The two passwords differ."), field="confirm_password")
        cmd = _command(PasswordReset, {"password": str(form.get("password") or "")})
        return users_admin.reset_password(uow_of(request), actor, user_id, cmd, policy_of(request))

    return _on_user(request, actor, change, "Password set; the user's sessions were ended.")


@router.post("/admin/users/{user_id}/roles")
def change_roles(request: Request, actor: PageActor, user_id: PathId, form: Form) -> Response:
    """Replace the user's roles."""

    def change() -> Any:
        data = {"roles": [str(r) for r in form.getlist("roles")], "row_version": _version(form)}
        return users_admin.change_roles(uow_of(request), actor, user_id, _command(RolesChange, data))

    return _on_user(request, actor, change, "Roles of {name} saved.")


def _user_step(request: Request, actor: Any, user_id: int, active: bool, form: FormData) -> Response:
    def change() -> Any:
        cmd = _command(UserStep, {"row_version": _version(form)})
        return users_admin.set_user_active(uow_of(request), actor, user_id, active, cmd, policy_of(request))

    done = "{name} can sign in again." if active else "{name} was deactivated and signed out."
    return _on_user(request, actor, change, done)


@router.post("/admin/users/{user_id}/deactivate")
def deactivate_user(request: Request, actor: PageActor, user_id: PathId, form: Form) -> Response:
    """Deactivate the user: their sessions end at once."""
    return _user_step(request, actor, user_id, False, form)


@router.post("/admin/users/{user_id}/activate")
def activate_user(request: Request, actor: PageActor, user_id: PathId, form: Form) -> Response:
    """Activate the user again."""
    return _user_step(request, actor, user_id, True, form)


# -- the RCL contact-point list, for any signed-in user --------------------------------------------
@router.get("/network/contact-points.csv")
def contact_points_csv(request: Request, actor: PageActor) -> Response:
    """The RCL contact-point list as CSV (the same as /api/network/contact-points.csv)."""
    rows = contact_list.rcl_contacts(uow_of(request), actor)
    return Response(
        contact_list.contacts_csv(rows).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rcl-contact-points.csv"'},
    )


@router.get("/network/contact-points.vcf")
def contact_points_vcard(request: Request, actor: PageActor) -> Response:
    """The RCL contact-point list as vCard."""
    rows = contact_list.rcl_contacts(uow_of(request), actor)
    return Response(
        contact_list.contacts_vcard(rows).encode(),
        media_type="text/vcard; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rcl-contact-points.vcf"'},
    )


# -- the invitee --------------------------------------------------------------------------------------
def _invitation_refused(request: Request, exc: DomainError) -> Response:
    status = 410 if isinstance(exc, InvitationGone) else status_of(exc)
    return render(request, "error.html", {"status": status, "message": exc.message}, status)


@router.get("/invitation/{token}")
def invitation_page(request: Request, token: Token) -> Response:
    """The invitee chooses a password (no sign-in: the link is the credential, once, for 7 days)."""
    try:
        found = users_admin.invitation(uow_of(request), token)
    except DomainError as exc:
        return _invitation_refused(request, exc)
    return render(
        request, "invitation.html", {"invite": found, "token": token, "min_length": MIN_PASSWORD_LENGTH}
    )


@router.post("/invitation/{token}")
def accept_invitation(request: Request, token: Token, form: Form) -> Response:
    """Set the password; the link then stops working, and the invitee signs in."""
    page = {"token": token, "min_length": MIN_PASSWORD_LENGTH}
    try:
        found = users_admin.invitation(uow_of(request), token)
        page["invite"] = found
        if form.get("password") != form.get("confirm_password"):
            raise ValidationFailed(say(request, "The two passwords differ."), field="confirm_password")
        cmd = _command(InvitationAcceptance, {"password": str(form.get("password") or "")})
        done = users_admin.accept_invitation(uow_of(request), token, cmd, policy_of(request))
    except ValidationFailed as exc:
        return render(request, "invitation.html", page | {"error": exc.message, "field": exc.field}, 422)
    except DomainError as exc:
        return _invitation_refused(request, exc)
    return flash_redirect(
        request, "/login", say(request, "Your password is set, {name}: sign in with it.", name=done.username)
    )
