"""Suppression (STOP at once, START lifts, landline stays) and express consent with its
provenance, as the gate then sees them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careline.messaging.consent import lift_suppression, record_channel_consent, suppress_address
from careline.messaging.models import ChannelConsent, Suppression
from careline.messaging.services import MessageRequest, enqueue_messages
from careline.platform.errors import PermissionDenied, ValidationFailed
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.testing.factories import ContactPointFactory, PatientFactory

NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)


def _reminder(patient):
    return MessageRequest(
        patient_id=patient.public_id,
        purpose="appointment_reminder",
        channel="sms",
        context={"appointment_date": "Jun 12"},
    )


@time_machine.travel(NOON_NY, tick=False)
def test_stop_then_a_reminder_is_suppressed_and_start_reenables(templates, system_actor):
    patient = PatientFactory.create(postal_code="02115")
    ContactPointFactory.create(patient=patient, system="sms", value="+16175550142")
    first = suppress_address(
        actor=system_actor, channel="sms", address="+16175550142", reason="stop"
    )
    again = suppress_address(
        actor=system_actor, channel="sms", address="+16175550142", reason="stop"
    )
    assert first.pk == again.pk
    (blocked,) = enqueue_messages(actor=system_actor, requests=[_reminder(patient)])
    assert (blocked.status, blocked.decision_rule) == ("blocked", "suppressed")
    assert lift_suppression(actor=system_actor, channel="sms", address="+16175550142") == 1
    (queued,) = enqueue_messages(actor=system_actor, requests=[_reminder(patient)])
    assert queued.status == "queued"
    assert AuditEvent.objects.filter(resource_type="Suppression").count() == 2


def test_start_does_not_lift_a_landline_mark(db, system_actor):
    suppress_address(actor=system_actor, channel="sms", address="+16175550100", reason="landline")
    assert lift_suppression(actor=system_actor, channel="sms", address="+16175550100") == 0
    assert Suppression.objects.get().lifted_at is None


def test_express_consent_keeps_its_provenance_and_needs_the_permission(
    make_user, actor_for, system_actor
):
    patient = PatientFactory.create()
    nurse = actor_for(make_user(role=Role.NURSE))  # nurses may not change consents
    with pytest.raises(PermissionDenied):
        record_channel_consent(
            actor=nurse,
            patient_id=patient.public_id,
            channel="sms",
            address="+16175550142",
            method="verbal",
            given_by="patient",
        )
    assert not ChannelConsent.objects.exists()
    with pytest.raises(ValidationFailed):
        record_channel_consent(
            actor=system_actor,
            patient_id=patient.public_id,
            channel="pigeon",
            address="x",
            method="verbal",
            given_by="patient",
        )
    consent = record_channel_consent(
        actor=system_actor,
        patient_id=patient.public_id,
        channel="sms",
        address="+16175550142",
        method="written",
        given_by="daughter (proxy)",
    )
    assert (consent.channel, consent.address, consent.method, consent.given_by) == (
        "sms",
        "+16175550142",
        "written",
        "daughter (proxy)",
    )
    entry = AuditEvent.objects.get(resource_type="ChannelConsent", outcome="success")
    assert (entry.action, entry.patient_id) == ("create", patient.public_id)
