"""What the HTTP providers' adapters share: the 400 a malformed callback earns, and how a
rate limit says when to come back."""

from __future__ import annotations

# Seconds to wait after a 429 that names no Retry-After (Twilio's usually do not).
DEFAULT_RATE_LIMIT_RETRY_SECONDS = 5.0


class WebhookPayloadError(ValueError):
    """A verified callback that lacks what it must carry (answer 400, store nothing)."""


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
