"""Publishing knowledge to partner deployments: a validated method version, spectral library entries,
an approved classification opinion.

Publishing is an explicit act of a laboratory's manager (or, for an opinion, of a reviewer), separate
from publishing a method to the laboratories of this server: what leaves the administration's server
should leave because someone chose to send it, under a licence they name. Each publication is data
(rule 14 of the guide): one `KnowledgeShared` message per active partner in the outbox, written in the
publisher's transaction, on a stream of its own per item and version. A partner that already has that
version is skipped, so publishing again reaches only the partners registered (or resumed) since;
suspended partners get nothing. A knowledge document goes the same way when its sharing level is
"partners" (`knowledge_federation`: the level is the explicit act, and the document names its licence).

The content of each kind is declared once, in `federation_content`: built here, validated on receipt.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from customslab.domain.access import Actor
from customslab.domain.enums import Role
from customslab.domain.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.federation import KnowledgeShared, SharedKind
from customslab.domain.model import ClassificationOpinion
from customslab.domain.plain import to_plain
from customslab.domain.quality.errors import MethodTransitionError
from customslab.domain.quality.methods import MethodStatus
from customslab.hs.evaluate import mismatch_level
from customslab.hs.nomenclature import format_code
from customslab.services.confidentiality import administration_of
from customslab.services.contract import MAX_INT, Command, View, validation_failed
from customslab.services.federation_content import (
    MAX_LICENCE,
    MAX_TITLE,
    SharedOpinion,
    SharedRule,
    SharedSpectrum,
)
from customslab.services.federation_outbox import enqueue, home_code
from customslab.services.identification import SpectralLibraries, library_spectrum
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.quality_methods import METHODS
from customslab.services.quality_register import require_role
from customslab.spectra.library_store import Library, LibraryError

UoW = AbstractUnitOfWork

#: A licence as people write it: an SPDX identifier (CC-BY-4.0) or a short name (CC BY-SA 4.0).
LICENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 .,:;+()/_-]*$"
DEFAULT_LICENCE = "CC-BY-4.0"
Licence = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=LICENCE_PATTERN),
    Field(description="The licence partners may use it under: an SPDX identifier or a short name."),
]
#: At most this many library entries in one publication (each is one message per partner).
MAX_ENTRIES = 100


class PartnerPublication(Command):
    """Publish one item to the partner deployments, under a licence."""

    licence: Licence = DEFAULT_LICENCE


class LibraryEntriesPublication(PartnerPublication):
    """Publish entries of a spectral library; an entry's own licence (MassBank's, say) stays with it."""

    rows: list[Annotated[int, Field(ge=0, le=MAX_INT)]] = Field(
        min_length=1, max_length=MAX_ENTRIES, description="The entries' rows, as a search's hits name them."
    )


class Publication(View):
    """One item written to the partners that did not have this version yet."""

    kind: SharedKind
    origin_ref: str
    version: str
    title: str
    licence: str
    sent_to: list[str] = Field(description="Partner administrations a message was written to.")
    already_sent_to: list[str] = Field(description="Active partners that had this version already.")


class LibraryPublication(View):
    library: str
    library_version: str
    items: list[Publication]


# -- publishing -----------------------------------------------------------------------------------


def knowledge_stream(kind: SharedKind, origin_ref: str, version: str) -> str:
    """The stream of one item's version: its own, so that each version's delivery stands alone and a
    partner that already has it is known by the stream alone."""
    return f"knowledge/{kind.value}/{origin_ref}@{version}"


def _active_partners(uow: UoW) -> list[str]:
    codes = [p.administration_code for p in uow.federation.partners() if p.active]
    if not codes:
        raise Conflict(
            "This deployment has no active partner deployment to publish to; an administrator registers "
            "partners first."
        )
    return codes


def _speaks_for_home(uow: UoW, actor: Actor) -> None:
    """Only a laboratory of this deployment's own administration publishes under its signature."""
    if administration_of(uow, actor) != home_code(uow):
        raise PermissionDenied(
            "Only laboratories of this deployment's own administration publish to its partners."
        )


def _send(uow: UoW, body: KnowledgeShared, partners: list[str]) -> Publication:
    """Write the message to each partner that does not have this version yet."""
    stream = knowledge_stream(body.kind, body.origin_ref, body.version)
    sent: list[str] = []
    had: list[str] = []
    for code in partners:
        if uow.federation.next_seq(code, stream) > 1:
            had.append(code)
        else:
            enqueue(uow, code, stream, body)
            sent.append(code)
    return Publication(
        kind=body.kind,
        origin_ref=body.origin_ref,
        version=body.version,
        title=body.title,
        licence=body.licence,
        sent_to=sent,
        already_sent_to=had,
    )


def _sent_somewhere(items: list[Publication]) -> None:
    if not any(p.sent_to for p in items):
        names = ", ".join(sorted({c for p in items for c in p.already_sent_to}))
        what = items[0].title if len(items) == 1 else "These entries"
        raise Conflict(f"{what} was already published to every active partner ({names}).")


def publish_method_to_partners(uow: UoW, actor: Actor, entry_id: int, cmd: PartnerPublication) -> Publication:
    """Publish a validated method version of the laboratory's catalogue to the partner deployments."""
    with uow:
        require_role(actor, "publish a method to partner deployments", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        entry = METHODS.own(uow, actor, entry_id)
        method = entry.method
        if method.status is not MethodStatus.VALIDATED:
            raise MethodTransitionError(
                f"Method {method.label} is {method.status.value}; only a validated method can be "
                "published to partner deployments."
            )
        if method.origin is not None and method.origin.partner:
            # Its terms are the partner's to give, not ours: the copy keeps its provenance and licence.
            raise Conflict(
                f"Method {method.label} was adopted from partner {method.origin.partner}'s publication "
                f"(licence: {method.origin.licence or 'none stated'}); it is not published on under this "
                "laboratory's name. Its author publishes it to other partners."
            )
        partners = _active_partners(uow)
        _speaks_for_home(uow, actor)
        body = KnowledgeShared(
            kind=SharedKind.METHOD,
            origin_ref=f"{entry.lab_code}/{entry.method_code}",
            version=entry.version,
            author_lab=entry.lab_code,
            licence=cmd.licence,
            title=method.label,
            published_at=uow.clock(),
            # Who approved it is a username of this server: partners see that and when it was validated.
            content=to_plain(replace(method, approved_by=None)),
        )
        published = _send(uow, body, partners)
        _sent_somewhere([published])
        uow.commit()
        return published


def opinion_content(opinion: ClassificationOpinion) -> SharedOpinion:
    """What partners receive of an approved opinion (nothing of the declaration)."""
    evaluation: dict[str, Any] = dict(opinion.evaluation or {})
    rules = [r for r in evaluation.get("rules", []) if isinstance(r, dict)]
    rule = evaluation.get("decision_rule")
    return SharedOpinion(
        declared_code=opinion.declared_code,
        determined_code=opinion.determined_code,
        mismatch=mismatch_level(opinion.declared_code, [opinion.determined_code]),
        goods_description=opinion.goods_description,
        reasoning=opinion.reasoning,
        references=tuple(opinion.references),
        rules=tuple(
            SharedRule.model_validate({k: str(r.get(k, "")) for k in SharedRule.model_fields}) for r in rules
        ),
        decision_rule=str(rule.get("name", "")) if isinstance(rule, dict) else "",
        approved_at=opinion.reviewed_at,
    )


def publish_opinion_to_partners(
    uow: UoW, actor: Actor, opinion_id: int, cmd: PartnerPublication
) -> Publication:
    """Publish an approved classification opinion of the laboratory to the partner deployments."""
    with uow:
        require_role(actor, "publish an opinion to partner deployments", Role.REVIEWER, Role.LAB_MANAGER)
        uow.act_as(actor.username)
        opinion = uow.repo.opinion(opinion_id)
        if opinion is None or opinion.lab_code != actor.org_code:
            raise NotFound(f"Opinion {opinion_id} was not found.")
        if opinion.state != "approved":
            raise InvalidTransition("Only an approved opinion can be published to partner deployments.")
        _refuse_another_administrations_case(uow, opinion)
        partners = _active_partners(uow)
        _speaks_for_home(uow, actor)
        content = opinion_content(opinion)
        goods = f" — {opinion.goods_description[:120]}" if opinion.goods_description else ""
        body = KnowledgeShared(
            kind=SharedKind.OPINION,
            origin_ref=str(opinion_id),
            version="1",  # an approved opinion is not edited; a new view is a new opinion
            author_lab=opinion.lab_code,
            licence=cmd.licence,
            title=f"HS {format_code(opinion.determined_code)}{goods}",
            published_at=uow.clock(),
            content=content.model_dump(mode="json"),
        )
        published = _send(uow, body, partners)
        _sent_somewhere([published])
        uow.commit()
        return published


def _refuse_another_administrations_case(uow: UoW, opinion: ClassificationOpinion) -> None:
    """An opinion on a sample another administration sent (over federation, or a member's referral on
    this server) carries that administration's goods description and declared code: it is its case, not
    ours to publish."""
    sample = uow.repo.sample(opinion.sample_id)
    request = uow.repo.request(sample.request_id) if sample is not None and sample.request_id else None
    home = home_code(uow)
    if request is not None and request.administration_code != home:
        raise Conflict(
            f"Opinion {opinion.id} is on a sample that administration {request.administration_code} sent "
            "to this laboratory; its case is not published to partners."
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _seven_digits(values: list[float]) -> list[float]:
    # The library stores float32: seven significant digits keep all of it, in a third of the JSON text.
    return [float(f"{v:.7g}") for v in values]


def spectrum_content(lib: Library, libraries: SpectralLibraries, library: str, row: int) -> SharedSpectrum:
    """One library entry as partners receive it; its source is named by file name, not server path."""
    if not 0 <= row < int(lib.manifest.get("n_entries", 0)):
        raise NotFound(f"Library entry {row} was not found.", "rows")
    entry = lib.entry(row)
    x, y = library_spectrum(libraries, library, row)
    synonyms = entry.get("synonyms") or []
    data = {
        "library": library,
        "library_version": lib.library_id,
        "technique": _text(entry.get("technique")),
        "name": _text(entry.get("name")) or f"entry {row}",
        "synonyms": [_text(s) for s in synonyms[:50]] if isinstance(synonyms, list) else [],
        **{k: _text(entry.get(k)) for k in ("inchikey", "formula", "cas", "accession", "citation")},
        "authors": _text(entry.get("authors")),
        "description": _text(entry.get("description")),
        "retention_index": entry.get("retention_index"),
        "source_file": Path(_text(entry.get("source_file"))).name,
        "licence": _text(entry.get("license")),
        "attribution": _text(lib.manifest.get("attribution")),
        "x": _seven_digits(x),
        "y": _seven_digits(y),
    }
    try:
        return SharedSpectrum.model_validate(data)
    except PydanticValidationError as exc:
        why = validation_failed(list(exc.errors())).message
        raise ValidationFailed(f"Library entry {row} cannot be shared as it is: {why}", "rows") from None


def publish_library_entries(
    uow: UoW, actor: Actor, libraries: SpectralLibraries, library: str, cmd: LibraryEntriesPublication
) -> LibraryPublication:
    """Publish chosen entries of a spectral library to the partner deployments, each with its licence."""
    with uow:
        require_role(actor, "publish spectral library entries to partner deployments", Role.LAB_MANAGER)
        uow.act_as(actor.username)
        partners = _active_partners(uow)
        _speaks_for_home(uow, actor)
        try:
            lib = libraries.open(library)
        except LibraryError:
            raise ValidationFailed(
                f"The spectral library '{library}' cannot be read; ask the administrator to rebuild it.",
                "library",
            ) from None
        items: list[Publication] = []
        for row in dict.fromkeys(cmd.rows):
            content = spectrum_content(lib, libraries, library, row)
            key = _text(lib.entry(row).get("key")) or f"row-{row}"
            # A MassBank record keeps its own licence (CC BY-SA stays share-alike); the publisher's
            # licence covers only entries that state none.
            licence = content.licence or cmd.licence
            if len(licence) > MAX_LICENCE:
                raise ValidationFailed(f"Library entry {row} states a licence too long to send.", "rows")
            body = KnowledgeShared(
                kind=SharedKind.SPECTRUM,
                origin_ref=f"{library}/{key}",
                version="1",  # an entry's key is the hash of its content: changed content, new key
                author_lab=actor.org_code,
                licence=licence,
                title=f"{content.name[: MAX_TITLE - 40]} ({content.technique})",
                published_at=uow.clock(),
                content=content.model_dump(mode="json"),
            )
            items.append(_send(uow, body, partners))
        _sent_somewhere(items)
        uow.commit()
        return LibraryPublication(library=library, library_version=lib.library_id, items=items)
