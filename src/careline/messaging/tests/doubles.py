"""A scripted SMS adapter for the dispatcher's failure paths: each send pops the next
scripted answer (a failure to raise, or None to accept). Configured through
``CARELINE_MESSAGING_ADAPTERS`` like any adapter."""

from __future__ import annotations

from datetime import datetime

from careline.messaging.channels.base import (
    ChannelError,
    ChannelKind,
    OutgoingMessage,
    SendResult,
)

SCRIPT: list[ChannelError | None] = []
SENT: list[str] = []


class ScriptedSmsAdapter:
    name = "scripted-sms"
    channel = ChannelKind.SMS
    covered_by_baa = True
    reconciles = True

    def send(self, message: OutgoingMessage) -> SendResult:
        answer = SCRIPT.pop(0) if SCRIPT else None
        if answer is not None:
            raise answer
        SENT.append(message.reference)
        return SendResult(provider_message_id=f"SM{len(SENT)}")

    def find_sent(self, message: OutgoingMessage, *, since: datetime) -> SendResult | None:
        del since
        if message.reference in SENT:
            return SendResult(provider_message_id=f"SM-found-{message.reference}")
        return None
