"""The one permission path: the service check, refusals, anonymous callers, CSRF refusals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from careline.platform.actors import Actor, actor_from_request
from careline.platform.audit.export import start_export
from careline.platform.audit.selectors import AuditFilter
from careline.platform.authorization import (
    ANONYMOUS_REFUSALS,
    declared_permission,
    require_permission,
)
from careline.platform.errors import PermissionDenied
from careline.platform.models import AuditChannel, AuditEvent, AuditOutcome, User
from careline.platform.permissions import ALL_PERMISSIONS, Permission, Role

pytestmark = pytest.mark.django_db


def test_a_request_without_a_signed_in_user_holds_no_permission() -> None:
    request = RequestFactory().get("/")
    actor = actor_from_request(request, channel=AuditChannel.API)

    assert not actor.has_permission(Permission.VIEW_PATIENT)
    assert Actor.system("careline test").has_permission(Permission.VIEW_PATIENT)


def test_granted_permission_passes_and_writes_nothing(
    make_user: Callable[..., User], actor_for: Callable[..., Actor]
) -> None:
    require_permission(
        actor_for(make_user(Role.COMPLIANCE)), Permission.VIEW_AUDIT_LOG, resource_type="AuditEvent"
    )

    assert not AuditEvent.objects.exists()


def test_refusal_raises_403_and_appends_exactly_one_entry(
    make_user: Callable[..., User], actor_for: Callable[..., Actor]
) -> None:
    nurse = make_user(Role.NURSE)
    patient_id = uuid.uuid4()

    with pytest.raises(PermissionDenied) as raised:
        require_permission(
            actor_for(nurse),
            Permission.CHANGE_CONSENT,
            resource_type="Consent",
            patient_id=patient_id,
        )

    assert raised.value.status == 403
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.outcome, event.resource_type) == (
        nurse,
        "access_denied",
        AuditOutcome.DENIED,
        "Consent",
    )
    assert (event.patient_id, event.resource_id) == (patient_id, str(patient_id))
    assert event.details == {"permission": Permission.CHANGE_CONSENT}


def test_an_anonymous_refusal_is_counted_not_audited() -> None:
    actor = actor_from_request(RequestFactory().get("/"), channel=AuditChannel.API)
    counted = ANONYMOUS_REFUSALS["api"]

    with pytest.raises(PermissionDenied):
        require_permission(actor, Permission.VIEW_PATIENT, resource_type="Patient")

    assert ANONYMOUS_REFUSALS["api"] == counted + 1
    assert not AuditEvent.objects.exists()


def test_a_form_whose_csrf_token_failed_is_a_403_page_and_audited(
    make_user: Callable[..., User], settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    officer = make_user(Role.COMPLIANCE)
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    before = AuditEvent.objects.count()

    response = client.post(reverse("platform:break_glass_mark_reviewed", args=[uuid.uuid4()]))

    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    [refusal] = AuditEvent.objects.order_by("sequence")[before:]
    assert (refusal.actor, refusal.action, refusal.resource_type, refusal.details) == (
        officer,
        "access_denied",
        "Session",
        {"reason": "csrf_failed"},
    )


def test_an_anonymous_csrf_failure_is_counted_not_audited() -> None:
    client = Client(enforce_csrf_checks=True)
    counted = ANONYMOUS_REFUSALS["ui"]

    response = client.post(reverse("account_login"), {"login": "x", "password": "y"})

    assert response.status_code == 403
    assert ANONYMOUS_REFUSALS["ui"] == counted + 1
    assert not AuditEvent.objects.exists()


# --- every route declares its permission --------------------------------------------------

# Pages every signed-in user may open: the start page (it sends each role to its own work).
OPEN_TO_EVERY_SIGNED_IN_USER = {"platform:home"}
UI_NAMESPACES = (
    "patients",
    "clinical",
    "platform",
    "interop",
    "portal_access",
    "directory",
    "scheduling",
    "waitlist",
    "messaging",
)


def _ui_routes() -> list[tuple[str, Any]]:
    routes = []
    for resolver in get_resolver().url_patterns:
        if isinstance(resolver, URLResolver) and resolver.namespace in UI_NAMESPACES:
            for pattern in resolver.url_patterns:
                assert isinstance(pattern, URLPattern)
                routes.append((f"{resolver.namespace}:{pattern.name}", pattern.callback))
    return routes


def test_every_staff_page_declares_the_permission_it_needs() -> None:
    routes = _ui_routes()

    undeclared = [
        name
        for name, view in routes
        if name not in OPEN_TO_EVERY_SIGNED_IN_USER and declared_permission(view) is None
    ]
    assert len(routes) >= 15
    assert undeclared == []
    assert {declared_permission(view) for _, view in routes} <= ALL_PERMISSIONS | {None}


def test_the_audit_export_service_refuses_a_role_without_the_permission(
    make_user: Callable[..., User], actor_for: Callable[..., Actor]
) -> None:
    scheduler = make_user(Role.SCHEDULER)

    with pytest.raises(PermissionDenied):
        start_export(actor=actor_for(scheduler), audit_filter=AuditFilter(), export_format="csv")

    [refusal] = AuditEvent.objects.all()
    assert (refusal.actor, refusal.action, refusal.resource_type, refusal.details) == (
        scheduler,
        "access_denied",
        "AuditEvent",
        {"permission": Permission.EXPORT_AUDIT_LOG},
    )
