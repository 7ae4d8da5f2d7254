"""Use cases of the controlled substances register: load and list an administration's national lists,
the register a search uses, a hit's control status, and the mark a controlled identity puts on a case.

The register a search uses is the UN lists shipped with the project (passed in by the edge, as
`bundled`) plus the national lists loaded by the administration of the laboratory that runs the search
and by the administration whose request the sample belongs to, when that is another one on this server.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

from pydantic import Field

from customslab.domain.access import Action, Actor, require
from customslab.domain.enums import NotificationKind, State
from customslab.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.model import AnalysisTest, Sample
from customslab.services.common import visible_sample
from customslab.services.contract import Command, Flag, Text, View
from customslab.services.control_mark import applicable, mark_codes, result_controls
from customslab.services.control_views import ControlStatus
from customslab.services.notifications import notify, subject_for
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.substance_ports import NationalControlList
from customslab.services.views import SpectralHit
from customslab.substances.register import Register, RegisterError, cas_is_valid, parse_list

#: The largest national list accepted, in characters (a list of some thousand rows is far smaller); under
#: the API's 1 MiB cap on a JSON body, so whatever the command accepts can be sent.
MAX_LIST_BYTES = 900_000
#: The forms of the identifiers a look-up takes (ASCII, as a JSON Schema pattern reads them); a CAS
#: number's check digit is checked apart (`cas_is_valid`).
CAS_PATTERN = r"^[0-9]{2,7}-[0-9]{2}-[0-9]$"
INCHIKEY_PATTERN = r"^[A-Za-z]{14}-[A-Za-z]{10}-[A-Za-z]$"
INCHIKEY = re.compile(INCHIKEY_PATTERN)


class NationalListLoad(Command):
    """A national list in the register's CSV format (docs/substances.md), with its name and reference."""

    name: Annotated[str, Text(120, 1)] = Field(description="The list's name, as hits will show it.")
    reference: Annotated[str, Text(300, 1)] = Field(description="Its legal reference: act, decree, date.")
    csv: Annotated[str, Field(min_length=1, max_length=MAX_LIST_BYTES)] = Field(
        description="The CSV text: name, synonyms, cas, inchikey, controls (national:<category>), source..."
    )
    filename: Annotated[str, Text(200)] = ""
    administration_code: Annotated[str, Text(32)] = Field(
        default="", description="Whose list (the command line only; an administrator loads their own)."
    )
    replace: Flag = Field(default=False, description="Replace the list of the same name already loaded.")


class NationalListView(View):
    id: int
    administration_code: str
    name: str
    reference: str
    rows: int
    sha256: str
    loaded_by: str
    loaded_at: datetime


class CheckedSubstance(View):
    """What the register says of a name, CAS number or InChIKey."""

    controls: list[ControlStatus]


def _home_administration(uow: AbstractUnitOfWork) -> str:
    home = next((a for a in uow.repo.administrations() if a.home), None)
    if home is None:
        raise ValidationFailed(
            "This server has no home administration yet: name the administration the list belongs to.",
            field="administration_code",
        )
    return home.code


def _administration_of(uow: AbstractUnitOfWork, actor: Actor) -> str:
    org = uow.repo.org(actor.org_code)
    if org is None:
        raise NotFound(f"Your organisation {actor.org_code} belongs to no administration.")
    return org.administration_code


def _whose(uow: AbstractUnitOfWork, actor: Actor | None, given: str) -> str:
    """The administration a list is loaded for: an administrator's own; from the command line, the one
    named, or the server's home administration."""
    if actor is not None:
        require(actor, Action.MANAGE_SUBSTANCE_LISTS)
        own = _administration_of(uow, actor)
        if given and given != own:
            raise PermissionDenied("An administrator loads the national lists of their own administration.")
        return own
    code = given or _home_administration(uow)
    if uow.repo.administration(code) is None:
        raise ValidationFailed(f"There is no administration '{code}'.", field="administration_code")
    return code


def load_national_list(
    uow: AbstractUnitOfWork, actor: Actor | None, cmd: NationalListLoad
) -> NationalListView:
    """Load (or with `replace`, reload) an administration's national list; a faulty file is refused
    whole, each fault with its line. `actor` None: the command line, acting for the server."""
    with uow:
        administration = _whose(uow, actor, cmd.administration_code)
        uow.act_as(actor.username if actor is not None else "cli")
        try:
            entries = parse_list(
                cmd.csv, national=True, list_name=cmd.name, reference=cmd.reference, origin=cmd.filename
            )
        except RegisterError as exc:
            raise ValidationFailed(str(exc), field="csv") from None
        now = uow.clock()
        who = actor.username if actor is not None else "cli"
        sha = hashlib.sha256(cmd.csv.encode("utf-8")).hexdigest()
        found = uow.quality.find(NationalControlList, administration_code=administration, name=cmd.name)
        if found and not cmd.replace:
            raise Conflict(
                f"A national list named '{cmd.name}' is already loaded; replace it explicitly.", field="name"
            )
        if found:
            kept = found[0]
            kept.reference, kept.entries, kept.rows, kept.sha256 = cmd.reference, entries, len(entries), sha
            kept.loaded_by, kept.loaded_at = who, now
        else:
            kept = NationalControlList(
                administration, cmd.name, cmd.reference, entries, len(entries), sha, who, now
            )
            uow.quality.add(kept)
        view = NationalListView.of_record(kept)
        uow.commit()
        return view


def national_lists(
    uow: AbstractUnitOfWork, actor: Actor | None, administration: str = ""
) -> list[NationalListView]:
    """The national lists loaded for the actor's administration (the command line: the one named, or
    every list on the server)."""
    with uow:
        code = _administration_of(uow, actor) if actor is not None else administration
        found = (
            uow.quality.find(NationalControlList, administration_code=code)
            if code
            else uow.quality.find(NationalControlList)
        )
        return [NationalListView.of_record(n) for n in found]


def register_for(uow: AbstractUnitOfWork, bundled: Register, administrations: Iterable[str]) -> Register:
    """Inside the caller's unit of work: the bundled lists plus these administrations' national lists."""
    substances = [
        s
        for code in dict.fromkeys(a for a in administrations if a)
        for n in uow.quality.find(NationalControlList, administration_code=code)
        for s in n.entries
    ]
    return bundled.plus(substances) if substances else bundled


def administrations_of_test(uow: AbstractUnitOfWork, actor: Actor, test_id: int) -> list[str]:
    """Inside the caller's unit of work: whose national lists apply to a test the actor may see: the
    administration of the laboratory holding its sample, and the requesting administration."""
    test = uow.repo.test(test_id)
    if test is None or test.sample_id is None:
        raise NotFound(f"Test {test_id} was not found.")
    sample = visible_sample(uow, actor, test.sample_id)
    lab = uow.repo.org(sample.lab_code)
    request = uow.repo.request(sample.request_id or 0)
    return [
        c
        for c in (lab.administration_code if lab else "", request.administration_code if request else "")
        if c
    ]


def register_for_test(uow: AbstractUnitOfWork, actor: Actor, bundled: Register, test_id: int) -> Register:
    """The register a search on this test uses: bundled lists plus the national lists that apply."""
    with uow:
        return register_for(uow, bundled, administrations_of_test(uow, actor, test_id))


def with_controls(hits: Iterable[SpectralHit], register: Register) -> list[SpectralHit]:
    """The hits, each with the controls the register finds for it (by CAS, InChIKey or name)."""
    return [
        h.model_copy(
            update={
                "controls": [ControlStatus.of(m) for m in register.controls_for(h.name, h.cas, h.inchikey)]
            }
        )
        for h in hits
    ]


def check_in_register(
    register: Register, name: str = "", cas: str = "", inchikey: str = ""
) -> CheckedSubstance:
    """What `register` says of a name, CAS number or InChIKey, each checked first (the command line
    and the API's look-up share it)."""
    name, cas, inchikey = name.strip(), cas.strip(), inchikey.strip()
    if not (name or cas or inchikey):
        raise ValidationFailed("Give a name, a CAS number or an InChIKey.", field="name")
    # A mistyped identifier would find nothing, which reads as "not controlled": refuse it instead.
    if cas and not cas_is_valid(cas):
        raise ValidationFailed(
            f"'{cas}' is not a CAS number (NNNNNNN-NN-N) with a correct check digit.", field="cas"
        )
    if inchikey and not INCHIKEY.fullmatch(inchikey):
        raise ValidationFailed(
            f"'{inchikey}' is not a full InChIKey (14 letters, a dash, 10 letters, a dash, a letter).",
            field="inchikey",
        )
    found = register.controls_for(name, cas, inchikey)
    return CheckedSubstance(controls=[ControlStatus.of(m) for m in found])


def check_substance(
    uow: AbstractUnitOfWork,
    actor: Actor,
    bundled: Register,
    name: str = "",
    cas: str = "",
    inchikey: str = "",
) -> CheckedSubstance:
    """What the register (bundled lists and the actor's administration's national lists) says of a
    name, CAS number or InChIKey."""
    check_in_register(Register(), name, cas, inchikey)  # refuse a mistyped identifier before any work
    with uow:
        register = register_for(uow, bundled, [_administration_of(uow, actor)])
    return check_in_register(register, name, cas, inchikey)


def _requesting_administration(uow: AbstractUnitOfWork, sample: Sample) -> str:
    request = uow.repo.request(sample.request_id or 0)
    return request.administration_code if request is not None else ""


def officer_register(uow: AbstractUnitOfWork, bundled: Register, sample: Sample) -> Register:
    """Inside the caller's unit of work: the register the officer's mark uses: the bundled UN lists and
    the requesting administration's national lists (not the laboratory's, which do not apply there)."""
    return register_for(uow, bundled, [_requesting_administration(uow, sample)])


def _officer_controls(
    uow: AbstractUnitOfWork, sample: Sample, controls: list[ControlStatus]
) -> list[ControlStatus]:
    code = _requesting_administration(uow, sample)
    lists = uow.quality.find(NationalControlList, administration_code=code) if code else []
    return applicable(controls, [n.name for n in lists])


def _set_mark(uow: AbstractUnitOfWork, actor: Actor, sample: Sample, mark: str) -> None:
    sample.control_mark = mark
    sample.control_marked_at = uow.clock()
    sample.control_marked_by = actor.username


def mark_controlled(
    uow: AbstractUnitOfWork, actor: Actor, test: AnalysisTest, controls: list[ControlStatus]
) -> bool:
    """Inside the caller's unit of work: mark the test's sample as holding a controlled substance (the
    control entries that apply to the requesting administration, stored as codes, when and by whom;
    audited with the sample) and tell the requesting officer, once per sample. Whether it changed."""
    if not controls or test.sample_id is None:
        return False
    sample = uow.repo.sample(test.sample_id)
    if sample is None:
        return False
    controls = _officer_controls(uow, sample, controls)
    if not controls:
        return False
    mark = mark_codes(controls, sample.control_mark)
    if mark == sample.control_mark:
        return False
    first = not sample.control_mark
    _set_mark(uow, actor, sample, mark)
    request = uow.repo.request(sample.request_id or 0)
    requester = uow.repo.user(request.requester_id) if request is not None else None
    if first and request is not None and requester is not None and requester.active:
        ref = f"{sample.lab_sample_id} ({request.reference})"
        kind = NotificationKind.CONTROLLED_SUBSTANCE
        key = f"sample:{sample.id}:controlled"
        notify(uow, [request.requester_id], kind, key, subject_for(kind, ref), f"/requests/{request.id}")
    return True


def recompute_mark(
    uow: AbstractUnitOfWork, actor: Actor, sample: Sample, bundled: Register | None = None
) -> bool:
    """Inside the caller's unit of work: the sample's mark again, from the results of its tests that
    stand (a test returned for retest no longer does); cleared when none names a controlled substance.
    Audited with the sample, as the mark is. Whether it changed."""
    register = officer_register(uow, bundled, sample) if bundled is not None else None
    controls: list[ControlStatus] = []
    for test in sample.tests:
        if not test.active or test.state is State.RETEST:
            continue
        idents = {i.id: i for i in uow.repo.identifications_for(test.id or 0)}
        for r in test.results:
            controls += result_controls(r, idents.get(r.identification_id or 0), register)
    mark = mark_codes(_officer_controls(uow, sample, controls))
    if mark == sample.control_mark:
        return False
    _set_mark(uow, actor, sample, mark)
    return True
