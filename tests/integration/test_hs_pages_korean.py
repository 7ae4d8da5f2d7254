"""The HS pages in Korean: a sample's evaluation explains the rules in Korean, the API gives the same on
?lang=ko, and the nomenclature browser says its descriptions are the English text of HS 2022."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from customslab.services import analysis
from customslab.services.analysis import ResultCreate, TestCreate
from tests.factories import ETHANOL, Network, received_sample
from tests.integration.conftest import signed_in
from tests.integration.test_pages import post, sign_in

#: The Korean branch of ch22-ethyl-alcohol-80 that ethyl alcohol declared 2207.10 takes at 40.1 % vol,
#: and its English.
KOREAN_REASON = "80 % vol 미만이므로 제2207.10호가 아닌 제2208.90호의 변성하지 않은 에틸알코올이다."
ENGLISH_REASON = "Less than 80 % vol, so undenatured ethyl alcohol of 2208.90, not 2207.10."


def a_measured_ethanol(app: Any, net: Network, strength: str = "40.1", u: str = "0.2") -> int:
    """The central laboratory's sample of ethyl alcohol declared 2207.10 (the goods the 80 % vol rule
    reads; a rum stays in 22.08) with its alcoholic strength entered (40.1 % vol ± 0.2)."""
    uow = app.state.uow_factory
    sample = received_sample(uow, net, **ETHANOL)
    test = analysis.add_test(
        uow(), net["analyst"], sample.id, TestCreate(determination="Alcohol", method_ref="M")
    )
    assert test.id is not None
    analysis.enter_result(
        uow(),
        net["analyst"],
        test.id,
        ResultCreate(
            name="alcohol_strength",
            value=Decimal(strength),
            unit="%vol",
            expanded_uncertainty=Decimal(u),
            coverage_factor=Decimal("2"),
        ),
    )
    return sample.id


def _without_related_knowledge(page: str) -> str:
    start = page.find('id="related-knowledge"')
    if start < 0:
        return page
    return page[:start] + page[page.index("</section>", start) :]


def test_the_hs_evaluation_of_ethyl_alcohol_explains_the_rules_in_korean(
    client: TestClient, app: Any, net: Network
) -> None:
    sample_id = a_measured_ethanol(app, net)
    sign_in(client, net, "analyst")
    english = client.get(f"/samples/{sample_id}/hs").text
    assert ENGLISH_REASON in english and KOREAN_REASON not in english
    post(client, "/language", {"lang": "ko", "next": "/"})
    page = client.get(f"/samples/{sample_id}/hs")
    assert page.status_code == 200 and '<html lang="ko">' in page.text
    assert KOREAN_REASON in page.text and ENGLISH_REASON not in page.text
    # The rule's title, its legal text, its source and the decision rule, all in Korean.
    assert "변성하지 않은 에틸알코올" in page.text
    assert "80 % vol 한도는 변성하지 않은 에틸알코올만을 구분한다" in page.text
    assert "신고 2207.10 ≠ 판정 소호 제2208.90호 (호 단위에서 다름)." in page.text
    assert "HS 2022 제2207호 및 제2208호(호의 용어)" in page.text
    assert "보호대역 적용 판정(ILAC-G8:09/2019 4.2.2" in page.text
    # Documents and precedents are the laboratories' own writing, in the language they were written in
    # (other tests of the session approve English opinions on ethyl alcohol): the rules' text is not.
    rules = _without_related_knowledge(page.text)
    assert "Guarded acceptance" not in rules and "Undenatured ethyl alcohol" not in rules


def test_an_undecided_evaluation_names_the_open_codes_as_not_told_apart_never_as_decided(
    client: TestClient, app: Any, net: Network
) -> None:
    # 79.9 % vol ± 0.5 straddles the 80 % vol limit: subheadings 2207.10 and 2208.90 stay open.
    sample_id = a_measured_ethanol(app, net, strength="79.9", u="0.5")
    sign_in(client, net, "analyst")
    page = client.get(f"/samples/{sample_id}/hs").text
    assert "Codes the results cannot tell apart:" in page
    assert "Decided by the rules" not in page
    post(client, "/language", {"lang": "ko", "next": "/"})
    korean = client.get(f"/samples/{sample_id}/hs").text
    assert "결과로 구분할 수 없는 코드" in korean and "규칙에 따른 판정" not in korean


def test_the_api_explains_the_rules_in_korean_when_asked(client: TestClient, app: Any, net: Network) -> None:
    sample_id = a_measured_ethanol(app, net)
    headers = signed_in(client, net, "analyst")
    path = f"/api/samples/{sample_id}/hs-evaluation"
    korean = client.get(path, params={"lang": "ko"}, headers=headers).json()
    english = client.get(path, headers=headers).json()
    assert [KOREAN_REASON] in [r["reasons"] for r in korean["rules"]]
    assert [ENGLISH_REASON] in [r["reasons"] for r in english["rules"]]
    assert korean["determined"] == english["determined"] == ["220890"]
    assert korean["message"] == "신고 2207.10 ≠ 판정 소호 제2208.90호 (호 단위에서 다름)."
    assert (
        english["message"] == "Declared 2207.10 ≠ determined subheading 2208.90 (differs at heading level)."
    )
    assert client.get(path, params={"lang": "fr"}, headers=headers).status_code == 422
    body = {"declared": "220710", "results": ["alcohol_strength=85%vol±0.3"]}
    values = client.post("/api/hs/evaluate", params={"lang": "ko"}, json=body, headers=headers).json()
    reasons = [why for r in values["rules"] for why in r["reasons"]]
    assert any(
        why.startswith("80 % vol 이상이므로 제2207.10호의 변성하지 않은 에틸알코올이다.") for why in reasons
    )
    assert values["message"] == "신고 2207.10은(는) 소호 단위에서 일치한다."


def test_the_nomenclature_browser_says_its_descriptions_are_english_to_a_korean_reader(
    client: TestClient, net: Network
) -> None:
    sign_in(client, net, "analyst")
    assert 'id="english-descriptions"' not in client.get("/hs").text
    post(client, "/language", {"lang": "ko", "next": "/hs"})
    page = client.get("/hs")
    assert page.status_code == 200 and '<html lang="ko">' in page.text
    assert 'id="english-descriptions"' in page.text
    # The descriptions themselves stay the official English text: there is no Korean nomenclature.
    assert "spirits, liqueurs and other spirituous beverages" in client.get("/hs?code=2208").text
