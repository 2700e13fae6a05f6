"""Portal accounts: registration by email (one ``platform.User`` of kind ``portal``).

A portal account has a generated user name nobody types (``portal-…``), no staff role, and
signs in by its email once verified. Registering an address that already belongs to an
account changes nothing and sends that address a note instead, so the page says the same
("check your email") either way and does not reveal who has an account.
"""

from __future__ import annotations

import uuid

from allauth.account.models import EmailAddress
from django.db import transaction

from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.models import AuditAction, User, UserKind
from careline.portal.mail import send_portal_mail


def register_portal_account(
    *, actor: Actor, email: str, password: str, login_url: str
) -> User | None:
    """A new, unverified portal account; or None (and a note to the address) if taken."""
    address = email.strip().lower()
    taken = (
        EmailAddress.objects.filter(email__iexact=address).exists()
        or User.objects.filter(email__iexact=address).exists()
    )
    if taken:
        send_portal_mail("account_exists", address, {"login_url": login_url})
        return None
    with transaction.atomic():
        user = User.objects.create_user(
            username=f"portal-{uuid.uuid4().hex[:20]}",
            email=address,
            password=password,
            kind=UserKind.PORTAL,
            role="",
        )
        EmailAddress.objects.create(user=user, email=address, primary=True, verified=False)
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="User",
            resource_id=str(user.public_id),
            details={"kind": UserKind.PORTAL.value},
        )
    return user


def get_account_by_email(email: str) -> User | None:
    """The portal account that signs in with ``email`` (its primary address)."""
    address = (
        EmailAddress.objects.filter(
            email__iexact=email.strip(), primary=True, user__kind=UserKind.PORTAL
        )
        .select_related("user")
        .first()
    )
    return address.user if address is not None else None


def has_verified_email(user: User) -> bool:
    verified: bool = EmailAddress.objects.filter(user=user, verified=True).exists()
    return verified
