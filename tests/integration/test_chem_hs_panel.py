"""A CAS → HS proposal reaches the HS evaluation as evidence: a real spectrum, identified against the
default reference library, recorded as the test's identity result; the page, its JSON and the API show
the proposed code against the declared one, and nothing changes the opinion or the verdict."""

from __future__ import annotations

import io
import re
from typing import Any

from fastapi.testclient import TestClient

from customslab.domain.enums import ResultKind
from customslab.services import analysis, classification, identification
from customslab.services.analysis import ResultCreate, ReviewDecision
from customslab.services.cases import SampleCreate
from customslab.services.classification import OpinionCreate
from customslab.services.identification import IdentifyRequest
from tests.conftest import shared_data_dir
from tests.factories import Network, assigned_test, received_sample
from tests.integration import test_pages as pages
from tests.integration.conftest import signed_in
from tests.integration.test_pages import sign_in

#: GC-EI-TOF spectrum of caffeine (MassBank, Kazusa DNA Research Institute; CC BY), CAS 58-08-2.
CAFFEINE = "spectra/massbank-ei/MSBNK-Kazusa-KZ000113.txt"
#: ATR-FTIR spectrum of a PET film (MPX, Lenz et al. 2023; CC BY-SA 4.0): a polymer hit has no CAS.
PET = "spectra/mpx-polymers/spectra/LCG_06-PET_nobio_ATR_549d68a0.csv"
HEADING = "Proposed from identification — evidence, not applied"
REASONING = "A food preparation of heading 21.06 by its label; caffeine content to be measured."


# The pages' fixtures with the reference library (identification searches it).
app, client, net = pages.app, pages.client, pages.net


def identified_sample(app: Any, net: Network, spectrum: str, declared: str) -> tuple[int, int]:
    """A sample declared `declared` whose identity test holds the spectrum, identified against the
    default library and recorded as the identity result (the best hit). Returns (sample id, test id)."""
    uow = app.state.uow_factory
    sample = received_sample(uow, net, "central", SampleCreate(quantity="5", unit="g"), declared_hs=declared)
    test = assigned_test(uow, net, sample.id, determination="Identity (spectral library)", method_ref="ID-1")
    path = shared_data_dir() / spectrum
    attached = analysis.attach_file(
        uow(),
        net["analyst"],
        test.id,
        filename=path.name,
        media_type="text/plain",
        stream=io.BytesIO(path.read_bytes()),
        max_bytes=5_000_000,
    )
    found = identification.identify_attachment(
        uow(),
        net["analyst"],
        app.state.libraries,
        test.id,
        IdentifyRequest(attachment_sha256=attached.sha256, keep=True, top=5),
    )
    cmd = ResultCreate(kind=ResultKind.IDENTITY, identification_id=found.identification_id)
    analysis.enter_result(uow(), net["analyst"], test.id, cmd)
    return sample.id, test.id


def test_an_identified_chemical_proposes_its_hs_code_on_the_page_in_its_json_and_in_the_api(
    client: TestClient, app: Any, net: Network
) -> None:
    sample_id, test_id = identified_sample(app, net, CAFFEINE, declared="2106.90")
    sign_in(client, net, "analyst")
    page = client.get(f"/samples/{sample_id}/hs")
    assert page.status_code == 200
    section = page.text[page.text.index(HEADING) :]
    assert "Caffeine" in section and "58-08-2" in section and "found by CAS number" in section
    assert 'data-code="293930"' in section and "2939.30" in section
    # Declared 2106.90 (a food preparation): the proposal is of another chapter, and the page says so.
    assert 'data-mismatch="chapter"' in section and "another chapter than declared" in section
    assert 'href="?rule=guarded&amp;use=293930#opinions"' in section

    as_json = client.get(f"/samples/{sample_id}/hs", headers={"Accept": "application/json"}).json()
    api = client.get(
        f"/api/samples/{sample_id}/hs-evaluation", headers=signed_in(client, net, "analyst")
    ).json()
    for body in (as_json, api):
        (proposal,) = body["proposals"]
        assert proposal["substance"] == "Caffeine" and proposal["cas"] == "58-08-2"
        assert (
            proposal["hit_cas"] == "58-08-2" and proposal["matched_by"] == "cas" and proposal["names_agree"]
        )
        assert proposal["codes"] == [
            {
                "code": "293930",
                "dotted": "2939.30",
                "description": "Alkaloids; caffeine and its salts",
                "mismatch": "chapter",
            }
        ]
        assert "HS 2022 checked" in proposal["source"] and proposal["table"] == "cas_hs.csv"
        assert proposal["test_id"] == test_id and proposal["determination"] == "Identity (spectral library)"
        assert proposal["identified_as"].casefold() == "caffeine"


def test_a_proposal_changes_neither_the_opinion_nor_the_verdict_until_the_analyst_copies_it(
    client: TestClient, app: Any, net: Network
) -> None:
    uow = app.state.uow_factory
    sample_id, _ = identified_sample(app, net, CAFFEINE, declared="2106.90")
    opinion = classification.write_opinion(
        uow(), net["analyst"], sample_id, OpinionCreate(determined_code="2106.90", reasoning=REASONING)
    )
    with_table = classification.evaluate_sample(uow(), net["analyst"], sample_id, chem_hs=app.state.chem_hs)
    without = classification.evaluate_sample(uow(), net["analyst"], sample_id)
    assert with_table.proposals and not without.proposals
    # The rules' verdict and the opinions are the same with and without the proposal.
    assert with_table.model_dump(exclude={"proposals"}) == without.model_dump(exclude={"proposals"})
    assert [(o.id, o.determined_code, o.state) for o in with_table.opinions] == [
        (opinion.id, "210690", "draft")
    ]

    sign_in(client, net, "analyst")
    shown = client.get(f"/samples/{sample_id}/hs").text
    assert re.search(r'id="determined_code" name="determined_code" required value=""', shown)
    # The analyst's choice fills the form's code, and only the code; nothing is written.
    copied = client.get(f"/samples/{sample_id}/hs?rule=guarded&use=293930").text
    assert re.search(r'id="determined_code" name="determined_code" required value="293930"', copied)
    assert "<details open>" in copied
    # A code that is not proposed is not filled in from a link.
    forged = client.get(f"/samples/{sample_id}/hs?use=220300").text
    assert re.search(r'id="determined_code" name="determined_code" required value=""', forged)
    after = classification.evaluate_sample(uow(), net["analyst"], sample_id, chem_hs=app.state.chem_hs)
    assert [(o.id, o.determined_code) for o in after.opinions] == [(opinion.id, "210690")]
    assert after.model_dump() == with_table.model_dump()


def test_a_polymer_identified_by_its_label_proposes_the_subheadings_its_identity_leaves_open(
    client: TestClient, app: Any, net: Network
) -> None:
    sample_id, _ = identified_sample(app, net, PET, declared="3907.61")
    api = client.get(f"/api/samples/{sample_id}/hs-evaluation", headers=signed_in(client, net, "analyst"))
    (proposal,) = api.json()["proposals"]
    assert proposal["substance"] == "Poly(ethylene terephthalate)" and proposal["matched_by"] == "name"
    assert proposal["hit_cas"] == ""
    assert [(c["dotted"], c["mismatch"]) for c in proposal["codes"]] == [
        ("3907.61", "none"),
        ("3907.69", "subheading"),
    ]
    assert "3915" in proposal["notes"]
    sign_in(client, net, "analyst")
    section = client.get(f"/samples/{sample_id}/hs").text.split(HEADING, 1)[1]
    assert "same subheading as declared" in section and "same heading, another subheading" in section
    assert "The substance alone does not choose between these codes." in section


def test_the_officer_sees_a_proposal_once_the_result_is_approved_and_another_laboratory_never(
    client: TestClient, app: Any, net: Network
) -> None:
    uow = app.state.uow_factory
    sample_id, test_id = identified_sample(app, net, CAFFEINE, declared="2106.90")
    officer = signed_in(client, net, "officer")
    before = client.get(f"/api/samples/{sample_id}/hs-evaluation", headers=officer)
    assert before.status_code == 200 and before.json()["proposals"] == []
    analysis.submit_test(uow(), net["analyst"], test_id)
    analysis.review_test(uow(), net["reviewer"], test_id, ReviewDecision(approve=True))
    after = client.get(f"/api/samples/{sample_id}/hs-evaluation", headers=officer).json()
    assert [p["substance"] for p in after["proposals"]] == ["Caffeine"]
    outsider = client.get(
        f"/api/samples/{sample_id}/hs-evaluation", headers=signed_in(client, net, "outsider")
    )
    assert outsider.status_code == 404 and "proposals" not in outsider.text
    # The officer reads the proposal but is offered no opinion form to copy it into.
    sign_in(client, net, "officer")
    page = client.get(f"/samples/{sample_id}/hs").text
    assert HEADING in page and "use=293930" not in page
