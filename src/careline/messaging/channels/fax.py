"""Fax through Phaxio (Sinch's fax API), or any server speaking its REST API (v2.1).

Twilio no longer offers fax. Phaxio's API is plain HTTP with basic auth: ``POST /faxes`` with
``to``, the document (a ``file`` upload, or a ``content_url`` it fetches) and up to ten
``tag[name]=value`` pairs; ``GET /faxes`` lists faxes filtered by direction, creation time,
number and tag; status callbacks are form POSTs signed with ``X-Phaxio-Signature``.
``PHAXIO_API_BASE_URL`` points the adapter at a stand-in (``testing.fake_phaxio``).

**Reconciliation** is exact here: every fax carries the outbox reference as the tag
``careline_reference``, and ``find_sent`` asks for sent faxes with that tag created since the
attempt began (less a clock-skew margin).

The document: ``headers["content_url"]``, when the dispatcher gives one (a signed link to a
rendered document), is sent as ``content_url``; otherwise the body is sent as a plain-text
file. A fax reaches a machine anyone may stand at, so the PHI rules of the policy gate apply
to it as to any channel; ``covered_by_baa`` comes from ``PHAXIO_COVERED_BY_BAA``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from careline.messaging.channels.base import (
    ChannelError,
    ChannelKind,
    DeliveryReport,
    FailureKind,
    InboundMessage,
    OutgoingMessage,
    PermanentFailure,
    SendResult,
    TransientFailure,
)
from careline.messaging.channels.provider_http import (
    DEFAULT_RATE_LIMIT_RETRY_SECONDS,
    WebhookPayloadError,
    parse_retry_after,
)

REFERENCE_TAG = "careline_reference"
CLOCK_SKEW = timedelta(minutes=5)

# Phaxio's fax statuses and the name Careline records.
FAX_STATUSES = {
    "queued": "queued",
    "pendingbatch": "queued",
    "inprogress": "sent",
    "success": "delivered",
    "failure": "failed",
    "partialsuccess": "failed",
}
# Phaxio's error types: a busy line or a machine that did not answer may succeed later; a
# document it cannot render or a fatal error will not.
FAX_ERROR_KINDS = {
    "lineError": FailureKind.UNAVAILABLE,
    "faxError": FailureKind.UNAVAILABLE,
    "generalError": FailureKind.UNAVAILABLE,
    "documentConversionError": FailureKind.REJECTED,
    "fatalError": FailureKind.REJECTED,
}


@dataclass(frozen=True)
class PhaxioConfig:
    api_key: str
    api_secret: str
    callback_token: str = ""
    caller_id: str = ""
    api_base_url: str = "https://api.phaxio.com/v2.1"
    covered_by_baa: bool = False
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.api_key or not self.api_secret:
            raise ImproperlyConfigured("PHAXIO_API_KEY and PHAXIO_API_SECRET must be set.")

    @classmethod
    def from_settings(cls) -> PhaxioConfig:
        return cls(
            api_key=settings.PHAXIO_API_KEY,
            api_secret=settings.PHAXIO_API_SECRET,
            callback_token=settings.PHAXIO_CALLBACK_TOKEN,
            caller_id=settings.PHAXIO_CALLER_ID,
            api_base_url=settings.PHAXIO_API_BASE_URL,
            covered_by_baa=settings.PHAXIO_COVERED_BY_BAA,
            timeout_seconds=settings.PHAXIO_TIMEOUT_SECONDS,
        )


class PhaxioFaxAdapter:
    """``ChannelAdapter`` for fax through Phaxio's v2.1 API."""

    name = "phaxio-fax"
    channel = ChannelKind.FAX
    reconciles = True

    def __init__(self, config: PhaxioConfig) -> None:
        self.config = config
        self.covered_by_baa = config.covered_by_baa
        self._session = requests.Session()
        self._session.auth = (config.api_key, config.api_secret)

    @classmethod
    def from_settings(cls) -> PhaxioFaxAdapter:
        return cls(PhaxioConfig.from_settings())

    def send(self, message: OutgoingMessage) -> SendResult:
        data = {"to": message.to, f"tag[{REFERENCE_TAG}]": message.reference}
        if self.config.caller_id:
            data["caller_id"] = self.config.caller_id
        if message.status_callback_url:
            data["callback_url"] = message.status_callback_url
        files = None
        if message.headers.get("content_url"):
            data["content_url"] = message.headers["content_url"]
        else:
            files = {"file": ("message.txt", message.body.encode(), "text/plain")}
        payload = self._request("POST", "faxes", data=data, files=files)
        return SendResult(provider_message_id=str(payload["data"]["id"]), status="queued")

    def find_sent(self, message: OutgoingMessage, *, since: datetime) -> SendResult | None:
        params = {
            "direction": "sent",
            "created_after": (since - CLOCK_SKEW).isoformat(),
            f"tag[{REFERENCE_TAG}]": message.reference,
            "per_page": "20",
        }
        payload = self._request("GET", "faxes", params=params)
        for fax in payload.get("data") or []:
            if (fax.get("tags") or {}).get(REFERENCE_TAG) == message.reference:
                return SendResult(
                    provider_message_id=str(fax["id"]),
                    status=FAX_STATUSES.get(str(fax.get("status")), "sent"),
                    sent_at=_parse_time(fax.get("created_at")),
                )
        return None

    def _request(self, method: str, path: str, **arguments: Any) -> dict[str, Any]:
        url = f"{self.config.api_base_url.rstrip('/')}/{path}"
        try:
            response = self._session.request(
                method, url, timeout=self.config.timeout_seconds, **arguments
            )
        except requests.Timeout as error:
            # The fax may have been accepted: in doubt until ``find_sent`` answers.
            raise TransientFailure(
                FailureKind.UNAVAILABLE, "The fax provider did not answer in time.", code="timeout"
            ) from error
        except requests.RequestException as error:
            raise TransientFailure(
                FailureKind.UNAVAILABLE,
                "The fax provider could not be reached.",
                code="connection",
            ) from error
        try:
            payload: dict[str, Any] = response.json()
        except ValueError:
            payload = {}
        if response.ok and payload.get("success"):
            return payload
        raise failure_for_fax_response(
            status=response.status_code,
            message=str(payload.get("message") or ""),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )


def failure_for_fax_response(
    *, status: int, message: str, retry_after: float | None = None
) -> ChannelError:
    """Phaxio's refusals by HTTP status (its errors carry no code): 422 about the number →
    invalid address, other 422 → rejected, 429 → rate limited, 401 and 5xx → unavailable."""
    code = str(status)
    if status == 429:
        return TransientFailure(
            FailureKind.RATE_LIMITED,
            "The fax provider asks us to send more slowly.",
            code=code,
            retry_after=DEFAULT_RATE_LIMIT_RETRY_SECONDS if retry_after is None else retry_after,
        )
    if status == 401 or status >= 500:
        reason = (
            "The fax provider refused our credentials: check settings."
            if status == 401
            else f"The fax provider answered HTTP {status}."
        )
        return TransientFailure(FailureKind.UNAVAILABLE, reason, code=code)
    if status == 422 and ("number" in message.lower() or "recipient" in message.lower()):
        return PermanentFailure(
            FailureKind.INVALID_ADDRESS, "The fax number is not valid.", code=code
        )
    return PermanentFailure(
        FailureKind.REJECTED, f"The fax provider refused the fax (HTTP {status}).", code=code
    )


class PhaxioWebhookVerifier:
    """``WebhookVerifier`` for Phaxio's callbacks: ``X-Phaxio-Signature`` is the hex
    HMAC-SHA1, keyed with the callback token, of the URL, then each POST parameter's name and
    value in name order, then each uploaded file's name and SHA-1 (received faxes)."""

    def __init__(self, callback_token: str) -> None:
        if not callback_token:
            raise ValueError("A Phaxio callback token is needed to verify its callbacks.")
        self._token = callback_token.encode()

    def sign(
        self, url: str, params: Mapping[str, str], files: Iterable[tuple[str, bytes]] = ()
    ) -> str:
        signed = url + "".join(f"{name}{params[name]}" for name in sorted(params))
        signed += "".join(
            name + hashlib.sha1(content).hexdigest()  # noqa: S324 - Phaxio's scheme
            for name, content in sorted(files)
        )
        return hmac.new(self._token, signed.encode(), hashlib.sha1).hexdigest()

    def verify(
        self,
        url: str,
        params: Mapping[str, str],
        signature: str,
        files: Iterable[tuple[str, bytes]] = (),
    ) -> bool:
        if not signature:
            return False
        return hmac.compare_digest(self.sign(url, params, files), signature)

    def parse_status(self, params: Mapping[str, str]) -> DeliveryReport:
        fax = _fax_of(params)
        status = FAX_STATUSES.get(str(fax.get("status")))
        if status is None:
            raise WebhookPayloadError(f"Unknown fax status {fax.get('status')!r}.")
        recipients = fax.get("recipients") or [{}]
        recipient = recipients[0] if isinstance(recipients[0], dict) else {}
        error_type = str(recipient.get("error_type") or fax.get("error_type") or "")
        error_id = recipient.get("error_id") or fax.get("error_id")
        return DeliveryReport(
            provider_message_id=str(fax["id"]),
            status=status,
            error_code=str(error_id) if error_id else "",
            error_kind=FAX_ERROR_KINDS.get(error_type, FailureKind.REJECTED)
            if error_type
            else None,
            occurred_at=_parse_time(fax.get("completed_at")),
        )

    def parse_inbound(self, params: Mapping[str, str]) -> InboundMessage:
        fax = _fax_of(params)
        sender = fax.get("from_number") or fax.get("caller_id")
        if not sender or not fax.get("to_number"):
            raise WebhookPayloadError("The received fax names no sender or recipient.")
        return InboundMessage(
            channel=ChannelKind.FAX,
            sender=str(sender),
            recipient=str(fax["to_number"]),
            body="",  # the document is fetched by the fax's id, not carried as text
            provider_message_id=str(fax["id"]),
            received_at=_parse_time(fax.get("completed_at") or fax.get("created_at")),
        )


def _fax_of(params: Mapping[str, str]) -> dict[str, Any]:
    try:
        fax = json.loads(params.get("fax", ""))
    except ValueError as error:
        raise WebhookPayloadError("The callback's fax is not JSON.") from error
    if not isinstance(fax, dict) or not fax.get("id"):
        raise WebhookPayloadError("The callback names no fax.")
    return fax


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
