"""Who reaches which record through the portal, and that the two sites stay apart.

Each case asserts the exact status, that the other patient's name is nowhere in the answer,
and what the audit trail recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from careline.patients.models import Patient
from careline.platform.models import AuditEvent, User
from careline.platform.permissions import Role
from careline.portal.models import PortalLink, Relationship
from careline.portal.tests.conftest import NOW, client_for
from careline.testing.factories import EncounterFactory, UserFactory

pytestmark = pytest.mark.django_db


def _home(patient: Patient) -> str:
    return reverse("portal:patient_home", args=[patient.public_id])


def test_own_record_opens_and_the_read_is_audited_as_the_account(
    ada: Patient, make_account: Callable[..., User], make_link: Callable[..., PortalLink]
) -> None:
    account = make_account("ada@example.org")
    link = make_link(account, ada)

    response = client_for(account).get(_home(ada))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Ada Lovelace" in page
    assert "March 14, 1951" in page
    assert "ada@example.org" in page
    [read] = AuditEvent.objects.filter(action="read")
    assert (read.actor, read.actor_role, read.channel, read.purpose, read.patient_id) == (
        account,
        "portal",
        "portal",
        "PATRQT",
        ada.public_id,
    )
    assert read.details == {"relationship": "self", "link": str(link.public_id)}


def test_another_patients_record_is_not_found_and_nothing_of_hers_shows(
    ada: Patient,
    grace: Patient,
    make_account: Callable[..., User],
    make_link: Callable[..., PortalLink],
) -> None:
    account = make_account("ada@example.org")
    make_link(account, ada)

    response = client_for(account).get(_home(grace))

    assert response.status_code == 404
    assert "Grace" not in response.content.decode()
    assert "Hopper" not in response.content.decode()
    [refusal] = AuditEvent.objects.exclude(action="login")
    assert (refusal.action, refusal.outcome, refusal.patient_id, refusal.details) == (
        "access_denied",
        "denied",
        grace.public_id,
        {"reason": "not_found"},
    )


def test_a_missing_patient_gets_the_same_answer_as_someone_elses(
    ada: Patient,
    grace: Patient,
    make_account: Callable[..., User],
    make_link: Callable[..., PortalLink],
) -> None:
    account = make_account("ada@example.org")
    make_link(account, ada)
    client = client_for(account)

    missing = client.get(
        reverse("portal:patient_home", args=["00000000-0000-4000-8000-000000000000"])
    )
    other = client.get(_home(grace))

    assert (missing.status_code, other.status_code) == (404, 404)
    message = "There is no record here that you can see."
    assert message in missing.content.decode()
    assert message in other.content.decode()


def test_a_proxy_with_a_grant_sees_the_patient_and_her_appointments(
    ada: Patient, make_account: Callable[..., User], make_link: Callable[..., PortalLink]
) -> None:
    son = make_account("byron@example.org")
    make_link(son, ada, Relationship.PROXY, expires_at=NOW + dt.timedelta(days=30))
    EncounterFactory.create(
        patient=ada, effective_at=NOW + dt.timedelta(days=3), display="Annual check-up"
    )

    with time_machine.travel(NOW, tick=False):
        response = client_for(son).get(_home(ada))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Ada Lovelace's record" in page
    assert "You are acting as a proxy (caregiver) for: appointments." in page
    assert "Annual check-up" in page
    assert "Manage who can act for you" not in page  # only the patient manages her proxies
    [read] = AuditEvent.objects.filter(action="read")
    assert (read.actor, read.patient_id, read.details["relationship"]) == (
        son,
        ada.public_id,
        "proxy",
    )


def test_a_proxy_without_the_appointments_scope_does_not_see_appointments(
    ada: Patient, make_account: Callable[..., User], make_link: Callable[..., PortalLink]
) -> None:
    son = make_account("byron@example.org")
    make_link(son, ada, Relationship.PROXY, scopes=["messages"])
    EncounterFactory.create(
        patient=ada, effective_at=NOW + dt.timedelta(days=3), display="Annual check-up"
    )

    with time_machine.travel(NOW, tick=False):
        response = client_for(son).get(_home(ada))

    assert response.status_code == 200
    assert "Annual check-up" not in response.content.decode()
    assert "Appointments" not in response.content.decode()


@pytest.mark.parametrize("ended", ["expired", "revoked"])
def test_a_proxy_whose_grant_ended_gets_not_found(
    ended: str,
    ada: Patient,
    make_account: Callable[..., User],
    make_link: Callable[..., PortalLink],
) -> None:
    son = make_account("byron@example.org")
    if ended == "expired":
        make_link(son, ada, Relationship.PROXY, expires_at=NOW - dt.timedelta(seconds=1))
    else:
        make_link(son, ada, Relationship.PROXY, revoked_at=NOW - dt.timedelta(days=1))

    with time_machine.travel(NOW, tick=False):
        response = client_for(son).get(_home(ada))
        home = client_for(son).get(reverse("portal:home"))

    assert response.status_code == 404
    assert "Lovelace" not in response.content.decode()
    assert AuditEvent.objects.filter(action="read").count() == 0
    assert AuditEvent.objects.filter(action="access_denied", patient_id=ada.public_id).count() == 1
    assert (home.status_code, home["Location"]) == (302, reverse("portal:link"))


def test_an_unlinked_account_is_sent_to_link_a_record_and_reads_nobody(
    ada: Patient, make_account: Callable[..., User]
) -> None:
    account = make_account("someone@example.org")
    client = client_for(account)

    home = client.get(reverse("portal:home"))
    record = client.get(_home(ada))

    assert (home.status_code, home["Location"]) == (302, reverse("portal:link"))
    assert record.status_code == 404
    assert "Lovelace" not in record.content.decode()


def test_an_anonymous_visitor_is_sent_to_the_portal_sign_in(ada: Patient) -> None:
    response = Client().get(_home(ada))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:login')}?next={_home(ada)}"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("page", ["portal:home", "portal:link", "portal:security", "record"])
def test_a_staff_account_cannot_use_the_portal(page: str, ada: Patient, settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False  # as if signed in with the second factor
    scheduler = UserFactory.create(role=Role.SCHEDULER)
    url = _home(ada) if page == "record" else reverse(page)

    response = client_for(scheduler).get(url)

    assert response.status_code == 403
    assert "Staff accounts cannot use it" in response.content.decode()
    assert "Lovelace" not in response.content.decode()
    [refusal] = AuditEvent.objects.exclude(action="login")
    assert (refusal.actor, refusal.action, refusal.channel, refusal.details) == (
        scheduler,
        "access_denied",
        "portal",
        {"reason": "portal_only"},
    )


@pytest.mark.parametrize(
    "page",
    ["/", "/patients/", "record", "/audit/", "/audit/break-glass/", "portal-card", "clinical"],
)
def test_a_portal_account_cannot_open_staff_pages(
    page: str, ada: Patient, make_account: Callable[..., User], make_link: Callable[..., PortalLink]
) -> None:
    account = make_account("ada@example.org")
    make_link(account, ada)
    url = {
        "record": reverse("patients:detail", args=[ada.public_id]),
        "portal-card": reverse("portal_access:patient_card", args=[ada.public_id]),
        "clinical": reverse("clinical:patient_summary", args=[ada.public_id]),
    }.get(page, page)

    response = client_for(account).get(url)

    assert response.status_code == 403
    assert "This is the staff site" in response.content.decode()
    assert "Lovelace" not in response.content.decode()
    [refusal] = AuditEvent.objects.exclude(action="login")
    assert (refusal.actor, refusal.action, refusal.channel, refusal.details) == (
        account,
        "access_denied",
        "ui",
        {"reason": "staff_only"},
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_portal_session_cannot_use_the_staff_api(
    method: str,
    ada: Patient,
    make_account: Callable[..., User],
    make_link: Callable[..., PortalLink],
) -> None:
    account = make_account("ada@example.org")
    make_link(account, ada)
    client = client_for(account)

    if method == "get":
        response = client.get(f"/api/patients/{ada.public_id}")
    else:
        response = client.post(
            "/api/patients/search", {"q": "lovelace"}, content_type="application/json"
        )

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "staff_only",
            "message": "This is the staff API. A patient-portal account cannot use it.",
            "details": None,
        }
    }
    [refusal] = AuditEvent.objects.exclude(action="login")
    assert (refusal.actor, refusal.channel, refusal.details) == (
        account,
        "api",
        {"reason": "staff_only"},
    )


def test_a_portal_account_signs_in_on_the_portal_not_on_the_staff_site(
    ada: Patient, make_account: Callable[..., User]
) -> None:
    account = make_account("ada@example.org")

    staff_site = Client().post(
        reverse("account_login"),
        {"login": account.username, "password": "correct horse battery staple"},
    )
    portal = Client().post(
        reverse("portal:login"),
        {"email": "ada@example.org", "password": "correct horse battery staple"},
    )

    assert staff_site.status_code == 200
    assert "not correct" in staff_site.content.decode()
    assert (portal.status_code, portal["Location"]) == (302, reverse("portal:home"))
    failed = AuditEvent.objects.get(action="login_failed")
    assert (failed.actor_label, failed.outcome) == (account.username, "denied")


def test_a_staff_account_cannot_sign_in_on_the_portal(db: None) -> None:
    scheduler = UserFactory.create(role=Role.SCHEDULER, email="dana@clinic.example")

    response = Client().post(
        reverse("portal:login"),
        {"email": "dana@clinic.example", "password": "correct horse battery staple"},
    )

    assert response.status_code == 422
    assert "The email address or the password is not right." in response.content.decode()
    assert not AuditEvent.objects.filter(action="login").exists()
    assert AuditEvent.objects.filter(action="login_failed").count() == 1
    assert scheduler.is_staff_account
