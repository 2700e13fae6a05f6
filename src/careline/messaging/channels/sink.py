"""Demo sinks: SMS, voice, fax (and email in demo mode) are stored instead of sent, so staff
can read on the Outbox page what would have left. Each store counts its attempts per
reference: a second ``send`` of the same message is visible (the crash tests count it), and
``find_sent`` answers from the store, so in-doubt sends reconcile like a real provider's."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from careline.messaging.channels.base import ChannelKind, OutgoingMessage, SendResult
from careline.messaging.models import SinkRecord
from careline.platform import clock


class SinkAdapter:
    name = "sink"
    channel = ChannelKind.SMS
    covered_by_baa = True
    reconciles = True

    def send(self, message: OutgoingMessage) -> SendResult:
        now = clock.now()
        try:
            with transaction.atomic():
                SinkRecord.objects.create(
                    reference=message.reference,
                    channel=message.channel.value,
                    to_address=message.to,
                    subject=message.subject,
                    body=message.body,
                    created_at=now,
                )
        except IntegrityError:
            SinkRecord.objects.filter(reference=message.reference).update(
                attempts=F("attempts") + 1
            )
        return SendResult(provider_message_id=f"{self.name}-{message.reference}", sent_at=now)

    def find_sent(self, message: OutgoingMessage, *, since: datetime) -> SendResult | None:
        del since
        found = SinkRecord.objects.filter(reference=message.reference).first()
        if found is None:
            return None
        return SendResult(
            provider_message_id=f"{self.name}-{message.reference}", sent_at=found.created_at
        )


class SmsSinkAdapter(SinkAdapter):
    name = "sink-sms"
    channel = ChannelKind.SMS


class VoiceSinkAdapter(SinkAdapter):
    name = "sink-voice"
    channel = ChannelKind.VOICE


class FaxSinkAdapter(SinkAdapter):
    name = "sink-fax"
    channel = ChannelKind.FAX


class EmailSinkAdapter(SinkAdapter):
    name = "sink-email"
    channel = ChannelKind.EMAIL
