"""The administrator's user management: invitations, password resets, roles, deactivation.

An invitation creates the account without a usable password and a one-time link: a row of `sessions`
of kind "invite" (only the token's sha256 is stored, as for sessions), which ends after
INVITATION_LIFETIME or once used. The invitee opens the link, chooses a password under the password
rules, and signs in. An administrator acts on the users of their own administration only; the others
answer NotFound. Deactivating a user ends their sessions and pending invitations at once; nothing is
deleted. Every change is audited under the administrator's name.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field, WrapValidator

from customslab.domain.access import Action, Actor
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, NotFound
from customslab.domain.model import User, UserSession
from customslab.services.auth import SessionsEnded, _end_sessions_of, _known_roles, _token_hash
from customslab.services.common import acting
from customslab.services.contract import Command, Text, View
from customslab.services.organisations import Email, RowVersion, administration_of, check_version, own_org
from customslab.services.passwords import NewPassword, check_password_rules, hash_password
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.sign_in_throttle import SignInPolicy

INVITATION_KIND = "invite"
INVITATION_LIFETIME = timedelta(days=7)
#: Where the invitee sets their password (the page of the web application).
INVITATION_PATH = "/invitation/"

Roles = Annotated[list[Role], Field(min_length=1), WrapValidator(_known_roles)]


class InvitationGone(NotFound):
    """An invitation link that has expired (the edges answer 410 Gone)."""


# -- commands and views -----------------------------------------------------------------------------
class UserInvite(Command):
    """A person to invite: their account is created without a password, which they set from the link."""

    username: Annotated[str, Text(80, 1)]
    full_name: Annotated[str, Text(200, 1)]
    org_code: Annotated[str, Text(40, 1)]
    roles: Roles
    email: Email = ""


class RolesChange(Command):
    """A user's roles, all of them (at least one), and the version of the user the administrator read."""

    roles: Roles
    row_version: RowVersion = None


class PasswordReset(Command):
    """The new password an administrator sets for a user (their sessions end)."""

    password: NewPassword


class UserStep(Command):
    """Deactivate or activate a user, with the version the administrator read, if known."""

    row_version: RowVersion = None


class InvitationAcceptance(Command):
    """The password the invitee chooses."""

    password: NewPassword


class UserEntry(View):
    """A user as the administrator manages them."""

    id: int
    username: str
    full_name: str
    email: str
    org_code: str
    roles: list[Role]
    active: bool
    password_set: bool
    #: When the pending invitation link ends; None when there is none.
    invitation_expires_at: datetime | None
    row_version: int


class InvitationIssued(View):
    """The invitation link, shown once: only its hash is stored, so it cannot be shown again."""

    user: UserEntry
    invitation_url: str
    expires_at: datetime


class InvitationView(View):
    """What the invitee sees before choosing a password."""

    username: str
    full_name: str
    org_code: str
    organisation: str
    expires_at: datetime


# -- helpers ----------------------------------------------------------------------------------------
def _pending_invitation(uow: AbstractUnitOfWork, user_id: int) -> UserSession | None:
    now = uow.clock()
    for s in uow.repo.sessions_of(user_id, open_only=True, limit=None):
        if s.kind == INVITATION_KIND and s.expires_at > now:
            return s
    return None


def _entry(uow: AbstractUnitOfWork, user: User) -> UserEntry:
    assert user.id is not None
    pending = _pending_invitation(uow, user.id)
    return UserEntry.of_record(
        user,
        roles=sorted(user.roles),
        password_set=bool(user.password_hash),
        invitation_expires_at=pending.expires_at if pending else None,
        row_version=getattr(user, "row_version", None) or 1,
    )


def _own_user(uow: AbstractUnitOfWork, actor: Actor, user_id: int) -> User:
    """A user of the actor's administration; NotFound for any other, as if they did not exist."""
    user = uow.repo.user(user_id)
    mine = administration_of(uow, actor).code
    org = uow.repo.org(user.org_code) if user is not None else None
    if user is None or org is None or org.administration_code != mine:
        raise NotFound(f"There is no user {user_id}.")
    return user


def _end_invitations(uow: AbstractUnitOfWork, user_id: int, reason: str) -> None:
    now = uow.clock()
    for s in uow.repo.sessions_of(user_id, open_only=True, limit=None):
        if s.kind == INVITATION_KIND:
            s.revoked_at, s.ended_reason = min(now, s.expires_at), reason[:60]


def _issue(uow: AbstractUnitOfWork, user: User, base_url: str) -> InvitationIssued:
    assert user.id is not None
    _end_invitations(uow, user.id, "replaced by a new invitation")
    now = uow.clock()
    token = secrets.token_urlsafe(32)
    expires = now + INVITATION_LIFETIME
    uow.repo.add(UserSession(_token_hash(token), user.id, INVITATION_KIND, now, now, expires))
    uow.repo.flush()
    url = base_url.rstrip("/") + INVITATION_PATH + token
    return InvitationIssued(user=_entry(uow, user), invitation_url=url, expires_at=expires)


# -- the administrator's use cases -------------------------------------------------------------------
def users(uow: AbstractUnitOfWork, actor: Actor) -> list[UserEntry]:
    """The users of the administrator's administration, active or not."""
    with acting(uow, actor, Action.MANAGE_USERS):
        mine = administration_of(uow, actor).code
        orgs = {o.code for o in uow.repo.orgs() if o.administration_code == mine}
        return [_entry(uow, u) for u in uow.repo.users() if u.org_code in orgs]


def invite_user(uow: AbstractUnitOfWork, actor: Actor, cmd: UserInvite, base_url: str) -> InvitationIssued:
    """Create a user without a password and the one-time link with which they set it (valid 7 days)."""
    with acting(uow, actor, Action.MANAGE_USERS):
        org = own_org(uow, actor, cmd.org_code, field="org_code")
        if not org.active:
            raise NotFound(f"There is no laboratory or office '{cmd.org_code}'.", field="org_code")
        if uow.repo.user_by_name(cmd.username):
            raise Conflict(f"The username '{cmd.username}' is taken.", field="username")
        org.check_roles(frozenset(cmd.roles))
        user = User(cmd.username, cmd.full_name, cmd.org_code, frozenset(cmd.roles), cmd.email, "")
        uow.repo.add(user)
        uow.repo.flush()
        issued = _issue(uow, user, base_url)
        uow.commit()
        return issued


def reissue_invitation(
    uow: AbstractUnitOfWork, actor: Actor, user_id: int, base_url: str
) -> InvitationIssued:
    """A new one-time link for a user (an expired invitation, or a forgotten password); older links end."""
    with acting(uow, actor, Action.MANAGE_USERS):
        user = _own_user(uow, actor, user_id)
        if not user.active:
            raise Conflict(f"{user.username} is deactivated; activate the account first.")
        issued = _issue(uow, user, base_url)
        uow.commit()
        return issued


def reset_password(
    uow: AbstractUnitOfWork, actor: Actor, user_id: int, cmd: PasswordReset, policy: SignInPolicy
) -> SessionsEnded:
    """Set another user's password; all their sessions and pending invitations end."""
    with acting(uow, actor, Action.MANAGE_USERS, "password reset by an administrator"):
        user = _own_user(uow, actor, user_id)
        assert user.id is not None
        if user_id == actor.user_id:
            # A stolen session must not be enough to take the account over: one's own password changes
            # with the current one (auth.change_password), never by an administrator's reset.
            raise Conflict(
                "Change your own password with your current one (Change password), not with a reset.",
                field="password",
            )
        uow.repo.lock_sign_in(user.username)  # no sign-in of theirs opens a session behind the reset
        check_password_rules(cmd.password, user.username, user.full_name, user.email)
        user.password_hash = hash_password(cmd.password)
        _end_invitations(uow, user.id, "password reset")
        ended = _end_sessions_of(uow, user.id, "password reset", policy)
        uow.commit()
        return SessionsEnded(ended=ended)


def change_roles(uow: AbstractUnitOfWork, actor: Actor, user_id: int, cmd: RolesChange) -> UserEntry:
    """Replace a user's roles (never one's own; only roles the organisation can hold)."""
    with acting(uow, actor, Action.MANAGE_USERS):
        user = _own_user(uow, actor, user_id)
        check_version(f"User {user.username}", user, cmd.row_version)
        roles = frozenset(cmd.roles)
        if user_id == actor.user_id and roles != user.roles:
            # Neither dropping one's administrator role nor granting oneself a laboratory role (which
            # would open case files to the administrator): another administrator must do it.
            raise Conflict("You cannot change your own roles; another administrator must.", field="roles")
        org = uow.repo.org(user.org_code)
        assert org is not None
        org.check_roles(roles)
        if roles != user.roles:
            user.roles = roles
            uow.repo.flush()
            uow.commit()
        return _entry(uow, user)


def set_user_active(
    uow: AbstractUnitOfWork,
    actor: Actor,
    user_id: int,
    active: bool,
    cmd: UserStep,
    policy: SignInPolicy,
) -> UserEntry:
    """Deactivate a user (their sessions and invitations end at once; nothing is deleted), or activate
    them again."""
    with acting(uow, actor, Action.MANAGE_USERS):
        user = _own_user(uow, actor, user_id)
        check_version(f"User {user.username}", user, cmd.row_version)
        if not active and user_id == actor.user_id:
            raise Conflict("You cannot deactivate your own account; another administrator must.")
        if user.active != active:
            uow.repo.lock_sign_in(user.username)
            user.active = active
            if not active:
                _end_invitations(uow, user_id, "account deactivated")
                _end_sessions_of(uow, user_id, "account deactivated", policy)
            uow.repo.flush()
            uow.commit()
        return _entry(uow, user)


# -- the invitee --------------------------------------------------------------------------------------
_USED = (
    "This invitation link was already used, was replaced by a newer one, or does not exist. Sign in "
    "with the password you chose, or ask your administrator for a new link."
)


def _open_invitation(uow: AbstractUnitOfWork, token: str) -> tuple[UserSession, User]:
    found = uow.repo.session_by_token(_token_hash(token))
    if found is None or found.kind != INVITATION_KIND or found.revoked_at is not None:
        raise NotFound(_USED)
    user = uow.repo.user(found.user_id)
    if user is None or not user.active:
        raise NotFound(_USED)
    if found.expires_at <= uow.clock():
        raise InvitationGone(
            f"This invitation link expired on {found.expires_at:%Y-%m-%d %H:%M} UTC. Ask your "
            "administrator for a new one."
        )
    return found, user


def invitation(uow: AbstractUnitOfWork, token: str) -> InvitationView:
    """The invitation behind a link: NotFound once used or replaced, InvitationGone once expired."""
    with uow:
        found, user = _open_invitation(uow, token)
        org = uow.repo.org(user.org_code)
        return InvitationView.of_record(
            user, organisation=org.name if org else user.org_code, expires_at=found.expires_at
        )


def accept_invitation(
    uow: AbstractUnitOfWork, token: str, cmd: InvitationAcceptance, policy: SignInPolicy
) -> InvitationView:
    """Set the invitee's password from the link, once; the link ends, and so do any older sessions."""
    with uow:
        # Two submissions of the same link are serialised: the second finds it used.
        uow.repo.lock_sign_in("invitation:" + _token_hash(token))
        found, user = _open_invitation(uow, token)
        assert user.id is not None
        uow.act_as(user.username, "password set from an invitation")
        check_password_rules(cmd.password, user.username, user.full_name, user.email)
        user.password_hash = hash_password(cmd.password)
        now = uow.clock()
        found.revoked_at, found.ended_reason = now, "invitation used"
        _end_invitations(uow, user.id, "another invitation was used")
        _end_sessions_of(uow, user.id, "password set from an invitation", policy)
        org = uow.repo.org(user.org_code)
        view = InvitationView.of_record(
            user, organisation=org.name if org else user.org_code, expires_at=found.expires_at
        )
        uow.commit()
        return view
