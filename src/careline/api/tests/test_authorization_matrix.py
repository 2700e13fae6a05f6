"""Every endpoint by every kind of caller: anonymous, bad token, role without the permission,
role with it, patient outside her scope with and without break-glass.

Denied calls must change nothing: no rows, and exactly one audit entry — the refusal — for a
known caller (a token's user); none for an anonymous caller or a bad credential, which are
counted instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from careline.api.api import api
from careline.api.tests.helpers import ApiCaller, error_of
from careline.patients.models import (
    CommunicationPreference,
    Consent,
    ContactPoint,
    Patient,
    TimelineEvent,
)
from careline.platform import clock
from careline.platform.authorization import ANONYMOUS_REFUSALS, declared_permission
from careline.platform.models import (
    ApiToken,
    AuditAction,
    AuditChannel,
    AuditEvent,
    AuditOutcome,
    BreakGlassAccess,
)
from careline.platform.permissions import ALL_PERMISSIONS, Permission, Role
from careline.testing.factories import ContactPointFactory


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None
    role_without_permission: str
    success: int
    audit_action: str
    audit_resource: str
    permission: str
    is_patient_scoped: bool = True


ENDPOINTS = [
    Endpoint(
        "search",
        "POST",
        "/api/patients/search",
        {"q": "Zebrowski"},
        Role.MARKETER,
        200,
        AuditAction.SEARCH,
        "Patient",
        Permission.VIEW_PATIENT,
        is_patient_scoped=False,
    ),
    Endpoint(
        "get",
        "GET",
        "/api/patients/{patient}",
        None,
        Role.MARKETER,
        200,
        "read",
        "Patient",
        Permission.VIEW_PATIENT,
    ),
    Endpoint(
        "timeline",
        "GET",
        "/api/patients/{patient}/timeline?limit=5",
        None,
        Role.EXECUTIVE,
        200,
        AuditAction.READ,
        "Timeline",
        Permission.VIEW_PATIENT,
    ),
    Endpoint(
        "summary",
        "GET",
        "/api/patients/{patient}/summary",
        None,
        Role.LIAISON,
        200,
        AuditAction.READ,
        "Patient",
        Permission.VIEW_PATIENT,
    ),
    Endpoint(
        "add_contact",
        "POST",
        "/api/patients/{patient}/contact-points",
        {"system": "phone", "value": "617-555-0100", "use": "home"},
        Role.INTEGRATION,
        201,
        AuditAction.CREATE,
        "ContactPoint",
        Permission.CHANGE_CONTACT,
    ),
    Endpoint(
        "update_contact",
        "PATCH",
        "/api/patients/{patient}/contact-points/{contact}",
        {"value": "617-555-0101"},
        Role.INTEGRATION,
        200,
        AuditAction.UPDATE,
        "ContactPoint",
        Permission.CHANGE_CONTACT,
    ),
    Endpoint(
        "remove_contact",
        "DELETE",
        "/api/patients/{patient}/contact-points/{contact}",
        None,
        Role.INTEGRATION,
        204,
        AuditAction.DELETE,
        "ContactPoint",
        Permission.CHANGE_CONTACT,
    ),
    Endpoint(
        "communication_preference",
        "PUT",
        "/api/patients/{patient}/communication-preference",
        {"preferred_channel": "sms", "language": "es", "time_zone": "America/New_York"},
        Role.INTEGRATION,
        200,
        AuditAction.UPDATE,
        "CommunicationPreference",
        Permission.CHANGE_PREFERENCES,
    ),
    Endpoint(
        "consent",
        "POST",
        "/api/patients/{patient}/consents",
        {"purpose": "sms", "status": "active"},
        Role.NURSE,
        201,
        AuditAction.CREATE,
        "Consent",
        Permission.CHANGE_CONSENT,
    ),
    Endpoint(
        "break_glass",
        "POST",
        "/api/patients/{patient}/break-glass",
        {"reason": "Patient called the nurse line with chest pain"},
        Role.MARKETER,
        201,
        AuditAction.BREAK_GLASS,
        "Patient",
        Permission.VIEW_PATIENT,
        is_patient_scoped=False,
    ),
]
SCOPED = [endpoint for endpoint in ENDPOINTS if endpoint.is_patient_scoped]


def _id(endpoint: Endpoint) -> str:
    return endpoint.name


def call(
    client: Client,
    endpoint: Endpoint,
    patient: Patient,
    *,
    headers: dict[str, str] | None = None,
) -> Any:
    contact = ContactPoint.objects.filter(patient=patient, is_active=True).first()
    path = endpoint.path.format(
        patient=patient.public_id, contact=contact.public_id if contact else "-"
    )
    return client.generic(
        endpoint.method,
        path,
        data=b"" if endpoint.body is None else json.dumps(endpoint.body),
        content_type="application/json",
        headers=headers or {},
    )


def state() -> tuple[Any, ...]:
    """Everything a denied call must leave alone."""
    return (
        sorted(ContactPoint.objects.values_list("public_id", "value", "use", "is_active")),
        Consent.objects.count(),
        sorted(CommunicationPreference.objects.values_list("patient_id", "preferred_channel")),
        TimelineEvent.objects.count(),
        BreakGlassAccess.objects.count(),
    )


def audit_since(sequence: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(sequence__gt=sequence).order_by("sequence"))


def refusals(events: list[AuditEvent]) -> list[tuple[Any, ...]]:
    """(actor, resource type, patient, details) of refusal entries; any other entry fails."""
    for event in events:
        assert (event.action, event.outcome, event.channel) == (
            AuditAction.ACCESS_DENIED,
            AuditOutcome.DENIED,
            AuditChannel.API,
        ), event
    return [(e.actor_id, e.resource_type, e.patient_id, e.details) for e in events]


def last_sequence() -> int:
    event = AuditEvent.objects.order_by("-sequence").first()
    return (event.sequence or 0) if event else 0


@pytest.fixture
def with_contacts(patient: Patient, outside_patient: Patient) -> None:
    ContactPointFactory.create(patient=patient, value="+16175550142")
    ContactPointFactory.create(patient=outside_patient, value="+16175550199")


PHI_OF_OUTSIDE = ("Ottilie", "Quennell", "MRN7000002", "1951", "987-65-4321", "+16175550199")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_anonymous_caller_gets_401_and_changes_nothing(
    api_client: Client, endpoint: Endpoint, patient: Patient, with_contacts: None
) -> None:
    before, sequence, counted = state(), last_sequence(), ANONYMOUS_REFUSALS["api"]

    response = call(api_client, endpoint, patient)

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert state() == before
    assert audit_since(sequence) == []
    assert ANONYMOUS_REFUSALS["api"] == counted + 1


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
@pytest.mark.parametrize("problem", ["unknown", "revoked", "expired", "inactive_user", "basic"])
def test_bad_credentials_get_401(
    api_client: Client,
    endpoint: Endpoint,
    problem: str,
    scheduler: ApiCaller,
    patient: Patient,
    with_contacts: None,
) -> None:
    token = ApiToken.objects.get(user=scheduler.user)
    headers = scheduler.headers
    if problem == "unknown":
        headers = {"Authorization": "Bearer cl_00000000_" + "x" * 43}
    elif problem == "revoked":
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
    elif problem == "expired":
        token.expires_at = clock.now() - timedelta(seconds=1)
        token.save(update_fields=["expires_at"])
    elif problem == "inactive_user":
        scheduler.user.is_active = False
        scheduler.user.save(update_fields=["is_active"])
    else:
        headers = {"Authorization": "Basic c3RhZmY6cGFzc3dvcmQ="}
    before, sequence, counted = state(), last_sequence(), ANONYMOUS_REFUSALS["api"]

    response = call(api_client, endpoint, patient, headers=headers)

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert state() == before
    assert ANONYMOUS_REFUSALS["api"] == counted + 1
    # A known token that is refused is a failed sign-in of its user; an unknown one names no one.
    reason = {"revoked": "revoked", "expired": "expired", "inactive_user": "user_inactive"}.get(
        problem
    )
    expected = [("login_failed", "denied", reason)] if reason else []
    assert [
        (event.action, event.outcome, event.details["reason"]) for event in audit_since(sequence)
    ] == expected


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_role_without_the_permission_gets_403_and_changes_nothing(
    api_client: Client,
    endpoint: Endpoint,
    caller_for: Callable[..., ApiCaller],
    patient: Patient,
    with_contacts: None,
) -> None:
    caller = caller_for(endpoint.role_without_permission)
    before, sequence = state(), last_sequence()

    response = call(api_client, endpoint, patient, headers=caller.headers)

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert state() == before
    expected_patient = None if endpoint.name == "search" else patient.public_id
    assert refusals(audit_since(sequence)) == [
        (
            caller.user.pk,
            endpoint.audit_resource,
            expected_patient,
            {"permission": endpoint.permission},
        )
    ]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_role_with_the_permission_succeeds_and_is_audited(
    api_client: Client,
    endpoint: Endpoint,
    scheduler: ApiCaller,
    patient: Patient,
    with_contacts: None,
) -> None:
    sequence = last_sequence()

    response = call(api_client, endpoint, patient, headers=scheduler.headers)

    assert response.status_code == endpoint.success, response.content
    events = audit_since(sequence)
    assert len(events) == 1
    event = events[0]
    assert (event.action, event.resource_type) == (endpoint.audit_action, endpoint.audit_resource)
    expected_patient = None if endpoint.name == "search" else patient.public_id
    assert event.patient_id == expected_patient
    assert event.actor_id == scheduler.user.pk
    assert event.channel == "api"
    assert event.is_break_glass is (endpoint.name == "break_glass")


@pytest.mark.parametrize("endpoint", SCOPED, ids=_id)
def test_patient_outside_scope_needs_break_glass_and_leaks_nothing(
    api_client: Client,
    endpoint: Endpoint,
    scheduler: ApiCaller,
    outside_patient: Patient,
    with_contacts: None,
) -> None:
    before, sequence = state(), last_sequence()

    response = call(api_client, endpoint, outside_patient, headers=scheduler.headers)

    assert response.status_code == 403
    assert error_of(response)["code"] == "break_glass_required"
    body = response.content.decode()
    for phi in PHI_OF_OUTSIDE:
        assert phi not in body
    assert state() == before
    assert refusals(audit_since(sequence)) == [
        (
            scheduler.user.pk,
            endpoint.audit_resource,
            outside_patient.public_id,
            {"reason": "break_glass_required"},
        )
    ]


@pytest.mark.parametrize("endpoint", SCOPED, ids=_id)
def test_patient_outside_scope_opens_after_break_glass_and_is_flagged(
    api_client: Client,
    endpoint: Endpoint,
    scheduler: ApiCaller,
    outside_patient: Patient,
    with_contacts: None,
) -> None:
    opened = api_client.post(
        f"/api/patients/{outside_patient.public_id}/break-glass",
        {"reason": "Patient called the nurse line with chest pain"},
        content_type="application/json",
        headers=scheduler.headers,
    )
    assert opened.status_code == 201
    sequence = last_sequence()

    response = call(api_client, endpoint, outside_patient, headers=scheduler.headers)

    assert response.status_code == endpoint.success, response.content
    events = audit_since(sequence)
    assert [(e.action, e.resource_type) for e in events] == [
        (endpoint.audit_action, endpoint.audit_resource)
    ]
    assert events[0].patient_id == outside_patient.public_id
    assert events[0].is_break_glass is True


def _api_routes() -> list[tuple[str, Any]]:
    return [
        (f"{'/'.join(op.methods)} {prefix}{path}", op.view_func)
        for prefix, router in api._routers
        for path, path_view in router.path_operations.items()
        for op in path_view.operations
    ]


def test_every_api_route_declares_the_permission_it_needs() -> None:
    routes = _api_routes()

    assert len(routes) == 35
    assert [name for name, view in routes if declared_permission(view) is None] == []
    assert {declared_permission(view) for _, view in routes} <= ALL_PERMISSIONS
