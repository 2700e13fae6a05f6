"""A local server that speaks enough of Twilio's Messages API for the SMS adapter.

- ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (and ``Calls.json``, whose ``Twiml`` is
  logged as the body) creates a message (HTTP basic auth with the
  account SID and auth token, as the SDK sends it) and answers Twilio's JSON;
- ``GET`` on the same path lists messages newest first, filtered by ``To``, ``From`` and
  ``DateSent`` / ``DateSent<`` / ``DateSent>``, paged by ``PageSize`` / ``Page`` with a
  ``next_page_uri`` as Twilio gives it;
- ``behaviours`` injects errors by recipient number: opted out (21610), landline (21614),
  invalid (21211), rate limited (429, code 20429, ``Retry-After``), server error (500),
  filtered (accepted, then its status callback fails with 30007) and ``hang`` (the message is
  accepted and logged, but the answer never comes: the client times out — the lost answer a
  crash-safe dispatcher must reconcile);
- ``send_status_callbacks()`` POSTs each message's callbacks, signed with the auth token as
  Twilio signs them (``X-Twilio-Signature``), and ``send_inbound()`` an incoming text.

``messages`` is the log the tests count (``sent_to(number)``).

Run one by hand: ``python -m careline.messaging.testing.fake_twilio --port 8765`` prints the
``TWILIO_*`` settings that point Careline at it.
"""

from __future__ import annotations

import argparse
import base64
import enum
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

from careline.messaging.testing.http_server import (
    LocalServer,
    Request,
    Response,
    serve_until_interrupted,
)

API_VERSION = "2010-04-01"


class Behaviour(enum.StrEnum):
    OPTED_OUT = "opted_out"
    LANDLINE = "landline"
    INVALID = "invalid"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    FILTERED = "filtered"
    HANG = "hang"


_REFUSALS: dict[Behaviour, tuple[int, int, str]] = {
    Behaviour.OPTED_OUT: (400, 21610, "Attempt to send to unsubscribed recipient"),
    Behaviour.LANDLINE: (400, 21614, "'To' number is not a valid mobile number"),
    Behaviour.INVALID: (400, 21211, "Invalid 'To' Phone Number"),
    Behaviour.RATE_LIMITED: (429, 20429, "Too Many Requests"),
    Behaviour.SERVER_ERROR: (500, 20500, "Internal Server Error"),
}


@dataclass
class FakeMessage:
    sid: str
    to: str
    sender: str
    body: str
    messaging_service_sid: str
    status_callback: str
    date_created: datetime
    status: str = "queued"
    error_code: str = ""
    callbacks_sent: list[str] = field(default_factory=list)


class FakeTwilio(LocalServer):
    def __init__(
        self, *, account_sid: str = "AC" + "0" * 32, auth_token: str = "", port: int = 0
    ) -> None:
        super().__init__(port=port)
        self.account_sid = account_sid
        self.auth_token = auth_token or secrets.token_hex(16)
        self.behaviours: dict[str, Behaviour] = {}
        self.retry_after = "7"
        self.messages: list[FakeMessage] = []
        self.calls: list[FakeMessage] = []  # the body is the call's TwiML
        self.requests_seen = 0
        self._lock = threading.Lock()

    # -- what tests read -------------------------------------------------------------------

    def sent_to(self, number: str) -> list[FakeMessage]:
        with self._lock:
            return [message for message in self.messages if message.to == number]

    def called(self, number: str) -> list[FakeMessage]:
        with self._lock:
            return [call for call in self.calls if call.to == number]

    # -- the API ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests_seen += 1
        prefix = f"/{API_VERSION}/Accounts/{self.account_sid}/"
        resource = request.path.removeprefix(prefix).removesuffix(".json")
        if not request.path.startswith(prefix) or resource not in ("Messages", "Calls"):
            return _error(404, 20404, "The requested resource was not found")
        if not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        if request.method == "POST":
            return self._create(request.form(), resource)
        return self._list(request.query, resource)

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization", "") == f"Basic {expected}"

    def _create(self, form: dict[str, str], resource: str) -> Response:
        to = form.get("To", "")
        behaviour = self.behaviours.get(to)
        refusal = _REFUSALS.get(behaviour) if behaviour is not None else None
        if resource == "Calls" and behaviour in (Behaviour.OPTED_OUT, Behaviour.LANDLINE):
            refusal = None  # a landline takes calls; opting out of texts is not of calls
        if refusal is not None:
            status, code, text = refusal
            headers = {"Retry-After": self.retry_after} if status == 429 else {}
            return _error(status, code, text, headers)
        content = form.get("Body" if resource == "Messages" else "Twiml", "")
        if not content:
            return _error(400, 21602, "Message body is required")
        message = FakeMessage(
            sid=("SM" if resource == "Messages" else "CA") + secrets.token_hex(16),
            to=to,
            sender=form.get("From", "") or "+15550000000",
            body=content,
            messaging_service_sid=form.get("MessagingServiceSid", ""),
            status_callback=form.get("StatusCallback", ""),
            date_created=datetime.now(UTC),
        )
        with self._lock:
            (self.messages if resource == "Messages" else self.calls).append(message)
        if behaviour is Behaviour.HANG:
            self.released.wait(timeout=30)
        return Response(201, self._json(message))

    def _list(self, query: dict[str, str], resource: str) -> Response:
        with self._lock:
            log = self.messages if resource == "Messages" else self.calls
            found = [m for m in reversed(log) if _matches(m, query)]
        page_size = int(query.get("PageSize", "50"))
        page = int(query.get("Page", "0"))
        chunk = found[page * page_size : (page + 1) * page_size]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/{resource}.json"
        next_page_uri = None
        if (page + 1) * page_size < len(found):
            following = {**query, "PageSize": str(page_size), "Page": str(page + 1)}
            next_page_uri = f"{uri}?{urlencode(following)}"
        return Response(
            200,
            {
                resource.lower(): [self._json(message) for message in chunk],
                "page": page,
                "page_size": page_size,
                "uri": uri,
                "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
                "next_page_uri": next_page_uri,
                "previous_page_uri": None,
                "end": page * page_size + max(len(chunk) - 1, 0),
                "start": page * page_size,
            },
        )

    def _json(self, message: FakeMessage) -> dict[str, Any]:
        return {
            "sid": message.sid,
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "to": message.to,
            "from": message.sender,
            "body": message.body,
            "messaging_service_sid": message.messaging_service_sid or None,
            "status": message.status,
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "error_code": int(message.error_code) if message.error_code else None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "date_created": format_datetime(message.date_created, usegmt=True),
            "date_updated": format_datetime(message.date_created, usegmt=True),
            "date_sent": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}.json",
            "subresource_uris": {},
        }

    # -- callbacks ----------------------------------------------------------------------------

    def sign(self, url: str, params: dict[str, str]) -> str:
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    def post_signed(self, url: str, params: dict[str, str]) -> int:
        """POST ``params`` to ``url`` signed as Twilio signs; the answer's status code."""
        response = requests.post(
            url, data=params, headers={"X-Twilio-Signature": self.sign(url, params)}, timeout=10
        )
        return response.status_code

    def send_status_callbacks(self) -> list[int]:
        """Move every message with a callback URL to its final status (``sent`` then
        ``delivered``; a filtered number's ``failed`` with 30007) and POST each step."""
        answers = []
        with self._lock:
            pending = [m for m in self.messages if m.status_callback and m.status == "queued"]
            calls = [c for c in self.calls if c.status_callback and c.status == "queued"]
        for call in calls:
            call.status = "completed"
            call.callbacks_sent.append("completed")
            params = {
                "AccountSid": self.account_sid,
                "CallSid": call.sid,
                "CallStatus": "completed",
                "To": call.to,
                "From": call.sender,
                "ApiVersion": API_VERSION,
            }
            answers.append(self.post_signed(call.status_callback, params))
        for message in pending:
            if self.behaviours.get(message.to) is Behaviour.FILTERED:
                steps = [("failed", "30007")]
            else:
                steps = [("sent", ""), ("delivered", "")]
            for status, error_code in steps:
                message.status, message.error_code = status, error_code
                params = {
                    "AccountSid": self.account_sid,
                    "MessageSid": message.sid,
                    "SmsSid": message.sid,
                    "MessageStatus": status,
                    "SmsStatus": status,
                    "To": message.to,
                    "From": message.sender,
                    "ApiVersion": API_VERSION,
                }
                if error_code:
                    params["ErrorCode"] = error_code
                message.callbacks_sent.append(status)
                answers.append(self.post_signed(message.status_callback, params))
        return answers

    def send_inbound(self, url: str, *, sender: str, to: str, body: str) -> int:
        """POST an incoming text to ``url`` as Twilio would (signed)."""
        sid = "SM" + secrets.token_hex(16)
        params = {
            "AccountSid": self.account_sid,
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "From": sender,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": API_VERSION,
        }
        return self.post_signed(url, params)


def _matches(message: FakeMessage, query: dict[str, str]) -> bool:
    if query.get("To") and message.to != query["To"]:
        return False
    if query.get("From") and message.sender != query["From"]:
        return False
    created = message.date_created
    if query.get("DateSent") and created.date() != _parse_date(query["DateSent"]).date():
        return False
    if query.get("DateSent<") and created > _parse_date(query["DateSent<"]):
        return False
    return not (query.get("DateSent>") and created < _parse_date(query["DateSent>"]))


def _parse_date(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return parsedate_to_datetime(value)


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    payload = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(status, payload, headers)


def main() -> None:
    parser = argparse.ArgumentParser(description="A local server speaking Twilio's Messages API.")
    parser.add_argument("--port", type=int, default=8765)
    port = parser.parse_args().port
    server = FakeTwilio(port=port)
    serve_until_interrupted(
        server,
        {
            "TWILIO_API_BASE_URL": f"http://127.0.0.1:{port}",
            "TWILIO_ACCOUNT_SID": server.account_sid,
            "TWILIO_AUTH_TOKEN": server.auth_token,
            "TWILIO_FROM_NUMBER": "+15550000000",
        },
    )


if __name__ == "__main__":
    main()
