"""Errors services raise; the UI and the API turn each into one clear 4xx answer.

The API answers ``{"error": {"code", "message", "details"}}`` with ``status``.
"""

from __future__ import annotations

from typing import Any


class CarelineError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class ValidationFailed(CarelineError):
    status = 422
    code = "validation_failed"


class NotFound(CarelineError):
    """Also the answer for "exists but not yours": existence is not leaked."""

    status = 404
    code = "not_found"


class PermissionDenied(CarelineError):
    status = 403
    code = "permission_denied"


class BreakGlassRequired(CarelineError):
    """The patient is outside the actor's scope: a stated reason is needed first."""

    status = 403
    code = "break_glass_required"


class Conflict(CarelineError):
    status = 409
    code = "conflict"
