"""Who may do what, and who may see which record. Pure rules; the repositories apply the same
visibility in SQL, and the tests check both agree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from customslab.domain.enums import Role
from customslab.domain.errors import PermissionDenied

R = Role


@dataclass(frozen=True)
class Actor:
    """The signed-in user as the services see them."""

    user_id: int
    username: str
    org_code: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_network(self) -> bool:
        return self.has(R.NETWORK_COORDINATOR, R.ADMIN)

    @property
    def is_requester_only(self) -> bool:
        return self.roles == frozenset({R.REQUESTER})


class Action(StrEnum):
    FILE_REQUEST = "file a request"
    REGISTER_SAMPLE = "register a sample"
    RECEIVE_SAMPLE = "receive a sample"
    RECORD_CUSTODY = "record a custody event"
    REJECT_SAMPLE = "reject a sample"
    ADD_TEST = "add a test"
    ASSIGN_TEST = "assign a test"
    ENTER_RESULT = "enter a result"
    SUBMIT_TEST = "submit a test for review"
    REVIEW = "approve or return a test"
    REFER = "refer a sample"
    SHARE = "share a sample"
    ISSUE_REPORT = "issue a report"
    MANAGE_USERS = "manage users"
    VIEW_DASHBOARD = "view the network dashboard"


LAB_STAFF = frozenset({R.ANALYST, R.REVIEWER, R.LAB_MANAGER})

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.FILE_REQUEST: frozenset({R.REQUESTER}),
    Action.REGISTER_SAMPLE: LAB_STAFF,
    Action.RECEIVE_SAMPLE: LAB_STAFF,
    Action.RECORD_CUSTODY: LAB_STAFF,
    Action.REJECT_SAMPLE: frozenset({R.REVIEWER, R.LAB_MANAGER}),
    Action.ADD_TEST: frozenset({R.ANALYST, R.REVIEWER, R.LAB_MANAGER}),
    Action.ASSIGN_TEST: frozenset({R.REVIEWER, R.LAB_MANAGER}),
    Action.ENTER_RESULT: frozenset({R.ANALYST}),
    Action.SUBMIT_TEST: frozenset({R.ANALYST}),
    Action.REVIEW: frozenset({R.REVIEWER}),
    Action.REFER: frozenset({R.LAB_MANAGER, R.REVIEWER, R.NETWORK_COORDINATOR}),
    Action.SHARE: frozenset({R.LAB_MANAGER, R.REVIEWER, R.NETWORK_COORDINATOR}),
    Action.ISSUE_REPORT: frozenset({R.REVIEWER, R.LAB_MANAGER}),
    Action.MANAGE_USERS: frozenset({R.ADMIN}),
    Action.VIEW_DASHBOARD: frozenset({R.LAB_MANAGER, R.NETWORK_COORDINATOR, R.ADMIN, R.REVIEWER}),
}


def require(actor: Actor, action: Action) -> None:
    """Raise PermissionDenied when none of the actor's roles may take the action."""
    allowed = PERMISSIONS[action]
    if not actor.roles & allowed:
        names = ", ".join(sorted(r.value.replace("_", " ") for r in allowed))
        raise PermissionDenied(f"Only a {names} may {action.value}.")


def can_see_sample(
    actor: Actor,
    *,
    sample_lab: str,
    request_lab: str,
    requester_id: int,
    referral_labs: Iterable[str] = (),
    shared_with: Iterable[str] = (),
) -> bool:
    """A lab sees its own samples plus those referred or shared to it; requesters their own."""
    if actor.sees_network:
        return True
    if actor.has(R.REQUESTER) and requester_id == actor.user_id:
        return True
    if not actor.roles & LAB_STAFF:
        return False
    org = actor.org_code
    return org in (sample_lab, request_lab) or org in set(referral_labs) or org in set(shared_with)
