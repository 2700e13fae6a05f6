"""The portal's one access rule: which patient a portal account may act for.

``portal_patient`` returns the patient (her id and the link that grants it) when the
account holds an active link to her — its own record, or a proxy grant that is neither
expired nor revoked (and, when a ``scope`` is asked, covers it) — and otherwise raises the
same ``NotFound`` whether the patient is missing, someone else's, or once was the account's.
Every portal page reads through it; each answer is audited with the account as the actor
(channel ``portal``, purpose "patient request"), refusals included.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Q
from django.http import HttpRequest

from careline.platform import audit, clock
from careline.platform.actors import Actor, actor_from_request
from careline.platform.authorization import refuse
from careline.platform.errors import NotFound
from careline.platform.models import AuditAction, AuditChannel, Purpose, User
from careline.portal.models import PortalLink, Relationship

NOT_FOUND_MESSAGE = "There is no record here that you can see."


@dataclass(frozen=True)
class PortalPatient:
    """The patient a portal account acts for, and on what grounds."""

    patient_id: uuid.UUID
    link_id: uuid.UUID
    relationship: str
    scopes: tuple[str, ...]

    @property
    def is_self(self) -> bool:
        return self.relationship == Relationship.SELF

    def allows(self, scope: str) -> bool:
        return self.is_self or scope in self.scopes


def portal_actor(request: HttpRequest) -> Actor:
    """The actor of a portal request: the account, on the portal channel, for itself."""
    return actor_from_request(request, channel=AuditChannel.PORTAL).for_purpose(
        Purpose.PATIENT_REQUEST
    )


def active_links(account: User) -> Q:
    """The condition on ``PortalLink`` rows that grant ``account`` access now."""
    now = clock.now()
    return Q(account=account, revoked_at__isnull=True) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def portal_patient(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    scope: str | None = None,
    action: str | None = AuditAction.READ,
    resource_type: str = "Patient",
) -> PortalPatient:
    """The patient ``actor``'s account may act for, or ``NotFound`` (audited either way).

    ``action=None`` checks without recording a read: a write records its own entry.
    """
    user = actor.user
    row = None
    if user is not None and user.is_active and user.is_portal_account:
        row = (
            PortalLink.objects.filter(active_links(user), patient__public_id=patient_id)
            .values_list("public_id", "relationship", "scopes")
            .first()
        )
    if row is None or (scope is not None and row[1] != Relationship.SELF and scope not in row[2]):
        error = NotFound(NOT_FOUND_MESSAGE)
        raise refuse(actor, error, resource_type=resource_type, patient_id=patient_id)
    link_id, relationship, scopes = row
    granted = PortalPatient(patient_id, link_id, relationship, tuple(scopes))
    if action is not None:
        audit.record_event(
            actor=actor,
            action=action,
            resource_type=resource_type,
            resource_id=str(patient_id),
            patient_id=patient_id,
            details={"relationship": relationship, "link": str(link_id)},
        )
    return granted
