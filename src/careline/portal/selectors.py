"""Portal reads: whom an account acts for, and the staff card of a patient's portal access."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from careline.patients import self_service
from careline.patients.access import access_patient
from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.models import User
from careline.platform.permissions import Permission
from careline.portal.access import active_links
from careline.portal.models import PortalInvitation, PortalLink, Relationship


@dataclass(frozen=True)
class ActingFor:
    """One patient an account may act for, as the "acting for" switcher lists it."""

    patient_id: uuid.UUID
    display_name: str
    relationship: str
    scopes: tuple[str, ...]
    expires_at: datetime | None

    @property
    def is_self(self) -> bool:
        return self.relationship == Relationship.SELF


def list_acting_for(*, account: User) -> list[ActingFor]:
    """Her own record first, then the patients she is a proxy for; two queries. Names only:
    opening a record goes through ``portal_patient``."""
    links = list(
        PortalLink.objects.filter(active_links(account))
        .order_by("-relationship", "created_at")  # "self" sorts after "proxy"
        .values_list("patient__public_id", "relationship", "scopes", "expires_at")
    )
    names = self_service.get_patient_display_names([row[0] for row in links])
    return [
        ActingFor(patient_id, names.get(patient_id, "—"), relationship, tuple(scopes), expires)
        for patient_id, relationship, scopes, expires in links
    ]


@dataclass(frozen=True)
class LinkRow:
    link: PortalLink
    account_email: str
    is_active: bool


@dataclass(frozen=True)
class PortalAccessCard:
    """The staff view of one patient's portal access: links, invitations, whom to invite."""

    patient_id: uuid.UUID
    links: list[LinkRow]
    pending_invitations: list[PortalInvitation]
    emails_on_file: list[str]
    proxy_candidates: list[self_service.ProxyCandidate]

    @property
    def has_owner(self) -> bool:
        return any(
            row.is_active and row.link.relationship == Relationship.SELF for row in self.links
        )


def get_portal_access_card(*, actor: Actor, patient_id: uuid.UUID) -> PortalAccessCard:
    """Checked (permission and patient scope) and audited as one read; five queries."""
    access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.MANAGE_PORTAL_ACCESS,
        resource_type="PortalLink",
    )
    now = clock.now()
    links = list(
        PortalLink.objects.filter(patient__public_id=patient_id)
        .select_related("account")
        .order_by("revoked_at", "relationship", "created_at")[:50]
    )
    pending = list(
        PortalInvitation.objects.filter(
            patient__public_id=patient_id, accepted_at__isnull=True, expires_at__gt=now
        ).order_by("-created_at")[:20]
    )
    return PortalAccessCard(
        patient_id=patient_id,
        links=[LinkRow(link, link.account.email, link.is_active_at(now)) for link in links],
        pending_invitations=pending,
        emails_on_file=self_service.list_emails_on_file(patient_id),
        proxy_candidates=self_service.list_proxy_candidates(patient_id),
    )


def list_proxies_granted(*, patient_id: uuid.UUID) -> list[LinkRow]:
    """The proxies of a patient, for her own "who can act for me" page. The caller has
    checked (``portal_patient``) that the account is the patient herself."""
    now = clock.now()
    links = (
        PortalLink.objects.filter(patient__public_id=patient_id, relationship=Relationship.PROXY)
        .filter(revoked_at__isnull=True)
        .select_related("account")
        .order_by("created_at")
    )
    return [LinkRow(link, link.account.email, link.is_active_at(now)) for link in links]
