"""Setting a deployment up from a directory file: `customslab init --directory network.yaml`.

The file names this server's home administration, the partner administrations, the organisations
(laboratories, customs offices, focal points) with their parents and contact points, and the first
administrator. Applying it is idempotent: what the database already holds as the file says is left
alone, what differs is updated, what is missing is created, and nothing is ever deleted or deactivated
unless the file says `active: false`. The whole file is checked first, against the database as well
(parents, administrations, the home administration); with any problem nothing at all is written, and
every problem is reported with its entry and field: `organisations[3] (KCS-SEL).parent: ...`.

The administrator's password is never in the file: the command line reads it from the environment
variable the file names, from a file, or from a prompt, and it must pass the password rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Annotated, Any

import yaml
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from customslab.domain.enums import OrgKind, Role
from customslab.domain.errors import DomainError, ValidationFailed
from customslab.domain.model import Administration, ContactPoint, Organisation, User
from customslab.services.contract import Command, Country, Flag, Text, View, validation_failed
from customslab.services.organisations import (
    Address,
    Code,
    Email,
    Name,
    Phone,
    Placement,
    Region,
    kind_problem,
    parent_problem,
    placements_of,
)
from customslab.services.passwords import check_password_rules, hash_password
from customslab.services.ports import AbstractUnitOfWork

#: The reason every change of `customslab init` carries in the audit trail.
AUDIT_REASON = "customslab init --directory"


# -- the file ---------------------------------------------------------------------------------------
class ContactPointSpec(Command):
    name: Name
    role: Annotated[str, Text(200)] = ""
    email: Email = ""
    phone: Phone = ""
    #: Left as the database has it when not given (a new contact point is active).
    active: Flag | None = None


class AdministrationSpec(Command):
    code: Code
    name: Name
    country: Country
    has_laboratories: Flag = True


class OrganisationSpec(Command):
    code: Code
    name: Name
    kind: OrgKind
    #: The administration's country when not given.
    country: Country | None = None
    address: Address = ""
    parent: Code | None = None
    #: The code of the organisation's administration; the home administration when not given.
    administration: Code | None = None
    rcl_region: Region = ""
    contact_points: Annotated[list[ContactPointSpec], Field(max_length=50)] = []
    #: Left as the database has it when not given (a new organisation is active).
    active: Flag | None = None


class AdministratorSpec(Command):
    username: Annotated[str, Text(80, 1)]
    full_name: Name
    email: Email = ""
    org: Code
    #: The environment variable that holds the first password (the password itself is never in the file).
    password_env: Annotated[str, Text(100), Field(pattern=r"^$|^[A-Za-z_][A-Za-z0-9_]*$")] = ""


class DirectoryFile(Command):
    """A directory file, as `customslab init --directory` reads it."""

    home: AdministrationSpec
    partners: list[AdministrationSpec] = []
    organisations: Annotated[list[OrganisationSpec], Field(min_length=1)]
    administrator: AdministratorSpec


class DirectoryInvalid(ValidationFailed):
    """A directory file with problems; each names its entry and field. Nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"The directory file has {count}; nothing was written:\n- " + "\n- ".join(problems))
        self.problems = problems


class DirectoryApplied(View):
    """What applying a directory file changed (nothing, the second time with the same file)."""

    changes: list[str]
    applied: bool

    @property
    def nothing_to_change(self) -> bool:
        return not self.changes


def _entry_label(data: Any, loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """'organisations[3] (KCS-SEL)' and the rest of the location, from pydantic's location."""
    if not loc:
        return "", ()
    head, rest = str(loc[0]), loc[1:]
    raw: Any = data.get(head) if isinstance(data, Mapping) else None
    label = head
    if head in ("organisations", "partners") and rest and isinstance(rest[0], int):
        label += f"[{rest[0]}]"
        raw = raw[rest[0]] if isinstance(raw, list) and rest[0] < len(raw) else None
        rest = rest[1:]
    key = "username" if head == "administrator" else "code"
    if isinstance(raw, Mapping) and isinstance(raw.get(key), str | int) and str(raw.get(key)).strip():
        label += f" ({str(raw[key]).strip()[:40]})"
    return label, rest


def _field_path(rest: Iterable[Any]) -> str:
    path = ""
    for part in rest:
        if str(part).startswith(("function-", "constrained-")):
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _clause(message: str) -> str:
    """A sentence as the clause after 'entry.field:' ('There is...' → 'there is...'; codes untouched)."""
    if len(message) > 1 and message[0].isupper() and message[1].islower():
        return message[0].lower() + message[1:]
    return message


def problem(entry: str, field: str, message: str) -> str:
    text = _clause(message.strip())
    return f"{entry}{field}: {text if text.endswith('.') else text + '.'}"


def read_directory(text: str) -> DirectoryFile:
    """The directory file from its YAML text; DirectoryInvalid names every entry and field at fault."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}: " if where is not None else ""
        raise DirectoryInvalid(
            [f"{line}the file is not valid YAML ({getattr(exc, 'problem', exc)})"]
        ) from None
    if not isinstance(data, Mapping):
        raise DirectoryInvalid(["the file must be a mapping with home, organisations and administrator"])
    try:
        return DirectoryFile.model_validate(data)
    except PydanticValidationError as exc:
        problems = []
        for error in exc.errors():
            label, rest = _entry_label(data, tuple(error.get("loc", ())))
            fields = [p for p in rest if not str(p).startswith(("function-", "constrained-"))]
            last = str(fields[-1]) if fields and not isinstance(fields[-1], int) else label.split("[")[0]
            sentence = validation_failed([{**error, "loc": (last,)}]).message
            problems.append(problem(label, _field_path(rest), sentence))
        raise DirectoryInvalid(problems) from None


# -- checking against the database ------------------------------------------------------------------
def _org_label(i: int, spec: OrganisationSpec) -> str:
    return f"organisations[{i}] ({spec.code})"


def _check(uow: AbstractUnitOfWork, spec: DirectoryFile, admin_password: str | None) -> list[str]:
    """Every problem of the file, read against the database; an empty list when it can be applied."""
    problems: list[str] = []
    declared = [("home", spec.home), *((f"partners[{i}]", p) for i, p in enumerate(spec.partners))]
    administrations: dict[str, Administration] = {a.code: a for a in uow.repo.administrations()}
    seen: set[str] = set()
    for label, a in declared:
        entry = f"{label} ({a.code})"
        if a.code in seen:
            problems.append(problem(entry, ".code", f"administration {a.code} is named twice in the file"))
        seen.add(a.code)
        known = administrations.get(a.code)
        if label != "home" and known is not None and known.home:
            problems.append(
                problem(entry, ".code", f"{a.code} is this server's home administration, not a partner")
            )
        administrations[a.code] = Administration(
            a.code, a.name, a.country, a.has_laboratories, home=label == "home"
        )
    other_home = [a.code for a in uow.repo.administrations() if a.home and a.code != spec.home.code]
    if other_home:
        problems.append(
            problem(
                f"home ({spec.home.code})",
                ".code",
                f"this server's home administration is already {other_home[0]}; it cannot change",
            )
        )

    stored_orgs = {o.code: o for o in uow.repo.orgs()}
    placements = placements_of(stored_orgs.values())
    codes: set[str] = set()
    for i, o in enumerate(spec.organisations):
        entry = _org_label(i, o)
        administration = o.administration or spec.home.code
        if o.code in codes:
            problems.append(problem(entry, ".code", f"organisation {o.code} is named twice in the file"))
        codes.add(o.code)
        stored = stored_orgs.get(o.code)
        if administration not in seen:
            problems.append(
                problem(entry, ".administration", f"no administration '{administration}' in the file")
            )
        elif stored is not None and stored.administration_code != administration:
            problems.append(
                problem(
                    entry,
                    ".administration",
                    f"{o.code} belongs to administration {stored.administration_code}; an organisation "
                    "cannot move to another administration",
                )
            )
        placements[o.code] = Placement(administration, o.parent)
    for i, o in enumerate(spec.organisations):
        entry = _org_label(i, o)
        administration = placements[o.code].administration
        found = parent_problem(o.code, o.parent, administration, placements)
        if found is not None:
            problems.append(problem(entry, ".parent", _parent_message(found, o.parent)))
        if administration in administrations:
            kind = kind_problem(o.kind, o.rcl_region, administrations[administration])
            if kind is not None:
                problems.append(problem(entry, f".{kind.field or 'kind'}", kind.message))

    # An administration declared without laboratories must not keep any (listed or already stored).
    in_file = {o.code for o in spec.organisations}
    for label, a in declared:
        if a.has_laboratories:
            continue
        labs = sorted(
            o.code
            for o in stored_orgs.values()
            if o.administration_code == a.code and o.code not in in_file and o.kind.is_laboratory and o.active
        )
        if labs:
            problems.append(
                problem(
                    f"{label} ({a.code})",
                    ".has_laboratories",
                    f"{a.code} has active laboratories ({', '.join(labs)}); deactivate them first",
                )
            )
    problems += _check_administrator(uow, spec, placements, admin_password)
    return problems


def _parent_message(found: DomainError, parent: str | None) -> str:
    if found.field == "parent_code" and "There is no organisation" in found.message:
        return f"no organisation '{parent}' in the same administration"
    return found.message


def _check_administrator(
    uow: AbstractUnitOfWork, spec: DirectoryFile, placements: Mapping[str, Placement], password: str | None
) -> list[str]:
    a = spec.administrator
    entry = f"administrator ({a.username})"
    problems = []
    where = placements.get(a.org)
    if where is None or where.administration != spec.home.code:
        problems.append(problem(entry, ".org", f"no organisation '{a.org}' in the home administration"))
    if uow.repo.user_by_name(a.username) is None:
        if not password:
            how = f"set the environment variable {a.password_env}, " if a.password_env else ""
            problems.append(
                problem(
                    entry,
                    ".password",
                    f"a new administrator needs a first password: {how}give --admin-password-file, or "
                    "run the command at a terminal to type it",
                )
            )
        else:
            try:
                check_password_rules(password, a.username, a.full_name, a.email)
            except DomainError as exc:
                problems.append(problem(entry, ".password", exc.message))
    return problems


def needs_administrator_password(uow: AbstractUnitOfWork, spec: DirectoryFile) -> bool:
    """Whether the file's administrator is new, so that a first password must be given."""
    with uow:
        return uow.repo.user_by_name(spec.administrator.username) is None


# -- applying it ------------------------------------------------------------------------------------
def apply_directory(
    uow: AbstractUnitOfWork, spec: DirectoryFile, admin_password: str | None = None, dry_run: bool = False
) -> DirectoryApplied:
    """Create or update what the file describes, in one transaction; DirectoryInvalid and nothing written
    when any entry is at fault. With `dry_run`, say what would change and write nothing."""
    with uow:
        uow.act_as("system", AUDIT_REASON)
        problems = _check(uow, spec, admin_password)
        if problems:
            raise DirectoryInvalid(problems)
        changes = _apply_administrations(uow, spec)
        uow.repo.flush()
        changes += _apply_organisations(uow, spec)
        changes += _apply_administrator(uow, spec, admin_password)
        uow.repo.flush()
        if not dry_run:
            uow.commit()
        return DirectoryApplied(changes=changes, applied=not dry_run and bool(changes))


def _differences(record: object, wanted: Mapping[str, Any]) -> list[str]:
    """Set the fields of `record` that differ from `wanted`; their names."""
    changed = []
    for name, value in wanted.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed.append(name.replace("_", " "))
    return changed


def _apply_administrations(uow: AbstractUnitOfWork, spec: DirectoryFile) -> list[str]:
    changes = []
    for a, home in [(spec.home, True), *((p, False) for p in spec.partners)]:
        stored = uow.repo.administration(a.code)
        role = "home administration" if home else "partner administration"
        if stored is None:
            uow.repo.add(Administration(a.code, a.name, a.country, a.has_laboratories, home=home))
            changes.append(f"created {role} {a.code} ({a.name}, {a.country})")
            continue
        wanted = {"name": a.name, "country": a.country, "has_laboratories": a.has_laboratories, "home": home}
        changed = _differences(stored, wanted)
        if changed:
            changes.append(f"updated {role} {a.code}: {', '.join(changed)}")
    return changes


def _new_first(spec: DirectoryFile, new: set[str]) -> list[OrganisationSpec]:
    """The new organisations, each after its parent (the checks ruled out circles)."""
    by_code = {o.code: o for o in spec.organisations if o.code in new}
    ordered: list[OrganisationSpec] = []
    placed: set[str] = set()

    def place(o: OrganisationSpec) -> None:
        if o.code in placed:
            return
        placed.add(o.code)
        if o.parent in by_code:
            place(by_code[o.parent])
        ordered.append(o)

    for o in by_code.values():
        place(o)
    return ordered


def _contact_points(
    stored: list[ContactPoint], specs: list[ContactPointSpec]
) -> tuple[list[ContactPoint], list[str]]:
    """The contact points as the file wants them by position; those beyond the file's list stay."""
    points, changed = list(stored), []
    for i, c in enumerate(specs):
        old = points[i] if i < len(points) else None
        active = c.active if c.active is not None else (old.active if old else True)
        new = ContactPoint(c.name, c.role, c.email, c.phone, active)
        if old is None:
            points.append(new)
            changed.append(f"contact point {i} added")
        elif asdict(old) != asdict(new):
            points[i] = new
            changed.append(f"contact point {i}")
    return points, changed


def _apply_organisations(uow: AbstractUnitOfWork, spec: DirectoryFile) -> list[str]:
    countries = {a.code: a.country for a in [spec.home, *spec.partners]}
    changes = []
    new = {o.code for o in spec.organisations if uow.repo.org(o.code) is None}
    for o in _new_first(spec, new):
        administration = o.administration or spec.home.code
        points, _ = _contact_points([], o.contact_points)
        org = Organisation(
            o.code,
            o.name,
            o.kind,
            o.country or countries[administration],
            o.address,
            o.parent,
            points,
            administration_code=administration,
            rcl_region=o.rcl_region,
            active=o.active if o.active is not None else True,
        )
        uow.repo.add(org)
        # Flushed one by one: SQLite checks the parent's foreign key at once.
        uow.repo.flush()
        kind = o.kind.value.replace("_", " ")
        changes.append(f"created organisation {o.code} ({o.name}; {kind}, administration {administration})")
    for o in spec.organisations:
        stored = uow.repo.org(o.code)
        if o.code in new or stored is None:
            continue
        wanted: dict[str, Any] = {
            "name": o.name,
            "kind": o.kind,
            "country": o.country or countries[stored.administration_code],
            "address": o.address,
            "parent_code": o.parent,
            "rcl_region": o.rcl_region,
        }
        if o.active is not None:
            wanted["active"] = o.active
        changed = _differences(stored, wanted)
        points, moved = _contact_points(stored.contact_points, o.contact_points)
        if moved:
            stored.contact_points = points
        if changed or moved:
            changes.append(f"updated organisation {o.code}: {', '.join([*changed, *moved])}")
    return changes


def _apply_administrator(uow: AbstractUnitOfWork, spec: DirectoryFile, password: str | None) -> list[str]:
    a = spec.administrator
    user = uow.repo.user_by_name(a.username)
    if user is None:
        assert password is not None  # _check refused a new administrator without one
        uow.repo.add(
            User(a.username, a.full_name, a.org, frozenset({Role.ADMIN}), a.email, hash_password(password))
        )
        return [f"created administrator {a.username} ({a.full_name}) at {a.org}"]
    # An existing account keeps its password and its other roles; the file adds the administrator role.
    changed = _differences(user, {"full_name": a.full_name, "email": a.email, "org_code": a.org})
    if Role.ADMIN not in user.roles:
        user.roles = user.roles | {Role.ADMIN}
        changed.append("administrator role added")
    return [f"updated administrator {a.username}: {', '.join(changed)}"] if changed else []
