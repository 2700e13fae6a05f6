"""A local server that speaks enough of Phaxio's v2.1 fax API for the fax adapter.

- ``POST /v2.1/faxes`` (HTTP basic auth with the API key and secret; multipart with a
  ``file``, or a ``content_url``) answers ``{"success": true, "data": {"id": …}}``;
- ``GET /v2.1/faxes`` lists faxes newest first, filtered by ``direction``, ``created_after``,
  ``created_before``, ``phone_number`` and ``tag[name]``, paged by ``per_page`` / ``page``;
- ``behaviours`` injects errors by number: invalid (422), rate limited (429 with
  ``Retry-After``), server error (500), failed (accepted, then its callback reports a
  ``lineError``) and ``hang`` (accepted and logged, the answer never comes);
- ``send_status_callbacks()`` POSTs each fax's final state signed with ``X-Phaxio-Signature``;
  ``send_inbound()`` a received fax.

Run one by hand: ``python -m careline.messaging.testing.fake_phaxio --port 8766``.
"""

from __future__ import annotations

import argparse
import base64
import enum
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

import requests

from careline.messaging.channels.fax import PhaxioWebhookVerifier
from careline.messaging.testing.http_server import (
    LocalServer,
    Request,
    Response,
    serve_until_interrupted,
)

PREFIX = "/v2.1"


class FaxBehaviour(enum.StrEnum):
    INVALID = "invalid"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    FAILED = "failed"
    HANG = "hang"


_REFUSALS: dict[FaxBehaviour, tuple[int, str]] = {
    FaxBehaviour.INVALID: (422, "Phone number is not formatted correctly or invalid."),
    FaxBehaviour.RATE_LIMITED: (429, "Rate limit exceeded."),
    FaxBehaviour.SERVER_ERROR: (500, "Internal server error."),
}


@dataclass
class FakeFax:
    id: int
    to: str
    caller_id: str
    tags: dict[str, str]
    callback_url: str
    document: bytes
    content_url: str
    created_at: datetime
    status: str = "queued"
    callbacks_sent: list[str] = field(default_factory=list)


class FakePhaxio(LocalServer):
    def __init__(
        self,
        *,
        api_key: str = "fake-key",
        api_secret: str = "",
        callback_token: str = "",
        port: int = 0,
    ) -> None:
        super().__init__(port=port)
        self.api_key = api_key
        self.api_secret = api_secret or secrets.token_hex(16)
        self.callback_token = callback_token or secrets.token_hex(16)
        self.behaviours: dict[str, FaxBehaviour] = {}
        self.retry_after = "9"
        self.faxes: list[FakeFax] = []
        self._next_id = 1000
        self._lock = threading.Lock()

    @property
    def api_base_url(self) -> str:
        return self.base_url + PREFIX

    def sent_to(self, number: str) -> list[FakeFax]:
        with self._lock:
            return [fax for fax in self.faxes if fax.to == number]

    def handle(self, request: Request) -> Response:
        if request.path.rstrip("/") != f"{PREFIX}/faxes":
            return _error(404, "Not found.")
        expected = base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
        if request.headers.get("Authorization", "") != f"Basic {expected}":
            return _error(401, "Authentication failed.")
        if request.method == "POST":
            return self._create(request)
        return self._list(request.query)

    def _create(self, request: Request) -> Response:
        fields, files = _form_fields(request)
        to = fields.get("to", "")
        behaviour = self.behaviours.get(to)
        refusal = _REFUSALS.get(behaviour) if behaviour is not None else None
        if refusal is not None:
            status, text = refusal
            headers = {"Retry-After": self.retry_after} if status == 429 else {}
            return _error(status, text, headers)
        if not files.get("file") and not fields.get("content_url"):
            return _error(422, "You must include a file or a content_url.")
        with self._lock:
            self._next_id += 1
            fax = FakeFax(
                id=self._next_id,
                to=to,
                caller_id=fields.get("caller_id", ""),
                tags={k[4:-1]: v for k, v in fields.items() if k.startswith("tag[")},
                callback_url=fields.get("callback_url", ""),
                document=files.get("file", b""),
                content_url=fields.get("content_url", ""),
                created_at=datetime.now(UTC),
            )
            self.faxes.append(fax)
        if behaviour is FaxBehaviour.HANG:
            self.released.wait(timeout=30)
        return Response(
            200, {"success": True, "message": "Fax queued for sending", "data": {"id": fax.id}}
        )

    def _list(self, query: dict[str, str]) -> Response:
        tags = {k[4:-1]: v for k, v in query.items() if k.startswith("tag[")}
        after = _time(query.get("created_after"))
        before = _time(query.get("created_before"))
        with self._lock:
            found = [
                fax
                for fax in reversed(self.faxes)
                if query.get("direction", "sent") == "sent"
                and (not query.get("phone_number") or fax.to == query["phone_number"])
                and all(fax.tags.get(name) == value for name, value in tags.items())
                and (after is None or fax.created_at >= after)
                and (before is None or fax.created_at <= before)
            ]
        per_page = int(query.get("per_page", "20"))
        page = int(query.get("page", "1"))
        chunk = found[(page - 1) * per_page : page * per_page]
        return Response(
            200,
            {
                "success": True,
                "message": "Retrieved faxes successfully",
                "paging": {"total": len(found), "per_page": per_page, "page": page},
                "data": [self.fax_json(fax) for fax in chunk],
            },
        )

    def fax_json(self, fax: FakeFax) -> dict[str, Any]:
        failed = fax.status == "failure"
        return {
            "id": fax.id,
            "direction": "sent",
            "num_pages": 1,
            "status": fax.status,
            "is_test": True,
            "created_at": fax.created_at.isoformat(),
            "completed_at": fax.created_at.isoformat() if fax.status != "queued" else None,
            "caller_id": fax.caller_id or None,
            "from_number": None,
            "to_number": None,
            "tags": fax.tags,
            "recipients": [
                {
                    "phone_number": fax.to,
                    "status": fax.status,
                    "error_type": "lineError" if failed else None,
                    "error_id": 34 if failed else None,
                    "error_message": "No answer" if failed else None,
                }
            ],
        }

    # -- callbacks ----------------------------------------------------------------------------

    def post_signed(self, url: str, params: dict[str, str]) -> int:
        signature = PhaxioWebhookVerifier(self.callback_token).sign(url, params)
        response = requests.post(
            url, data=params, headers={"X-Phaxio-Signature": signature}, timeout=10
        )
        return response.status_code

    def send_status_callbacks(self) -> list[int]:
        answers = []
        with self._lock:
            pending = [fax for fax in self.faxes if fax.callback_url and fax.status == "queued"]
        for fax in pending:
            failed = self.behaviours.get(fax.to) is FaxBehaviour.FAILED
            fax.status = "failure" if failed else "success"
            fax.callbacks_sent.append(fax.status)
            params = {
                "success": "false" if failed else "true",
                "is_test": "true",
                "direction": "sent",
                "event_type": "fax_completed",
                "fax": json.dumps(self.fax_json(fax)),
            }
            answers.append(self.post_signed(fax.callback_url, params))
        return answers

    def send_inbound(self, url: str, *, sender: str, to: str) -> int:
        """POST a received fax's callback (without its file) to ``url``, signed."""
        with self._lock:
            self._next_id += 1
            fax_id = self._next_id
        now = datetime.now(UTC).isoformat()
        fax = {
            "id": fax_id,
            "direction": "received",
            "status": "success",
            "num_pages": 1,
            "from_number": sender,
            "to_number": to,
            "created_at": now,
            "completed_at": now,
        }
        params = {
            "success": "true",
            "is_test": "true",
            "direction": "received",
            "fax": json.dumps(fax),
        }
        return self.post_signed(url, params)


def _form_fields(request: Request) -> tuple[dict[str, str], dict[str, bytes]]:
    content_type = request.headers.get("Content-Type", "")
    if not content_type.startswith("multipart/form-data"):
        return request.form(), {}
    message = BytesParser(policy=default_policy).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
    )
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        content = part.get_payload(decode=True)
        data = content if isinstance(content, bytes) else b""
        if part.get_filename():
            files[name] = data
        else:
            fields[name] = data.decode()
    return fields, files


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"success": False, "message": message}, headers)


def main() -> None:
    parser = argparse.ArgumentParser(description="A local server speaking Phaxio's fax API.")
    parser.add_argument("--port", type=int, default=8766)
    port = parser.parse_args().port
    server = FakePhaxio(port=port)
    serve_until_interrupted(
        server,
        {
            "PHAXIO_API_BASE_URL": f"http://127.0.0.1:{port}{PREFIX}",
            "PHAXIO_API_KEY": server.api_key,
            "PHAXIO_API_SECRET": server.api_secret,
            "PHAXIO_CALLBACK_TOKEN": server.callback_token,
        },
    )


if __name__ == "__main__":
    main()
