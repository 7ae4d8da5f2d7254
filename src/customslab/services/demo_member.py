"""The demo's member administration without a laboratory: Bhutan files, seals and refers its samples to
the RCL in Japan, which analyses them and reports; the focal point follows them there."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from customslab.domain.access import Actor
from customslab.services import analysis, cases, confidentiality, referrals, reports
from customslab.services.analysis import ResultCreate, ReviewDecision, TestCreate
from customslab.services.cases import CustodyCreate, RequestCreate, SampleCreate, SampleReceipt
from customslab.services.contract import parse
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.referrals import ReferralCreate

#: goods, declared HS code, origin, determination, result name, unit, value, how far the case gets
MEMBER_CASES = [
    ("Whisky, 750 mL bottles", "220830", "GB", "Alcoholic strength", "alcohol_strength", "%vol", "40.2", 5),
    ("White crystalline powder (suspected precursor)", "293939", "IN", "Identity (GC-MS)", "", "", "", 3),
    ("Refined palm oil in drums", "151190", "MY", "Free fatty acids", "ffa", "%", "0.08", 4),
    ("Cement, grey, in bags", "252329", "CN", "Alumina content", "element.Al2O3", "%", "5.1", 2),
]


def member_cases(
    uow: Callable[[], AbstractUnitOfWork], advance: Callable[[float], None], actors: dict[str, Actor]
) -> None:
    """Each case goes as far as its last figure: 2 registered and sealed, 3 referred to the RCL,
    4 measured there, 5 reported; the first also releases its importer's name to Japan."""
    officer, focal = actors["officer.bt"], actors["focal.bt"]
    rcl_manager, rcl_analyst = actors["reviewer.jp"], actors["analyst.jp"]
    for i, (goods, hs, origin, determination, name, unit, value, reach) in enumerate(MEMBER_CASES):
        req = cases.file_request(
            uow(),
            officer,
            parse(
                RequestCreate,
                {
                    "lab_code": "BT-DRC",
                    "declaration_number": f"BT-PLG-2026-{7100 + i}",
                    "item_number": 1,
                    "declared_hs": hs,
                    "goods_description": goods,
                    "origin_country": origin,
                    "importer": ["Druk Trading", "Thimphu Imports", "Paro Wholesale", "Gelephu Supplies"][i],
                    "declared_value": str(4000 + 1500 * i),
                    "currency": "USD",
                    "reason": "classification",
                    "priority": "routine",
                    "requested_determinations": [determination],
                    "question": "Please determine the classification; we have no laboratory.",
                },
            ),
        )
        advance(6)
        seal = f"BTC{880100 + i}"
        sample = cases.register_sample(
            uow(), focal, req.id, SampleCreate(quantity=Decimal(250), unit="g", seal_number=seal)
        )
        cases.record_custody(
            uow(),
            focal,
            sample.id,
            parse(CustodyCreate, {"kind": "hand_over", "from": "Phuentsholing customs", "to": "courier"}),
        )
        if reach < 3:
            continue
        advance(12)
        referrals.refer_sample(
            uow(), focal, sample.id, ReferralCreate(to_lab="RCL-JP", reason="no laboratory in Bhutan")
        )
        if i == 0:
            confidentiality.release_declaration(
                uow(),
                focal,
                req.id,
                parse(
                    confidentiality.ReleaseCreate,
                    {
                        "administration_code": "JPC",
                        "fields": ["importer"],
                        "reason": "the RCL asked whose goods these are",
                    },
                ),
            )
        advance(72)
        cases.receive_sample(uow(), rcl_manager, sample.id, SampleReceipt(seal_number=seal))
        if reach < 4 or not name:
            continue
        test = analysis.add_test(
            uow(),
            rcl_manager,
            sample.id,
            TestCreate(determination=determination, method_ref="JC-RCL-M-03", analyst_id=rcl_analyst.user_id),
        )
        assert test.id is not None
        advance(24)
        analysis.enter_result(
            uow(),
            rcl_analyst,
            test.id,
            ResultCreate(
                name=name,
                value=Decimal(value),
                unit=unit,
                expanded_uncertainty=Decimal("0.1"),
                coverage_factor=Decimal(2),
            ),
        )
        analysis.submit_test(uow(), rcl_analyst, test.id)
        if reach < 5:
            continue
        advance(24)
        # The RCL's reviewer is also its manager; a second reviewer is not needed for a test review.
        analysis.review_test(uow(), rcl_manager, test.id, ReviewDecision(approve=True))
        reports.issue_report(uow(), rcl_manager, sample.id)
