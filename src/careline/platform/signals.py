"""Audit of sign-in, failed sign-in and sign-out, whichever way they happen.

Audit is cross-cutting, not business flow: signals catch every login path (allauth, admin).
Nothing here records a password, a one-time code or a session key.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from careline.platform import audit, clock
from careline.platform.actors import Actor, client_address
from careline.platform.middleware import LAST_SEEN_KEY
from careline.platform.models import AuditAction, AuditChannel, AuditOutcome, Purpose, User

SESSION_RESOURCE = "Session"
_LABEL_LENGTH = 150
_UNKNOWN_NAME_SALT = "careline.platform.signals.failed_login_label"


def _session_actor(request: HttpRequest | None, user: Any, *, label: str = "") -> Actor:
    """The UI actor of a session event: the user (if known) and where she signs in from.

    Built from the request's headers, not ``request.user``: during sign-in and sign-out the
    request's user is still (or already) someone else.
    """
    meta = request.META if request is not None else {}
    return Actor(
        user=user if isinstance(user, User) else None,
        channel=AuditChannel.UI,
        purpose=Purpose.OPERATIONS,
        remote_addr=client_address(request) if request is not None else None,
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:200],
        label=label,
    )


def record_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit.record_event(
        actor=_session_actor(request, user),
        action=AuditAction.LOGIN,
        resource_type=SESSION_RESOURCE,
    )


def record_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A wrong user name or password, recorded under the account's name if one was named."""
    username = str(credentials.get("username") or credentials.get("login") or "")
    audit.record_event(
        actor=_session_actor(request, None, label=failed_login_label(username)),
        action=AuditAction.LOGIN_FAILED,
        resource_type=SESSION_RESOURCE,
        outcome=AuditOutcome.DENIED,
        details={"step": "password"},
    )


def failed_login_label(typed: str) -> str:
    """The name of the account a failed sign-in named, else a keyed hash of what was typed.

    What is typed into the user-name field is sometimes a password: it never goes into the
    immutable trail. The hash (keyed with SECRET_KEY) still groups repeated attempts.
    """
    if not typed.strip():
        return "anonymous"
    account = User.objects.filter(username__iexact=typed.strip()).values_list("username").first()
    if account is not None:
        return account[0][:_LABEL_LENGTH]
    digest = salted_hmac(_UNKNOWN_NAME_SALT, typed.strip().casefold()).hexdigest()[:16]
    return f"unknown user {digest}"


def record_mfa_failed(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """The password was right but the second factor was not."""
    step = "reauthentication" if kwargs.get("reauthentication") else "mfa"
    audit.record_event(
        actor=_session_actor(request, user),
        action=AuditAction.LOGIN_FAILED,
        resource_type=SESSION_RESOURCE,
        outcome=AuditOutcome.DENIED,
        details={"step": step},
    )


def record_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:  # signing out of a session that was not signed in
        return
    audit.record_event(
        actor=_session_actor(request, user),
        action=AuditAction.LOGOUT,
        resource_type=SESSION_RESOURCE,
        details={"reason": _logout_reason(request)},
    )


def _logout_reason(request: HttpRequest | None) -> str:
    """``inactivity`` when the automatic logoff is signing the session out, else ``user``."""
    session = getattr(request, "session", None)
    last_seen = session.get(LAST_SEEN_KEY) if session is not None else None
    if last_seen is None:
        return "user"
    idle_seconds = clock.now().timestamp() - float(last_seen)
    return "inactivity" if idle_seconds > settings.CARELINE_INACTIVITY_TIMEOUT_SECONDS else "user"


def connect() -> None:
    from allauth.mfa.signals import authentication_failed

    user_logged_in.connect(record_login, dispatch_uid="careline.audit.login")
    user_login_failed.connect(record_login_failed, dispatch_uid="careline.audit.login_failed")
    user_logged_out.connect(record_logout, dispatch_uid="careline.audit.logout")
    authentication_failed.connect(record_mfa_failed, dispatch_uid="careline.audit.mfa_failed")
