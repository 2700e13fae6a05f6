"""One error shape for every API failure: ``{"error": {"code", "message", "details"}}``.

Service errors (``CarelineError``) carry their status and code; ninja's own errors
(validation, authentication, ``HttpError``, ``Http404``) and Django-level misses (unknown
routes, wrong methods) are mapped here. Nothing echoes request values back, and the log of
an unexpected error holds its type and traceback only — its message may quote PHI (a
database error names the values it refused).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from functools import partial
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from careline.platform.authorization import count_anonymous_refusal
from careline.platform.errors import CarelineError
from careline.platform.models import AuditChannel

logger = logging.getLogger("careline.api")

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "throttled",
}

# The names routers give their schema parameters (a body, a set of query filters).
SCHEMA_PARAMETERS = frozenset({"payload", "filters"})
_NOT_AUTHENTICATED = (
    "Authenticate with 'Authorization: Bearer <token>' or a signed-in staff session."
)


class MfaRequired(CarelineError):
    """A staff session whose user has no authenticator while MFA is required."""

    status = 403
    code = "mfa_required"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status)


def install_error_handlers(api: NinjaAPI) -> None:
    handlers: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
        (CarelineError, _careline_error),
        (ValidationError, _validation_error),
        (AuthenticationError, _authentication_error),
        (HttpError, _http_error),
        (Http404, _not_found),
        (Exception, _unexpected_error),
    ]
    for exception_class, handler in handlers:
        api.add_exception_handler(exception_class, partial(handler, api=api))


def _respond(
    api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str, details: Any
) -> HttpResponse:
    return api.create_response(request, error_body(code, message, details), status=status)


def _careline_error(request: HttpRequest, exc: CarelineError, api: NinjaAPI) -> HttpResponse:
    message, details = exc.message, exc.details
    field = details.get("field") if isinstance(details, dict) else None
    if exc.status == 422 and isinstance(field, str):
        # A service names the one field it refused: the same details shape as a schema error.
        if field not in message:
            message = f"{field}: {message}"
        details = [{"loc": ["body", field], "msg": exc.message}]
    parameter = details.get("parameter") if isinstance(details, dict) else None
    if exc.status == 422 and isinstance(parameter, str):
        # ... or the one query parameter (e.g. a page cursor) it could not make sense of.
        details = [{"loc": ["query", parameter], "msg": exc.message}]
    return _respond(api, request, exc.status, exc.code, message, details)


def _validation_error(request: HttpRequest, exc: ValidationError, api: NinjaAPI) -> HttpResponse:
    details = [
        {"loc": _wire_location(error.get("loc", ())), "msg": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    summary = "; ".join(f"{'.'.join(item['loc'][1:]) or 'body'}: {item['msg']}" for item in details)
    message = f"The request is invalid — {summary}" if summary else "The request is invalid."
    return _respond(api, request, 422, "validation_failed", message, details)


def _wire_location(location: Any) -> list[str]:
    """Where the error is in the request as sent: ``["body", "q"]``, ``["query", "limit"]``.

    ninja may put the handler's parameter name after the source; the client never sent it.
    """
    parts = [str(part) for part in location]
    if len(parts) > 2 and parts[1] in SCHEMA_PARAMETERS:
        del parts[1]
    return parts


def _authentication_error(
    request: HttpRequest, exc: AuthenticationError, api: NinjaAPI
) -> HttpResponse:
    message = exc.message if exc.message != "Unauthorized" else _NOT_AUTHENTICATED
    count_anonymous_refusal(request, channel=AuditChannel.API)
    response = _respond(api, request, 401, "not_authenticated", message, None)
    response["WWW-Authenticate"] = 'Bearer realm="careline"'
    return response


def _http_error(request: HttpRequest, exc: HttpError, api: NinjaAPI) -> HttpResponse:
    status = exc.status_code
    code = _CODES_BY_STATUS.get(status, "error")
    message = exc.message
    if status == 403 and "CSRF" in message:
        code = "csrf_failed"  # audited by Django's CSRF failure view (platform.views)
    if status == 400 and message.startswith("Cannot parse request body"):
        # ninja appends the parser's exception text in DEBUG; say what to send instead.
        message = "The request body must be a JSON object (Content-Type: application/json)."
    return _respond(api, request, status, code, message, None)


def _not_found(request: HttpRequest, exc: Http404, api: NinjaAPI) -> HttpResponse:
    return _respond(api, request, 404, "not_found", "Not found.", None)


def _unexpected_error(request: HttpRequest, exc: Exception, api: NinjaAPI) -> HttpResponse:
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error(
        "Unexpected %s on %s %s\n%s", type(exc).__name__, request.method, _route(request), frames
    )
    return _respond(api, request, 500, "internal_error", "Something went wrong on our side.", None)


def _route(request: HttpRequest) -> str:
    """The matched route pattern (ids stay out of the log line), or the bare path."""
    match = getattr(request, "resolver_match", None)
    return str(match.route) if match is not None else request.path


def not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any path under /api/ that no route claims."""
    return error_response(404, "not_found", "No such API route.")
