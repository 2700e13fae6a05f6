"""Staff writes to the registry: contact details, communication preferences, consents.

Each write checks access (permission + patient scope), validates, writes in one
transaction with its audit event and a timeline entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Max

from careline.patients.access import PatientAccess, access_patient
from careline.patients.models import (
    CARELINE_SOURCE,
    Channel,
    CommunicationPreference,
    Consent,
    ConsentPurpose,
    ConsentStatus,
    ContactPoint,
    ContactSystem,
    ContactUse,
    Patient,
    TimelineEvent,
    TimelineKind,
)
from careline.patients.normalize import normalize_email, phone_to_e164
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.errors import NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.platform.text import require_plain_text


def normalize_contact_value(system: str, value: str) -> str:
    """The stored form of a contact value, or ``ValidationFailed`` saying what is wrong."""
    value = value.strip()
    if not value:
        raise ValidationFailed("Enter a value.", details={"field": "value"})
    require_plain_text(value, field="value", label="The value")
    if system in {ContactSystem.PHONE, ContactSystem.SMS, ContactSystem.FAX}:
        e164 = phone_to_e164(value)
        if e164 is None:
            raise ValidationFailed(
                f"{value!r} is not a phone number. Enter it with its area code, "
                "e.g. (617) 555-0142 or +44 20 7946 0958.",
                details={"field": "value"},
            )
        return e164
    if system == ContactSystem.EMAIL:
        email = normalize_email(value)
        try:
            validate_email(email)
        except ValidationError as error:
            raise ValidationFailed(
                f"{value!r} is not an email address.", details={"field": "value"}
            ) from error
        return email
    return value


def _require_choice(value: str, choices: Any, field: str) -> None:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ValidationFailed(f"{field} must be one of: {allowed}.", details={"field": field})


def add_contact_point(
    *, actor: Actor, patient_id: uuid.UUID, system: str, value: str, use: str = ""
) -> ContactPoint:
    access = _access_for_change(actor, patient_id, Permission.CHANGE_CONTACT, "ContactPoint")
    patient = access.patient
    _require_choice(system, ContactSystem, "system")
    if use:
        _require_choice(use, ContactUse, "use")
    stored = normalize_contact_value(system, value)
    now = clock.now()
    with transaction.atomic():
        contact = ContactPoint.objects.create(
            patient=patient,
            system=system,
            value=stored,
            use=use,
            rank=_next_contact_rank(patient, system),
            received_at=now,
        )
        _audit_change(actor, access, "ContactPoint", contact.public_id, AuditAction.CREATE, [])
        _add_timeline(actor, patient, TimelineKind.CONTACT_CHANGE, f"Added {system} contact")
    return contact


def _next_contact_rank(patient: Patient, system: str) -> int:
    """After every contact point of that system, in the caller's transaction.

    The patient row is locked first, so two additions for one patient take turns and each
    sees the other's rank (SQLite's IMMEDIATE transactions already take turns).
    """
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))
    ranks = ContactPoint.objects.filter(patient=patient, system=system)
    highest = ranks.aggregate(highest=Max("rank"))["highest"]
    return (highest or 0) + 1


def update_contact_point(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    contact_id: uuid.UUID,
    value: str,
    use: str | None = None,
) -> ContactPoint:
    access = _access_for_change(actor, patient_id, Permission.CHANGE_CONTACT, "ContactPoint")
    patient = access.patient
    with transaction.atomic():
        contact = (
            ContactPoint.objects.select_for_update()
            .filter(public_id=contact_id, patient=patient, is_active=True)
            .first()
        )
        if contact is None:
            raise NotFound("No such contact detail for this patient.")
        contact.value = normalize_contact_value(contact.system, value)
        fields = ["value"]
        if use is not None and use != contact.use:
            if use:
                _require_choice(use, ContactUse, "use")
            contact.use = use
            fields.append("use")
        # A staff correction supersedes the source's value: provenance moves to Careline.
        contact.source_system, contact.source_id = CARELINE_SOURCE, ""
        contact.received_at = clock.now()
        contact.save(update_fields=[*fields, "source_system", "source_id", "received_at"])
        _audit_change(actor, access, "ContactPoint", contact.public_id, AuditAction.UPDATE, fields)
        _add_timeline(
            actor, patient, TimelineKind.CONTACT_CHANGE, f"Corrected {contact.system} contact"
        )
    return contact


def remove_contact_point(*, actor: Actor, patient_id: uuid.UUID, contact_id: uuid.UUID) -> None:
    access = _access_for_change(actor, patient_id, Permission.CHANGE_CONTACT, "ContactPoint")
    patient = access.patient
    with transaction.atomic():
        updated = ContactPoint.objects.filter(
            public_id=contact_id, patient=patient, is_active=True
        ).update(is_active=False, received_at=clock.now())
        if not updated:
            raise NotFound("No such contact detail for this patient.")
        _audit_change(actor, access, "ContactPoint", contact_id, AuditAction.DELETE, [])
        _add_timeline(actor, patient, TimelineKind.CONTACT_CHANGE, "Removed a contact detail")


def update_communication_preference(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    preferred_channel: str,
    language: str,
    quiet_hours_start: time | None,
    quiet_hours_end: time | None,
    time_zone: str,
) -> CommunicationPreference:
    access = _access_for_change(
        actor, patient_id, Permission.CHANGE_PREFERENCES, "CommunicationPreference"
    )
    patient = access.patient
    if preferred_channel:
        _require_choice(preferred_channel, Channel, "preferred_channel")
    _validate_time_zone(time_zone)
    if (quiet_hours_start is None) != (quiet_hours_end is None):
        raise ValidationFailed(
            "Give both the start and the end of the quiet hours, or neither.",
            details={"field": "quiet_hours_end"},
        )
    values = {
        "preferred_channel": preferred_channel,
        "language": language.strip(),
        "quiet_hours_start": quiet_hours_start,
        "quiet_hours_end": quiet_hours_end,
        "time_zone": time_zone,
    }
    with transaction.atomic():
        preference, _ = CommunicationPreference.objects.select_for_update().get_or_create(
            patient=patient, defaults={"updated_at": clock.now()}
        )
        changed = [name for name, value in values.items() if getattr(preference, name) != value]
        for name in changed:
            setattr(preference, name, values[name])
        preference.updated_at, preference.updated_by = clock.now(), actor.user
        preference.save(update_fields=[*changed, "updated_at", "updated_by"])
        _audit_change(
            actor,
            access,
            "CommunicationPreference",
            patient.public_id,
            AuditAction.UPDATE,
            changed,
        )
        if changed:
            _add_timeline(
                actor, patient, TimelineKind.PREFERENCE_CHANGE, "Communication preferences updated"
            )
    return preference


def record_consent(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    purpose: str,
    status: str,
    description: str = "",
) -> Consent:
    """Record a consent decision; earlier decisions stay as history."""
    access = _access_for_change(actor, patient_id, Permission.CHANGE_CONSENT, "Consent")
    patient = access.patient
    _require_choice(purpose, ConsentPurpose, "purpose")
    _require_choice(status, ConsentStatus, "status")
    now = clock.now()
    with transaction.atomic():
        consent = Consent.objects.create(
            patient=patient,
            purpose=purpose,
            status=status,
            description=description.strip()[:300],
            decided_at=now,
            received_at=now,
            recorded_by=actor.user,
        )
        _audit_change(actor, access, "Consent", consent.public_id, AuditAction.CREATE, [])
        label = ConsentPurpose(purpose).label
        _add_timeline(
            actor, patient, TimelineKind.CONSENT_CHANGE, f"{label}: {ConsentStatus(status).label}"
        )
    return consent


def _access_for_change(
    actor: Actor, patient_id: uuid.UUID, permission: str, resource_type: str
) -> PatientAccess:
    """Check the write; its own audit event (with the break-glass flag) comes with it."""
    return access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=permission,
        action=None,
        resource_type=resource_type,
    )


def _validate_time_zone(name: str) -> None:
    if not name:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationFailed(
            f"{name!r} is not a time zone; use a name like America/New_York.",
            details={"field": "time_zone"},
        ) from error
    if name not in available_timezones():
        raise ValidationFailed(f"{name!r} is not a time zone.", details={"field": "time_zone"})


def _audit_change(
    actor: Actor,
    access: PatientAccess,
    resource_type: str,
    resource_id: uuid.UUID,
    action: str,
    fields: list[str],
) -> None:
    audit.record_event(
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id),
        patient_id=access.patient.public_id,
        is_break_glass=access.is_break_glass,
        details={"fields": fields} if fields else {},
    )


def _add_timeline(actor: Actor, patient: Patient, kind: str, title: str) -> None:
    now = clock.now()
    TimelineEvent.objects.create(
        patient=patient,
        kind=kind,
        occurred_at=now,
        received_at=now,
        title=title,
        actor_label=actor.display,
    )


def record_timeline_event(
    *,
    actor: Actor,
    patient: Patient,
    kind: str,
    title: str,
    detail: str = "",
    source_key: str = "",
    occurred_at: datetime | None = None,
) -> TimelineEvent:
    """Add one event to a patient's timeline for another app (scheduling, messaging…).

    The caller has checked access and records its own audit event, in its transaction.
    """
    _require_choice(kind, TimelineKind, "kind")
    now = clock.now()
    return TimelineEvent.objects.create(
        patient=patient,
        kind=kind,
        occurred_at=occurred_at or now,
        received_at=now,
        title=title[:300],
        detail=detail[:500],
        source_key=source_key,
        actor_label=actor.display,
    )
