"""allauth's pages (the TOTP step at sign-in, TOTP set-up, re-authentication, recovery
codes) in the portal's layout for portal accounts — signed in, or half-way through signing
in — and on portal addresses. ``platform``'s allauth layout honours ``allauth_layout``."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.stagekit import unstash_login
from django.http import HttpRequest

from careline.platform.models import User

PORTAL_AUTH_LAYOUT = "portal/allauth_layout.html"


def portal_layout(request: HttpRequest) -> dict[str, Any]:
    if request.path.startswith("/portal/") or _is_portal_user(getattr(request, "user", None)):
        return {"allauth_layout": PORTAL_AUTH_LAYOUT}
    if request.path.startswith("/accounts/") and hasattr(request, "session"):
        pending = unstash_login(request, peek=True)
        if pending is not None and _is_portal_user(pending.user):
            return {"allauth_layout": PORTAL_AUTH_LAYOUT}
    return {}


def _is_portal_user(user: Any) -> bool:
    return isinstance(user, User) and user.is_portal_account
