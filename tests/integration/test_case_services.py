"""The case-management use cases against real SQLite and PostgreSQL."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import text

from customslab.domain.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from customslab.services import analysis, cases, queries, referrals
from customslab.services.analysis import ResultCreate, ReviewDecision, TestCreate
from customslab.services.cases import SampleCreate, SampleReceipt
from customslab.services.contract import parse
from customslab.services.ports import QueueFilter
from customslab.services.referrals import ReferralCreate, ShareCreate
from tests.factories import Network, make_network, received_sample, request_command


@pytest.fixture
def net(uow_factory: Any) -> Network:
    return make_network(uow_factory)


def _received_sample(uow_factory: Any, net: Network, lab: str = "local") -> int:
    sample = SampleCreate(quantity="250", unit="mL")
    receipt = SampleReceipt(condition="sealed", storage_location="R1")
    return received_sample(uow_factory, net, lab, sample, receipt).id


def test_a_request_is_filed_registered_received_and_gets_a_unique_lab_sample_id(
    uow_factory: Any, net: Network
):
    req = cases.file_request(uow_factory(), net["officer"], request_command(net))
    assert req.declared_hs == "220840"
    assert req.reference.startswith("REQ-")
    a = cases.register_sample(
        uow_factory(), net["local_manager"], req.id, SampleCreate(quantity="1", unit="L")
    )
    b = cases.register_sample(
        uow_factory(), net["local_manager"], req.id, SampleCreate(quantity="1", unit="L")
    )
    assert a.lab_sample_id != b.lab_sample_id
    assert a.lab_sample_id.startswith(net.local)
    cases.receive_sample(uow_factory(), net["local_manager"], a.id, SampleReceipt(seal_intact=True))
    detail = queries.sample_detail(uow_factory(), net["local_manager"], a.id)
    assert detail.state == "received"
    assert [e.kind for e in detail.custody] == ["registered", "receipt"]
    assert detail.custody[1].seal_intact is True


def test_the_whole_story_with_a_referral_ends_with_the_officer_reading_the_approved_result(
    uow_factory: Any, net: Network
):
    sid = _received_sample(uow_factory, net)
    ref = referrals.refer_sample(
        uow_factory(), net["local_manager"], sid, ReferralCreate(to_lab=net.central, reason="needs GC-MS")
    )
    assert ref.kind == "local_to_central"
    queue = queries.lab_queue(uow_factory(), net["central_manager"], QueueFilter())
    assert sid in [i.id for i in queue.items]
    cases.receive_sample(uow_factory(), net["central_manager"], sid, SampleReceipt(seal_intact=True))
    test = analysis.add_test(
        uow_factory(),
        net["central_manager"],
        sid,
        TestCreate(determination="alcoholic strength", method_ref="M-22", analyst_id=net["analyst"].user_id),
    )
    # Before approval the officer sees the state but not the value.
    analysis.enter_result(
        uow_factory(),
        net["analyst"],
        test.id,
        ResultCreate(
            name="alcohol_strength",
            value="40.20",
            unit="%vol",
            expanded_uncertainty="0.2",
            coverage_factor="2",
        ),
    )
    analysis.attach_file(
        uow_factory(),
        net["analyst"],
        test.id,
        filename="density.csv",
        media_type="text/csv",
        stream=io.BytesIO(b"t,rho\n20,0.9479\n"),
        max_bytes=10_000,
    )
    early = queries.sample_detail(uow_factory(), net["officer"], sid)
    assert early.tests[0].results == []
    analysis.submit_test(uow_factory(), net["analyst"], test.id)
    approved = analysis.review_test(uow_factory(), net["reviewer"], test.id, ReviewDecision(approve=True))
    assert approved.sample_state == "approved"
    seen = queries.sample_detail(uow_factory(), net["officer"], sid)
    assert str(seen.tests[0].results[0].value) == "40.20"
    assert seen.referrals[0].state == "completed"
    # The referring laboratory follows progress and sees the result.
    local_view = queries.sample_detail(uow_factory(), net["local_manager"], sid)
    assert str(local_view.tests[0].results[0].expanded_uncertainty) == "0.2"


def test_a_user_of_an_unrelated_laboratory_cannot_see_the_sample_or_the_request(
    uow_factory: Any, net: Network
):
    sid = _received_sample(uow_factory, net)
    with pytest.raises(NotFound):
        queries.sample_detail(uow_factory(), net["outsider"], sid)
    detail = queries.sample_detail(uow_factory(), net["local_manager"], sid)
    with pytest.raises(NotFound):
        queries.request_detail(uow_factory(), net["outsider"], detail.request_id)
    with pytest.raises(NotFound):
        queries.sample_detail(uow_factory(), net["officer_b"], sid)
    outsider_queue = queries.lab_queue(uow_factory(), net["outsider"], QueueFilter(limit=200))
    assert sid not in [i.id for i in outsider_queue.items]
    # An RCL's coordinator in another administration sees only what was referred or shared to the RCL.
    with pytest.raises(NotFound):
        queries.sample_detail(uow_factory(), net["coordinator"], sid)
    with pytest.raises(NotFound):
        queries.request_detail(uow_factory(), net["coordinator"], detail.request_id)


def test_sharing_makes_a_sample_visible_to_the_laboratory_it_was_shared_with(uow_factory: Any, net: Network):
    sid = _received_sample(uow_factory, net)
    referrals.share_sample(
        uow_factory(), net["local_manager"], sid, ShareCreate(org_code=net.other_lab, note="joint opinion")
    )
    assert queries.sample_detail(uow_factory(), net["outsider"], sid).id == sid


def test_illegal_transitions_are_refused_with_a_clear_message(uow_factory: Any, net: Network):
    sid = _received_sample(uow_factory, net)
    with pytest.raises(InvalidTransition, match="received cannot become received"):
        cases.receive_sample(uow_factory(), net["local_manager"], sid, SampleReceipt())
    test = analysis.add_test(
        uow_factory(), net["local_manager"], sid, TestCreate(determination="x", method_ref="M")
    )
    with pytest.raises(ValidationFailed, match="at least one result"):
        analysis.submit_test(uow_factory(), net["local_analyst"], test.id)
    analysis.enter_result(uow_factory(), net["local_analyst"], test.id, ResultCreate(value="1", unit="%"))
    analysis.submit_test(uow_factory(), net["local_analyst"], test.id)
    with pytest.raises(ValidationFailed, match="in analysis"):
        analysis.enter_result(uow_factory(), net["local_analyst"], test.id, ResultCreate(value="2", unit="%"))
    cases.reject_sample(
        uow_factory(), net["local_manager"], _received_sample(uow_factory, net), "seal broken"
    )
    with pytest.raises(InvalidTransition, match="needs a reason"):
        cases.reject_sample(uow_factory(), net["local_manager"], _received_sample(uow_factory, net), " ")


def test_roles_are_enforced_by_the_use_cases(uow_factory: Any, net: Network):
    with pytest.raises(PermissionDenied, match="requester"):
        cases.file_request(uow_factory(), net["analyst"], request_command(net))
    sid = _received_sample(uow_factory, net)
    test = analysis.add_test(
        uow_factory(), net["local_manager"], sid, TestCreate(determination="x", method_ref="M")
    )
    with pytest.raises(PermissionDenied, match="analyst"):
        analysis.enter_result(uow_factory(), net["local_manager"], test.id, ResultCreate(value="1", unit="%"))


def test_a_refused_step_leaves_nothing_half_written(uow_factory: Any, net: Network):
    req = cases.file_request(uow_factory(), net["officer"], request_command(net))
    with pytest.raises(ValidationFailed):
        cases.register_sample(
            uow_factory(), net["local_manager"], req.id, parse(SampleCreate, {"quantity": "-3", "unit": "g"})
        )
    assert queries.request_detail(uow_factory(), net["local_manager"], req.id).samples == []
    before = queries.verify_audit(uow_factory()).checked
    with pytest.raises(ValidationFailed, match="HS code"):
        cases.file_request(uow_factory(), net["officer"], request_command(net, declared_hs="22A8"))
    assert queries.verify_audit(uow_factory()).checked == before


def test_bad_declaration_data_gets_clear_errors(uow_factory: Any, net: Network):
    for field, value, message in [
        ("declared_hs", "12345", "6 to 10 digits"),
        ("origin_country", "XX", "ISO 3166"),
        ("currency", "DOLLARS", "ISO 4217"),
        ("lab_code", net.office, "not a laboratory"),
        ("priority", "asap", "routine, urgent"),
    ]:
        with pytest.raises(ValidationFailed, match=message):
            cases.file_request(uow_factory(), net["officer"], request_command(net, **{field: value}))


def test_every_change_is_audited_with_field_level_before_and_after(uow_factory: Any, net: Network):
    sid = _received_sample(uow_factory, net)
    history = queries.entity_history(uow_factory(), net["local_manager"], sid)
    receipt = [h for h in history if h.action == "update" and "state" in h.changes][-1]
    assert receipt.changes["state"] == {"before": "registered", "after": "received"}
    assert receipt.actor == net["local_manager"].username
    cases.reject_sample(uow_factory(), net["local_manager"], sid, "wrong goods")
    last = queries.entity_history(uow_factory(), net["local_manager"], sid)[-1]
    assert last.reason == "wrong goods"


def test_custody_events_cannot_be_edited_in_the_database(uow_factory: Any, net: Network):
    _received_sample(uow_factory, net)
    uow = uow_factory()
    with uow, pytest.raises(Exception, match="append-only"):
        uow.session.execute(text("UPDATE custody_events SET note = 'edited'"))
        uow.session.flush()
