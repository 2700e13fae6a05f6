"""Session safeguards: automatic logoff after inactivity and MFA enforcement for staff."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import logout
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date

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
                is_staff_account = is_staff_user(request.user)
                logout(request)
                # The API answers 401; a portal page sends its visitor to its own sign-in.
                if request.path.startswith("/api/") or not is_staff_account:
                    return self.get_response(request)
                return redirect(f"{reverse('account_login')}?timed_out=1")
            # Written when it moved by a tenth of the timeout (at most 30 s), not on every
            # request: each write saves the session, and a page's parallel requests (htmx,
            # the API docs' assets) then raced to save it. The session may end that much
            # early, never late.
            if last_seen is None or now - float(last_seen) >= min(30.0, timeout / 10):
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


# Paths a signed-in staff member without MFA may still reach: setting it up, and leaving.
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/api/")


def is_staff_user(user: Any) -> bool:
    """A signed-in staff account (not a patient-portal account)."""
    return bool(user.is_authenticated and getattr(user, "is_staff_account", False))


class RequireStaffMfaMiddleware:
    """Outside demo mode a staff session must have passed a second factor.

    Portal accounts (patients, caregivers) are not staff: for them a second factor is their
    choice, and staff pages refuse them anyway (``careline.platform.http.staff_view``).

    A user without an authenticator is sent to set one up; a session that signed in without
    using it (a password-only path such as Django's admin login) is ended. API calls are
    exempt here: tokens are their own factor and the API's session auth applies this rule.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.CARELINE_REQUIRE_STAFF_MFA
            and is_staff_user(request.user)
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
# What ``add_never_cache_headers`` writes on an answer without a Cache-Control of its own.
_NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


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
            if "Cache-Control" in response:
                add_never_cache_headers(response)  # merges with what the view set
            else:  # the same headers, without parsing an empty Cache-Control first
                response.headers["Expires"] = http_date()
                response.headers["Cache-Control"] = _NEVER_CACHE
        return response


# Attributes by which a view asks django-csp for another policy than the settings' one.
_CSP_OVERRIDES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the settings' policy built once.

    django-csp builds the header from settings on every answer (~0.1 ms, a twentieth of an
    API read). An answer without a per-view override, for a request that used no nonce,
    gets exactly that policy, so it is built once and kept until the settings change.
    Everything else (overrides, nonces, exemptions, excluded prefixes) is django-csp's own.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in _CSP_OVERRIDES
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response  # django-csp leaves Django's debug pages alone
        header, report_only = _settings_policies()
        path = request.path_info
        for name, value, exempt, setting in (
            (HEADER, header, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (
                HEADER_REPORT_ONLY,
                report_only,
                "_csp_exempt_ro",
                "CONTENT_SECURITY_POLICY_REPORT_ONLY",
            ),
        ):
            if (
                value
                and name not in response
                and not getattr(response, exempt, False)
                and not path.startswith(_excluded_prefixes(setting))
            ):
                response[name] = value
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


@functools.cache
def _settings_policies() -> tuple[str, str]:
    """The settings' policy and report-only policy, as django-csp writes them."""
    return build_policy(), build_policy(report_only=True)


def _excluded_prefixes(setting: str) -> tuple[str, ...]:
    policy = getattr(settings, setting, None) or {}
    return tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ())


@receiver(setting_changed)
def _forget_built_policies(*, setting: str, **_: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policies.cache_clear()
