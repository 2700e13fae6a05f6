"""The dispatcher: claim → gate again → SENDING committed → adapter → SENT/retry/FAILED;
recovery of in-doubt sends; pacing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careline.messaging.channels.base import FailureKind, PermanentFailure, TransientFailure
from careline.messaging.dispatch import backoff, claim_due, dispatch_once
from careline.messaging.models import Message, SinkRecord, Status, Suppression
from careline.messaging.pacing import Pacer
from careline.messaging.recovery import recover
from careline.messaging.services import MessageRequest, enqueue_messages
from careline.messaging.tests import doubles
from careline.patients.models import TimelineEvent
from careline.testing.factories import ContactPointFactory, PatientFactory

NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
CONTEXT = {"appointment_date": "Jun 12", "appointment_time": "10:00", "location_name": "Main"}


def _queue(actor, count, channel="sms"):
    requests = []
    for n in range(count):
        patient = PatientFactory.create(postal_code="02115", state="MA")
        ContactPointFactory.create(
            patient=patient, system="phone", use="mobile", value=f"+1617555{n:04d}"
        )
        ContactPointFactory.create(
            patient=patient, system="email", use="home", value=f"p{n}@example.org"
        )
        requests.append(
            MessageRequest(
                patient_id=patient.public_id,
                purpose="appointment_reminder",
                channel=channel,
                context=CONTEXT,
            )
        )
    return enqueue_messages(actor=actor, requests=requests)


@pytest.fixture
def traveller():
    with time_machine.travel(NOON_NY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scripted(settings):
    settings.CARELINE_MESSAGING_ADAPTERS = "sms=careline.messaging.tests.doubles.ScriptedSmsAdapter"
    doubles.SCRIPT.clear()
    doubles.SENT.clear()
    return doubles


def test_due_messages_reach_the_sink_once_and_are_recorded_sent(templates, system_actor, traveller):
    messages = _queue(system_actor, 3)
    assert dispatch_once(worker="w1") == 3
    assert dispatch_once(worker="w1") == 0
    rows = Message.objects.order_by("pk")
    assert [m.status for m in rows] == ["sent"] * 3
    assert [m.provider_message_id for m in rows] == [f"sink-sms-{m.public_id}" for m in messages]
    assert sorted(SinkRecord.objects.values_list("attempts", flat=True)) == [1, 1, 1]
    titles = set(TimelineEvent.objects.filter(kind="message").values_list("title", flat=True))
    assert titles == {"Text message · Appointment reminder: Sent"}


def test_the_gate_decides_again_before_sending(templates, system_actor, traveller):
    first, second = _queue(system_actor, 2)
    Suppression.objects.create(
        channel="sms", address=first.to_address, reason="stop", created_at=NOON_NY
    )
    assert dispatch_once(worker="w1") == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.decision_rule) == ("blocked", "suppressed")
    assert second.status == "sent"
    assert SinkRecord.objects.count() == 1


def test_a_message_claimed_is_committed_sending_before_any_send(templates, system_actor, traveller):
    _queue(system_actor, 2)
    claimed = claim_due(worker="w1", limit=10)
    assert [Message.objects.get(pk=c.message.pk).status for c in claimed] == ["sending"] * 2
    assert set(Message.objects.values_list("claimed_by", "attempts")) == {("w1", 1)}
    assert SinkRecord.objects.count() == 0


def test_transient_failures_retry_with_exponential_backoff_then_fail(
    templates, system_actor, traveller, scripted
):
    (message,) = _queue(system_actor, 1)
    busy = TransientFailure(FailureKind.RATE_LIMITED, "Too many requests", code="20429")
    scripted.SCRIPT.extend([busy, busy, busy])
    dispatch_once(worker="w1")
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code) == ("queued", 1, "20429")
    assert message.next_attempt_at == NOON_NY + dt.timedelta(seconds=30)
    traveller.shift(dt.timedelta(seconds=30))
    dispatch_once(worker="w1")
    message.refresh_from_db()
    assert message.next_attempt_at == NOON_NY + dt.timedelta(seconds=30 + 60)
    traveller.shift(dt.timedelta(seconds=60))
    dispatch_once(worker="w1")
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_kind) == ("failed", 3, "rate_limited")
    assert backoff(1, retry_after=120) == dt.timedelta(seconds=120)


@pytest.mark.parametrize(
    ("kind", "channel", "reason"),
    [
        (FailureKind.OPTED_OUT, "sms", "carrier"),
        (FailureKind.LANDLINE, "sms", "landline"),
    ],
)
def test_a_permanent_failure_records_the_code_and_suppresses(
    templates, system_actor, traveller, scripted, kind, channel, reason
):
    (message,) = _queue(system_actor, 1)
    scripted.SCRIPT.append(PermanentFailure(kind, "Refused by the carrier", code="21610"))
    dispatch_once(worker="w1")
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_kind) == ("failed", "21610", kind)
    assert message.error_reason == "Refused by the carrier"
    suppression = Suppression.objects.get()
    assert (suppression.channel, suppression.address, suppression.reason) == (
        channel,
        message.to_address,
        reason,
    )


def test_a_killed_send_is_reconciled_not_resent(
    templates, system_actor, traveller, scripted, settings
):
    settings.CARELINE_MESSAGING_LEASE_SECONDS = 60
    first, second = _queue(system_actor, 2)
    claimed = claim_due(worker="dead", limit=10)
    # The dead worker reached the provider with the first message only, then was killed.
    from careline.messaging.dispatch import outgoing
    from careline.messaging.tests.doubles import ScriptedSmsAdapter

    ScriptedSmsAdapter().send(outgoing(claimed[0].message))
    assert recover() == (0, 0)  # the lease has not expired yet
    traveller.shift(dt.timedelta(seconds=61))
    assert recover() == (1, 1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.provider_message_id) == ("sent", f"SM-found-{first.public_id}")
    assert second.status == "queued"
    dispatch_once(worker="w2")
    assert [str(first.public_id), str(second.public_id)] == scripted.SENT


def test_the_pacer_spaces_departures_and_computes_a_batch_leave_time():
    pacer = Pacer(rate=2.0)
    assert pacer.departures(NOON_NY, 3) == [
        NOON_NY,
        NOON_NY + dt.timedelta(seconds=0.5),
        NOON_NY + dt.timedelta(seconds=1),
    ]
    assert pacer.finished_at(NOON_NY, 100_000) - NOON_NY == dt.timedelta(seconds=49_999.5)
    assert pacer.capacity(NOON_NY, NOON_NY + dt.timedelta(seconds=1)) == 3


def test_paced_claims_take_only_what_leaves_within_the_horizon(
    templates, system_actor, traveller, settings
):
    settings.CARELINE_MESSAGING_RATES = "sms=2"
    settings.CARELINE_MESSAGING_DISPATCH_SECONDS = 1
    _queue(system_actor, 5)
    first = claim_due(worker="w1", limit=10)
    assert [c.departs_at - NOON_NY for c in first] == [dt.timedelta(seconds=s) for s in (0, 0.5, 1)]
    second = claim_due(worker="w2", limit=10)  # the first worker's departures are reserved
    assert second == []
    traveller.shift(dt.timedelta(seconds=1.5))
    third = claim_due(worker="w2", limit=10)
    assert [c.departs_at - NOON_NY for c in third] == [
        dt.timedelta(seconds=s) for s in (1.5, 2, 2.5)
    ][: len(third)]
    assert Message.objects.filter(status=Status.SENDING).count() == 3 + len(third)
