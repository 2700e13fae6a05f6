"""API authentication: integration bearer tokens and the staff UI's session.

- ``BearerTokenAuth``: ``Authorization: Bearer cl_…``, checked against the stored hash by
  ``platform.services.authenticate_token``. A request that sends an ``Authorization`` header
  is judged by it alone: a wrong, revoked or expired token is a 401 even when a session
  cookie rides along. Tokens are exempt from MFA (they are issued by an administrator to a
  system) and from CSRF (the browser never attaches them on its own).
- ``StaffSessionAuth``: the Django session of a signed-in staff member (a patient-portal
  account's session is refused: 403 ``staff_only``, audited). CSRF is enforced for
  unsafe methods by ninja's ``SessionAuth`` (``APIKeyCookie`` runs Django's CSRF check; ninja
  views are otherwise ``csrf_exempt``). With ``CARELINE_REQUIRE_STAFF_MFA`` the session must
  have passed a second factor — the rule ``RequireStaffMfaMiddleware`` applies to the pages
  (which exempts /api/) — else 403 ``mfa_required``.

Both leave the platform ``User`` in ``request.user`` (and ``request.auth``), so
``actor_from_request`` builds the actor the same way for either.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from careline.api.errors import MfaRequired
from careline.platform.actors import actor_from_request
from careline.platform.authorization import refuse
from careline.platform.errors import PermissionDenied
from careline.platform.middleware import session_passed_mfa, user_has_mfa
from careline.platform.models import AuditChannel, User
from careline.platform.services import MAX_TOKEN_LENGTH, TOKEN_PREFIX, authenticate_token


class BearerTokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> User | None:
        # Replaces HttpBearer.__call__, which logs an unexpected header verbatim in DEBUG.
        header = request.headers.get(self.header)
        if not header:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError(message="Only 'Authorization: Bearer <token>' is accepted.")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = None
        if token.startswith(TOKEN_PREFIX) and len(token) <= MAX_TOKEN_LENGTH:
            user = authenticate_token(
                token, actor=actor_from_request(request, channel=AuditChannel.API)
            )
        if user is None:
            raise AuthenticationError(message="The token is unknown, revoked or expired.")
        request.user = user
        return user


class StaffSessionAuth(SessionAuth):
    def __call__(self, request: HttpRequest) -> Any:
        # Without a signed-in session there is nothing to protect from CSRF: answer 401,
        # not ninja's "CSRF check failed", to an anonymous write.
        if not isinstance(request.user, User) or not request.user.is_active:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if not isinstance(user, User):
            return None
        if not user.is_staff_account:
            staff_only = PermissionDenied(
                "This is the staff API. A patient-portal account cannot use it.",
                code="staff_only",
            )
            raise refuse(
                actor_from_request(request, channel=AuditChannel.API),
                staff_only,
                resource_type="Session",
            )
        if settings.CARELINE_REQUIRE_STAFF_MFA and not (
            user_has_mfa(user) and session_passed_mfa(request)
        ):
            error = MfaRequired(
                "Sign in to the staff site with your second factor (set one up if you have "
                "none) before using the API with your session, or use an API token."
            )
            actor = actor_from_request(request, channel=AuditChannel.API)
            raise refuse(actor, error, resource_type="Session")
        return user


bearer_token_auth = BearerTokenAuth()
staff_session_auth = StaffSessionAuth()
API_AUTH = [bearer_token_auth, staff_session_auth]
