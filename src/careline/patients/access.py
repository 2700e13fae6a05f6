"""Patient-level access: permission, then scope (care team, location), then break-glass.

``access_patient`` returns the patient or raises; "missing" and "not yours" give the same
``NotFound`` to anyone without the permission, so existence is not leaked. A staff member
with the permission but outside the patient's scope gets ``BreakGlassRequired`` until she
states a reason (``break_glass``); that access is audited and flagged for review.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q

from careline.patients.models import CareTeamMember, Patient
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.authorization import refuse, require_permission
from careline.platform.errors import BreakGlassRequired, NotFound
from careline.platform.models import AuditAction, BreakGlassAccess
from careline.platform.permissions import Permission
from careline.platform.prepared import JoinedRowLookup
from careline.platform.services import grant_break_glass

# Every read of a patient starts here, so the query is built once (``platform.prepared``):
# the patient with her location and practitioner. Never decrypt the SSN on a read that does
# not show it; skip the raw directory JSON.
_PATIENT_BY_PUBLIC_ID = JoinedRowLookup(
    Patient,
    by="public_id",
    related=("primary_location", "primary_care_practitioner"),
    deferred=("ssn", "primary_location__raw", "primary_care_practitioner__raw"),
)


@dataclass(frozen=True)
class PatientAccess:
    patient: Patient
    is_break_glass: bool


def access_patient(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    permission: str = Permission.VIEW_PATIENT,
    action: str | None = AuditAction.READ,
    resource_type: str = "Patient",
) -> PatientAccess:
    """Check and (unless ``action`` is None) audit one access to one patient.

    A refusal (no permission, or out of scope without break-glass) is audited once; a
    missing patient is not a refusal (404).
    """
    require_permission(actor, permission, resource_type=resource_type, patient_id=patient_id)
    patient = _PATIENT_BY_PUBLIC_ID.get(patient_id)
    if patient is None:
        raise NotFound("No such patient.")
    is_break_glass = not is_in_scope(actor=actor, patient=patient)
    if is_break_glass and not has_active_break_glass(actor=actor, patient_id=patient_id):
        error = BreakGlassRequired(
            "This patient is outside your care teams and locations. "
            "State the reason for access to continue (break-glass).",
            details={"patient_id": str(patient_id)},
        )
        raise refuse(actor, error, resource_type=resource_type, patient_id=patient_id)
    if action is not None:
        audit.record_event(
            actor=actor,
            action=action,
            resource_type=resource_type,
            resource_id=str(patient_id),
            patient_id=patient_id,
            is_break_glass=is_break_glass,
        )
    return PatientAccess(patient=patient, is_break_glass=is_break_glass)


# --- patient-facing access (the portal) ------------------------------------------------------
#
# A portal account holds no staff permission: whether it may act for a patient is the
# portal's one rule (``careline.portal.access.portal_patient``). The portal registers that
# rule here (``PortalConfig.ready``) so that a lower app's services — scheduling's booking —
# can serve a portal actor through the same code as staff without importing the portal.

SelfServiceRule = Callable[..., object]
_self_service_rules: list[SelfServiceRule] = []


def register_self_service_rule(rule: SelfServiceRule) -> None:
    """The portal's access rule, called as ``rule(actor=, patient_id=, scope=, action=,
    resource_type=)``: it returns when the account may act for the patient with ``scope``
    (auditing the access unless ``action`` is None) and raises ``NotFound`` otherwise."""
    _self_service_rules[:] = [rule]


def is_self_service(actor: Actor) -> bool:
    """A patient (or her proxy) acting through a patient-facing account."""
    return actor.user is not None and actor.user.is_portal_account


def access_patient_self_service(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    scope: str,
    action: str | None = AuditAction.READ,
    resource_type: str = "Patient",
) -> PatientAccess:
    """``access_patient`` for a patient-facing account: the registered rule decides."""
    if not is_self_service(actor) or not _self_service_rules:
        error = NotFound("No such patient.")
        raise refuse(actor, error, resource_type=resource_type, patient_id=patient_id)
    _self_service_rules[0](
        actor=actor,
        patient_id=patient_id,
        scope=scope,
        action=action,
        resource_type=resource_type,
    )
    patient = _PATIENT_BY_PUBLIC_ID.get(patient_id)
    if patient is None:
        raise NotFound("No such patient.")
    return PatientAccess(patient=patient, is_break_glass=False)


def is_in_scope(*, actor: Actor, patient: Patient) -> bool:
    user = actor.user
    if user is None or user.has_careline_permission(Permission.ACCESS_ALL_PATIENTS):
        return True
    if (
        patient.primary_location_id
        and user.locations.filter(pk=patient.primary_location_id).exists()
    ):
        return True
    care_team = Q(user=user)
    if user.practitioner_id:
        care_team |= Q(practitioner_id=user.practitioner_id)
    return CareTeamMember.objects.filter(care_team, patient=patient).exists()


def patients_in_scope(*, actor: Actor) -> Q:
    """The patients ``actor`` may open without stating a reason now: the rule of
    ``is_in_scope`` for many patients at once, plus those she holds an active break-glass
    grant for. Lists that show patient records (the FHIR search) filter by it, so a search
    never shows a record its reader could not open."""
    user = actor.user
    if user is None:
        return Q()
    if user.has_careline_permission(Permission.ACCESS_ALL_PATIENTS):
        return Q()
    care_team = Q(user=user)
    if user.practitioner_id:
        care_team |= Q(practitioner_id=user.practitioner_id)
    glass = BreakGlassAccess.objects.filter(user=user, expires_at__gt=clock.now())
    return (
        Q(primary_location_id__in=user.locations.values("pk"))
        | Q(pk__in=CareTeamMember.objects.filter(care_team).values("patient_id"))
        | Q(public_id__in=glass.values("patient_id"))
    )


def has_active_break_glass(*, actor: Actor, patient_id: uuid.UUID) -> bool:
    if actor.user is None:
        return False
    return BreakGlassAccess.objects.filter(
        user=actor.user, patient_id=patient_id, expires_at__gt=clock.now()
    ).exists()


def break_glass(*, actor: Actor, patient_id: uuid.UUID, reason: str) -> BreakGlassAccess:
    """Open an out-of-scope patient with a stated reason (the patient must exist)."""
    require_permission(
        actor,
        Permission.VIEW_PATIENT,
        resource_type="Patient",
        patient_id=patient_id,
        message="Your role does not allow opening patient records.",
    )
    if not Patient.objects.filter(public_id=patient_id).exists():
        raise NotFound("No such patient.")
    return grant_break_glass(actor=actor, patient_id=patient_id, reason=reason)
