"""Crash safety on PostgreSQL: a dispatcher *process* killed with SIGKILL in the middle of a
batch. After a restart nothing is lost, no SMS-sink or portal message was sent twice (in-doubt
ones are reconciled with the sink's record first), and an email repeats only if it was in
doubt — and then with the same Message-ID. The figures are printed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from careline.messaging.dispatch import dispatch_once
from careline.messaging.models import Message, SinkRecord, Status
from careline.messaging.recovery import reap_expired_claims, reconcile_in_doubt
from careline.messaging.services import MessageRequest, enqueue_messages
from careline.messaging.tests.smtp_sink import CountingHandler, free_port
from careline.testing.factories import ContactPointFactory, PatientFactory

PER_CHANNEL = 120
DAYTIME_ZONES = [
    "Pacific/Kiritimati",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/Berlin",
    "Atlantic/Azores",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Denver",
    "Pacific/Honolulu",
]


class SlowHandler(CountingHandler):
    """A mail server that takes a few milliseconds a message, so a kill lands mid-batch."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.004)
        return await super().handle_DATA(server, session, envelope)


def _daytime_zone() -> str:
    """A zone where it is between 10:00 and 18:00 now, so quiet hours hold nothing back."""
    now = datetime.now(UTC)
    return next(z for z in DAYTIME_ZONES if 10 <= now.astimezone(ZoneInfo(z)).hour < 18)


def _plan(actor) -> list[Message]:
    requests = []
    for n in range(PER_CHANNEL):
        patient = PatientFactory.create()
        # Area code 555 names no zone: the organisation's zone applies (set to daytime).
        ContactPointFactory.create(
            patient=patient, system="sms", use="mobile", value=f"+1555{n:07d}"
        )
        ContactPointFactory.create(patient=patient, system="email", value=f"p{n}@example.org")
        for channel in ("email", "sms", "portal"):
            requests.append(
                MessageRequest(
                    patient_id=patient.public_id,
                    purpose="appointment_reminder",
                    channel=channel,
                    context={"appointment_date": "Jun 12"},
                )
            )
    return enqueue_messages(actor=actor, requests=requests)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_killed_dispatcher_loses_nothing_and_sends_no_sms_twice(
    postgres_only, templates, system_actor, settings, capsys
):
    zone = _daytime_zone()
    settings.CARELINE_TIME_ZONE = zone
    handler = SlowHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    adapters = (
        "email=careline.messaging.channels.email.SmtpEmailAdapter,"
        "sms=careline.messaging.channels.sink.SmsSinkAdapter,"
        "portal=careline.messaging.channels.portal.PortalAdapter"
    )
    settings.CARELINE_MESSAGING_ADAPTERS = adapters
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    try:
        messages = _plan(system_actor)
        assert {m.status for m in messages} == {Status.QUEUED}
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CARELINE_MESSAGING_ADAPTERS": adapters,
            "CARELINE_MESSAGING_RATES": "",
            "CARELINE_MESSAGING_BATCH_SIZE": "40",
            "CARELINE_TIME_ZONE": zone,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(controller.port),
            "CARELINE_AUDIT_CHECKPOINT_FILE": "",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "careline.messaging.tests.dispatch_process"], env=env
        )
        deadline = time.monotonic() + 120
        while handler.total < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        in_doubt_before = Message.objects.filter(status=Status.SENDING).count()
        assert handler.total >= 20, "the worker never got going"
        assert in_doubt_before > 0, "the kill did not land mid-batch"
        # Restart: the lease of the dead worker's claims has expired.
        reap_expired_claims(lease=0)
        email_in_doubt = set(
            Message.objects.filter(status=Status.IN_DOUBT, channel="email").values_list(
                "public_id", flat=True
            )
        )
        reconcile_in_doubt()
        while dispatch_once(worker="restarted", limit=100):
            pass
    finally:
        controller.stop()
    assert Message.objects.exclude(status=Status.SENT).count() == 0  # nothing lost
    sink = SinkRecord.objects.all()
    assert sink.filter(channel="sms").count() == PER_CHANNEL
    assert sink.filter(channel="portal").count() == PER_CHANNEL
    assert set(sink.values_list("attempts", flat=True)) == {1}  # no SMS/portal twice
    expected_ids = {f"<{m.public_id}@careline.invalid>" for m in messages if m.channel == "email"}
    assert set(handler.message_ids) == expected_ids  # every email arrived
    repeated = {mid for mid, count in handler.message_ids.items() if count > 1}
    in_doubt_ids = {f"<{ref}@careline.invalid>" for ref in email_in_doubt}
    assert repeated <= in_doubt_ids  # a repeat only for an in-doubt email, same Message-ID
    with capsys.disabled():  # the figures the issue asks to report
        sys.stdout.write(
            f"\ncrash test: {in_doubt_before} sending at the kill, {len(email_in_doubt)} emails in "
            f"doubt; SMS sink {PER_CHANNEL} stored, 0 twice; portal 0 twice; emails "
            f"{handler.total} received for {len(expected_ids)}, {handler.duplicates} repeated "
            "(same Message-ID)\n"
        )
