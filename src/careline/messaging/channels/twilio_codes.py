"""Twilio's error codes, mapped once to what the dispatcher does about them.

Used for both the answer to a send (``POST Messages.json`` refused) and the error code of a
status callback (a message accepted, then undeliverable). The kind decides what follows
(``channels.base``): ``rate_limited`` and ``unavailable`` are worth another try; the others are
permanent and ``opted_out`` / ``landline`` / ``filtered`` each change what Careline does next.
The reasons are sentences for staff and never repeat the provider's message, which may echo
the number.
"""

from __future__ import annotations

from careline.messaging.channels.base import (
    ChannelError,
    FailureKind,
    PermanentFailure,
    TransientFailure,
)
from careline.messaging.channels.provider_http import DEFAULT_RATE_LIMIT_RETRY_SECONDS

TRANSIENT_KINDS = frozenset({FailureKind.RATE_LIMITED, FailureKind.UNAVAILABLE})

# https://www.twilio.com/docs/api/errors
TWILIO_CODES: dict[str, tuple[FailureKind, str]] = {
    "21610": (FailureKind.OPTED_OUT, "The recipient opted out of texts from this sender."),
    "30004": (FailureKind.OPTED_OUT, "The carrier blocked the message: the recipient refuses it."),
    "21614": (FailureKind.LANDLINE, "The number is not a mobile number and cannot get texts."),
    "30006": (FailureKind.LANDLINE, "The number is a landline or its carrier takes no texts."),
    "21211": (FailureKind.INVALID_ADDRESS, "The number is not a valid phone number."),
    "30005": (FailureKind.INVALID_ADDRESS, "The number is unknown to its carrier."),
    "30007": (FailureKind.FILTERED, "A carrier filter blocked the message: staff must review it."),
    "30034": (
        FailureKind.FILTERED,
        "Carriers block texts from an unregistered sender (A2P 10DLC).",
    ),
    "20429": (FailureKind.RATE_LIMITED, "The provider asks us to send more slowly."),
    "14107": (FailureKind.RATE_LIMITED, "The sender's text rate limit was reached."),
    "21611": (FailureKind.RATE_LIMITED, "The sender's outgoing queue is full."),
    "20003": (FailureKind.UNAVAILABLE, "The provider refused our credentials: check settings."),
    "20500": (FailureKind.UNAVAILABLE, "The provider had an internal error."),
    "20503": (FailureKind.UNAVAILABLE, "The provider is unavailable."),
    "30003": (FailureKind.UNAVAILABLE, "The handset is unreachable (off or out of coverage)."),
    "30008": (FailureKind.UNAVAILABLE, "The carrier reported an unknown delivery error."),
    "21408": (FailureKind.REJECTED, "Texts to this region are not enabled for the account."),
    "21612": (FailureKind.REJECTED, "This sender cannot reach that number by text."),
}


def kind_for_code(code: str) -> FailureKind | None:
    """The kind of a Twilio error code, ``None`` for an empty code; an unknown code is a
    permanent ``rejected``."""
    if not code:
        return None
    entry = TWILIO_CODES.get(code)
    return entry[0] if entry else FailureKind.REJECTED


def failure_for_response(
    *, status: int, code: str, retry_after: float | None = None
) -> ChannelError:
    """The exception for a refused API call: by Twilio's code when it is known, else by the
    HTTP status (429 → rate limited, 401 and 5xx → unavailable, other 4xx → rejected)."""
    entry = TWILIO_CODES.get(code)
    if entry is not None:
        kind, reason = entry
    elif status == 429:
        kind, reason = TWILIO_CODES["20429"]
    elif status == 401:
        kind, reason = TWILIO_CODES["20003"]
    elif status >= 500:
        kind, reason = FailureKind.UNAVAILABLE, f"The provider answered HTTP {status}."
    else:
        kind, reason = FailureKind.REJECTED, f"The provider refused the message (HTTP {status})."
    code = code or str(status)
    if kind not in TRANSIENT_KINDS:
        return PermanentFailure(kind, reason, code=code)
    if kind is FailureKind.RATE_LIMITED and retry_after is None:
        retry_after = DEFAULT_RATE_LIMIT_RETRY_SECONDS
    return TransientFailure(kind, reason, code=code, retry_after=retry_after)
