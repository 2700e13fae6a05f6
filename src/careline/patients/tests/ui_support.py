"""Helpers for the staff UI tests: sign-in, patients in or out of a user's scope, audit rows."""

from __future__ import annotations

import uuid
from typing import Any

from django.test import Client

from careline.patients.models import Patient
from careline.platform.actors import Actor
from careline.platform.models import AuditChannel, AuditEvent, BreakGlassAccess, User
from careline.platform.services import grant_break_glass
from careline.testing.factories import LocationFactory, PatientFactory

HTMX = {"HX-Request": "true"}
REASON = "Patient is at the front desk asking about her visit"


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def patient_in_scope_of(user: User, **fields: Any) -> Patient:
    """A patient whose home clinic is one of ``user``'s locations."""
    location = LocationFactory.create()
    user.locations.add(location)
    return PatientFactory.create(primary_location=location, **fields)


def grant_for(user: User, patient: Patient) -> BreakGlassAccess:
    actor = Actor(user=user, channel=AuditChannel.UI)
    return grant_break_glass(actor=actor, patient_id=patient.public_id, reason=REASON)


def audit_rows(**filters: Any) -> list[tuple[str, str, uuid.UUID | None, bool]]:
    """(action, resource_type, patient_id, is_break_glass) of matching events, oldest first.

    Sign-in and sign-out (``Session``) events are left out: the tests sign in first.
    """
    events = AuditEvent.objects.filter(**filters).exclude(resource_type="Session")
    events = events.order_by("sequence")
    return [
        (event.action, event.resource_type, event.patient_id, event.is_break_glass)
        for event in events
    ]
