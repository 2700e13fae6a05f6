"""Authentication: bearer tokens, the staff session (CSRF on writes, MFA when required)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from careline.api.tests.helpers import ApiCaller, error_of
from careline.patients.models import Consent, Patient
from careline.platform.authorization import ANONYMOUS_REFUSALS
from careline.platform.models import ApiToken, AuditEvent

CONSENT = {"purpose": "sms", "status": "active"}


def consent_url(patient: Patient) -> str:
    return f"/api/patients/{patient.public_id}/consents"


def session_client(caller: ApiCaller, *, enforce_csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(caller.user)
    return client


def csrf_token(client: Client) -> str:
    """The CSRF cookie the docs page sets, as the staff UI would read it."""
    assert client.get("/api/docs").status_code == 200
    token: str = client.cookies["csrftoken"].value
    return token


def test_token_authenticates_and_sets_the_acting_user(
    api_client: Client, scheduler: ApiCaller, patient: Patient
) -> None:
    response = api_client.get(f"/api/patients/{patient.public_id}", headers=scheduler.headers)

    assert response.status_code == 200
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event is not None
    assert (event.actor_id, event.actor_label, event.channel) == (
        scheduler.user.pk,
        scheduler.user.username,
        "api",
    )
    assert ApiToken.objects.get(user=scheduler.user).last_used_at is not None


def test_only_the_hash_of_a_token_is_stored(scheduler: ApiCaller) -> None:
    stored = ApiToken.objects.get(user=scheduler.user)

    assert scheduler.token not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert len(stored.key_hash) == 64


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer cl_", "Token abc", "bearer  cl_x", "Bearer " + "cl_" * 200],
)
def test_malformed_authorization_headers_get_401(
    api_client: Client, patient: Patient, header: str
) -> None:
    response = api_client.get(
        f"/api/patients/{patient.public_id}", headers={"Authorization": header}
    )

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.usefixtures("no_mfa_required")
def test_session_reads_without_a_csrf_token(scheduler: ApiCaller, patient: Patient) -> None:
    client = session_client(scheduler, enforce_csrf_checks=True)

    response = client.get(f"/api/patients/{patient.public_id}")

    assert response.status_code == 200
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event is not None and event.actor_id == scheduler.user.pk


@pytest.mark.usefixtures("no_mfa_required")
def test_session_write_without_csrf_token_is_refused(
    scheduler: ApiCaller, patient: Patient
) -> None:
    client = session_client(scheduler, enforce_csrf_checks=True)
    events_before = AuditEvent.objects.count()

    response = client.post(consent_url(patient), CONSENT, content_type="application/json")

    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
    assert not Consent.objects.exists()
    assert refusals_since(events_before) == [
        (scheduler.user.pk, "Session", {"reason": "csrf_failed"})
    ]


@pytest.mark.usefixtures("no_mfa_required")
def test_session_write_with_csrf_token_succeeds(scheduler: ApiCaller, patient: Patient) -> None:
    client = session_client(scheduler, enforce_csrf_checks=True)
    token = csrf_token(client)

    response = client.post(
        consent_url(patient),
        CONSENT,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 201
    assert Consent.objects.get().recorded_by == scheduler.user


def test_token_writes_need_no_csrf_token(scheduler: ApiCaller, patient: Patient) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        consent_url(patient), CONSENT, content_type="application/json", headers=scheduler.headers
    )

    assert response.status_code == 201


def test_anonymous_write_is_401_not_a_csrf_failure_counted_not_audited(
    patient: Patient, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(enforce_csrf_checks=True)
    counted, events_before = ANONYMOUS_REFUSALS["api"], AuditEvent.objects.count()

    with caplog.at_level(logging.INFO, logger="careline.access"):
        response = client.post(consent_url(patient), CONSENT, content_type="application/json")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert ANONYMOUS_REFUSALS["api"] == counted + 1
    assert AuditEvent.objects.count() == events_before
    assert [r.getMessage() for r in caplog.records if r.name == "careline.access"] == [
        "Refused an unauthenticated api request: POST /api/patients/<uuidstr:patient_id>/consents"
    ]


def refusals_since(count: int) -> list[tuple[int | None, str, dict[str, str]]]:
    """(actor, resource type, details) of the audit entries after the first ``count``."""
    events = AuditEvent.objects.order_by("sequence")[count:]
    assert {(event.action, event.outcome, event.channel) for event in events} <= {
        ("access_denied", "denied", "api")
    }
    return [(event.actor_id, event.resource_type, event.details) for event in events]


@pytest.mark.usefixtures("no_mfa_required")
def test_a_bad_token_is_refused_even_beside_a_good_session(
    scheduler: ApiCaller, patient: Patient
) -> None:
    client = session_client(scheduler)

    response = client.get(
        f"/api/patients/{patient.public_id}", headers={"Authorization": "Bearer cl_nope"}
    )

    assert response.status_code == 401


def test_with_mfa_required_a_session_without_mfa_is_refused_but_a_token_works(
    settings: Any, scheduler: ApiCaller, patient: Patient
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = True
    url = f"/api/patients/{patient.public_id}"
    client = session_client(scheduler)
    events_before = AuditEvent.objects.count()

    by_session = client.get(url)

    assert by_session.status_code == 403
    assert error_of(by_session)["code"] == "mfa_required"
    assert refusals_since(events_before) == [
        (scheduler.user.pk, "Session", {"reason": "mfa_required"})
    ]
    by_token = Client().get(url, headers=scheduler.headers)
    assert by_token.status_code == 200


def add_totp(caller: ApiCaller) -> None:
    Authenticator.objects.create(user=caller.user, type=Authenticator.Type.TOTP, data={})


def mark_session_passed_mfa(client: Client, caller: ApiCaller) -> None:
    """What allauth records in the session after a sign-in that used TOTP."""
    session = client.session
    session["account_authentication_methods_user"] = str(caller.user.pk)
    session["account_authentication_methods"] = [
        {"method": "password", "at": 0.0, "username": caller.user.username},
        {"method": "mfa", "at": 0.0, "id": 1, "type": "totp"},
    ]
    session.save()


def test_with_mfa_required_a_session_that_passed_totp_works(
    settings: Any, scheduler: ApiCaller, patient: Patient
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = True
    add_totp(scheduler)
    client = session_client(scheduler)
    mark_session_passed_mfa(client, scheduler)

    response = client.get(f"/api/patients/{patient.public_id}")

    assert response.status_code == 200


def test_with_mfa_required_a_password_only_session_is_refused_even_with_totp(
    settings: Any, scheduler: ApiCaller, patient: Patient
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = True
    add_totp(scheduler)
    client = session_client(scheduler)  # signed in without a TOTP code

    response = client.get(f"/api/patients/{patient.public_id}")

    assert response.status_code == 403
    assert error_of(response)["code"] == "mfa_required"


def test_recovery_codes_alone_are_not_mfa(
    settings: Any, scheduler: ApiCaller, patient: Patient
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = True
    Authenticator.objects.create(
        user=scheduler.user, type=Authenticator.Type.RECOVERY_CODES, data={}
    )
    client = session_client(scheduler)
    mark_session_passed_mfa(client, scheduler)

    response = client.get(f"/api/patients/{patient.public_id}")

    assert response.status_code == 403
