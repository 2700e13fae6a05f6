"""Demo mode only: a portal account linked to a demo patient, and a caregiver as her proxy;
she holds a follow-up ticket and waits on one waitlist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction

from careline.directory.visit_types import list_visit_types
from careline.patients import self_service
from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.errors import ValidationFailed
from careline.platform.models import User, UserKind
from careline.portal.models import LinkMethod, ProxyScope, Relationship
from careline.portal.services import create_link
from careline.scheduling.demo import ensure_portal_waitlist_entry
from careline.scheduling.patient_booking import issue_booking_ticket, list_booking_tickets

DEMO_PORTAL_PASSWORD = "careline-demo-portal"  # noqa: S105 (demo mode only, synthetic data)
PATIENT_EMAIL = "patient@demo.careline.test"
CAREGIVER_EMAIL = "caregiver@demo.careline.test"


@dataclass(frozen=True)
class DemoPortalAccount:
    email: str
    acts_for: str
    relationship: str


def create_demo_portal_accounts(*, actor: Actor) -> list[DemoPortalAccount]:
    """Idempotent: accounts and links that exist are kept."""
    if not settings.DEMO_MODE:
        raise ValidationFailed("Demo portal accounts exist in demo mode only.")
    patient_id = self_service.first_patient_with_an_email_on_file()
    if patient_id is None:
        return []
    name = self_service.get_patient_display_names([patient_id])[patient_id]
    results = []
    with transaction.atomic():
        for email, relationship in (
            (PATIENT_EMAIL, Relationship.SELF),
            (CAREGIVER_EMAIL, Relationship.PROXY),
        ):
            account = _ensure_account(email)
            if not account.portal_links.filter(revoked_at__isnull=True).exists():
                create_link(
                    actor=Actor(
                        user=account,
                        channel=actor.channel,
                        purpose=actor.purpose,
                        label=actor.label,
                    ),
                    patient_id=patient_id,
                    relationship=relationship,
                    scopes=[ProxyScope.APPOINTMENTS, ProxyScope.MESSAGES],
                    related_person_id=None,
                    expires_at=clock.now() + timedelta(days=365)
                    if relationship == Relationship.PROXY
                    else None,
                    method=LinkMethod.DEMO,
                    granted_by_id=None,
                )
            results.append(DemoPortalAccount(email, name, relationship))
        _issue_follow_up_ticket(actor=actor, patient_id=patient_id)
        ensure_portal_waitlist_entry(actor=actor, patient_id=patient_id)
    return results


def _issue_follow_up_ticket(*, actor: Actor, patient_id: uuid.UUID) -> None:
    """A ticket to book a follow-up in 2 to 4 weeks, as a clinician would leave one (once)."""
    visit_types = {row.code: row for row in list_visit_types()}
    follow_up = visit_types.get("follow-up")
    if follow_up is None or list_booking_tickets(actor=actor, patient_id=patient_id):
        return
    today = clock.now().date()
    issue_booking_ticket(
        actor=actor,
        patient_id=patient_id,
        visit_type_id=follow_up.public_id,
        earliest_date=today + timedelta(days=14),
        latest_date=today + timedelta(days=28),
        note="Follow-up on your blood pressure",
    )


def _ensure_account(email: str) -> User:
    existing = User.objects.filter(email=email, kind=UserKind.PORTAL).first()
    if existing is not None:
        return existing
    user = User.objects.create_user(
        username=f"portal-demo-{email.split('@')[0]}",
        email=email,
        password=DEMO_PORTAL_PASSWORD,
        kind=UserKind.PORTAL,
        role="",
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user
