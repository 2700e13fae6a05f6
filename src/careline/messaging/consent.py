"""Writes about who may be contacted where: suppressions (STOP, bounce, staff request;
lifted by START) and express consent with its provenance. Inbound routing (STOP/START
replies) and staff pages call these; the gate reads the rows (``messaging.facts``)."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from careline.messaging.models import (
    Channel,
    ChannelConsent,
    ConsentMethod,
    Suppression,
    SuppressionReason,
)
from careline.patients.access import access_patient
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission


def suppress_address(
    *, actor: Actor, channel: str, address: str, reason: str, message_id: int | None = None
) -> Suppression:
    """Stop contacting ``address`` on ``channel`` at once (idempotent: an active suppression
    is kept as it is)."""
    if channel not in Channel.values or reason not in SuppressionReason.values:
        raise ValidationFailed("Unknown channel or suppression reason.")
    with transaction.atomic():
        existing = Suppression.objects.filter(
            channel=channel, address=address, lifted_at__isnull=True
        ).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                row = Suppression.objects.create(
                    channel=channel,
                    address=address,
                    reason=reason,
                    created_at=clock.now(),
                    message_id=message_id,
                )
        except IntegrityError:  # suppressed concurrently: the same answer
            return Suppression.objects.get(channel=channel, address=address, lifted_at__isnull=True)
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="Suppression",
            resource_id=str(row.public_id),
            details={"channel": channel, "reason": reason},
        )
    return row


def lift_suppression(*, actor: Actor, channel: str, address: str) -> int:
    """START: contact on ``channel`` may resume (a landline mark is not lifted by a text)."""
    with transaction.atomic():
        rows = list(
            Suppression.objects.select_for_update()
            .filter(channel=channel, address=address, lifted_at__isnull=True)
            .exclude(reason=SuppressionReason.LANDLINE)
        )
        now = clock.now()
        for row in rows:
            row.lifted_at = now
            row.save(update_fields=["lifted_at"])
            audit.record_event(
                actor=actor,
                action=AuditAction.UPDATE,
                resource_type="Suppression",
                resource_id=str(row.public_id),
                details={"channel": channel, "lifted": True},
            )
    return len(rows)


def record_channel_consent(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    channel: str,
    address: str,
    method: str,
    given_by: str,
) -> ChannelConsent:
    """Express consent to contact ``address`` on ``channel``, with its provenance (who gave
    it, how, when, who recorded it). Staff need the consent permission for the patient."""
    if channel not in Channel.values or method not in ConsentMethod.values:
        raise ValidationFailed("Unknown channel or consent method.")
    if not address.strip() or not given_by.strip():
        raise ValidationFailed("Say which address and who gave the consent.")
    access = access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.CHANGE_CONSENT,
        action=None,
        resource_type="ChannelConsent",
    )
    with transaction.atomic():
        consent = ChannelConsent.objects.create(
            patient=access.patient,
            channel=channel,
            address=address.strip(),
            method=method,
            given_by=given_by.strip()[:150],
            given_at=clock.now(),
            recorded_by=actor.user,
        )
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="ChannelConsent",
            resource_id=str(consent.public_id),
            patient_id=patient_id,
            is_break_glass=access.is_break_glass,
            details={"channel": channel, "method": method},
        )
    return consent
