"""Factories that build a small network with unique codes, so tests can share a database."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from customslab.domain.access import Actor
from customslab.domain.enums import OrgKind, Role
from customslab.domain.model import Administration, Organisation
from customslab.services import analysis, auth, cases
from customslab.services import quality_equipment as equipment
from customslab.services.analysis import TestCreate
from customslab.services.cases import RequestCreate, SampleCreate, SampleReceipt
from customslab.services.contract import parse
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.views import SampleSummary, TestView

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}{uuid.uuid4().hex[:4]}".upper()


@dataclass
class Network:
    home: str  # the administration of the office, the central, local and other laboratories
    rcl_administration: str
    member_administration: str
    office: str
    local: str
    central: str
    rcl: str
    other_lab: str
    member: str
    users: dict[str, Actor] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Actor:
        return self.users[name]


USERS = {
    "officer": ("office", [Role.REQUESTER]),
    "officer_b": ("office", [Role.REQUESTER]),
    "local_manager": ("local", [Role.LAB_MANAGER]),
    "local_analyst": ("local", [Role.ANALYST]),
    "central_manager": ("central", [Role.LAB_MANAGER]),
    "analyst": ("central", [Role.ANALYST]),
    "reviewer": ("central", [Role.REVIEWER]),
    "rcl_manager": ("rcl", [Role.LAB_MANAGER, Role.REVIEWER]),
    "outsider": ("other_lab", [Role.LAB_MANAGER, Role.ANALYST, Role.REVIEWER]),
    "coordinator": ("rcl", [Role.NETWORK_COORDINATOR]),
    "admin": ("central", [Role.ADMIN]),
}


def make_network(uow_factory: Any) -> Network:
    """Offices, laboratories of every kind, and one user per role, all with fresh codes."""
    central = unique("CCL")
    net = Network(
        home=unique("KR"),
        rcl_administration=unique("JP"),
        member_administration=unique("BT"),
        office=unique("OFF"),
        local=unique("LOC"),
        central=central,
        rcl=unique("RCL"),
        other_lab=unique("OTH"),
        member=unique("MEM"),
    )
    uow: AbstractUnitOfWork = uow_factory()
    with uow:
        uow.act_as("test-setup")
        kr, jp, bt = net.home, net.rcl_administration, net.member_administration
        uow.repo.add(Administration(kr, "Korea Customs Service", "KR"))
        uow.repo.add(Administration(jp, "Japan Customs", "JP"))
        uow.repo.add(Administration(bt, "Department of Revenue and Customs", "BT", has_laboratories=False))
        uow.repo.flush()
        add = uow.repo.add
        add(Organisation(central, "Central lab", OrgKind.CENTRAL, "KR", administration_code=kr))
        add(
            Organisation(
                net.local, "Local lab", OrgKind.LOCAL, "KR", parent_code=central, administration_code=kr
            )
        )
        add(
            Organisation(
                net.rcl, "Regional lab", OrgKind.RCL, "JP", administration_code=jp, rcl_region="Asia"
            )
        )
        add(
            Organisation(
                net.other_lab,
                "Unrelated lab",
                OrgKind.LOCAL,
                "KR",
                parent_code=central,
                administration_code=kr,
            )
        )
        add(Organisation(net.member, "Member without lab", OrgKind.MEMBER, "BT", administration_code=bt))
        add(Organisation(net.office, "Customs office", OrgKind.CUSTOMS_OFFICE, "KR", administration_code=kr))
        uow.commit()
    for name, (where, roles) in USERS.items():
        org = getattr(net, where)
        user = auth.UserCreate(
            username=unique(name), full_name=name, org_code=org, roles=list(roles), password=PASSWORD
        )
        out = auth.add_user(uow_factory(), user)
        net.users[name] = Actor(out.id, out.username, org, frozenset(roles))
    return net


def request_command(net: Network, **overrides: Any) -> RequestCreate:
    """The officer's request as the service takes it; a bad override fails as the edges would."""
    return parse(RequestCreate, request_data(net, **overrides))


def request_data(net: Network, **overrides: Any) -> dict[str, Any]:
    """The officer's request to the local laboratory, under a declaration number of its own, as the API
    takes it."""
    return rum_request(net.local, unique("DCL")) | overrides


def rum_request(lab_code: str, declaration_number: str) -> dict[str, Any]:
    """The officer's request for the rum to `lab_code`, as the API takes it."""
    return {
        "lab_code": lab_code,
        "declaration_number": declaration_number,
        "item_number": 1,
        "declared_hs": "2208.40",
        "goods_description": "Rum in 700 mL bottles",
        "origin_country": "JM",
        "importer": "Hanbit Trading",
        "declared_value": "12000",
        "currency": "USD",
        "reason": "classification",
        "priority": "urgent",
        "requested_determinations": ["alcoholic strength"],
        "question": "Is this rum of heading 2208?",
    }


#: Undenatured ethyl alcohol declared in heading 22.07: the goods the 80 % vol rule of chapter 22 reads
#: (a rum of 2208.40 stays in heading 22.08 whatever its strength). Overrides of `rum_request`.
ETHANOL = {"declared_hs": "2207.10", "goods_description": "Ethanol (undenatured) in 200 L drums"}


def rum_result(value: str) -> dict[str, str]:
    """The analyst's alcoholic strength of the rum with its expanded uncertainty, as the API and the
    result form take it."""
    return {
        "name": "alcohol_strength",
        "value": value,
        "unit": "%vol",
        "expanded_uncertainty": "0.2",
        "coverage_factor": "2",
    }


def received_sample(
    uow_factory: Any,
    net: Network,
    lab: str = "central",
    sample: SampleCreate | None = None,
    receipt: SampleReceipt | None = None,
    **request: Any,
) -> SampleSummary:
    """The officer's request to the `lab` ("central" or "local") with one sample, which that laboratory's
    manager registers and receives; the summary carries the request id too. `request` overrides fields
    of the rum's request (e.g. ``**ETHANOL``: ethyl alcohol declared 2207.10)."""
    manager = net[f"{lab}_manager"]
    command = request_command(net, lab_code=getattr(net, lab), **request)
    req = cases.file_request(uow_factory(), net["officer"], command)
    created = cases.register_sample(
        uow_factory(), manager, req.id, sample or SampleCreate(quantity="1", unit="L")
    )
    return cases.receive_sample(uow_factory(), manager, created.id, receipt or SampleReceipt())


def assigned_test(uow_factory: Any, net: Network, sample_id: int, **fields: Any) -> TestView:
    """A test the central manager plans on the sample and gives to the central analyst."""
    cmd = TestCreate(analyst_id=net["analyst"].user_id, **fields)
    return analysis.add_test(uow_factory(), net["central_manager"], sample_id, cmd)


def calibrated_instrument(
    uow_factory: Any,
    net: Network,
    instrument: equipment.EquipmentCreate,
    *,
    calibrated_days_ago: int,
    result: str,
    acceptance_criteria: str,
    next_due_days: int | None = 180,
) -> int:
    """The id of an instrument the central manager records, its calibration passed
    `calibrated_days_ago` days ago with `result` and due again in `next_due_days` (None: never
    calibrated)."""
    eq = equipment.EQUIPMENT.record(uow_factory(), net["central_manager"], instrument)
    if next_due_days is not None:
        today = uow_factory().clock().date()
        equipment.record_calibration(
            uow_factory(),
            net["central_manager"],
            eq.id,
            equipment.CalibrationCreate(
                performed_on=today - timedelta(days=calibrated_days_ago),
                result=result,
                acceptance_criteria=acceptance_criteria,
                passed=True,
                next_due=today + timedelta(days=next_due_days),
            ),
        )
    return eq.id
