"""Helpers for the API tests: the caller persona and the one error shape."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from careline.platform.models import User


@dataclass(frozen=True)
class ApiCaller:
    """A staff user and the bearer token an administrator issued to her."""

    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def error_of(response: Any) -> dict[str, Any]:
    """The error object of an API answer, after checking it has the one error shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["code"], str)
    assert isinstance(body["error"]["message"], str)
    error: dict[str, Any] = body["error"]
    return error


def random_uuid() -> str:
    return str(uuid.uuid4())
