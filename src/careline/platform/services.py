"""Platform writes: break-glass grants and their review, API tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.authorization import refuse, require_permission
from careline.platform.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from careline.platform.models import (
    ApiToken,
    AuditAction,
    AuditChannel,
    AuditOutcome,
    BreakGlassAccess,
    Purpose,
    User,
)
from careline.platform.permissions import Permission
from careline.platform.prepared import JoinedRowLookup

MIN_REASON_LENGTH = 10
TOKEN_PREFIX = "cl_"  # noqa: S105 (a public marker, not a secret)


def grant_break_glass(*, actor: Actor, patient_id: uuid.UUID, reason: str) -> BreakGlassAccess:
    """Record why ``actor`` opens a patient outside her scope; flagged for review."""
    if actor.user is None:
        error = PermissionDenied("Break-glass access is for signed-in staff.")
        raise refuse(actor, error, resource_type="Patient", patient_id=patient_id)
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationFailed(
            f"Give the reason for this access in at least {MIN_REASON_LENGTH} characters.",
            details={"field": "reason"},
        )
    now = clock.now()
    with transaction.atomic():
        access = BreakGlassAccess.objects.create(
            user=actor.user,
            patient_id=patient_id,
            reason=reason,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.CARELINE_BREAK_GLASS_SECONDS),
        )
        audit.record_event(
            actor=actor.for_purpose(Purpose.EMERGENCY),
            action=AuditAction.BREAK_GLASS,
            resource_type="Patient",
            resource_id=str(patient_id),
            patient_id=patient_id,
            is_break_glass=True,
            details={"break_glass_id": str(access.public_id)},
        )
    return access


def review_break_glass(*, actor: Actor, access_id: uuid.UUID, note: str) -> BreakGlassAccess:
    require_permission(
        actor,
        Permission.REVIEW_BREAK_GLASS,
        resource_type="BreakGlassAccess",
        resource_id=str(access_id),
        message="You may not review break-glass access.",
    )
    # Whose access it is never changes: refused (and audited) before the review transaction.
    owner_id = BreakGlassAccess.objects.filter(public_id=access_id).values_list("user_id").first()
    if owner_id is None:
        raise NotFound("No such break-glass access.")
    if actor.user is not None and owner_id[0] == actor.user.pk:
        error = PermissionDenied("Another reviewer must review your own break-glass access.")
        raise refuse(actor, error, resource_type="BreakGlassAccess", resource_id=str(access_id))
    with transaction.atomic():
        access = BreakGlassAccess.objects.select_for_update().get(public_id=access_id)
        if access.reviewed_at is not None:
            raise Conflict(f"This access was already reviewed by {access.reviewed_by}.")
        access.reviewed_by = actor.user
        access.reviewed_at = clock.now()
        access.review_note = note.strip()
        access.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
        audit.record_event(
            actor=actor.for_purpose(Purpose.COMPLIANCE),
            action=AuditAction.UPDATE,
            resource_type="BreakGlassAccess",
            resource_id=str(access.public_id),
            patient_id=access.patient_id,
        )
    return access


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def default_token_expiry(issued_at: datetime) -> datetime:
    return issued_at + timedelta(days=settings.CARELINE_API_TOKEN_LIFETIME_DAYS)


def issue_api_token(
    *, actor: Actor, user: User, name: str, expires_at: datetime | None = None
) -> IssuedToken:
    """A new token for ``user``; it expires at ``expires_at`` (by default after
    ``CARELINE_API_TOKEN_LIFETIME_DAYS``)."""
    require_permission(
        actor,
        Permission.MANAGE_USERS,
        resource_type="ApiToken",
        message="You may not issue API tokens.",
    )
    now = clock.now()
    if expires_at is None:
        expires_at = default_token_expiry(now)
    if expires_at <= now:
        raise ValidationFailed(
            "A token must expire in the future.", details={"field": "expires_at"}
        )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            key_hash=hash_token(secret),
            created_at=now,
            expires_at=expires_at,
        )
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="ApiToken",
            resource_id=str(token.public_id),
            details={"user": str(user.public_id)},
        )
    return IssuedToken(token=token, secret=secret)


def revoke_api_token(*, actor: Actor, prefix: str) -> ApiToken:
    """Revoke the one active token with ``prefix``; audited."""
    require_permission(
        actor,
        Permission.MANAGE_USERS,
        resource_type="ApiToken",
        message="You may not revoke API tokens.",
    )
    with transaction.atomic():
        tokens = list(
            ApiToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(prefix=prefix, revoked_at__isnull=True)[:2]
        )
        if not tokens:
            raise NotFound(f"No active API token has the prefix {prefix!r}.")
        if len(tokens) > 1:
            raise Conflict(f"More than one active token has the prefix {prefix!r}.")
        token = tokens[0]
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit.record_event(
            actor=actor,
            action=AuditAction.UPDATE,
            resource_type="ApiToken",
            resource_id=str(token.public_id),
            details={"change": "revoked", "user": str(token.user.public_id)},
        )
    return token


# Every API request checks its token: one query, the token joined with its user, built once
# (``platform.prepared``; the ORM spent ~1 ms of Python per request compiling or hydrating
# it). Revocation, expiry and deactivation are checked on the row just read, so they take
# effect on the next request (nothing is cached). The user comes back whole (no deferred
# fields to load later).
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)  # ``last_used_at`` is written at most this often
_TOKEN_BY_HASH = JoinedRowLookup(ApiToken, by="key_hash", related=("user",))


def authenticate_token(secret: str, *, actor: Actor | None = None) -> User | None:
    """The active user a bearer token belongs to, or None (unknown, revoked, expired).

    A refused token that exists (expired or revoked) is audited as a failed sign-in of its
    user, from where ``actor`` (the request's, still anonymous) says.
    """
    now = clock.now()
    token = _TOKEN_BY_HASH.get(hash_token(secret))
    if token is None:
        return None
    refusal = _refusal(token, now)
    if refusal is not None:
        audit.record_event(
            actor=replace(actor or Actor(user=None, channel=AuditChannel.API), user=token.user),
            action=AuditAction.LOGIN_FAILED,
            resource_type="ApiToken",
            resource_id=str(token.public_id),
            outcome=AuditOutcome.DENIED,
            details={"reason": refusal},
        )
        return None
    if token.last_used_at is None or token.last_used_at < now - TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


MAX_TOKEN_LENGTH = 200


def authenticate_bearer_header(header: str, *, actor: Actor | None = None) -> User | None:
    """The user of an ``Authorization: Bearer cl_…`` header value, or None when it is not a
    bearer header or its token is not one Careline would accept (``authenticate_token``).
    The staff API and the FHIR facade both authenticate tokens through here."""
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(TOKEN_PREFIX):
        return None
    if len(secret) > MAX_TOKEN_LENGTH:
        return None
    return authenticate_token(secret, actor=actor)


def _refusal(token: ApiToken, now: datetime) -> str | None:
    """Why an existing token may not be used now, or None."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    if not token.user.is_active:
        return "user_inactive"
    if not token.user.is_staff_account:
        return "not_staff"
    return None
