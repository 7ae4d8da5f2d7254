"""One mechanism for every ISO/IEC 17025 register: declare a register once, get its use cases.

A `Register` (methods, equipment, reference materials, training, authorisations, QC batches) is
declared by its path, who may write it, the function that applies the domain's rules to a command to
make a new entry and the function that shows an entry as a view. The command, the entry class (whose
fields also declare its table, see `quality_ports`) and the view are read from those two functions'
signatures, and the use case's documentation from the first one's docstring, so nothing is said twice.
A `Step` is a change to one entry of a register: a transition (validate a method, revoke an
authorisation) or a record kept under it (a calibration of an instrument, a corrective action on a QC
batch), declared the same way by the function that applies it.

The generic use cases here open the unit of work, check the role, find the laboratory's own entry,
store, commit and render the view. The API builds its routes from the same declarations
(`entrypoints/api/routes_quality.py`) and the quality page reads the registers through them.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, Generic, TypeVar, cast, get_type_hints

from pydantic import BaseModel

from customslab.domain.access import Actor, Kind, orgs_seen
from customslab.domain.enums import Role
from customslab.domain.errors import NotFound, PermissionDenied
from customslab.domain.quality.errors import QualityError
from customslab.services.contract import Command, View, record_of
from customslab.services.ports import AbstractUnitOfWork

T = TypeVar("T")
E = TypeVar("E")
C = TypeVar("C", bound=Command)
V = TypeVar("V", bound=View)


class NoInput(Command):
    """The command of a step that needs nothing but the entry it acts on."""


def require_role(actor: Actor, doing: str, *roles: Role) -> None:
    if not actor.has(*roles):
        names = " or ".join(r.value.replace("_", " ") for r in roles)
        raise PermissionDenied(f"Only a {names} may {doing}.")


@dataclass(frozen=True)
class Writers:
    """Who may change a register, and what the refusal says they tried to do."""

    doing: str
    roles: tuple[Role, ...]

    def check(self, actor: Actor) -> None:
        require_role(actor, self.doing, *self.roles)


def writers(doing: str, *roles: Role) -> Writers:
    return Writers(doing, roles)


def own_entry(
    uow: AbstractUnitOfWork, actor: Actor, kind: type[T], entry_id: int, what: str, field: str | None = None
) -> T:
    """An entry of the actor's laboratory; another laboratory's record is reported as not found.

    `field` names the input that gave the id, when it came in a body rather than the path.
    """
    entry = uow.quality.get(kind, entry_id)
    if entry is None or getattr(entry, "lab_code", None) != actor.org_code:
        raise NotFound(f"{what} {entry_id} was not found.", field)
    return entry


def labs_in_sight(uow: AbstractUnitOfWork, actor: Actor) -> frozenset[str]:
    """The laboratories whose quality records the visibility table lets the actor read: their own, and
    for a central laboratory's reviewers and managers, the laboratories under it."""
    return orgs_seen(actor, Kind.QUALITY_RECORD, uow.repo.directory())


def lab_in_sight(uow: AbstractUnitOfWork, actor: Actor, lab: str | None) -> str | None:
    """The laboratory whose registers a read is about: `lab` if the actor may read its quality records
    (NotFound otherwise), by default the actor's own when they may (None when they may not)."""
    seen = labs_in_sight(uow, actor)
    if lab is None or lab == actor.org_code:
        return actor.org_code if actor.org_code in seen else None
    if lab not in seen:
        raise NotFound(f"There are no quality records of '{lab}' for you.", "lab")
    return lab


def seen_entry(uow: AbstractUnitOfWork, actor: Actor, kind: type[T], entry_id: int, what: str) -> T:
    """An entry of a laboratory whose quality records the actor may read (read-only for all but its own)."""
    entry = uow.quality.get(kind, entry_id)
    if entry is None or getattr(entry, "lab_code", None) not in labs_in_sight(uow, actor):
        raise NotFound(f"{what} {entry_id} was not found.")
    return entry


def key(entry: Any) -> int:
    """The id of a stored entry (the repository gives one on `add`)."""
    assert entry.id is not None, "a stored entry has its id"
    return int(entry.id)


def refusal(check: Callable[[], None]) -> str:
    """The domain's refusal of `check` in words, or "" when it passes (a view shows why, not a 409)."""
    try:
        check()
    except QualityError as exc:
        return str(exc)
    return ""


def value_of(cls: type[T], cmd: BaseModel, **given: Any) -> T:
    """The frozen domain value a command describes: its fields by name, then `given`.

    Commands keep measured values as exact decimals; the quality domain computes in floating point.
    """
    return record_of(cls, {k: float(v) if isinstance(v, Decimal) else v for k, v in cmd}, **given)


def fields_of(value: Any) -> dict[str, Any]:
    """The fields of a frozen domain value, one level deep, for a view that shows them flat."""
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


UoW = AbstractUnitOfWork


def declared(fn: Callable[..., Any], position: int | None = None) -> Any:
    """The type `fn` declares for its parameter at `position`, or for what it returns.

    A register's command, entry and view are the types its functions already name in their
    signatures; reading them from there keeps one declaration of each.
    """
    hints = get_type_hints(fn)
    return hints["return" if position is None else list(inspect.signature(fn).parameters)[position]]


def summary_of(fn: Callable[..., Any]) -> str:
    return inspect.getdoc(fn) or ""


@dataclass(frozen=True, eq=False)
class Register(Generic[E, C, V]):
    """A register of the laboratory: its entries, the command that adds one, the view of one.

    `new` applies the domain's rules to a command and makes the entry (its docstring documents the
    use case); `show` renders an entry. Their signatures declare the command, entry and view types.
    """

    path: str  # the URL segment under /api/quality and the id of the page's section
    what: str  # how a message names one entry: "Equipment 7 was not found."
    new: Callable[[UoW, Actor, C], E]
    show: Callable[[UoW, E], V]
    writers: Writers
    #: The entries of the laboratory read (None: of none), default: that laboratory's own entries.
    listing: Callable[[UoW, Actor, str | None], list[E]] | None = None
    #: Who reads which entry; default: an entry of a laboratory whose quality records the actor sees.
    reach: Callable[[UoW, Actor, int], E] | None = None

    @cached_property
    def command(self) -> type[C]:
        return cast("type[C]", declared(self.new, 2))

    @cached_property
    def entry(self) -> type[E]:
        return cast("type[E]", declared(self.new))

    @cached_property
    def view(self) -> type[V]:
        return cast("type[V]", declared(self.show))

    @property
    def summary(self) -> str:
        return summary_of(self.new)

    def entries(self, uow: UoW, actor: Actor, lab: str | None = None) -> list[E]:
        """Inside a unit of work: the entries of the laboratory `lab` (default: the actor's own) that the
        actor sees, oldest first; NotFound for a laboratory whose quality records they may not read."""
        code = lab_in_sight(uow, actor, lab)
        if self.listing is not None:
            return self.listing(uow, actor, code)
        return [] if code is None else uow.quality.find(self.entry, lab_code=code)

    def get(self, uow: UoW, actor: Actor, entry_id: int) -> E:
        """Inside a unit of work: one entry the actor may see, or NotFound."""
        if self.reach is not None:
            return self.reach(uow, actor, entry_id)
        return seen_entry(uow, actor, self.entry, entry_id, self.what)

    def own(self, uow: UoW, actor: Actor, entry_id: int) -> E:
        """Inside a unit of work: one entry of the actor's laboratory, the only ones it may change."""
        return own_entry(uow, actor, self.entry, entry_id, self.what)

    def views(self, uow: UoW, actor: Actor, lab: str | None = None) -> list[V]:
        """Inside a unit of work: what :meth:`list_all` returns."""
        return [self.show(uow, e) for e in self.entries(uow, actor, lab)]

    def list_all(self, uow: UoW, actor: Actor, lab: str | None = None) -> list[V]:
        """The register's entries the actor sees, oldest first: of their own laboratory, or of `lab`, one
        under their central laboratory, read-only."""
        with uow:
            return self.views(uow, actor, lab)

    def detail(self, uow: UoW, actor: Actor, entry_id: int) -> V:
        """One entry of the register."""
        with uow:
            return self.show(uow, self.get(uow, actor, entry_id))

    def record(self, uow: UoW, actor: Actor, cmd: C) -> V:
        """Add an entry to the register after the domain's rules accept it."""
        with uow:
            self.writers.check(actor)
            uow.act_as(actor.username)
            entry = self.new(uow, actor, cmd)
            uow.quality.add(entry)
            uow.commit()
            return self.show(uow, entry)


@dataclass(frozen=True, eq=False)
class Step(Generic[E, C, V]):
    """A change to one entry of a register; calling it is the use case.

    `apply` changes the entry in place (or stores records under it) and may return another entry to
    show instead, as adopting a method does with the copy it makes. Its docstring documents the use
    case and its signature declares the command (`NoInput` for none).
    """

    register: Register[E, Any, V]
    path: str  # the URL segment after the entry's id: "validate", "calibrations"
    apply: Callable[[UoW, Actor, E, C], E | None]
    writers: Writers
    adds: bool = False  # whether the step adds a record (201 Created)
    reach: Callable[[UoW, Actor, int], E] | None = None  # default: an entry of the laboratory

    @cached_property
    def command(self) -> type[C]:
        return cast("type[C]", declared(self.apply, 3))

    @property
    def summary(self) -> str:
        return summary_of(self.apply)

    def __call__(self, uow: UoW, actor: Actor, entry_id: int, cmd: C | None = None) -> V:
        with uow:
            self.writers.check(actor)
            uow.act_as(actor.username)
            entry = (self.reach or self.register.own)(uow, actor, entry_id)
            shown = self.apply(uow, actor, entry, cmd if cmd is not None else self.command())
            uow.commit()
            return self.register.show(uow, shown if shown is not None else entry)
