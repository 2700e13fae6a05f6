"""Portal writes: invitations (staff or the patient), links, revoking (proof: ``proof.py``).

Every write takes ``actor`` first, runs in one transaction with its audit entry and, for a
link, a line on the patient's timeline. An account reaches a record only through
``accept_invitation`` (a single-use token sent to an address already on file) or
``complete_proof`` (a code sent to an email already on file for the one patient whose name
and birth date were given) — never by what the person types alone.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction

from careline.patients import self_service
from careline.patients.access import access_patient
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.authorization import refuse
from careline.platform.errors import CarelineError, Conflict, NotFound, ValidationFailed
from careline.platform.models import AuditAction, AuditOutcome
from careline.platform.permissions import Permission
from careline.portal.access import active_links, portal_patient
from careline.portal.mail import send_portal_mail
from careline.portal.models import (
    LinkMethod,
    PortalInvitation,
    PortalLink,
    ProxyScope,
    Relationship,
)

INVALID_INVITATION = (
    "This invitation link is not valid: it may have expired or been used already. "
    "Ask the clinic (or the patient) to send a new one."
)
WRONG_ACCOUNT = (
    "This invitation was sent to a different email address. Sign in with the portal account "
    "that uses the address the invitation was sent to."
)


# --- invitations --------------------------------------------------------------------------


@dataclass(frozen=True)
class SentInvitation:
    invitation: PortalInvitation
    accept_url: str


def invite_to_portal(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    relationship: str,
    email: str = "",
    related_person_id: uuid.UUID | None = None,
    scopes: Iterable[str] = (),
    grant_days: int | None = None,
    site_url: str,
) -> SentInvitation:
    """Staff: send a single-use invitation to an address already on file — the patient's own
    email (``self``) or the email of a related person marked as a proxy (``proxy``)."""
    access = access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.MANAGE_PORTAL_ACCESS,
        action=None,
        resource_type="PortalInvitation",
    )
    if relationship == Relationship.SELF:
        if email.strip().lower() not in self_service.list_emails_on_file(patient_id):
            raise ValidationFailed(
                "Choose one of the patient's email addresses on file.", details={"field": "email"}
            )
        email, related_person_id, scope_list = email.strip().lower(), None, []
    elif relationship == Relationship.PROXY:
        candidate = _proxy_candidate(patient_id, related_person_id)
        email, scope_list = candidate.email, _valid_scopes(scopes)
    else:
        raise ValidationFailed(
            "Choose who the invitation is for.", details={"field": "relationship"}
        )
    grant_expires_at = _grant_expiry(relationship, grant_days)
    return _send_invitation(
        actor=actor,
        patient_id=patient_id,
        relationship=relationship,
        email=email,
        related_person_id=related_person_id,
        scopes=scope_list,
        grant_expires_at=grant_expires_at,
        site_url=site_url,
        is_break_glass=access.is_break_glass,
    )


def invite_proxy_from_portal(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    email: str,
    scopes: Iterable[str],
    grant_days: int | None,
    site_url: str,
) -> SentInvitation:
    """The patient (her own record only) invites a caregiver of her choosing as a proxy."""
    granted = portal_patient(
        actor=actor, patient_id=patient_id, action=None, resource_type="PortalInvitation"
    )
    if not granted.is_self:
        raise refuse(
            actor,
            NotFound("Only the patient can give someone access to her record."),
            resource_type="PortalInvitation",
            patient_id=patient_id,
        )
    address = email.strip().lower()
    if "@" not in address:
        raise ValidationFailed("Enter an email address.", details={"field": "email"})
    return _send_invitation(
        actor=actor,
        patient_id=patient_id,
        relationship=Relationship.PROXY,
        email=address,
        related_person_id=None,
        scopes=_valid_scopes(scopes),
        grant_expires_at=_grant_expiry(Relationship.PROXY, grant_days),
        site_url=site_url,
        is_break_glass=False,
    )


def _proxy_candidate(
    patient_id: uuid.UUID, related_person_id: uuid.UUID | None
) -> self_service.ProxyCandidate:
    for candidate in self_service.list_proxy_candidates(patient_id):
        if candidate.public_id == related_person_id:
            return candidate
    raise ValidationFailed(
        "Choose a related person marked as a proxy who has an email address on file.",
        details={"field": "related_person"},
    )


def _valid_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    if not chosen or not set(chosen) <= set(ProxyScope.values):
        raise ValidationFailed(
            "Choose what the proxy may do: " + ", ".join(ProxyScope.values) + ".",
            details={"field": "scopes"},
        )
    return chosen


def _grant_expiry(relationship: str, grant_days: int | None) -> datetime | None:
    if relationship == Relationship.SELF:
        return None
    days = grant_days or settings.CARELINE_PORTAL_PROXY_DAYS
    if not 1 <= days <= 3660:
        raise ValidationFailed(
            "A proxy's access lasts between 1 day and 10 years.", details={"field": "grant_days"}
        )
    return clock.now() + timedelta(days=days)


def _send_invitation(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    relationship: str,
    email: str,
    related_person_id: uuid.UUID | None,
    scopes: list[str],
    grant_expires_at: datetime | None,
    site_url: str,
    is_break_glass: bool,
) -> SentInvitation:
    creator = actor.user
    if creator is None:  # a system actor: invitations name the person who sent them
        raise ValidationFailed("An invitation is sent by a signed-in person.")
    token = secrets.token_urlsafe(32)
    now = clock.now()
    accept_url = f"{site_url.rstrip('/')}/portal/invitations/{token}/"
    with transaction.atomic():
        invitation = PortalInvitation.objects.create(
            patient_id=str(patient_id),
            relationship=relationship,
            scopes=scopes,
            related_person_id=related_person_id,
            email=email,
            token_hash=hash_token(token),
            created_at=now,
            created_by=creator,
            expires_at=now + timedelta(hours=settings.CARELINE_PORTAL_INVITATION_HOURS),
            grant_expires_at=grant_expires_at,
        )
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="PortalInvitation",
            resource_id=str(invitation.public_id),
            patient_id=patient_id,
            is_break_glass=is_break_glass,
            details={"relationship": relationship, "scopes": scopes},
        )
        self_service.record_portal_event(
            actor=actor, patient_id=patient_id, title=f"Portal invitation sent ({relationship})"
        )
        # Sent last, inside the transaction: a failed send leaves no invitation behind.
        send_portal_mail(
            "invitation",
            email,
            {
                "accept_url": accept_url,
                "is_proxy": relationship == Relationship.PROXY,
                "expires_at": invitation.expires_at,
            },
        )
    return SentInvitation(invitation=invitation, accept_url=accept_url)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def accept_invitation(*, actor: Actor, token: str) -> PortalLink:
    """Link the signed-in portal account as the invitation says, once, before it expires,
    and only when the account's verified email is the address the invitation went to."""
    user = actor.user
    if user is None or not user.is_portal_account:
        raise refuse(actor, NotFound(INVALID_INVITATION), resource_type="PortalInvitation")
    now = clock.now()
    with transaction.atomic():
        invitation = (
            PortalInvitation.objects.select_for_update()
            .select_related("created_by")
            .filter(token_hash=hash_token(token))
            .first()
        )
        if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= now:
            reason = "unknown" if invitation is None else "used_or_expired"
            failure: CarelineError = NotFound(INVALID_INVITATION, code=f"invitation_{reason}")
        elif not _has_verified_email(user.pk, invitation.email):
            failure = Conflict(WRONG_ACCOUNT, code="invitation_wrong_account")
        else:
            link = create_link(
                actor=actor,
                patient_id=invitation.patient_public_id,
                relationship=invitation.relationship,
                scopes=invitation.scopes,
                related_person_id=invitation.related_person_id,
                expires_at=invitation.grant_expires_at,
                method=(
                    LinkMethod.INVITATION
                    if invitation.created_by.is_staff_account
                    else LinkMethod.PATIENT_GRANT
                ),
                granted_by_id=invitation.created_by_id,
            )
            invitation.accepted_at, invitation.accepted_by = now, user
            invitation.save(update_fields=["accepted_at", "accepted_by"])
            return link
    patient_id = invitation.patient_public_id if invitation is not None else None
    raise refuse(actor, failure, resource_type="PortalInvitation", patient_id=patient_id)


def _has_verified_email(user_pk: int, email: str) -> bool:
    exists: bool = EmailAddress.objects.filter(
        user_id=user_pk, verified=True, email__iexact=email
    ).exists()
    return exists


def create_link(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    relationship: str,
    scopes: list[str],
    related_person_id: uuid.UUID | None,
    expires_at: datetime | None,
    method: str,
    granted_by_id: int | None,
) -> PortalLink:
    """In the caller's transaction: refuse a second own record or a second owner."""
    assert actor.user is not None  # noqa: S101 (the callers checked)
    user = actor.user
    existing = PortalLink.objects.filter(active_links(user))
    if existing.filter(patient__public_id=patient_id).exists():
        raise Conflict("Your account is already linked to this record.", code="already_linked")
    if relationship == Relationship.SELF:
        if existing.filter(relationship=Relationship.SELF).exists():
            raise Conflict(
                "Your account is already linked to your own record. A caregiver who also has "
                "her own record needs an invitation as a proxy.",
                code="already_has_own_record",
            )
        owned = PortalLink.objects.filter(
            patient__public_id=patient_id, relationship=Relationship.SELF, revoked_at__isnull=True
        )
        if owned.exists():
            raise Conflict(
                "This record already has a portal account. Call the clinic to sort this out.",
                code="record_has_owner",
            )
    link = PortalLink.objects.create(
        account=user,
        patient_id=str(patient_id),
        relationship=relationship,
        scopes=scopes if relationship == Relationship.PROXY else [],
        related_person_id=related_person_id,
        method=method,
        created_at=clock.now(),
        created_by_id=granted_by_id,
        expires_at=expires_at,
    )
    audit.record_event(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="PortalLink",
        resource_id=str(link.public_id),
        patient_id=patient_id,
        details={"relationship": relationship, "method": method, "scopes": link.scopes},
    )
    title = "Portal account linked" if relationship == Relationship.SELF else "Portal proxy added"
    self_service.record_portal_event(actor=actor, patient_id=patient_id, title=title)
    return link


# --- revoking -----------------------------------------------------------------------------


def revoke_portal_link(*, actor: Actor, patient_id: uuid.UUID, link_id: uuid.UUID) -> PortalLink:
    """Staff: end an account's access to this patient (her own or a proxy's)."""
    access = access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.MANAGE_PORTAL_ACCESS,
        action=None,
        resource_type="PortalLink",
    )
    return _revoke(actor, patient_id, link_id, access.is_break_glass, proxies_only=False)


def revoke_proxy_from_portal(
    *, actor: Actor, patient_id: uuid.UUID, link_id: uuid.UUID
) -> PortalLink:
    """The patient ends a proxy's access to her record."""
    granted = portal_patient(
        actor=actor, patient_id=patient_id, action=None, resource_type="PortalLink"
    )
    if not granted.is_self:
        raise refuse(
            actor,
            NotFound("Only the patient can end someone's access to her record."),
            resource_type="PortalLink",
            patient_id=patient_id,
        )
    return _revoke(actor, patient_id, link_id, False, proxies_only=True)


def _revoke(
    actor: Actor,
    patient_id: uuid.UUID,
    link_id: uuid.UUID,
    is_break_glass: bool,
    *,
    proxies_only: bool,
) -> PortalLink:
    now = clock.now()
    with transaction.atomic():
        links = PortalLink.objects.select_for_update().filter(
            public_id=link_id, patient__public_id=patient_id, revoked_at__isnull=True
        )
        if proxies_only:
            links = links.filter(relationship=Relationship.PROXY)
        link = links.first()
        if link is None:
            raise NotFound("No such portal access for this patient.")
        link.revoked_at, link.revoked_by = now, actor.user
        link.save(update_fields=["revoked_at", "revoked_by"])
        audit.record_event(
            actor=actor,
            action=AuditAction.DELETE,
            resource_type="PortalLink",
            resource_id=str(link.public_id),
            patient_id=patient_id,
            is_break_glass=is_break_glass,
            outcome=AuditOutcome.SUCCESS,
            details={"relationship": link.relationship},
        )
        self_service.record_portal_event(
            actor=actor, patient_id=patient_id, title=f"Portal access ended ({link.relationship})"
        )
    return link
