"""Every role lands on the work it can do, and sees only links it may follow."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.platform.models import AuditEvent, User
from careline.platform.permissions import Role
from careline.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

EXPECTED_LANDING = {
    Role.ADMIN: reverse("patients:search"),
    Role.SCHEDULER: reverse("patients:search"),
    Role.SCHEDULING_LEAD: reverse("patients:search"),
    Role.CONTACT_CENTER_AGENT: reverse("patients:search"),
    Role.NURSE: reverse("patients:search"),
    Role.CARE_MANAGER: reverse("patients:search"),
    Role.MARKETER: "/",
    Role.LIAISON: "/",
    Role.EXECUTIVE: reverse("scheduling:metrics"),
    Role.COMPLIANCE: reverse("platform:audit_log"),
    Role.INTEGRATION: reverse("patients:search"),
}


def nav_links(html: str) -> list[str]:
    nav = html.split('<nav class="topnav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


def main_links(html: str) -> list[str]:
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return re.findall(r'href="([^"]+)"', main)


def test_every_role_is_in_the_table() -> None:
    assert set(EXPECTED_LANDING) == set(Role)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_lands_on_a_page_it_may_open_and_every_link_there_opens(
    client: Client, sign_in: Callable[..., User], role: Role
) -> None:
    sign_in(role)

    landing = client.get("/", follow=True)

    assert landing.status_code == 200
    assert landing.request["PATH_INFO"] == EXPECTED_LANDING[role]
    html = landing.content.decode()
    links = nav_links(html) + (main_links(html) if EXPECTED_LANDING[role] == "/" else [])
    for link in links:
        assert client.get(link).status_code == 200, link
    assert not AuditEvent.objects.filter(action="access_denied").exists()


def test_signing_in_leads_to_the_start_page(
    client: Client, make_user: Callable[..., User], settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    make_user(Role.COMPLIANCE, username="olga")

    response = client.post(
        reverse("account_login"), {"login": "olga", "password": TEST_PASSWORD}, follow=True
    )

    assert [url for url, _ in response.redirect_chain] == ["/", reverse("platform:audit_log")]
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (
            Role.SCHEDULER,
            [
                "/patients/",
                "/directory/locations/",
                "/schedule/",
                "/schedule/day/",
                "/waitlist/",
                "/schedule/flagged/",
                "/messaging/outbox/",
            ],
        ),
        (Role.COMPLIANCE, ["/audit/", "/audit/break-glass/"]),
        (
            Role.ADMIN,
            [
                "/patients/",
                "/directory/locations/",
                "/schedule/",
                "/schedule/day/",
                "/waitlist/",
                "/schedule/flagged/",
                "/schedule/setup/",
                "/schedule/metrics/",
                "/messaging/outbox/",
                "/imports/",
                "/audit/",
                "/audit/break-glass/",
            ],
        ),
        (Role.INTEGRATION, ["/patients/", "/imports/"]),
        (Role.MARKETER, ["/directory/locations/"]),
        (Role.EXECUTIVE, ["/directory/locations/", "/schedule/metrics/"]),
    ],
)
def test_navigation_shows_only_what_the_role_may_open(
    client: Client, sign_in: Callable[..., User], role: Role, links: list[str]
) -> None:
    sign_in(role)

    assert nav_links(client.get("/", follow=True).content.decode()) == links


def test_a_role_without_a_workspace_yet_is_told_what_it_can_do(
    client: Client, sign_in: Callable[..., User]
) -> None:
    sign_in(Role.MARKETER, first_name="Mara", last_name="Quill")

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Welcome, Mara Quill" in html
    assert "You are signed in as <strong>Marketer</strong>." in html
    assert "Segments, multi-step campaigns" in html
    # A shared tool (finding a location) is offered here, but is no role's start page.
    assert main_links(html) == [
        reverse("directory:nearest"),
        reverse("mfa_index"),
        reverse("account_change_password"),
    ]
    assert "the locations and providers nearest to an address, ZIP or coordinates" in html


def test_the_403_page_offers_the_start_page_not_another_403(
    client: Client, sign_in: Callable[..., User]
) -> None:
    sign_in(Role.MARKETER)

    response = client.get(reverse("patients:search"))

    assert response.status_code == 403
    html = response.content.decode()
    assert main_links(html) == ["/"]
    assert "Go to your start page" in html
