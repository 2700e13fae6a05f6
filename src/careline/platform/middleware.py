"""Session safeguards: automatic logoff after inactivity and MFA enforcement for staff."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from careline.platform import clock

LAST_SEEN_KEY = "careline_last_seen"


class InactivityLogoutMiddleware:
    """Log a session out after ``CARELINE_INACTIVITY_TIMEOUT_SECONDS`` without a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = clock.now().timestamp()
            last_seen = request.session.get(LAST_SEEN_KEY)
            timeout = settings.CARELINE_INACTIVITY_TIMEOUT_SECONDS
            if last_seen is not None and now - float(last_seen) > timeout:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{reverse('account_login')}?timed_out=1")
            request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


# Paths a signed-in staff member without MFA may still reach: setting it up, and leaving.
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/api/")


class RequireStaffMfaMiddleware:
    """Outside demo mode a staff session without an authenticator must set one up first.

    API calls authenticate with tokens or with the already-enforced UI session, so they are
    exempt here; the API's session auth relies on the same rule.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.CARELINE_REQUIRE_STAFF_MFA
            and request.user.is_authenticated
            and not request.path.startswith(_MFA_EXEMPT_PREFIXES)
            and not _has_mfa(request)
        ):
            return redirect("mfa_activate_totp")
        return self.get_response(request)


def _has_mfa(request: HttpRequest) -> bool:
    from allauth.mfa.models import Authenticator

    cache_key = "careline_has_mfa"
    if request.session.get(cache_key):
        return True
    has_mfa: bool = Authenticator.objects.filter(
        user_id=request.user.pk, type=Authenticator.Type.TOTP
    ).exists()
    if has_mfa:
        request.session[cache_key] = True
    return has_mfa
