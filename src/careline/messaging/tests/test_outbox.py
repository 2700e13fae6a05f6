"""enqueue: rows in the caller's transaction, the gate's decision recorded, audit and
timeline, dedupe, cancel and re-plan; facts for a batch in a constant number of queries."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import transaction

from careline.messaging.models import (
    ChannelConsent,
    Message,
    Status,
    Suppression,
)
from careline.messaging.services import (
    MessageRequest,
    cancel_pending,
    enqueue_message,
    enqueue_messages,
    replan_pending,
)
from careline.patients.models import TimelineEvent
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditEvent
from careline.testing.factories import ConsentFactory, ContactPointFactory, PatientFactory

NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
CONTEXT = {"appointment_date": "Jun 12", "appointment_time": "10:00", "location_name": "Main"}


def _patient(number="+16175550142", **fields):
    patient = PatientFactory.create(postal_code="02115", state="MA", **fields)
    ContactPointFactory.create(patient=patient, system="phone", use="mobile", value=number)
    return patient


def _enqueue(actor, request):
    message = enqueue_message(actor=actor, request=request)
    assert message is not None
    return message


def _reminder(patient, **fields):
    return MessageRequest(
        patient_id=patient.public_id,
        purpose="appointment_reminder",
        channel="sms",
        context=CONTEXT,
        **fields,
    )


@pytest.fixture(autouse=True)
def _noon():
    with time_machine.travel(NOON_NY, tick=False):
        yield


def test_enqueue_renders_decides_audits_and_puts_it_on_the_timeline(templates, system_actor):
    patient = _patient()
    message = enqueue_message(actor=system_actor, request=_reminder(patient, subject_ref="A:1"))
    assert message is not None
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert (message.decision, message.decision_rule) == ("send", "allowed")
    assert message.to_address == "+16175550142"
    assert message.body == (
        "Careline Health: Robert, visit Jun 12 10:00 at Main. Reply C to confirm. Call 555-0100"
    )
    assert message.next_attempt_at == NOON_NY
    event = TimelineEvent.objects.get(patient=patient, kind="message")
    assert event.title == "Text message · Appointment reminder: Queued"
    entry = AuditEvent.objects.get(resource_type="Message", resource_id=str(message.public_id))
    assert (entry.action, entry.patient_id) == ("create", patient.public_id)
    assert entry.details == {
        "channel": "sms",
        "purpose": "appointment_reminder",
        "status": "queued",
        "rule": "allowed",
    }


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_booking_leaves_no_message(templates, system_actor):
    patient = _patient()
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_message(actor=system_actor, request=_reminder(patient))
        raise RuntimeError("the booking failed")
    assert Message.objects.count() == 0
    assert TimelineEvent.objects.filter(kind="message").count() == 0


def test_a_second_request_with_the_same_dedupe_key_is_a_no_op(templates, system_actor):
    patient = _patient()
    first = enqueue_message(actor=system_actor, request=_reminder(patient, dedupe_key="a:48h"))
    again = enqueue_message(actor=system_actor, request=_reminder(patient, dedupe_key="a:48h"))
    assert first is not None and again is None
    assert Message.objects.count() == 1


def test_blocked_and_deferred_decisions_are_recorded(templates, system_actor):
    dead = _patient(number="+16175550100", is_deceased=True)
    stopped = _patient(number="+16175550101")
    Suppression.objects.create(
        channel="sms", address="+16175550101", reason="stop", created_at=NOON_NY
    )
    night = _patient(number="+16175550102")
    messages = enqueue_messages(
        actor=system_actor,
        requests=[
            _reminder(dead),
            _reminder(stopped),
            _reminder(night, due_at=dt.datetime(2026, 6, 11, 2, 0, tzinfo=dt.UTC)),
        ],
    )
    assert [(m.status, m.decision_rule) for m in messages] == [
        ("blocked", "deceased"),
        ("blocked", "suppressed"),
        ("deferred", "quiet_hours"),
    ]
    assert messages[2].next_attempt_at == dt.datetime(2026, 6, 11, 12, 0, tzinfo=dt.UTC)


def test_the_tcpa_day_limit_counts_messages_planned_in_the_same_batch(templates, system_actor):
    patient = _patient()
    first, second = enqueue_messages(
        actor=system_actor, requests=[_reminder(patient), _reminder(patient)]
    )
    assert (first.status, second.status) == ("queued", "blocked")
    assert second.decision_rule == "tcpa_exemption"


def test_express_consent_for_the_number_lifts_the_limit(templates, system_actor):
    patient = _patient()
    ChannelConsent.objects.create(
        patient=patient,
        channel="sms",
        address="+16175550142",
        method="written",
        given_by="patient",
        given_at=NOON_NY,
    )
    messages = enqueue_messages(actor=system_actor, requests=[_reminder(patient)] * 2)
    assert [m.status for m in messages] == ["queued", "queued"]


def test_marketing_needs_marketing_consent(templates, system_actor):
    patient = _patient()
    ChannelConsent.objects.create(
        patient=patient,
        channel="sms",
        address="+16175550142",
        method="written",
        given_by="patient",
        given_at=NOON_NY,
    )
    campaign = MessageRequest(patient_id=patient.public_id, purpose="campaign", channel="sms")
    assert _enqueue(system_actor, campaign).decision_rule == ("marketing_consent")
    ConsentFactory.create(
        patient=patient,
        purpose="marketing",
        status="active",
        decided_at=NOON_NY,
        received_at=NOON_NY,
    )
    again = MessageRequest(patient_id=patient.public_id, purpose="campaign", channel="sms")
    assert _enqueue(system_actor, again).status == "queued"


def test_clinical_variables_never_reach_an_sms_template(templates, system_actor):
    templates[("appointment_reminder", "sms")].body = "{visit_type} {org_name}"
    templates[("appointment_reminder", "sms")].save()
    with pytest.raises(ValidationFailed, match="visit_type may not appear in a sms message"):
        enqueue_message(actor=system_actor, request=_reminder(_patient()))
    assert Message.objects.count() == 0


def test_a_sensitive_location_is_left_out_of_the_text(templates, system_actor):
    message = _enqueue(system_actor, _reminder(_patient(), sensitive_location=True))
    assert "Main" not in message.body
    assert "at our clinic." in message.body


def test_cancel_and_replan_pending_messages_of_a_subject(templates, system_actor):
    first, second = _patient(number="+16175550111"), _patient(number="+16175550112")
    enqueue_messages(
        actor=system_actor,
        requests=[
            _reminder(first, subject_ref="scheduling.Appointment:1"),
            _reminder(second, subject_ref="scheduling.Appointment:2"),
        ],
    )
    assert cancel_pending(actor=system_actor, subject_ref="scheduling.Appointment:1") == 1
    assert TimelineEvent.objects.get(patient=first, kind="message").title.endswith("Cancelled")
    moved = replan_pending(
        actor=system_actor,
        subject_ref="scheduling.Appointment:2",
        shift=dt.timedelta(days=1),
        expires_at=None,
    )
    assert moved == 1
    assert Message.objects.get(patient=second).due_at == NOON_NY + dt.timedelta(days=1)


def test_unknown_patient_or_purpose_is_refused(templates, system_actor):
    with pytest.raises(ValidationFailed, match="No such patient"):
        enqueue_message(
            actor=system_actor,
            request=MessageRequest(
                patient_id=uuid.uuid4(), purpose="appointment_reminder", channel="sms"
            ),
        )
    with pytest.raises(ValidationFailed, match="is not a message purpose"):
        enqueue_message(
            actor=system_actor,
            request=MessageRequest(
                patient_id=None, purpose="gossip", channel="sms", to_address="+16175550199"
            ),
        )


def test_a_batch_costs_the_same_number_of_queries_for_3_or_30_patients(
    templates, system_actor, django_assert_max_num_queries
):
    def batch(count, offset):
        return [_reminder(_patient(number=f"+1617555{offset + n:04d}")) for n in range(count)]

    small, large = batch(3, 0), batch(30, 100)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        enqueue_messages(actor=system_actor, requests=small)
    with CaptureQueriesContext(connection) as many:
        enqueue_messages(actor=system_actor, requests=large)

    def kinds(context):
        """Statement and table; SQLite splits one bulk INSERT (999 parameters): collapsed."""
        found = [_statement(str(query["sql"])) for query in context]
        return [kind for n, kind in enumerate(found) if n == 0 or kind != found[n - 1]]

    assert kinds(many) == kinds(few)
    # Sealing the audit entries on append takes one more statement on PostgreSQL (its lock).
    assert len(kinds(few)) == (14 if connection.vendor == "postgresql" else 13)


def _statement(sql):
    """The statement's verb and first quoted name (its table)."""
    first = sql.split(" ")[0]
    parts = sql.split('"')
    return f"{first if first.isalpha() else '?'} {parts[1] if len(parts) > 1 else ''}"
