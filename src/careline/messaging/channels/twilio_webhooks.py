"""Twilio's callbacks: verify the ``X-Twilio-Signature``, then parse a status callback into a
``DeliveryReport`` or an incoming text into an ``InboundMessage``.

Pure functions of the URL, the POST parameters and the header: the Django view that stores
the result belongs with the messaging models. The view must pass the URL exactly as Twilio
requested it (scheme, host, port and query — behind a proxy, the public one), refuse with 403
when ``verify`` is false before anything is parsed or stored, and answer 400 when parsing
raises ``WebhookPayloadError``.
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

from careline.messaging.channels.base import ChannelKind, DeliveryReport, InboundMessage
from careline.messaging.channels.provider_http import WebhookPayloadError
from careline.messaging.channels.twilio_codes import kind_for_code

__all__ = ["TwilioWebhookVerifier", "WebhookPayloadError"]

# Twilio's message statuses, as its callbacks report them, and the name Careline records.
_STATUSES = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "read": "read",
    "canceled": "failed",
}
# A voice call's statuses: answered and played is delivered.
_CALL_STATUSES = {
    "queued": "queued",
    "initiated": "queued",
    "ringing": "sent",
    "in-progress": "sent",
    "completed": "delivered",
    "busy": "undelivered",
    "no-answer": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


class TwilioWebhookVerifier:
    """``WebhookVerifier`` for Twilio's messaging callbacks, keyed by the auth token."""

    def __init__(self, auth_token: str) -> None:
        if not auth_token:
            raise ValueError("A Twilio auth token is needed to verify its callbacks.")
        self._validator = RequestValidator(auth_token)

    def verify(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        if not signature:
            return False
        # The validator reads a Django QueryDict's repeated parameters itself (``getlist``):
        # pass it as it came, never ``dict(request.POST)`` (lists) or a copy that keeps one.
        return bool(self._validator.validate(url, params, signature))

    def parse_status(self, params: Mapping[str, str]) -> DeliveryReport:
        """A message's status callback, or a voice call's (``CallSid``, ``CallStatus``)."""
        if params.get("CallSid"):
            message_id = _required(params, "CallSid")
            reported = params.get("CallStatus", "").lower()
            status = _CALL_STATUSES.get(reported)
        else:
            message_id = _required(params, "MessageSid")
            reported = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
            status = _STATUSES.get(reported)
        if status is None:
            raise WebhookPayloadError(f"Unknown message status {reported!r}.")
        error_code = params.get("ErrorCode", "").strip()
        return DeliveryReport(
            provider_message_id=message_id,
            status=status,
            error_code=error_code,
            error_kind=kind_for_code(error_code),
        )

    def parse_inbound(self, params: Mapping[str, str]) -> InboundMessage:
        return InboundMessage(
            channel=ChannelKind.SMS,
            sender=_required(params, "From"),
            recipient=_required(params, "To"),
            body=params.get("Body", ""),
            provider_message_id=params.get("MessageSid") or _required(params, "SmsSid"),
        )


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise WebhookPayloadError(f"The callback has no {name}.")
    return value
