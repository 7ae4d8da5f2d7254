"""Workflow rules, access rules, the audit chain and the services, against in-memory fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from customslab.domain.access import Action, Actor, require
from customslab.domain.audit import GENESIS_HASH, AuditRecord, entry_hash, verify_chain
from customslab.domain.codes import normalise_country, normalise_hs_code
from customslab.domain.enums import OrgKind, Priority, Reason, Role, State
from customslab.domain.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.model import AnalysisRequest, Organisation, Sample, User
from customslab.services import analysis, cases, queries
from customslab.services.analysis import ResultCreate, ReviewDecision, TestCreate
from customslab.services.cases import RequestCreate, SampleCreate, SampleReceipt
from customslab.services.contract import parse
from tests.unit.fakes import FakeRepository, FakeUnitOfWork

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _sample(state: State = State.REGISTERED) -> Sample:
    return Sample("L-1", "LAB", "rum", Decimal(1), "L", state, NOW)


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (State.REGISTERED, State.IN_ANALYSIS),
        (State.REGISTERED, State.APPROVED),
        (State.RECEIVED, State.APPROVED),
        (State.IN_ANALYSIS, State.APPROVED),
        (State.APPROVED, State.IN_ANALYSIS),
        (State.REPORTED, State.RECEIVED),
        (State.ARCHIVED, State.RECEIVED),
        (State.CANCELLED, State.RECEIVED),
    ],
)
def test_an_illegal_sample_transition_raises_a_domain_error_naming_both_states(start: State, target: State):
    sample = _sample(start)
    with pytest.raises(InvalidTransition) as err:
        sample.move(target, NOW)
    assert start.value.replace("_", " ") in err.value.message
    assert target.value.replace("_", " ") in err.value.message
    assert sample.state is start


def test_the_happy_path_of_a_sample_stamps_each_step():
    sample = _sample()
    steps = [
        State.RECEIVED,
        State.IN_ANALYSIS,
        State.TO_BE_REVIEWED,
        State.APPROVED,
        State.REPORTED,
        State.ARCHIVED,
    ]
    for i, s in enumerate(steps):
        sample.move(s, NOW + timedelta(hours=i))
    assert sample.received_at == NOW
    assert sample.approved_at == NOW + timedelta(hours=3)
    assert sample.turnaround(NOW + timedelta(days=9)) == timedelta(hours=3)


def test_rejecting_needs_a_reason_and_keeps_it():
    sample = _sample()
    with pytest.raises(InvalidTransition, match="needs a reason"):
        sample.move(State.REJECTED, NOW)
    sample.move(State.REJECTED, NOW, "seal broken")
    assert sample.rejection_reason == "seal broken"


def test_overdue_is_derived_from_the_due_date_and_open_state():
    req = AnalysisRequest(
        "R",
        "OFF",
        1,
        "LAB",
        "D",
        1,
        "220840",
        "rum",
        "JM",
        Reason.CLASSIFICATION,
        Priority.URGENT,
        date(2026, 11, 1),
        NOW,
    )
    req.samples.append(_sample(State.IN_ANALYSIS))
    assert req.is_overdue(date(2026, 11, 2))
    assert not req.is_overdue(date(2026, 11, 1))
    req.samples[0].state = State.APPROVED
    assert not req.is_overdue(date(2026, 11, 2))


@pytest.mark.parametrize(
    ("raw", "expected"), [("2208.40", "220840"), ("2208 40 10", "22084010"), ("2208401000", "2208401000")]
)
def test_hs_codes_are_normalised_to_digits(raw: str, expected: str):
    assert normalise_hs_code(raw) == expected


@pytest.mark.parametrize("raw", ["2208", "22084", "22084010001", "22O840", ""])
def test_hs_codes_of_the_wrong_shape_are_refused(raw: str):
    with pytest.raises(ValidationFailed, match="6 to 10 digits"):
        normalise_hs_code(raw)


def test_an_unknown_heading_is_refused_once_the_nomenclature_is_known():
    with pytest.raises(ValidationFailed, match=r"heading 22\.99"):
        normalise_hs_code("229900", lambda c: c in {"22", "2208"})


def test_countries_are_iso_3166_codes():
    assert normalise_country(" kr ") == "KR"
    with pytest.raises(ValidationFailed):
        normalise_country("Korea")


def test_a_role_without_the_permission_is_told_who_may_act():
    officer = Actor(1, "o", "OFF", frozenset({Role.REQUESTER}))
    with pytest.raises(PermissionDenied, match="reviewer"):
        require(officer, Action.REVIEW)


def _chain(n: int) -> list[AuditRecord]:
    prev, out = GENESIS_HASH, []
    for seq in range(1, n + 1):
        h = entry_hash(seq, NOW, "a", "samples", str(seq), "update", {"state": {"after": "x"}}, None, prev)
        out.append(
            AuditRecord(
                seq, NOW, "a", "samples", str(seq), "update", {"state": {"after": "x"}}, None, prev, h
            )
        )
        prev = h
    return out


def test_an_intact_audit_chain_verifies():
    verdict = verify_chain(_chain(5))
    assert verdict.ok and verdict.checked == 5


def test_an_altered_entry_breaks_the_chain_at_that_entry():
    chain = _chain(5)
    chain[2] = replace(chain[2], actor="mallory")
    verdict = verify_chain(chain)
    assert (verdict.ok, verdict.first_broken_seq) == (False, 3)


def test_a_deleted_entry_is_reported_as_missing():
    chain = _chain(5)
    del chain[1]
    verdict = verify_chain(chain)
    assert verdict.first_broken_seq == 3 and "entry 2 is missing" in (verdict.problem or "")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    repo = FakeRepository()
    for org in (
        Organisation("OFF", "Office", OrgKind.CUSTOMS_OFFICE, "KR"),
        Organisation("LAB", "Lab", OrgKind.LOCAL, "KR"),
        Organisation("OTH", "Other", OrgKind.LOCAL, "KR"),
    ):
        repo.add(org)
    for name, org, role in [
        ("officer", "OFF", Role.REQUESTER),
        ("mgr", "LAB", Role.LAB_MANAGER),
        ("ana", "LAB", Role.ANALYST),
        ("rev", "LAB", Role.REVIEWER),
        ("out", "OTH", Role.LAB_MANAGER),
    ]:
        repo.add(User(name, name, org, frozenset({role})))
    return FakeUnitOfWork(repo)


def _actor(uow: FakeUnitOfWork, name: str) -> Actor:
    user = uow.repo.user_by_name(name)
    assert user is not None and user.id is not None
    return Actor(user.id, user.username, user.org_code, user.roles)


def _data() -> dict[str, object]:
    return {
        "lab_code": "LAB",
        "declaration_number": "D-1",
        "declared_hs": "220840",
        "goods_description": "rum",
        "origin_country": "JM",
        "priority": "urgent",
    }


def test_the_services_run_the_whole_case_against_the_fakes(uow: FakeUnitOfWork):
    req = cases.file_request(uow, _actor(uow, "officer"), parse(RequestCreate, _data()))
    assert req.due_date == date(2026, 11, 5)  # urgent: three days
    s = cases.register_sample(uow, _actor(uow, "mgr"), req.id, SampleCreate(quantity="1", unit="L"))
    cases.receive_sample(uow, _actor(uow, "mgr"), s.id, SampleReceipt())
    t = analysis.add_test(uow, _actor(uow, "mgr"), s.id, TestCreate(determination="abv", method_ref="M"))
    analysis.enter_result(
        uow,
        _actor(uow, "ana"),
        t.id,
        ResultCreate(value="40.0", unit="%vol", expanded_uncertainty="0.2", coverage_factor="2"),
    )
    analysis.submit_test(uow, _actor(uow, "ana"), t.id)
    approve = ReviewDecision(approve=True)
    with pytest.raises(PermissionDenied, match="own analysis"):
        analysis.review_test(
            uow, replace(_actor(uow, "rev"), user_id=_actor(uow, "ana").user_id), t.id, approve
        )
    out = analysis.review_test(uow, _actor(uow, "rev"), t.id, approve)
    assert out.sample_state == "approved"
    view = queries.request_detail(uow, _actor(uow, "officer"), req.id)
    assert str(view.samples[0].tests[0].results[0].value) == "40.0"
    with pytest.raises(NotFound):
        queries.sample_detail(uow, _actor(uow, "out"), s.id)


def test_a_returned_test_sends_the_sample_back_for_retest_with_the_reason(uow: FakeUnitOfWork):
    req = cases.file_request(uow, _actor(uow, "officer"), parse(RequestCreate, _data()))
    s = cases.register_sample(uow, _actor(uow, "mgr"), req.id, SampleCreate(quantity="1", unit="L"))
    cases.receive_sample(uow, _actor(uow, "mgr"), s.id, SampleReceipt())
    t = analysis.add_test(uow, _actor(uow, "mgr"), s.id, TestCreate(determination="abv", method_ref="M"))
    analysis.enter_result(uow, _actor(uow, "ana"), t.id, ResultCreate(value="40.0", unit="%vol"))
    analysis.submit_test(uow, _actor(uow, "ana"), t.id)
    with pytest.raises(InvalidTransition, match="needs a reason"):
        analysis.review_test(uow, _actor(uow, "rev"), t.id, ReviewDecision(approve=False))
    out = analysis.review_test(
        uow, _actor(uow, "rev"), t.id, ReviewDecision(approve=False, reason="repeat with fresh standard")
    )
    assert (out.state, out.return_reason, out.sample_state) == (
        "retest",
        "repeat with fresh standard",
        "retest",
    )
    analysis.enter_result(uow, _actor(uow, "ana"), t.id, ResultCreate(value="40.1", unit="%vol"))
    assert queries.sample_detail(uow, _actor(uow, "mgr"), s.id).state == "in_analysis"


def test_an_uncertainty_without_its_coverage_factor_is_refused(uow: FakeUnitOfWork):
    req = cases.file_request(uow, _actor(uow, "officer"), parse(RequestCreate, _data()))
    s = cases.register_sample(uow, _actor(uow, "mgr"), req.id, SampleCreate(quantity="1", unit="L"))
    cases.receive_sample(uow, _actor(uow, "mgr"), s.id, SampleReceipt())
    t = analysis.add_test(uow, _actor(uow, "mgr"), s.id, TestCreate(determination="abv", method_ref="M"))
    with pytest.raises(ValidationFailed, match="coverage factor"):
        analysis.enter_result(
            uow, _actor(uow, "ana"), t.id, ResultCreate(value="40", unit="%vol", expanded_uncertainty="1")
        )
