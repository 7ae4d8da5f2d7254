"""Partner deployments and the keys that sign their messages: registering, suspending, rotating.

Trust between two deployments is explicit: each administrator registers the other administration's
deployment (its base URL and public key). A partner is an administration of the local directory other
than the home one. Keys are never deleted: a key ends (`valid_until`), so what it signed stays
verifiable in the audit trail. The administrator acts through the API or the pages (`Actor`), the
operator of the server through the command line (`None`: the audit trail names "system").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

from customslab.domain.access import Action, Actor
from customslab.domain.errors import Conflict, NotFound, ValidationFailed
from customslab.domain.federation import (
    PUBLIC_KEY_PATTERN,
    Envelope,
    FederationKey,
    KeyRotated,
    Partner,
    PartnerState,
    check_base_url,
    check_public_key,
    public_key_id,
)
from customslab.services.common import acting
from customslab.services.contract import Command, Text, View
from customslab.services.federation_outbox import enqueue, home_code
from customslab.services.organisations import AdministrationView, Code, RowVersion, check_version
from customslab.services.ports import AbstractUnitOfWork

#: What the schema promises of a base URL (check_base_url is the rule; this keeps generated input in it).
BASE_URL_PATTERN = r"^https?://[^\s/?#\x00][^\s?#\x00]*$"


def _rule(check: Any) -> Any:
    """A domain check inside pydantic: its ValidationFailed becomes the field's error."""

    def run(value: str) -> str:
        try:
            return str(check(value))
        except ValidationFailed as exc:
            raise ValueError(exc.message) from None

    return run


BaseUrl = Annotated[
    str,
    Text(300, 1),
    AfterValidator(_rule(check_base_url)),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": BASE_URL_PATTERN,
            "maxLength": 300,
            "description": "The partner server's base URL, http(s)://host[:port][/path]",
        }
    ),
]
PublicKey = Annotated[
    str,
    Text(44, 1),
    AfterValidator(_rule(check_public_key)),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": PUBLIC_KEY_PATTERN,
            "minLength": 44,
            "maxLength": 44,
            "description": "An Ed25519 public key: base64 of its 32 raw bytes",
        }
    ),
]
Note = Annotated[str, Text(2000)]
#: Who registers: an administrator (API, pages) or the server's operator at the command line (None).
By = Actor | None


# -- commands and views -----------------------------------------------------------------------------
class PartnerCreate(Command):
    """Another administration's deployment to trust: where it answers, and the key it signs with."""

    administration_code: Code
    base_url: BaseUrl
    public_key: PublicKey
    note: Note = ""


class PartnerEdit(Command):
    """What changes of a partner; the fields not given stay as they are (state: suspend or resume)."""

    row_version: RowVersion = None
    base_url: BaseUrl | None = None
    note: Note | None = None
    state: PartnerState | None = None


class KeyCreate(Command):
    """A further public key of a partner (it rotated, and told us out of band)."""

    public_key: PublicKey


class KeyView(View):
    """A public key of this deployment or of a partner, and when it is accepted."""

    administration_code: str
    key_id: str
    public_key: str
    valid_from: datetime
    valid_until: datetime | None
    added_by: str
    valid_now: bool


class PartnerView(View):
    """A partner deployment, its state and its keys (oldest first)."""

    administration_code: str
    administration_name: str
    base_url: str
    state: PartnerState
    note: str
    registered_by: str
    registered_at: datetime
    row_version: int
    keys: list[KeyView]


class OwnKeys(View):
    """This deployment's administration and its public keys.

    `current` is the newest key valid now (the one a partner registers); `signing` the one that signs now:
    during a rotation's overlap the older key goes on signing until it ends, so a partner registered during
    the overlap needs both (`partner add` with `current`, `partner add-key` with `signing`)."""

    administration_code: str
    administration_name: str
    current: KeyView | None
    signing: KeyView | None = None
    keys: list[KeyView]


# -- helpers -----------------------------------------------------------------------------------------
@contextmanager
def admin_or_operator(uow: AbstractUnitOfWork, by: By, reason: str) -> Iterator[None]:
    """A unit of work for an administrator (refused without the right), or for the server's operator
    (None: a `customslab federation` command, "system" in the audit trail, with `reason`)."""
    if by is not None:
        with acting(uow, by, Action.MANAGE_DIRECTORY):
            yield
        return
    with uow:
        uow.act_as("system", reason)
        yield


def _name(by: By) -> str:
    return by.username if by is not None else "system"


def _key_view(key: FederationKey, now: datetime) -> KeyView:
    return KeyView.of_record(key, valid_now=key.valid_at(now))


def _partner_view(uow: AbstractUnitOfWork, partner: Partner) -> PartnerView:
    admin = uow.repo.administration(partner.administration_code)
    now = uow.clock()
    return PartnerView.of_record(
        partner,
        administration_name=admin.name if admin is not None else "",
        row_version=getattr(partner, "row_version", None) or 1,
        keys=[_key_view(k, now) for k in uow.federation.keys_of(partner.administration_code)],
    )


def _partner(uow: AbstractUnitOfWork, code: str) -> Partner:
    found = uow.federation.partner(code)
    if found is None:
        raise NotFound(f"There is no partner deployment for administration {code}.", "administration")
    return found


def _new_key(
    uow: AbstractUnitOfWork, holder: str, public_key: str, by: str, valid_from: datetime
) -> FederationKey:
    """Add a key of `holder`; the same key twice is a Conflict (it is registered already)."""
    key_id = public_key_id(public_key)
    if any(k.key_id == key_id for k in uow.federation.keys_of(holder)):
        raise Conflict(f"Key {key_id} of {holder} is registered already.", "public_key")
    key = FederationKey(holder, key_id, public_key, valid_from, None, by)
    uow.federation.add(key)
    return key


# -- use cases: partners -----------------------------------------------------------------------------
def partners(uow: AbstractUnitOfWork, actor: By) -> list[PartnerView]:
    """The partner deployments, with their keys."""
    with admin_or_operator(uow, actor, "list partners"):
        return [_partner_view(uow, p) for p in uow.federation.partners()]


def partner(uow: AbstractUnitOfWork, actor: By, code: str) -> PartnerView:
    """One partner deployment, with its keys."""
    with admin_or_operator(uow, actor, "read a partner"):
        return _partner_view(uow, _partner(uow, code))


def partner_candidates(uow: AbstractUnitOfWork, actor: By) -> list[AdministrationView]:
    """The administrations of the directory that may be registered as partners: all but the home one."""
    with admin_or_operator(uow, actor, "list administrations"):
        found = sorted(uow.repo.administrations(), key=lambda a: a.code)
        return [AdministrationView.of_record(a) for a in found if not a.home]


def register_partner(uow: AbstractUnitOfWork, by: By, cmd: PartnerCreate) -> PartnerView:
    """Trust another administration's deployment: its base URL, and its public key valid from now."""
    with admin_or_operator(uow, by, "customslab federation partner add"):
        code = cmd.administration_code
        admin = uow.repo.administration(code)
        if admin is None:
            raise NotFound(
                f"There is no administration {code} in this server's directory; add it to the directory "
                "file's partners and run `customslab init --directory` first.",
                "administration_code",
            )
        if admin.home:
            raise Conflict(
                f"{code} is this server's own administration, not a partner.", "administration_code"
            )
        if uow.federation.partner(code) is not None:
            raise Conflict(f"{code} is registered as a partner already.", "administration_code")
        now = uow.clock()
        found = Partner(code, cmd.base_url, PartnerState.ACTIVE, _name(by), now, cmd.note)
        uow.federation.add(found)
        _new_key(uow, code, cmd.public_key, _name(by), now)
        uow.commit()
        return _partner_view(uow, found)


def edit_partner(uow: AbstractUnitOfWork, by: By, code: str, cmd: PartnerEdit) -> PartnerView:
    """Change a partner's base URL or note, suspend it (its messages are refused, nothing is sent to
    it) or resume it (what waits for it is sent at once)."""
    with admin_or_operator(uow, by, "customslab federation partner"):
        found = _partner(uow, code)
        check_version(f"Partner {code}", found, cmd.row_version)
        changed = False
        for name in ("base_url", "note", "state"):
            value = getattr(cmd, name)
            if value is not None and value != getattr(found, name):
                setattr(found, name, value)
                changed = True
        if changed:
            if found.active:
                uow.federation.wake(code, uow.clock())
            uow.repo.flush()
            uow.commit()
        return _partner_view(uow, found)


def set_partner_state(uow: AbstractUnitOfWork, by: By, code: str, state: PartnerState) -> PartnerView:
    """Suspend or resume a partner (the command line's `suspend` and `resume`)."""
    return edit_partner(uow, by, code, PartnerEdit(state=state))


def add_partner_key(uow: AbstractUnitOfWork, by: By, code: str, cmd: KeyCreate) -> PartnerView:
    """Accept one more key of a partner, from now on (its older keys stay valid until they end)."""
    with admin_or_operator(uow, by, "customslab federation partner add-key"):
        found = _partner(uow, code)
        _new_key(uow, code, cmd.public_key, _name(by), uow.clock())
        uow.commit()
        return _partner_view(uow, found)


# -- use cases: this deployment's own keys ------------------------------------------------------------
def _own_keys(uow: AbstractUnitOfWork) -> OwnKeys:
    home = home_code(uow)
    admin = uow.repo.administration(home)
    now = uow.clock()
    keys = list(uow.federation.keys_of(home))
    valid = [k for k in keys if k.valid_at(now)]
    return OwnKeys(
        administration_code=home,
        administration_name=admin.name if admin is not None else "",
        current=_key_view(valid[-1], now) if valid else None,
        signing=_key_view(valid[0], now) if valid else None,
        keys=[_key_view(k, now) for k in keys],
    )


def own_keys(uow: AbstractUnitOfWork, actor: By) -> OwnKeys:
    """This deployment's administration and public keys, to give to a partner's administrator."""
    with admin_or_operator(uow, actor, "read own keys"):
        return _own_keys(uow)


def register_own_key(
    uow: AbstractUnitOfWork, by: By, key_id: str, public_key: str, overlap: timedelta
) -> OwnKeys:
    """Record this deployment's new key (its private half is in the key folder already).

    The older own keys end at now + `overlap`; every partner is told (`KeyRotated`, on the stream
    keys/<home>), so that it accepts the new key and ends the old one at the same moment. A suspended
    partner is told too: the message waits, and goes when the partner is resumed."""
    if overlap < timedelta(0):
        raise ValidationFailed("The overlap of the old and new keys cannot be negative.", "overlap")
    with admin_or_operator(uow, by, "customslab federation rotate-key"):
        if public_key_id(public_key) != key_id:
            raise ValidationFailed(f"Key id {key_id} is not the id of that public key.", "key_id")
        home = home_code(uow)
        now = uow.clock()
        ends = now + overlap
        older = [k for k in uow.federation.keys_of(home) if k.valid_at(now)]
        for k in older:
            if k.valid_until is None or k.valid_until > ends:
                k.valid_until = ends
        _new_key(uow, home, public_key, _name(by), now)
        if older:
            # The newest of the old keys announces its successor: partners trust it already.
            body = KeyRotated(key_id, public_key, older[-1].key_id, older[-1].valid_until or ends)
            for p in uow.federation.partners():
                enqueue(uow, p.administration_code, f"keys/{home}", body)
        uow.repo.flush()
        uow.commit()
        return _own_keys(uow)


# -- the message handler -----------------------------------------------------------------------------
def on_key_rotated(uow: AbstractUnitOfWork, sender: Partner, envelope: Envelope) -> None:
    """A partner has a new key: accept it from now, and end its old one when the partner says."""
    body = envelope.body
    if not isinstance(body, KeyRotated):
        raise ValidationFailed("Not a key rotation.")
    code = sender.administration_code
    check_public_key(body.public_key)
    if public_key_id(body.public_key) != body.key_id:
        raise ValidationFailed(f"Key id {body.key_id} is not the id of the public key sent with it.")
    keys: Sequence[FederationKey] = uow.federation.keys_of(code)
    old = next((k for k in keys if k.key_id == body.old_key_id), None)
    if old is None:
        raise ValidationFailed(f"{code} has no key {body.old_key_id} to replace.")
    if not any(k.key_id == body.key_id for k in keys):
        by = f"{code} (key rotation)"
        uow.federation.add(FederationKey(code, body.key_id, body.public_key, uow.clock(), None, by[:80]))
    if old.valid_until is None or old.valid_until > body.old_key_valid_until:
        old.valid_until = body.old_key_valid_until
    uow.repo.flush()
