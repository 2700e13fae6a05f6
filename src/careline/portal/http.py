"""The decorator every patient-facing portal page wears.

``portal_view``: an anonymous visitor goes to the portal's sign-in (counted, not audited);
a staff account gets 403 (``portal_only``, audited); the page runs in the clinic's time
zone, is never cached (it holds PHI), and a ``CarelineError`` becomes a portal page with
its status, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from careline.platform.authorization import count_anonymous_refusal, refuse
from careline.platform.errors import CarelineError, PermissionDenied
from careline.platform.http import clinic_time_zone
from careline.platform.models import AuditChannel, User
from careline.portal.access import portal_actor

P = ParamSpec("P")
PortalView = Callable[Concatenate[HttpRequest, P], HttpResponseBase]
PORTAL_ONLY_MESSAGE = (
    "This is the patient portal. Staff accounts cannot use it: sign out, then sign in with "
    "a patient portal account."
)


def render_portal_error(request: HttpRequest, error: CarelineError) -> HttpResponse:
    context: dict[str, Any] = {"error": error, "status": error.status}
    return render(request, "portal/error.html", context, status=error.status)


def portal_view(view: PortalView[P]) -> PortalView[P]:
    @wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            count_anonymous_refusal(request, channel=AuditChannel.PORTAL)
            return redirect_to_login(request.get_full_path(), login_url=reverse("portal:login"))
        with timezone.override(clinic_time_zone()):
            try:
                if not isinstance(user, User) or not user.is_portal_account:
                    error = PermissionDenied(PORTAL_ONLY_MESSAGE, code="portal_only")
                    raise refuse(portal_actor(request), error, resource_type="Portal")
                response = view(request, *args, **kwargs)
            except CarelineError as error:
                response = render_portal_error(request, error)
        add_never_cache_headers(response)
        return response

    return wrapper
