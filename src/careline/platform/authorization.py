"""One permission path: the check services call and the decorator every view wears.

- ``require_permission(actor, permission, resource_type=…)`` is the service-level check. It
  returns when the actor's role grants the permission; otherwise it appends one
  ``access_denied`` audit entry (outcome *denied*) and raises ``PermissionDenied``.
- ``refuse(actor, error, resource_type=…)`` audits any other refusal the same way (a patient
  outside the actor's scope, a reviewer reviewing herself) and returns the error to raise.
- ``requires_permission(permission, resource_type=…)`` is the decorator of staff UI views,
  ``api_requires_permission`` the same for django-ninja routes (API channel, and ninja still
  sees the route's typed parameters). Both call ``require_permission``.

The permissions themselves are declared in ``careline.platform.permissions``. A refusal is
recorded before any transaction is opened: call these before ``transaction.atomic()``, or
the entry would roll back with the refused work.

Anonymous callers (no session, no valid token) are not audited one by one — anybody can send
those, and the audit chain is serialised — but counted: ``count_anonymous_refusal`` adds to
``ANONYMOUS_REFUSALS`` and logs one line with the channel and the route pattern (no ids, no
query, no PHI).
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from django.http import HttpRequest

from careline.platform import audit
from careline.platform.actors import Actor, actor_from_request
from careline.platform.errors import CarelineError, PermissionDenied
from careline.platform.models import AuditAction, AuditChannel, AuditOutcome

P = ParamSpec("P")
R = TypeVar("R")
E = TypeVar("E", bound=CarelineError)
View = Callable[Concatenate[HttpRequest, P], R]

DEFAULT_MESSAGE = "Your role does not allow this."
ANONYMOUS_REFUSALS: Counter[str] = Counter()
logger = logging.getLogger("careline.access")


def require_permission(
    actor: Actor,
    permission: str,
    *,
    resource_type: str,
    resource_id: str = "",
    patient_id: uuid.UUID | None = None,
    message: str = DEFAULT_MESSAGE,
) -> None:
    """Return if ``actor`` holds ``permission``; else audit the refusal and raise 403."""
    if actor.has_permission(permission):
        return
    error = PermissionDenied(message, details={"permission": permission})
    raise refuse(
        actor,
        error,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
    )


def refuse(
    actor: Actor,
    error: E,
    *,
    resource_type: str,
    resource_id: str = "",
    patient_id: uuid.UUID | None = None,
) -> E:
    """Append the one audit entry of a refusal and hand back ``error`` for the caller to raise.

    The entry names the permission that was missing, or else the error's code (the reason).
    An anonymous caller's refusal is counted instead.
    """
    if actor.user is None and not actor.is_system:
        _count_anonymous(actor.channel, "a service call")
        return error
    details = error.details if isinstance(error.details, dict) else {}
    permission = details.get("permission")
    audit.record_event(
        actor=actor,
        action=AuditAction.ACCESS_DENIED,
        resource_type=resource_type,
        resource_id=resource_id or (str(patient_id) if patient_id else ""),
        patient_id=patient_id,
        outcome=AuditOutcome.DENIED,
        details={"permission": permission} if permission else {"reason": error.code},
    )
    return error


def requires_permission(
    permission: str, *, resource_type: str
) -> Callable[[View[P, R]], View[P, R]]:
    """Refuse (403, audited) a signed-in user whose role lacks ``permission``.

    Wear it inside ``staff_view`` (which signs the anonymous out to the login page and turns
    the error into the 403 page). A ``patient_id`` URL argument is named in the entry.
    """
    return _permission_guard(permission, resource_type, AuditChannel.UI)


def api_requires_permission(
    permission: str, *, resource_type: str
) -> Callable[[View[P, R]], View[P, R]]:
    """``requires_permission`` for a django-ninja route, under ``@router.get`` and the like.

    ninja authenticates first, so the caller is a token's or a session's user; the API's
    error handler turns the refusal into its one error shape.
    """

    def decorator(view: View[P, R]) -> View[P, R]:
        guarded = _permission_guard(permission, resource_type, AuditChannel.API)(view)
        # ninja reads the route's parameters from its signature; it resolves string
        # annotations in the module of the function it is given, so hand it resolved ones.
        vars(guarded)["__signature__"] = inspect.signature(view, eval_str=True)
        return guarded

    return decorator


def _permission_guard(
    permission: str, resource_type: str, channel: str
) -> Callable[[View[P, R]], View[P, R]]:
    def decorator(view: View[P, R]) -> View[P, R]:
        @wraps(view)
        def guarded(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> R:
            patient_id = kwargs.get("patient_id")
            require_permission(
                actor_from_request(request, channel=channel),
                permission,
                resource_type=resource_type,
                patient_id=patient_id if isinstance(patient_id, uuid.UUID) else None,
            )
            return view(request, *args, **kwargs)

        vars(guarded)["required_permission"] = permission  # what the route declares
        return guarded

    return decorator


def declared_permission(view: object) -> str | None:
    """The permission a view or route declares with the decorator (through other wrappers)."""
    while view is not None:
        permission = vars(view).get("required_permission") if hasattr(view, "__dict__") else None
        if permission is not None:
            return str(permission)
        view = getattr(view, "__wrapped__", None)
    return None


def count_anonymous_refusal(request: HttpRequest, *, channel: str) -> None:
    """Count (and log, without PHI) a request refused for want of any credentials."""
    match = getattr(request, "resolver_match", None)
    route = f"/{match.route}" if match is not None and match.route else "(unrouted)"
    _count_anonymous(channel, f"{request.method} {route}")


def _count_anonymous(channel: str, what: str) -> None:
    ANONYMOUS_REFUSALS[channel] += 1
    logger.info("Refused an unauthenticated %s request: %s", channel, what)
