"""Email through a real local SMTP server (aiosmtpd): delivered once, with the deterministic
Message-ID <reference@domain>; an unreachable server is a transient failure."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careline.messaging.dispatch import dispatch_once
from careline.messaging.models import Message
from careline.messaging.services import MessageRequest, enqueue_messages
from careline.messaging.tests.smtp_sink import free_port, start_smtp_sink
from careline.testing.factories import ContactPointFactory, PatientFactory

NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def smtp(settings):
    controller, handler = start_smtp_sink()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.CARELINE_MESSAGING_ADAPTERS = (
        "email=careline.messaging.channels.email.SmtpEmailAdapter"
    )
    yield handler
    controller.stop()


def _emails(actor, count):
    requests = []
    for n in range(count):
        patient = PatientFactory.create(postal_code="02115", state="MA")
        ContactPointFactory.create(
            patient=patient, system="email", use="home", value=f"p{n}@example.org"
        )
        requests.append(
            MessageRequest(
                patient_id=patient.public_id,
                purpose="appointment_reminder",
                channel="email",
                context={"appointment_date": "Jun 12"},
            )
        )
    return enqueue_messages(actor=actor, requests=requests)


@time_machine.travel(NOON_NY, tick=False)
def test_emails_arrive_once_with_the_deterministic_message_id(templates, system_actor, smtp):
    messages = _emails(system_actor, 3)
    assert dispatch_once(worker="w1") == 3
    expected = {f"<{m.public_id}@careline.invalid>" for m in messages}
    assert set(smtp.message_ids) == expected
    assert smtp.total == 3
    assert sorted(smtp.recipients) == ["p0@example.org", "p1@example.org", "p2@example.org"]
    rows = Message.objects.all()
    assert {(m.status, m.provider_message_id) for m in rows} == {
        ("sent", f"<{m.public_id}@careline.invalid>") for m in messages
    }


@time_machine.travel(NOON_NY, tick=False)
def test_an_unreachable_mail_server_is_retried_later(templates, system_actor, settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.CARELINE_MESSAGING_ADAPTERS = (
        "email=careline.messaging.channels.email.SmtpEmailAdapter"
    )
    (message,) = _emails(system_actor, 1)
    dispatch_once(worker="w1")
    message.refresh_from_db()
    assert (message.status, message.error_kind, message.attempts) == ("queued", "unavailable", 1)
    assert message.next_attempt_at == NOON_NY + dt.timedelta(seconds=30)
