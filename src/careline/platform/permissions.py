"""Roles and the named permissions they grant — declared here, checked with ``has_permission``.

Permission names follow ``"<app>.<verb>_<thing>"``. A role is a fixed bundle of them; a user
has exactly one role. Patient-level access (care team, location, break-glass) is decided
separately, by ``careline.patients.access``.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    SCHEDULER = "scheduler", "Scheduler / front desk"
    SCHEDULING_LEAD = "scheduling_lead", "Scheduling lead"
    CONTACT_CENTER_AGENT = "contact_center_agent", "Contact-center agent"
    NURSE = "nurse", "Nurse"
    CARE_MANAGER = "care_manager", "Care manager"
    MARKETER = "marketer", "Marketer"
    LIAISON = "liaison", "Physician liaison"
    EXECUTIVE = "executive", "Executive"
    COMPLIANCE = "compliance", "Compliance officer"
    INTEGRATION = "integration", "Integration engineer"


class Permission:
    """Every permission Careline checks, by name."""

    VIEW_PATIENT = "patients.view_patient"
    ACCESS_ALL_PATIENTS = "patients.access_all_patients"
    CHANGE_CONTACT = "patients.change_contact"
    CHANGE_PREFERENCES = "patients.change_preferences"
    CHANGE_CONSENT = "patients.change_consent"
    VIEW_CLINICAL = "clinical.view_clinical"
    VIEW_DIRECTORY = "directory.view_directory"
    MANAGE_VISIT_TYPES = "directory.manage_visit_types"
    VIEW_SCHEDULE = "scheduling.view_schedule"
    BOOK_APPOINTMENT = "scheduling.book_appointment"
    OVERBOOK_APPOINTMENT = "scheduling.overbook_appointment"
    CHANGE_APPOINTMENT_STATUS = "scheduling.change_appointment_status"
    MANAGE_SCHEDULES = "scheduling.manage_schedules"
    RESOLVE_FLAGGED_APPOINTMENT = "scheduling.resolve_flagged_appointment"
    VIEW_ACCESS_METRICS = "scheduling.view_access_metrics"
    VIEW_MESSAGES = "messaging.view_messages"
    IMPORT_FHIR = "interop.import_fhir"
    VIEW_AUDIT_LOG = "platform.view_audit_log"
    EXPORT_AUDIT_LOG = "platform.export_audit_log"
    REVIEW_BREAK_GLASS = "platform.review_break_glass"
    MANAGE_USERS = "platform.manage_users"
    MANAGE_PORTAL_ACCESS = "portal.manage_portal_access"


ALL_PERMISSIONS: frozenset[str] = frozenset(
    value for name, value in vars(Permission).items() if name.isupper()
)

_PATIENT_FRONT_OFFICE = frozenset(
    {
        Permission.VIEW_PATIENT,
        Permission.CHANGE_CONTACT,
        Permission.CHANGE_PREFERENCES,
        Permission.CHANGE_CONSENT,
        Permission.VIEW_CLINICAL,
        Permission.VIEW_DIRECTORY,
        Permission.MANAGE_PORTAL_ACCESS,
        Permission.VIEW_MESSAGES,
    }
)

# Finding and booking visits; marking arrival, no-show and completion, and resolving the
# visits a set-up change displaced (bump, keep, reschedule), is the front desk's.
# Overbooking past a full slot is a clinical call: nurses (and administrators) only.
_BOOKING = frozenset({Permission.VIEW_SCHEDULE, Permission.BOOK_APPOINTMENT})
_FRONT_DESK = _BOOKING | {
    Permission.CHANGE_APPOINTMENT_STATUS,
    Permission.RESOLVE_FLAGGED_APPOINTMENT,
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: ALL_PERMISSIONS,
    Role.SCHEDULER: _PATIENT_FRONT_OFFICE | _FRONT_DESK,
    # The scheduler who runs the desk: her team's work plus the access metrics it moves.
    Role.SCHEDULING_LEAD: _PATIENT_FRONT_OFFICE | _FRONT_DESK | {Permission.VIEW_ACCESS_METRICS},
    Role.CONTACT_CENTER_AGENT: _PATIENT_FRONT_OFFICE | _BOOKING | {Permission.ACCESS_ALL_PATIENTS},
    Role.NURSE: (_PATIENT_FRONT_OFFICE - {Permission.CHANGE_CONSENT})
    | _FRONT_DESK
    | {Permission.OVERBOOK_APPOINTMENT},
    Role.CARE_MANAGER: _PATIENT_FRONT_OFFICE | _BOOKING,
    Role.MARKETER: frozenset({Permission.VIEW_DIRECTORY}),
    Role.LIAISON: frozenset({Permission.VIEW_DIRECTORY}),
    # Access metrics are aggregates (no patient shown): executives, scheduling leads, admins.
    Role.EXECUTIVE: frozenset({Permission.VIEW_DIRECTORY, Permission.VIEW_ACCESS_METRICS}),
    Role.COMPLIANCE: frozenset(
        {Permission.VIEW_AUDIT_LOG, Permission.EXPORT_AUDIT_LOG, Permission.REVIEW_BREAK_GLASS}
    ),
    Role.INTEGRATION: frozenset(
        {
            Permission.IMPORT_FHIR,
            Permission.VIEW_PATIENT,
            Permission.ACCESS_ALL_PATIENTS,
            Permission.VIEW_CLINICAL,
        }
    ),
}


def permissions_for_role(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role, frozenset())
