"""Who may touch a patient's schedule: staff by role and scope, a patient (or her proxy)
by the portal's rule — one function for every scheduling read and write.

Staff go through ``patients.access.access_patient`` with the permission asked. A portal
account holds no staff permission; for the permissions a patient has over her own schedule
(see a slot, book, reschedule, cancel) it goes through the portal's registered rule with the
``appointments`` scope (``patients.access.access_patient_self_service``), so a proxy without
that scope is refused like a stranger. Anything else (overbook, front-desk statuses,
managing templates) is refused to a portal account as to any role without the permission.
"""

from __future__ import annotations

import uuid

from careline.patients.access import (
    PatientAccess,
    access_patient,
    access_patient_self_service,
    is_self_service,
)
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission

# The portal's proxy scope that covers appointments (``portal.models.ProxyScope``).
APPOINTMENTS_SCOPE = "appointments"
SELF_SERVICE_PERMISSIONS = frozenset(
    {Permission.VIEW_PATIENT, Permission.VIEW_SCHEDULE, Permission.BOOK_APPOINTMENT}
)


def access_for_scheduling(
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    permission: str,
    action: str | None = AuditAction.READ,
    resource_type: str = "Appointment",
) -> PatientAccess:
    """The patient's row if ``actor`` may act on her schedule with ``permission``; else the
    refusal (audited). ``action=None``: the caller's write records its own entry."""
    if not is_self_service(actor):
        return access_patient(
            actor=actor,
            patient_id=patient_id,
            permission=permission,
            action=action,
            resource_type=resource_type,
        )
    if permission not in SELF_SERVICE_PERMISSIONS:
        require_permission(actor, permission, resource_type=resource_type, patient_id=patient_id)
    return access_patient_self_service(
        actor=actor,
        patient_id=patient_id,
        scope=APPOINTMENTS_SCOPE,
        action=action,
        resource_type=resource_type,
    )
