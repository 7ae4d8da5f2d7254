"""A refused form on the pages: every fault comes back at once, each naming its field; nothing is stored."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Network, received_sample
from tests.integration import test_pages as pages
from tests.integration.test_pages import post, sign_in

# The pages' fixtures: an app over the test database, a client, and a fresh network of users.
app, client, net = pages.app, pages.client, pages.net

HTMX = {"HX-Request": "true"}


def _faults(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["HX-Reswap"] == "none"
    errors: list[dict[str, Any]] = json.loads(response.headers["HX-Trigger"])["form-errors"]["errors"]
    return errors


def test_an_htmx_form_with_two_bad_fields_gets_both_errors_next_to_their_fields(
    client: TestClient, app: Any, net: Network
) -> None:
    sample = received_sample(app.state.uow_factory, net)
    sign_in(client, net, "central_manager")
    too_long = "x" * 121
    response = post(
        client, f"/samples/{sample.id}/tests", {"determination": "", "method_ref": too_long}, headers=HTMX
    )
    faults = _faults(response)
    assert {f["field"] for f in faults} == {"determination", "method_ref"}
    assert all(f["message"] for f in faults)
    page = client.get(f"/samples/{sample.id}")
    assert too_long not in page.text  # nothing was stored


def test_a_refusal_of_the_workflow_goes_to_the_form_when_it_names_no_field(
    client: TestClient, app: Any, net: Network
) -> None:
    sample = received_sample(app.state.uow_factory, net)
    sign_in(client, net, "central_manager")
    response = post(client, f"/samples/{sample.id}/archive", {}, headers=HTMX)
    faults = _faults(response)
    assert len(faults) == 1 and faults[0]["message"]


def test_korean_form_errors_travel_as_ascii_json(client: TestClient, app: Any, net: Network) -> None:
    sample = received_sample(app.state.uow_factory, net)
    sign_in(client, net, "central_manager")
    post(client, "/language", {"lang": "ko", "next": "/"})
    response = post(client, f"/samples/{sample.id}/tests", {"determination": ""}, headers=HTMX)
    assert response.headers["HX-Trigger"].isascii()
    assert _faults(response)


def test_a_form_posted_without_htmx_still_gets_the_error_page(
    client: TestClient, app: Any, net: Network
) -> None:
    sample = received_sample(app.state.uow_factory, net)
    sign_in(client, net, "central_manager")
    response = post(client, f"/samples/{sample.id}/tests", {"determination": ""})
    assert response.status_code == 422
    assert "Determination is required" in response.text
