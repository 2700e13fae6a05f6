"""The registry's REST routes (mounted at /api/patients/ by ``careline.api.api``).

Each route parses a typed schema, makes one call into ``patients`` (a selector, a service or
``access``) with an API actor, and returns what it answered: the ``response`` schema reads
its attributes. Those calls check permission and
patient scope and write the audit trail; errors become the API's one error shape upstream.
No PHI travels in a URL: search text is a POST body.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Query, Router, Status

from careline.patients import selectors, services
from careline.patients.access import access_patient, break_glass
from careline.patients.api.schemas import (
    BreakGlassIn,
    BreakGlassOut,
    CommunicationPreferenceIn,
    CommunicationPreferenceOut,
    ConsentIn,
    ConsentOut,
    ContactPointIn,
    ContactPointOut,
    ContactPointPatchIn,
    PatientHitOut,
    PatientOut,
    PatientSearchIn,
    TimelineFilters,
    TimelinePageOut,
)
from careline.patients.models import CommunicationPreference, Consent, ContactPoint, Patient
from careline.platform.actors import Actor, actor_from_request
from careline.platform.authorization import api_requires_permission
from careline.platform.models import AuditChannel, BreakGlassAccess
from careline.platform.permissions import Permission

router = Router(tags=["patients"])


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request, channel=AuditChannel.API)


@router.post("search", response=list[PatientHitOut], summary="Search patients")
@api_requires_permission(Permission.VIEW_PATIENT, resource_type="Patient")
def search_patients(request: HttpRequest, payload: PatientSearchIn) -> list[selectors.PatientHit]:
    return selectors.search_patients(actor=_actor(request), text=payload.q)


@router.get("{uuid:patient_id}", response=PatientOut, summary="Get a patient")
@api_requires_permission(Permission.VIEW_PATIENT, resource_type="Patient")
def get_patient(request: HttpRequest, patient_id: uuid.UUID) -> Patient:
    return access_patient(actor=_actor(request), patient_id=patient_id).patient


@router.get("{uuid:patient_id}/timeline", response=TimelinePageOut, summary="Patient timeline")
@api_requires_permission(Permission.VIEW_PATIENT, resource_type="Timeline")
def list_timeline(
    request: HttpRequest, patient_id: uuid.UUID, filters: Query[TimelineFilters]
) -> selectors.TimelinePage:
    return selectors.list_timeline(
        actor=_actor(request),
        patient_id=patient_id,
        kinds=[str(kind) for kind in filters.kind] if filters.kind else None,
        since=filters.since,
        until=filters.until,
        cursor=filters.cursor,
        limit=filters.limit,
    )


@router.post(
    "{uuid:patient_id}/contact-points",
    response={201: ContactPointOut},
    summary="Add a contact point",
)
@api_requires_permission(Permission.CHANGE_CONTACT, resource_type="ContactPoint")
def add_contact_point(
    request: HttpRequest, patient_id: uuid.UUID, payload: ContactPointIn
) -> Status[ContactPoint]:
    contact = services.add_contact_point(
        actor=_actor(request),
        patient_id=patient_id,
        system=payload.system,
        value=payload.value,
        use=payload.use,
    )
    return Status(201, contact)


@router.patch(
    "{uuid:patient_id}/contact-points/{uuid:contact_id}",
    response=ContactPointOut,
    summary="Correct a contact point",
)
@api_requires_permission(Permission.CHANGE_CONTACT, resource_type="ContactPoint")
def update_contact_point(
    request: HttpRequest, patient_id: uuid.UUID, contact_id: uuid.UUID, payload: ContactPointPatchIn
) -> ContactPoint:
    return services.update_contact_point(
        actor=_actor(request),
        patient_id=patient_id,
        contact_id=contact_id,
        value=payload.value,
        use=payload.use,
    )


@router.delete(
    "{uuid:patient_id}/contact-points/{uuid:contact_id}",
    response={204: None},
    summary="Remove a contact point",
)
@api_requires_permission(Permission.CHANGE_CONTACT, resource_type="ContactPoint")
def remove_contact_point(
    request: HttpRequest, patient_id: uuid.UUID, contact_id: uuid.UUID
) -> Status[None]:
    services.remove_contact_point(
        actor=_actor(request), patient_id=patient_id, contact_id=contact_id
    )
    return Status(204, None)


@router.put(
    "{uuid:patient_id}/communication-preference",
    response=CommunicationPreferenceOut,
    summary="Replace the communication preference",
)
@api_requires_permission(Permission.CHANGE_PREFERENCES, resource_type="CommunicationPreference")
def put_communication_preference(
    request: HttpRequest, patient_id: uuid.UUID, payload: CommunicationPreferenceIn
) -> CommunicationPreference:
    return services.update_communication_preference(
        actor=_actor(request),
        patient_id=patient_id,
        preferred_channel=payload.preferred_channel,
        language=payload.language,
        quiet_hours_start=payload.quiet_hours_start,
        quiet_hours_end=payload.quiet_hours_end,
        time_zone=payload.time_zone,
    )


@router.post(
    "{uuid:patient_id}/consents", response={201: ConsentOut}, summary="Record a consent decision"
)
@api_requires_permission(Permission.CHANGE_CONSENT, resource_type="Consent")
def record_consent(
    request: HttpRequest, patient_id: uuid.UUID, payload: ConsentIn
) -> Status[Consent]:
    consent = services.record_consent(
        actor=_actor(request),
        patient_id=patient_id,
        purpose=payload.purpose,
        status=payload.status,
        description=payload.description,
    )
    return Status(201, consent)


@router.post(
    "{uuid:patient_id}/break-glass",
    response={201: BreakGlassOut},
    summary="Open an out-of-scope patient with a stated reason",
)
@api_requires_permission(Permission.VIEW_PATIENT, resource_type="Patient")
def open_break_glass(
    request: HttpRequest, patient_id: uuid.UUID, payload: BreakGlassIn
) -> Status[BreakGlassAccess]:
    access = break_glass(actor=_actor(request), patient_id=patient_id, reason=payload.reason)
    return Status(201, access)
