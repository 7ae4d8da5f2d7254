"""`customslab federation ...`: this deployment's key, and the partner deployments it trusts.

Connecting two administrations takes one command on each side after `init`: each administrator runs
`customslab federation key` and gives the other the printed administration, URL and public key, who runs
`customslab federation partner add`. The commands act as the server's operator ("system" in the audit
trail) and take the usual CUSTOMSLAB_* settings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any

import typer

from customslab.config import Settings
from customslab.entrypoints.cli_common import DatabaseOption, fail, load_settings
from customslab.services.ports import AbstractUnitOfWork

federation_app = typer.Typer(
    help="Federation with partner deployments: keys and partners.", no_args_is_help=True
)
partner_app = typer.Typer(help="The partner deployments this one trusts.", no_args_is_help=True)
federation_app.add_typer(partner_app, name="partner")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
Admin = Annotated[str, typer.Argument(help="The partner's administration code (as in the directory)")]
PublicKey = Annotated[
    str, typer.Option("--public-key", help="The partner's public key, as its `federation key` prints it")
]


class Deployment:
    """The settings and fresh units of work on the configured database."""

    def __init__(self, settings: Settings, db: Any, files: Any) -> None:
        self.settings = settings
        self.db = db
        self.files = files

    def uow(self) -> AbstractUnitOfWork:
        from customslab.adapters.uow import SqlAlchemyUnitOfWork

        return SqlAlchemyUnitOfWork(self.db, self.files)


@contextmanager
def _deployment(database_url: str | None) -> Iterator[Deployment]:
    """The deployment; a refusal of a use case or a missing key ends the command with its message."""
    from customslab.adapters.audit_anchor import AuditKeyError
    from customslab.adapters.federation.keys import KeyMissing
    from customslab.adapters.uow import LocalFileStore
    from customslab.domain.errors import DomainError
    from customslab.entrypoints import wiring

    settings = load_settings(database_url)
    try:
        db = wiring.database(settings)
    except AuditKeyError as exc:
        raise fail(f"Configuration error: {exc}") from None
    try:
        yield Deployment(settings, db, LocalFileStore(settings.file_store))
    except DomainError as exc:
        raise fail(exc.message) from None
    except KeyMissing as exc:
        raise fail(str(exc)) from None
    finally:
        db.dispose()


def _show(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@federation_app.command("key")
def key_command(as_json: AsJson = False, database_url: DatabaseOption = None) -> None:
    """This deployment's administration, key id and public key for partners (creates the first key
    outside production)."""
    from customslab.entrypoints import wiring
    from customslab.services import federation_partners

    with _deployment(database_url) as d:
        wiring.signing_key(d.settings, d.uow)  # creates the first key outside production
        own = federation_partners.own_keys(d.uow(), None)
    # The newest key is the one to register; during a rotation's overlap the older one still signs, so a
    # partner that registers now needs both (`partner add`, then `partner add-key`).
    assert own.current is not None  # signing_key raised otherwise
    key = own.current
    older = [k for k in own.keys if k.valid_now and k.key_id != key.key_id]
    data = {
        "administration": own.administration_code,
        "administration_name": own.administration_name,
        "key_id": key.key_id,
        "public_key": key.public_key,
        "public_url": d.settings.public_url,
        "older_keys_still_valid": [
            {"key_id": k.key_id, "public_key": k.public_key, "valid_until": k.valid_until} for k in older
        ],
    }
    if as_json:
        _show(data)
        return
    url = d.settings.public_url or "(not set: set CUSTOMSLAB_PUBLIC_URL to the URL partners reach)"
    typer.echo(f"Administration: {own.administration_code} ({own.administration_name})")
    typer.echo(f"Public URL:     {url}")
    typer.echo(f"Key id:         {key.key_id}")
    typer.echo(f"Public key:     {key.public_key}")
    typer.echo(
        "\nA partner's administrator registers this deployment with:\n"
        f"  customslab federation partner add {own.administration_code} "
        f"--url {d.settings.public_url or 'URL'} --public-key {key.public_key}"
    )
    for k in older:
        typer.echo(
            f"  customslab federation partner add-key {own.administration_code} --public-key {k.public_key}"
            f"   # still signing until {k.valid_until:%Y-%m-%d %H:%M} UTC"
        )


@federation_app.command("rotate-key")
def rotate_key_command(
    overlap_days: Annotated[
        int, typer.Option(min=0, max=365, help="Days the old key stays valid beside the new one")
    ] = 14,
    database_url: DatabaseOption = None,
) -> None:
    """Create a new key; the old one stays valid for the overlap, and every partner is told."""
    from customslab.entrypoints import wiring
    from customslab.services import federation_partners

    with _deployment(database_url) as d:
        folder = wiring.key_folder(d.settings)
        key = folder.generate()
        try:
            own = federation_partners.register_own_key(
                d.uow(), None, key.key_id, key.public_b64, timedelta(days=overlap_days)
            )
        except BaseException:
            folder.path_of(key.key_id).unlink(missing_ok=True)  # not recorded: no orphan private key
            raise
        told = [
            p.administration_code + ("" if p.state == "active" else " (when it is resumed)")
            for p in federation_partners.partners(d.uow(), None)
        ]
    typer.echo(f"New key {key.key_id} of {own.administration_code}: {key.public_b64}")
    for old in own.keys[:-1]:
        if old.valid_until is not None and old.valid_now:
            typer.echo(f"Key {old.key_id} stays valid until {old.valid_until:%Y-%m-%d %H:%M} UTC.")
    if told:
        typer.echo(f"The new key will be sent to {', '.join(told)} (signed with the old key).")


def _partner_line(p: Any) -> str:
    keys = ", ".join(k.key_id[:12] + ("" if k.valid_now else " (not valid now)") for k in p.keys)
    return f"{p.administration_code:<10} {p.state.value:<9} {p.base_url}  keys: {keys or 'none'}"


@partner_app.command("add")
def partner_add(
    administration: Admin,
    url: Annotated[str, typer.Option("--url", help="The partner server's base URL")],
    public_key: PublicKey,
    note: Annotated[str, typer.Option(help="A note for administrators")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Trust another administration's deployment: its URL and its public key."""
    from customslab.services import federation_partners
    from customslab.services.contract import parse

    with _deployment(database_url) as d:
        fields = {"administration_code": administration, "base_url": url, "public_key": public_key}
        cmd = parse(federation_partners.PartnerCreate, fields | {"note": note})
        p = federation_partners.register_partner(d.uow(), None, cmd)
    typer.echo(f"Registered partner {p.administration_code} ({p.administration_name}) at {p.base_url}.")


@partner_app.command("add-key")
def partner_add_key(
    administration: Admin, public_key: PublicKey, database_url: DatabaseOption = None
) -> None:
    """Accept one more public key of a partner, from now on."""
    from customslab.services import federation_partners
    from customslab.services.contract import parse

    with _deployment(database_url) as d:
        cmd = parse(federation_partners.KeyCreate, {"public_key": public_key})
        p = federation_partners.add_partner_key(d.uow(), None, administration, cmd)
    typer.echo(f"{p.administration_code} now has {len(p.keys)} keys: {_partner_line(p)}")


def _set_state(administration: str, state: str, database_url: str | None) -> None:
    from customslab.domain.federation import PartnerState
    from customslab.services import federation_partners

    with _deployment(database_url) as d:
        p = federation_partners.set_partner_state(d.uow(), None, administration, PartnerState(state))
    typer.echo(_partner_line(p))


@partner_app.command("suspend")
def partner_suspend(administration: Admin, database_url: DatabaseOption = None) -> None:
    """Suspend a partner: its messages are refused, and nothing is sent to it until it is resumed."""
    _set_state(administration, "suspended", database_url)


@partner_app.command("resume")
def partner_resume(administration: Admin, database_url: DatabaseOption = None) -> None:
    """Resume a suspended partner: what waits for it is sent at once."""
    _set_state(administration, "active", database_url)


@federation_app.command("partners")
def partners_command(as_json: AsJson = False, database_url: DatabaseOption = None) -> None:
    """The partner deployments, their state, URL and keys."""
    from customslab.services import federation_partners

    with _deployment(database_url) as d:
        found = federation_partners.partners(d.uow(), None)
    if as_json:
        _show([p.model_dump(mode="json") for p in found])
        return
    if not found:
        typer.echo(
            "No partner deployment yet: `customslab federation partner add ADMIN --url URL --public-key KEY`."
        )
    for p in found:
        typer.echo(_partner_line(p))
