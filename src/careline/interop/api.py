"""``POST /import/fhir`` (mounted at /api/ by ``careline.api.api``): FHIR R4 over HTTP.

The body is a Bundle or one resource (``application/fhir+json`` or ``application/json``) or
Bulk-FHIR ndjson (``application/fhir+ndjson``, ``application/x-ndjson``). The answer is the
import summary — ``{"Patient": {"created": …}, …, "rejections": […], "skipped_files": […]}``
— with 200 even when resources were rejected; a body that is not FHIR at all is a 422.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from ninja import Router

from careline.interop.importer import import_fhir_payload
from careline.platform.actors import actor_from_request
from careline.platform.authorization import api_requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditChannel
from careline.platform.permissions import Permission

router = Router(tags=["import"])

_JSON_BODY = {"schema": {"type": "object", "description": "A FHIR R4 Bundle or resource"}}
_NDJSON_BODY = {"schema": {"type": "string", "description": "One FHIR resource per line"}}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/fhir+json": _JSON_BODY,
            "application/json": _JSON_BODY,
            "application/fhir+ndjson": _NDJSON_BODY,
            "application/x-ndjson": _NDJSON_BODY,
        },
    }
}


@router.post(
    "/import/fhir",
    response=dict[str, Any],
    summary="Import FHIR R4: a Bundle, a resource or Bulk-FHIR ndjson",
    openapi_extra=_BODY,
)
@api_requires_permission(Permission.IMPORT_FHIR, resource_type="ImportRun")
def import_fhir(request: HttpRequest, source: str | None = None) -> dict[str, Any]:
    """Validate, map and upsert the resources; answer the per-type summary and rejections.

    ``source`` names the sending system (default: the bundle's ``meta.source``, else the
    configured default). Needs the ``interop.import_fhir`` permission.
    """
    try:
        payload = request.body
    except RequestDataTooBig as error:
        raise ValidationFailed(
            "The request body is too large; import big files with `careline import-fhir`."
        ) from error
    result = import_fhir_payload(
        actor=actor_from_request(request, channel=AuditChannel.API),
        payload=payload,
        content_type=request.META.get("CONTENT_TYPE", ""),
        source_system=source or None,
    )
    return result.as_json()
