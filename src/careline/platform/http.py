"""Staff UI plumbing: the decorators every UI view wears and one clear answer per error.

``staff_view`` makes a view signed-in only, renders it in the clinic's time zone, keeps its
answer out of every cache (it holds PHI) and turns a ``CarelineError`` into a 4xx page — or,
for an htmx request, into a small fragment — never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from careline.platform import clock
from careline.platform.actors import actor_from_request
from careline.platform.authorization import count_anonymous_refusal, refuse
from careline.platform.errors import CarelineError, PermissionDenied
from careline.platform.middleware import is_staff_user
from careline.platform.models import AuditChannel

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)
View = Callable[Concatenate[HttpRequest, P], R]

_PAGE_TEMPLATES = {403: "errors/403.html", 404: "errors/404.html"}
FRAGMENT_TEMPLATE = "errors/fragment.html"
STAFF_ONLY_MESSAGE = (
    "This is the staff site. Patients and caregivers use the patient portal at /portal/."
)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def clinic_time_zone() -> ZoneInfo:
    return ZoneInfo(settings.CARELINE_TIME_ZONE)


def local_today() -> date:
    """Today in the active time zone (the clinic's inside a ``staff_view``)."""
    return timezone.localdate(clock.now())


def render_error(request: HttpRequest, error: CarelineError) -> HttpResponse:
    """The error's message with its status: a page, or a fragment for htmx to swap in."""
    if is_htmx(request):
        template = FRAGMENT_TEMPLATE
    else:
        template = _PAGE_TEMPLATES.get(error.status, "errors/4xx.html")
    context: dict[str, Any] = {"error": error, "status": error.status}
    return render(request, template, context, status=error.status)


def staff_view(view: View[P, HttpResponseBase]) -> View[P, HttpResponseBase]:
    """Signed-in staff only; clinic time zone; never cached; Careline errors as 4xx.

    Pages and streamed downloads alike. An anonymous request is sent to the login page and
    counted (``count_anonymous_refusal``), not audited; a patient-portal account gets 403
    (``staff_only``), audited like every refusal of a signed-in user.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            count_anonymous_refusal(request, channel=AuditChannel.UI)
            return redirect_to_login(request.get_full_path())
        with timezone.override(clinic_time_zone()):
            try:
                if not is_staff_user(request.user):
                    raise refuse(
                        actor_from_request(request),
                        PermissionDenied(STAFF_ONLY_MESSAGE, code="staff_only"),
                        resource_type="StaffSite",
                    )
                response = view(request, *args, **kwargs)
            except CarelineError as error:
                response = render_error(request, error)
        add_never_cache_headers(response)
        return response

    return wrapper
