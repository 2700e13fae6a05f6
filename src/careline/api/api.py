"""The API assembly: one NinjaAPI at /api/ with every app's router.

Every route requires a bearer token or a staff session (``careline.api.auth``); every
failure answers ``{"error": {"code", "message", "details"}}`` (``careline.api.errors``) —
including paths no route claims and methods a route does not take. The OpenAPI document
(``/api/openapi.json``) lists those error answers for each operation; the docs page
(``/api/docs``) is served without a CDN (``careline.api.docs``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, path, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from careline.api.auth import API_AUTH
from careline.api.docs import OfflineSwagger, docs_asset
from careline.api.errors import error_response, install_error_handlers, not_found_view
from careline.api.places import router as places_router
from careline.api.summary import router as summary_router
from careline.interop.api import router as interop_router
from careline.messaging.api import router as messaging_router
from careline.patients.api import router as patients_router
from careline.scheduling.api import router as scheduling_router

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}
ERROR_STATUSES = {
    "400": "Malformed request (e.g. a body that is not JSON)",
    "401": "Not authenticated",
    "403": "Not allowed (role, MFA, CSRF) or break-glass required",
    "404": "Not found (or not yours)",
    "409": "Conflict (e.g. the slot was just taken)",
    "422": "Invalid input",
}

Pattern = URLPattern | URLResolver


class JsonObjectParser(Parser):
    """A body is one JSON object: ``null`` or a list must not stand for "all defaults"."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise ValueError("the body is not a JSON object")  # ninja answers 400
        return data


class CarelineApi(NinjaAPI):
    @property
    def urls(self) -> tuple[list[Pattern], str, str]:
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_errors(pattern.callback)
        extra: list[Pattern] = [
            path("docs/assets/<str:name>", docs_asset, name="docs-asset"),
            # Any rest of the path, a newline included (``.`` would stop at one).
            re_path(r"^[\s\S]*\Z", csrf_exempt(not_found_view), name="not-found"),
        ]
        return [*patterns, *extra], app_name, namespace

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_STATUSES.items():
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        },
                    )
        return schema


def _json_errors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """ninja answers a wrong method and its root path outside its error handlers.

    CSRF exempt like ninja's own views: the API checks CSRF in its session auth, and a
    write to the root path must get the API's 404, not Django's CSRF page.
    """

    @csrf_exempt
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return error_response(404, "not_found", "No such API route.")
        if isinstance(response, HttpResponseNotAllowed):
            allowed = sorted(method.strip() for method in response["Allow"].split(","))
            answer = error_response(
                405,
                "method_not_allowed",
                f"This route takes {', '.join(allowed)}.",
                {"allowed": allowed},
            )
            answer["Allow"] = response["Allow"]
            return answer
        return response

    return wrapped


api = CarelineApi(
    title="Careline API",
    version="1",
    description=(
        "The Careline REST API. Authenticate with `Authorization: Bearer cl_…` (integrations) "
        "or the staff session (CSRF token required on writes). Errors always answer "
        '`{"error": {"code", "message", "details"}}`. No PHI in URLs: search is a POST.'
    ),
    urls_namespace="api",
    auth=API_AUTH,
    parser=JsonObjectParser(),
    docs=OfflineSwagger(),
)
install_error_handlers(api)
api.add_router("/patients/", patients_router)
api.add_router("/patients/", summary_router)
api.add_router("", interop_router)
api.add_router("/scheduling/", scheduling_router)
api.add_router("/directory/", places_router)
api.add_router("/messaging/", messaging_router)
