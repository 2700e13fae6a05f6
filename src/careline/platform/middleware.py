"""Session safeguards: automatic logoff after inactivity and MFA enforcement for staff."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

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
    """Outside demo mode a staff session must have passed a second factor.

    A user without an authenticator is sent to set one up; a session that signed in without
    using it (a password-only path such as Django's admin login) is ended. API calls are
    exempt here: tokens are their own factor and the API's session auth applies this rule.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.CARELINE_REQUIRE_STAFF_MFA
            and request.user.is_authenticated
            and not request.path.startswith(_MFA_EXEMPT_PREFIXES)
        ):
            if not user_has_mfa(request.user):
                return redirect("mfa_activate_totp")
            if not session_passed_mfa(request):
                logout(request)
                return redirect(f"{reverse('account_login')}?next={request.path}")
        return self.get_response(request)


def user_has_mfa(user: Any) -> bool:
    from allauth.mfa.models import Authenticator

    has_mfa: bool = Authenticator.objects.filter(
        user_id=user.pk, type=Authenticator.Type.TOTP
    ).exists()
    return has_mfa


def session_passed_mfa(request: HttpRequest) -> bool:
    """Whether this session's sign-in used a second factor, or set one up.

    Setting up TOTP proves possession of it (a valid code is entered), so an authenticator
    created after this session signed in counts too.
    """
    from allauth.account.internal.flows.login import get_authentication_records
    from allauth.mfa.models import Authenticator

    records = get_authentication_records(request, request.user)
    if any(record.get("method") == "mfa" for record in records):
        return True
    signed_in_at = min((float(record.get("at", 0)) for record in records), default=None)
    if signed_in_at is None:
        return False
    set_up_since: bool = Authenticator.objects.filter(
        user_id=request.user.pk,
        type=Authenticator.Type.TOTP,
        created_at__gte=datetime.fromtimestamp(signed_in_at, tz=UTC),
    ).exists()
    return set_up_since


# The API docs' static files (Swagger UI) hold no patient data and may be cached.
_CACHEABLE_API_PREFIX = "/api/docs/assets/"


class SecurityHeadersMiddleware:
    """``Permissions-Policy`` on every answer; every API answer kept out of caches (they
    carry patient data) except the docs' static assets. The CSP is django-csp's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        path = request.path_info
        if path.startswith("/api/") and not path.startswith(_CACHEABLE_API_PREFIX):
            add_never_cache_headers(response)
        return response
