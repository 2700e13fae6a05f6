"""Break-glass review: nobody reviews her own access, and a review is not overwritten."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from careline.platform.actors import Actor
from careline.platform.errors import Conflict, PermissionDenied
from careline.platform.models import AuditEvent, BreakGlassAccess, User
from careline.platform.permissions import Role
from careline.platform.services import grant_break_glass, review_break_glass

pytestmark = pytest.mark.django_db


def test_an_admin_cannot_review_her_own_break_glass(
    make_user: Callable[..., User], actor_for: Callable[[User], Actor]
) -> None:
    admin = actor_for(make_user(Role.ADMIN))
    access = grant_break_glass(actor=admin, patient_id=uuid.uuid4(), reason="Urgent call at night")
    events_before = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied, match="Another reviewer"):
        review_break_glass(actor=admin, access_id=access.public_id, note="fine")

    access.refresh_from_db()
    assert access.reviewed_at is None
    [refusal] = AuditEvent.objects.order_by("sequence")[events_before:]
    assert (refusal.action, refusal.outcome, refusal.resource_type, refusal.resource_id) == (
        "access_denied",
        "denied",
        "BreakGlassAccess",
        str(access.public_id),
    )
    assert refusal.details == {"reason": "permission_denied"}


def test_a_reviewed_access_is_not_reviewed_again(
    make_user: Callable[..., User], actor_for: Callable[[User], Actor]
) -> None:
    scheduler = actor_for(make_user(Role.SCHEDULER))
    first, second = (actor_for(make_user(Role.COMPLIANCE)) for _ in range(2))
    access = grant_break_glass(
        actor=scheduler, patient_id=uuid.uuid4(), reason="Patient at the front desk"
    )
    review_break_glass(actor=first, access_id=access.public_id, note="Appropriate")

    with pytest.raises(Conflict, match="already reviewed"):
        review_break_glass(actor=second, access_id=access.public_id, note="Overwrite")

    stored = BreakGlassAccess.objects.get(pk=access.pk)
    assert (stored.reviewed_by, stored.review_note) == (first.user, "Appropriate")
