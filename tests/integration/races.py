"""Pairs of conflicting actions on one record, for the concurrency tests.

Each race prepares a record, then names the two actions that clash on it: as use-case calls (for the
interleaved service test) and as HTTP calls (for the two-thread test against a real server), and how
to check the record and its audit trail afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from customslab.domain.enums import State
from customslab.services import analysis, cases, classification, proficiency, referrals, reports
from customslab.services import quality_control as qc
from customslab.services.analysis import ResultCreate, ReviewDecision
from customslab.services.cases import SampleCreate, SampleReceipt
from customslab.services.classification import OpinionCreate
from customslab.services.proficiency import PtResultCreate, PtRoundCreate
from customslab.services.referrals import ReferralCreate
from tests.factories import Network, assigned_test, received_sample, request_command

UowFactory = Callable[[], Any]
Action = Callable[[Any], Any]


@dataclass(frozen=True)
class Http:
    """The same action as one API call by one of the network's users."""

    who: str
    path: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Race:
    """Two actions that must not both succeed on the record `entity`/`entity_id`."""

    first: Action
    second: Action
    first_http: Http
    second_http: Http
    entity: str
    entity_id: int
    check: Callable[[UowFactory], None]
    #: the user whose action wins when `second` runs in the middle of `first`
    second_actor: str


def _submitted_test(uow_factory: UowFactory, net: Network) -> tuple[int, int]:
    sample = received_sample(uow_factory, net, "central")
    test = assigned_test(uow_factory, net, sample.id, determination="alcoholic strength", method_ref="M-1")
    result = ResultCreate(name="alcoholic strength", value="40.1", unit="%vol")
    analysis.enter_result(uow_factory(), net["analyst"], test.id, result)
    analysis.submit_test(uow_factory(), net["analyst"], test.id)
    return sample.id, test.id


def _audit(uow_factory: UowFactory, entity: str, entity_id: int) -> list[Any]:
    with uow_factory() as uow:
        return uow.repo.audit_for(entity, str(entity_id))


def _one_transition(uow_factory: UowFactory, entity: str, entity_id: int, before: str) -> None:
    """The audit trail shows one change out of `before`, never two from the same state."""
    moves = [
        e
        for e in _audit(uow_factory, entity, entity_id)
        if e.action == "update" and e.changes.get("state", {}).get("before") == before
    ]
    assert len(moves) == 1, [e.changes for e in moves]


def approve_twice(uow_factory: UowFactory, net: Network) -> Race:
    _, test_id = _submitted_test(uow_factory, net)
    reviewer = net["reviewer"]

    def approve(uow: Any) -> Any:
        return analysis.review_test(uow, reviewer, test_id, ReviewDecision(approve=True))

    def check(factory: UowFactory) -> None:
        with factory() as uow:
            test = uow.repo.test(test_id)
            assert test.state is State.APPROVED and test.return_reason == ""
        _one_transition(factory, "tests", test_id, "to_be_reviewed")

    http = Http("reviewer", f"/api/tests/{test_id}/review", {"approve": True})
    return Race(approve, approve, http, http, "tests", test_id, check, reviewer.username)


def approve_and_return(uow_factory: UowFactory, net: Network) -> Race:
    _, test_id = _submitted_test(uow_factory, net)
    reviewer = net["reviewer"]

    def approve(uow: Any) -> Any:
        return analysis.review_test(uow, reviewer, test_id, ReviewDecision(approve=True))

    def send_back(uow: Any) -> Any:
        return analysis.review_test(uow, reviewer, test_id, ReviewDecision(approve=False, reason="redo"))

    def check(factory: UowFactory) -> None:
        with factory() as uow:
            test = uow.repo.test(test_id)
            # Whichever won, the record is one decision, not a mix of both.
            assert (test.state, test.return_reason) in ((State.APPROVED, ""), (State.RETEST, "redo"))
        _one_transition(factory, "tests", test_id, "to_be_reviewed")

    return Race(
        send_back,
        approve,
        Http("reviewer", f"/api/tests/{test_id}/review", {"approve": False, "reason": "redo"}),
        Http("reviewer", f"/api/tests/{test_id}/review", {"approve": True}),
        "tests",
        test_id,
        check,
        reviewer.username,
    )


def receive_twice(uow_factory: UowFactory, net: Network) -> Race:
    manager = net["central_manager"]
    req = cases.file_request(uow_factory(), net["officer"], request_command(net, lab_code=net.central))
    sample = cases.register_sample(uow_factory(), manager, req.id, SampleCreate(quantity="1", unit="L"))

    def receive(uow: Any) -> Any:
        return cases.receive_sample(uow, manager, sample.id, SampleReceipt(storage_location="F1"))

    def check(factory: UowFactory) -> None:
        with factory() as uow:
            stored = uow.repo.sample(sample.id)
            assert stored.state is State.RECEIVED
            assert [e.kind.value for e in stored.custody].count("receipt") == 1
        _one_transition(factory, "samples", sample.id, "registered")

    http = Http("central_manager", f"/api/samples/{sample.id}/receive", {"storage_location": "F1"})
    return Race(receive, receive, http, http, "samples", sample.id, check, manager.username)


def refer_twice(uow_factory: UowFactory, net: Network) -> Race:
    manager = net["central_manager"]
    sample = received_sample(uow_factory, net, "central")
    cmd = ReferralCreate(to_lab=net.rcl, reason="joint analysis")

    def refer(uow: Any) -> Any:
        return referrals.refer_sample(uow, manager, sample.id, cmd)

    def check(factory: UowFactory) -> None:
        with factory() as uow:
            assert len(uow.repo.referrals_for(sample.id)) == 1
            stored = uow.repo.sample(sample.id)
            assert stored.lab_code == net.rcl
            assert [e.kind.value for e in stored.custody].count("referral_dispatch") == 1

    http = Http("central_manager", f"/api/samples/{sample.id}/refer", cmd.model_dump(exclude_none=True))
    return Race(refer, refer, http, http, "samples", sample.id, check, manager.username)


def _approved_sample(uow_factory: UowFactory, net: Network) -> int:
    sample_id, test_id = _submitted_test(uow_factory, net)
    analysis.review_test(uow_factory(), net["reviewer"], test_id, ReviewDecision(approve=True))
    return sample_id


def issue_twice(uow_factory: UowFactory, net: Network) -> Race:
    sample_id = _approved_sample(uow_factory, net)
    manager = net["central_manager"]

    def issue(uow: Any) -> Any:
        return reports.issue_report(uow, manager, sample_id)

    def check(factory: UowFactory) -> None:
        with factory() as uow:
            issued = reports.reports_for_sample(uow, manager, sample_id)
            assert [(r.version, r.status) for r in issued] == [(1, "issued")]
            assert uow.repo.sample(sample_id).state is State.REPORTED

    http = Http("central_manager", f"/api/samples/{sample_id}/report", {})
    return Race(issue, issue, http, http, "samples", sample_id, check, manager.username)


def submit_pt_twice(uow_factory: UowFactory, net: Network) -> Race:
    created = proficiency.create_round(
        uow_factory(),
        net["coordinator"],
        PtRoundCreate(
            title="Alcoholic strength",
            participants=[net.central],
            measurands=[{"measurand": "alcohol_strength", "unit": "%vol"}],  # type: ignore[list-item]
        ),
    )
    analyst = net["analyst"]
    cmd = PtResultCreate(measurand="alcohol_strength", value="40.1")

    def submit(uow: Any) -> Any:
        return proficiency.submit_result(uow, analyst, created.id, cmd)

    def check(factory: UowFactory) -> None:
        with factory() as uow:
            view = proficiency.round_detail(uow, net["coordinator"], created.id)
            assert [(r.lab, r.measurand) for r in view.results] == [(net.central, "alcohol_strength")]

    body = {"measurand": "alcohol_strength", "value": 40.1}
    http = Http("analyst", f"/api/pt/rounds/{created.id}/results", body)
    return Race(submit, submit, http, http, "quality_pt_rounds", created.id, check, analyst.username)


def approve_opinion_twice(uow_factory: UowFactory, net: Network) -> Race:
    sample_id = _approved_sample(uow_factory, net)
    opinion = classification.write_opinion(
        uow_factory(),
        net["analyst"],
        sample_id,
        OpinionCreate(determined_code="2208.40", reasoning="Rum of 40 %vol, a spirit of heading 22.08."),
    )
    reviewer = net["reviewer"]

    def approve(uow: Any) -> Any:
        return classification.approve_opinion(uow, reviewer, opinion.id)

    def check(factory: UowFactory) -> None:
        _one_transition(factory, "classification_opinions", opinion.id, "draft")

    http = Http("reviewer", f"/api/opinions/{opinion.id}/approve", {})
    return Race(approve, approve, http, http, "classification_opinions", opinion.id, check, reviewer.username)


def revoke_authorisation_twice(uow_factory: UowFactory, net: Network) -> Race:
    manager = net["central_manager"]
    grant = qc.AUTHORISATIONS.record(
        uow_factory(),
        manager,
        qc.AuthorisationCreate(user_id=net["analyst"].user_id, role="analyst"),
    )

    def revoke(uow: Any) -> Any:
        return qc.revoke_authorisation(uow, manager, grant.id)

    def check(factory: UowFactory) -> None:
        updates = [e for e in _audit(factory, "quality_authorisations", grant.id) if e.action == "update"]
        assert len(updates) == 1, [e.changes for e in updates]

    http = Http("central_manager", f"/api/quality/authorisations/{grant.id}/revoke", {})
    return Race(revoke, revoke, http, http, "quality_authorisations", grant.id, check, manager.username)


#: Every use case of item 1 of issue #11, by name.
RACES: dict[str, Callable[[UowFactory, Network], Race]] = {
    "approve+approve": approve_twice,
    "approve+return": approve_and_return,
    "receive+receive": receive_twice,
    "refer+refer": refer_twice,
    "issue report+issue report": issue_twice,
    "PT submission+PT submission": submit_pt_twice,
    "approve opinion+approve opinion": approve_opinion_twice,
    "revoke authorisation+revoke authorisation": revoke_authorisation_twice,
}

__all__ = ["RACES", "Http", "Race"]
