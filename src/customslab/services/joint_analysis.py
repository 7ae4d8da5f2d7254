"""Use cases of joint analysis: an RCL's coordinator opens one between administrations whose HS opinions
differ, each participant links its own sample (measured and given an opinion through the ordinary tests
and classification use cases), the coordinator consolidates, and anyone taking part reads or exports it.

Who sees a joint analysis is the visibility table's Kind.JOINT_ANALYSIS over
`domain.joint_analysis.joint_holding`. What they see is built here once: the product, each participant's
declared code, released measurements and approved opinion, and the consolidated opinion; never the
declaration data of a participant's request (domain.model.DECLARATION_FIELDS), which no view here has.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from customslab.domain.access import LAB_STAFF, Action, Actor, Kind, relations, sees
from customslab.domain.enums import Role, State
from customslab.domain.errors import NotFound, PermissionDenied, ValidationFailed
from customslab.domain.joint_analysis import (
    JointAnalysis,
    JointParticipant,
    ParticipantSpec,
    check_rcl,
    codes_differ,
    joint_holding,
    new_joint_analysis,
)
from customslab.domain.model import Administration, ClassificationOpinion
from customslab.services.common import acting, held_sample
from customslab.services.joint_contract import (
    AdministrationChoice,
    ConsolidatedOpinion,
    JointAnalysisCreate,
    JointAnalysisDocument,
    JointAnalysisSummary,
    JointAnalysisView,
    JointChoices,
    JointConsolidation,
    JointMeasurement,
    JointOpinion,
    JointParticipantCreate,
    JointParticipantView,
    JointSampleLink,
    LaboratoryChoice,
    LinkableSample,
    ParticipantStatus,
)
from customslab.services.ports import AbstractUnitOfWork, QueueFilter, ReleasedResult

# The contract is importable from here too: callers take a use case and its types from one module.
__all__ = [
    "JointAnalysisCreate",
    "JointAnalysisDocument",
    "JointAnalysisSummary",
    "JointAnalysisView",
    "JointChoices",
    "JointConsolidation",
    "JointParticipantCreate",
    "JointSampleLink",
    "LinkableSample",
    "analysis_view",
    "consolidate",
    "export_joint_analysis",
    "joint_analysis_detail",
    "joint_choices",
    "link_sample",
    "linkable_samples",
    "list_joint_analyses",
    "open_joint_analysis",
    "visible_joint_analysis",
]

#: Samples a laboratory may offer for a joint analysis: any it holds that was not refused or cancelled.
LINKABLE_STATES = frozenset(State) - {State.REJECTED, State.CANCELLED}

# -- use cases --------------------------------------------------------------------------------------


def open_joint_analysis(uow: AbstractUnitOfWork, actor: Actor, cmd: JointAnalysisCreate) -> JointAnalysisView:
    """An RCL's network coordinator opens a joint analysis between administrations."""
    with acting(uow, actor, Action.OPEN_JOINT_ANALYSIS):
        rcl = uow.repo.org(actor.org_code)
        check_rcl(actor.org_code, rcl is not None and rcl.active and rcl.is_laboratory and rcl.is_rcl)
        orgs = {o.code: o for o in uow.repo.orgs()}
        specs = []
        for p in cmd.participants:
            administration = uow.repo.administration(p.administration_code)
            if administration is None or not administration.active:
                raise NotFound(f"There is no administration '{p.administration_code}'.", field="participants")
            lab = orgs.get(p.lab_code) if p.lab_code else None
            if p.lab_code and (lab is None or not lab.active):
                raise NotFound(f"There is no laboratory '{p.lab_code}'.", field="participants")
            own_labs = sorted(
                o.code
                for o in orgs.values()
                if o.administration_code == administration.code and o.is_laboratory and o.active
            )
            specs.append(
                ParticipantSpec(
                    administration.code,
                    p.declared_code,
                    administration.has_laboratories,
                    p.lab_code,
                    lab.administration_code if lab else None,
                    bool(lab and lab.is_laboratory),
                    own_labs,
                )
            )
        now = uow.clock()
        number = uow.repo.next_number(f"joint-analysis-{now.year}")
        analysis = new_joint_analysis(
            f"JA-{now.year}-{number:04d}", cmd.product, actor.org_code, specs, actor.user_id, now
        )
        uow.repo.add(analysis)
        uow.repo.flush()
        uow.commit()
        return analysis_view(uow, analysis)


def link_sample(
    uow: AbstractUnitOfWork, actor: Actor, joint_analysis_id: int, cmd: JointSampleLink
) -> JointAnalysisView:
    """A participant's laboratory links the sample (or sub-sample) it holds; the RCL does so for a member
    administration without a laboratory, with a sample that member sent it."""
    with uow:
        if not actor.has(*LAB_STAFF, Role.NETWORK_COORDINATOR):
            raise PermissionDenied("Laboratory staff link their laboratory's samples to a joint analysis.")
        uow.act_as(actor.username)
        analysis = visible_joint_analysis(uow, actor, joint_analysis_id)
        participant = _recorded_by(analysis, actor, cmd.administration_code)
        sample = held_sample(uow, actor, cmd.sample_id)
        assert sample.id is not None
        if participant.on_behalf:
            request = uow.repo.request(sample.request_id or 0)
            directory = uow.repo.directory()
            senders = {directory.administration_of.get(r.from_lab) for r in uow.repo.referrals_for(sample.id)}
            participant.check_member_sample(
                sample.lab_sample_id,
                request.administration_code if request else "",
                {s for s in senders if s},
            )
        linked = participant.sample_id
        approved = linked is not None and any(
            o.lab_code == participant.lab_code and o.state == "approved"
            for o in uow.repo.opinions_for(linked)
        )
        analysis.link_sample(participant.administration_code, sample.id, actor.user_id, uow.clock(), approved)
        uow.commit()
        return analysis_view(uow, analysis)


def _recorded_by(analysis: JointAnalysis, actor: Actor, administration_code: str | None) -> JointParticipant:
    """The participant the actor's laboratory records for (the one named, when it records for several)."""
    if administration_code is not None:
        participant = analysis.participant(administration_code)
        if participant.lab_code != actor.org_code:
            raise PermissionDenied(
                f"{participant.lab_code} records for {administration_code} in {analysis.reference}, "
                "not your laboratory."
            )
        return participant
    mine = [p for p in analysis.participants if p.lab_code == actor.org_code]
    if not mine:
        raise PermissionDenied(f"Your laboratory records for no participant of {analysis.reference}.")
    if len(mine) > 1:
        names = " and ".join(p.administration_code for p in mine)
        raise ValidationFailed(
            f"Your laboratory records for {names}: say which administration the sample is for.",
            field="administration_code",
        )
    return mine[0]


def consolidate(
    uow: AbstractUnitOfWork, actor: Actor, joint_analysis_id: int, cmd: JointConsolidation
) -> JointAnalysisView:
    """The RCL's coordinator writes the consolidated opinion, explaining each difference; the joint
    analysis is then closed to change."""
    with acting(uow, actor, Action.CONSOLIDATE_JOINT_ANALYSIS):
        analysis = visible_joint_analysis(uow, actor, joint_analysis_id)
        if analysis.rcl_code != actor.org_code:
            raise PermissionDenied(
                f"Only the coordinator of {analysis.rcl_code}, which runs {analysis.reference}, may "
                "consolidate it."
            )
        explanations: dict[str, str] = {}
        for e in cmd.explanations:
            if e.administration_code in explanations:
                raise ValidationFailed(
                    f"{e.administration_code} is explained twice; give one explanation each.",
                    field="explanations",
                )
            explanations[e.administration_code] = e.explanation
        approved = {
            p.administration_code: (o.id, o.determined_code)
            if (o := _approved_opinion(uow, p)) and o.id is not None
            else None
            for p in analysis.participants
        }
        analysis.consolidate(
            cmd.determined_code, cmd.reasoning, explanations, approved, actor.user_id, uow.clock()
        )
        uow.commit()
        return analysis_view(uow, analysis)


def joint_analysis_detail(uow: AbstractUnitOfWork, actor: Actor, joint_analysis_id: int) -> JointAnalysisView:
    """A joint analysis with every participant's released measurements and approved opinion."""
    with uow:
        return analysis_view(uow, visible_joint_analysis(uow, actor, joint_analysis_id))


def export_joint_analysis(
    uow: AbstractUnitOfWork, actor: Actor, joint_analysis_id: int
) -> JointAnalysisDocument:
    """The joint analysis as a document fit to put before the WCO HS Committee (JSON; the PDF renders it)."""
    with uow:
        analysis = visible_joint_analysis(uow, actor, joint_analysis_id)
        view = analysis_view(uow, analysis)
        title = f"Joint analysis {analysis.reference}: classification of {analysis.product}"
        return JointAnalysisDocument(
            **dict(view), title=title, generated_at=uow.clock(), generated_for=actor.org_code
        )


def list_joint_analyses(uow: AbstractUnitOfWork, actor: Actor) -> list[JointAnalysisSummary]:
    """The joint analyses the actor's organisation runs or takes part in, newest first."""
    with uow:
        return summaries(uow.repo.joint_analyses(actor))


def linkable_samples(uow: AbstractUnitOfWork, actor: Actor, joint_analysis_id: int) -> list[LinkableSample]:
    """The samples the actor's laboratory holds, newest first, when it records for a participant."""
    with uow:
        analysis = visible_joint_analysis(uow, actor, joint_analysis_id)
        if analysis.state != "open" or not any(p.lab_code == actor.org_code for p in analysis.participants):
            return []
        flt = QueueFilter(states=LINKABLE_STATES, sort="registered", limit=200)
        rows, _ = uow.repo.queue(actor, actor.org_code, flt)
        linked = {p.sample_id for p in analysis.participants}
        return [
            LinkableSample.of_record(row.sample, administration_code=row.request.administration_code)
            for row in rows
            if row.sample.id not in linked
        ]


def joint_choices(uow: AbstractUnitOfWork) -> JointChoices:
    """The administrations and laboratories a coordinator may name when opening a joint analysis."""
    with uow:
        return JointChoices(
            administrations=[
                AdministrationChoice.of_record(a) for a in uow.repo.administrations() if a.active
            ],
            laboratories=[
                LaboratoryChoice.of_record(o) for o in uow.repo.orgs() if o.is_laboratory and o.active
            ],
        )


# -- inside a unit of work --------------------------------------------------------------------------


def visible_joint_analysis(uow: AbstractUnitOfWork, actor: Actor, joint_analysis_id: int) -> JointAnalysis:
    """The joint analysis, or NotFound when it does not exist or the visibility table hides it."""
    analysis = uow.repo.joint_analysis(joint_analysis_id)
    if analysis is not None:
        directory = uow.repo.directory()
        if sees(actor, Kind.JOINT_ANALYSIS, relations(actor, directory, joint_holding(analysis, directory))):
            return analysis
    raise NotFound(f"Joint analysis {joint_analysis_id} was not found.")


def _approved_opinion(uow: AbstractUnitOfWork, p: JointParticipant) -> ClassificationOpinion | None:
    """The participant's opinion: the one kept at consolidation, else its laboratory's latest approved
    opinion on the linked sample."""
    if p.opinion_id is not None:
        return uow.repo.opinion(p.opinion_id)
    if p.sample_id is None:
        return None
    approved = [
        o for o in uow.repo.opinions_for(p.sample_id) if o.lab_code == p.lab_code and o.state == "approved"
    ]
    return max(approved, key=lambda o: o.id or 0, default=None)


def analysis_view(uow: AbstractUnitOfWork, analysis: JointAnalysis) -> JointAnalysisView:
    """The one view of a joint analysis that the API, the pages, the JSON and the PDF render."""
    assert analysis.id is not None
    administrations = {a.code: a for a in uow.repo.administrations()}
    rcl = uow.repo.org(analysis.rcl_code)
    sample_ids = [p.sample_id for p in analysis.participants if p.sample_id is not None]
    measured: dict[int, list[ReleasedResult]] = defaultdict(list)
    for r in uow.repo.released_results(sample_ids):
        measured[r.sample_id].append(r)
    opinions = {p.administration_code: _approved_opinion(uow, p) for p in analysis.participants}
    consolidated = analysis.state == "consolidated"
    participants = [
        _participant_view(uow, p, administrations, measured, opinions[p.administration_code], analysis)
        for p in analysis.participants
    ]
    return JointAnalysisView.of_record(
        analysis,
        rcl_name=rcl.name if rcl else analysis.rcl_code,
        participants=participants,
        missing=[] if consolidated else analysis.missing_opinions(opinions),
        consolidated=ConsolidatedOpinion.of_record(analysis) if consolidated else None,
    )


def _participant_view(
    uow: AbstractUnitOfWork,
    p: JointParticipant,
    administrations: dict[str, Administration],
    measured: dict[int, list[ReleasedResult]],
    opinion: ClassificationOpinion | None,
    analysis: JointAnalysis,
) -> JointParticipantView:
    administration = administrations.get(p.administration_code)
    sample = uow.repo.sample(p.sample_id) if p.sample_id is not None else None
    request = uow.repo.request(sample.request_id or 0) if sample is not None else None
    status: ParticipantStatus = (
        "awaiting_sample" if sample is None else "opinion_approved" if opinion else "awaiting_opinion"
    )
    consolidated = analysis.state == "consolidated"
    return JointParticipantView.of_record(
        p,
        administration_name=administration.name if administration else p.administration_code,
        country=administration.country if administration else "",
        lab_sample_id=sample.lab_sample_id if sample else None,
        # The goods and their origin travel with the joint analysis; the declaration data does not.
        goods_description=request.goods_description if request else None,
        origin_country=request.origin_country if request else None,
        status=status,
        measurements=[JointMeasurement.of_record(r) for r in measured.get(p.sample_id or 0, [])],
        opinion=JointOpinion.of(opinion) if opinion else None,
        differs=codes_differ(p.determined_code, analysis.determined_code) if consolidated else None,
    )


def summaries(analyses: Sequence[JointAnalysis]) -> list[JointAnalysisSummary]:
    """Inside a unit of work: the list rows of `analyses`."""
    return [
        JointAnalysisSummary.of_record(a, administrations=[p.administration_code for p in a.participants])
        for a in analyses
    ]
