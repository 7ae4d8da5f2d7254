"""A seeded set of targeting outcomes across two administrations, with the figures worked out by hand.

`KR` declarations: at the central laboratory 12 of heading 0904 from CN (importer Hanbit Trading, 5
differing, duty known for 10: 150.00 KRW on each differing one) and 4 of 2208 from JM (Seoul Spirits, all 4
differing, duty unknown); at the local laboratory under it 3 of 0904 from VN (Hanbit Trading, 1 differing).
`JP` declarations: 5 of 0904 from CN analysed at the KR central laboratory (Tokyo Foods, all differing); at
the JP laboratory 6 of 2208 from JM (Osaka Imports, 2 differing) and 2 of 0904 from TH (Osaka Imports, 1).
One more KR outcome is decided before the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from customslab.services.targeting_ports import Outcome, TargetingRepository

PERIOD = (date(2026, 1, 1), date(2026, 6, 30))


@dataclass(frozen=True)
class Labs:
    kr_central: str
    kr_local: str
    jp_lab: str
    kr: str
    jp: str


def _group(
    labs: Labs,
    first_id: int,
    count: int,
    differing: int,
    *,
    lab: str,
    admin: str,
    heading: str,
    origin: str,
    importer: str,
    currency: str,
    duty: Decimal | None = None,
    unknown_duty_of_same: int = 0,
) -> list[Outcome]:
    out = []
    for i in range(count):
        differs = i < differing
        determined = heading + ("99" if differs else "10")
        known = duty is not None and (differs or i >= count - (count - differing - unknown_duty_of_same))
        out.append(
            Outcome(
                sample_id=first_id + i,
                reference=f"{lab}-{first_id + i}",
                lab_code=lab,
                administration_code=admin,
                declared_hs=heading + "10",
                determined_hs=determined,
                heading=heading,
                differs=differs,
                origin=origin,
                importer=importer,
                declarant=f"{importer} Brokers",
                # Spread over the first half of 2026; the lower the index, the later the decision.
                decided_on=date(2026, 6 - i % 6, 28 - i),
                customs_value=Decimal("1000.00"),
                currency=currency,
                duty_difference=(duty if differs else Decimal("0.00")) if known else None,
            )
        )
    return out


def seed_outcomes(repo: TargetingRepository, labs: Labs, first_id: int) -> list[Outcome]:
    """Record the outcomes described above under sample ids from `first_id`; returns them."""
    i = first_id
    outcomes = [
        *_group(
            labs,
            i,
            12,
            5,
            lab=labs.kr_central,
            admin=labs.kr,
            heading="0904",
            origin="CN",
            importer="Hanbit Trading",
            currency="KRW",
            duty=Decimal("150.00"),
            unknown_duty_of_same=2,
        ),
        *_group(
            labs,
            i + 100,
            4,
            4,
            lab=labs.kr_central,
            admin=labs.kr,
            heading="2208",
            origin="JM",
            importer="Seoul Spirits",
            currency="KRW",
        ),
        *_group(
            labs,
            i + 200,
            3,
            1,
            lab=labs.kr_local,
            admin=labs.kr,
            heading="0904",
            origin="VN",
            importer="Hanbit Trading",
            currency="KRW",
        ),
        *_group(
            labs,
            i + 300,
            5,
            5,
            lab=labs.kr_central,
            admin=labs.jp,
            heading="0904",
            origin="CN",
            importer="Tokyo Foods",
            currency="JPY",
            duty=Decimal("900.00"),
        ),
        *_group(
            labs,
            i + 400,
            6,
            2,
            lab=labs.jp_lab,
            admin=labs.jp,
            heading="2208",
            origin="JM",
            importer="Osaka Imports",
            currency="JPY",
        ),
        *_group(
            labs,
            i + 500,
            2,
            1,
            lab=labs.jp_lab,
            admin=labs.jp,
            heading="0904",
            origin="TH",
            importer="Osaka Imports",
            currency="JPY",
        ),
    ]
    early = _group(
        labs,
        i + 600,
        1,
        1,
        lab=labs.kr_central,
        admin=labs.kr,
        heading="0904",
        origin="CN",
        importer="Hanbit Trading",
        currency="KRW",
    )[0]
    outcomes.append(Outcome(**{**early.__dict__, "decided_on": date(2025, 6, 1)}))
    for o in outcomes:
        repo.record(o)
    return outcomes
