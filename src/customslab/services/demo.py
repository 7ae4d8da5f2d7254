"""Load the demo network through the same use cases as real work, so the audit trail is real too."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from customslab.domain.access import Actor
from customslab.domain.errors import DomainError
from customslab.services import analysis, auth, cases, classification, referrals, reports
from customslab.services import joint_analysis as joint
from customslab.services import quality_control as qc
from customslab.services import quality_equipment as equipment
from customslab.services import quality_methods as methods
from customslab.services.analysis import ResultCreate, ReviewDecision, TestCreate
from customslab.services.cases import RequestCreate, SampleCreate, SampleReceipt
from customslab.services.contract import parse
from customslab.services.demo_data import ADMINISTRATIONS, DEMO_PASSWORD, DEMO_USERS, GOODS, ORGS
from customslab.services.demo_member import member_cases
from customslab.services.demo_training import training_programmes
from customslab.services.passwords import hash_password, password_matches
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.referrals import ReferralCreate

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "UowFactory", "seed_demo"]

#: Builds a unit of work that reads the time from the clock it is given; the entrypoint wires it to
#: the real database, so this module never imports an adapter.
UowFactory = Callable[[Callable[[], datetime]], AbstractUnitOfWork]

#: Where each office's requests usually go, and where the local laboratories refer.
OFFICE_LABS = {"KCS-ICN-AIR": ["KCS-ICN", "KCS-SEL", "KCS-CCL"], "KCS-BSN-PORT": ["KCS-BSN", "KCS-CCL"]}
STAFF = {
    "KCS-ICN": ("manager.icn", "analyst.icn", None),
    "KCS-SEL": ("manager.sel", "analyst.sel", "reviewer.sel"),
    "KCS-BSN": ("manager.bsn", "analyst.bsn", "reviewer.bsn"),
    "KCS-CCL": ("manager.ccl", "analyst", "reviewer"),
    "RCL-JP": ("reviewer.jp", "analyst.jp", "reviewer.jp"),
}


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, hours: float) -> None:
        self.now += timedelta(hours=hours)


def seed_demo(make_uow: UowFactory, n_requests: int = 300, seed: int = 20261121) -> bool:
    """Load the demo network unless the database already holds it; returns whether it loaded it."""
    with make_uow(lambda: datetime.now(UTC)) as uow:
        if uow.repo.org("KCS-CCL") is not None:
            _current_demo_password(uow)
            return False
    _load(make_uow, n_requests, random.Random(seed))
    return True


def _current_demo_password(uow: AbstractUnitOfWork) -> None:
    """A demo database made by an earlier version keeps its demo users' old password: give them the
    one `customslab demo` prints (audited like any password change)."""
    uow.act_as("demo-loader")
    stale = [
        user
        for username, *_ in DEMO_USERS
        if (user := uow.repo.user_by_name(username)) is not None and not password_matches(user, DEMO_PASSWORD)
    ]
    for user in stale:
        user.password_hash = hash_password(DEMO_PASSWORD)
    if stale:
        uow.commit()


def _load(make_uow: UowFactory, n_requests: int, rng: random.Random) -> None:
    clock = _Clock(datetime.now(UTC) - timedelta(days=150))

    def uow() -> AbstractUnitOfWork:
        return make_uow(clock)

    with uow() as u:
        u.act_as("demo-loader")
        for administration in ADMINISTRATIONS:
            u.repo.add(replace(administration))
        u.repo.flush()
        for organisation in ORGS:
            # Fresh copies, contact points included: the module-level records were made before the
            # storage mapping started, and one seeding must not hand its objects to the next.
            contacts = [replace(c) for c in organisation.contact_points]
            u.repo.add(replace(organisation, contact_points=contacts))
        u.commit()
    actors: dict[str, Actor] = {}
    for username, org, roles, name in DEMO_USERS:
        fields = {"username": username, "full_name": name, "org_code": org, "roles": roles}
        out = auth.add_user(uow(), parse(auth.UserCreate, fields | {"password": DEMO_PASSWORD}))
        actors[username] = Actor(out.id, username, org, frozenset(out.roles))
    start = datetime.now(UTC) - timedelta(days=150)
    for i in range(n_requests):
        clock.now = (
            start
            + timedelta(hours=i * 150 * 24 / max(n_requests, 1))
            + timedelta(minutes=rng.randint(0, 600))
        )
        _one_case(uow, clock, actors, rng, i, n_requests)
    clock.now = datetime.now(UTC) - timedelta(days=12)
    member_cases(uow, clock.advance, actors)
    clock.now = datetime.now(UTC)
    _quality_registers(uow, clock, actors)
    _joint_analysis(uow, clock, actors)
    training_programmes(uow, clock.now.date(), actors)


def _quality_registers(uow: Any, clock: _Clock, actors: dict[str, Actor]) -> None:
    """The central laboratory's 17025 registers: a method, instruments (one overdue), people, QC."""
    manager, analyst, reviewer = (actors[str(name)] for name in STAFF["KCS-CCL"])
    draft = {
        "method_id": "CCL-M-022",
        "version": "3",
        "title": "Alcoholic strength by volume, oscillating-type densimetry",
        "technique": "density",
        "validation": {
            "repeatability_sr": 0.05,
            "uncertainty_model": "GUM bottom-up",
            "expanded_uncertainty_absolute": 0.2,
            "unit": "%vol",
        },
    }
    method = methods.METHODS.record(uow(), manager, parse(methods.MethodCreate, draft))
    methods.validate_method_version(uow(), manager, method.id)
    today = clock.now.date()
    for code, name, calibrated_days_ago, next_due_days in (
        ("DMA-1", "Density meter", 200, 165),
        ("GCMS-2", "GC-MS", 340, 25),
        ("FTIR-1", "ATR-FTIR spectrometer", 400, -35),
    ):
        instrument = equipment.EQUIPMENT.record(
            uow(),
            manager,
            equipment.EquipmentCreate(equipment_id=code, name=name, location="Building B, room 2.14"),
        )
        calibration = {
            "performed_on": (today - timedelta(days=calibrated_days_ago)).isoformat(),
            "result": "within specification",
            "acceptance_criteria": "manufacturer's specification",
            "passed": True,
            "next_due": (today + timedelta(days=next_due_days)).isoformat(),
        }
        done = parse(equipment.CalibrationCreate, calibration)
        equipment.record_calibration(uow(), manager, instrument.id, done)
    for who, role in ((analyst, "analyst"), (reviewer, "reviewer")):
        grant = {"user_id": who.user_id, "role": role, "method_id": "CCL-M-022"}
        qc.AUTHORISATIONS.record(uow(), manager, parse(qc.AuthorisationCreate, grant))
    for material, points in (
        ("CRM ethanol 40 %vol", [40.02, 39.95, 40.07, 39.98, 40.04, 39.93, 40.05, 40.01]),
        ("CRM ethanol 40 %vol", [40.02, 39.95, 40.41]),
    ):
        batch = {"material": material, "target_mean": 40.0, "target_sd": 0.1, "points": points}
        qc.QC_BATCHES.record(uow(), analyst, parse(qc.QcBatchCreate, batch))


def _joint_analysis(uow: Any, clock: _Clock, actors: dict[str, Actor]) -> None:
    """A joint analysis in progress at RCL-JP between Korea, Japan and India: cocoa in a puffed cereal
    around the 6 % limit of Note 3 to Chapter 19. Korea and Japan have approved opinions that differ;
    India's result awaits review, so the consolidation is pending."""
    end = clock.now
    clock.now = end - timedelta(days=20)
    goods = "Chocolate-flavoured puffed breakfast cereal"
    fields = {"lab_code": "KCS-CCL", "declaration_number": "41230-26-771203", "declared_hs": "190410"}
    fields |= {"goods_description": goods, "origin_country": "BE", "importer": "Seoul Foods Ltd"}
    fields |= {"declarant": "Hana Customs Brokers"}
    fields |= {"declared_value": "18400", "currency": "USD", "question": "Heading 19.04 or 18.06?"}
    req = cases.file_request(uow(), actors["officer"], parse(RequestCreate, fields))
    manager = actors["manager.ccl"]
    sample = cases.register_sample(uow(), manager, req.id, SampleCreate(quantity=Decimal(600), unit="g"))
    cases.receive_sample(uow(), manager, sample.id, SampleReceipt(condition="sealed, intact"))
    own = {"KCS": sample.id}
    for admin, lab, receiver in (("JPC", "RCL-JP", "reviewer.jp"), ("INC", "RCL-IN", "analyst.in")):
        clock.advance(2)
        why = f"joint analysis: sub-sample for {admin}"
        sub = referrals.refer_sample(
            uow(),
            manager,
            sample.id,
            ReferralCreate(to_lab=lab, reason=why, sub_sample_quantity=Decimal(150)),
        )
        clock.advance(30)
        cases.receive_sample(uow(), actors[receiver], sub.sample_id, SampleReceipt(condition="seal intact"))
        own[admin] = sub.sample_id
    opening = {
        "product": goods,
        "participants": [
            {"administration_code": "KCS", "declared_code": "1904.10", "lab_code": "KCS-CCL"},
            {"administration_code": "JPC", "declared_code": "1806.90"},
            {"administration_code": "INC", "declared_code": "1901.90"},
        ],
    }
    clock.advance(4)
    opened = joint.open_joint_analysis(
        uow(), actors["coordinator"], parse(joint.JointAnalysisCreate, opening)
    )
    # lab staff who link and plan, analyst, reviewer (None: none at that laboratory), result, opinion
    work = [
        (
            "KCS",
            "manager.ccl",
            "analyst",
            "reviewer",
            "5.9",
            "1904.10",
            "not more than 6 %, heading 19.04 stands",
        ),
        (
            "JPC",
            "reviewer.jp",
            "analyst.jp",
            "reviewer.jp",
            "6.4",
            "1806.90",
            "more than 6 %, so heading 18.06",
        ),
        ("INC", "analyst.in", "analyst.in", None, "6.6", "", ""),
    ]
    for admin, planner, analyst_name, reviewer_name, value, code, finding in work:
        clock.advance(6)
        link = joint.JointSampleLink(sample_id=own[admin])
        joint.link_sample(uow(), actors[planner], opened.id, link)
        analyst = actors[analyst_name]
        plan = TestCreate(
            determination="Cocoa content", method_ref="KCL-M-019 HPLC", analyst_id=analyst.user_id
        )
        test = analysis.add_test(uow(), actors[planner], own[admin], plan)
        result = ResultCreate(
            name="cocoa_defatted",
            value=Decimal(value),
            unit="%",
            expanded_uncertainty=Decimal("0.3"),
            coverage_factor=Decimal(2),
        )
        clock.advance(20)
        analysis.enter_result(uow(), analyst, test.id, result)
        analysis.submit_test(uow(), analyst, test.id)
        if reviewer_name is None:
            continue
        reviewer = actors[reviewer_name]
        clock.advance(12)
        analysis.review_test(uow(), reviewer, test.id, ReviewDecision(approve=True))
        reasoning = (
            f"GIR 1 and Note 3 to Chapter 19: {value} % cocoa calculated on a totally defatted basis, "
            f"{finding}; GIR 6 for the subheading."
        )
        opinion = classification.write_opinion(
            uow(),
            analyst,
            own[admin],
            classification.OpinionCreate(determined_code=code, reasoning=reasoning),
        )
        assert opinion.id is not None
        classification.approve_opinion(uow(), reviewer, opinion.id)
    clock.now = end


def _one_case(
    uow: Any, clock: _Clock, actors: dict[str, Actor], rng: random.Random, i: int, n_total: int
) -> None:
    office_user = rng.choice(["officer", "officer2"])
    office = actors[office_user]
    lab = rng.choice(OFFICE_LABS[office.org_code])
    good = GOODS[i % len(GOODS)]
    desc, hs, origin, reason, determination, method, rname, unit, (lo, hi), u = good
    urgent = reason == "narcotics_precursors" or rng.random() < 0.15
    req = cases.file_request(
        uow(),
        office,
        parse(
            RequestCreate,
            {
                "lab_code": lab,
                "declaration_number": f"{40000 + i:05d}-{clock.now:%y}-{rng.randint(100000, 999999)}",
                "item_number": rng.randint(1, 12),
                "declared_hs": hs,
                "goods_description": desc,
                "origin_country": origin,
                "importer": rng.choice(
                    ["Hanbit Trading Co.", "Seoul Foods Ltd", "KoreaChem Inc.", "Daehan Metals"]
                ),
                # By position, not drawn: another draw would shift every later random choice of the demo.
                "declarant": ["Hana Customs Brokers", "Busan Customs Service", ""][i % 3],
                "declared_value": str(rng.randint(2, 900) * 1000),
                "currency": "USD",
                "reason": reason,
                "priority": "urgent" if urgent else "routine",
                "requested_determinations": [determination],
                "question": f"Please determine {determination.lower()} for classification of the goods.",
            },
        ),
    )
    # How far this case gets: a spread over every state, the newest cases least advanced.
    progress = rng.random()
    if i < 0.85 * n_total and rng.random() < 0.8:
        progress = 0.62 + 0.38 * rng.random()  # older cases are mostly finished
    if progress < 0.06:
        return  # filed, waiting for the sample to arrive
    if progress < 0.09:
        clock.advance(2)
        sample = cases.register_sample(
            uow(), actors[STAFF[lab][0]], req.id, SampleCreate(quantity=Decimal(1), unit="kg")
        )
        cases.cancel_sample(uow(), actors[STAFF[lab][0]], sample.id, "declaration withdrawn by the importer")
        return
    manager_name, analyst_name, reviewer_name = STAFF[lab]
    manager, analyst = actors[manager_name], actors[analyst_name]
    clock.advance(rng.uniform(2, 30))
    sample = cases.register_sample(
        uow(),
        manager,
        req.id,
        SampleCreate(
            quantity=Decimal(rng.choice(["50", "100", "250", "500"])),
            unit="g",
            seal_number=f"KCS{rng.randint(1000000, 9999999)}",
        ),
    )
    sid = sample.id
    if progress < 0.12:
        return
    clock.advance(rng.uniform(1, 20))
    cases.receive_sample(
        uow(),
        manager,
        sid,
        SampleReceipt(
            condition="sealed, intact", storage_location=f"R{rng.randint(1, 9)}-S{rng.randint(1, 30)}"
        ),
    )
    if progress < 0.16:
        if rng.random() < 0.3:
            cases.reject_sample(uow(), manager, sid, "seal number does not match the declaration")
        return
    # Local laboratories refer the harder questions to the central laboratory.
    if lab != "KCS-CCL" and (reviewer_name is None or rng.random() < 0.25):
        clock.advance(rng.uniform(2, 24))
        referrals.refer_sample(
            uow(), manager, sid, ReferralCreate(to_lab="KCS-CCL", reason="instrument not available locally")
        )
        lab = "KCS-CCL"
        manager_name, analyst_name, reviewer_name = STAFF[lab]
        manager, analyst = actors[manager_name], actors[analyst_name]
        clock.advance(rng.uniform(12, 72))
        if progress < 0.25:
            return
        cases.receive_sample(uow(), manager, sid, SampleReceipt(condition="received by courier, seal intact"))
    if rng.random() < 0.05 and lab == "KCS-CCL":
        clock.advance(rng.uniform(2, 24))
        referrals.refer_sample(
            uow(),
            manager,
            sid,
            ReferralCreate(
                to_lab="RCL-JP",
                reason="joint analysis: HS opinions differ",
                sub_sample_quantity=Decimal(20),
            ),
        )
    test = analysis.add_test(
        uow(),
        manager,
        sid,
        TestCreate(determination=determination, method_ref=method, analyst_id=analyst.user_id),
    )
    if progress < 0.35:
        return
    clock.advance(rng.uniform(4, 72))
    value = round(rng.uniform(lo, hi), 3 if hi < 2 else 2)
    assert test.id is not None
    analysis.enter_result(
        uow(),
        analyst,
        test.id,
        ResultCreate(
            name=rname,
            value=Decimal(str(value)),
            unit=unit,
            expanded_uncertainty=Decimal(str(u)),
            coverage_factor=Decimal(2),
        ),
    )
    if progress < 0.5:
        return
    clock.advance(rng.uniform(1, 24))
    analysis.submit_test(uow(), analyst, test.id)
    if progress < 0.62:
        return
    reviewer = actors[reviewer_name or "reviewer"]
    clock.advance(rng.uniform(2, 48))
    try:
        if rng.random() < 0.08:
            returned = ReviewDecision(approve=False, reason="check the calibration; repeat")
            analysis.review_test(uow(), reviewer, test.id, returned)
            return
        analysis.review_test(uow(), reviewer, test.id, ReviewDecision(approve=True))
    except DomainError:
        return
    if progress > 0.75:
        clock.advance(rng.uniform(1, 24))
        reports.issue_report(uow(), reviewer, sid)
        if progress > 0.9:
            clock.advance(rng.uniform(24, 240))
            cases.archive_sample(uow(), manager, sid)
