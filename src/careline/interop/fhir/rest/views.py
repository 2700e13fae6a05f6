"""The /fhir/R4 views: metadata, read, search (GET and POST _search).

Each view authenticates the bearer token, negotiates the format, then makes one call into
the resource type's reader or searcher (which check access and audit). Every failure — a
Careline error, a bad parameter, an unexpected exception — leaves as an OperationOutcome.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from careline.interop.fhir.rest.capability import capability_statement
from careline.interop.fhir.rest.registry import (
    COUNT,
    CURSOR,
    FORMAT,
    SUMMARY,
    ResourceDefinition,
    get_definition,
    parse_search,
)
from careline.interop.fhir.rest.resources import ensure_registered
from careline.interop.fhir.rest.responses import (
    FHIR_JSON,
    FhirError,
    error_response,
    fhir_response,
)
from careline.interop.fhir.rest.values import BadParameter, parse_count
from careline.platform import crypto
from careline.platform.actors import Actor, actor_from_request
from careline.platform.errors import CarelineError
from careline.platform.models import AuditChannel
from careline.platform.services import authenticate_bearer_header

logger = logging.getLogger("careline.fhir")

_JSON_TYPES = ("application/fhir+json", "application/json", "application/*", "*/*")
_FORMATS = {"json": FHIR_JSON, "application/json": FHIR_JSON, FHIR_JSON: FHIR_JSON}
_CURSOR_PREFIX = "fhir-search:"
_FORM = "application/x-www-form-urlencoded"

View = Callable[..., HttpResponse]


def fhir_view(methods: tuple[str, ...]) -> Callable[[View], View]:
    """Method check, format negotiation and the one error shape around a FHIR view."""

    def decorate(view: View) -> View:
        @csrf_exempt  # bearer tokens only: a browser never attaches one on its own
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise FhirError(405, f"Use {' or '.join(methods)} here.")
                _negotiate(request)
                return view(request, *args, **kwargs)
            except FhirError as error:
                response = error_response(error)
            except BadParameter as error:
                response = error_response(FhirError(400, error.message, expression=error.parameter))
            except CarelineError as error:
                response = error_response(FhirError(error.status, error.message))
            except RequestDataTooBig:
                response = error_response(FhirError(413, "The request body is too large."))
            except SuspiciousOperation:  # e.g. more parameters than Django parses
                response = error_response(FhirError(400, "The request has too many parameters."))
            except Exception as error:  # the log keeps type and trace: a message may quote PHI
                logger.error(
                    "FHIR request failed: %s\n%s", type(error).__name__, traceback.format_exc()
                )
                response = error_response(FhirError(500, "Careline could not answer."))
            if request.method not in methods:
                response["Allow"] = ", ".join(methods)
            return response

        return wrapper

    return decorate


def _negotiate(request: HttpRequest) -> None:
    requested = request.GET.get(FORMAT)
    if requested is None and request.method == "POST" and _is_form(request):
        requested = request.POST.get(FORMAT)
    if requested is not None:
        if requested.split(";")[0].strip() not in _FORMATS:
            raise FhirError(406, "Careline serves FHIR as JSON only (_format=json).")
        return
    accept = request.headers.get("Accept", "")
    if accept and not any(kind in accept for kind in _JSON_TYPES):
        raise FhirError(406, "Careline serves FHIR as JSON only: accept application/fhir+json.")


def _is_form(request: HttpRequest) -> bool:
    return request.content_type == _FORM


def _authenticated_actor(request: HttpRequest) -> Actor:
    """The token's user as the request's actor (the staff API's bearer tokens; a session
    cookie is not accepted here). Anything else is a 401."""
    header = request.headers.get("Authorization")
    if not header:
        raise FhirError(401, "Authenticate with 'Authorization: Bearer <token>'.")
    anonymous = actor_from_request(request, channel=AuditChannel.API)
    user = authenticate_bearer_header(header, actor=anonymous)
    if user is None:
        raise FhirError(401, "The token is unknown, revoked or expired.")
    request.user = user
    return actor_from_request(request, channel=AuditChannel.API)


def _definition(resource_type: str) -> ResourceDefinition:
    ensure_registered()
    definition = get_definition(resource_type)
    if definition is None:
        raise FhirError(404, f"Careline does not serve {resource_type[:64]} resources.")
    return definition


def base_url() -> str:
    return str(settings.CARELINE_FHIR_BASE_URL).rstrip("/")


@fhir_view(("GET",))
def metadata(request: HttpRequest) -> HttpResponse:
    ensure_registered()
    return fhir_response(capability_statement(base_url=base_url()))


@fhir_view(("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))
def not_supported(request: HttpRequest) -> HttpResponse:
    raise FhirError(404, "Careline's FHIR API has no such endpoint; see /fhir/R4/metadata.")


@fhir_view(("GET",))
def read(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    definition = _definition(resource_type)
    actor = _authenticated_actor(request)
    served = definition.read(actor=actor, resource_id=resource_id)
    response = fhir_response(served.resource)
    response["ETag"] = f'W/"{served.version_id}"'
    response["Last-Modified"] = served.last_updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


@fhir_view(("GET",))
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    definition = _definition(resource_type)
    actor = _authenticated_actor(request)
    return _search(request, definition, actor, list(request.GET.lists()))


@fhir_view(("POST",))
def search_post(request: HttpRequest, resource_type: str) -> HttpResponse:
    definition = _definition(resource_type)
    actor = _authenticated_actor(request)
    if not _is_form(request):
        raise FhirError(415, f"POST _search takes the parameters as {_FORM}.")
    items = list(request.GET.lists()) + list(request.POST.lists())
    return _search(request, definition, actor, items)


def _search(
    request: HttpRequest,
    definition: ResourceDefinition,
    actor: Actor,
    lists: list[tuple[str, list[str]]],
) -> HttpResponse:
    items = [(key, value) for key, values in lists for value in values]
    parsed = parse_search(definition, items)
    if parsed.unknown and _is_strict(request):
        names = ", ".join(sorted(set(parsed.unknown)))[:200]
        raise FhirError(
            400, f"Unknown or unsupported search parameter(s): {names}.", expression=names
        )
    results = {key: value for key, value in items if key in (COUNT, SUMMARY, CURSOR)}
    summary = results.get(SUMMARY)
    if summary not in (None, "count", "false"):
        raise BadParameter(SUMMARY, "'_summary' supports count and false.")
    count = parse_count(results.get(COUNT, str(settings.CARELINE_FHIR_PAGE_SIZE)), maximum=100)
    after_key = _read_cursor(results.get(CURSOR))
    limit = 0 if summary == "count" else count
    page = definition.search(
        actor=actor,
        search=parsed,
        after_key=after_key,
        limit=limit,
        count_total=summary == "count",
    )
    total = page.total
    if total is None and after_key is None and not page.has_more:
        total = len(page.resources)  # the whole result was one page: counting is free
    kept = parsed.accepted + ([(SUMMARY, summary)] if summary else [])
    url = f"{base_url()}/{definition.type}"
    links = [{"relation": "self", "url": _link(url, kept, count, after_key)}]
    if page.has_more and page.last_key is not None:
        links.append({"relation": "next", "url": _link(url, kept, count, page.last_key)})
    bundle: dict[str, object] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    if page.resources:
        bundle["entry"] = [
            {
                "fullUrl": f"{url}/{served.resource['id']}",
                "resource": served.resource,
                "search": {"mode": "match"},
            }
            for served in page.resources
        ]
    return fhir_response(bundle)


def _is_strict(request: HttpRequest) -> bool:
    prefer = request.headers.get("Prefer", "")
    return any(part.strip().lower() == "handling=strict" for part in prefer.split(","))


def _link(url: str, kept: list[tuple[str, str]], count: int, after_key: int | None) -> str:
    query = [*kept, (COUNT, str(count))]
    if after_key is not None:
        query.append((CURSOR, crypto.encrypt(f"{_CURSOR_PREFIX}{after_key}")))
    return f"{url}?{urlencode(query)}"


def _read_cursor(token: str | None) -> int | None:
    """The keyset position a ``next`` link carries, encrypted and authenticated: a primary
    key never appears in a URL, and a caller cannot forge a position."""
    if token is None:
        return None
    try:
        text = crypto.decrypt(token)
    except (InvalidToken, ValueError, TypeError) as error:
        raise BadParameter(CURSOR, "'_cursor' is not a cursor Careline issued.") from error
    position = text.removeprefix(_CURSOR_PREFIX)
    if position == text or not position.isdigit():
        raise BadParameter(CURSOR, "'_cursor' is not a cursor Careline issued.")
    return int(position)
