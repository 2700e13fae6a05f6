"""The one interface every channel adapter speaks (email, SMS, voice, fax, portal, chat).

The outbox dispatcher knows only this module. An adapter turns one ``OutgoingMessage`` into
one provider call and says what happened:

- it returns a ``SendResult`` when the provider accepted the message;
- it raises ``TransientFailure`` when a later try may succeed (rate limited, timeout, 5xx):
  the dispatcher retries with backoff, no earlier than ``retry_after`` seconds;
- it raises ``PermanentFailure`` when no retry can succeed (invalid number, hard bounce); its
  ``kind`` tells the dispatcher what else follows (``opted_out`` at the carrier suppresses the
  address; ``landline`` marks the number as not textable; ``filtered`` alerts staff).

At most once: before ``send`` is called the dispatcher commits the message as *sending*. A
worker killed after that leaves it *in doubt*; before any resend the dispatcher asks the
adapter's ``find_sent`` whether the provider has a message with that ``reference`` (the
outbox row's public id) and, if so, records it as sent instead of sending again. An adapter
whose provider keeps no searchable log (SMTP) returns ``None`` and sets
``reconciles = False``; the dispatcher then resends with the same ``reference`` (email uses
it for a deterministic Message-ID), so a repeat is recognisable.

Adapters hold no PHI beyond the call itself and never log bodies or addresses.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class ChannelKind(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"
    FAX = "fax"
    PORTAL = "portal"
    CHAT = "chat"


@dataclass(frozen=True)
class OutgoingMessage:
    """What an adapter sends. ``reference`` is the outbox row's public id: the client
    reference that makes a send recognisable at the provider (and a deterministic email
    Message-ID)."""

    reference: str
    channel: ChannelKind
    to: str
    body: str
    sender: str = ""
    subject: str = ""
    status_callback_url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    """The provider's answer: its id for the message and the status it reported
    (``queued``, ``sent``, ``delivered``)."""

    provider_message_id: str
    status: str = "sent"
    sent_at: datetime | None = None


class FailureKind(enum.StrEnum):
    OPTED_OUT = "opted_out"  # the carrier or provider refuses: the recipient opted out there
    LANDLINE = "landline"  # the number cannot receive texts
    INVALID_ADDRESS = "invalid_address"
    BOUNCED = "bounced"  # email hard bounce
    COMPLAINT = "complaint"  # email marked as spam
    FILTERED = "filtered"  # blocked by a carrier filter: staff must look
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"  # network, timeout, 5xx
    REJECTED = "rejected"  # any other permanent refusal


class ChannelError(Exception):
    """A provider refused or could not be reached. ``code`` is the provider's own code (e.g.
    Twilio's 21610), ``reason`` a sentence for staff without PHI."""

    def __init__(self, kind: FailureKind, reason: str, *, code: str = "") -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.code = code


class TransientFailure(ChannelError):
    def __init__(
        self, kind: FailureKind, reason: str, *, code: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(kind, reason, code=code)
        self.retry_after = retry_after


class PermanentFailure(ChannelError):
    pass


@dataclass(frozen=True)
class DeliveryReport:
    """A provider's status callback, verified and parsed: its message id, the new status
    (``sent``, ``delivered``, ``undelivered``, ``failed``, ``read``) and the error, if any."""

    provider_message_id: str
    status: str
    error_code: str = ""
    error_kind: FailureKind | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A message a patient (or anyone) sent us, verified and parsed."""

    channel: ChannelKind
    sender: str
    recipient: str
    body: str
    provider_message_id: str
    received_at: datetime | None = None


class ChannelAdapter(Protocol):
    """One way out. ``name`` identifies the adapter in settings and on each message;
    ``covered_by_baa`` says a business associate agreement covers the provider (no PHI goes
    to one that is not); ``reconciles`` says ``find_sent`` can answer."""

    name: str
    channel: ChannelKind
    covered_by_baa: bool
    reconciles: bool

    def send(self, message: OutgoingMessage) -> SendResult: ...

    def find_sent(self, message: OutgoingMessage, *, since: datetime) -> SendResult | None: ...


class WebhookVerifier(Protocol):
    """A provider's callbacks (delivery status, inbound messages): a request whose signature
    does not verify is refused before anything is parsed or stored."""

    def verify(self, url: str, params: Mapping[str, str], signature: str) -> bool: ...

    def parse_status(self, params: Mapping[str, str]) -> DeliveryReport: ...

    def parse_inbound(self, params: Mapping[str, str]) -> InboundMessage: ...
