"""SMS (and voice) through Twilio, or through any server that speaks Twilio's REST API.

The adapter uses the ``twilio`` SDK. ``TWILIO_API_BASE_URL`` replaces the SDK's fixed
``https://api.twilio.com`` (the ``Api`` domain's ``base_url``; paging links are joined to it
too), so a local stand-in — ``careline.messaging.testing.fake_twilio`` in the tests — or a
regional edge can take Twilio's place without code changes.

**How ``find_sent`` recognises our message.** Twilio keeps no client reference on a message:
no tag, no idempotency key, and the status callback URL is not returned when messages are
listed. Putting a token in the body would cost characters of a 160-character text and show it
to the patient. So the reference travels two ways:

- in the status callback URL's query (``?careline_ref=<reference>``): Twilio signs the full
  URL, so every delivery report names its outbox row even when the answer to the send was
  lost and the provider's message id was never recorded (``reference_from_callback_url``);
- for reconciliation after a crash, ``find_sent`` lists the messages sent *to that number*
  (newest first, stopping at ``since`` less a clock-skew margin) and takes the oldest outbound
  message whose sender and body equal ours. Body + recipient + sender + time window is what
  identifies a text in practice: the outbox never plans two identical texts to one number
  inside the window of one send attempt.

If the account keeps no message bodies (Twilio's content retention off, the log shows an empty
body), any outbound message to that number from our sender since the attempt began counts as
ours: at most once prefers a message that may be missing to a text that arrives twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.sax.saxutils import escape

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from careline.messaging.channels.base import (
    ChannelKind,
    FailureKind,
    OutgoingMessage,
    SendResult,
    TransientFailure,
)
from careline.messaging.channels.provider_http import parse_retry_after
from careline.messaging.channels.twilio_codes import failure_for_response

REFERENCE_PARAM = "careline_ref"
# How far the provider's clock may be behind ours when the message log is searched.
CLOCK_SKEW = timedelta(minutes=5)
# Messages listed per page while searching the log.
LOG_PAGE_SIZE = 50
# The SDK logs each request's URL and query (a patient's number when the log is searched) at
# INFO: its logger is ours and keeps only warnings.
_SDK_LOGGER = logging.getLogger(f"{__name__}.sdk")
_SDK_LOGGER.setLevel(logging.WARNING)


@dataclass(frozen=True)
class TwilioConfig:
    """The account, the sender (a number, or a messaging service whose pool picks one) and
    where the API lives."""

    account_sid: str
    auth_token: str
    from_number: str = ""
    messaging_service_sid: str = ""
    api_base_url: str = "https://api.twilio.com"
    covered_by_baa: bool = False
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.account_sid or not self.auth_token:
            raise ImproperlyConfigured("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set.")
        if not self.from_number and not self.messaging_service_sid:
            raise ImproperlyConfigured(
                "Set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID (who the texts come from)."
            )

    @classmethod
    def from_settings(cls) -> TwilioConfig:
        return cls(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            from_number=settings.TWILIO_FROM_NUMBER,
            messaging_service_sid=settings.TWILIO_MESSAGING_SERVICE_SID,
            api_base_url=settings.TWILIO_API_BASE_URL,
            covered_by_baa=settings.TWILIO_COVERED_BY_BAA,
            timeout_seconds=settings.TWILIO_TIMEOUT_SECONDS,
        )


def reference_from_callback_url(url: str) -> str:
    """The outbox reference a status callback URL carries ("" if none)."""
    return dict(parse_qsl(urlsplit(url).query)).get(REFERENCE_PARAM, "")


def with_reference(url: str, reference: str) -> str:
    """``url`` with the reference added to its query (Twilio signs the whole URL)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != REFERENCE_PARAM]
    query.append((REFERENCE_PARAM, reference))
    return urlunsplit(parts._replace(query=urlencode(query)))


class _HeaderKeepingHttpClient:
    """The SDK's HTTP client, keeping each thread's last ``Retry-After``: the SDK's
    exceptions carry the status and code but drop the headers."""

    is_async = False

    def __init__(self, timeout: float) -> None:
        self._client = TwilioHttpClient(timeout=timeout, logger=_SDK_LOGGER)
        self._local = threading.local()
        self.timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> Any:
        self._local.retry_after = None
        response = self._client.request(*args, **kwargs)
        self._local.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return response

    @property
    def last_retry_after(self) -> float | None:
        value: float | None = getattr(self._local, "retry_after", None)
        return value


class _TwilioAdapter:
    """What the SMS and voice adapters share: one SDK client at the configured base URL,
    and the SDK's failures turned into the adapter interface's."""

    reconciles = True

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config
        self.covered_by_baa = config.covered_by_baa
        self._http = _HeaderKeepingHttpClient(config.timeout_seconds)
        self._client = Client(config.account_sid, config.auth_token, http_client=self._http)
        self._client.api.base_url = config.api_base_url.rstrip("/")

    @classmethod
    def from_settings(cls) -> Self:
        return cls(TwilioConfig.from_settings())

    def _call(self, call: Any) -> Any:
        """Run one SDK call, turning its failures into the adapter interface's."""
        try:
            return call()
        except (TwilioRestException, TwilioServiceException) as error:
            raise failure_for_response(
                status=int(error.status),
                code=str(error.code or ""),
                retry_after=self._http.last_retry_after,
            ) from error
        except requests.Timeout as error:
            # The request may have reached the provider: the send is in doubt, and the
            # dispatcher must ask ``find_sent`` before it tries again.
            raise TransientFailure(
                FailureKind.UNAVAILABLE, "The provider did not answer in time.", code="timeout"
            ) from error
        except requests.RequestException as error:
            raise TransientFailure(
                FailureKind.UNAVAILABLE, "The provider could not be reached.", code="connection"
            ) from error


class TwilioSmsAdapter(_TwilioAdapter):
    """``ChannelAdapter`` for SMS through Twilio's Messages API."""

    name = "twilio-sms"
    channel = ChannelKind.SMS

    def send(self, message: OutgoingMessage) -> SendResult:
        arguments: dict[str, Any] = {"to": message.to, "body": message.body}
        sender = message.sender or self.config.from_number
        if sender:
            arguments["from_"] = sender
        if self.config.messaging_service_sid:
            arguments["messaging_service_sid"] = self.config.messaging_service_sid
        if message.status_callback_url:
            arguments["status_callback"] = with_reference(
                message.status_callback_url, message.reference
            )
        record = self._call(lambda: self._client.messages.create(**arguments))
        return _result(record)

    def find_sent(self, message: OutgoingMessage, *, since: datetime) -> SendResult | None:
        """The provider's record of ``message`` if it accepted it at or after ``since``."""
        sender = message.sender or self.config.from_number
        found = None
        for record in self._call(lambda: list(self._outbound_to(message.to, since))):
            if sender and record.from_ != sender:
                continue
            if (
                self.config.messaging_service_sid
                and not sender
                and record.messaging_service_sid != self.config.messaging_service_sid
            ):
                continue
            if record.body in (message.body, "", None):
                found = record  # the log is newest first: keep the oldest match
        return _result(found) if found is not None else None

    def _outbound_to(self, to: str, since: datetime) -> Iterator[Any]:
        earliest = since - CLOCK_SKEW
        for record in self._client.messages.stream(to=to, page_size=LOG_PAGE_SIZE):
            if record.date_created is not None and record.date_created < earliest:
                return
            if str(record.direction or "").startswith("outbound"):
                yield record


class TwilioVoiceAdapter(_TwilioAdapter):
    """``ChannelAdapter`` for a spoken message: Twilio calls the number and reads the body
    (TwiML ``<Say>``). A call has no body to match in the provider's log, so ``find_sent``
    takes any call to that number from our number since the attempt began as ours — for a
    voice reminder at most once matters more than a rare missed call."""

    name = "twilio-voice"
    channel = ChannelKind.VOICE

    def __init__(self, config: TwilioConfig) -> None:
        if not config.from_number:
            raise ImproperlyConfigured("Voice calls need TWILIO_FROM_NUMBER (a voice number).")
        super().__init__(config)

    def send(self, message: OutgoingMessage) -> SendResult:
        arguments: dict[str, Any] = {
            "to": message.to,
            "from_": message.sender or self.config.from_number,
            "twiml": f"<Response><Say>{escape(message.body)}</Say></Response>",
        }
        if message.status_callback_url:
            arguments["status_callback"] = with_reference(
                message.status_callback_url, message.reference
            )
        return _result(self._call(lambda: self._client.calls.create(**arguments)))

    def find_sent(self, message: OutgoingMessage, *, since: datetime) -> SendResult | None:
        sender = message.sender or self.config.from_number
        earliest = since - CLOCK_SKEW

        def oldest_match() -> Any:
            found = None
            calls = self._client.calls.stream(to=message.to, from_=sender, page_size=LOG_PAGE_SIZE)
            for record in calls:
                if record.date_created is not None and record.date_created < earliest:
                    break
                found = record
            return found

        record = self._call(oldest_match)
        return _result(record) if record is not None else None


def _result(record: Any) -> SendResult:
    sent_at: datetime | None = record.date_created
    return SendResult(
        provider_message_id=str(record.sid), status=str(record.status), sent_at=sent_at
    )
