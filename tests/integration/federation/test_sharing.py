"""Knowledge shared across deployments: publishing writes the outbox, the message crossing to the partner
keeps a read-only copy with its provenance, and a shared method is adopted as a local draft."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customslab.adapters.spectral_libraries import LocalSpectralLibraries
from customslab.config import Settings
from customslab.domain.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from customslab.domain.federation import (
    KnowledgeShared,
    MessageKind,
    PartnerState,
    SharedKind,
    envelope_from_plain,
)
from customslab.domain.model import DECLARATION_FIELDS
from customslab.domain.quality.errors import MethodTransitionError
from customslab.domain.quality.methods import MethodStatus
from customslab.entrypoints.web.app import create_web_app
from customslab.services import cases, classification, federation_shared, federation_sharing
from customslab.services.cases import RequestCreate, SampleCreate, SampleReceipt
from customslab.services.classification import OpinionCreate
from customslab.services.contract import parse
from customslab.services.federation_sharing import LibraryEntriesPublication, PartnerPublication
from customslab.services.quality_methods import (
    METHODS,
    MethodCreate,
    MethodValidation,
    ValidationInput,
    validate_method_version,
)
from customslab.spectra.library import build_library
from tests.factories import PASSWORD, rum_request, unique
from tests.integration.federation.sharing_support import Network, Side, deliver, two_sides

VALIDATION = ValidationInput(
    repeatability_sr="0.05", uncertainty_model="GUM, type A", expanded_uncertainty_relative="0.02"
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def net(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with two_sides(str(request.param), tmp_path_factory.mktemp("sides")) as sides:
        yield sides


def validated_method(side: Side, code: str, version: str = "1") -> int:
    """A method version the side's laboratory catalogued and validated; its entry id."""
    cmd = MethodCreate(
        method_id=code,
        version=version,
        title="Alcoholic strength by densimetry",
        technique="density",
        analytes=("ethanol",),
        matrices=("spirits",),
        scope="Spirits of heading 2208, 20 to 80 %vol.",
    )
    draft = METHODS.record(side.uow(), side["manager"], cmd)
    validate_method_version(side.uow(), side["manager"], draft.id, MethodValidation(validation=VALIDATION))
    return draft.id


def approved_opinion(side: Side, approve: bool = True) -> int:
    """An opinion on the rum a customs officer sent to the side's laboratory, approved by its reviewer."""
    request = parse(RequestCreate, rum_request(side.lab, unique("DCL")))
    filed = cases.file_request(side.uow(), side["officer"], request)
    sample = cases.register_sample(
        side.uow(), side["manager"], filed.id, SampleCreate(quantity="1", unit="L")
    )
    cases.receive_sample(side.uow(), side["manager"], sample.id, SampleReceipt())
    written = classification.write_opinion(
        side.uow(),
        side["analyst"],
        sample.id,
        OpinionCreate(
            determined_code="2208.40",
            reasoning="Distilled from sugar-cane products; strength and character of rum.",
            references=["Explanatory Note to heading 22.08"],
        ),
    )
    assert written.id is not None
    if approve:
        classification.approve_opinion(side.uow(), side["reviewer"], written.id)
    return written.id


def copies_of(side: Side, origin_ref: str) -> list[federation_shared.SharedCopySummary]:
    page = federation_shared.list_shared_copies(side.uow(), side["analyst"], None, 200, 0)
    return [c for c in page.items if c.origin_ref == origin_ref]


def test_publishing_a_method_writes_one_message_per_active_partner_and_none_to_a_suspended_one(
    net: Network,
) -> None:
    code = unique("M-")
    entry_id = validated_method(net.a, code)
    out = federation_sharing.publish_method_to_partners(
        net.a.uow(), net.a["manager"], entry_id, PartnerPublication()
    )
    assert (out.sent_to, out.already_sent_to, out.licence) == ([net.b.home], [], "CC-BY-4.0")
    rows = [m for m in net.a.outbox() if m.stream.startswith(f"knowledge/method/{net.a.lab}/{code}@")]
    assert [(m.partner_code, m.kind, m.seq) for m in rows] == [(net.b.home, MessageKind.KNOWLEDGE_SHARED, 1)]
    assert net.a.outbox(partner=net.c_code) == []
    body = envelope_from_plain(rows[0].payload).body
    assert isinstance(body, KnowledgeShared)
    assert (body.kind, body.origin_ref, body.version, body.author_lab) == (
        SharedKind.METHOD,
        f"{net.a.lab}/{code}",
        "1",
        net.a.lab,
    )
    # Validated, and by when; the approver's username stays on its server.
    assert body.content["status"] == "validated" and body.content["approved_by"] is None


def test_the_message_crossing_to_the_partner_keeps_a_read_only_copy_with_its_provenance(net: Network) -> None:
    code = unique("M-")
    entry_id = validated_method(net.a, code)
    cmd = PartnerPublication(licence="CC-BY-SA-4.0")
    federation_sharing.publish_method_to_partners(net.a.uow(), net.a["manager"], entry_id, cmd)
    (message,) = [m for m in net.a.outbox(partner=net.b.home) if f"/{code}@" in m.stream]
    with net.b.uow() as uow:
        methods_before = len(uow.quality.find(METHODS.entry))
    deliver(message, net.b)
    (copy,) = copies_of(net.b, f"{net.a.lab}/{code}")
    assert (copy.kind, copy.partner_code, copy.partner_name) == (
        SharedKind.METHOD,
        net.a.home,
        f"Customs {net.a.home}",
    )
    assert (copy.author_lab, copy.version, copy.licence) == (net.a.lab, "1", "CC-BY-SA-4.0")
    assert copy.adoptable is False  # an analyst reads; a lab manager adopts
    detail = federation_shared.shared_copy_detail(net.b.uow(), net.b["manager"], copy.id)
    assert detail.adoptable and detail.content["scope"] == "Spirits of heading 2208, 20 to 80 %vol."
    assert "density" in detail.gist and "ethanol" in detail.gist
    # Nothing of B's own records changed: the copy sits beside them.
    with net.b.uow() as uow:
        assert len(uow.quality.find(METHODS.entry)) == methods_before


def test_the_same_message_twice_keeps_one_copy(net: Network) -> None:
    code = unique("M-")
    entry_id = validated_method(net.a, code)
    federation_sharing.publish_method_to_partners(
        net.a.uow(), net.a["manager"], entry_id, PartnerPublication()
    )
    (message,) = [m for m in net.a.outbox(partner=net.b.home) if f"/{code}@" in m.stream]
    deliver(message, net.b)
    deliver(message, net.b)
    assert len(copies_of(net.b, f"{net.a.lab}/{code}")) == 1


def test_a_new_version_adds_a_copy_beside_the_first(net: Network) -> None:
    code = unique("M-")
    first = validated_method(net.a, code, "1")
    federation_sharing.publish_method_to_partners(net.a.uow(), net.a["manager"], first, PartnerPublication())
    second = validated_method(net.a, code, "2")  # supersedes version 1
    federation_sharing.publish_method_to_partners(net.a.uow(), net.a["manager"], second, PartnerPublication())
    for message in [m for m in net.a.outbox(partner=net.b.home) if f"/{code}@" in m.stream]:
        deliver(message, net.b)
    copies = copies_of(net.b, f"{net.a.lab}/{code}")
    assert sorted(c.version for c in copies) == ["1", "2"]


def test_adopting_a_shared_method_makes_a_local_draft_that_records_its_provenance(net: Network) -> None:
    code = unique("M-")
    entry_id = validated_method(net.a, code)
    cmd = PartnerPublication(licence="CC-BY-4.0")
    federation_sharing.publish_method_to_partners(net.a.uow(), net.a["manager"], entry_id, cmd)
    (message,) = [m for m in net.a.outbox(partner=net.b.home) if f"/{code}@" in m.stream]
    deliver(message, net.b)
    (copy,) = copies_of(net.b, f"{net.a.lab}/{code}")
    with pytest.raises(PermissionDenied):
        federation_shared.adopt_shared_method(net.b.uow(), net.b["analyst"], copy.id)
    adopted = federation_shared.adopt_shared_method(net.b.uow(), net.b["manager"], copy.id)
    assert (adopted.lab_code, adopted.method_id, adopted.version) == (net.b.lab, code, "1")
    assert (
        adopted.status is MethodStatus.DRAFT
        and adopted.approved_by is None
        and adopted.adopted_from_id is None
    )
    assert adopted.origin is not None
    assert (adopted.origin.published_by, adopted.origin.adopted_from_version) == (net.a.lab, "1")
    assert (adopted.origin.partner, adopted.origin.licence) == (net.a.home, "CC-BY-4.0")
    assert adopted.origin.describe() == (
        f"adopted from {net.a.lab} version 1 (shared by partner {net.a.home} under CC-BY-4.0)"
    )
    with pytest.raises(Conflict, match="already in your catalogue"):
        federation_shared.adopt_shared_method(net.b.uow(), net.b["manager"], copy.id)
    (again,) = copies_of(net.b, f"{net.a.lab}/{code}")
    assert again.in_catalogue and not again.adoptable

    # Validated there, it is still the partner's to publish: not published on under the adopter's name.
    validate_method_version(
        net.b.uow(), net.b["manager"], adopted.id, MethodValidation(validation=VALIDATION)
    )
    before = len(net.b.outbox())
    with pytest.raises(Conflict, match=f"adopted from partner {net.a.home}"):
        federation_sharing.publish_method_to_partners(net.b.uow(), net.b["manager"], adopted.id, cmd)
    assert len(net.b.outbox()) == before


def test_an_unapproved_opinion_cannot_be_published_and_nothing_is_written(net: Network) -> None:
    opinion_id = approved_opinion(net.a, approve=False)
    with pytest.raises(InvalidTransition, match="approved"):
        federation_sharing.publish_opinion_to_partners(
            net.a.uow(), net.a["reviewer"], opinion_id, PartnerPublication()
        )
    assert [m for m in net.a.outbox() if m.stream.startswith(f"knowledge/opinion/{opinion_id}@")] == []


def test_an_approved_opinion_crosses_with_its_reasoning_and_no_declaration_data(net: Network) -> None:
    opinion_id = approved_opinion(net.a)
    out = federation_sharing.publish_opinion_to_partners(
        net.a.uow(), net.a["reviewer"], opinion_id, PartnerPublication()
    )
    assert out.sent_to == [net.b.home] and out.title.startswith("HS 2208.40")
    (message,) = net.a.outbox(stream=f"knowledge/opinion/{opinion_id}@1")
    body = envelope_from_plain(message.payload).body
    assert isinstance(body, KnowledgeShared)
    text = str(body.content)
    assert set(body.content).isdisjoint(DECLARATION_FIELDS)
    assert "Hanbit Trading" not in text and "Is this rum of heading 2208?" not in text and "DCL" not in text
    assert body.content["references"] == ["Explanatory Note to heading 22.08"]
    deliver(message, net.b)
    (copy,) = copies_of(net.b, str(opinion_id))
    assert copy.kind is SharedKind.OPINION and copy.gist.startswith("2208.40 → 2208.40")
    with pytest.raises(Conflict, match="already published to every active partner"):
        federation_sharing.publish_opinion_to_partners(
            net.a.uow(), net.a["reviewer"], opinion_id, PartnerPublication()
        )


def test_publishing_again_reaches_only_a_partner_resumed_since(net: Network) -> None:
    entry_id = validated_method(net.a, unique("M-"))
    federation_sharing.publish_method_to_partners(
        net.a.uow(), net.a["manager"], entry_id, PartnerPublication()
    )
    net.a.set_partner(net.c_code, PartnerState.ACTIVE)
    try:
        out = federation_sharing.publish_method_to_partners(
            net.a.uow(), net.a["manager"], entry_id, PartnerPublication()
        )
    finally:
        net.a.set_partner(net.c_code, PartnerState.SUSPENDED)
    assert (out.sent_to, out.already_sent_to) == ([net.c_code], [net.b.home])


def test_a_draft_method_is_not_published_and_an_officer_cannot_read_shared_copies(net: Network) -> None:
    draft = METHODS.record(
        net.a.uow(), net.a["manager"], MethodCreate(method_id=unique("M-"), version="1", title="Draft")
    )
    with pytest.raises(MethodTransitionError, match="only a validated method"):
        federation_sharing.publish_method_to_partners(
            net.a.uow(), net.a["manager"], draft.id, PartnerPublication()
        )
    assert [m for m in net.a.outbox() if f"/{draft.method_id}@" in m.stream] == []
    message, origin_ref = _knowledge(net)
    deliver(message, net.b)
    with pytest.raises(PermissionDenied):
        federation_shared.list_shared_copies(net.b.uow(), net.b["officer"])
    (copy,) = copies_of(net.b, origin_ref)
    with pytest.raises(PermissionDenied):
        federation_shared.shared_copy_detail(net.b.uow(), net.b["officer"], copy.id)
    listed = federation_shared.list_shared_copies(net.b.uow(), net.b["admin"], SharedKind.METHOD, 200, 0)
    assert copy.id in [c.id for c in listed.items]
    assert federation_shared.list_shared_copies(
        net.b.uow(), net.b["admin"], SharedKind.OPINION, 200, 0
    ).items == [
        c
        for c in federation_shared.list_shared_copies(net.b.uow(), net.b["admin"], None, 200, 0).items
        if c.kind is SharedKind.OPINION
    ]


def _knowledge(net: Network, **changes: Any) -> Any:
    """A fresh method publication from A, its outbox message's payload changed as a hostile partner might."""
    entry_id = validated_method(net.a, unique("M-"))
    out = federation_sharing.publish_method_to_partners(
        net.a.uow(), net.a["manager"], entry_id, PartnerPublication()
    )
    (message,) = net.a.outbox(partner=net.b.home, stream=f"knowledge/method/{out.origin_ref}@1")
    message.payload = {**message.payload, "body": {**message.payload["body"], **changes}}
    return message, out.origin_ref


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "x" * 501},
        {"licence": ""},
        {"version": "9"},  # the method inside is version 1
        {"content": {"method_id": "M", "title": "No version or technique"}},
        {"content": {"padding": "x" * 1_000_001}},
    ],
    ids=["title too long", "no licence", "version mismatch", "not a method", "too large"],
)
def test_a_hostile_copy_is_refused_and_nothing_is_stored(net: Network, changes: dict[str, Any]) -> None:
    message, origin_ref = _knowledge(net, **changes)
    with pytest.raises(ValidationFailed, match="Shared knowledge refused"):
        deliver(message, net.b)
    assert copies_of(net.b, origin_ref) == []


def test_library_entries_cross_with_their_licence_and_attribution(
    net: Network, shared_data: Path, tmp_path: Path
) -> None:
    files = sorted((shared_data / "spectra" / "massbank-ei").glob("*.txt"))[:5]
    build_library(files, tmp_path / "small")
    libraries = LocalSpectralLibraries(tmp_path / "unused", tmp_path, extra={"small": tmp_path / "small"})
    cmd = LibraryEntriesPublication(rows=[0, 2, 2])
    out = federation_sharing.publish_library_entries(net.a.uow(), net.a["manager"], libraries, "small", cmd)
    assert len(out.items) == 2 and all(i.sent_to == [net.b.home] for i in out.items)
    assert all(i.licence.startswith("CC BY") for i in out.items)  # MassBank's own, not the default
    for item in out.items:
        (message,) = net.a.outbox(partner=net.b.home, stream=f"knowledge/spectrum/{item.origin_ref}@1")
        deliver(message, net.b)
        (copy,) = copies_of(net.b, item.origin_ref)
        detail = federation_shared.shared_copy_detail(net.b.uow(), net.b["analyst"], copy.id)
        content = detail.content
        assert content["technique"] == "EI-MS" and len(content["x"]) == len(content["y"]) > 0
        assert content["source_file"].endswith(".txt") and "/" not in content["source_file"]
        assert "licence" in content["attribution"] and content["authors"]
        assert detail.licence == content["licence"] and not detail.adoptable
        with pytest.raises(Conflict, match="Only a shared method"):
            federation_shared.adopt_shared_method(net.b.uow(), net.b["manager"], copy.id)
    with pytest.raises(NotFound, match="not found"):
        federation_sharing.publish_library_entries(
            net.a.uow(), net.a["manager"], libraries, "small", LibraryEntriesPublication(rows=[5])
        )


def test_the_api_and_the_page_publish_list_and_adopt(net: Network, tmp_path: Path) -> None:
    def app_of(side: Side) -> Any:
        settings = Settings(mode="test", database_url=side.db.url, file_store=side.files)
        return create_web_app(settings, db=side.db)

    entry_id = validated_method(net.a, code := unique("M-"))
    with TestClient(app_of(net.a)) as a, TestClient(app_of(net.b)) as b:
        manager_a = _bearer(a, net.a["manager"].username)
        published = a.post(
            f"/api/quality/methods/{entry_id}/publish-to-partners",
            json={"licence": "CC0-1.0"},
            headers=manager_a,
        )
        assert published.status_code == 200, published.text
        assert published.json()["sent_to"] == [net.b.home]
        bad = a.post(
            f"/api/quality/methods/{entry_id}/publish-to-partners", json={"licence": "<b>"}, headers=manager_a
        )
        assert bad.status_code == 422
        (message,) = [m for m in net.a.outbox(partner=net.b.home) if f"/{code}@" in m.stream]
        deliver(message, net.b)

        analyst = _bearer(b, net.b["analyst"].username)
        listed = b.get("/api/federation/shared?kind=method", headers=analyst)
        assert listed.status_code == 200
        (item,) = [i for i in listed.json()["items"] if i["origin_ref"] == f"{net.a.lab}/{code}"]
        assert item["licence"] == "CC0-1.0" and item["partner_code"] == net.a.home
        one = b.get(f"/api/federation/shared/{item['id']}", headers=analyst)
        assert one.json()["content"]["method_id"] == code
        officer = _bearer(b, net.b["officer"].username)
        assert b.get("/api/federation/shared", headers=officer).status_code == 403
        assert b.get("/api/federation/shared/2147483647", headers=analyst).status_code == 404

        # The manager's page shows the copy with its provenance and adopts it.
        _sign_in(b, net.b["manager"].username)
        page = b.get("/shared-knowledge?kind=method")
        assert page.status_code == 200 and "Shared knowledge" in page.text
        assert f"{net.a.lab}" in page.text and "CC0-1.0" in page.text
        assert f'action="/shared-knowledge/{item["id"]}/adopt"' in page.text
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        adopted = b.post(
            f"/shared-knowledge/{item['id']}/adopt", data={"csrf_token": token}, follow_redirects=False
        )
        assert adopted.status_code == 303
        again = b.post(
            f"/api/federation/shared/{item['id']}/adopt", headers=_bearer(b, net.b["manager"].username)
        )
        assert again.status_code == 409
        quality = b.get("/quality")
        assert f"partner {net.a.home}" in quality.text


def _bearer(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _sign_in(client: TestClient, username: str) -> None:
    login = client.get("/login").text
    token = login.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
