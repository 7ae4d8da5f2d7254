"""Notifications through the JSON API and the pages: each user reads and marks only their own."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import PASSWORD, Network, assigned_test, received_sample
from tests.integration.conftest import signed_in

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def an_assigned_test(app: Any, net: Network) -> int:
    """The central analyst's new test (and so their notification): the sample id."""
    sample = received_sample(app.state.uow_factory, net, "central")
    assigned_test(app.state.uow_factory, net, sample.id, determination="alcoholic strength", method_ref="M-1")
    return sample.id


def sign_in(client: TestClient, net: Network, who: str) -> str:
    """Signed in through the sign-in page: the page's CSRF token."""
    token = TOKEN.search(client.get("/login").text)
    assert token
    form = {"username": net[who].username, "password": PASSWORD, "csrf_token": token[1], "next": "/"}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    page_token = TOKEN.search(client.get("/notifications").text)
    assert page_token
    return page_token[1]


# -- the API -------------------------------------------------------------------------------------------
def test_the_api_lists_my_notifications_unread_first_and_marks_them_read(
    client: TestClient, app: Any, net: Network
) -> None:
    an_assigned_test(app, net)
    an_assigned_test(app, net)
    analyst = signed_in(client, net, "analyst")

    listed = client.get("/api/notifications", headers=analyst).json()
    assert (listed["total"], listed["unread"]) == (2, 2)
    older = min(n["id"] for n in listed["items"])
    read = client.post(f"/api/notifications/{older}/read", headers=analyst)
    assert read.status_code == 200 and read.json()["read_at"] is not None

    after = client.get("/api/notifications", headers=analyst).json()
    assert [n["read_at"] is None for n in after["items"]] == [True, False] and after["unread"] == 1
    assert client.get("/api/notifications?unread_only=true", headers=analyst).json()["total"] == 1
    everything = client.post("/api/notifications/read-all", headers=analyst).json()
    assert everything == {"marked": 1, "unread": 0}


def test_a_user_can_neither_see_nor_mark_another_users_notification(
    client: TestClient, app: Any, net: Network
) -> None:
    an_assigned_test(app, net)
    analyst, manager = signed_in(client, net, "analyst"), signed_in(client, net, "central_manager")
    (theirs,) = client.get("/api/notifications", headers=analyst).json()["items"]

    assert client.get("/api/notifications", headers=manager).json()["total"] == 0
    refused = client.post(f"/api/notifications/{theirs['id']}/read", headers=manager)
    assert refused.status_code == 404 and "was not found" in refused.json()["error"]
    assert client.post("/api/notifications/read-all", headers=manager).json()["marked"] == 0
    (still,) = client.get("/api/notifications", headers=analyst).json()["items"]
    assert still["read_at"] is None
    assert client.get("/api/notifications").status_code == 401


# -- the pages ------------------------------------------------------------------------------------------
def test_the_bell_counts_my_unread_notifications_and_the_page_lists_them_in_my_language(
    client: TestClient, app: Any, net: Network
) -> None:
    sample_id = an_assigned_test(app, net)
    token = sign_in(client, net, "analyst")
    page = client.get("/notifications").text
    assert re.search(r'id="bell"[^>]*>Notifications <span class="count">1<', page)
    assert "Test assigned to you" in page and "A test on sample " in page
    (opening,) = re.findall(r'<form method="post" action="(/notifications/\d+/open)"', page)

    opened = client.post(opening, data={"csrf_token": token}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/samples/{sample_id}"
    assert 'class="count"' not in client.get("/my-work").text


def test_a_link_from_another_site_cannot_mark_a_notification_read(
    client: TestClient, app: Any, net: Network
) -> None:
    an_assigned_test(app, net)
    sign_in(client, net, "analyst")
    (opening,) = re.findall(r'action="(/notifications/\d+/open)"', client.get("/notifications").text)

    # A GET (an image or a link on another site) changes nothing, and a post needs the form's token.
    assert client.get(opening, follow_redirects=False).status_code == 405
    assert client.post(opening, data={}, follow_redirects=False).status_code in (400, 403)
    assert re.search(r'id="bell"[^>]*>Notifications <span class="count">1<', client.get("/my-work").text)


def test_marking_read_by_htmx_swaps_the_list_and_the_bell_and_another_user_is_refused(
    client: TestClient, app: Any, net: Network
) -> None:
    an_assigned_test(app, net)
    token = sign_in(client, net, "analyst")
    (notice_id,) = re.findall(r'action="/notifications/(\d+)/read"', client.get("/notifications").text)
    htmx = {"HX-Request": "true", "X-CSRF-Token": token}

    swapped = client.post(f"/notifications/{notice_id}/read", headers=htmx)
    assert swapped.status_code == 200
    assert 'id="notification-list"' in swapped.text and 'hx-swap-oob="true"' in swapped.text
    assert 'class="count"' not in swapped.text and "Mark as read" not in swapped.text

    with TestClient(app) as other:
        other_token = sign_in(other, net, "reviewer")
        form = {"csrf_token": other_token}
        refused = other.post(f"/notifications/{notice_id}/open", data=form, follow_redirects=False)
        assert refused.status_code == 404
        assert (
            other.post(f"/notifications/{notice_id}/read", data=form, follow_redirects=False).status_code
            == 404
        )


def test_mark_all_read_without_htmx_comes_back_to_the_page(
    client: TestClient, app: Any, net: Network
) -> None:
    an_assigned_test(app, net)
    token = sign_in(client, net, "analyst")
    done = client.post("/notifications/read-all", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/notifications"
    assert "1 marked as read." in client.get("/notifications").text
    forged = client.post("/notifications/read-all", data={}, follow_redirects=False)
    assert forged.status_code in (400, 403)
