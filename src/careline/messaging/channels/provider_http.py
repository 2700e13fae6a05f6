"""What the HTTP providers' adapters share: the entry points the webhook views call (a
signature that does not verify → 403, a malformed payload → 400, nothing stored either way),
and how a rate limit says when to come back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from careline.messaging.channels.base import DeliveryReport, InboundMessage, WebhookVerifier

# Seconds to wait after a 429 that names no Retry-After (Twilio's usually do not).
DEFAULT_RATE_LIMIT_RETRY_SECONDS = 5.0


class WebhookPayloadError(ValueError):
    """A verified callback that lacks what it must carry (answer 400, store nothing)."""


class WebhookSignatureError(Exception):
    """A callback whose signature does not verify (answer 403, parse and store nothing)."""


def verified_status(
    verifier: WebhookVerifier, *, url: str, params: Mapping[str, str], signature: str
) -> DeliveryReport:
    """A status callback's report, once its signature verifies. ``url`` is the URL the
    provider requested, as it requested it (the public one behind a proxy); ``params`` the POST
    parameters as received (a QueryDict is fine)."""
    if not verifier.verify(url, params, signature):
        raise WebhookSignatureError("The callback's signature does not verify.")
    return verifier.parse_status(params)


def verified_inbound(
    verifier: WebhookVerifier, *, url: str, params: Mapping[str, str], signature: str
) -> InboundMessage:
    """An incoming message, once its signature verifies (see ``verified_status``)."""
    if not verifier.verify(url, params, signature):
        raise WebhookSignatureError("The callback's signature does not verify.")
    return verifier.parse_inbound(params)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds (the HTTP-date form is not used
    by these providers); ``None`` when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
