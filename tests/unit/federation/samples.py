"""Envelopes of every message kind, for the federation adapter tests and the committed wire example.

`python -m tests.unit.federation.samples` rewrites docs/federation/referral-bundle.example.json and
example-key.txt with a fresh throwaway key (its private half is discarded): run it only when the wire
format changes on purpose, and commit the result.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from customslab.domain.federation import (
    Envelope,
    KeyRotated,
    KnowledgeShared,
    ObservationData,
    ReferralRequested,
    ResultsIssued,
    SharedKind,
    SpecimenData,
    TaskStatus,
    TaskStatusChanged,
    referral_stream,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "federation"
EXAMPLE_BUNDLE = DOCS / "referral-bundle.example.json"
EXAMPLE_KEY = DOCS / "example-key.txt"
EXAMPLE_URL = "https://lab.customs.go.kr"
SENT = datetime(2025, 5, 12, 8, 30, 15, 250000, tzinfo=UTC)
SEOUL = timezone(timedelta(hours=9))


def referral() -> ReferralRequested:
    return ReferralRequested(
        ref="4127",
        from_org="KCS-CCL",
        to_lab="RCL-JP",
        reason="Second opinion: the importer disputes gelatinisation by DSC.",
        request_reference="ICN-2025-00871",
        office_code="KCS-ICN-AIR",
        goods_description="Rice, parboiled, in 20 kg bags (쌀, 찐쌀)",
        declared_hs="1006.30",
        origin_country="TH",
        analysis_reason="classification",
        priority="urgent",
        due_date=date(2025, 6, 2),
        requested_determinations=("degree of gelatinisation", "moisture"),
        specimen=SpecimenData(
            lab_sample_id="CCL-25-0412",
            description="Off-white grains, sealed polyethylene bag",
            quantity=Decimal("0.50"),
            unit="kg",
            seal_number="KCS-S-558120",
            condition="intact",
        ),
        declaration={"declaration_number": "12345-25-000871X", "question": "Cooked or raw?"},
    )


def status() -> TaskStatusChanged:
    return TaskStatusChanged(
        ref="4127",
        status=TaskStatus.IN_PROGRESS,
        reason="Received at RCL-JP",
        at=datetime(2025, 5, 14, 10, 0, tzinfo=SEOUL),
        seal_intact=True,
        custody_note="Seal KCS-S-558120 checked on receipt",
    )


def results() -> ResultsIssued:
    return ResultsIssued(
        ref="4127",
        report_id="RCL-JP-25-0099",
        version=1,
        verification_code="7KQ2-MX4P-Z9",
        issued_at=datetime(2025, 5, 20, 16, 45, 3, tzinfo=UTC),
        laboratory="RCL-JP",
        conclusion="Gelatinised: parboiled rice of subheading 1006.30.",
        observations=(
            ObservationData("degree of gelatinisation", "92.0", "%", "3.5", "2", "DSC"),
            ObservationData("moisture", "-0.00", "g/100 g", None, None, "oven drying"),
            ObservationData("appearance", "translucent", ""),
            ObservationData("", None, ""),
        ),
        pdf_sha256="ab" * 32,
        pdf_base64="JVBERi0xLjcKJeLjz9MK",
        report_signature="",
        report_key_id="",
        hs_code="1006.30",
        decision_rule="simple acceptance (ILAC-G8:09/2019 §4.2.1)",
    )


def knowledge() -> KnowledgeShared:
    return KnowledgeShared(
        kind=SharedKind.METHOD,
        origin_ref="M-17",
        version="3",
        author_lab="KCS-CCL",
        licence="CC-BY-4.0",
        title="Degree of gelatinisation of rice by DSC",
        published_at=SENT,
        content={"steps": ["grind", "weigh 10 mg"], "temperature_c": 95.5, "note": None, "ok": True},
    )


def key_rotation() -> KeyRotated:
    return KeyRotated(
        key_id="0" * 32,
        public_key="A" * 43 + "=",
        old_key_id="f" * 32,
        old_key_valid_until=SENT + timedelta(days=14),
    )


def envelope(body: object, seq: int = 1) -> Envelope:
    return Envelope(
        message_id="5c0b8f4e-3f39-4f55-9d3e-3a7f2f6a0c11",
        sender="KCS",
        recipient="JPC",
        stream=referral_stream("KCS", "4127"),
        seq=seq,
        sent_at=SENT,
        body=body,  # type: ignore[arg-type]
    )


def every_kind() -> list[Envelope]:
    return [envelope(b()) for b in (referral, status, results, knowledge, key_rotation)]


def write_example() -> None:
    """Sign the referral with a throwaway key; keep only its public half beside the bundle."""
    from customslab.adapters.federation import fhir_codec
    from customslab.adapters.federation.keys import DeploymentKey
    from customslab.adapters.federation.signing import sign_bundle

    key = DeploymentKey.of(Ed25519PrivateKey.generate())
    bundle = sign_bundle(fhir_codec.encode(envelope(referral()), EXAMPLE_URL), "KCS", key, SENT)
    DOCS.mkdir(parents=True, exist_ok=True)
    EXAMPLE_BUNDLE.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    EXAMPLE_KEY.write_text(key.public_b64 + "\n", encoding="ascii")


if __name__ == "__main__":
    write_example()
